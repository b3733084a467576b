"""required-tags: validation, provider default tags, unknowns, secrets, remediation, the shipped type list."""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from google.protobuf import json_format
from hypothesis import given, settings, strategies as st

from harness import Harness, UNKNOWN, assert_violation, policies_of, secret
from offline_helpers import script
from policypack import props as P
from policypack.rules import tagging

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = "aws:ecs/cluster:Cluster"
SVC = "aws:ecs/service:Service"
ASG = "aws:autoscaling/group:Group"
FULL = {"environment": "dev", "team": "payments", "cost-center": "cc-1234", "application": "payment-processor",
        "compliance": "pci-dss", "backup": "daily"}
RULE = "required-tags"
DEFAULTS_WITHOUT_TEAM = {k: v for k, v in FULL.items() if k != "team"}


def without(*keys, base=FULL):
    return {k: v for k, v in base.items() if k not in keys}


@pytest.fixture(scope="module")
def h():
    return Harness([RULE])


def remediating(values=None, **config):
    return Harness([RULE], config={RULE: {"enforcementLevel": "remediate", "defaultTagValues": values or {}, **config}})


def remediated_tags(response):
    assert [r.policyName for r in response.remediations] == [RULE]
    return json_format.MessageToDict(response.remediations[0].properties)["tags"]


# --- validation --------------------------------------------------------------------------
def test_compliant(h):
    assert h.analyze(CLUSTER, {"name": "c", "tags": dict(FULL)}) == []


def test_missing_tags_listed_in_one_violation(h):
    diags = h.analyze(CLUSTER, {"tags": without("compliance", "backup")}, name="payments-cluster")
    assert_violation(diags, RULE, name="payments-cluster", path="tags", level="mandatory", only=True)


def test_no_tags_at_all(h):
    assert_violation(h.analyze(SVC, {}), RULE, path="tags", level="mandatory", only=True)


def _findings_text(message):
    """The part of the message that lists the findings (not the description, not the fix)."""
    return message.split("\n", 1)[1].split("To fix")[0]


@pytest.mark.parametrize("props, provider, config, named, unnamed", [
    ({"tags": without("compliance", "backup")}, None, {}, ["compliance, backup", "default_tags"], ["team"]),
    ({}, None, {}, ["environment, team, cost-center, application, compliance, backup"], []),
    ({"tags": {**FULL, "team": ""}}, None, {}, ["empty values for: team"], []),
    ({"tags": {"team": ""}}, {"defaultTags": {"tags": FULL}}, {}, ["empty values for: team"], []),
    ({}, {"defaultTags": {"tags": DEFAULTS_WITHOUT_TEAM}}, {}, ["missing required tags: team."], []),
    ({"tags": dict(FULL)}, None, {"requiredTags": ["owner"]}, ["missing required tags: owner."], []),
    ({"tags": {**without("environment"), "Environment": "dev"}}, None, {"caseSensitive": True},
     ["missing required tags: environment", "'Environment'"], []),
    ({"tags": secret({**without("environment"), "Environment": "dev"})}, None, {"caseSensitive": True},
     ["missing required tags: environment"], ["'Environment'"]),
    ({"tags": {**without("backup", "compliance"), "team": UNKNOWN}}, None, {}, ["compliance, backup"], ["team"]),
    ({"tags": "environment=dev"}, None, {}, ["not a map"], []),
])
def test_message_names_the_tags_to_fix(props, provider, config, named, unnamed):
    """The wording test of required-tags: one finding per resource (path `tags`), so the message is
    where the missing or empty tags are named, and only those."""
    h = Harness([RULE], config={RULE: config} if config else None)
    message = h.analyze(CLUSTER, props, provider=provider)[0].message
    for text in named:
        assert text in message.split("\n", 1)[1]  # (the description lists every required tag)
    for text in unnamed:
        assert text not in _findings_text(message)


@pytest.mark.parametrize("value", ["", "   ", None, {"a": "b"}, ["x"]])
def test_empty_or_malformed_values_are_reported(h, value):
    diags = h.analyze(CLUSTER, {"tags": {**FULL, "team": value}})
    assert_violation(diags, RULE, path="tags", level="mandatory", only=True)


@pytest.mark.parametrize("value", [5.0, True, "x"])
def test_scalar_values_count(h, value):
    assert h.analyze(CLUSTER, {"tags": {**FULL, "team": value}}) == []


@pytest.mark.parametrize("tags", ["environment=dev", 5.0, True, ["environment", "team"], [FULL]])
def test_tags_not_a_map(h, tags):
    assert_violation(h.analyze(CLUSTER, {"tags": tags}), RULE, path="tags", level="mandatory", only=True)


def test_case_insensitive_by_default(h):
    tags = {"Environment": "dev", "TEAM": "payments", "Cost-Center": "1", "Application": "a", "Compliance": "pci",
            "Backup": "daily"}
    assert h.analyze(CLUSTER, {"tags": tags}) == []


def test_case_sensitive_mode_with_hint():
    h = Harness([RULE], config={RULE: {"caseSensitive": True}})
    diags = h.analyze(CLUSTER, {"tags": {**without("environment"), "Environment": "dev"}})
    assert_violation(diags, RULE, path="tags", only=True)
    diags = h.analyze(CLUSTER, {"tags": secret({**without("environment"), "Environment": "dev"})})
    assert_violation(diags, RULE, path="tags", only=True)
    assert h.analyze(CLUSTER, {"tags": dict(FULL)}) == []


def test_required_tags_configurable():
    h = Harness([RULE], config={RULE: {"requiredTags": ["owner", 5, "", "owner"]}})
    assert h.analyze(CLUSTER, {"tags": {"owner": "me"}}) == []
    assert_violation(h.analyze(CLUSTER, {"tags": dict(FULL)}), RULE, path="tags", only=True)
    h.configure({RULE: {"requiredTags": []}})
    assert h.analyze(CLUSTER, {}) == []
    h.configure({RULE: {"requiredTags": "environment"}})  # malformed: reads as none
    assert h.analyze(CLUSTER, {}) == []


def test_exclude_types():
    h = Harness([RULE], config={RULE: {"excludeTypes": ["aws:ecs/*", 7]}})
    assert h.analyze(CLUSTER, {}) == []
    assert policies_of(h.analyze("aws:kms/key:Key", {})) == [RULE]


@pytest.mark.parametrize("type_", [
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",          # pulumi-aws type without tags
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:devopsguru/resourceCollection:ResourceCollection",  # `tags` is a filter, not its own tags
    "pulumi:providers:aws", "random:index/randomPassword:RandomPassword", "aws-native:ecs:Cluster",
    "awsx:ecs:FargateService", "pulumi:pulumi:Stack",
])
def test_non_taggable_types_ignored(h, type_):
    assert h.analyze(type_, {"tags": {"a": "b"}}) == []
    assert h.analyze(type_, {}) == []


def test_unlisted_aws_type_with_a_tags_map_is_checked(h):
    # a type newer than the shipped list: checked only when it visibly carries a tags map
    assert policies_of(h.analyze("aws:future/thing:Thing", {"tags": {"team": "x"}})) == [RULE]
    assert h.analyze("aws:future/thing:Thing", {}) == []
    assert h.analyze("aws:future/thing:Thing", {"tags": dict(FULL)}) == []


@pytest.mark.parametrize("type_", ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer",
                                   "aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup",
                                   "aws:ecs/taskDefinition:TaskDefinition", "aws:ecr/repository:Repository",
                                   "aws:cloudwatch/logGroup:LogGroup", "aws:kms/key:Key",
                                   "aws:secretsmanager/secret:Secret", "aws:ec2/vpc:Vpc"])
def test_core_types_are_taggable(h, type_):
    assert policies_of(h.analyze(type_, {})) == [RULE]


# --- provider default tags ------------------------------------------------------------------
DEFAULTS = DEFAULTS_WITHOUT_TEAM


@pytest.mark.parametrize("default_tags", [
    {"tags": DEFAULTS},                                  # object
    json.dumps({"tags": DEFAULTS}),                      # JSON string (Python SDK, aws:defaultTags config)
    [{"tags": DEFAULTS}],                                # max-1 list
    json.dumps([{"tags": DEFAULTS}]),                    # JSON string of the list
    secret(json.dumps({"tags": DEFAULTS})),              # secret provider input
    {"tags": json.dumps(DEFAULTS)},                      # inner map JSON-encoded
])
def test_provider_default_tags_count(h, default_tags):
    provider = {"region": "us-east-1", "defaultTags": default_tags}
    assert h.analyze(CLUSTER, {"tags": {"team": "payments"}}, provider=provider) == []
    assert_violation(h.analyze(CLUSTER, {}, provider=provider), RULE, path="tags", only=True)
    # the provider's tags count: only `team` is missing, so it alone fixes the resource
    assert h.analyze(CLUSTER, {"tags": {"team": "payments"}}, provider=provider) == []


def test_resource_tag_overrides_default_with_empty_value(h):
    provider = {"defaultTags": {"tags": FULL}}
    assert_violation(h.analyze(CLUSTER, {"tags": {"team": ""}}, provider=provider), RULE, path="tags", only=True)
    # a different-case key is another tag: the default still supplies the value (case-insensitive mode)
    assert h.analyze(CLUSTER, {"tags": {"Team": ""}}, provider=provider) == []


@pytest.mark.parametrize("default_tags", [UNKNOWN, {"tags": UNKNOWN}, [UNKNOWN], json.dumps([{"tags": UNKNOWN}])])
def test_unknown_default_tags_are_silent(h, default_tags):
    assert h.analyze(CLUSTER, {}, provider={"defaultTags": default_tags}) == []


def test_unknown_default_tag_value_counts_as_set(h):
    provider = {"defaultTags": {"tags": {**DEFAULTS, "team": UNKNOWN}}}
    assert h.analyze(CLUSTER, {}, provider=provider) == []


@pytest.mark.parametrize("default_tags", ["{not json", "42", "null", 5.0, True, [], [1, 2], {"tags": 5.0},
                                          {"tags": ["a"]}, {"notTags": FULL}, {"tags": {"5": None}}])
def test_malformed_default_tags_are_ignored(h, default_tags):
    diags = h.analyze(CLUSTER, {}, provider={"defaultTags": default_tags})
    assert policies_of(diags) == [RULE]
    assert h.analyze(CLUSTER, {"tags": dict(FULL)}, provider={"defaultTags": default_tags}) == []


# --- unknowns and secrets --------------------------------------------------------------------
def test_unknown_tags_are_silent(h):
    assert h.analyze(CLUSTER, {"tags": UNKNOWN}) == []
    assert h.not_applicable(CLUSTER, {"tags": UNKNOWN}) == []


def test_partly_unknown_tags_report_only_known_missing(h):
    diags = h.analyze(CLUSTER, {"tags": {**without("backup", "compliance"), "team": UNKNOWN}})
    assert_violation(diags, RULE, path="tags", only=True)
    # with the two known-missing tags set, the unknown one is not reported
    assert h.analyze(CLUSTER, {"tags": {**FULL, "team": UNKNOWN}}) == []


def test_secret_tag_values_are_read_never_echoed(h):
    tags = {**{k: secret(v) for k, v in without("backup").items()}, "token": secret("s3cr3t-value")}
    diags = h.analyze(CLUSTER, {"tags": tags})
    assert_violation(diags, RULE, path="tags", only=True)
    assert h.analyze(CLUSTER, {"tags": {**tags, "backup": secret("daily")}}) == []  # secret values are read
    assert "s3cr3t" not in diags[0].message and "payments" not in diags[0].message.split("\n", 1)[1]
    assert h.analyze(CLUSTER, {"tags": secret(dict(FULL))}) == []


# --- auto scaling groups (list-shaped tags; provider default tags do not apply) ---------------
def asg_tags(tags):
    return [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in tags.items()]


def test_asg_list_tags(h):
    assert h.analyze(ASG, {"tags": asg_tags(FULL)}) == []
    diags = h.analyze(ASG, {"tags": asg_tags(without("team"))}, provider={"defaultTags": {"tags": FULL}})
    assert_violation(diags, RULE, path="tags", only=True)


@pytest.mark.parametrize("tags, fires", [
    (UNKNOWN, False), ([UNKNOWN], False), ([{"key": UNKNOWN, "value": "x"}], False),
    (None, True), ([], True), ("x", True), ([5.0, {"value": "no key"}], True),
])
def test_asg_unknown_and_malformed(h, tags, fires):
    props = {} if tags is None else {"tags": tags}
    assert policies_of(h.analyze(ASG, props)) == ([RULE] if fires else [])


# --- remediation -----------------------------------------------------------------------------
def test_remediate_adds_configured_tags_and_preserves_unknown_and_secret():
    h = remediating({"team": "payments", "compliance": "pci-dss", "backup": "daily"})
    props = {"name": "c", "tags": {**without("team", "compliance", "backup", "application"),
                                  "token": secret("s3cr3t"), "build": UNKNOWN}}
    tags = remediated_tags(h.remediate(CLUSTER, props))
    assert tags["team"] == "payments" and tags["compliance"] == "pci-dss" and tags["backup"] == "daily"
    assert tags["token"] == secret("s3cr3t")           # still a secret on the wire
    assert tags["build"] == UNKNOWN                     # still unknown
    assert tags["environment"] == "dev" and "application" not in tags
    # `application` had no configured value: still reported, now at mandatory (remediate runs as mandatory)
    diags = h.analyze(CLUSTER, {**props, "tags": {**props["tags"], **{k: tags[k] for k in ("team", "compliance", "backup")}}})
    assert_violation(diags, RULE, path="tags", level="mandatory", only=True)


def test_remediate_then_analyze_is_clean():
    h = remediating(dict(FULL))
    tags = remediated_tags(h.remediate(CLUSTER, {}))
    assert tags == FULL
    assert h.analyze(CLUSTER, {"tags": tags}) == []


def test_remediate_replaces_empty_values_keeping_the_key():
    h = remediating({"team": "payments"})
    tags = remediated_tags(h.remediate(CLUSTER, {"tags": {**FULL, "team": " "}}))
    assert tags == {**FULL, "team": "payments"}
    tags = remediated_tags(h.remediate(CLUSTER, {"tags": {**without("team"), "Team": ""}}))
    assert tags == {**without("team"), "Team": "payments"}


def test_remediate_whole_secret_tags_stay_secret():
    h = remediating({"team": "payments"})
    tags = remediated_tags(h.remediate(CLUSTER, {"tags": secret(without("team"))}))
    assert tags[P.SIG_KEY] == P.SECRET_SIG and tags["value"] == FULL


def test_remediate_counts_provider_default_tags():
    h = remediating(dict(FULL))
    response = h.remediate(CLUSTER, {"tags": {"team": "x"}}, provider={"defaultTags": json.dumps({"tags": DEFAULTS})})
    assert list(response.remediations) == []


@pytest.mark.parametrize("props, provider", [
    ({"tags": UNKNOWN}, None),
    ({}, {"defaultTags": UNKNOWN}),
    ({"tags": "not-a-map"}, None),
    ({"tags": dict(FULL)}, None),
])
def test_remediate_does_nothing_when_undecidable_or_compliant(props, provider):
    h = remediating(dict(FULL))
    response = h.remediate(CLUSTER, props, provider=provider)
    assert list(response.remediations) == [] and list(response.not_applicable) == []


@pytest.mark.parametrize("values", [{}, {"team": ""}, {"team": 5}, "not-an-object", {"other": "x"}])
def test_remediate_without_configured_values_changes_nothing(values):
    h = Harness([RULE], config={RULE: {"enforcementLevel": "remediate", "defaultTagValues": values}})
    assert list(h.remediate(CLUSTER, {"tags": without("team")}).remediations) == []
    diags = h.analyze(CLUSTER, {"tags": without("team")})
    assert policies_of(diags) == [RULE] and diags[0].level == "mandatory"


def test_remediate_case_insensitive_value_lookup():
    h = remediating({"Team": "payments"})
    assert remediated_tags(h.remediate(CLUSTER, {"tags": without("team")}))["team"] == "payments"


def test_no_remediation_below_remediate_level(h):
    assert list(h.remediate(CLUSTER, {}).remediations) == []


def test_remediate_asg_appends_blocks_and_preserves_secrets():
    h = remediating({"team": "payments", "backup": "daily"})
    blocks = asg_tags(without("team", "backup")) + [{"key": "token", "value": secret("s3cr3t"), "propagateAtLaunch": False}]
    blocks[0]["value"] = ""  # environment empty, no configured value: left as is
    tags = remediated_tags(h.remediate(ASG, {"tags": blocks}))
    assert {"key": "team", "value": "payments", "propagateAtLaunch": True} in tags
    assert {"key": "backup", "value": "daily", "propagateAtLaunch": True} in tags
    assert {"key": "token", "value": secret("s3cr3t"), "propagateAtLaunch": False} in tags
    assert len(tags) == len(blocks) + 2


def test_remediate_asg_replaces_empty_value_in_place():
    h = remediating({"team": "payments"})
    tags = remediated_tags(h.remediate(ASG, {"tags": asg_tags({**FULL, "team": ""})}))
    assert tags == asg_tags(FULL)


# --- malformed input never raises ------------------------------------------------------------
values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True)
                      | st.text(max_size=6) | st.sampled_from([UNKNOWN, "team", "{\"tags\": {}}", "[{\"tags\": 1}]"]),
                      lambda children: st.lists(children, max_size=3)
                      | st.dictionaries(st.sampled_from(["tags", "team", "key", "value", "environment", "x"]),
                                        children, max_size=4),
                      max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(tags=values, default_tags=values)
def test_fuzz_never_raises(tags, default_tags):
    h = Harness([RULE], config={RULE: {"enforcementLevel": "remediate", "defaultTagValues": dict(FULL)}})
    for type_ in (CLUSTER, ASG):
        props = {} if tags is None else {"tags": tags}
        provider = None if default_tags is None else {"defaultTags": default_tags}
        h.analyze(type_, props, provider=provider)
        h.remediate(type_, props, provider=provider)


# --- the shipped list of taggable types ------------------------------------------------------
def test_data_file_shape():
    data = json.loads((ROOT / "policypack" / "data" / "taggable_types.json").read_text())
    assert data["types"] == sorted(data["types"]) and len(data["types"]) > 500
    assert data["pulumiAws"] and data["listTagTypes"] == [ASG]
    assert "aws:ecr/lifecyclePolicy:LifecyclePolicy" in data["untaggedTypes"]
    assert not set(data["types"]) & set(data["untaggedTypes"])


def test_loaded_once_thread_safe(monkeypatch):
    monkeypatch.setattr(tagging, "_taggable", None)
    calls = []
    real = tagging._read_data

    def counting():
        calls.append(1)
        return real()
    monkeypatch.setattr(tagging, "_read_data", counting)
    results = []
    threads = [threading.Thread(target=lambda: results.append(tagging.taggable_types())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1 and results[0].loaded


def test_missing_data_file_degrades(monkeypatch, capsys):
    monkeypatch.setattr(tagging, "_taggable", None)

    def broken():
        raise OSError("gone")
    monkeypatch.setattr(tagging, "_read_data", broken)
    h = Harness([RULE])
    assert policies_of(h.analyze(CLUSTER, {"tags": {"team": "x"}})) == [RULE]  # visibly carries tags
    assert h.analyze(CLUSTER, {}) == []                                     # cannot tell: silent
    assert policies_of(h.analyze(ASG, {})) == [RULE]
    assert "could not read" in capsys.readouterr().err


def test_pack_start_up_does_not_import_pulumi_aws():
    code = ("import sys; from policypack.pack import build_pack; from harness import Harness; "
            "h = Harness(['required-tags']); h.analyze('aws:ecs/cluster:Cluster', {}); build_pack(); "
            "assert 'pulumi_aws' not in sys.modules, 'pulumi_aws imported'")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, timeout=60)


def test_data_file_matches_installed_pulumi_aws():
    """The shipped list is what scripts/generate_taggable_types.py gives for the installed pulumi-aws:
    same version, every registered type classified, each type's `_internal_init` signature re-read
    from the installed source (~2 s). PAYMENTS_GUARD_TAGGABLE_IMPORT=1 re-derives it the way the
    generator does, importing every class (~10 s, more on a loaded machine)."""
    pytest.importorskip("pulumi_aws")
    method = "import" if os.environ.get("PAYMENTS_GUARD_TAGGABLE_IMPORT") else "source"
    result = script("generate_taggable_types.py", "--check", "--method", method)
    assert result.returncode == 0, result.stdout + result.stderr


def test_source_reading_agrees_with_imported_signatures():
    """The fast source check and the generator's import-based classification agree (a few small modules)."""
    pytest.importorskip("pulumi_aws")
    code = ("import sys; sys.path.insert(0, 'scripts'); import generate_taggable_types as g; "
            "rows = [r for r in g.tokens_and_classes() if r[1] in "
            "('pulumi_aws.ecr', 'pulumi_aws.autoscaling', 'pulumi_aws.devopsguru', 'pulumi_aws.kms')]; "
            "a, b = g.generate(rows, 'import'), g.generate(rows, 'source'); "
            "assert a == b, (a, b); assert a['types'] and a['listTagTypes'] and a['notResourceTags'] "
            "and a['untaggedTypes']")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
