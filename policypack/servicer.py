"""The analyzer servicer the pack serves: pulumi-policy's protocol, one decode per request.

pulumi-policy's own servicer decodes a resource's properties once per policy in Analyze and every
resource once per stack policy in AnalyzeStack; with dozens of policies that dominates the time
of a preview. This servicer keeps the SDK's observable behaviour (diagnostic text and fields,
enforcement-level handling, not-applicable reporting, GetAnalyzerInfo's fields) but
decodes each request once and hands every rule the same read-only views. It also guards every
rule: an exception never escapes into the engine (it would fail the user's whole preview).
A team's own pulumi-policy policies, composed into the pack, are left to pulumi-policy's servicer
(`extra`), whose answers follow ours.
"""
from __future__ import annotations

import gc
import os
import sys
import threading
import traceback
from types import MappingProxyType
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence, Tuple

from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy.version import VERSION as SDK_VERSION

from . import exemptions
from . import props as P
from . import stored_state
# NotApplicable is re-exported for packs written against earlier versions (it lived here).
from .rule import (ADVISORY, DISABLED, MANDATORY, REMEDIATE, Context, NotApplicable, Rule, StackView,  # noqa: F401
                   Violation)

_REDACTED, _REDACTED_VALUE = stored_state.REDACTED, stored_state.REDACTED_VALUE  # (hot path: no attribute lookups)
_LEVEL_TO_PROTO = {ADVISORY: proto.ADVISORY, MANDATORY: proto.MANDATORY,
                   REMEDIATE: proto.REMEDIATE, DISABLED: proto.DISABLED}
_PROTO_TO_LEVEL = {v: k for k, v in _LEVEL_TO_PROTO.items()}
_SEVERITY_TO_PROTO = {"low": proto.POLICY_SEVERITY_LOW, "medium": proto.POLICY_SEVERITY_MEDIUM,
                      "high": proto.POLICY_SEVERITY_HIGH, "critical": proto.POLICY_SEVERITY_CRITICAL}


#: Internal errors caught while evaluating rules, for tests (a fuzz test asserts it stays empty).
INTERNAL_ERRORS: List[Tuple[str, str]] = []
_errors_lock = threading.Lock()


def _record_internal_error(rule_name: str) -> str:
    detail = traceback.format_exc(limit=6)
    with _errors_lock:
        if len(INTERNAL_ERRORS) < 1000:  # bounded: a long preview must not grow it forever
            INTERNAL_ERRORS.append((rule_name, detail))
    print(f"payments-guard: internal error in policy {rule_name} (skipped):\n{detail}", file=sys.stderr)
    return f"internal error in {rule_name}; the policy was skipped for this resource"


def _decode(value: struct_pb2.Value, path: Tuple, secret_paths: Optional[set]) -> Any:
    """One pass from protobuf to plain values. With a `secret_paths` set, the rules' values:
    secrets unwrapped with their paths recorded, resource references as their URN, assets and
    archives kept as small dicts (their text is content, never scanned). With None, the wire form,
    every signature object kept (remediation works on it; an asset's or archive's fields are
    content, never unwrapped)."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        if text == _REDACTED and secret_paths is not None:  # a secret `pulumi policy analyze` could not decrypt
            secret_paths.add(path)
            return _REDACTED_VALUE
        return text
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        fields = value.struct_value.fields
        if secret_paths is None:
            return {k: _decode(fields[k], path, None) for k in fields}
        if P.SIG_KEY in fields:
            sig = fields[P.SIG_KEY].string_value
            if sig == P.SECRET_SIG:
                secret_paths.add(path)
                return _decode(fields["value"], path, secret_paths) if "value" in fields else None
            if sig == P.RESOURCE_REF_SIG:
                return fields["urn"].string_value if "urn" in fields else ""
            if sig in (P.ASSET_SIG, P.ARCHIVE_SIG):
                return _decode(value, path, None)
        return {k: _decode(fields[k], path + (k,), secret_paths) for k in fields}
    if kind == "list_value":
        if secret_paths is None:
            return [_decode(v, path, None) for v in value.list_value.values]
        return [_decode(v, path + (i,), secret_paths) for i, v in enumerate(value.list_value.values)]
    return None


def struct_to_dict(struct: struct_pb2.Struct) -> Dict[str, Any]:
    """A Struct in wire form. Unlike json_format.MessageToDict it accepts every number a Struct
    can hold (Infinity, NaN) and is several times faster, which matters once per request."""
    fields = struct.fields
    return {k: _decode(fields[k], (), None) for k in fields}


def decode_struct(struct: struct_pb2.Struct, secret_paths: set) -> Dict[str, Any]:
    fields = struct.fields
    return {k: _decode(fields[k], (k,), secret_paths) for k in fields}  # (cheaper than .items() here)


def decode_properties(properties: struct_pb2.Struct) -> Tuple[Mapping[str, Any], set]:
    """A resource's properties as the rules read them, and the paths of its secrets (a value
    `pulumi policy analyze` could not decrypt among them, noted where a rule looks it up)."""
    secret_paths: set = set()
    props = decode_struct(properties, secret_paths)
    if secret_paths:
        redacted = stored_state.redacted_keys(props, secret_paths)
        if redacted:
            props = stored_state.RedactedProps(props, redacted)
    return props, secret_paths


def view_from_request(request: Any, with_links: bool = False,
                      providers: Optional[Dict[str, Any]] = None) -> P.ResourceView:
    """A ResourceView from an AnalyzeRequest or AnalyzerResource (decoded once). `providers`
    caches decoded provider properties by URN: AnalyzeStack repeats them on every resource."""
    props, secret_paths = decode_properties(request.properties)
    provider_type, provider_props, provider_urn = "", {}, ""
    if request.HasField("provider"):
        provider_type = request.provider.type
        provider_urn = request.provider.urn
        cached = providers.get(provider_urn) if providers is not None and provider_urn else None
        if cached is None:
            cached = decode_struct(request.provider.properties, set())
            if providers is not None and provider_urn:
                providers[provider_urn] = cached
        provider_props = cached
    parent, dependencies, property_dependencies = "", (), {}
    if with_links:
        parent = request.parent
        dependencies = list(request.dependencies)
        property_dependencies = {k: list(v.urns) for k, v in request.propertyDependencies.items()}
    elif request.HasField("options"):
        parent = request.options.parent
    return P.ResourceView(request.type, request.name, request.urn, props, secret_paths, parent,
                          dependencies, property_dependencies, provider_type, provider_props, provider_urn)


class _GcPause:
    """Pauses the cyclic garbage collector while an AnalyzeStack request builds and walks its views:
    they are acyclic, and generation-2 collections over a large stack's objects cost ~10%, more
    as the stack grows. Re-entrant across the server's worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._was_enabled:
                gc.enable()


_GC_PAUSE = _GcPause()


def policy_info(rule: Rule) -> Any:
    """A rule's metadata as GetAnalyzerInfo carries it (the fields pulumi-policy fills for a
    Policy declared with the same metadata; a test compares the two)."""
    info = proto.PolicyInfo(
        name=rule.name, description=rule.description, enforcementLevel=_LEVEL_TO_PROTO[rule.level],
        policy_type=proto.PolicyType.POLICY_TYPE_STACK if rule.kind == "stack" else proto.PolicyType.POLICY_TYPE_RESOURCE,
        severity=_SEVERITY_TO_PROTO.get(rule.severity, proto.POLICY_SEVERITY_UNSPECIFIED), url=rule.url,
        tags=[rule.concern] + [f"seed-{seed}" for seed in rule.seeds]
        + [f"{fw.name}:{control}" for fw in rule.frameworks for control in fw.controls])
    info.configSchema.properties.update(rule.config_schema())
    if rule.frameworks:  # the protocol carries one framework: the first, its controls as the reference
        first = rule.frameworks[0]
        info.framework.name, info.framework.version = first.name, first.version
        info.framework.reference = ", ".join(first.controls)
    if rule.remediation:
        info.remediation_steps = rule.remediation
    return info


class PackServicer(analyzer_pb2_grpc.AnalyzerServicer):
    """Serves `rules`; `info` is the pack's AnalyzerInfo (name, version, metadata of every policy).
    `extra`, when given, is pulumi-policy's servicer for a team's own policies: it gets every
    configuration call, and its answers are appended to ours, so that its policies behave exactly
    as in a pack of their own (an exception in one fails the call, as there)."""

    def __init__(self, info: Any, rules: Sequence[Rule], extra: Optional[Any] = None) -> None:
        self.info = info
        self.extra = extra
        self.name = info.name
        self.version = info.version
        self.rules = list(rules)
        self._by_name = {rule.name: rule for rule in self.rules}
        self._resource_rules = [r for r in self.rules if r.kind == "resource"]
        self._stack_rules = [r for r in self.rules if r.kind == "stack"]
        self._levels: Dict[str, str] = {}
        self._configs: Dict[str, Dict[str, Any]] = {}
        # Until ConfigureStack: the host's environment, else the URNs (`pulumi policy analyze` sends
        # no ConfigureStack and sets no PULUMI_STACK; every URN carries the stack and project).
        self._stack: Dict[str, Any] = {"stack": os.environ.get("PULUMI_STACK", ""),
                                       "project": os.environ.get("PULUMI_PROJECT", ""),
                                       "organization": os.environ.get("PULUMI_ORGANIZATION", ""), "dry_run": False}
        self._stack_configured = False
        self._read_urns: set = set()  # read resources met in Analyze, kept apart in AnalyzeStack
        self._stack_tags: Mapping[str, str] = MappingProxyType({})
        self._contexts: Dict[str, Context] = {}
        self._lock = threading.Lock()

    # --- protocol: metadata and configuration --------------------------------------------
    def Handshake(self, request, context):  # the SDK leaves it unimplemented; the engine tolerates both
        return proto.AnalyzerHandshakeResponse()

    def GetAnalyzerInfo(self, request, context):
        info = proto.AnalyzerInfo()
        info.CopyFrom(self.info)
        return info

    def GetPluginInfo(self, request, context):
        return proto.PluginInfo(version=SDK_VERSION)  # what pulumi-policy's servicer answers

    def Configure(self, request, context):
        levels, configs = {}, {}
        for policy_name in request.policyConfig:
            value = request.policyConfig[policy_name]
            levels[policy_name] = _PROTO_TO_LEVEL.get(value.enforcementLevel, ADVISORY)
            configs[policy_name] = json_format.MessageToDict(value.properties)
        with self._lock:
            self._levels, self._configs = levels, configs
            self._contexts = {}
        if self.extra is not None:
            self.extra.Configure(request, context)
        return empty_pb2.Empty()

    def ConfigureStack(self, request, context):
        with self._lock:
            self._stack = {"stack": request.stack, "project": request.project,
                           "organization": request.organization, "dry_run": request.dry_run}
            self._stack_tags = MappingProxyType(dict(request.tags))
            self._stack_configured = True
            self._contexts = {}
        if self.extra is not None:
            self.extra.ConfigureStack(request, context)
        return proto.AnalyzerStackConfigureResponse()

    def _identity_from(self, urn: str) -> None:
        """Without ConfigureStack: the stack and project of the URNs being analyzed."""
        if self._stack["stack"] and self._stack["project"]:
            return  # known (the common case after the first request): no parsing, no lock
        identity = stored_state.identity_from_urn(urn)
        if identity is None:
            return
        with self._lock:
            if not self._stack_configured and not (self._stack["stack"] and self._stack["project"]):
                self._stack = dict(self._stack, stack=self._stack["stack"] or identity[0],
                                   project=self._stack["project"] or identity[1])
                self._contexts = {}

    # --- levels and contexts -------------------------------------------------------------
    def level_of(self, rule: Rule) -> str:
        return self._levels.get(rule.name, rule.level)

    def context_for(self, rule: Rule) -> Context:
        ctx = self._contexts.get(rule.name)
        if ctx is None:
            ctx = Context(config=MappingProxyType(rule.merged_config(self._configs.get(rule.name))),
                          stack_tags=self._stack_tags, **self._stack)
            self._contexts[rule.name] = ctx  # benign race: equal contexts
        return ctx

    # --- evaluation ----------------------------------------------------------------------
    def _diagnostic(self, rule: Rule, level: str, violation: Violation, default_urn: str, ctx: Context,
                    locate):
        urn = violation.urn or default_urn
        message = violation.message
        if violation.path:
            # a stable anchor for baselines and for people: which property is at fault
            message += f"\n[property: {violation.path}]"
        if violation.level == MANDATORY and level == ADVISORY:
            level = MANDATORY
        type_, name = locate(urn)
        level, message = exemptions.apply(ctx.config, level, message, urn, type_, name)
        message = rule.description + ("\n" + message if message else "")
        # A stack rule's violation without a URN concerns the stack as a whole (the SDK sends "").
        return proto.AnalyzeDiagnostic(
            policyName=rule.name, policyPackName=self.name, policyPackVersion=self.version,
            message=message, urn=urn, description=rule.description,
            enforcementLevel=_LEVEL_TO_PROTO[level], severity=_SEVERITY_TO_PROTO.get(rule.severity, 0))

    def _run(self, rule: Rule, response: Any, level: str, evaluate, default_urn: str, ctx: Context,
             locate, redacted: Sequence[P.ResourceView] = ()) -> None:
        try:
            stored_state.reset(redacted)
            violations = list(evaluate() or ())
            if redacted:
                # the rule needed a value the CLI could not decrypt: it could not judge, it did not pass
                reason = stored_state.not_applicable_reason(redacted, bool(violations))
                if reason:
                    raise NotApplicable(reason)
            for violation in violations:
                response.diagnostics.append(self._diagnostic(rule, level, violation, default_urn, ctx, locate))
        except NotApplicable as exc:
            # a redacted value reads as unknown to the rule; say which one, and why it stays unknown
            reason = (stored_state.not_applicable_reason(redacted, False) if redacted else "") or exc.reason
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=rule.name, reason=reason))
        except Exception:  # noqa: BLE001 - a rule must never fail the user's preview
            reason = _record_internal_error(rule.name)
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=rule.name, reason=reason))

    def _is_read(self, request) -> bool:
        """A read resource (StackReference, `.get`) in stored state: not created by this stack, so
        resource rules do not judge it (how it is told apart: policypack/stored_state.py)."""
        if self._stack_configured and request.type != stored_state.STACK_REFERENCE:
            return False  # at a preview reads never reach Analyze (the common case: nothing to decode)
        if not self._stack_configured:
            self._identity_from(request.urn)
        if stored_state.is_read_resource(request.type, request.HasField("provider"),
                                         not request.properties.fields, self._stack_configured):
            self._read_urns.add(request.urn)
            return True
        return False

    def Analyze(self, request, context):
        response = proto.AnalyzeResponse()
        view = None
        redacted: Sequence[P.ResourceView] = ()
        for rule in () if self._is_read(request) else self._resource_rules:
            level = self.level_of(rule)
            if level == DISABLED or not rule.applies_to(request.type):
                continue
            if view is None:
                view = view_from_request(request)
                redacted = (view,) if isinstance(view.props, stored_state.RedactedProps) else ()
            ctx = self.context_for(rule)
            level = MANDATORY if level == REMEDIATE else level
            self._run(rule, response, level, lambda: rule.check(view, ctx), request.urn, ctx,
                      lambda urn: (request.type, request.name), redacted)
        if self.extra is not None:
            response.MergeFrom(self.extra.Analyze(request, context))
        return response

    def AnalyzeStack(self, request, context):
        with _GC_PAUSE:
            response = self._analyze_stack(request)
        if self.extra is not None:
            response.MergeFrom(self.extra.AnalyzeStack(request, context))
        return response

    def _analyze_stack(self, request):
        response = proto.AnalyzeResponse()
        stack = None
        for rule in self._stack_rules:
            level = self.level_of(rule)
            if level == DISABLED:
                continue
            if stack is None:
                providers: Dict[str, Any] = {}
                if not self._stack_configured and request.resources:
                    self._identity_from(request.resources[0].urn)
                views = [view_from_request(r, True, providers) for r in request.resources]
                reads = [v for v in views if v.type == stored_state.STACK_REFERENCE or v.urn in self._read_urns]
                if reads:
                    views = [v for v in views if v.type != stored_state.STACK_REFERENCE and v.urn not in self._read_urns]
                stack = StackView(views, reads)
                redacted = [v for v in views if isinstance(v.props, stored_state.RedactedProps)]

                def locate(urn: str, stack: StackView = stack):
                    resource = stack.by_urn.get(urn) or next((r for r in stack.reads if r.urn == urn), None)
                    return (resource.type, resource.name) if resource else ("", "")
            ctx = self.context_for(rule)
            level = MANDATORY if level == REMEDIATE else level
            self._run(rule, response, level, lambda: rule.check_stack(stack, ctx), "", ctx, locate, redacted)
        return response

    def Remediate(self, request, context):
        response = proto.RemediateResponse()
        view = None
        wire = None
        # nothing of a read resource is this stack's to change
        for rule in () if self._is_read(request) else self._resource_rules:
            if self.level_of(rule) != REMEDIATE or not rule.applies_to(request.type):
                continue
            if not rule.remediable:
                response.not_applicable.append(proto.PolicyNotApplicable(
                    policy_name=rule.name, reason="Policy does not implement remediate"))
                continue
            if view is None:
                wire = struct_to_dict(request.properties)
                view = view_from_request(request)
            ctx = self.context_for(rule)
            try:
                changes = rule.remediate(view, ctx)
            except NotApplicable as exc:
                response.not_applicable.append(proto.PolicyNotApplicable(policy_name=rule.name, reason=exc.reason))
                continue
            except Exception:  # noqa: BLE001
                reason = _record_internal_error(rule.name)
                response.not_applicable.append(proto.PolicyNotApplicable(policy_name=rule.name, reason=reason))
                continue
            if not changes:
                continue
            # Later remediations see earlier ones, as with the SDK; secrets stay secret.
            for key, value in changes.items():
                old = wire.get(key)
                secret = isinstance(old, dict) and old.get(P.SIG_KEY) == P.SECRET_SIG
                wire[key] = {P.SIG_KEY: P.SECRET_SIG, "value": value} if secret else value
            new_props = struct_pb2.Struct()
            new_props.update(wire)
            view = P.ResourceView(view.type, view.name, view.urn, *decode_properties(new_props), view.parent, (), {},
                                  view.provider_type, view.provider_props, view.provider_urn)
            response.remediations.append(proto.Remediation(
                policyName=rule.name, policyPackName=self.name, policyPackVersion=self.version,
                description=rule.description, properties=new_props))
        if self.extra is not None:
            if response.remediations:  # the team's remediations see ours, as later ones see earlier ones
                remediated = type(request)()
                remediated.CopyFrom(request)
                remediated.properties.CopyFrom(response.remediations[-1].properties)
                request = remediated
            response.MergeFrom(self.extra.Remediate(request, context))
        return response
