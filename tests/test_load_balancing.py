"""Load-balancing rules: ecs-service-behind-stack-alb, target-group-health-check,
listener-rule-no-health-header-routing, alb-https-only, alb-modern-tls-policy,
alb-drop-invalid-headers, alb-access-logs, alb-deletion-protection."""
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from harness import Harness, UNKNOWN, assert_no_violation, assert_violation, policies_of, resource, secret, urn
from policypack.rule import Context, Violation
from policypack.rules.load_balancing import (AlbDeletionProtection, MODERN_TLS_POLICIES,
                                             RULES)
from policypack import props as P

SVC = "aws:ecs/service:Service"
DG = "aws:codedeploy/deploymentGroup:DeploymentGroup"
ACCOUNT = "123456789012"
ELB = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}"
LB_ARN = f"{ELB}:loadbalancer/app/payments-alb/50dc6c495c0c9188"
LIS_ARN = f"{ELB}:listener/app/payments-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
LR_ARN = f"{ELB}:listener-rule/app/payments-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
TG_ARN = f"{ELB}:targetgroup/payments-api/73e2d6bc24d8a067"
GREEN_ARN = f"{ELB}:targetgroup/payments-green/83e2d6bc24d8a067"
EXT_LB_ARN = f"{ELB}:loadbalancer/app/legacy-alb/11dc6c495c0c9188"
EXT_LIS_ARN = f"{ELB}:listener/app/legacy-alb/11dc6c495c0c9188/12f7dc8efc522ab2"
EXT_LR_ARN = f"{ELB}:listener-rule/app/legacy-alb/11dc6c495c0c9188/12f7dc8efc522ab2/1683b2d02a6cabee"
EXT_TG_ARN = f"{ELB}:targetgroup/legacy/93e2d6bc24d8a067"
CERT_ARN = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/12345678-1234-1234-1234-123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ecs-infrastructure-lb"

TOKENS = {"lb": {"LB": "aws:lb/loadBalancer:LoadBalancer", "LIS": "aws:lb/listener:Listener",
                 "LR": "aws:lb/listenerRule:ListenerRule", "TG": "aws:lb/targetGroup:TargetGroup"},
          "alb": {"LB": "aws:alb/loadBalancer:LoadBalancer", "LIS": "aws:alb/listener:Listener",
                  "LR": "aws:alb/listenerRule:ListenerRule", "TG": "aws:alb/targetGroup:TargetGroup"}}
FLAVOURS = sorted(TOKENS)
LBT, LIS, LR, TG = (TOKENS["lb"][k] for k in ("LB", "LIS", "LR", "TG"))

BEHIND = "ecs-service-behind-stack-alb"
HEALTH = "target-group-health-check"
HEADER = "listener-rule-no-health-header-routing"
HTTPS_ONLY = "alb-https-only"
TLS_POLICY = "alb-modern-tls-policy"
DROP = "alb-drop-invalid-headers"
LOGS = "alb-access-logs"
DELETION = "alb-deletion-protection"
ALL = [BEHIND, HEALTH, HEADER, HTTPS_ONLY, TLS_POLICY, DROP, LOGS, DELETION]


@pytest.fixture(scope="module")
def h():
    return Harness(ALL)


@pytest.fixture(scope="module")
def behind():
    return Harness([BEHIND])


# --- metadata ---------------------------------------------------------------------------------

def test_every_catalogue_rule_is_defined_with_metadata():
    assert [r.name for r in RULES] == ALL
    kinds = {BEHIND: "stack"}
    levels = {HEADER: "advisory", LOGS: "advisory", DELETION: "advisory"}
    for rule in RULES:
        assert rule.kind == kinds.get(rule.name, "resource")
        assert rule.level == levels.get(rule.name, "mandatory")
        assert rule.concern == "load-balancing"
        assert rule.severity in ("low", "medium", "high", "critical")
        assert rule.seeds and set(rule.seeds) <= {2, 3}
        assert rule.frameworks and all(fw.controls for fw in rule.frameworks)
        assert rule.remediation and rule.compliant_example and rule.description
        for key, spec in rule.config_properties.items():
            assert "default" in spec and "type" in spec and key[0].islower()
        if rule.kind == "resource":
            assert set(rule.resource_types) >= {"aws:lb/" + t.split("/", 1)[1] for t in rule.resource_types}
            assert set(rule.resource_types) >= {"aws:alb/" + t.split("/", 1)[1] for t in rule.resource_types}


def test_anchors():
    controls = {r.name: {c for fw in r.frameworks for c in fw.controls} for r in RULES}
    assert {"ELB.1", "4.2.1"} <= controls[HTTPS_ONLY]
    assert {"ELB.17", "4.2.1"} <= controls[TLS_POLICY]
    assert "ELB.4" in controls[DROP] and "ELB.5" in controls[LOGS] and "ELB.6" in controls[DELETION]


def test_deletion_protection_schema_carries_environment_config():
    assert {"environments", "stackEnvironments", "mandatoryEnvironments"} <= set(AlbDeletionProtection.config_properties)


def test_tls_allow_list_has_no_legacy_policy():
    legacy = {"ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-2015-05", "ELBSecurityPolicy-TLS-1-1-2017-01",
              "ELBSecurityPolicy-FS-2018-06", "ELBSecurityPolicy-FS-1-1-2019-08", "ELBSecurityPolicy-TLS13-1-0-2021-06",
              "ELBSecurityPolicy-TLS13-1-1-2021-06", "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
              "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09"}
    assert not legacy & set(MODERN_TLS_POLICIES)
    assert len(set(MODERN_TLS_POLICIES)) == len(MODERN_TLS_POLICIES)
    assert all("-1-0-" not in p and "-1-1-" not in p for p in MODERN_TLS_POLICIES)


# --- ecs-service-behind-stack-alb: stack builders ---------------------------------------------

def stack(flavour="lb", preview=False, via="listener", svc_props=None, tg_ref=None):
    """A complete stack: LB, HTTPS listener, target group, (listener rule), ECS service.

    preview=True: ARNs are unknown and links are property dependencies, as in a first preview."""
    t = TOKENS[flavour]
    arn = (lambda value: UNKNOWN) if preview else (lambda value: value)
    lb = resource(t["LB"], "alb", {"arn": arn(LB_ARN), "loadBalancerType": "application"})
    tg = resource(t["TG"], "api", {"arn": arn(TG_ARN), "name": "payments-api", "targetType": "ip"})
    forward = [{"type": "forward", "targetGroupArn": arn(TG_ARN)}]
    fixed = [{"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "404"}}]
    lis = resource(t["LIS"], "https", {"arn": arn(LIS_ARN), "loadBalancerArn": arn(LB_ARN), "port": 443.0,
                                       "protocol": "HTTPS",
                                       "defaultActions": forward if via == "listener" else fixed},
                   propertyDependencies={"loadBalancerArn": [lb["urn"]],
                                         "defaultActions": [tg["urn"]] if via == "listener" else []})
    res = [lb, tg, lis]
    if via == "rule":
        res.append(resource(t["LR"], "api", {"arn": arn(LR_ARN), "listenerArn": arn(LIS_ARN), "priority": 10.0,
                                             "actions": forward},
                            propertyDependencies={"listenerArn": [lis["urn"]], "actions": [tg["urn"]]}))
    props = {"name": "payments-api", "loadBalancers": [
        {"targetGroupArn": arn(TG_ARN) if tg_ref is None else tg_ref, "containerName": "api",
         "containerPort": 8080.0}]}
    props.update(svc_props or {})
    res.append(resource(SVC, "api", props, propertyDependencies={"loadBalancers": [tg["urn"]]}))
    return res


def by_name(resources, type_prefix, name):
    return next(r for r in resources if r["name"] == name and r["type"].split(":")[1].startswith(type_prefix))


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("preview", [False, True])
@pytest.mark.parametrize("via", ["listener", "rule"])
def test_service_behind_stack_alb_compliant(behind, flavour, preview, via):
    assert behind.analyze_stack(stack(flavour, preview, via)) == []


@pytest.mark.parametrize("preview", [False, True])
def test_forward_block_target_groups(behind, preview):
    res = stack(preview=preview)
    lis = by_name(res, "lb/listener", "https")
    tg = UNKNOWN if preview else TG_ARN
    lis["props"]["defaultActions"] = [{"type": "forward", "targetGroupArn": "", "forward": {
        "targetGroups": [{"arn": tg, "weight": 100.0}], "stickiness": {"enabled": False, "duration": 1.0}}}]
    assert behind.analyze_stack(res) == []
    # max-1 blocks may arrive as one-element lists
    lis["props"]["defaultActions"][0]["forward"] = [lis["props"]["defaultActions"][0]["forward"]]
    assert behind.analyze_stack(res) == []


def test_no_services_no_findings(behind):
    assert behind.analyze_stack([r for r in stack() if r["type"] != SVC]) == []
    assert behind.analyze_stack([]) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("lbs", [None, [], "missing"])
def test_service_without_load_balancers(behind, flavour, lbs):
    res = stack(flavour)
    svc = res[-1]
    if lbs == "missing":
        del svc["props"]["loadBalancers"]
    else:
        svc["props"]["loadBalancers"] = lbs
    diags = behind.analyze_stack(res)
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers", level="mandatory", only=True)


@pytest.mark.parametrize("preview", [False, True])
def test_seed_listener_rule_on_listener_of_another_stack(behind, preview):
    """The seed: a listener rule attached to a StackReference's listener ARN (known even at preview),
    forwarding to this stack's target group; no load balancer in this stack."""
    res = [r for r in stack(preview=preview) if r["type"] not in (LBT, LIS)]
    tg = res[0]
    res.append(resource(LR, "api", {"listenerArn": EXT_LIS_ARN, "priority": 10.0,
                                    "actions": [{"type": "forward", "targetGroupArn": UNKNOWN if preview else TG_ARN}],
                                    "conditions": [{"httpHeader": {"httpHeaderName": "X-Health-Check",
                                                                   "values": ["true"]}}]},
                        propertyDependencies={"actions": [tg["urn"]]}))
    diags = behind.analyze_stack(res)
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].targetGroupArn", only=True)
    assert EXT_LIS_ARN not in diags[0].message


@pytest.mark.parametrize("preview", [False, True])
def test_listener_of_external_load_balancer(behind, preview):
    res = stack(preview=preview)
    lis = by_name(res, "lb/listener", "https")
    lis["props"]["loadBalancerArn"] = EXT_LB_ARN
    lis["propertyDependencies"] = {"defaultActions": lis["propertyDependencies"]["defaultActions"]}
    diags = behind.analyze_stack(res)
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].targetGroupArn", only=True)


def test_rule_on_listener_of_external_load_balancer(behind):
    res = stack(via="rule")
    lis = by_name(res, "lb/listener", "https")
    lis["props"]["loadBalancerArn"] = EXT_LB_ARN
    lis["propertyDependencies"] = {}
    assert policies_of(behind.analyze_stack(res)) == [BEHIND]


@pytest.mark.parametrize("ref", [EXT_TG_ARN, secret(EXT_TG_ARN)])
def test_target_group_of_another_stack(behind, ref):
    res = stack(tg_ref=ref)
    res[-1]["propertyDependencies"] = {}
    diags = behind.analyze_stack(res)
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].targetGroupArn", only=True)
    assert EXT_TG_ARN not in diags[0].message


def test_target_group_reference_to_wrong_resource(behind):
    diags = behind.analyze_stack(stack(tg_ref=LB_ARN))
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].targetGroupArn", only=True)


def test_target_group_not_forwarded_by_anything(behind):
    res = stack()
    lis = by_name(res, "lb/listener", "https")
    lis["props"]["defaultActions"] = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443",
                                                                       "statusCode": "HTTP_301"}}]
    diags = behind.analyze_stack(res)
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].targetGroupArn", only=True)


def test_forward_to_another_target_group_does_not_count(behind):
    res = stack()
    res.insert(0, resource(TG, "other", {"arn": GREEN_ARN, "name": "other"}))
    by_name(res, "lb/listener", "https")["props"]["defaultActions"] = [
        {"type": "forward", "targetGroupArn": GREEN_ARN}]
    assert policies_of(behind.analyze_stack(res)) == [BEHIND]


@pytest.mark.parametrize("entry, path", [
    ({"elbName": "legacy-clb", "containerName": "api", "containerPort": 8080.0}, "loadBalancers[0].elbName"),
    ({"containerName": "api", "containerPort": 8080.0}, "loadBalancers[0].targetGroupArn"),
    ({"targetGroupArn": "", "elbName": ""}, "loadBalancers[0].targetGroupArn"),
    ({"targetGroupArn": 5.0}, "loadBalancers[0].targetGroupArn"),
    ("garbage", "loadBalancers[0]"),
])
def test_malformed_or_classic_entries(behind, entry, path):
    res = stack()
    res[-1]["props"]["loadBalancers"] = [entry]
    assert_violation(behind.analyze_stack(res), BEHIND, urn=urn(SVC, "api"), path=path, only=True)


def test_every_registration_is_checked(behind):
    res = stack()
    res[-1]["props"]["loadBalancers"].append({"targetGroupArn": EXT_TG_ARN, "containerName": "api",
                                              "containerPort": 9090.0})
    diags = behind.analyze_stack(res)
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[1].targetGroupArn", only=True)


def test_only_the_offending_service_is_reported(behind):
    res = stack()
    res.append(resource(SVC, "reports", {"name": "payments-reports"}))
    diags = behind.analyze_stack(res)
    assert [d.urn for d in diags] == [urn(SVC, "reports")]


@pytest.mark.parametrize("name, props", [
    ("settlement-worker", {}),
    ("svc", {"name": "payments-Worker-eu"}),
    ("ledger-consumer", {}),
    ("svc", {"tags": {"serves-traffic": "false"}}),
    ("svc", {"tagsAll": {"serves-traffic": "FALSE", "team": "payments"}}),
])
def test_exempt_services(behind, name, props):
    assert behind.analyze_stack([resource(SVC, name, props)]) == []


def test_exemption_is_configurable():
    h = Harness([BEHIND], config={BEHIND: {"exemptServiceNamePatterns": ["batch-*"],
                                           "exemptServiceTags": {"kind": "job"}}})
    assert h.analyze_stack([resource(SVC, "batch-settle", {})]) == []
    assert h.analyze_stack([resource(SVC, "svc", {"tags": {"kind": "Job"}})]) == []
    assert policies_of(h.analyze_stack([resource(SVC, "settlement-worker", {})])) == [BEHIND]
    # malformed config reads as "no exemptions", never as an error
    h = Harness([BEHIND], config={BEHIND: {"exemptServiceNamePatterns": "x", "exemptServiceTags": ["x"]}})
    assert policies_of(h.analyze_stack([resource(SVC, "settlement-worker", {})])) == [BEHIND]


def test_unknown_tag_value_does_not_exempt(behind):
    assert policies_of(behind.analyze_stack([resource(SVC, "svc", {"tags": {"serves-traffic": UNKNOWN}})])) == [BEHIND]


@pytest.mark.parametrize("lbs", [UNKNOWN, [UNKNOWN]])
def test_unknown_load_balancers_are_decided_at_update(behind, lbs):
    res = stack(preview=True)
    res[-1]["props"]["loadBalancers"] = lbs
    assert behind.analyze_stack(res) == []


def test_unknown_target_group_without_dependency_is_lenient(behind):
    res = stack(preview=True)
    res[-1]["propertyDependencies"] = {"loadBalancers": []}
    assert behind.analyze_stack(res) == []


def test_unknown_listener_targets_are_lenient(behind):
    res = [r for r in stack(preview=True)]
    lis = by_name(res, "lb/listener", "https")
    lis["props"]["defaultActions"] = UNKNOWN
    lis["propertyDependencies"]["defaultActions"] = []
    assert behind.analyze_stack(res) == []
    lis["props"]["defaultActions"] = [{"type": "forward", "targetGroupArn": UNKNOWN}]
    assert behind.analyze_stack(res) == []


def test_unknown_listener_load_balancer_is_lenient(behind):
    res = stack(preview=True)
    by_name(res, "lb/listener", "https")["propertyDependencies"]["loadBalancerArn"] = []
    assert behind.analyze_stack(res) == []


def test_known_reference_to_target_group_without_known_arn_is_lenient(behind):
    res = stack()
    by_name(res, "lb/targetGroup", "api")["props"]["arn"] = UNKNOWN
    assert behind.analyze_stack(res) == []


def test_dependencies_fallback_without_property_dependencies(behind):
    res = stack(preview=True)
    tg_urn = res[1]["urn"]
    res[-1]["propertyDependencies"] = {}
    res[-1]["dependencies"] = [tg_urn]
    assert behind.analyze_stack(res) == []


def test_secret_references_are_followed(behind):
    res = stack()
    res[-1]["props"]["loadBalancers"][0]["targetGroupArn"] = secret(TG_ARN)
    by_name(res, "lb/listener", "https")["props"]["loadBalancerArn"] = secret(LB_ARN)
    assert behind.analyze_stack(res) == []


@pytest.fixture(scope="module")
def behind_update():
    return Harness([BEHIND], dry_run=False)


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("via", ["listener", "rule"])
def test_update_compliant(behind_update, flavour, via):
    assert behind_update.analyze_stack(stack(flavour, via=via)) == []
    # unknown values that depend on resources of this stack still resolve through the dependencies
    assert behind_update.analyze_stack(stack(flavour, preview=True, via=via)) == []


def test_update_unknown_reference_without_dependency_is_external(behind, behind_update):
    """During an update every output of this stack is known: an unknown value with no dependency on a
    stack resource is a StackReference output (which the offline check leaves unknown)."""
    res = [r for r in stack(preview=True) if r["type"] not in (LBT, LIS)]
    res.append(resource(LR, "api", {"listenerArn": UNKNOWN, "priority": 10.0,
                                    "actions": [{"type": "forward", "targetGroupArn": UNKNOWN}]},
                        propertyDependencies={"actions": [res[0]["urn"]], "listenerArn": []}))
    assert behind.analyze_stack(res) == []  # preview: lenient
    assert_violation(behind_update.analyze_stack(res), BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].targetGroupArn", only=True)


def test_update_unknown_target_group_without_dependency_is_external(behind_update):
    res = stack(preview=True)
    res[-1]["propertyDependencies"] = {"loadBalancers": []}
    assert_violation(behind_update.analyze_stack(res), BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].targetGroupArn", only=True)


def test_update_unknown_listener_targets_without_dependency(behind_update):
    res = stack(preview=True)
    lis = by_name(res, "lb/listener", "https")
    lis["props"]["defaultActions"] = UNKNOWN
    lis["propertyDependencies"]["defaultActions"] = []
    assert policies_of(behind_update.analyze_stack(res)) == [BEHIND]


# --- CodeDeploy blue/green ----------------------------------------------------------------------

def codedeploy_stack(preview=False, pair=True, listener_tg="green"):
    res = stack(preview=preview, svc_props={"deploymentController": {"type": "CODE_DEPLOY"}})
    green = resource(TG, "green", {"arn": UNKNOWN if preview else GREEN_ARN, "name": "payments-green"})
    res.insert(2, green)
    blue = res[1]
    lis = by_name(res, "lb/listener", "https")
    target = {"green": green, "blue": blue}[listener_tg]
    lis["props"]["defaultActions"] = [{"type": "forward", "targetGroupArn": UNKNOWN if preview else target["props"]["arn"]}]
    lis["propertyDependencies"]["defaultActions"] = [target["urn"]]
    if pair:
        names = [UNKNOWN, UNKNOWN] if preview else ["payments-api", "payments-green"]
        res.append(resource(DG, "api", {"loadBalancerInfo": {"targetGroupPairInfo": {
            "targetGroups": [{"name": names[0]}, {"name": names[1]}],
            "prodTrafficRoute": {"listenerArns": [UNKNOWN if preview else LIS_ARN]}}}},
            propertyDependencies={"loadBalancerInfo": [blue["urn"], green["urn"], lis["urn"]]}))
    return res


@pytest.mark.parametrize("preview", [False, True])
def test_codedeploy_listener_may_forward_to_the_other_target_group_of_the_pair(behind, preview):
    assert behind.analyze_stack(codedeploy_stack(preview)) == []
    assert behind.analyze_stack(codedeploy_stack(preview, listener_tg="blue")) == []


def test_codedeploy_without_pair_needs_its_own_target_group_forwarded(behind):
    assert_violation(behind.analyze_stack(codedeploy_stack(pair=False)), BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].targetGroupArn",
                     only=True)


def test_pair_does_not_help_an_ecs_controlled_service(behind):
    res = codedeploy_stack()
    del res[-2]["props"]["deploymentController"]
    assert policies_of(behind.analyze_stack(res)) == [BEHIND]


@pytest.mark.parametrize("info", ["x", {"targetGroupPairInfo": "x"}, {"targetGroupPairInfo": [{"targetGroups": [5.0]}]},
                                  UNKNOWN, {"targetGroupPairInfo": [{"targetGroups": [{"name": 5.0}]}]}])
def test_malformed_deployment_group(behind, info):
    res = codedeploy_stack()
    res[-1]["props"]["loadBalancerInfo"] = info
    assert policies_of(behind.analyze_stack(res)) == [BEHIND]


# --- ECS-native blue/green ----------------------------------------------------------------------

def native_stack(preview=False, rule_targets=("primary", "alternate"), rule_ref=None, rule_listener=None):
    res = stack(preview=preview, svc_props={"deploymentConfiguration": {"strategy": "BLUE_GREEN"}})
    primary = res[1]
    alternate = resource(TG, "alternate", {"arn": UNKNOWN if preview else GREEN_ARN, "name": "payments-alt"})
    res.insert(2, alternate)
    lis = by_name(res, "lb/listener", "https")
    lis["props"]["defaultActions"] = [{"type": "fixed-response", "fixedResponse": {"statusCode": "404"}}]
    lis["propertyDependencies"]["defaultActions"] = []
    tgs = {"primary": primary, "alternate": alternate}
    groups = [{"arn": UNKNOWN if preview else tgs[k]["props"]["arn"], "weight": 100.0 if k == "primary" else 0.0}
              for k in rule_targets]
    rule = resource(LR, "prod", {"arn": UNKNOWN if preview else LR_ARN,
                                 "listenerArn": rule_listener or (UNKNOWN if preview else LIS_ARN),
                                 "priority": 1.0, "actions": [{"type": "forward", "forward": {"targetGroups": groups}}]},
                    propertyDependencies={"listenerArn": [] if rule_listener else [lis["urn"]],
                                          "actions": [tgs[k]["urn"] for k in rule_targets]})
    res.insert(-1, rule)
    svc = res[-1]
    svc["props"]["loadBalancers"][0]["advancedConfiguration"] = {
        "alternateTargetGroupArn": UNKNOWN if preview else GREEN_ARN,
        "productionListenerRule": rule_ref or (UNKNOWN if preview else LR_ARN), "roleArn": ROLE_ARN}
    svc["propertyDependencies"] = {"loadBalancers": [primary["urn"], alternate["urn"]] +
                                   ([] if rule_ref else [rule["urn"]])}
    return res


@pytest.mark.parametrize("preview", [False, True])
def test_native_blue_green_production_rule_forwards_primary(behind, preview):
    assert behind.analyze_stack(native_stack(preview)) == []


def test_native_blue_green_production_rule_without_primary(behind):
    diags = behind.analyze_stack(native_stack(rule_targets=("alternate",)))
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)


def test_native_blue_green_production_rule_of_another_stack(behind):
    diags = behind.analyze_stack(native_stack(rule_ref=EXT_LR_ARN))
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)


def test_native_blue_green_production_rule_on_external_listener(behind):
    diags = behind.analyze_stack(native_stack(rule_listener=EXT_LIS_ARN))
    assert_violation(diags, BEHIND, urn=urn(SVC, "api"), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)


def test_native_blue_green_without_production_rule_uses_general_check(behind):
    res = native_stack()
    del res[-1]["props"]["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]
    # the rule forwards to the primary target group: still behind a stack load balancer
    assert behind.analyze_stack(res) == []


# --- linearity --------------------------------------------------------------------------------

def test_large_stack_is_linear(behind):
    res = []
    n = 1500
    lb = resource(LBT, "alb", {"arn": LB_ARN})
    lis = resource(LIS, "https", {"arn": LIS_ARN, "loadBalancerArn": LB_ARN, "protocol": "HTTPS",
                                  "defaultActions": [{"type": "fixed-response"}]})
    res += [lb, lis]
    for i in range(n):
        tg_arn = f"{ELB}:targetgroup/tg-{i}/{i:016x}"
        res.append(resource(TG, f"tg-{i}", {"arn": tg_arn}))
        res.append(resource(LR, f"rule-{i}", {"arn": f"{LR_ARN}{i}", "listenerArn": LIS_ARN,
                                              "actions": [{"type": "forward", "targetGroupArn": tg_arn}]}))
        res.append(resource(SVC, f"svc-{i}", {"loadBalancers": [{"targetGroupArn": tg_arn}]}))
    start = time.process_time()  # CPU time: a loaded machine cannot fail it, a quadratic join still does
    assert behind.analyze_stack(res) == []
    assert time.process_time() - start < 5.0


# --- target-group-health-check ----------------------------------------------------------------

GOOD_HC = {"enabled": True, "protocol": "HTTP", "path": "/health", "matcher": "200", "healthyThreshold": 3.0,
           "unhealthyThreshold": 3.0, "timeout": 5.0, "interval": 30.0, "port": "traffic-port"}


def tg(hc="good", **extra):
    props = {"port": 8080.0, "protocol": "HTTP", "targetType": "ip", **extra}
    if hc == "good":
        props["healthCheck"] = dict(GOOD_HC)
    elif hc is not None:
        props["healthCheck"] = hc
    return props


@pytest.mark.parametrize("type_", [TOKENS[f]["TG"] for f in FLAVOURS])
def test_health_check_compliant(h, type_):
    assert h.analyze(type_, tg()) == []
    assert h.analyze(type_, tg([dict(GOOD_HC)])) == []  # a max-1 block as a one-element list
    assert h.analyze(type_, tg({"path": "/health", "matcher": "200-299"})) == []  # provider defaults otherwise
    assert h.analyze(type_, tg(protocol="HTTPS", protocolVersion="GRPC",
                               healthCheck={**GOOD_HC, "protocol": "HTTPS", "path": "/AWS.ALB/healthcheck",
                                            "matcher": "0-99"})) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_missing_health_check(h, flavour):
    diags = h.analyze(TOKENS[flavour]["TG"], tg(None), name="api")
    assert_violation(diags, HEALTH, name="api", path="healthCheck", level="mandatory", only=True)


@pytest.mark.parametrize("change, path", [
    ({"enabled": False}, "healthCheck.enabled"),
    ({"enabled": "nope"}, "healthCheck.enabled"),
    ({"protocol": "TCP"}, "healthCheck.protocol"),
    ({"protocol": 5.0}, "healthCheck.protocol"),
    ({"path": None}, "healthCheck.path"),
    ({"path": ""}, "healthCheck.path"),
    ({"path": "health"}, "healthCheck.path"),
    ({"matcher": None}, "healthCheck.matcher"),
    ({"matcher": " "}, "healthCheck.matcher"),
    ({"healthyThreshold": 1.0}, "healthCheck.healthyThreshold"),
    ({"unhealthyThreshold": 1.0}, "healthCheck.unhealthyThreshold"),
    ({"unhealthyThreshold": "many"}, "healthCheck.unhealthyThreshold"),
    ({"interval": 90.0}, "healthCheck.interval"),
    ({"interval": "often"}, "healthCheck.interval"),
    ({"timeout": 30.0}, "healthCheck.timeout"),
    ({"timeout": 31.0}, "healthCheck.timeout"),
    ({"timeout": [1]}, "healthCheck.timeout"),
])
def test_health_check_violations(h, change, path):
    hc = {k: v for k, v in {**GOOD_HC, **change}.items() if v is not None}
    assert_violation(h.analyze(TG, tg(hc), name="api"), HEALTH, name="api", path=path, level="mandatory", only=True)


def test_default_timeout_is_not_guessed(h):
    # AWS chooses the default timeout per target type and accepts it: only a set timeout is judged
    hc = {k: v for k, v in {**GOOD_HC, "timeout": None, "interval": 5.0}.items() if v is not None}
    assert h.analyze(TG, tg(hc), name="api") == []


def test_every_problem_is_reported(h):
    diags = h.analyze(TG, tg({"protocol": "HTTP", "healthyThreshold": 1.0}))
    assert sorted(d.path for d in diags) == ["healthCheck.healthyThreshold", "healthCheck.matcher", "healthCheck.path"]


def test_health_check_thresholds_are_configurable():
    h = Harness([HEALTH], config={HEALTH: {"minThreshold": 3, "maxIntervalSeconds": 30}})
    assert h.analyze(TG, tg()) == []
    assert policies_of(h.analyze(TG, tg({**GOOD_HC, "healthyThreshold": 2.0}))) == [HEALTH]
    assert policies_of(h.analyze(TG, tg({**GOOD_HC, "interval": 45.0}))) == [HEALTH]


def test_lambda_and_gateway_target_groups_are_not_judged(h):
    assert h.analyze(TG, {"targetType": "lambda"}) == []
    assert h.analyze(TG, {"targetType": "LAMBDA", "healthCheck": {"enabled": False}}) == []
    assert h.analyze(TG, {"protocol": "GENEVE", "port": 6081.0, "targetType": "instance"}) == []


def test_network_target_groups(h):
    tcp = tg({**GOOD_HC, "protocol": "TCP", "path": None, "matcher": None}, protocol="TCP")
    assert policies_of(h.analyze(TG, tcp)) == [HEALTH]
    assert h.analyze(TG, tg({**GOOD_HC, "protocol": "HTTP"}, protocol="TCP")) == []
    allowed = Harness([HEALTH], config={HEALTH: {"allowTcpHealthChecks": True}})
    assert allowed.analyze(TG, tcp) == []
    # a TCP check is never accepted on an HTTP target group
    assert policies_of(allowed.analyze(TG, tg({**GOOD_HC, "protocol": "TCP"}))) == [HEALTH]


def test_health_check_unknowns(h):
    assert h.analyze(TG, tg(UNKNOWN)) == []
    assert h.not_applicable(TG, tg(UNKNOWN)) == [HEALTH]  # the whole block unknown: decided at `pulumi up`
    unknown_hc = {k: UNKNOWN for k in GOOD_HC}
    assert h.analyze(TG, tg(unknown_hc)) == []
    assert h.not_applicable(TG, tg(unknown_hc)) == []
    assert h.analyze(TG, tg({**GOOD_HC, "interval": UNKNOWN, "timeout": 60.0})) == []


def test_health_check_secrets(h):
    hc = {k: secret(v) for k, v in GOOD_HC.items()}
    assert h.analyze(TG, tg(hc)) == []
    assert h.analyze(TG, tg(secret(dict(GOOD_HC)))) == []
    diags = h.analyze(TG, tg({**GOOD_HC, "protocol": secret("TCP")}))
    assert_violation(diags, HEALTH, path="healthCheck.protocol", only=True)
    # the secret is not echoed: the message is the same whatever the secret is
    other = h.analyze(TG, tg({**GOOD_HC, "protocol": secret("UDP")}))
    assert [d.message for d in other] == [d.message for d in diags]


@pytest.mark.parametrize("hc", ["x", 5.0, [1, 2], [{"a": 1}, {"b": 2}], {"enabled": [True]}])
def test_malformed_health_check(h, hc):
    diags = h.analyze(TG, tg(hc))
    assert policies_of(diags) and set(policies_of(diags)) == {HEALTH}


def test_numbers_as_strings_are_read(h):
    assert h.analyze(TG, tg({**GOOD_HC, "healthyThreshold": "3", "interval": "30", "timeout": "5",
                             "enabled": "true"})) == []


# --- listener-rule-no-health-header-routing -----------------------------------------------------

def rule_props(*conditions):
    return {"listenerArn": LIS_ARN, "priority": 10.0, "conditions": list(conditions),
            "actions": [{"type": "forward", "targetGroupArn": TG_ARN}]}


HEALTH_HEADER = {"httpHeader": {"httpHeaderName": "X-Health-Check", "values": ["true"]}}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_health_header_condition(h, flavour):
    diags = h.analyze(TOKENS[flavour]["LR"], rule_props({"pathPattern": {"values": ["/api/*"]}}, HEALTH_HEADER),
                      name="api")
    assert_violation(diags, HEADER, name="api", path="conditions[1].httpHeader.httpHeaderName", level="advisory",
                     only=True)


def test_health_header_message_proposes_the_fix(h):
    """The wording test of listener-rule-no-health-header-routing: it names the header and the fix."""
    diags = h.analyze(LR, rule_props({"pathPattern": {"values": ["/api/*"]}}, HEALTH_HEADER), name="api")
    assert "'X-Health-Check'" in diags[0].message
    assert "health checks cannot send custom headers" in diags[0].message
    assert "validate the header in the application" in diags[0].message


@pytest.mark.parametrize("name", ["x-healthcheck-token", "HEALTH", "X-Amzn-Health"])
def test_any_health_header_name(h, name):
    assert policies_of(h.analyze(LR, rule_props({"httpHeader": [{"httpHeaderName": name, "values": ["1"]}]}))) == [HEADER]


@pytest.mark.parametrize("props", [
    rule_props({"pathPattern": {"values": ["/health"]}}),
    rule_props({"httpHeader": {"httpHeaderName": "X-Tenant", "values": ["eu"]}}),
    rule_props(),
    {"conditions": UNKNOWN},
    rule_props({"httpHeader": {"httpHeaderName": UNKNOWN, "values": ["1"]}}),
    rule_props({"httpHeader": UNKNOWN}),
    {},
    {"conditions": "x"},
    {"conditions": [5.0, "x", None, {"httpHeader": 5.0}, {"httpHeader": {"httpHeaderName": ["X-Health"]}}]},
])
def test_no_health_header(h, props):
    assert [d for d in h.analyze(LR, props) if d.policy == HEADER] == []


def test_secret_header_name_is_not_echoed(h):
    diags = h.analyze(LR, rule_props({"httpHeader": {"httpHeaderName": secret("X-Health-Secret"), "values": ["1"]}}))
    assert policies_of(diags) == [HEADER] and "X-Health-Secret" not in diags[0].message


def test_header_substrings_are_configurable():
    h = Harness([HEADER], config={HEADER: {"headerNameSubstrings": ["probe"]}})
    assert h.analyze(LR, rule_props(HEALTH_HEADER)) == []
    assert policies_of(h.analyze(LR, rule_props({"httpHeader": {"httpHeaderName": "X-Probe"}}))) == [HEADER]


# --- alb-https-only -----------------------------------------------------------------------------

REDIRECT = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
FORWARD = [{"type": "forward", "targetGroupArn": TG_ARN}]
GOOD_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"


def https(**extra):
    return {"loadBalancerArn": LB_ARN, "port": 443.0, "protocol": "HTTPS", "certificateArn": CERT_ARN,
            "sslPolicy": GOOD_POLICY, "defaultActions": FORWARD, **extra}


def http(actions):
    return {"loadBalancerArn": LB_ARN, "port": 80.0, "protocol": "HTTP", "defaultActions": actions}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_listener_compliant(h, flavour):
    t = TOKENS[flavour]["LIS"]
    assert h.analyze(t, https()) == []
    assert h.analyze(t, http(REDIRECT)) == []
    assert h.analyze(t, https(protocol="TLS", port=443.0)) == []
    assert h.analyze(t, http([{"type": "REDIRECT", "redirect": [{"protocol": "https"}]}])) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("protocol", ["HTTPS", "TLS", "https"])
@pytest.mark.parametrize("cert", [None, "", "  "])
def test_tls_listener_without_certificate(h, flavour, protocol, cert):
    props = https(protocol=protocol)
    if cert is None:
        del props["certificateArn"]
    else:
        props["certificateArn"] = cert
    diags = h.analyze(TOKENS[flavour]["LIS"], props, name="edge")
    assert_violation(diags, HTTPS_ONLY, name="edge", path="certificateArn", level="mandatory", only=True)


@pytest.mark.parametrize("actions, where", [
    (FORWARD, "defaultActions[0]"),
    ([{"type": "redirect", "redirect": {"port": "443", "statusCode": "HTTP_301"}}], "defaultActions[0].redirect.protocol"),
    ([{"type": "redirect", "redirect": {"protocol": "HTTP"}}], "defaultActions[0].redirect.protocol"),
    ([{"type": "redirect"}], "defaultActions[0].redirect.protocol"),
    (REDIRECT + FORWARD, "defaultActions[1]"),
    ([{"type": "fixed-response", "fixedResponse": {"statusCode": "200"}}], "defaultActions[0]"),
    ([], "defaultActions"),
    (None, "defaultActions"),
    ("x", "defaultActions"),
    ([5.0], "defaultActions[0]"),
])
def test_plain_http_listener(h, actions, where):
    props = http(actions)
    if actions is None:
        del props["defaultActions"]
    assert_violation(h.analyze(LIS, props), HTTPS_ONLY, path=where, level="mandatory", only=True)


def test_missing_protocol_is_http(h):
    props = http(FORWARD)
    del props["protocol"]
    assert policies_of(h.analyze(LIS, props)) == [HTTPS_ONLY]
    props = http(REDIRECT)
    del props["protocol"]
    assert h.analyze(LIS, props) == []


def test_gateway_listeners_are_not_judged(h):
    assert h.analyze(LIS, {"loadBalancerArn": LB_ARN, "defaultActions": FORWARD}) == []
    assert h.analyze(LIS, {"loadBalancerArn": LB_ARN, "protocol": "GENEVE", "port": 6081.0,
                           "defaultActions": FORWARD}) == []


@pytest.mark.parametrize("protocol", ["TCP", "UDP", "TCP_UDP", "TCP_QUIC", "SMTP"])
def test_network_plaintext_listeners(h, protocol):
    diags = h.analyze(LIS, {"loadBalancerArn": LB_ARN, "port": 5000.0, "protocol": protocol,
                            "defaultActions": FORWARD})
    assert_violation(diags, HTTPS_ONLY, path="protocol", level="mandatory", only=True)


def test_quic_and_configured_passthrough(h):
    assert h.analyze(LIS, {"port": 443.0, "protocol": "QUIC", "defaultActions": FORWARD}) == []
    ph = Harness([HTTPS_ONLY], config={HTTPS_ONLY: {"passthroughProtocols": ["tcp"]}})
    assert ph.analyze(LIS, {"port": 443.0, "protocol": "TCP", "defaultActions": FORWARD}) == []
    assert policies_of(ph.analyze(LIS, {"port": 53.0, "protocol": "UDP", "defaultActions": FORWARD})) == [HTTPS_ONLY]


def test_listener_unknowns(h):
    assert h.analyze(LIS, https(protocol=UNKNOWN, sslPolicy=UNKNOWN)) == []
    assert h.analyze(LIS, https(certificateArn=UNKNOWN, sslPolicy=UNKNOWN)) == []
    assert h.analyze(LIS, http(UNKNOWN)) == []
    assert h.analyze(LIS, http([UNKNOWN])) == []
    assert h.analyze(LIS, http([{"type": UNKNOWN}])) == []
    assert h.analyze(LIS, http([{"type": "redirect", "redirect": {"protocol": UNKNOWN}}])) == []
    assert h.analyze(LIS, http([{"type": "redirect", "redirect": UNKNOWN}])) == []
    assert h.not_applicable(LIS, https(certificateArn=UNKNOWN, sslPolicy=UNKNOWN)) == []


def test_listener_secrets(h):
    assert h.analyze(LIS, https(certificateArn=secret(CERT_ARN), sslPolicy=secret(GOOD_POLICY))) == []
    diags = h.analyze(LIS, https(sslPolicy=secret("ELBSecurityPolicy-2016-08")))
    assert_violation(diags, TLS_POLICY, path="sslPolicy", only=True)
    assert "ELBSecurityPolicy-2016-08" not in diags[0].message


@pytest.mark.parametrize("props", [{"protocol": 5.0, "port": 80.0}, {"protocol": ["HTTPS"], "port": 443.0}])
def test_malformed_protocol(h, props):
    assert policies_of(h.analyze(LIS, props)) == [HTTPS_ONLY]


# --- alb-modern-tls-policy ----------------------------------------------------------------------

@pytest.mark.parametrize("policy", MODERN_TLS_POLICIES)
def test_modern_policies_pass(h, policy):
    assert h.analyze(LIS, https(sslPolicy=policy)) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("protocol", ["HTTPS", "TLS"])
def test_missing_policy_means_2016_08(h, flavour, protocol):
    props = https(protocol=protocol)
    del props["sslPolicy"]
    diags = h.analyze(TOKENS[flavour]["LIS"], props, name="edge")
    assert_violation(diags, TLS_POLICY, name="edge", path="sslPolicy", level="mandatory", only=True)


def test_missing_policy_message_proposes_the_fix(h):
    """The wording test of alb-modern-tls-policy: it says what AWS applies and which policy to set."""
    props = https()
    del props["sslPolicy"]
    message = h.analyze(LIS, props)[0].message
    assert "ELBSecurityPolicy-2016-08" in message and "ssl_policy=" in message


@pytest.mark.parametrize("policy", ["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-1-2017-01",
                                    "ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-FS-2018-06",
                                    "elbsecuritypolicy-tls13-1-2-2021-06", ""])
def test_legacy_policies_fail(h, policy):
    assert_violation(h.analyze(LIS, https(sslPolicy=policy)), TLS_POLICY, path="sslPolicy", only=True)


def test_policy_not_judged_on_plain_listeners(h):
    assert [d for d in h.analyze(LIS, http(REDIRECT) | {"sslPolicy": "ELBSecurityPolicy-2016-08"})] == []
    assert [d.policy for d in h.analyze(LIS, {"port": 80.0, "protocol": "TCP"})] == [HTTPS_ONLY]


def test_policy_allow_list_is_configurable():
    h = Harness([TLS_POLICY], config={TLS_POLICY: {"allowedPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"]}})
    assert h.analyze(LIS, https(sslPolicy="ELBSecurityPolicy-TLS13-1-3-2021-06")) == []
    assert_violation(h.analyze(LIS, https()), TLS_POLICY, path="sslPolicy", only=True)
    broken = Harness([TLS_POLICY], config={TLS_POLICY: {"allowedPolicies": "x"}})
    assert policies_of(broken.analyze(LIS, https())) == [TLS_POLICY]


def test_malformed_policy(h):
    assert policies_of(h.analyze(LIS, https(sslPolicy=5.0))) == [TLS_POLICY]


# --- load balancer rules ------------------------------------------------------------------------

def alb(**extra):
    return {"loadBalancerType": "application", "internal": False, "dropInvalidHeaderFields": True,
            "enableDeletionProtection": True, "accessLogs": {"bucket": "payments-alb-logs", "enabled": True,
                                                             "prefix": "alb"}, **extra}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_load_balancer_compliant(h, flavour):
    t = TOKENS[flavour]["LB"]
    assert h.analyze(t, alb()) == []
    props = alb()
    del props["loadBalancerType"]  # application by default
    assert h.analyze(t, props) == []
    assert h.analyze(t, alb(accessLogs=[{"bucket": "b", "enabled": "true"}], dropInvalidHeaderFields="true")) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("value", [None, False, "no", 1.0])
def test_drop_invalid_headers(h, flavour, value):
    props = alb()
    if value is None:
        del props["dropInvalidHeaderFields"]
    else:
        props["dropInvalidHeaderFields"] = value
    diags = h.analyze(TOKENS[flavour]["LB"], props, name="edge")
    assert_violation(diags, DROP, name="edge", path="dropInvalidHeaderFields", level="mandatory", only=True)


@pytest.mark.parametrize("logs, where", [
    (None, "accessLogs"),
    ("x", "accessLogs"),
    ([], "accessLogs"),
    ({"bucket": "b"}, "accessLogs.enabled"),
    ({"bucket": "b", "enabled": False}, "accessLogs.enabled"),
    ({"enabled": True}, "accessLogs.bucket"),
    ({"enabled": True, "bucket": ""}, "accessLogs.bucket"),
])
def test_access_logs(h, logs, where):
    props = alb()
    if logs is None:
        del props["accessLogs"]
    else:
        props["accessLogs"] = logs
    diags = h.analyze(LBT, props)
    assert set(policies_of(diags)) == {LOGS}
    assert_violation(diags, LOGS, path=where, level="advisory")


def test_network_and_gateway_load_balancers(h):
    nlb = {"loadBalancerType": "network", "enableDeletionProtection": True}
    assert h.analyze(LBT, nlb) == []  # no HTTP headers, no access-log requirement by default
    gwlb = {"loadBalancerType": "gateway"}
    assert policies_of(h.analyze(LBT, gwlb)) == [DELETION]
    nh = Harness([LOGS], config={LOGS: {"loadBalancerTypes": ["application", "network"]}})
    assert policies_of(nh.analyze(LBT, nlb)) == [LOGS]


def test_load_balancer_unknowns(h):
    assert h.analyze(LBT, {"loadBalancerType": UNKNOWN}) == []
    assert h.analyze(LBT, alb(dropInvalidHeaderFields=UNKNOWN, enableDeletionProtection=UNKNOWN,
                              accessLogs=UNKNOWN)) == []
    assert h.analyze(LBT, alb(accessLogs={"bucket": UNKNOWN, "enabled": UNKNOWN})) == []
    assert h.not_applicable(LBT, alb(accessLogs=UNKNOWN)) == [LOGS]  # decided at `pulumi up`
    assert h.not_applicable(LBT, alb(accessLogs={"bucket": UNKNOWN, "enabled": True})) == []


def test_load_balancer_secrets(h):
    assert h.analyze(LBT, alb(accessLogs=secret({"bucket": "b", "enabled": True}),
                              dropInvalidHeaderFields=secret(True), enableDeletionProtection=secret(True))) == []


@pytest.mark.parametrize("props", [{"loadBalancerType": 5.0}, {"loadBalancerType": ["application"]}])
def test_malformed_load_balancer_type_is_not_judged(h, props):
    assert h.analyze(LBT, props) == []


# --- alb-deletion-protection and the environment ------------------------------------------------

@pytest.mark.parametrize("value", [None, False])
def test_deletion_protection_outside_production_is_advisory(value):
    h = Harness([DELETION], stack="payments-dev")
    props = alb()
    if value is None:
        del props["enableDeletionProtection"]
    else:
        props["enableDeletionProtection"] = value
    diags = h.analyze(LBT, props, name="edge")
    assert_violation(diags, DELETION, name="edge", path="enableDeletionProtection", level="advisory", only=True)


def ctx_for(stack, **config):
    return Context(config=AlbDeletionProtection.merged_config(config), stack=stack)


def view(props, name="edge"):
    return P.ResourceView(LBT, name, urn(LBT, name), props)


@pytest.mark.parametrize("stack, config, mandatory", [
    ("payments-prod", {}, True),
    ("production", {}, True),
    ("payments-prd-eu", {}, True),
    ("payments-dev", {}, False),
    ("payments-eu-1", {}, False),
    ("payments-eu-1", {"stackEnvironments": {"payments-eu-*": "production"}}, True),
    ("payments-prod", {"mandatoryEnvironments": []}, False),
    ("payments-stg", {"mandatoryEnvironments": ["staging", "production"]}, True),
    ("dev-and-prod", {}, False),  # ambiguous stack names map to no environment
    ("", {}, False),
])
def test_deletion_protection_is_mandatory_in_production(stack, config, mandatory):
    rule = AlbDeletionProtection()
    violations = list(rule.check(view({"loadBalancerType": "application"}), ctx_for(stack, **config)))
    assert len(violations) == 1 and isinstance(violations[0], Violation)
    assert violations[0].level == ("mandatory" if mandatory else "")
    assert violations[0].path == "enableDeletionProtection"


def test_deletion_protection_production_message_through_the_servicer():
    """The wording test of alb-deletion-protection: it says why the finding is mandatory here."""
    h = Harness([DELETION], stack="payments-prod")
    diags = h.analyze(LBT, {"loadBalancerType": "application"})
    assert policies_of(diags) == [DELETION]
    assert "stack 'payments-prod' is mapped to production" in diags[0].message


def test_deletion_protection_production_level_through_the_servicer():
    h = Harness([DELETION], stack="payments-prod")
    assert [d.level for d in h.analyze(LBT, {"loadBalancerType": "application"})] == ["mandatory"]


def test_deletion_protection_disabled_stays_disabled():
    h = Harness([DELETION], stack="payments-prod", config={DELETION: "disabled"})
    assert h.analyze(LBT, {"loadBalancerType": "application"}) == []


# --- levels, other types, fuzz ------------------------------------------------------------------

def test_other_types_ignored(h):
    assert h.analyze("aws:s3/bucket:Bucket", {"loadBalancerType": "application"}) == []
    assert h.analyze(SVC, {}) == []


def test_levels_follow_config():
    h = Harness([HTTPS_ONLY, HEADER], config={HTTPS_ONLY: "advisory", HEADER: "mandatory"})
    assert [d.level for d in h.analyze(LIS, http(FORWARD))] == ["advisory"]
    assert [d.level for d in h.analyze(LR, rule_props(HEALTH_HEADER))] == ["mandatory"]
    h = Harness([BEHIND], config={BEHIND: "disabled"})
    assert h.analyze_stack([resource(SVC, "api", {})]) == []


_leaf = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False, width=32),
                  st.sampled_from(["", "HTTPS", "HTTP", "TCP", "forward", "redirect", "application", UNKNOWN,
                                   "/health", TG_ARN, LB_ARN, LIS_ARN, LR_ARN, "X-Health", "CODE_DEPLOY"]))
_value = st.recursive(_leaf, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.dictionaries(st.sampled_from(["type", "targetGroupArn", "forward", "targetGroups", "arn", "redirect",
                                     "protocol", "httpHeader", "httpHeaderName", "enabled", "path", "name",
                                     "advancedConfiguration", "productionListenerRule", "bucket", "value"]),
                    children, max_size=4)), max_leaves=12)
_props = st.dictionaries(st.sampled_from([
    "protocol", "port", "certificateArn", "sslPolicy", "defaultActions", "loadBalancerArn", "listenerArn",
    "actions", "conditions", "healthCheck", "targetType", "loadBalancerType", "dropInvalidHeaderFields",
    "accessLogs", "enableDeletionProtection", "loadBalancers", "deploymentController", "name", "tags", "arn",
    "loadBalancerInfo"]), _value, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(props=_props, type_=st.sampled_from([LBT, LIS, LR, TG] + [TOKENS["alb"][k] for k in ("LB", "LIS", "LR", "TG")]))
def test_fuzz_resource_rules_never_fail(h, props, type_):
    h.analyze(type_, props)  # the conftest fixture fails the test on any internal error


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(st.sampled_from([LBT, LIS, LR, TG, SVC, DG]), _props), max_size=6))
def test_fuzz_stack_rule_never_fails(behind, items):
    res = [resource(t, f"r{i}", p) for i, (t, p) in enumerate(items)]
    urns = [r["urn"] for r in res]
    for r in res:
        r["propertyDependencies"] = {k: urns for k in r["props"]}
    behind.analyze_stack(res)
