"""Drive the pack's servicer in-process, as pulumi-policy's own tests do: build the protocol's
requests from plain values and return the diagnostics the engine would receive."""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from google.protobuf import struct_pb2
from pulumi.runtime import proto

from policypack import props as P
from policypack.pack import Pack, select_rules

UNKNOWN = P.UNKNOWN_STRING
LEVELS = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "remediate",
          proto.DISABLED: "disabled"}
STACK = "dev"
PROJECT = "payments"


def secret(value: Any) -> Dict[str, Any]:
    """A value as the engine sends a secret on the wire."""
    return {P.SIG_KEY: P.SECRET_SIG, "value": value}


def urn(type_: str, name: str, stack: str = STACK, project: str = PROJECT) -> str:
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def to_struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(value))
    return struct


# The engine's AnalyzeDiagnostic has no field for the property at fault; the servicer appends
# `Violation.path` to the message as this anchor line (which the offline check's findings parse too).
_PROPERTY_ANCHOR = re.compile(r"^\[property: (?P<path>.*)\]$", re.M)


class Diag:
    """One diagnostic as the engine receives it, with what a test asserts on: `policy`, `level`,
    `urn` (and the resource `name` in it) and `path`, the property the rule blamed ("" for the
    resource or stack as a whole)."""

    def __init__(self, d: Any) -> None:
        self.policy = d.policyName
        self.level = LEVELS[d.enforcementLevel]
        self.message = d.message
        self.urn = d.urn
        self.name = d.urn.rsplit("::", 1)[-1] if d.urn else ""
        self.severity = d.severity
        match = _PROPERTY_ANCHOR.search(d.message)
        self.path = match.group("path") if match else ""

    def __repr__(self) -> str:
        return f"<{self.policy} {self.level} {self.name!r} [{self.path}]: {self.message!r}>"


_ANY = object()


def _matches(d: Diag, policy: Any, name: Any, urn_: Any, path: Any, level: Any) -> bool:
    return all(want is _ANY or got == want for got, want in
               ((d.policy, policy), (d.name, name), (d.urn, urn_), (d.path, path), (d.level, level)))


def assert_violation(diags: Iterable[Diag], policy: str, *, name: Any = _ANY, urn: Any = _ANY,
                     path: Any = _ANY, level: Any = _ANY, only: bool = False) -> Diag:
    """The diagnostic of `policy` on resource `name` (or `urn`), property `path`, at `level`
    (each criterion left out matches anything); returns it. `only=True`: and no other diagnostic."""
    diags = list(diags)
    found = [d for d in diags if _matches(d, policy, name, urn, path, level)]
    wanted = ", ".join(f"{k}={v!r}" for k, v in (("name", name), ("urn", urn), ("path", path), ("level", level))
                       if v is not _ANY)
    assert found, f"no {policy} violation with {wanted or 'any shape'} among {diags}"
    if only:
        assert len(diags) == 1, f"expected only {found[0]!r}, got {diags}"
    return found[0]


def assert_no_violation(diags: Iterable[Diag], policy: Any = _ANY, *, name: Any = _ANY, urn: Any = _ANY,
                        path: Any = _ANY) -> None:
    """No diagnostic of `policy` (default: any policy) on `name`/`urn`/`path`."""
    diags = list(diags)
    found = [d for d in diags if _matches(d, policy, name, urn, path, _ANY)]
    assert not found, f"unexpected violations: {found}"


class Harness:
    """One configured servicer. `policies`: the rule names to load (default: all)."""

    def __init__(self, policies: Optional[Iterable[str]] = None, config: Optional[Mapping[str, Any]] = None,
                 stack: str = STACK, project: str = PROJECT, dry_run: bool = True,
                 stack_tags: Optional[Mapping[str, str]] = None, configure_stack: bool = True,
                 rules: Optional[Sequence[Any]] = None) -> None:
        """`rules`: rule instances to serve instead of the named policies (a test's own rules)."""
        self.pack = Pack(list(rules) if rules is not None else select_rules(names=policies))
        self.servicer = self.pack.servicer()
        self.stack, self.project = stack, project
        if configure_stack:  # False: as `pulumi policy analyze`, which sends no ConfigureStack
            self.servicer.ConfigureStack(proto.AnalyzerStackConfigureRequest(
                stack=stack, project=project, organization="acme", dry_run=dry_run, tags=dict(stack_tags or {})), None)
        if config is not None:
            self.configure(config)

    def configure(self, config: Mapping[str, Any]) -> None:
        """`config`: policy name -> level string or {enforcementLevel, ...properties}."""
        request = proto.ConfigureAnalyzerRequest()
        for rule in self.pack.rules:
            value = config.get(rule.name, {})
            if isinstance(value, str):
                value = {"enforcementLevel": value}
            level = value.get("enforcementLevel", rule.level)
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            merged = rule.merged_config(props)
            request.policyConfig[rule.name].CopyFrom(proto.PolicyConfig(
                enforcementLevel={"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY,
                                  "remediate": proto.REMEDIATE, "disabled": proto.DISABLED}[level],
                properties=to_struct(merged)))
        self.servicer.Configure(request, None)

    def _provider(self, provider: Optional[Mapping[str, Any]]):
        if provider is None:
            return None
        return proto.AnalyzerProviderResource(
            type="pulumi:providers:aws", name="default_7_51_1",
            urn=urn("pulumi:providers:aws", "default_7_51_1", self.stack, self.project),
            properties=to_struct(provider))

    def analyze(self, type_: str, props: Mapping[str, Any], name: str = "res",
                provider: Optional[Mapping[str, Any]] = None) -> List[Diag]:
        request = proto.AnalyzeRequest(type=type_, name=name, urn=urn(type_, name, self.stack, self.project),
                                       properties=to_struct(props))
        prov = self._provider(provider)
        if prov is not None:
            request.provider.CopyFrom(prov)
        response = self.servicer.Analyze(request, None)
        return [Diag(d) for d in response.diagnostics]

    def not_applicable(self, type_: str, props: Mapping[str, Any], name: str = "res") -> List[str]:
        request = proto.AnalyzeRequest(type=type_, name=name, urn=urn(type_, name, self.stack, self.project),
                                       properties=to_struct(props))
        return [n.policy_name for n in self.servicer.Analyze(request, None).not_applicable]

    def analyze_stack(self, resources: Sequence[Mapping[str, Any]]) -> List[Diag]:
        """`resources`: dicts with type, name, props, and optional dependencies, propertyDependencies
        ({prop: [urn]}), parent (URNs), provider (props)."""
        request = proto.AnalyzeStackRequest()
        for r in resources:
            item = proto.AnalyzerResource(
                type=r["type"], name=r["name"], urn=r.get("urn") or urn(r["type"], r["name"], self.stack, self.project),
                properties=to_struct(r.get("props", {})), parent=r.get("parent", ""),
                dependencies=list(r.get("dependencies", [])))
            for prop, urns in (r.get("propertyDependencies") or {}).items():
                item.propertyDependencies[prop].urns.extend(urns)
            prov = self._provider(r.get("provider"))
            if prov is not None:
                item.provider.CopyFrom(prov)
            request.resources.append(item)
        response = self.servicer.AnalyzeStack(request, None)
        return [Diag(d) for d in response.diagnostics]

    def remediate(self, type_: str, props: Mapping[str, Any], name: str = "res",
                  provider: Optional[Mapping[str, Any]] = None):
        request = proto.AnalyzeRequest(type=type_, name=name, urn=urn(type_, name, self.stack, self.project),
                                       properties=to_struct(props))
        prov = self._provider(provider)
        if prov is not None:
            request.provider.CopyFrom(prov)
        return self.servicer.Remediate(request, None)


def policies_of(diags: Iterable[Diag]) -> List[str]:
    return sorted(d.policy for d in diags)


def resource(type_: str, name: str, props: Mapping[str, Any], **links: Any) -> Dict[str, Any]:
    """A stack resource for Harness.analyze_stack, its URN computed like the engine's."""
    return {"type": type_, "name": name, "props": dict(props), "urn": urn(type_, name), **links}


def evaluate_records(records: Sequence[Mapping[str, Any]], harness: Optional["Harness"] = None) -> List[Diag]:
    """Run the offline runner's recorded resources through the servicer in-process, as the check
    does over gRPC: Analyze for every registered resource, then AnalyzeStack with the outputs."""
    from policypack.offline.client import analyze_request, stack_resource
    from policypack.offline.drive import ProviderIndex
    h = harness or Harness()
    provider_of = ProviderIndex(list(records)).provider_of

    diags: List[Diag] = []
    for r in records:
        diags += [Diag(d) for d in h.servicer.Analyze(analyze_request(r, provider_of(r)), None).diagnostics]
    request = proto.AnalyzeStackRequest(resources=[stack_resource(r, provider_of(r)) for r in records])
    diags += [Diag(d) for d in h.servicer.AnalyzeStack(request, None).diagnostics]
    return diags
