"""deployment-strategy-allowed, rolling-deployment-circuit-breaker, blue-green-deployment-complete."""
import copy

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from harness import Harness, UNKNOWN, assert_no_violation, assert_violation, policies_of, resource, secret, urn

SVC = "aws:ecs/service:Service"
CL = "aws:ecs/cluster:Cluster"
DG = "aws:codedeploy/deploymentGroup:DeploymentGroup"
APP = "aws:codedeploy/application:Application"
ACCOUNT = "123456789012"
ELB = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}"
LB_ARN = f"{ELB}:loadbalancer/app/payments-alb/50dc6c495c0c9188"
NLB_ARN = f"{ELB}:loadbalancer/net/payments-nlb/60dc6c495c0c9188"
LIS_ARN = f"{ELB}:listener/app/payments-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
NLIS_ARN = f"{ELB}:listener/net/payments-nlb/60dc6c495c0c9188/a2f7dc8efc522ab2"
LR_ARN = f"{ELB}:listener-rule/app/payments-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
BLUE_ARN = f"{ELB}:targetgroup/payments-blue/73e2d6bc24d8a067"
GREEN_ARN = f"{ELB}:targetgroup/payments-green/83e2d6bc24d8a067"
OTHER_TG_ARN = f"{ELB}:targetgroup/legacy/93e2d6bc24d8a067"
CL_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/payments"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ecs-infrastructure-lb"

TOKENS = {"lb": {"LB": "aws:lb/loadBalancer:LoadBalancer", "LIS": "aws:lb/listener:Listener",
                 "LR": "aws:lb/listenerRule:ListenerRule", "TG": "aws:lb/targetGroup:TargetGroup"},
          "alb": {"LB": "aws:alb/loadBalancer:LoadBalancer", "LIS": "aws:alb/listener:Listener",
                  "LR": "aws:alb/listenerRule:ListenerRule", "TG": "aws:alb/targetGroup:TargetGroup"}}
ALL = ["deployment-strategy-allowed", "blue-green-deployment-complete", "rolling-deployment-circuit-breaker"]
BREAKER = {"enable": True, "rollback": True}


@pytest.fixture(scope="module")
def h():
    return Harness(ALL)


@pytest.fixture(scope="module")
def bg():
    return Harness(["blue-green-deployment-complete"])


# --- stack builders ---------------------------------------------------------------------------

def network(flavour="lb", nlb=False):
    """LB, listener, blue and green target groups, a listener rule forwarding to both, a cluster."""
    t = TOKENS[flavour]
    lb = resource(t["LB"], "alb", {"arn": LB_ARN, "loadBalancerType": "application"})
    lis = resource(t["LIS"], "https", {"arn": LIS_ARN, "loadBalancerArn": LB_ARN, "port": 443.0,
                                       "defaultActions": [{"type": "forward", "targetGroupArn": BLUE_ARN}]},
                   propertyDependencies={"loadBalancerArn": [lb["urn"]]})
    blue = resource(t["TG"], "blue", {"arn": BLUE_ARN, "name": "payments-blue"})
    green = resource(t["TG"], "green", {"arn": GREEN_ARN, "name": "payments-green"})
    rule = resource(t["LR"], "prod", {"arn": LR_ARN, "listenerArn": LIS_ARN, "priority": 10.0, "actions": [
        {"type": "forward", "forward": {"targetGroups": [{"arn": BLUE_ARN, "weight": 100.0},
                                                         {"arn": GREEN_ARN, "weight": 0.0}]}}]},
                    propertyDependencies={"listenerArn": [lis["urn"]], "actions": [blue["urn"], green["urn"]]})
    cluster = resource(CL, "cluster", {"arn": CL_ARN, "id": CL_ARN, "name": "payments"})
    res = {"lb": lb, "lis": lis, "blue": blue, "green": green, "rule": rule, "cluster": cluster}
    if nlb:
        res["nlb"] = resource(t["LB"], "nlb", {"arn": NLB_ARN, "loadBalancerType": "network"})
        res["nlis"] = resource(t["LIS"], "tcp", {"arn": NLIS_ARN, "loadBalancerArn": NLB_ARN, "defaultActions": [
            {"type": "forward", "forward": {"targetGroups": [{"arn": BLUE_ARN}, {"arn": GREEN_ARN, "weight": 0.0}]}}]},
            propertyDependencies={"loadBalancerArn": [res["nlb"]["urn"]]})
    return res


def native_service(strategy="BLUE_GREEN", name="api", **overrides):
    props = {"name": name, "cluster": CL_ARN, "deploymentConfiguration": {"strategy": strategy},
             "deploymentCircuitBreaker": dict(BREAKER),
             "loadBalancers": [{"targetGroupArn": BLUE_ARN, "containerName": "api", "containerPort": 8080.0,
                                "advancedConfiguration": {"alternateTargetGroupArn": GREEN_ARN,
                                                          "productionListenerRule": LR_ARN, "roleArn": ROLE_ARN}}]}
    props.update(overrides)
    return resource(SVC, name, props)


def native_stack(flavour="lb", strategy="BLUE_GREEN", **overrides):
    net = network(flavour)
    return list(net.values()) + [native_service(strategy, **overrides)]


def codedeploy_service(name="api", **overrides):
    props = {"name": name, "cluster": CL_ARN, "deploymentController": {"type": "CODE_DEPLOY"},
             "loadBalancers": [{"targetGroupArn": BLUE_ARN, "containerName": "api", "containerPort": 8080.0}]}
    props.update(overrides)
    return resource(SVC, name, props)


def dg_props(**overrides):
    props = {
        "appName": "payments-app", "deploymentGroupName": "api-dg",
        "ecsService": {"clusterName": "payments", "serviceName": "api"},
        "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        "blueGreenDeploymentConfig": {
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5.0}},
        "loadBalancerInfo": {"targetGroupPairInfo": {
            "targetGroups": [{"name": "payments-blue"}, {"name": "payments-green"}],
            "prodTrafficRoute": {"listenerArns": [LIS_ARN]}}},
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
    }
    props.update(overrides)
    return props


def codedeploy_stack(flavour="lb", dg=None, app=None, service=None, dg_links=None):
    net = network(flavour)
    resources = list(net.values())
    resources.append(resource(APP, "app", app if app is not None else {"name": "payments-app",
                                                                       "computePlatform": "ECS"}))
    resources.append(service or codedeploy_service())
    if dg is not False:
        resources.append(resource(DG, "dg", dg if dg is not None else dg_props(), **(dg_links or {})))
    return resources


def svc_urn(name="api"):
    return urn(SVC, name)


# --- deployment-strategy-allowed --------------------------------------------------------------

@pytest.mark.parametrize("props", [
    {},
    {"deploymentController": {"type": "ECS"}},
    {"deploymentController": [{"type": "ECS"}]},
    {"deploymentController": {}},
    {"deploymentConfiguration": {"strategy": "ROLLING"}},
    {"deploymentConfiguration": {"strategy": "BLUE_GREEN"}},
    {"deploymentConfiguration": [{"strategy": "blue_green"}]},
    {"deploymentConfiguration": {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 25.0,
                                                                               "stepBakeTimeInMinutes": "5"}}},
    {"deploymentConfiguration": {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0}}},
    {"deploymentController": {"type": "CODE_DEPLOY"}},
    {"deploymentController": {"type": "CODE_DEPLOY"}, "deploymentConfiguration": {"strategy": "ROLLING"}},
])
def test_strategy_allowed_by_default(props):
    h = Harness(["deployment-strategy-allowed"])
    assert h.analyze(SVC, props) == []


def test_external_controller_not_allowed_by_default():
    h = Harness(["deployment-strategy-allowed"])
    diags = h.analyze(SVC, {"deploymentController": {"type": "EXTERNAL"}}, name="legacy-api")
    assert_violation(diags, "deployment-strategy-allowed", name="legacy-api", path="deploymentController",
                     level="mandatory", only=True)


def test_strategy_message_proposes_the_fix():
    """The wording test of deployment-strategy-allowed: it names the strategy found and the argument to set."""
    h = Harness(["deployment-strategy-allowed"])
    message = h.analyze(SVC, {"deploymentController": {"type": "EXTERNAL"}}, name="legacy-api")[0].message
    assert "legacy-api" in message and "external" in message and "deployment_controller" in message


def test_allowed_strategies_configurable():
    h = Harness(["deployment-strategy-allowed"],
                config={"deployment-strategy-allowed": {"allowedStrategies": ["blue-green", "external"]}})
    assert h.analyze(SVC, {"deploymentController": {"type": "EXTERNAL"}}) == []
    assert h.analyze(SVC, {"deploymentController": {"type": "CODE_DEPLOY"}}) == []
    assert h.analyze(SVC, {"deploymentConfiguration": {"strategy": "BLUE_GREEN"}}) == []
    assert_violation(h.analyze(SVC, {}), "deployment-strategy-allowed", path="deploymentConfiguration", only=True)
    assert policies_of(h.analyze(SVC, {"deploymentConfiguration": {"strategy": "CANARY"}})) == [
        "deployment-strategy-allowed"]


@pytest.mark.parametrize("value", ["rolling", None, 5, {"a": 1}])
def test_malformed_allowed_strategies_config_falls_back_to_default(value):
    h = Harness(["deployment-strategy-allowed"], config={"deployment-strategy-allowed": {"allowedStrategies": value}})
    assert h.analyze(SVC, {"deploymentConfiguration": {"strategy": "LINEAR"}}) == []
    assert policies_of(h.analyze(SVC, {"deploymentController": {"type": "EXTERNAL"}})) == [
        "deployment-strategy-allowed"]


def test_empty_allowed_strategies_allows_nothing():
    h = Harness(["deployment-strategy-allowed"], config={"deployment-strategy-allowed": {"allowedStrategies": []}})
    assert policies_of(h.analyze(SVC, {})) == ["deployment-strategy-allowed"]


@pytest.mark.parametrize("props", [
    {"deploymentController": UNKNOWN},
    {"deploymentController": {"type": UNKNOWN}},
    {"deploymentConfiguration": UNKNOWN},
    {"deploymentConfiguration": {"strategy": UNKNOWN}},
])
def test_strategy_unknown_at_preview_is_silent(props):
    h = Harness(["deployment-strategy-allowed"], config={"deployment-strategy-allowed": {"allowedStrategies": []}})
    assert h.analyze(SVC, props) == []
    assert h.not_applicable(SVC, props) == []


@pytest.mark.parametrize("props, path", [
    ({"deploymentController": {"type": "SOMETHING"}}, "deploymentController.type"),
    ({"deploymentController": {"type": 3.0}}, "deploymentController.type"),
    ({"deploymentController": "ECS"}, "deploymentController"),
    ({"deploymentController": [{"type": "ECS"}, {"type": "ECS"}]}, "deploymentController"),
    ({"deploymentConfiguration": {"strategy": "BIG_BANG"}}, "deploymentConfiguration.strategy"),
    ({"deploymentConfiguration": {"strategy": ["ROLLING"]}}, "deploymentConfiguration.strategy"),
    ({"deploymentConfiguration": 7.0}, "deploymentConfiguration"),
])
def test_unrecognised_strategy_is_reported(props, path):
    h = Harness(["deployment-strategy-allowed"])
    assert_violation(h.analyze(SVC, props, name="api"), "deployment-strategy-allowed", name="api", path=path,
                     level="mandatory", only=True)


def test_strategy_value_read_through_secret():
    h = Harness(["deployment-strategy-allowed"])
    assert h.analyze(SVC, {"deploymentController": secret({"type": "CODE_DEPLOY"})}) == []
    diags = h.analyze(SVC, {"deploymentConfiguration": {"strategy": secret("HUSH")}})
    assert_violation(diags, "deployment-strategy-allowed", path="deploymentConfiguration.strategy", only=True)
    assert "HUSH" not in diags[0].message


# --- rolling-deployment-circuit-breaker -------------------------------------------------------

ROLLING_OK = {"deploymentCircuitBreaker": dict(BREAKER), "deploymentMinimumHealthyPercent": 100.0,
              "deploymentMaximumPercent": 200.0}


@pytest.fixture(scope="module")
def rolling():
    return Harness(["rolling-deployment-circuit-breaker"])


@pytest.mark.parametrize("props", [
    ROLLING_OK,
    {"deploymentCircuitBreaker": dict(BREAKER)},  # absent percents = AWS defaults 100/200
    {**ROLLING_OK, "deploymentCircuitBreaker": [dict(BREAKER)]},
    {**ROLLING_OK, "deploymentController": {"type": "ECS"}, "deploymentConfiguration": {"strategy": "ROLLING"}},
    {**ROLLING_OK, "deploymentMinimumHealthyPercent": "100", "deploymentMaximumPercent": 250.0},
    {"deploymentCircuitBreaker": {"enable": "true", "rollback": "true"}},
    {"deploymentCircuitBreaker": secret(dict(BREAKER))},
])
def test_rolling_compliant(rolling, props):
    assert rolling.analyze(SVC, props) == []


@pytest.mark.parametrize("props, path, arg", [
    ({}, "deploymentCircuitBreaker", "deployment_circuit_breaker"),
    ({"deploymentCircuitBreaker": {"enable": False, "rollback": True}}, "deploymentCircuitBreaker.enable",
     "deployment_circuit_breaker"),
    ({"deploymentCircuitBreaker": {"enable": True, "rollback": False}}, "deploymentCircuitBreaker.rollback",
     "deployment_circuit_breaker"),
    ({"deploymentCircuitBreaker": {"enable": True}}, "deploymentCircuitBreaker.rollback",
     "deployment_circuit_breaker"),
    ({"deploymentCircuitBreaker": {"enable": "yes", "rollback": True}}, "deploymentCircuitBreaker.enable",
     "deployment_circuit_breaker"),
    ({"deploymentCircuitBreaker": "on"}, "deploymentCircuitBreaker", "deployment_circuit_breaker"),
    ({"deploymentCircuitBreaker": dict(BREAKER), "deploymentMinimumHealthyPercent": 50.0},
     "deploymentMinimumHealthyPercent", "deployment_minimum_healthy_percent=100"),
    ({"deploymentCircuitBreaker": dict(BREAKER), "deploymentMinimumHealthyPercent": 0.0},
     "deploymentMinimumHealthyPercent", "deployment_minimum_healthy_percent=100"),
    ({"deploymentCircuitBreaker": dict(BREAKER), "deploymentMinimumHealthyPercent": "lots"},
     "deploymentMinimumHealthyPercent", "deployment_minimum_healthy_percent=100"),
    ({"deploymentCircuitBreaker": dict(BREAKER), "deploymentMaximumPercent": 150.0},
     "deploymentMaximumPercent", "deployment_maximum_percent=200"),
    ({"deploymentCircuitBreaker": dict(BREAKER), "deploymentMaximumPercent": [200.0]},
     "deploymentMaximumPercent", "deployment_maximum_percent=200"),
])
def test_rolling_each_missing_piece(rolling, props, path, arg):
    diags = rolling.analyze(SVC, props, name="payments-api")
    assert_violation(diags, "rolling-deployment-circuit-breaker", name="payments-api", path=path, level="mandatory",
                     only=True)


def test_rolling_all_pieces_missing_reports_each(rolling):
    diags = rolling.analyze(SVC, {"deploymentCircuitBreaker": {"enable": False, "rollback": False},
                                  "deploymentMinimumHealthyPercent": 50.0, "deploymentMaximumPercent": 100.0})
    assert len(diags) == 4


@pytest.mark.parametrize("props", [
    {"deploymentController": {"type": "CODE_DEPLOY"}},
    {"deploymentController": {"type": "EXTERNAL"}},
    {"deploymentConfiguration": {"strategy": "BLUE_GREEN"}},
    {"deploymentConfiguration": {"strategy": "LINEAR"}},
    {"deploymentConfiguration": {"strategy": "CANARY"}},
    {"deploymentController": UNKNOWN},
    {"deploymentConfiguration": {"strategy": UNKNOWN}},
    {"deploymentController": 5.0},
])
def test_rolling_rule_only_for_ecs_rolling(rolling, props):
    assert rolling.analyze(SVC, props) == []


@pytest.mark.parametrize("props", [
    {"deploymentCircuitBreaker": UNKNOWN},
    {"deploymentCircuitBreaker": {"enable": UNKNOWN, "rollback": UNKNOWN}},
    {"deploymentCircuitBreaker": dict(BREAKER), "deploymentMinimumHealthyPercent": UNKNOWN,
     "deploymentMaximumPercent": UNKNOWN},
])
def test_rolling_unknowns_count_as_set(rolling, props):
    assert rolling.analyze(SVC, props) == []
    assert rolling.not_applicable(SVC, props) == []


def test_rolling_daemon_services_skip_percent_checks(rolling):
    props = {"schedulingStrategy": "DAEMON", "deploymentCircuitBreaker": dict(BREAKER),
             "deploymentMinimumHealthyPercent": 0.0}
    assert rolling.analyze(SVC, props) == []
    assert len(rolling.analyze(SVC, {"schedulingStrategy": "DAEMON"})) == 1  # breaker still required


def test_rolling_thresholds_configurable():
    h = Harness(["rolling-deployment-circuit-breaker"],
                config={"rolling-deployment-circuit-breaker": {"minHealthyPercent": 50, "maxPercent": 150}})
    assert h.analyze(SVC, {"deploymentCircuitBreaker": dict(BREAKER), "deploymentMinimumHealthyPercent": 50.0,
                           "deploymentMaximumPercent": 150.0}) == []
    assert len(h.analyze(SVC, {"deploymentCircuitBreaker": dict(BREAKER), "deploymentMinimumHealthyPercent": 49.0,
                               "deploymentMaximumPercent": 149.0})) == 2


def test_rolling_absent_percent_means_aws_default():
    """Absent = the AWS default (100/200): compliant with the defaults, reported against a stricter config."""
    h = Harness(["rolling-deployment-circuit-breaker"],
                config={"rolling-deployment-circuit-breaker": {"minHealthyPercent": 110}})
    diags = h.analyze(SVC, {"deploymentCircuitBreaker": dict(BREAKER)})
    assert_violation(diags, "rolling-deployment-circuit-breaker", path="deploymentMinimumHealthyPercent", only=True)


def test_rolling_message_proposes_the_fix():
    """The wording test of rolling-deployment-circuit-breaker: the AWS default it assumed, and what to set."""
    h = Harness(["rolling-deployment-circuit-breaker"],
                config={"rolling-deployment-circuit-breaker": {"minHealthyPercent": 110}})
    message = h.analyze(SVC, {"deploymentCircuitBreaker": dict(BREAKER)})[0].message
    assert "AWS default 100" in message and "deployment_minimum_healthy_percent=110" in message


def test_rolling_other_types_ignored(rolling):
    assert rolling.analyze(CL, {}) == []


def test_levels_follow_config():
    h = Harness(ALL, config={"rolling-deployment-circuit-breaker": "advisory",
                             "deployment-strategy-allowed": "disabled"})
    diags = h.analyze(SVC, {"deploymentController": {"type": "EXTERNAL"}})
    assert diags == []
    assert [d.level for d in h.analyze(SVC, {})] == ["advisory"]


# --- blue-green-deployment-complete: CodeDeploy ----------------------------------------------

@pytest.mark.parametrize("flavour", ["lb", "alb"])
def test_codedeploy_complete(bg, flavour):
    assert bg.analyze_stack(codedeploy_stack(flavour)) == []


def test_codedeploy_list_wrapped_blocks(bg):
    props = dg_props(ecsService=[{"clusterName": "payments", "serviceName": "api"}],
                     deploymentStyle=[{"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}],
                     autoRollbackConfiguration=[{"enabled": True, "events": ["DEPLOYMENT_FAILURE",
                                                                             "DEPLOYMENT_STOP_ON_ALARM"]}],
                     loadBalancerInfo=[{"targetGroupPairInfo": [{
                         "targetGroups": [{"name": "payments-blue"}, {"name": "payments-green"}],
                         "prodTrafficRoute": [{"listenerArns": [LIS_ARN]}]}]}])
    assert bg.analyze_stack(codedeploy_stack(dg=props)) == []


def test_codedeploy_without_deployment_group(bg):
    diags = bg.analyze_stack(codedeploy_stack(dg=False))
    assert_violation(diags, "blue-green-deployment-complete", urn=svc_urn(), path="deploymentController", level="mandatory", only=True)


def test_codedeploy_message_proposes_the_fix(bg):
    """The wording test of blue-green-deployment-complete: what is missing and how to bind it."""
    message = bg.analyze_stack(codedeploy_stack(dg=False))[0].message
    assert "no CodeDeploy deployment group" in message and "ecs_service" in message


def test_codedeploy_group_for_another_service(bg):
    dg = dg_props(ecsService={"clusterName": "payments", "serviceName": "worker"})
    assert_violation(bg.analyze_stack(codedeploy_stack(dg=dg)), "blue-green-deployment-complete", urn=svc_urn(), path="deploymentController",
                     only=True)


def test_codedeploy_group_for_another_cluster(bg):
    dg = dg_props(ecsService={"clusterName": "legacy", "serviceName": "api"})
    assert_violation(bg.analyze_stack(codedeploy_stack(dg=dg)), "blue-green-deployment-complete", urn=svc_urn(),
                     path="deploymentGroup:dg.ecsService.clusterName", only=True)


def test_codedeploy_cluster_given_as_arn_and_service_on_external_cluster(bg):
    dg = dg_props(ecsService={"clusterName": CL_ARN, "serviceName": "api"})
    assert bg.analyze_stack(codedeploy_stack(dg=dg)) == []
    # The service's cluster is not in the stack (other rules' concern): the name comes from its ARN.
    other = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/shared"
    service = codedeploy_service(cluster=other)
    assert_violation(bg.analyze_stack(codedeploy_stack(service=service)), "blue-green-deployment-complete", urn=svc_urn(),
                     path="deploymentGroup:dg.ecsService.clusterName", only=True)
    dg = dg_props(ecsService={"clusterName": "shared", "serviceName": "api"})
    assert bg.analyze_stack(codedeploy_stack(service=service, dg=dg)) == []


def test_codedeploy_service_on_default_cluster(bg):
    service = codedeploy_service()
    del service["props"]["cluster"]
    dg = dg_props(ecsService={"clusterName": "default", "serviceName": "api"})
    assert bg.analyze_stack(codedeploy_stack(service=service, dg=dg)) == []


CODEDEPLOY_BROKEN = [
    ("no-app-name", dict(appName=None), "appName"),
    ("app-not-in-stack", dict(appName="somebody-elses-app"), "appName"),
    ("no-style", dict(deploymentStyle=None), "deploymentStyle"),
    ("in-place", dict(deploymentStyle={"deploymentType": "IN_PLACE", "deploymentOption": "WITH_TRAFFIC_CONTROL"}),
     "deploymentStyle.deploymentType"),
    ("no-traffic-control", dict(deploymentStyle={"deploymentType": "BLUE_GREEN",
                                                 "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"}),
     "deploymentStyle.deploymentOption"),
    ("style-type-unset", dict(deploymentStyle={"deploymentOption": "WITH_TRAFFIC_CONTROL"}),
     "deploymentStyle.deploymentType"),
    ("no-bg-config", dict(blueGreenDeploymentConfig=None), "blueGreenDeploymentConfig"),
    ("empty-bg-config", dict(blueGreenDeploymentConfig={}), "blueGreenDeploymentConfig"),
    ("no-lb-info", dict(loadBalancerInfo=None), "loadBalancerInfo.targetGroupPairInfo"),
    ("no-pair", dict(loadBalancerInfo={"elbInfos": [{"name": "x"}]}), "loadBalancerInfo.targetGroupPairInfo"),
    ("one-tg", dict(loadBalancerInfo={"targetGroupPairInfo": {
        "targetGroups": [{"name": "payments-blue"}], "prodTrafficRoute": {"listenerArns": [LIS_ARN]}}}),
     "loadBalancerInfo.targetGroupPairInfo.targetGroups"),
    ("same-tg-twice", dict(loadBalancerInfo={"targetGroupPairInfo": {
        "targetGroups": [{"name": "payments-blue"}, {"name": "payments-blue"}],
        "prodTrafficRoute": {"listenerArns": [LIS_ARN]}}}), "loadBalancerInfo.targetGroupPairInfo.targetGroups[1].name"),
    ("tg-not-in-stack", dict(loadBalancerInfo={"targetGroupPairInfo": {
        "targetGroups": [{"name": "payments-blue"}, {"name": "legacy-green"}],
        "prodTrafficRoute": {"listenerArns": [LIS_ARN]}}}), "loadBalancerInfo.targetGroupPairInfo.targetGroups[1].name"),
    ("tg-without-name", dict(loadBalancerInfo={"targetGroupPairInfo": {
        "targetGroups": [{"name": "payments-blue"}, {}], "prodTrafficRoute": {"listenerArns": [LIS_ARN]}}}),
     "loadBalancerInfo.targetGroupPairInfo.targetGroups[1]"),
    ("no-prod-route", dict(loadBalancerInfo={"targetGroupPairInfo": {
        "targetGroups": [{"name": "payments-blue"}, {"name": "payments-green"}]}}), "loadBalancerInfo.targetGroupPairInfo.prodTrafficRoute"),
    ("empty-prod-route", dict(loadBalancerInfo={"targetGroupPairInfo": {
        "targetGroups": [{"name": "payments-blue"}, {"name": "payments-green"}],
        "prodTrafficRoute": {"listenerArns": []}}}), "loadBalancerInfo.targetGroupPairInfo.prodTrafficRoute"),
    ("external-listener", dict(loadBalancerInfo={"targetGroupPairInfo": {
        "targetGroups": [{"name": "payments-blue"}, {"name": "payments-green"}],
        "prodTrafficRoute": {"listenerArns": [f"{ELB}:listener/app/legacy/1/2"]}}}),
     "loadBalancerInfo.targetGroupPairInfo.prodTrafficRoute.listenerArns[0]"),
    ("no-rollback", dict(autoRollbackConfiguration=None), "autoRollbackConfiguration"),
    ("rollback-disabled", dict(autoRollbackConfiguration={"enabled": False, "events": ["DEPLOYMENT_FAILURE"]}),
     "autoRollbackConfiguration.enabled"),
    ("rollback-wrong-event", dict(autoRollbackConfiguration={"enabled": True,
                                                             "events": ["DEPLOYMENT_STOP_ON_ALARM"]}),
     "autoRollbackConfiguration.events"),
    ("rollback-no-events", dict(autoRollbackConfiguration={"enabled": True}), "autoRollbackConfiguration.events"),
    ("no-cluster-name", dict(ecsService={"serviceName": "api"}), "ecsService.clusterName"),
]
@pytest.mark.parametrize("flavour", ["lb", "alb"])
@pytest.mark.parametrize("case, overrides, path", CODEDEPLOY_BROKEN, ids=[c[0] for c in CODEDEPLOY_BROKEN])
def test_codedeploy_each_missing_piece(bg, flavour, case, overrides, path):
    props = dg_props(**overrides)
    props = {k: v for k, v in props.items() if v is not None}
    diags = bg.analyze_stack(codedeploy_stack(flavour, dg=props))
    # the service is at fault, through the property of its deployment group 'dg'
    assert_violation(diags, "blue-green-deployment-complete", urn=svc_urn(), path="deploymentGroup:dg." + path, level="mandatory", only=True)


@pytest.mark.parametrize("app", [
    {"name": "payments-app", "computePlatform": "Server"},
    {"name": "payments-app"},  # the default is Server
    {"name": "payments-app", "computePlatform": "Lambda"},
])
def test_codedeploy_application_platform(bg, app):
    assert_violation(bg.analyze_stack(codedeploy_stack(app=app)), "blue-green-deployment-complete", urn=svc_urn(), path="deploymentGroup:dg.appName",
                     only=True)


def test_codedeploy_everything_missing_reports_each_piece(bg):
    dg = {"appName": "payments-app", "ecsService": {"clusterName": "payments", "serviceName": "api"}}
    diags = bg.analyze_stack(codedeploy_stack(dg=dg))
    assert sorted(d.path for d in diags) == ["deploymentGroup:dg." + p for p in (
        "autoRollbackConfiguration", "blueGreenDeploymentConfig", "deploymentStyle",
        "loadBalancerInfo.targetGroupPairInfo")]
    assert {d.urn for d in diags} == {svc_urn()}


def test_codedeploy_one_complete_group_is_enough(bg):
    resources = codedeploy_stack()
    resources.append(resource(DG, "dg-broken", dg_props(autoRollbackConfiguration=None)))
    assert bg.analyze_stack(resources) == []


def test_codedeploy_two_services_same_name_in_two_clusters(bg):
    net = network()
    other_cluster = resource(CL, "cluster2", {"arn": CL_ARN + "-eu", "name": "payments-eu"})
    app = resource(APP, "app", {"name": "payments-app", "computePlatform": "ECS"})
    svc_a = codedeploy_service()
    svc_b = {**codedeploy_service(), "name": "api-eu", "urn": urn(SVC, "api-eu")}
    svc_b["props"] = {**svc_b["props"], "cluster": CL_ARN + "-eu"}
    dg_a = resource(DG, "dg-a", dg_props())
    resources = list(net.values()) + [other_cluster, app, svc_a, svc_b, dg_a]
    diags = bg.analyze_stack(resources)
    assert_violation(diags, "blue-green-deployment-complete", urn=urn(SVC, "api-eu"),
                     path="deploymentGroup:dg-a.ecsService.clusterName", only=True)
    dg_b = resource(DG, "dg-b", dg_props(ecsService={"clusterName": "payments-eu", "serviceName": "api"}))
    assert bg.analyze_stack(resources + [dg_b]) == []


# preview: values from other resources' outputs are unknown; links come from property dependencies

def _preview_codedeploy(bound_to=("svc", "cluster"), app_dep=True):
    net = network()
    for key in ("blue", "green", "lis", "lb", "rule", "cluster"):
        net[key]["props"]["arn"] = UNKNOWN
    app = resource(APP, "app", {"name": "payments-app", "computePlatform": "ECS"})
    service = codedeploy_service(cluster=UNKNOWN)
    service["propertyDependencies"] = {"cluster": [net["cluster"]["urn"]]}
    links = {"svc": service["urn"], "cluster": net["cluster"]["urn"], "other": urn(SVC, "worker")}
    dg = resource(DG, "dg", dg_props(
        appName=UNKNOWN, ecsService={"clusterName": UNKNOWN, "serviceName": UNKNOWN},
        loadBalancerInfo={"targetGroupPairInfo": {"targetGroups": [{"name": UNKNOWN}, {"name": UNKNOWN}],
                                                  "prodTrafficRoute": {"listenerArns": [UNKNOWN]}}}),
        propertyDependencies={"ecsService": [links[b] for b in bound_to],
                              "appName": [app["urn"]] if app_dep else [],
                              "loadBalancerInfo": [net["blue"]["urn"], net["green"]["urn"], net["lis"]["urn"]]})
    worker = resource(SVC, "worker", {"name": "worker", "cluster": CL_ARN})
    return list(net.values()) + [app, service, dg, worker]


def test_codedeploy_preview_links_through_property_dependencies(bg):
    assert bg.analyze_stack(_preview_codedeploy()) == []
    assert bg.analyze_stack(_preview_codedeploy(app_dep=False)) == []


def test_codedeploy_preview_group_bound_to_another_service(bg):
    diags = bg.analyze_stack(_preview_codedeploy(bound_to=("other", "cluster")))
    assert_violation(diags, "blue-green-deployment-complete", urn=svc_urn(), path="deploymentController", only=True)


def test_codedeploy_preview_group_with_undetermined_binding_is_lenient(bg):
    assert bg.analyze_stack(_preview_codedeploy(bound_to=())) == []


def test_codedeploy_preview_app_platform_checked_through_dependency(bg):
    resources = _preview_codedeploy()
    for r in resources:
        if r["type"] == APP:
            r["props"]["computePlatform"] = "Server"
    assert_violation(bg.analyze_stack(resources), "blue-green-deployment-complete", urn=svc_urn(), path="deploymentGroup:dg.appName", only=True)


def test_codedeploy_whole_blocks_unknown(bg):
    dg = dg_props(ecsService=UNKNOWN, deploymentStyle=UNKNOWN, blueGreenDeploymentConfig=UNKNOWN,
                  loadBalancerInfo=UNKNOWN, autoRollbackConfiguration=UNKNOWN, appName=UNKNOWN)
    service = codedeploy_service()
    resources = codedeploy_stack(service=service, dg=dg, dg_links={"propertyDependencies": {
        "ecsService": [service["urn"]]}})
    assert bg.analyze_stack(resources) == []


def test_known_literal_target_group_name_with_unknown_stack_name_is_lenient(bg):
    resources = codedeploy_stack()
    for r in resources:
        if r["name"] == "green":
            r["props"]["name"] = UNKNOWN
    dg = next(r for r in resources if r["type"] == DG)
    dg["propertyDependencies"] = {"loadBalancerInfo": [urn(TOKENS["lb"]["TG"], "green")]}
    assert bg.analyze_stack(resources) == []


# --- blue-green-deployment-complete: ECS-native ----------------------------------------------

@pytest.mark.parametrize("flavour", ["lb", "alb"])
@pytest.mark.parametrize("strategy", ["BLUE_GREEN", "LINEAR", "CANARY"])
def test_native_complete(bg, flavour, strategy):
    assert bg.analyze_stack(native_stack(flavour, strategy)) == []


def test_native_single_target_group_forward_plus_weighted(bg):
    resources = native_stack()
    rule = next(r for r in resources if r["name"] == "prod")
    rule["props"]["actions"] = [{"type": "authenticate-oidc", "order": 1.0},
                                {"type": "forward", "forward": [{"targetGroups": [{"arn": BLUE_ARN},
                                                                                  {"arn": GREEN_ARN}]}]}]
    assert bg.analyze_stack(resources) == []


@pytest.mark.parametrize("flavour", ["lb", "alb"])
def test_native_nlb_listener_as_production_route(bg, flavour):
    net = network(flavour, nlb=True)
    service = native_service()
    service["props"]["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"] = NLIS_ARN
    assert bg.analyze_stack(list(net.values()) + [service]) == []
    # An ALB listener is not accepted in place of a rule.
    service["props"]["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"] = LIS_ARN
    assert_violation(bg.analyze_stack(list(net.values()) + [service]), "blue-green-deployment-complete", urn=svc_urn(), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)


def _adv(**changes):
    adv = {"alternateTargetGroupArn": GREEN_ARN, "productionListenerRule": LR_ARN, "roleArn": ROLE_ARN}
    adv.update(changes)
    return {k: v for k, v in adv.items() if v is not None}


def _lbs(adv=None, primary=BLUE_ARN, drop_adv=False):
    entry = {"targetGroupArn": primary, "containerName": "api", "containerPort": 8080.0}
    if not drop_adv:
        entry["advancedConfiguration"] = adv if adv is not None else _adv()
    return [entry]


NATIVE_BROKEN = [
    ("no-advanced", dict(loadBalancers=_lbs(drop_adv=True)), "loadBalancers[0].advancedConfiguration"),
    ("no-alternate", dict(loadBalancers=_lbs(_adv(alternateTargetGroupArn=None))),
     "loadBalancers[0].advancedConfiguration.alternateTargetGroupArn"),
    ("external-alternate", dict(loadBalancers=_lbs(_adv(alternateTargetGroupArn=OTHER_TG_ARN))),
     "loadBalancers[0].advancedConfiguration.alternateTargetGroupArn"),
    ("alternate-is-primary", dict(loadBalancers=_lbs(_adv(alternateTargetGroupArn=BLUE_ARN))),
     "loadBalancers[0].advancedConfiguration.alternateTargetGroupArn"),
    ("no-rule", dict(loadBalancers=_lbs(_adv(productionListenerRule=None))), "loadBalancers[0].advancedConfiguration.productionListenerRule"),
    ("external-rule", dict(loadBalancers=_lbs(_adv(productionListenerRule=LR_ARN + "0"))),
     "loadBalancers[0].advancedConfiguration.productionListenerRule"),
    ("no-role", dict(loadBalancers=_lbs(_adv(roleArn=None))), "loadBalancers[0].advancedConfiguration.roleArn"),
    ("empty-role", dict(loadBalancers=_lbs(_adv(roleArn=""))), "loadBalancers[0].advancedConfiguration.roleArn"),
    ("no-breaker", dict(deploymentCircuitBreaker=None), "deploymentCircuitBreaker"),
    ("no-rollback", dict(deploymentCircuitBreaker={"enable": True, "rollback": False}),
     "deploymentCircuitBreaker.rollback"),
    ("breaker-disabled", dict(deploymentCircuitBreaker={"enable": False, "rollback": True}),
     "deploymentCircuitBreaker.enable"),
]


@pytest.mark.parametrize("flavour", ["lb", "alb"])
@pytest.mark.parametrize("case, overrides, path", NATIVE_BROKEN, ids=[c[0] for c in NATIVE_BROKEN])
def test_native_each_missing_piece(bg, flavour, case, overrides, path):
    overrides = copy.deepcopy(overrides)
    resources = native_stack(flavour, **overrides)
    for r in resources:
        if r["type"] == SVC:
            r["props"] = {k: v for k, v in r["props"].items() if v is not None}
    diags = bg.analyze_stack(resources)
    assert_violation(diags, "blue-green-deployment-complete", urn=svc_urn(), path=path, level="mandatory", only=True)


@pytest.mark.parametrize("flavour", ["lb", "alb"])
def test_native_rule_not_forwarding_to_both(bg, flavour):
    resources = native_stack(flavour)
    rule = next(r for r in resources if r["name"] == "prod")
    rule["props"]["actions"] = [{"type": "forward", "targetGroupArn": BLUE_ARN}]
    assert_violation(bg.analyze_stack(resources), "blue-green-deployment-complete", urn=svc_urn(), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)
    rule["props"]["actions"] = [{"type": "forward", "forward": {"targetGroups": [{"arn": OTHER_TG_ARN}]}}]
    assert_violation(bg.analyze_stack(resources), "blue-green-deployment-complete", urn=svc_urn(), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)
    rule["props"]["actions"] = [{"type": "fixed-response", "fixedResponse": {"contentType": "text/plain"}}]
    assert_violation(bg.analyze_stack(resources), "blue-green-deployment-complete", urn=svc_urn(), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)


@pytest.mark.parametrize("flavour", ["lb", "alb"])
def test_native_rule_on_foreign_listener_or_lb(bg, flavour):
    resources = native_stack(flavour)
    rule = next(r for r in resources if r["name"] == "prod")
    rule["props"]["listenerArn"] = f"{ELB}:listener/app/legacy/1/2"
    rule["propertyDependencies"] = {}
    assert_violation(bg.analyze_stack(resources), "blue-green-deployment-complete", urn=svc_urn(), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)
    rule["props"]["listenerArn"] = LIS_ARN
    lis = next(r for r in resources if r["name"] == "https")
    lis["props"]["loadBalancerArn"] = f"{ELB}:loadbalancer/app/legacy/1"
    lis["propertyDependencies"] = {}
    assert_violation(bg.analyze_stack(resources), "blue-green-deployment-complete", urn=svc_urn(), path="loadBalancers[0].advancedConfiguration.productionListenerRule", only=True)


def test_native_every_load_balancer_entry_is_checked(bg):
    entries = _lbs() + [{"targetGroupArn": GREEN_ARN, "containerName": "api", "containerPort": 8443.0}]
    diags = bg.analyze_stack(native_stack(loadBalancers=entries))
    assert_violation(diags, "blue-green-deployment-complete", urn=svc_urn(), path="loadBalancers[1].advancedConfiguration", only=True)


def test_native_without_load_balancers_only_needs_breaker(bg):
    """Service Connect blue/green has no load balancer: only the circuit breaker applies."""
    assert bg.analyze_stack(native_stack(loadBalancers=[])) == []
    diags = bg.analyze_stack(native_stack(loadBalancers=[], deploymentCircuitBreaker={"enable": True}))
    assert_violation(diags, "blue-green-deployment-complete", urn=svc_urn(), path="deploymentCircuitBreaker.rollback", only=True)


def test_native_preview_unknown_values_are_lenient(bg):
    resources = native_stack()
    for r in resources:
        if "arn" in r["props"]:
            r["props"]["arn"] = UNKNOWN
    service = resources[-1]
    service["props"]["loadBalancers"] = [{"targetGroupArn": UNKNOWN, "containerName": "api", "containerPort": 8080.0,
                                          "advancedConfiguration": {"alternateTargetGroupArn": UNKNOWN,
                                                                    "productionListenerRule": UNKNOWN,
                                                                    "roleArn": UNKNOWN}}]
    assert bg.analyze_stack(resources) == []
    service["props"]["loadBalancers"] = [{"targetGroupArn": UNKNOWN, "containerName": "api", "containerPort": 8080.0,
                                          "advancedConfiguration": UNKNOWN}]
    assert bg.analyze_stack(resources) == []
    service["props"]["loadBalancers"] = UNKNOWN
    service["props"]["deploymentCircuitBreaker"] = UNKNOWN
    assert bg.analyze_stack(resources) == []


def test_native_preview_rule_actions_unknown(bg):
    resources = native_stack()
    rule = next(r for r in resources if r["name"] == "prod")
    rule["props"]["actions"] = [{"type": "forward", "forward": {"targetGroups": [{"arn": BLUE_ARN}, {"arn": UNKNOWN}]}}]
    assert bg.analyze_stack(resources) == []
    rule["props"]["actions"] = UNKNOWN
    assert bg.analyze_stack(resources) == []
    rule["props"]["listenerArn"] = UNKNOWN
    assert bg.analyze_stack(resources) == []


def test_known_external_arn_with_unknown_stack_arns_is_reported(bg):
    """A known literal ARN cannot be the output of a resource whose ARN is still unknown."""
    resources = native_stack()
    for r in resources:
        if r["name"] in ("blue", "green"):
            r["props"]["arn"] = UNKNOWN
    service = resources[-1]
    service["props"]["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"] = OTHER_TG_ARN
    rule = next(r for r in resources if r["name"] == "prod")
    rule["props"]["actions"] = UNKNOWN
    assert_violation(bg.analyze_stack(resources), "blue-green-deployment-complete", urn=svc_urn(),
                     path="loadBalancers[0].advancedConfiguration.alternateTargetGroupArn", only=True)
    # ... unless the property depends on a target group whose ARN is unknown (decided at `up`).
    service["propertyDependencies"] = {"loadBalancers": [urn(TOKENS["lb"]["TG"], "green")]}
    assert bg.analyze_stack(resources) == []


def test_rolling_and_external_services_are_not_blue_green(bg):
    resources = list(network().values()) + [
        resource(SVC, "api", {"name": "api"}),
        resource(SVC, "legacy", {"name": "legacy", "deploymentController": {"type": "EXTERNAL"}}),
        resource(SVC, "later", {"name": "later", "deploymentController": UNKNOWN}),
    ]
    assert bg.analyze_stack(resources) == []
    assert bg.analyze_stack([]) == []


def test_seed_7_comment_claims_blue_green_but_rolling(bg):
    """Seed 7: the comment claims CodeDeploy, the controller is ECS: rolling, not this rule's business;
    a CODE_DEPLOY controller with no application nor group is."""
    h = Harness(ALL)
    service = codedeploy_service()
    diags = h.analyze_stack(list(network().values()) + [service])
    assert policies_of(diags) == ["blue-green-deployment-complete"]


# --- malformed input never raises --------------------------------------------------------------

MALFORMED_DG = [
    {"ecsService": "api"}, {"ecsService": {"serviceName": 5.0}}, {"ecsService": [1, 2]},
    dg_props(deploymentStyle="BLUE_GREEN"), dg_props(deploymentStyle={"deploymentType": 7.0}),
    dg_props(loadBalancerInfo="x"), dg_props(loadBalancerInfo={"targetGroupPairInfo": "x"}),
    dg_props(loadBalancerInfo={"targetGroupPairInfo": {"targetGroups": "blue", "prodTrafficRoute": 5.0}}),
    dg_props(loadBalancerInfo={"targetGroupPairInfo": {"targetGroups": [None, 5.0, [], {"name": ["a"]}],
                                                       "prodTrafficRoute": {"listenerArns": [None, 3.0, {}]}}}),
    dg_props(autoRollbackConfiguration={"enabled": "maybe", "events": "DEPLOYMENT_FAILURE"}),
    dg_props(autoRollbackConfiguration=[1.0]), dg_props(appName=["a"]), dg_props(blueGreenDeploymentConfig=3.0),
]


@pytest.mark.parametrize("dg", MALFORMED_DG)
def test_malformed_deployment_groups_never_raise(bg, dg):
    diags = bg.analyze_stack(codedeploy_stack(dg=dg))
    assert all(d.policy == "blue-green-deployment-complete" and d.urn == svc_urn() for d in diags)


MALFORMED_SVC = [
    {"loadBalancers": "tg"}, {"loadBalancers": [None, 5.0, "x", {"advancedConfiguration": "x"}]},
    {"loadBalancers": [{"targetGroupArn": 5.0, "advancedConfiguration": {"alternateTargetGroupArn": [1],
                                                                         "productionListenerRule": {},
                                                                         "roleArn": 3.0}}]},
    {"loadBalancers": {"targetGroupArn": BLUE_ARN, "advancedConfiguration": [_adv()]}},
    {"deploymentCircuitBreaker": [1, 2]}, {"name": 5.0}, {"cluster": ["x"]},
]


@pytest.mark.parametrize("changes", MALFORMED_SVC)
def test_malformed_services_never_raise(changes):
    h = Harness(ALL)
    native, cd = native_service(), codedeploy_service(name="cd")
    native["props"].update(changes)
    cd["props"].update(changes)
    resources = list(network().values()) + [native, cd, resource(DG, "dg", dg_props())]
    for diag in h.analyze_stack(resources) + h.analyze(SVC, native["props"]) + h.analyze(SVC, cd["props"]):
        assert diag.policy in ALL


def test_malformed_network_resources_never_raise(bg):
    resources = native_stack()
    for r in resources:
        if r["type"] != SVC:
            r["props"] = {"arn": r["props"].get("arn"), "actions": "forward", "listenerArn": 5.0,
                          "loadBalancerArn": [1], "defaultActions": {"type": 1}, "name": ["x"]}
    diags = bg.analyze_stack(resources)
    assert all(d.policy == "blue-green-deployment-complete" for d in diags)


JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
                    | st.sampled_from([UNKNOWN, "ECS", "CODE_DEPLOY", "BLUE_GREEN", "ROLLING", BLUE_ARN, LR_ARN]),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(
                        st.sampled_from(["type", "strategy", "enable", "rollback", "targetGroupArn", "arn", "name",
                                         "advancedConfiguration", "alternateTargetGroupArn", "productionListenerRule",
                                         "roleArn", "forward", "targetGroups", "serviceName", "clusterName"]),
                        children, max_size=4), max_leaves=12)
SVC_KEYS = st.sampled_from(["deploymentController", "deploymentConfiguration", "deploymentCircuitBreaker",
                            "deploymentMinimumHealthyPercent", "deploymentMaximumPercent", "loadBalancers",
                            "schedulingStrategy", "name", "cluster"])
DG_KEYS = st.sampled_from(["ecsService", "appName", "deploymentStyle", "blueGreenDeploymentConfig",
                           "loadBalancerInfo", "autoRollbackConfiguration"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(svc=st.dictionaries(SVC_KEYS, JSON, max_size=6), dg=st.dictionaries(DG_KEYS, JSON, max_size=6),
       rule_actions=JSON)
def test_fuzz_never_raises(svc, dg, rule_actions):
    h = Harness(ALL)
    h.analyze(SVC, svc)
    net = network()
    net["rule"]["props"]["actions"] = rule_actions
    h.analyze_stack(list(net.values()) + [resource(SVC, "svc", svc), resource(DG, "dg", dg),
                                          codedeploy_service(), native_service(name="n", **{
                                              k: v for k, v in svc.items() if k == "loadBalancers"})])
