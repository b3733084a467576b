"""Extended container-platform hardening: task-*, fargate-platform-version, ecr-*."""
import json

import pytest
from hypothesis import given, settings, strategies as st

from harness import Harness, UNKNOWN, assert_violation, policies_of, resource, secret, urn

TD = "aws:ecs/taskDefinition:TaskDefinition"
SVC = "aws:ecs/service:Service"
REPO = "aws:ecr/repository:Repository"
LCP = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
TASK_RULES = ["task-non-privileged", "task-readonly-root-filesystem", "task-logging-configured",
              "task-non-root-user"]
ALL = TASK_RULES + ["fargate-platform-version", "ecr-scan-on-push", "ecr-immutable-tags", "ecr-lifecycle-policy"]

LOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1",
                                            "awslogs-stream-prefix": "app"}}


def good_container(**overrides):
    container = {"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3",
                 "essential": True, "readonlyRootFilesystem": True, "user": "1000:1000",
                 "logConfiguration": LOGS, "privileged": False}
    container.update(overrides)
    return {k: v for k, v in container.items() if v is not None}


def td(*containers, **props):
    return {"family": "app", "containerDefinitions": json.dumps(list(containers)), **props}


@pytest.fixture(scope="module")
def h():
    return Harness(ALL)


# --- task definitions --------------------------------------------------------------------
def test_compliant_task_definition(h):
    assert h.analyze(TD, td(good_container(), good_container(name="sidecar"))) == []


def test_compliant_task_definition_as_structured_list(h):
    # the offline check may hand a structured list rather than a JSON string
    assert h.analyze(TD, {"containerDefinitions": [good_container()]}) == []


def test_privileged(h):
    diags = h.analyze(TD, td(good_container(), good_container(name="agent", privileged=True)), name="payments")
    # the second container (agent) is the privileged one
    assert_violation(diags, "task-non-privileged", name="payments", path="containerDefinitions[1].privileged",
                     level="mandatory", only=True)


def test_privileged_message_names_the_container_and_the_fix(h):
    """The wording test of task-non-privileged: which container, and where to remove the flag."""
    message = h.analyze(TD, td(good_container(), good_container(name="agent", privileged=True)), name="payments")[0].message
    assert "'agent'" in message and "payments" in message and "'app'" not in message
    assert "container_definitions" in message


@pytest.mark.parametrize("value", ["true", True])
def test_privileged_string_or_bool(h, value):
    assert policies_of(h.analyze(TD, td(good_container(privileged=value)))) == ["task-non-privileged"]


@pytest.mark.parametrize("value, fires", [(True, False), (False, True), (None, True), ("false", True),
                                          ("yes", True), (UNKNOWN, False)])
def test_readonly_root_filesystem(h, value, fires):
    container = good_container()
    if value is None:
        container.pop("readonlyRootFilesystem")
    else:
        container["readonlyRootFilesystem"] = value
    diags = h.analyze(TD, {"containerDefinitions": [container]})
    assert policies_of(diags) == (["task-readonly-root-filesystem"] if fires else [])
    if fires:
        assert diags[0].level == "advisory"


@pytest.mark.parametrize("log_configuration, fires", [
    (LOGS, False),
    ({"logDriver": "awsfirelens"}, False),
    ([LOGS], False),                       # a one-element list is the same block
    (UNKNOWN, False),
    ({"logDriver": UNKNOWN}, False),
    (None, True),
    ({}, True),
    ({"logDriver": ""}, True),
    ({"options": {"awslogs-group": "x"}}, True),
    ("awslogs", True),
    (5, True),
])
def test_logging_configured(h, log_configuration, fires):
    container = good_container()
    if log_configuration is None:
        container.pop("logConfiguration")
    else:
        container["logConfiguration"] = log_configuration
    diags = h.analyze(TD, {"containerDefinitions": [container]})
    assert policies_of(diags) == (["task-logging-configured"] if fires else [])


def test_logging_one_violation_per_container(h):
    diags = h.analyze(TD, td(good_container(logConfiguration=None), good_container(name="b", logConfiguration=None)))
    assert policies_of(diags) == ["task-logging-configured"] * 2
    assert {d.level for d in diags} == {"mandatory"}


@pytest.mark.parametrize("user, fires", [
    ("1000", False), ("1000:1000", False), ("app", False), ("app:app", False), ("nobody", False),
    (UNKNOWN, False), (1000.0, False),
    ("root", True), ("0", True), ("0:0", True), ("root:root", True), ("ROOT", True), (" 0 ", True),
    ("0:1000", True), ("00", True), (0.0, True), (None, True), ("", True), ("  ", True), (["x"], True),
    (True, True),
])
def test_non_root_user(h, user, fires):
    container = good_container()
    if user is None:
        container.pop("user")
    else:
        container["user"] = user
    diags = h.analyze(TD, {"containerDefinitions": [container]})
    assert policies_of(diags) == (["task-non-root-user"] if fires else [])
    if fires:
        assert diags[0].level == "advisory"


def test_non_root_user_skips_windows(h):
    props = td(good_container(user=None), runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"})
    assert h.analyze(TD, props) == []
    props["runtimePlatform"] = {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}
    assert policies_of(h.analyze(TD, props)) == ["task-non-root-user"]


def test_every_violation_at_once(h):
    bad = {"name": "bad", "image": "x", "privileged": True}
    assert policies_of(h.analyze(TD, td(bad))) == sorted(TASK_RULES)


@pytest.mark.parametrize("definitions", [UNKNOWN, "not json", "{\"name\": \"x\"}", "[1, 2]", "[\"a\"]",
                                         "[", "null", "42", [UNKNOWN], 7.0, {"a": 1}])
def test_unknown_or_invalid_definitions_are_not_applicable(h, definitions):
    """The rules cannot decide: they say so (not-applicable), never pass silently or report."""
    props = {"family": "app", "containerDefinitions": definitions}
    assert h.analyze(TD, props) == []
    assert sorted(h.not_applicable(TD, props)) == sorted(TASK_RULES)


def test_missing_definitions_are_silent(h):
    assert h.analyze(TD, {"family": "app"}) == [] and h.not_applicable(TD, {"family": "app"}) == []


def test_empty_container_list_is_silent(h):
    assert h.analyze(TD, td()) == []


def test_container_names_hidden_when_definitions_are_secret(h):
    props = {"containerDefinitions": secret(json.dumps([{"name": "s3cr3t-name", "image": "x", "privileged": True}]))}
    diags = h.analyze(TD, props)
    assert policies_of(diags) == sorted(TASK_RULES)
    assert all(d.path.startswith("containerDefinitions[0]") for d in diags)
    assert all("s3cr3t-name" not in d.message for d in diags)


def test_environment_values_never_echoed(h):
    container = good_container(privileged=True, environment=[{"name": "DB_PASSWORD", "value": "hunter2-secret"}])
    for d in h.analyze(TD, td(container)):
        assert "hunter2" not in d.message


def test_container_with_odd_names(h):
    diags = h.analyze(TD, td({"name": 5, "image": "x", "privileged": True, "readonlyRootFilesystem": True,
                              "user": "1", "logConfiguration": LOGS}))
    assert_violation(diags, "task-non-privileged", path="containerDefinitions[0].privileged", only=True)


def test_task_rules_ignore_other_types(h):
    assert h.analyze("aws:ecs/cluster:Cluster", {"containerDefinitions": json.dumps([{"privileged": True}])}) == []


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8)
                    | st.sampled_from([UNKNOWN, "root", "0:0", "awslogs"]),
                    lambda children: st.lists(children, max_size=3)
                    | st.dictionaries(st.sampled_from(["name", "privileged", "readonlyRootFilesystem", "user",
                                                       "logConfiguration", "logDriver", "x"]), children, max_size=4),
                    max_leaves=12))
def test_fuzz_container_definitions_never_raise(value):
    h = Harness(TASK_RULES)
    for props in ({"containerDefinitions": value}, {"containerDefinitions": [value]},
                  {"containerDefinitions": json.dumps(value, default=str) if value is not None else None,
                   "runtimePlatform": value}):
        h.analyze(TD, {k: v for k, v in props.items() if v is not None})


# --- fargate-platform-version --------------------------------------------------------------
@pytest.mark.parametrize("version, fires", [
    (None, False), ("LATEST", False), ("latest", False), ("", False), (UNKNOWN, False),
    ("1.4.0", False), ("1.4", False), ("1.5.0", False), ("2.0.0", False),
    ("1.3.0", True), ("1.0.0", True), ("1.1", True), ("bogus", True), (1.4, True),
])
def test_platform_version(h, version, fires):
    props = {"launchType": "FARGATE", "name": "svc"}
    if version is not None:
        props["platformVersion"] = version
    diags = h.analyze(SVC, props, name="api")
    assert policies_of(diags) == (["fargate-platform-version"] if fires else [])
    if fires:
        assert_violation(diags, "fargate-platform-version", name="api", path="platformVersion", level="advisory",
                         only=True)


@pytest.mark.parametrize("props, fires", [
    ({"launchType": "EC2"}, False),
    ({"launchType": "EXTERNAL"}, False),
    ({"capacityProviderStrategies": [{"capacityProvider": "my-asg-provider", "weight": 1.0}]}, False),
    ({"capacityProviderStrategies": [{"capacityProvider": "FARGATE_SPOT", "weight": 1.0}]}, True),
    ({"capacityProviderStrategies": [{"capacityProvider": UNKNOWN}]}, True),
    ({}, True),
    ({"launchType": UNKNOWN}, True),
])
def test_platform_version_only_for_fargate(h, props, fires):
    diags = h.analyze(SVC, {**props, "platformVersion": "1.3.0"})
    assert policies_of(diags) == (["fargate-platform-version"] if fires else [])


def test_platform_version_minimum_is_configurable():
    h = Harness(["fargate-platform-version"], config={"fargate-platform-version": {"minimumPlatformVersion": "1.3.0"}})
    assert h.analyze(SVC, {"launchType": "FARGATE", "platformVersion": "1.3.0"}) == []
    assert policies_of(h.analyze(SVC, {"launchType": "FARGATE", "platformVersion": "1.2.0"})) == [
        "fargate-platform-version"]


@pytest.mark.parametrize("minimum", ["garbage", 5, None, ""])
def test_platform_version_bad_minimum_falls_back(minimum):
    h = Harness(["fargate-platform-version"], config={"fargate-platform-version": {"minimumPlatformVersion": minimum}})
    assert policies_of(h.analyze(SVC, {"launchType": "FARGATE", "platformVersion": "1.3.0"})) == [
        "fargate-platform-version"]
    assert h.analyze(SVC, {"launchType": "FARGATE", "platformVersion": "1.4.0"}) == []


def test_platform_version_secret_not_echoed(h):
    diags = h.analyze(SVC, {"launchType": "FARGATE", "platformVersion": secret("1.2.9")})
    assert_violation(diags, "fargate-platform-version", path="platformVersion", only=True)
    assert "1.2.9" not in diags[0].message


# --- ecr-scan-on-push / ecr-immutable-tags -------------------------------------------------
GOOD_REPO = {"name": "app", "imageTagMutability": "IMMUTABLE",
             "imageScanningConfiguration": {"scanOnPush": True},
             "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:..."}]}


def test_compliant_repository(h):
    assert h.analyze(REPO, GOOD_REPO) == []
    assert h.analyze(REPO, {**GOOD_REPO, "imageScanningConfiguration": [{"scanOnPush": True}]}) == []
    assert h.analyze(REPO, {**GOOD_REPO, "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}) == []


@pytest.mark.parametrize("block, fires", [
    (None, True), ({}, True), ({"scanOnPush": False}, True), ({"scanOnPush": "false"}, True),
    ({"scanOnPush": "true"}, False), ([], True), ("yes", True), (5, True),
    (UNKNOWN, False), ({"scanOnPush": UNKNOWN}, False), (secret({"scanOnPush": True}), False),
])
def test_scan_on_push(h, block, fires):
    props = {k: v for k, v in GOOD_REPO.items() if k != "imageScanningConfiguration"}
    if block is not None:
        props["imageScanningConfiguration"] = block
    diags = h.analyze(REPO, props, name="payments")
    assert policies_of(diags) == (["ecr-scan-on-push"] if fires else [])
    if fires:
        assert_violation(diags, "ecr-scan-on-push", name="payments", path="imageScanningConfiguration.scanOnPush",
                         level="mandatory", only=True)


def test_scan_on_push_registry_level_scanning():
    h = Harness(["ecr-scan-on-push"], config={"ecr-scan-on-push": {"registryScanning": True}})
    assert h.analyze(REPO, {}) == []


@pytest.mark.parametrize("value, fires", [
    ("IMMUTABLE", False), ("immutable", False), ("IMMUTABLE_WITH_EXCLUSION", False), (UNKNOWN, False),
    (None, True), ("MUTABLE", True), ("MUTABLE_WITH_EXCLUSION", True), ("", True), (3, True), (["IMMUTABLE"], True),
])
def test_immutable_tags(h, value, fires):
    props = {k: v for k, v in GOOD_REPO.items() if k != "imageTagMutability"}
    if value is not None:
        props["imageTagMutability"] = value
    diags = h.analyze(REPO, props)
    assert policies_of(diags) == (["ecr-immutable-tags"] if fires else [])
    if fires:
        assert_violation(diags, "ecr-immutable-tags", path="imageTagMutability", level="advisory", only=True)


def test_immutable_tags_strict_config():
    h = Harness(["ecr-immutable-tags"], config={"ecr-immutable-tags": {"allowedTagMutability": ["IMMUTABLE"]}})
    assert policies_of(h.analyze(REPO, {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"})) == ["ecr-immutable-tags"]
    h.configure({"ecr-immutable-tags": {"allowedTagMutability": "not-a-list"}})  # malformed: defaults apply
    assert h.analyze(REPO, {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}) == []


def test_immutable_tags_secret_value_not_echoed(h):
    diags = h.analyze(REPO, {**GOOD_REPO, "imageTagMutability": secret("MUTABLE")})
    assert_violation(diags, "ecr-immutable-tags", path="imageTagMutability", only=True)
    assert "'MUTABLE'" not in diags[0].message


# --- ecr-lifecycle-policy ------------------------------------------------------------------
def repo(name, **props):
    return resource(REPO, name, {"name": name, "id": name, "arn": f"arn:aws:ecr:us-east-1:123456789012:repository/{name}",
                                 "repositoryUrl": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}", **props})


def lifecycle(name, repository, deps=None, **props):
    links = {"propertyDependencies": {"repository": deps}} if deps else {}
    return resource(LCP, name, {"repository": repository, "policy": "{\"rules\": []}", **props}, **links)


def test_lifecycle_policy_by_name(h):
    assert h.analyze_stack([repo("app"), lifecycle("app-lcp", "app")]) == []


def test_lifecycle_policy_by_property_dependency(h):
    r = repo("app")
    assert h.analyze_stack([r, lifecycle("app-lcp", UNKNOWN, deps=[r["urn"]])]) == []


def test_lifecycle_policy_missing(h):
    r1, r2 = repo("app"), repo("worker")
    diags = h.analyze_stack([r1, r2, lifecycle("app-lcp", "app")])
    # the repository as a whole lacks a policy: no property path
    assert_violation(diags, "ecr-lifecycle-policy", urn=r2["urn"], path="", level="advisory", only=True)


def test_lifecycle_policy_for_another_repository_does_not_count(h):
    diags = h.analyze_stack([repo("app"), lifecycle("lcp", "someone-elses-repo")])
    assert policies_of(diags) == ["ecr-lifecycle-policy"]


def test_lifecycle_policy_other_region_does_not_count(h):
    diags = h.analyze_stack([repo("app", region="us-east-1"), lifecycle("lcp", "app", region="eu-west-1")])
    assert policies_of(diags) == ["ecr-lifecycle-policy"]
    assert h.analyze_stack([repo("app", region="us-east-1"), lifecycle("lcp", "app", region="us-east-1")]) == []


def test_lifecycle_policy_unresolved_reference_is_silent(h):
    # preview: the policy's repository is unknown and carries no property dependency
    assert h.analyze_stack([repo("app"), repo("worker"), lifecycle("lcp", UNKNOWN)]) == []


def test_lifecycle_policy_literal_name_and_unknown_repository_name_is_silent(h):
    unnamed = resource(REPO, "computed", {"name": UNKNOWN})
    assert h.analyze_stack([unnamed, lifecycle("lcp", "computed-name")]) == []
    assert policies_of(h.analyze_stack([unnamed])) == ["ecr-lifecycle-policy"]


def test_lifecycle_policy_no_repositories(h):
    assert h.analyze_stack([lifecycle("lcp", "app")]) == []
    assert h.analyze_stack([]) == []


@pytest.mark.parametrize("props", [{"name": 5}, {"name": None}, {}, {"name": ["a"]}, {"name": {"x": UNKNOWN}}])
def test_lifecycle_policy_malformed_repository(h, props):
    r = resource(REPO, "odd", props)
    diags = h.analyze_stack([r, lifecycle("lcp", 7.0), lifecycle("lcp2", {"a": 1})])
    assert policies_of(diags) == ["ecr-lifecycle-policy"]


def test_lifecycle_policy_dependency_on_non_repository_is_ignored(h):
    r = repo("app")
    other = urn("aws:s3/bucket:Bucket", "b")
    diags = h.analyze_stack([r, lifecycle("lcp", "not-app", deps=[other])])
    assert policies_of(diags) == ["ecr-lifecycle-policy"]


def test_metadata():
    from policypack.rules.containers import RULES
    for rule in RULES:
        assert rule.name in ALL
        assert rule.concern in ("containers", "registry")
        assert rule.frameworks and rule.remediation and rule.compliant_example and rule.severity
    h = Harness(ALL)
    assert {r.name: r.level for r in h.pack.rules} == {
        "task-non-privileged": "mandatory", "task-readonly-root-filesystem": "advisory",
        "task-logging-configured": "mandatory", "task-non-root-user": "advisory",
        "fargate-platform-version": "advisory", "ecr-scan-on-push": "mandatory",
        "ecr-immutable-tags": "advisory", "ecr-lifecycle-policy": "advisory"}
