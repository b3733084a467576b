"""The one reference resolver of stack rules (`StackView.resolve`) and the decisions it lets them
make at preview: a reference that is unknown at a first `pulumi preview` is resolved through the
resource's property dependencies (then its dependencies), so a stack that is wrong only through
them fails at preview as it does at `up`; a value that nothing decides is reported not-applicable
with its reason, never silently passed.

Every stack here is built twice from the same description: "update" (outputs known, as
AnalyzeStack sees them at `pulumi up`) and "preview" (every output of a created resource and
every reference built from one unknown, with the property dependencies the engine sends).
"""
import json
import re

import pytest
from pulumi.runtime import proto

from harness import UNKNOWN, Harness, resource, secret, to_struct, urn
from policypack import props as P
from policypack.rule import (ABSENT, EXTERNAL, RESOLVED, UNDECIDABLE, UNKNOWN_EXTERNAL, StackView)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
MODES = ["update", "preview"]

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
RT = "aws:ec2/routeTable:RouteTable"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
SG = "aws:ec2/securityGroup:SecurityGroup"
VPCE = "aws:ec2/vpcEndpoint:VpcEndpoint"
SVC = "aws:ecs/service:Service"
TD = "aws:ecs/taskDefinition:TaskDefinition"
CL = "aws:ecs/cluster:Cluster"
LB = "aws:lb/loadBalancer:LoadBalancer"
LIS = "aws:lb/listener:Listener"
LR = "aws:lb/listenerRule:ListenerRule"
TG = "aws:lb/targetGroup:TargetGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"

ENDPOINTS = "vpc-endpoints-for-private-tasks"
BLUE_GREEN = "blue-green-deployment-complete"
BEHIND_ALB = "ecs-service-behind-stack-alb"


# --- reading diagnostics -----------------------------------------------------------------------
def path_of(diag):
    """The property path a diagnostic carries (the servicer appends it as a stable anchor)."""
    found = getattr(diag, "path", None)
    if found:
        return found
    match = re.search(r"\[property: (.+)\]\s*$", diag.message)
    return match.group(1) if match else ""


def findings(diags):
    return sorted((d.policy, d.urn, path_of(d), d.level) for d in diags)


def stack_not_applicable(harness, resources):
    """policy name -> reason of the stack policies that reported not-applicable."""
    request = proto.AnalyzeStackRequest()
    for r in resources:
        item = proto.AnalyzerResource(type=r["type"], name=r["name"], urn=r["urn"],
                                      properties=to_struct(r.get("props", {})),
                                      dependencies=list(r.get("dependencies", [])))
        for prop, urns in (r.get("propertyDependencies") or {}).items():
            item.propertyDependencies[prop].urns.extend(urns)
        request.resources.append(item)
    response = harness.servicer.AnalyzeStack(request, None)
    return {n.policy_name: n.reason for n in response.not_applicable}


@pytest.fixture(scope="module")
def harnesses():
    """One servicer per mode: AnalyzeStack at `up` (dry_run false) and at preview."""
    names = [ENDPOINTS, BLUE_GREEN, BEHIND_ALB, "vpc-flow-logs", "fargate-capacity-providers"]
    return {"update": Harness(names, dry_run=False), "preview": Harness(names, dry_run=True)}


# --- a stack description, built for a mode -----------------------------------------------------
class Stack:
    """Resources whose outputs and references are known (update) or unknown (preview)."""

    def __init__(self, mode):
        self.preview = mode == "preview"
        self.resources = {}

    def add(self, type_, name, outputs, inputs=None, refs=None):
        """`outputs`: what the provider computes (unknown at preview); `inputs`: literals;
        `refs`: property -> (value built from other resources' outputs, [their names])."""
        props = {k: (UNKNOWN if self.preview else v) for k, v in outputs.items()}
        props.update(inputs or {})
        deps = {}
        for prop, (value, sources) in (refs or {}).items():
            if self.preview:  # a whole value is the output it comes from; inside structures, the ids
                value = UNKNOWN if isinstance(value, str) else _unknown_leaves(value)
            props[prop] = value
            deps[prop] = [self.resources[s]["urn"] for s in sources]
        self.resources[name] = resource(type_, name, props, propertyDependencies=deps,
                                        dependencies=sorted({u for us in deps.values() for u in us}))
        return self.resources[name]

    def list(self):
        return list(self.resources.values())


def _unknown_leaves(value):
    """At preview every string built from an output is unknown; structure and literals stay."""
    if isinstance(value, dict):
        return {k: _unknown_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknown_leaves(v) for v in value]
    return UNKNOWN if isinstance(value, str) and (value.startswith(("vpc-", "subnet-", "rtb-", "sg-", "arn:"))) \
        else value


def vpc_id(n):
    return f"vpc-0{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}"


def elb_arn(kind, name):
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:{kind}/{name}/0123456789abcdef"


def private_network(stack, tables=1, endpoint_vpc="a", gateway_tables=None, endpoint_vpc_dep=True):
    """VPC a (the service's, `tables` private subnets each with its own route table) and VPC b; a
    private Fargate service in VPC a; ecr.api, ecr.dkr and the s3 gateway endpoint in
    `endpoint_vpc`, the gateway on the route tables numbered `gateway_tables` (default: all)."""
    for n, letter in ((1, "a"), (2, "b")):
        stack.add(VPC, f"vpc-{letter}", {"id": vpc_id(n), "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{vpc_id(n)}"},
                  {"cidrBlock": f"10.{n}.0.0/16"})
    subnets = []
    for i in range(tables):
        stack.add(SUBNET, f"private-{i}", {"id": f"subnet-0{i}000000000000000"},
                  {"cidrBlock": f"10.1.{i}.0/24"}, refs={"vpcId": (vpc_id(1), ["vpc-a"])})
        stack.add(RT, f"private-rt-{i}", {"id": f"rtb-0{i}000000000000000"}, refs={"vpcId": (vpc_id(1), ["vpc-a"])})
        stack.add(RTA, f"private-rta-{i}", {"id": f"rtbassoc-0{i}"},
                  refs={"subnetId": (f"subnet-0{i}000000000000000", [f"private-{i}"]),
                        "routeTableId": (f"rtb-0{i}000000000000000", [f"private-rt-{i}"])})
        subnets.append(f"private-{i}")
    stack.add(SG, "app", {"id": "sg-0aaaaaaaaaaaaaaa1"}, refs={"vpcId": (vpc_id(1), ["vpc-a"])})
    stack.add(TD, "app", {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:1"},
              {"family": "app", "containerDefinitions": json.dumps([{"name": "app", "image": "app:1"}])})
    stack.add(SVC, "api", {"id": "api"}, {"name": "api", "launchType": "FARGATE"}, refs={
        "taskDefinition": (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:1", ["app"]),
        "networkConfiguration": ({"subnets": [f"subnet-0{i}000000000000000" for i in range(tables)],
                                  "securityGroups": ["sg-0aaaaaaaaaaaaaaa1"], "assignPublicIp": False},
                                 subnets + ["app"])})
    target = {"a": (vpc_id(1), ["vpc-a"]), "b": (vpc_id(2), ["vpc-b"])}[endpoint_vpc]
    if not endpoint_vpc_dep:
        target = (target[0], [])
    for service in ("ecr.api", "ecr.dkr"):
        stack.add(VPCE, service, {"id": f"vpce-{service}"}, {
            "serviceName": f"com.amazonaws.{REGION}.{service}", "vpcEndpointType": "Interface",
            "privateDnsEnabled": True}, refs={"vpcId": target})
    chosen = range(tables) if gateway_tables is None else gateway_tables
    stack.add(VPCE, "s3", {"id": "vpce-s3"}, {"serviceName": f"com.amazonaws.{REGION}.s3",
                                              "vpcEndpointType": "Gateway"},
              refs={"vpcId": target,
                    "routeTableIds": ([f"rtb-0{i}000000000000000" for i in chosen], [f"private-rt-{i}" for i in chosen])})
    return stack


def native_blue_green(stack, forward=("blue", "green")):
    """An ECS-native blue/green service whose production listener rule forwards to `forward`."""
    stack.add(LB, "alb", {"arn": elb_arn("loadbalancer/app", "alb")}, {"loadBalancerType": "application"})
    stack.add(LIS, "https", {"arn": elb_arn("listener/app", "https")},
              {"port": 443.0, "protocol": "HTTPS", "defaultActions": [{"type": "fixed-response"}]},
              refs={"loadBalancerArn": (elb_arn("loadbalancer/app", "alb"), ["alb"])})
    for colour in ("blue", "green"):
        stack.add(TG, colour, {"arn": elb_arn("targetgroup", colour), "name": f"api-{colour}"},
                  {"port": 8080.0, "protocol": "HTTP", "targetType": "ip"})
    stack.add(LR, "prod", {"arn": elb_arn("listener-rule/app", "prod")}, {"priority": 10.0}, refs={
        "listenerArn": (elb_arn("listener/app", "https"), ["https"]),
        "actions": ([{"type": "forward", "forward": {"targetGroups": [
            {"arn": elb_arn("targetgroup", c), "weight": 100.0 if c == "blue" else 0.0} for c in forward]}}],
            list(forward))})
    stack.add(CL, "cluster", {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments", "name": "payments"})
    stack.add(SVC, "api", {"id": "api"}, {
        "name": "api", "deploymentConfiguration": {"strategy": "BLUE_GREEN"},
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}}, refs={
        "cluster": (f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments", ["cluster"]),
        "loadBalancers": ([{"targetGroupArn": elb_arn("targetgroup", "blue"), "containerName": "api",
                            "containerPort": 8080.0, "advancedConfiguration": {
                                "alternateTargetGroupArn": elb_arn("targetgroup", "green"),
                                "productionListenerRule": elb_arn("listener-rule/app", "prod"),
                                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-lb"}}],
                          ["blue", "green", "prod"])})
    return stack


def only(diags, policy):
    return [d for d in diags if d.policy == policy]


# --- item 5: endpoints created in another VPC ---------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_endpoints_in_the_service_vpc_pass(harnesses, mode):
    stack = private_network(Stack(mode), tables=2)
    assert only(harnesses[mode].analyze_stack(stack.list()), ENDPOINTS) == []


@pytest.mark.parametrize("mode", MODES)
def test_endpoints_created_in_another_vpc_fail(harnesses, mode):
    stack = private_network(Stack(mode), tables=2, endpoint_vpc="b")
    service = stack.resources["api"]["urn"]
    got = findings(only(harnesses[mode].analyze_stack(stack.list()), ENDPOINTS))
    assert got == [(ENDPOINTS, service, f"networkConfiguration.subnets ({e} endpoint)", "mandatory")
                   for e in ("ecr.api", "ecr.dkr", "s3")]


# --- item 5: the s3 gateway on one of three private route tables -------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_s3_gateway_on_every_private_route_table_passes(harnesses, mode):
    stack = private_network(Stack(mode), tables=3)
    assert only(harnesses[mode].analyze_stack(stack.list()), ENDPOINTS) == []


@pytest.mark.parametrize("mode", MODES)
def test_s3_gateway_on_one_of_three_private_route_tables_fails(harnesses, mode):
    stack = private_network(Stack(mode), tables=3, gateway_tables=[1])
    got = findings(only(harnesses[mode].analyze_stack(stack.list()), ENDPOINTS))
    assert got == [(ENDPOINTS, stack.resources["api"]["urn"], "networkConfiguration.subnets (s3 endpoint)",
                    "mandatory")]


# --- item 5: an ECS-native production listener rule forwarding to the primary only -------------
@pytest.mark.parametrize("mode", MODES)
def test_production_rule_forwarding_to_both_target_groups_passes(harnesses, mode):
    stack = native_blue_green(Stack(mode))
    diags = harnesses[mode].analyze_stack(stack.list())
    assert only(diags, BLUE_GREEN) == [] and only(diags, BEHIND_ALB) == []


@pytest.mark.parametrize("mode", MODES)
def test_production_rule_forwarding_to_the_primary_only_fails(harnesses, mode):
    stack = native_blue_green(Stack(mode), forward=("blue",))
    diags = harnesses[mode].analyze_stack(stack.list())
    assert findings(only(diags, BLUE_GREEN)) == [
        (BLUE_GREEN, stack.resources["api"]["urn"], "loadBalancers[0].advancedConfiguration.productionListenerRule",
         "mandatory")]
    assert only(diags, BEHIND_ALB) == []  # it does forward to the primary target group


@pytest.mark.parametrize("mode", MODES)
def test_production_rule_forwarding_to_the_alternate_only_fails(harnesses, mode):
    stack = native_blue_green(Stack(mode), forward=("green",))
    diags = harnesses[mode].analyze_stack(stack.list())
    assert [path_of(d) for d in only(diags, BLUE_GREEN)] == [
        "loadBalancers[0].advancedConfiguration.productionListenerRule"]
    behind = only(diags, BEHIND_ALB)
    if mode == "update":  # the rule does not forward to the primary target group
        assert findings(behind) == [(BEHIND_ALB, stack.resources["api"]["urn"],
                                     "loadBalancers[0].advancedConfiguration.productionListenerRule", "mandatory")]
    else:  # which candidate is the primary is not known at preview: said, not passed
        assert behind == [] and "'prod'" in stack_not_applicable(harnesses[mode], stack.list())[BEHIND_ALB]


# --- the resolver's result convention -----------------------------------------------------------
def _view(type_, name, props, deps=None, dependencies=()):
    return P.ResourceView(type_, name, urn(type_, name), props, property_dependencies=deps or {},
                          dependencies=list(dependencies))


def _views():
    vpc_a = _view(VPC, "vpc-a", {"id": vpc_id(1)})
    vpc_b = _view(VPC, "vpc-b", {"id": UNKNOWN})
    subnet = _view(SUBNET, "private", {"id": "subnet-01", "vpcId": UNKNOWN}, {"vpcId": [vpc_a.urn]})
    return StackView([vpc_a, vpc_b, subnet]), vpc_a, vpc_b, subnet


def test_a_known_value_resolves_by_output_or_urn():
    stack, vpc_a, _, subnet = _views()
    for value in (vpc_id(1), vpc_a.urn, f"  {vpc_id(1)} "):
        found = stack.resolve(subnet, "vpcId", (VPC,), value)
        assert found.status == RESOLVED and found.single is vpc_a and found.via == "value"


def test_a_known_value_of_no_stack_resource_is_external():
    stack, _, _, subnet = _views()
    found = stack.resolve(subnet, "vpcId", (VPC,), vpc_id(9))
    assert found.status == EXTERNAL and found.external == (vpc_id(9),) and found.resources == ()
    assert found.keys() == {vpc_id(9)}


def test_a_stack_resource_of_another_type_is_external_as_wrong_type():
    stack, _, _, subnet = _views()
    found = stack.resolve(subnet, "vpcId", (VPC,), "subnet-01")
    assert found.status == EXTERNAL and found.wrong_type == (subnet,)


def test_an_unknown_value_resolves_through_its_property_dependencies():
    stack, vpc_a, _, subnet = _views()
    found = stack.resolve(subnet, "vpcId", (VPC,))
    assert found.status == RESOLVED and found.single is vpc_a and found.via == "propertyDependencies"


def test_without_property_dependencies_the_dependencies_decide():
    stack, vpc_a, _, _ = _views()
    endpoint = _view(VPCE, "e", {"vpcId": UNKNOWN}, dependencies=[vpc_a.urn])
    found = StackView(stack.resources + [endpoint]).resolve(endpoint, "vpcId", (VPC,))
    assert found.single.urn == vpc_a.urn and found.via == "dependencies"


def test_an_unknown_value_follows_the_same_property_of_its_source():
    """An endpoint whose vpcId is a subnet's vpcId is in that subnet's VPC."""
    stack, vpc_a, _, subnet = _views()
    endpoint = _view(VPCE, "e", {"vpcId": UNKNOWN}, {"vpcId": [subnet.urn]})
    found = StackView(stack.resources + [endpoint]).resolve(endpoint, "vpcId", (VPC,))
    assert found.status == RESOLVED and [r.urn for r in found.resources] == [vpc_a.urn]


def test_an_unknown_value_no_dependency_decides_is_undecidable_at_preview_external_at_update():
    stack, _, _, _ = _views()
    endpoint = _view(VPCE, "e", {"vpcId": UNKNOWN})
    stack = StackView(stack.resources + [endpoint])
    preview = stack.resolve(endpoint, "vpcId", (VPC,))
    assert preview.status == UNDECIDABLE and "vpcId" in preview.undecidable and preview.resources == ()
    update = stack.resolve(endpoint, "vpcId", (VPC,), update=True)
    assert update.status == EXTERNAL and update.external == (UNKNOWN_EXTERNAL,)


def test_a_known_value_a_dependency_cannot_be_compared_with_resolves_to_it():
    """The dependency's own id is unknown (preview): it is what the value names."""
    stack, _, vpc_b, _ = _views()
    endpoint = _view(VPCE, "e", {"vpcId": "vpc-0123"}, {"vpcId": [vpc_b.urn]})
    found = StackView(stack.resources + [endpoint]).resolve(endpoint, "vpcId", (VPC,))
    assert found.status == RESOLVED and found.single.urn == vpc_b.urn


@pytest.mark.parametrize("value", [None, "", [], P.MISSING])
def test_an_absent_value_is_absent(value):
    stack, _, _, subnet = _views()
    assert stack.resolve(subnet, "vpcId", (VPC,), value).status == ABSENT


@pytest.mark.parametrize("value", [7.0, {"a": 1}, [True], [["x"]]])
def test_a_malformed_value_is_invalid_never_raises(value):
    stack, _, _, subnet = _views()
    found = stack.resolve(subnet, "vpcId", (VPC,), value)
    assert found.invalid and found.status == EXTERNAL


def test_a_list_mixes_known_and_dependency_resolved_items():
    stack, vpc_a, _, subnet = _views()
    found = stack.resolve(subnet, "vpcId", (VPC,), [vpc_id(9), UNKNOWN])
    assert found.external == (vpc_id(9),) and found.single is vpc_a and found.status == EXTERNAL


def test_names_resolve_only_when_asked():
    tg = _view(TG, "blue", {"arn": elb_arn("targetgroup", "blue"), "name": "api-blue"})
    owner = _view("aws:codedeploy/deploymentGroup:DeploymentGroup", "dg", {})
    stack = StackView([tg, owner])
    assert stack.resolve(owner, "loadBalancerInfo", (TG,), "api-blue").status == EXTERNAL
    assert stack.resolve(owner, "loadBalancerInfo", (TG,), "api-blue", by=("name",)).single is tg


# --- item 7: what no dependency decides is reported not-applicable, with its reason ------------
def test_an_endpoint_vpc_no_dependency_decides_is_not_applicable_at_preview(harnesses):
    stack = private_network(Stack("preview"), tables=2, endpoint_vpc="b", endpoint_vpc_dep=False)
    h = harnesses["preview"]
    assert only(h.analyze_stack(stack.list()), ENDPOINTS) == []
    reasons = stack_not_applicable(h, stack.list())
    assert "'ecr.api'" in reasons[ENDPOINTS]  # the reason names the undecidable endpoint


def test_the_same_endpoint_vpc_is_external_at_update(harnesses):
    """At `up` every output of the stack is known: an unknown no dependency explains is external."""
    stack = private_network(Stack("preview"), tables=2, endpoint_vpc="b", endpoint_vpc_dep=False)
    h = harnesses["update"]
    got = findings(only(h.analyze_stack(stack.list()), ENDPOINTS))
    assert (ENDPOINTS, stack.resources["api"]["urn"], "networkConfiguration.subnets (ecr.api endpoint)",
            "mandatory") in got
    assert ENDPOINTS not in stack_not_applicable(h, stack.list())


def test_decided_endpoints_report_nothing_not_applicable(harnesses):
    for mode in MODES:
        stack = private_network(Stack(mode), tables=2)
        assert ENDPOINTS not in stack_not_applicable(harnesses[mode], stack.list())


def test_production_rule_targets_no_dependency_decides_are_not_applicable(harnesses):
    stack = native_blue_green(Stack("preview"), forward=("blue",))
    rule = stack.resources["prod"]
    rule["propertyDependencies"]["actions"] = []  # built from a value of no resource of this stack
    rule["dependencies"] = rule["propertyDependencies"]["listenerArn"]
    h = harnesses["preview"]
    assert only(h.analyze_stack(stack.list()), BLUE_GREEN) == []
    reasons = stack_not_applicable(h, stack.list())
    assert "'prod'" in reasons[BLUE_GREEN] and "'prod'" in reasons[BEHIND_ALB]  # the reason names the rule


def test_a_flow_log_on_an_undecidable_vpc_is_not_applicable(harnesses):
    stack = Stack("preview")
    stack.add(VPC, "vpc-a", {"id": vpc_id(1)})
    stack.add(FLOW_LOG, "log", {"id": "fl-1"}, {"vpcId": UNKNOWN, "trafficType": "ALL"})
    h = harnesses["preview"]
    assert only(h.analyze_stack(stack.list()), "vpc-flow-logs") == []
    assert "vpcId" in stack_not_applicable(h, stack.list())["vpc-flow-logs"]
    stack.resources["log"]["propertyDependencies"] = {"vpcId": [stack.resources["vpc-a"]["urn"]]}
    assert only(h.analyze_stack(stack.list()), "vpc-flow-logs") == []
    assert "vpc-flow-logs" not in stack_not_applicable(h, stack.list())


@pytest.mark.parametrize("mode", MODES)
def test_a_flow_log_of_another_vpc_fails_in_both_modes(harnesses, mode):
    stack = Stack(mode)
    stack.add(VPC, "vpc-a", {"id": vpc_id(1)})
    stack.add(VPC, "vpc-b", {"id": vpc_id(2)})
    stack.add(FLOW_LOG, "log", {"id": "fl-1"}, {"trafficType": "ALL"}, refs={"vpcId": (vpc_id(2), ["vpc-b"])})
    got = findings(only(harnesses[mode].analyze_stack(stack.list()), "vpc-flow-logs"))
    assert got == [("vpc-flow-logs", stack.resources["vpc-a"]["urn"], "", "advisory")]


TASK_RULES = ["task-non-privileged", "task-readonly-root-filesystem", "task-logging-configured", "task-non-root-user"]


def test_task_definition_rules_are_not_applicable_while_containers_are_unknown():
    h = Harness(TASK_RULES)
    props = {"family": "app", "containerDefinitions": UNKNOWN}
    assert h.analyze(TD, props) == []
    assert sorted(h.not_applicable(TD, props)) == sorted(TASK_RULES)
    known = {"family": "app", "containerDefinitions": json.dumps([{"name": "app", "image": "x", "user": "1000",
                                                                   "readonlyRootFilesystem": True,
                                                                   "logConfiguration": {"logDriver": "awslogs"}}])}
    assert h.analyze(TD, known) == [] and h.not_applicable(TD, known) == []


XENV = "no-cross-environment-references"


def test_cross_environment_references_over_unknown_strings_are_not_applicable():
    h = Harness([XENV], stack="dev")
    bucket = resource("aws:s3/bucket:Bucket", "logs", {"bucket": "payments-dev-logs", "policy": UNKNOWN})
    assert h.analyze_stack([bucket]) == []
    assert "policy" in stack_not_applicable(h, [bucket])[XENV]  # the reason names what is not known
    bucket["props"]["policy"] = "{}"
    assert h.analyze_stack([bucket]) == [] and stack_not_applicable(h, [bucket]) == {}
    bucket["props"].update(policy=UNKNOWN, bucket="payments-production-logs")
    got = findings(h.analyze_stack([bucket]))
    assert [(p, u, lvl) for p, u, _, lvl in got] == [(XENV, bucket["urn"], "mandatory")]


# --- rule shapes -----------------------------------------------------------------------------
def test_ecr_rules_live_in_the_registry_module_with_their_names_and_levels():
    from policypack.rules import ALL_RULES, containers, registry
    assert {r.name: r.level for r in registry.RULES} == {
        "ecr-scan-on-push": "mandatory", "ecr-immutable-tags": "advisory", "ecr-lifecycle-policy": "advisory"}
    assert all(r.concern == "registry" for r in registry.RULES)
    assert not any(r.concern == "registry" for r in containers.RULES)
    assert set(registry.RULES) <= set(ALL_RULES)


LG = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
REPO = "aws:ecr/repository:Repository"
#: policy, type, compliant props, violating props, the violation's path, its level, props with the value unknown
VALUE_CHECKS = [
    ("log-group-retention", LG, {"retentionInDays": 365.0}, {"retentionInDays": 7.0}, "retentionInDays",
     "mandatory", {"retentionInDays": UNKNOWN}),
    ("kms-key-deletion-window", KEY, {"deletionWindowInDays": 30.0}, {"deletionWindowInDays": 7.0},
     "deletionWindowInDays", "advisory", {"deletionWindowInDays": UNKNOWN}),
    ("alb-drop-invalid-headers", LB, {"dropInvalidHeaderFields": True}, {"dropInvalidHeaderFields": False},
     "dropInvalidHeaderFields", "mandatory", {"dropInvalidHeaderFields": UNKNOWN}),
    ("alb-deletion-protection", LB, {"enableDeletionProtection": True}, {}, "enableDeletionProtection",
     "advisory", {"enableDeletionProtection": UNKNOWN}),
    ("ecs-service-no-public-ip", SVC, {"networkConfiguration": {"assignPublicIp": False}},
     {"networkConfiguration": {"assignPublicIp": True}}, "networkConfiguration.assignPublicIp", "mandatory",
     {"networkConfiguration": {"assignPublicIp": UNKNOWN}}),
    ("fargate-platform-version", SVC, {"platformVersion": "LATEST"}, {"platformVersion": "1.3.0"},
     "platformVersion", "advisory", {"platformVersion": UNKNOWN}),
    ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": True}},
     {"imageScanningConfiguration": {"scanOnPush": False}}, "imageScanningConfiguration.scanOnPush", "mandatory",
     {"imageScanningConfiguration": [{"scanOnPush": UNKNOWN}]}),
    ("ecr-immutable-tags", REPO, {"imageTagMutability": "IMMUTABLE"}, {"imageTagMutability": "MUTABLE"},
     "imageTagMutability", "advisory", {"imageTagMutability": UNKNOWN}),
]


@pytest.mark.parametrize("policy,type_,good,bad,path,level,unknown", VALUE_CHECKS, ids=[v[0] for v in VALUE_CHECKS])
def test_value_checks_judge_their_property_and_are_not_applicable_while_unknown(policy, type_, good, bad, path,
                                                                               level, unknown):
    h = Harness([policy])
    assert h.analyze(type_, good) == [] and h.not_applicable(type_, good) == []
    got = findings(h.analyze(type_, bad))
    assert got == [(policy, urn(type_, "res"), path, level)]
    assert h.analyze(type_, unknown) == [] and h.not_applicable(type_, unknown) == [policy]
    for garbage in ({path.split(".")[0]: 7.5}, {path.split(".")[0]: [1, 2]}):
        h.analyze(type_, garbage)  # malformed input never raises (conftest checks internal errors)
    hidden = {k: secret(v) for k, v in bad.items()}  # a secret value is judged, never echoed
    diags = h.analyze(type_, hidden)
    assert findings(diags) == got
    for value in bad.values():
        if isinstance(value, str):
            assert repr(value) not in diags[0].message  # as it would be quoted


def test_a_key_reference_unknown_at_preview_counts_as_set():
    h = Harness(["log-group-kms-encryption"])
    assert h.analyze(LG, {"kmsKeyId": UNKNOWN}) == [] and h.not_applicable(LG, {"kmsKeyId": UNKNOWN}) == []
    assert [path_of(d) for d in h.analyze(LG, {})] == ["kmsKeyId"]


def test_deletion_protection_is_escalated_on_production_stacks():
    h = Harness(["alb-deletion-protection"], stack="production")
    assert findings(h.analyze(LB, {})) == [("alb-deletion-protection", urn(LB, "res", "production"),
                                            "enableDeletionProtection", "mandatory")]


LCP = "aws:ecr/lifecyclePolicy:LifecyclePolicy"


@pytest.mark.parametrize("mode", MODES)
def test_a_lifecycle_policy_of_another_repository_fails_in_both_modes(mode):
    h = Harness(["ecr-lifecycle-policy"], dry_run=mode == "preview")
    stack = Stack(mode)
    for name in ("app", "worker"):
        stack.add(REPO, name, {"arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}", "name": f"payments-{name}"})
    stack.add(LCP, "app-lcp", {"id": "payments-app"}, refs={"repository": ("payments-app", ["app"])})
    got = findings(h.analyze_stack(stack.list()))
    assert got == [("ecr-lifecycle-policy", stack.resources["worker"]["urn"], "", "advisory")]


def test_a_literal_name_while_a_repository_name_is_unknown_is_not_applicable():
    h = Harness(["ecr-lifecycle-policy"])
    repo = resource(REPO, "computed", {"name": UNKNOWN})
    policy = resource(LCP, "lcp", {"repository": "payments-computed"})
    assert h.analyze_stack([repo, policy]) == []
    assert "'computed'" in stack_not_applicable(h, [repo, policy])["ecr-lifecycle-policy"]


# --- docs/writing-rules.md stays accurate ------------------------------------------------------
def test_writing_rules_names_files_and_names_that_exist():
    import os
    import policypack.catalogue as catalogue
    import policypack.rule as rule
    import policypack.rules as rules
    from policypack.rule import Resolution
    from policypack.rules.value_check import ValueCheck

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(root, "docs", "writing-rules.md"), encoding="utf-8").read()
    for path in re.findall(r"`((?:policypack|tests|docs|examples)/[\w/.<>-]+)`", text):
        if "<" not in path:
            assert os.path.exists(os.path.join(root, path)), path
    for name in ("CORE", "EXTENDED", "_MODULES", "ALL_RULES"):
        assert hasattr(rules, name), name
    assert hasattr(catalogue, "PRODUCTION_MANDATORY")
    assert hasattr(rule.StackRule, "judge")
    for name in ("Undecided", "NotApplicable", "StackView", "StackRule", "RESOLVED", "EXTERNAL", "UNDECIDABLE", "ABSENT"):
        assert hasattr(rule, name), name
    for field in ("resources", "single", "external", "wrong_type", "invalid", "undecidable", "via", "status",
                  "urns", "keys"):
        assert hasattr(Resolution, field) or field in Resolution.__dataclass_fields__, field
    for name in ("property_path", "read", "problem", "judged", "level_for", "unknown_is_set"):
        assert hasattr(ValueCheck, name), name
    from test_samples import MUTATIONS  # the guide's step 8: one mutation of the sample per core rule
    assert set(MUTATIONS) == set(rules.CORE)


APP = "aws:codedeploy/application:Application"
DG = "aws:codedeploy/deploymentGroup:DeploymentGroup"


def codedeploy(stack, listener_in_stack=True):
    """A CODE_DEPLOY service with its application and deployment group; the production route is
    this stack's listener, or (not `listener_in_stack`) a listener ARN from outside the stack."""
    for colour in ("blue", "green"):
        stack.add(TG, colour, {"arn": elb_arn("targetgroup", colour)}, {"name": f"api-{colour}"})
    stack.add(LB, "alb", {"arn": elb_arn("loadbalancer/app", "alb")}, {"loadBalancerType": "application"})
    stack.add(LIS, "https", {"arn": elb_arn("listener/app", "https")}, {"port": 443.0, "protocol": "HTTPS"},
              refs={"loadBalancerArn": (elb_arn("loadbalancer/app", "alb"), ["alb"]),
                    "defaultActions": ([{"type": "forward", "targetGroupArn": elb_arn("targetgroup", "blue")}],
                                       ["blue"])})
    stack.add(CL, "cluster", {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments"}, {"name": "payments"})
    stack.add(APP, "app", {"id": "payments-app"}, {"name": "payments-app", "computePlatform": "ECS"})
    stack.add(SVC, "api", {"id": "api"}, {"name": "api", "deploymentController": {"type": "CODE_DEPLOY"}}, refs={
        "cluster": (f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments", ["cluster"]),
        "loadBalancers": ([{"targetGroupArn": elb_arn("targetgroup", "blue"), "containerName": "api",
                            "containerPort": 8080.0}], ["blue"])})
    route = (elb_arn("listener/app", "https"), ["https"]) if listener_in_stack else (elb_arn("listener/app", "x"), [])
    stack.add(DG, "dg", {"id": "dg"}, {
        "appName": "payments-app", "deploymentGroupName": "api",
        "ecsService": {"clusterName": "payments", "serviceName": "api"},
        "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        "blueGreenDeploymentConfig": {"deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"}},
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}}, refs={
        "loadBalancerInfo": ({"targetGroupPairInfo": {
            "targetGroups": [{"name": "api-blue"}, {"name": "api-green"}],
            "prodTrafficRoute": {"listenerArns": [route[0]]}}}, ["blue", "green"] + route[1])})
    return stack


@pytest.mark.parametrize("mode", MODES)
def test_codedeploy_production_route_on_a_listener_of_the_stack_passes(harnesses, mode):
    stack = codedeploy(Stack(mode))
    diags = harnesses[mode].analyze_stack(stack.list())
    assert only(diags, BLUE_GREEN) == [] and only(diags, BEHIND_ALB) == []
    assert BLUE_GREEN not in stack_not_applicable(harnesses[mode], stack.list())


def test_codedeploy_production_route_from_outside_the_stack():
    """At `up` a listener ARN from outside the stack is reported; at preview, unknown and depending
    on no listener of this stack, it is not-applicable with its reason (never a silent pass)."""
    update = codedeploy(Stack("update"), listener_in_stack=False)
    h = Harness([BLUE_GREEN], dry_run=False)
    assert findings(h.analyze_stack(update.list())) == [
        (BLUE_GREEN, update.resources["api"]["urn"],
         "deploymentGroup:dg.loadBalancerInfo.targetGroupPairInfo.prodTrafficRoute.listenerArns[0]", "mandatory")]
    preview = codedeploy(Stack("preview"), listener_in_stack=False)
    h = Harness([BLUE_GREEN], dry_run=True)
    assert h.analyze_stack(preview.list()) == []
    assert "'dg'" in stack_not_applicable(h, preview.list())[BLUE_GREEN]


# --- the resolver never raises -----------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

_SCALARS = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=12),
                     st.sampled_from([UNKNOWN, vpc_id(1), "subnet-01", urn(VPC, "vpc-a"), "", " "]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                       max_leaves=10)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(value=_VALUES, deps=st.lists(st.sampled_from([urn(VPC, "vpc-a"), urn(VPC, "vpc-b"), urn(SUBNET, "private"),
                                                     "urn:pulumi:dev::payments::x:y:Z::gone", ""]), max_size=4),
       own=st.booleans(), update=st.booleans(), by_name=st.booleans())
def test_the_resolver_never_raises_and_its_status_is_consistent(value, deps, own, update, by_name):
    stack, _, _, _ = _views()
    owner = _view(VPCE, "e", {"vpcId": value}, {"vpcId": deps} if own else {}, dependencies=deps)
    stack = StackView(stack.resources + [owner])
    found = stack.resolve(owner, "vpcId", (VPC,), value, update=update, by=("name", "id") if by_name else ("arn", "id"))
    assert all(r.type == VPC for r in found.resources)
    assert found.status in (RESOLVED, EXTERNAL, UNDECIDABLE, ABSENT)
    assert not (update and found.undecidable)  # at `up` nothing stays undecidable
    assert (found.status == UNDECIDABLE) == bool(found.undecidable)


def test_a_resource_the_stack_only_reads_is_external():
    """Stored state carries resources read with `.get` and StackReferences: not this stack's."""
    stack, vpc_a, _, subnet = _views()
    read = _view(VPC, "shared", {"id": vpc_id(7)})
    view = StackView(stack.resources, reads=[read])
    assert view.resolve(subnet, "vpcId", (VPC,), vpc_id(7)).status == EXTERNAL
    assert view.resolve(subnet, "vpcId", (VPC,), read.urn).external == (read.urn,)


def test_a_dependency_with_one_identifying_output_not_known_cannot_be_excluded():
    """Stored state may redact a VPC's `id` while its `arn` is known: a flow log's known vpcId that
    depends on that VPC still names it (found by the state fuzz: it looked external)."""
    vpc = _view(VPC, "vpc", {"id": UNKNOWN, "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{vpc_id(3)}"})
    flow_log = _view(FLOW_LOG, "log", {"vpcId": vpc_id(3)}, {"vpcId": [vpc.urn]})
    found = StackView([vpc, flow_log]).resolve(flow_log, "vpcId", (VPC,), update=True)
    assert found.status == RESOLVED and found.single is vpc
    lone = _view(FLOW_LOG, "other", {"vpcId": vpc_id(3)})  # no dependency on it: external
    assert StackView([vpc, lone]).resolve(lone, "vpcId", (VPC,), update=True).status == EXTERNAL


CCP = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
CAPACITY = "fargate-capacity-providers"


@pytest.mark.parametrize("mode", MODES)
def test_capacity_providers_of_another_cluster_fail_in_both_modes(harnesses, mode):
    """clusterName (unknown at preview) resolves through its property dependencies."""
    stack = Stack(mode)
    for name in ("payments", "batch"):
        stack.add(CL, name, {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"}, {"name": name})
    stack.add(CCP, "cp", {"id": "payments"}, {
        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
        "defaultCapacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": 1.0, "weight": 1.0}]},
        refs={"clusterName": ("payments", ["payments"])})
    got = findings(only(harnesses[mode].analyze_stack(stack.list()), CAPACITY))
    assert got == [(CAPACITY, stack.resources["batch"]["urn"], "capacityProviders", "advisory")]
    assert CAPACITY not in stack_not_applicable(harnesses[mode], stack.list())


def test_capacity_providers_of_an_undecidable_cluster_are_not_applicable(harnesses):
    stack = Stack("preview")
    stack.add(CL, "payments", {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments"}, {"name": "payments"})
    stack.add(CCP, "cp", {"id": "x"}, {"clusterName": UNKNOWN, "capacityProviders": ["FARGATE", "FARGATE_SPOT"]})
    h = harnesses["preview"]
    assert only(h.analyze_stack(stack.list()), CAPACITY) == []
    assert "clusterName" in stack_not_applicable(h, stack.list())[CAPACITY]
