"""Building and serving the pack: selection of rules, a team's own policies beside them, the gRPC server.

The CLI runs the repository's `__main__.py`, which calls `serve()`. The start-up path imports
only pulumi-policy and this package's rules: no pulumi_aws, no jsonschema.
"""
from __future__ import annotations

import sys
import time
from concurrent import futures
from typing import Any, Iterable, List, Mapping, Optional, Sequence

import grpc
import pulumi_policy as sdk
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
# pulumi-policy has no public servicer: its PolicyPack serves and never returns. A team's own
# policies are served by the SDK's servicer itself (built by keyword), hence the pinned version range.
from pulumi_policy.policy import _PolicyAnalyzerServicer

from . import __version__, PACK_NAME, PACK_DESCRIPTION
from .rule import Rule
from .rules import ALL_RULES
from .servicer import _LEVEL_TO_PROTO as LEVEL_TO_PROTO, PackServicer, policy_info


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


def checked_extra_policies(policies: Iterable[sdk.Policy], rules: Sequence[type] = ALL_RULES) -> List[sdk.Policy]:
    """A team's own pulumi-policy policies, refused when a name is ours or repeated: policy
    configuration, presets and exemptions address a policy by its name."""
    ours = {rule.name for rule in rules}
    checked: List[sdk.Policy] = []
    seen = set()
    for policy in policies:
        if not isinstance(policy, (sdk.ResourceValidationPolicy, sdk.StackValidationPolicy)):
            raise TypeError(f"extra_policies takes pulumi_policy ResourceValidationPolicy and "
                            f"StackValidationPolicy objects, got {type(policy).__name__}")
        if policy.name in ours:
            raise ValueError(f"extra policy {policy.name!r} has the name of a payments-guard policy; "
                             "give the team's policy a name of its own")
        if policy.name in seen:
            raise ValueError(f"two extra policies are named {policy.name!r}")
        seen.add(policy.name)
        checked.append(policy)
    return checked


class Pack:
    """A selection of our rules, and a team's own pulumi-policy policies beside them, with
    everything needed to serve them as one pack."""

    def __init__(self, rules: Sequence[Rule], name: str = PACK_NAME, version: str = __version__,
                 description: str = PACK_DESCRIPTION, extra_policies: Iterable[sdk.Policy] = (),
                 initial_config: Optional[Mapping[str, Mapping[str, Any]]] = None) -> None:
        self.extra_policies = checked_extra_policies(extra_policies)
        if not rules and not self.extra_policies:
            raise ValueError("a pack needs at least one policy")
        self.name, self.version, self.description = name, version, description
        #: policy name -> {"enforcementLevel": level, property: value...}: the pack's initial config
        #: (GetAnalyzerInfo's initialConfig, what the CLI applies when no --policy-pack-config is given)
        self.initial_config = dict(initial_config or {})
        self.rules = list(rules)

    def _extra_servicer(self) -> Optional[_PolicyAnalyzerServicer]:
        """pulumi-policy's own servicer for the team's policies: their validation, config, levels,
        not-applicable, remediation and diagnostics are exactly what their PolicyPack would serve."""
        if not self.extra_policies:
            return None
        return _PolicyAnalyzerServicer(name=self.name, version=self.version, policies=list(self.extra_policies),
                                       enforcement_level=sdk.EnforcementLevel.ADVISORY)

    def analyzer_info(self) -> proto.AnalyzerInfo:
        """What GetAnalyzerInfo answers: the pack and every policy's metadata (ours, then the team's)."""
        info = proto.AnalyzerInfo(name=self.name, version=self.version, supportsConfig=True,
                                  description=self.description, displayName=PACK_NAME, provider="aws",
                                  tags=["aws", "ecs", "fargate", "payments"])
        info.policies.extend(policy_info(rule) for rule in self.rules)
        for policy_name, entry in self.initial_config.items():
            config = proto.PolicyConfig()
            if entry.get("enforcementLevel"):
                config.enforcementLevel = LEVEL_TO_PROTO[entry["enforcementLevel"]]
            config.properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
            info.initialConfig[policy_name].CopyFrom(config)
        extra = self._extra_servicer()
        if extra is not None:
            info.policies.extend(extra.GetAnalyzerInfo(None, None).policies)
        return info

    def servicer(self) -> PackServicer:
        return PackServicer(self.analyzer_info(), self.rules, self._extra_servicer())

    def serve(self) -> None:
        """What `pulumi.policy` runs: a gRPC server on 127.0.0.1:0, its port as the first stdout line."""
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
               severities: Optional[Iterable[str]] = None, frameworks: Optional[Iterable[str]] = None,
               extra_policies: Iterable[sdk.Policy] = ()) -> Pack:
    """A pack of our policies matching the filters (all of them by default), and beside them a
    team's own pulumi-policy `ResourceValidationPolicy`/`StackValidationPolicy` objects, served
    with pulumi-policy's semantics (their config, levels, not-applicable and remediation)."""
    return Pack(select_rules(names, concerns, severities, frameworks), extra_policies=extra_policies)
