"""The audit's source: a `pulumi stack export` file, read as `pulumi policy analyze --file` reads it.

What the engine does with a snapshot (pkg/resource/deploy/analyze_snapshot.go) and what this
module reproduces for the evaluator:

- every resource not marked `delete` is evaluated, in the snapshot's order: Remediate (reported,
  not applied), Analyze with its stored **inputs**; then one AnalyzeStack with every such
  resource's **outputs**, parent, dependencies and property dependencies;
- no ConfigureStack is sent and the host exports nothing of the stack: the pack sees the stack and
  project only in the URNs;
- a provider reference `<urn>::<id>` is resolved by its URN to the provider resource, whose
  inputs the Analyze request carries;
- top-level keys that start with `__` (`__defaults`, `__meta`) are not sent (SkipInternalKeys);
- secrets: a `plaintext` secret (`pulumi stack export --show-secrets`) is its JSON text's value;
  a `ciphertext` one cannot be decrypted offline and becomes the string "[secret]", whatever its
  type was — what the CLI does when it cannot decrypt; both stay marked secret;
- pending operations are ignored; read resources (`external: true`) are evaluated like the
  others (the protocol does not carry the flag);
- deployment versions 1 to 4 are read, as the engine reads them (pkg/resource/stack/deployment.go
  migrates 1 and 2 up to 3): the fields this module reads have the same names in each, version 1
  only lacks `provider` (the default provider then);
- a secret must hold exactly one of `ciphertext` or `plaintext`, as the CLI requires: the wire
  form `{sig, value}` is not something `pulumi stack export` writes, and the CLI rejects it.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

from ..props import SECRET_SIG, SIG_KEY  # the package's one copy of the wire constants
from ..stored_state import REDACTED
from .pipeline import CheckError, Evaluation, StackContext
from .urns import name_of

SUPPORTED_VERSIONS = (1, 2, 3, 4)


def _secret(value: Any) -> Dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


class _Decoder:
    """Deployment property values -> the wire form the evaluator sends (secrets as signatures)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.redacted = 0

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            if value.get(SIG_KEY) == SECRET_SIG:
                return self.secret(value)
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def secret(self, value: Dict[str, Any]) -> Dict[str, Any]:
        plaintext, ciphertext = value.get("plaintext"), value.get("ciphertext")
        if isinstance(plaintext, str) and plaintext and not ciphertext:
            try:
                return _secret(self.value(json.loads(plaintext)))
            except ValueError:
                raise CheckError(f"{self.where}: a plaintext secret is not JSON text") from None
        if isinstance(ciphertext, str) and ciphertext and not plaintext:
            self.redacted += 1
            return _secret(REDACTED)
        raise CheckError(f"{self.where}: malformed secret value: exactly one of `ciphertext` or `plaintext` "
                         "must be supplied")

    def properties(self, value: Any, field: str) -> Dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise CheckError(f"{self.where}: `{field}` is not an object")
        # only top-level internal keys are skipped, as the engine marshals them
        return {k: self.value(v) for k, v in value.items() if not k.startswith("__")}


def _valid_urn(urn: Any) -> bool:
    return isinstance(urn, str) and urn.startswith("urn:pulumi:") and len(urn.split("::")) >= 4


def stack_and_project(urn: str) -> Tuple[str, str]:
    head = urn.split("::")
    return head[0][len("urn:pulumi:"):], head[1]


def parse_export(text: str, where: str) -> Evaluation:
    """One export's text -> the evaluation the engine would make of it (CheckError: why not)."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        hint = " (truncated?)" if "Expecting" in str(exc) or "Unterminated" in str(exc) else ""
        raise CheckError(f"{where} is not valid JSON{hint}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("deployment"), dict):
        raise CheckError(f"{where} is not a `pulumi stack export` file (no `deployment` object)")
    version = document.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:  # not true, not 3.0: Go reads an int
        raise CheckError(f"{where}: deployment version {version!r} is not supported (the engine reads "
                         f"{SUPPORTED_VERSIONS[0]} to {SUPPORTED_VERSIONS[-1]})")
    if version >= 4 and document.get("features"):
        raise CheckError(f"{where}: the deployment uses features this audit does not know: "
                         f"{', '.join(map(str, document['features']))}")
    raw = document["deployment"].get("resources") or []
    if not isinstance(raw, list):
        raise CheckError(f"{where}: `deployment.resources` is not a list")
    if not raw:
        raise CheckError(f"{where} has no resources; nothing to analyze")
    resources: List[Dict[str, Any]] = []
    decoder = _Decoder(where)
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise CheckError(f"{where}: resource {index} is not an object")
        urn = item.get("urn")
        if not _valid_urn(urn):
            raise CheckError(f"{where}: resource {index} has an invalid URN {urn!r}")
        if not isinstance(item.get("type"), str) or not item["type"]:
            raise CheckError(f"{where}: resource {urn} has no type")
        if item.get("delete"):
            continue  # pending deletion: the engine skips it
        decoder.where = f"{where}: {urn}"
        property_dependencies = item.get("propertyDependencies") or {}
        resources.append({
            "urn": urn, "type": item["type"], "name": name_of(urn), "custom": bool(item.get("custom")),
            "id": str(item.get("id") or ""), "parent": item.get("parent") or "",
            "provider": item.get("provider") or "",
            "dependencies": [d for d in item.get("dependencies") or [] if isinstance(d, str)],
            "propertyDependencies": {k: [u for u in v if isinstance(u, str)]
                                     for k, v in property_dependencies.items() if isinstance(v, list)},
            "inputs": decoder.properties(item.get("inputs"), "inputs"),
            "outputs": decoder.properties(item.get("outputs"), "outputs"),
            "external": bool(item.get("external")),
            "options": {"protect": bool(item.get("protect")),
                        "ignoreChanges": [c for c in item.get("ignoreChanges") or [] if isinstance(c, str)],
                        "additionalSecretOutputs": [k for k in item.get("additionalSecretOutputs") or []
                                                    if isinstance(k, str)],
                        "aliases": [a for a in item.get("aliases") or [] if isinstance(a, str)],
                        "customTimeouts": item.get("customTimeouts") or {}},
            "source": None,
        })
    if not resources:
        raise CheckError(f"{where} has no resources that are not pending deletion; nothing to analyze")
    root = next((r for r in resources if r["type"] == "pulumi:pulumi:Stack" and not r["parent"]), resources[0])
    stack, project = stack_and_project(root["urn"])
    warnings = []
    if decoder.redacted:
        warnings.append(f"could not decrypt secrets in {where}; analyzing with secret values redacted "
                        f"({decoder.redacted} value(s) read as \"{REDACTED}\")")
    return Evaluation(label=where, project=project, stack=stack, mode="state", resources=resources,
                      warnings=warnings, apply_remediations=False, attribute_to_root=True)


class ExportSource:
    """A `pulumi stack export` file, or `-` for standard input."""

    def __init__(self, path: str, stdin: Optional[Any] = None) -> None:
        self.path = path
        self.stdin = stdin
        self.evaluation: Optional[Evaluation] = None

    @property
    def where(self) -> str:
        return "<stdin>" if self.path == "-" else self.path

    def prepare(self) -> Optional[StackContext]:
        if self.path == "-":
            text = (self.stdin or sys.stdin).read()
        else:
            if os.path.isdir(self.path):
                raise CheckError(f"{self.path} is a directory (pass it with others, or its files)")
            try:
                with open(self.path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise CheckError(f"cannot read {self.path}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise CheckError(f"{self.path} is not UTF-8 text") from None
        self.evaluation = parse_export(text, self.where)
        if self.path != "-":
            self.evaluation.label = os.path.abspath(self.path)
        return None  # `pulumi policy analyze` sends no ConfigureStack

    def start(self) -> None:
        pass

    def collect(self, deadline: float) -> Evaluation:
        assert self.evaluation is not None
        return self.evaluation

    def close(self) -> None:
        pass
