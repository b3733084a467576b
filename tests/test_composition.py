"""One evaluation path: the pack answers the protocol from its own metadata as pulumi-policy would,
and a team's own pulumi-policy policies compose into it with pulumi-policy's semantics."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from typing import Any, Dict, Mapping

import pulumi_policy as sdk
import pytest
from google.protobuf import json_format
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from pulumi.runtime import proto
from pulumi_policy.policy import _PolicyAnalyzerServicer

from harness import UNKNOWN, to_struct, urn
from policypack import PACK_NAME
from policypack.pack import build_pack

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COMPOSED = os.path.join(HERE, "fixtures", "packs", "composed")


def _load_module(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("team_policies", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


# --- a team's own policies beside ours: pulumi-policy's semantics, our findings unchanged ---------

ROLE = "aws:iam/role:Role"
LEVEL = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "remediate": proto.REMEDIATE,
         "disabled": proto.DISABLED}
team = _load_module(os.path.join(COMPOSED, "team_policies.py"))


def _role_count(args: sdk.StackValidationArgs, report: sdk.ReportViolation) -> None:
    roles = [r for r in args.resources if r.resource_type == ROLE]
    if not roles:
        args.not_applicable("the stack has no IAM role")
    if len(roles) > args.get_config().get("max", 3):
        report(f"{len(roles)} IAM roles", roles[-1].urn)


ROLE_COUNT = sdk.StackValidationPolicy(
    name="team-role-count", description="A stack keeps few IAM roles.", validate=_role_count,
    config_schema=sdk.PolicyConfigSchema(properties={"max": {"type": "number", "default": 3}}))
TEAM = [team.iam_role_description, ROLE_COUNT]


class Trio:
    """The composed pack, our default pack, and pulumi-policy's own servicer for the team's
    policies (what `PolicyPack(name, TEAM)` serves), configured alike."""

    def __init__(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        composed = build_pack(extra_policies=TEAM)
        self.composed = composed.servicer()
        self.default = build_pack().servicer()
        self.sdk = _PolicyAnalyzerServicer(name=composed.name, version=composed.version, policies=list(TEAM),
                                           enforcement_level=sdk.EnforcementLevel.ADVISORY)
        stack = proto.AnalyzerStackConfigureRequest(stack="prod", project="payments", organization="acme",
                                                    dry_run=True, tags={"team": "payments"})
        request = proto.ConfigureAnalyzerRequest()
        for name, value in config.items():
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            request.policyConfig[name].CopyFrom(proto.PolicyConfig(
                enforcementLevel=LEVEL[value["enforcementLevel"]], properties=to_struct(props)))
        for servicer in (self.composed, self.default, self.sdk):
            servicer.ConfigureStack(stack, None)
            servicer.Configure(request, None)

    def call(self, method: str, request: Any) -> Any:
        """The composed answer, after asserting it is ours followed by pulumi-policy's."""
        composed = getattr(self.composed, method)(request, None)
        ours = getattr(self.default, method)(request, None)
        if method == "Remediate" and ours.remediations:  # the team's see the properties ours left
            request = copy_with_properties(request, ours.remediations[-1].properties)
        expected = type(composed)()
        expected.MergeFrom(ours)
        expected.MergeFrom(getattr(self.sdk, method)(request, None))
        assert composed == expected
        return composed


def copy_with_properties(request: Any, properties: Any) -> Any:
    result = type(request)()
    result.CopyFrom(request)
    result.properties.CopyFrom(properties)
    return result


def role(name: str, **props: Any) -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(type=ROLE, name=name, urn=urn(ROLE, name, "prod"), properties=to_struct(
        {"assumeRolePolicy": "{}", **props}))


CONFIG = {"team-iam-role-description": {"enforcementLevel": "mandatory", "minimumLength": 12},
          "team-role-count": {"enforcementLevel": "advisory", "max": 1},
          "required-tags": {"enforcementLevel": "mandatory"}}


def test_team_policies_report_as_their_own_pulumi_policy_pack_would():
    trio = Trio(CONFIG)
    short = trio.call("Analyze", role("api", description="api role", tags={"team": "payments"}))
    team_diags = [d for d in short.diagnostics if d.policyName == "team-iam-role-description"]
    # configured mandatory (declared advisory); minimumLength from the config; the SDK's message form
    assert [(d.enforcementLevel, d.urn) for d in team_diags] == [(proto.MANDATORY, "")]
    assert team_diags[0].message == "Every IAM role says what it is for.\nsay in `description` what the role is for"
    assert any(d.policyName == "required-tags" for d in short.diagnostics)  # ours still there
    described = trio.call("Analyze", role("api", description="serves the payment API", tags={"team": "payments"}))
    assert not [d for d in described.diagnostics if d.policyName == "team-iam-role-description"]
    unknown = trio.call("Analyze", role("api", description=UNKNOWN))  # preview: the SDK's advisory notice
    assert [d.enforcementLevel for d in unknown.diagnostics if d.policyName == "team-iam-role-description"] == [
        proto.ADVISORY]


def test_team_policy_not_applicable_is_reported():
    trio = Trio(CONFIG)
    response = trio.call("Analyze", role("linked", path="/aws-service-role/ecs.amazonaws.com/"))
    assert ("team-iam-role-description", "AWS describes its service-linked roles") in [
        (n.policy_name, n.reason) for n in response.not_applicable]
    assert not [d for d in response.diagnostics if d.policyName == "team-iam-role-description"]


def test_team_stack_policy_with_its_config():
    trio = Trio(CONFIG)
    request = proto.AnalyzeStackRequest(resources=[
        proto.AnalyzerResource(type=ROLE, name=n, urn=urn(ROLE, n, "prod"), properties=to_struct({"path": "/"}))
        for n in ("a", "b")])
    response = trio.call("AnalyzeStack", request)
    assert [(d.policyName, d.enforcementLevel, d.urn) for d in response.diagnostics
            if d.policyName == "team-role-count"] == [("team-role-count", proto.ADVISORY, urn(ROLE, "b", "prod"))]
    empty = trio.call("AnalyzeStack", proto.AnalyzeStackRequest())
    assert "team-role-count" in [n.policy_name for n in empty.not_applicable]


def test_team_remediation_runs_after_ours_and_sees_it():
    trio = Trio({**CONFIG, "team-iam-role-description": {"enforcementLevel": "remediate",
                                                         "defaultDescription": "ECS task role"},
                 "required-tags": {"enforcementLevel": "remediate", "defaultTagValues": {"team": "payments"}}})
    response = trio.call("Remediate", role("api", tags={"environment": "prod"}))
    assert [r.policyName for r in response.remediations] == ["required-tags", "team-iam-role-description"]
    final = json_format.MessageToDict(response.remediations[-1].properties)
    assert final["description"] == "ECS task role" and final["tags"]["team"] == "payments"
    # at `remediate`, a violation that remains is reported mandatory (pulumi-policy's downgrade)
    analyzed = trio.call("Analyze", role("api", description="x"))
    assert [d.enforcementLevel for d in analyzed.diagnostics if d.policyName == "team-iam-role-description"] == [
        proto.MANDATORY]


def test_disabled_team_policy_is_silent():
    trio = Trio({**CONFIG, "team-iam-role-description": {"enforcementLevel": "disabled"}})
    response = trio.call("Analyze", role("api"))
    assert "team-iam-role-description" not in [d.policyName for d in response.diagnostics]


def test_team_policy_metadata_and_schema_are_announced():
    composed = build_pack(extra_policies=TEAM).servicer().GetAnalyzerInfo(None, None)
    default = build_pack().servicer().GetAnalyzerInfo(None, None)
    reference = _PolicyAnalyzerServicer(name=PACK_NAME, version="0.0.1", policies=list(TEAM),
                                        enforcement_level=sdk.EnforcementLevel.ADVISORY).GetAnalyzerInfo(None, None)
    assert list(composed.policies) == list(default.policies) + list(reference.policies)
    schema = json_format.MessageToDict(composed.policies[-2].configSchema)
    assert schema["properties"]["minimumLength"] == {"type": "number", "default": 10}


@pytest.mark.parametrize("policy", [
    sdk.ResourceValidationPolicy(name="required-tags", description="ours", validate=lambda a, r: None),
    sdk.StackValidationPolicy(name="no-cross-environment-references", description="ours",
                              validate=lambda a, r: None),
])
def test_a_team_policy_cannot_take_one_of_our_names(policy):
    with pytest.raises(ValueError, match=policy.name):
        build_pack(extra_policies=[policy])
    with pytest.raises(ValueError, match=policy.name):  # even when that policy of ours is not selected
        build_pack(names=["log-group-retention"], extra_policies=[policy])


def test_extra_policies_are_pulumi_policy_policies_with_distinct_names():
    with pytest.raises(ValueError, match="team-iam-role-description"):
        build_pack(extra_policies=[team.iam_role_description, team.iam_role_description])
    with pytest.raises(TypeError):
        build_pack(extra_policies=[lambda args, report: None])


# --- the composed pack directory through the offline check, on the sample stacks ----------------

SAMPLES = ("payment-service", "payment-service-legacy")
TEAM_NAME = "team-iam-role-description"


def _policy_config(tmp: str) -> Mapping[str, str]:
    """A preset, an exemption and `remediate` on required-tags; the composed pack also configures
    the team's policy above its declared advisory level."""
    with open(os.path.join(ROOT, "policypack", "presets", "production.json"), encoding="utf-8") as handle:
        ours = json.load(handle)
    ours["required-tags"] = {"enforcementLevel": "remediate",
                             "defaultTagValues": {"application": "payments", "compliance": "pci-dss"}}
    ours["log-group-kms-encryption"] = {"enforcementLevel": "mandatory", "exemptions": [
        {"resource": "*-logs-*", "reason": "re-encrypted in PAY-1234", "expires": "2099-12-31"}]}
    composed = {**ours, TEAM_NAME: {"enforcementLevel": "mandatory", "minimumLength": 12}}
    paths = {}
    for name, config in (("default", ours), ("composed", composed)):
        paths[name] = os.path.join(tmp, f"{name}.json")
        with open(paths[name], "w", encoding="utf-8") as handle:
            json.dump(config, handle)
    return paths


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """sample -> pack -> (exit status, JSON report): each program checked once with each pack."""
    configs = _policy_config(str(tmp_path_factory.mktemp("policy-config")))
    env = dict(os.environ, PYTHONPATH=ROOT)  # the team's pack imports payments-guard, as if installed
    result: Dict[str, Dict[str, Any]] = {}
    for sample in SAMPLES:
        for pack, pack_dir in (("default", ROOT), ("composed", COMPOSED)):
            run = subprocess.run([sys.executable, "-m", "policypack", "check", os.path.join(ROOT, "examples", sample),
                                  "--pack", pack_dir, "--policy-config", configs[pack], "--format", "json", "--quiet"],
                                 cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
            assert run.returncode in (0, 1), run.stderr
            result.setdefault(sample, {})[pack] = (run.returncode, json.loads(run.stdout))
    return result


def _without_team(report: Mapping[str, Any]) -> Dict[str, Any]:
    """The report less the team's policy, its lists in a canonical order (the program registers
    resources concurrently, so two runs of one program may list them in different orders)."""
    kept = {k: v for k, v in report.items() if k not in ("summary", "durationSeconds")}
    for key in ("violations", "notApplicable", "remediations", "programFindings", "warnings"):
        kept[key] = sorted((item for item in report[key]
                            if not (isinstance(item, dict) and item.get("policyName") == TEAM_NAME)),
                           key=lambda item: json.dumps(item, sort_keys=True))
    kept["policies"] = [item for item in report["policies"] if item["name"] != TEAM_NAME]
    return kept


@pytest.mark.parametrize("sample", SAMPLES)
def test_our_findings_are_the_default_packs(reports, sample):
    (_, default), (_, composed) = reports[sample]["default"], reports[sample]["composed"]
    assert _without_team(composed) == _without_team(default)
    assert TEAM_NAME not in json.dumps(default)


def test_the_scenario_exercises_remediation_and_exemptions(reports):
    _, legacy = reports["payment-service-legacy"]["default"]
    assert {r["policyName"] for r in legacy["remediations"]} == {"required-tags"}
    exempted = [v for v in legacy["violations"] if v["policyName"] == "log-group-kms-encryption"]
    assert exempted and all(v["enforcementLevel"] == "advisory" for v in exempted)


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_team_policy_is_reported_at_its_configured_level(reports, sample):
    (default_exit, default), (composed_exit, composed) = reports[sample]["default"], reports[sample]["composed"]
    theirs = [v for v in composed["violations"] if v["policyName"] == TEAM_NAME]
    assert theirs and {(v["resourceType"], v["enforcementLevel"]) for v in theirs} == {(ROLE, "mandatory")}
    assert composed["summary"]["mandatory"] == default["summary"]["mandatory"] + len(theirs)
    assert composed["summary"]["policies"] == default["summary"]["policies"] + 1
    assert [p["enforcementLevel"] for p in composed["policies"] if p["name"] == TEAM_NAME] == ["mandatory"]
    assert composed_exit == 1  # a mandatory team violation fails the check like one of ours


def test_pulumi_policy_range_is_the_version_the_tests_run_against():
    """A team's policies run in pulumi-policy's own servicer, a private class: the pack allows only
    the minor series the suite runs against (README, "A team's own policies beside ours")."""
    installed = Version(metadata.version("pulumi-policy"))
    tested = SpecifierSet(f">={installed.major}.{installed.minor},<{installed.major}.{installed.minor + 1}")
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as handle:
        lines = [Requirement(line.split("#")[0].strip()) for line in handle if line.split("#")[0].strip()]
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as handle:
        declared = re.search(r'"(pulumi-policy[^"]*)"', handle.read()).group(1)
    for requirement in [r for r in lines if r.name == "pulumi-policy"] + [Requirement(declared)]:
        assert requirement.specifier == tested, requirement


def test_the_wire_constants_are_the_sdks():
    """props holds the package's one copy of the engine's wire constants (literals, for a cheap
    start-up); they must be the SDK's own."""
    from pulumi.runtime import rpc
    from pulumi_policy import proxy
    from policypack import props as P
    assert P.UNKNOWN_BY_KIND == {kind: getattr(proxy, f"UNKNOWN_{kind.upper()}_VALUE") for kind in P.UNKNOWN_BY_KIND}
    assert P.UNKNOWN_SENTINELS == {v for k, v in vars(proxy).items() if k.startswith("UNKNOWN_") and k.endswith("_VALUE")}
    assert (P.SIG_KEY, P.SECRET_SIG, P.ASSET_SIG, P.ARCHIVE_SIG, P.RESOURCE_REF_SIG) == (
        rpc._special_sig_key, rpc._special_secret_sig, rpc._special_asset_sig, rpc._special_archive_sig,
        rpc._special_resource_sig)


def test_policy_config_takes_exactly_the_levels_a_rule_may_declare():
    """The offline check's policy config and the rules share one list of enforcement levels: each is
    accepted alone and as an object's enforcementLevel, anything else is rejected naming them."""
    from policypack.offline.policy_config import PolicyConfigError, build
    from policypack.rule import LEVELS
    info = build_pack().servicer().GetAnalyzerInfo(None, None)
    policy = info.policies[0].name
    for level in LEVELS:
        assert build(info, {policy: level})[policy]["enforcementLevel"] == level
        assert build(info, {"all": {"enforcementLevel": level}})[policy]["enforcementLevel"] == level
    for entry in ("warn", {"enforcementLevel": "error"}):
        with pytest.raises(PolicyConfigError) as raised:
            build(info, {policy: entry})
        assert all(level in str(raised.value) for level in LEVELS)
