"""What the check reports besides the pack's diagnostics, and how diagnostics become violations.

Program findings are what the engine keeps from packs: StackReferences and reads of existing
infrastructure are not registered resources, and a program that fails never reaches a pack.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Dict, List, Optional

from google.protobuf import json_format

from .. import props as P
from ..environments import DEFAULT_ENVIRONMENTS, environments_named
from .client import PROTO_TO_LEVEL
from .urns import base_type, name_of

FINDING_LEVELS = {"program-stack-reference": "mandatory", "program-resource-read": "advisory",
                  "program-unseen-component": "mandatory",  # advisory once accepted with --allow-unseen
                  "program-config-missing": "error", "program-invalid-argument": "error", "program-error": "error",
                  "program-environment-missing": "error", "program-environment-unsupported": "error"}


def unseen_component(component: Mapping[str, Any]) -> Dict[str, Any]:
    """A multi-language component: its plugin builds children the check never sees, so no policy
    judged them. Mandatory unless the user accepted the type (--allow-unseen)."""
    accepted = component.get("acceptedBy")
    message = (f"{component['type']} '{component['name']}' is a multi-language component: its children are built "
               "by its plugin and were not evaluated by this check. `pulumi preview --policy-pack` evaluates them.")
    if accepted:
        message += f" Accepted with --allow-unseen {accepted}."
    return {"id": "program-unseen-component", "level": "advisory" if accepted else "mandatory",
            "urn": component["urn"], "resourceType": component["type"], "resourceName": component["name"],
            "acceptedBy": accepted, "source": component.get("source"), "message": message}


def _environment(name: str) -> Optional[str]:
    index = {alias: env for env, aliases in DEFAULT_ENVIRONMENTS.items() for alias in aliases}
    named = environments_named(name, index)
    return next(iter(named)) if len(named) == 1 else None


def program_findings(result: Mapping[str, Any], stack: str, project: str) -> List[Dict[str, Any]]:
    found: List[Dict[str, Any]] = []
    current = _environment(stack)
    for read in result.get("reads", []):
        if read["kind"] == "stack-reference":
            referenced = read.get("stack") or read["name"]
            target_stack = referenced.split("/")[-1]
            target_env = _environment(target_stack)
            message = (f"StackReference to '{referenced}': this stack is not self-sufficient; it cannot deploy "
                       "where that stack does not exist. Create the infrastructure in this stack, or pass its "
                       "IDs through config.")
            cross = bool(target_env and current and target_env != current)
            if cross:
                message += f" It also crosses environments: stack '{stack}' ({current}) reads '{referenced}' ({target_env})."
            found.append({"id": "program-stack-reference", "level": "mandatory", "message": message,
                          "urn": read["urn"], "referencedStack": referenced, "crossEnvironment": cross,
                          "source": read.get("source")})
        else:
            found.append({"id": "program-resource-read", "level": "advisory", "urn": read["urn"],
                          "resourceType": read["type"], "resourceName": read["name"], "source": read.get("source"),
                          "message": (f"{read['type']} '{read['name']}' is read from existing infrastructure "
                                      f"(.get with id {read.get('id')!r}): the stack depends on something it does "
                                      "not create.")})
    found.extend(unseen_component(component) for component in result.get("unseen", []))
    error = result.get("error")
    if error:
        finding = dict(error)
        finding.setdefault("level", FINDING_LEVELS.get(finding.get("id"), "error"))
        found.append(finding)
    return found


_PROPERTY = re.compile(r"^\[property: (?P<path>.*)\]$", re.M)  # paths contain [0]


def fingerprint(policy: str, urn: str, prop: str) -> str:
    """Stable across runs while nothing is renamed: the policy, the resource and the property."""
    return hashlib.sha256(f"{policy}\n{urn}\n{prop}".encode()).hexdigest()[:32]


def collect(reply: Any, resource: Optional[Mapping[str, Any]], by_urn: Mapping[str, Mapping[str, Any]],
            severities: Mapping[str, str], report: Any, root_urn: Optional[str] = None) -> None:
    """Turn an AnalyzeResponse into violations (resource rules: the analyzed resource; stack rules:
    the diagnostic's URN, or the stack as a whole; with `root_urn`, a URN outside the stack is
    attributed to the root stack, as `pulumi policy analyze` does)."""
    for diag in reply.diagnostics:
        urn = diag.urn or (resource["urn"] if resource else "")
        if root_urn is not None and resource is None and urn not in by_urn:
            urn = root_urn
        target = by_urn.get(urn) or resource
        level = PROTO_TO_LEVEL.get(diag.enforcementLevel, "advisory")
        if level == "remediate":  # still violated after remediation: the engine reports it as mandatory
            level = "mandatory"
        message = diag.message
        if diag.description and message.startswith(diag.description):
            message = message[len(diag.description):].lstrip("\n") or diag.description
        match = _PROPERTY.search(message)
        prop = match.group("path") if match else ""
        report.violations.append({
            "fingerprint": fingerprint(diag.policyName, urn, prop), "property": prop, "baselined": False,
            "policyName": diag.policyName, "policyPackName": diag.policyPackName,
            "enforcementLevel": level,
            "severity": severities.get(diag.policyName, "") or "",
            "urn": urn, "resourceType": target["type"] if target else (base_type(urn) if urn else ""),
            "resourceName": target["name"] if target else (name_of(urn) if urn else ""),
            "description": diag.description, "message": message,
            "source": target.get("source") if target else None})
    for item in reply.not_applicable:
        report.not_applicable.append({"policyName": item.policy_name, "reason": item.reason,
                                      "urn": resource["urn"] if resource else ""})


def apply_remediations(resource: Dict[str, Any], reply: Any, report: Any) -> None:
    """Apply a RemediateResponse to the resource's inputs (the engine then analyzes the remediated
    inputs) and record what changed; secret values are never shown."""
    for remediation in reply.remediations:
        if remediation.diagnostic:
            report.warnings.append(f"{remediation.policyName} on {resource['urn']}: {remediation.diagnostic}")
            continue
        new = json_format.MessageToDict(remediation.properties)
        changed = {}
        for key in sorted(set(new) | set(resource["inputs"])):
            if new.get(key) != resource["inputs"].get(key):
                changed[key] = _display(new.get(key), resource["inputs"].get(key))
        resource["inputs"] = new
        outputs = dict(resource.get("outputs") or {})
        outputs.update({k: v for k, v in new.items()})
        resource["outputs"] = outputs
        report.remediations.append({"policyName": remediation.policyName, "urn": resource["urn"],
                                    "resourceType": resource["type"], "resourceName": resource["name"],
                                    "changes": changed})


def report_remediations(resource: Mapping[str, Any], reply: Any, report: Any) -> None:
    """`pulumi policy analyze`: what a remediation would change is reported, never applied, and a
    remediation's diagnostic is an advisory violation of the resource."""
    for remediation in reply.remediations:
        if remediation.diagnostic:
            report.violations.append({
                "fingerprint": fingerprint(remediation.policyName, resource["urn"], ""), "property": "",
                "baselined": False, "policyName": remediation.policyName,
                "policyPackName": remediation.policyPackName, "enforcementLevel": "advisory", "severity": "",
                "urn": resource["urn"], "resourceType": resource["type"], "resourceName": resource["name"],
                "description": remediation.description, "message": remediation.diagnostic, "source": None})
            continue
        if not remediation.HasField("properties"):
            continue  # a remediation may set neither: the engine ignores it
        new = json_format.MessageToDict(remediation.properties)
        old = resource["inputs"]
        changed = {key: _display(new.get(key), old.get(key)) for key in sorted(set(new) | set(old))
                   if new.get(key) != old.get(key)}
        report.remediations.append({"policyName": remediation.policyName, "urn": resource["urn"],
                                    "resourceType": resource["type"], "resourceName": resource["name"],
                                    "changes": changed})


def _secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(P.SIG_KEY) == P.SECRET_SIG


def _redacted(value: Any) -> Any:
    """A wire value for display: secrets at any depth become "[secret]"."""
    if _secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _display(new: Any, old: Any) -> Any:
    """What a report may show of a remediated value: secrets redacted, maps as the keys added."""
    if _secret(new) or _secret(old):
        return "[secret]"
    if isinstance(new, dict) and isinstance(old, dict):
        added = {k: _redacted(v) for k, v in new.items() if k not in old}
        changed = sorted(k for k in new if k in old and new[k] != old[k])
        return {"added": added, "changed": changed}
    if isinstance(new, dict) and old is None:
        return {"added": _redacted(new), "changed": []}
    return _redacted(new)
