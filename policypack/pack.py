"""Building and serving the pack: selection of rules, SDK policy objects, the gRPC server.

The CLI runs the repository's `__main__.py`, which calls `serve()`. The start-up path imports
only pulumi-policy and this package's rules: no pulumi_aws, no jsonschema.
"""
from __future__ import annotations

import os
import sys
import time
from concurrent import futures
from typing import Any, Callable, Iterable, List, Optional, Sequence

import pulumi_policy as sdk
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer  # reused for GetAnalyzerInfo, as the SDK answers it

from . import __version__, PACK_NAME, PACK_DESCRIPTION
from . import props as P
from .rule import Context, Rule, StackView
from .rules import ALL_RULES

_SDK_LEVELS = {level.value: level for level in sdk.EnforcementLevel}
_SDK_SEVERITIES = {sev.value: sev for sev in sdk.Severity}


def select_rules(names: Optional[Iterable[str]] = None, concerns: Optional[Iterable[str]] = None,
                 severities: Optional[Iterable[str]] = None, frameworks: Optional[Iterable[str]] = None,
                 rules: Sequence[type] = ALL_RULES) -> List[Rule]:
    """Instances of the rules matching every given filter (a filter left None matches all).

    `frameworks` match a framework name case-insensitively by prefix ("pci" matches "PCI DSS").
    Unknown names raise ValueError so that a typo cannot silently select nothing.
    """
    names = None if names is None else list(names)
    if names is not None:
        known = {rule.name for rule in rules}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown policy name(s): {', '.join(unknown)}")
    wanted_frameworks = None if frameworks is None else [f.lower() for f in frameworks]
    selected = []
    for rule_class in rules:
        if names is not None and rule_class.name not in names:
            continue
        if concerns is not None and rule_class.concern not in set(concerns):
            continue
        if severities is not None and rule_class.severity not in set(severities):
            continue
        if wanted_frameworks is not None and not any(
                fw.name.lower().startswith(w) for fw in rule_class.frameworks for w in wanted_frameworks):
            continue
        selected.append(rule_class())
    return selected


#: The SDK unwraps secrets before a policy runs, so under its servicer no value is known to be
#: safe to show: the root path marks every value secret and messages name paths only.
ALL_SECRET = frozenset({()})


def _record_internal_error(rule_name: str) -> str:
    from .servicer import _record_internal_error as record
    return record(rule_name)


def _plain(props: Any) -> Any:
    """pulumi-policy's proxies back to plain values (unknown sentinels preserved)."""
    return serialize_properties(props)


def sdk_policy(rule: Rule) -> sdk.Policy:
    """The rule as a pulumi-policy Policy: its metadata for GetAnalyzerInfo, and a validate that
    works under the SDK's own servicer too (for teams composing our rules into their own pack)."""
    framework = None
    if rule.frameworks:
        first = rule.frameworks[0]
        framework = sdk.PolicyComplianceFramework(
            name=first.name, version=first.version, reference=", ".join(first.controls))
    tags = [rule.concern] + [f"seed-{seed}" for seed in rule.seeds] + [
        f"{fw.name}:{control}" for fw in rule.frameworks for control in fw.controls]
    common = dict(
        enforcement_level=_SDK_LEVELS[rule.level],
        config_schema=sdk.PolicyConfigSchema(properties=rule.config_schema()),
        severity=_SDK_SEVERITIES[rule.severity], framework=framework, tags=tags,
        remediation_steps=rule.remediation or None, url=rule.url)

    def context(args: Any) -> Context:
        # The Python host exports the stack to the pack's environment (engine-facts).
        return Context(config=rule.merged_config(args.get_config()), stack_tags=args.stack_tags,
                       stack=os.environ.get("PULUMI_STACK", ""), project=os.environ.get("PULUMI_PROJECT", ""),
                       organization=os.environ.get("PULUMI_ORGANIZATION", ""),
                       dry_run=os.environ.get("PULUMI_DRY_RUN") == "true")

    if rule.kind == "stack":
        def validate_stack(args: sdk.StackValidationArgs, report: Callable) -> None:
            from .servicer import NotApplicable
            views = [P.ResourceView(r.resource_type, r.name, r.urn, _plain(r.props), ALL_SECRET,
                                    r.parent.urn if r.parent else "", [d.urn for d in r.dependencies],
                                    {k: [d.urn for d in v] for k, v in r.property_dependencies.items()})
                     for r in args.resources]
            try:
                for violation in rule.check_stack(StackView(views), context(args)) or ():
                    report(violation.message, violation.urn)
            except NotApplicable as exc:
                args.not_applicable(exc.reason)
            except Exception:  # noqa: BLE001 - a rule must never fail the user's preview
                args.not_applicable(_record_internal_error(rule.name))
        return sdk.StackValidationPolicy(name=rule.name, description=rule.description,
                                         validate=validate_stack, **common)

    def view(args: Any) -> P.ResourceView:
        provider = args.provider
        return P.ResourceView(args.resource_type, args.name, args.urn, _plain(args.props), ALL_SECRET,
                              args.opts.parent or "", (), {},
                              provider.resource_type if provider else "",
                              _plain(provider.props) if provider else {}, provider.urn if provider else "")

    def validate(args: sdk.ResourceValidationArgs, report: Callable) -> None:
        from .servicer import NotApplicable
        if rule.applies_to(args.resource_type):
            try:
                for violation in rule.check(view(args), context(args)) or ():
                    report(violation.message, None)
            except NotApplicable as exc:
                args.not_applicable(exc.reason)
            except Exception:  # noqa: BLE001 - a rule must never fail the user's preview
                args.not_applicable(_record_internal_error(rule.name))

    def remediate(args: sdk.ResourceValidationArgs):
        if not rule.applies_to(args.resource_type):
            return None
        changes = rule.remediate(view(args), context(args))
        if not changes:
            return None
        new_props = dict(_plain(args.props))
        new_props.update(changes)
        return new_props

    return sdk.ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                        remediate=remediate if rule.remediable else None, **common)


class Pack:
    """A selection of rules with everything needed to serve it."""

    def __init__(self, rules: Sequence[Rule], name: str = PACK_NAME, version: str = __version__,
                 description: str = PACK_DESCRIPTION, initial_config: Optional[dict] = None) -> None:
        if not rules:
            raise ValueError("a pack needs at least one policy")
        self.name, self.version, self.description = name, version, description
        self.initial_config = initial_config  # pulumi-policy's initial_config (GetAnalyzerInfo)
        self.rules = list(rules)
        self.policies = [sdk_policy(rule) for rule in self.rules]

    def servicer(self):
        from .servicer import PackServicer
        sdk_servicer = _PolicyAnalyzerServicer(
            self.name, self.version, self.policies, sdk.EnforcementLevel.ADVISORY, self.initial_config,
            self.description, "payments-guard", None, "aws", ["aws", "ecs", "fargate", "payments"], None)
        return PackServicer(self.name, self.version, self.rules, sdk_servicer, self.description)

    def sdk_pack(self) -> None:
        """Serve through pulumi-policy's own PolicyPack (slower; kept for parity checks)."""
        sdk.PolicyPack(name=self.name, policies=self.policies, description=self.description)

    def serve(self) -> None:
        """What `pulumi.policy` runs: a gRPC server on 127.0.0.1:0, its port as the first stdout line."""
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                             options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
        analyzer_pb2_grpc.add_AnalyzerServicer_to_server(self.servicer(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        sys.stdout.buffer.write(f"{port}\n".encode())
        sys.stdout.flush()
        try:
            while True:
                time.sleep(86400)
        except KeyboardInterrupt:
            server.stop(0)


def build_pack(names: Optional[Iterable[str]] = None, concerns: Optional[Iterable[str]] = None,
               severities: Optional[Iterable[str]] = None, frameworks: Optional[Iterable[str]] = None) -> Pack:
    """A pack of the policies matching the filters (all of them by default)."""
    return Pack(select_rules(names, concerns, severities, frameworks))
