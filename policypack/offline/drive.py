"""The engine's calls to a pack, in its order, over one source's resources (the evaluator's
second half: evaluate.py imports it once the source has started, see there).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Callable, List, Optional

from pulumi.runtime import proto

from . import findings as F
from . import urns as U
from .client import SEVERITY_NAMES, analyze_request, stack_resource
from .pipeline import Evaluation, Report, StackContext
from .policy_config import build as build_policy_config


class ProviderIndex:
    """Provider resources by URN: the engine resolves a `<urn>::<id>` reference by its URN
    (pkg/resource/deploy/analyze_snapshot.go, plugin.AnalyzerProviderResource) and sends a
    provider only for resources that are not providers themselves."""

    def __init__(self, resources: List[Mapping[str, Any]]) -> None:
        self.by_urn = {r["urn"]: r for r in resources if r["type"].startswith("pulumi:providers:")}

    def provider_of(self, resource: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
        ref = resource.get("provider") or ""
        if not ref or not resource.get("custom") or resource["type"].startswith("pulumi:providers:"):
            return None
        return self.by_urn.get(ref.rsplit("::", 1)[0])


def drive(pack: Any, context: Optional[StackContext], evaluation: Evaluation,
          user_policy_config: Optional[Mapping[str, Any]], where: str, report: Report,
          progress: Callable[[str], None]) -> None:
    """The engine's calls, in its order: Handshake, ConfigureStack (when the engine sends one),
    GetAnalyzerInfo, Configure, Remediate per resource (when a policy remediates), Analyze per
    resource with its inputs, one AnalyzeStack with every resource's outputs."""
    directory = os.path.abspath(evaluation.label) if os.path.isdir(evaluation.label) else os.getcwd()
    pack.handshake(directory, directory)
    if context is not None:
        pack.configure_stack(context.stack, context.project, context.organization, context.dry_run,
                             context.config, context.secret_keys, context.tags)
    info = pack.analyzer_info()
    report.pack = {"name": info.name, "version": info.version}
    policy_config = build_policy_config(info, user_policy_config, where=where, warnings=report.warnings)
    pack.configure(policy_config)
    severities = {p.name: SEVERITY_NAMES.get(p.severity, "") for p in info.policies}
    report.policies = [{"name": p.name, "description": p.description,
                        "enforcementLevel": policy_config[p.name]["enforcementLevel"],
                        "severity": severities[p.name], "url": p.url,
                        "kind": "stack" if p.policy_type == 2 else "resource"} for p in info.policies]

    resources = evaluation.resources
    by_urn = {r["urn"]: r for r in resources}
    providers = ProviderIndex(resources)
    # The engine analyzes every resource it has: custom ones, components, providers (default
    # ones included, before their first user) and the root stack.
    report.resources = len([r for r in resources if r["type"] != U.ROOT_STACK_TYPE])
    if any(v["enforcementLevel"] == "remediate" for v in policy_config.values()):
        progress(f"remediating {len(resources)} resources")
        replies = pack.map_calls("Remediate", [analyze_request(r, providers.provider_of(r)) for r in resources])
        for resource, reply in zip(resources, replies):
            if evaluation.apply_remediations:
                F.apply_remediations(resource, reply, report)
            else:
                F.report_remediations(resource, reply, report)
    progress(f"analyzing {len(resources)} resources")
    step = max(1, len(resources) // 10)

    def tick(done: int, total: int) -> None:
        if total >= 1000 and (done % step == 0 or done == total):
            progress(f"analyzed {done}/{total} resources")

    replies = pack.map_calls("Analyze", [analyze_request(r, providers.provider_of(r)) for r in resources],
                             progress=tick)
    for resource, reply in zip(resources, replies):
        F.collect(reply, resource, by_urn, severities, report)
    progress("analyzing the stack")
    stack_request = proto.AnalyzeStackRequest(
        resources=[stack_resource(r, providers.provider_of(r)) for r in resources])
    reply = pack.call("AnalyzeStack", stack_request)
    root_urn = root_stack_urn(evaluation) if evaluation.attribute_to_root else None
    F.collect(reply, None, by_urn, severities, report, root_urn=root_urn)


def root_stack_urn(evaluation: Evaluation) -> str:
    """The snapshot's root stack, or the one the engine synthesizes (resource.DefaultRootStackURN)."""
    for r in evaluation.resources:
        if r["type"] == U.ROOT_STACK_TYPE and not r.get("parent"):
            return r["urn"]
    return (f"urn:pulumi:{evaluation.stack}::{evaluation.project}::{U.ROOT_STACK_TYPE}::"
            f"{evaluation.project}-{evaluation.stack}")
