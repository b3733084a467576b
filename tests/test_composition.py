"""One evaluation path: the pack answers the protocol from its own metadata as pulumi-policy would,
and a team's own pulumi-policy policies compose into it with pulumi-policy's semantics."""
from __future__ import annotations

import pulumi_policy as sdk
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policypack import PACK_NAME
from policypack.pack import build_pack


def _declared_for_the_sdk(rule) -> sdk.Policy:
    """The rule's metadata declared as a pulumi-policy author would (its validation is not used)."""
    framework = None
    if rule.frameworks:
        first = rule.frameworks[0]
        framework = sdk.PolicyComplianceFramework(name=first.name, version=first.version,
                                                  reference=", ".join(first.controls))
    kind = sdk.StackValidationPolicy if rule.kind == "stack" else sdk.ResourceValidationPolicy
    return kind(name=rule.name, description=rule.description, validate=lambda args, report: None,
                enforcement_level=sdk.EnforcementLevel(rule.level),
                config_schema=sdk.PolicyConfigSchema(properties=rule.config_schema()),
                severity=sdk.Severity(rule.severity), framework=framework,
                tags=[rule.concern] + [f"seed-{seed}" for seed in rule.seeds]
                + [f"{fw.name}:{control}" for fw in rule.frameworks for control in fw.controls],
                remediation_steps=rule.remediation or None, url=rule.url)


def test_analyzer_info_is_what_pulumi_policy_answers_for_the_same_metadata():
    pack = build_pack()
    theirs = _PolicyAnalyzerServicer(
        name=pack.name, version=pack.version, policies=[_declared_for_the_sdk(r) for r in pack.rules],
        enforcement_level=sdk.EnforcementLevel.ADVISORY, description=pack.description,
        display_name=PACK_NAME, provider="aws", tags=["aws", "ecs", "fargate", "payments"])
    ours = pack.servicer()
    assert ours.GetAnalyzerInfo(None, None) == theirs.GetAnalyzerInfo(None, None)
    assert ours.GetPluginInfo(None, None) == theirs.GetPluginInfo(None, None)
