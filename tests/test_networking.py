"""vpc-endpoints-for-private-tasks, ecs-service-no-public-ip and vpc-flow-logs.

Stack tests use realistic outputs, as AnalyzeStack receives them at `pulumi up`: created resources
carry their ids and ARNs, and consumers their property dependencies.
"""
import json
import re

import pytest

from harness import Harness, UNKNOWN, assert_violation, policies_of, resource, secret, urn

ACCOUNT = "123456789012"
REGION = "us-east-1"

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
RT = "aws:ec2/routeTable:RouteTable"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
SG = "aws:ec2/securityGroup:SecurityGroup"
VPCE = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPCE_RTA = "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation"
MAIN_RTA = "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SVC = "aws:ecs/service:Service"
TD = "aws:ecs/taskDefinition:TaskDefinition"
CLUSTER = "aws:ecs/cluster:Cluster"

VPC_ID = "vpc-0a1b2c3d4e5f60718"
OTHER_VPC_ID = "vpc-0f9e8d7c6b5a49382"
MAIN_RT_ID = "rtb-0aaaaaaaaaaaaaaa1"
PRIVATE_RT_ID = "rtb-0bbbbbbbbbbbbbbb2"
PUBLIC_RT_ID = "rtb-0ccccccccccccccc3"
SUBNET_IDS = ["subnet-01111111111111111", "subnet-02222222222222222"]
PUBLIC_SUBNET_ID = "subnet-03333333333333333"
APP_SG_ID = "sg-0123456789abcdef0"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments-dev"
TD_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/payments-dev:1"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:payments-dev-db-AbCdEf"

ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]
NAMES = ["vpc-endpoints-for-private-tasks", "ecs-service-no-public-ip", "vpc-flow-logs"]


def u(type_, name):
    return urn(type_, name)


def containers(log_driver="awslogs", secrets=True, value_from=SECRET_ARN):
    container = {
        "name": "app", "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/payments-dev:1.0.0", "essential": True,
        "portMappings": [{"containerPort": 8080}],
        "environment": [{"name": "NODE_ENV", "value": "production"}],
    }
    if log_driver:
        container["logConfiguration"] = {"logDriver": log_driver, "options": {
            "awslogs-group": "/ecs/payments-dev", "awslogs-region": REGION, "awslogs-stream-prefix": "app"}}
    if secrets:
        container["secrets"] = [{"name": "DB_PASSWORD", "valueFrom": value_from}]
    return json.dumps([container])


def endpoint(service, name=None, vpc_id=VPC_ID, kind="Interface", private_dns=True, route_tables=None,
             region=REGION, deps=True):
    name = name or f"vpce-{service.replace('.', '-')}"
    props = {"id": f"vpce-0{abs(hash(name)) % 10**16:016x}", "arn": f"arn:aws:ec2:{region}:{ACCOUNT}:vpc-endpoint/x",
             "vpcId": vpc_id, "serviceName": f"com.amazonaws.{region}.{service}", "ownerId": ACCOUNT,
             "state": "available", "networkInterfaceIds": [], "securityGroupIds": [], "subnetIds": [],
             "routeTableIds": route_tables or []}
    if kind is not None:
        props["vpcEndpointType"] = kind
    if private_dns is not None:
        props["privateDnsEnabled"] = private_dns
    links = {"propertyDependencies": {"vpcId": [u(VPC, "vpc")]}} if deps else {}
    if route_tables and deps:
        links["propertyDependencies"]["routeTableIds"] = [u(RT, "private-rt")]
    return resource(VPCE, name, props, **links)


def network():
    """A compliant private-task network, keyed by logical name (tests replace or drop pieces)."""
    vpc_urn = u(VPC, "vpc")
    res = {
        "vpc": resource(VPC, "vpc", {"id": VPC_ID, "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{VPC_ID}",
                                     "cidrBlock": "10.0.0.0/16", "mainRouteTableId": MAIN_RT_ID,
                                     "defaultRouteTableId": MAIN_RT_ID, "defaultSecurityGroupId": "sg-0ddddddddddddddd4",
                                     "enableDnsHostnames": True, "enableDnsSupport": True}),
        "private-rt": resource(RT, "private-rt", {"id": PRIVATE_RT_ID, "vpcId": VPC_ID, "routes": []},
                               propertyDependencies={"vpcId": [vpc_urn]}),
        "public-rt": resource(RT, "public-rt", {"id": PUBLIC_RT_ID, "vpcId": VPC_ID, "routes": []},
                              propertyDependencies={"vpcId": [vpc_urn]}),
        "public-0": resource(SUBNET, "public-0", {"id": PUBLIC_SUBNET_ID, "vpcId": VPC_ID, "cidrBlock": "10.0.0.0/24"},
                             propertyDependencies={"vpcId": [vpc_urn]}),
        "public-rta": resource(RTA, "public-rta", {"id": "rtbassoc-0eeeeeeeeeeeeeee5", "subnetId": PUBLIC_SUBNET_ID,
                                                   "routeTableId": PUBLIC_RT_ID},
                               propertyDependencies={"subnetId": [u(SUBNET, "public-0")],
                                                     "routeTableId": [u(RT, "public-rt")]}),
        "app-sg": resource(SG, "app-sg", {"id": APP_SG_ID, "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{APP_SG_ID}",
                                          "vpcId": VPC_ID}, propertyDependencies={"vpcId": [vpc_urn]}),
        "cluster": resource(CLUSTER, "cluster", {"id": CLUSTER_ARN, "arn": CLUSTER_ARN, "name": "payments-dev"}),
        "task": resource(TD, "task", {"id": "payments-dev", "arn": TD_ARN, "family": "payments-dev",
                                      "containerDefinitions": containers(), "networkMode": "awsvpc"}),
        "svc": resource(SVC, "svc", {
            "id": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/payments-dev/svc-1a2b3c4",
            "cluster": CLUSTER_ARN, "taskDefinition": TD_ARN, "launchType": "FARGATE", "desiredCount": 2.0,
            "networkConfiguration": {"subnets": list(SUBNET_IDS), "securityGroups": [APP_SG_ID], "assignPublicIp": False}},
            propertyDependencies={"cluster": [u(CLUSTER, "cluster")], "taskDefinition": [u(TD, "task")],
                                  "networkConfiguration": [u(SUBNET, "private-0"), u(SUBNET, "private-1"),
                                                           u(SG, "app-sg")]}),
        "s3": endpoint("s3", kind="Gateway", private_dns=False, route_tables=[PRIVATE_RT_ID]),
        "flow-log": resource(FLOW_LOG, "flow-log", {"id": "fl-0123456789abcdef0", "vpcId": VPC_ID, "trafficType": "ALL"},
                             propertyDependencies={"vpcId": [vpc_urn]}),
    }
    for i, subnet_id in enumerate(SUBNET_IDS):
        res[f"private-{i}"] = resource(SUBNET, f"private-{i}", {"id": subnet_id, "vpcId": VPC_ID,
                                                                 "cidrBlock": f"10.0.{10 + i}.0/24"},
                                        propertyDependencies={"vpcId": [vpc_urn]})
        res[f"private-rta-{i}"] = resource(RTA, f"private-rta-{i}", {
            "id": f"rtbassoc-0{i}ffffffffffffff", "subnetId": subnet_id, "routeTableId": PRIVATE_RT_ID},
            propertyDependencies={"subnetId": [u(SUBNET, f"private-{i}")], "routeTableId": [u(RT, "private-rt")]})
    for service in ENDPOINTS:
        res[service] = endpoint(service)
    return res


@pytest.fixture(scope="module")
def h():
    return Harness(NAMES)


def endpoint_diags(diags):
    return [d for d in diags if d.policy == "vpc-endpoints-for-private-tasks"]


def missing(diags):
    """The endpoint service of each vpc-endpoints diagnostic, from its property path
    (`networkConfiguration.subnets (ecr.api endpoint)` -> ecr.api)."""
    out = []
    for d in endpoint_diags(diags):
        match = re.fullmatch(r"networkConfiguration\.subnets \((\S+) endpoint\)", d.path)
        assert match, d
        out.append(match.group(1))
    return sorted(out)


# =============================================================================================
# vpc-endpoints-for-private-tasks
# =============================================================================================
def test_compliant_private_network(h):
    assert h.analyze_stack(list(network().values())) == []


def test_metadata():
    from policypack.rules.networking import VpcEndpointsForPrivateTasks as R
    assert (R.kind, R.level, R.concern) == ("stack", "mandatory", "networking")
    assert any(fw.name.startswith("AWS Foundational") and "EC2.55" in fw.controls for fw in R.frameworks)
    assert R.config_defaults()["additionalEndpoints"] == []
    assert R.remediation and R.compliant_example


def test_seed_no_endpoints_at_all(h):
    res = network()
    for key in ENDPOINTS + ["s3"]:
        del res[key]
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager"]
    assert all(d.level == "mandatory" and d.urn == u(SVC, "svc") for d in diags)



def test_missing_endpoint_message_says_where_and_why(h):
    """The wording test of vpc-endpoints-for-private-tasks: the services, the VPC and what is missing."""
    res = network()
    del res["ecr.api"]
    message = h.analyze_stack(list(res.values()))[0].message
    assert "'svc'" in message and "'vpc'" in message and "there is none" in message


@pytest.mark.parametrize("service", ENDPOINTS + ["s3"])
def test_each_missing_endpoint(h, service):
    res = network()
    del res[service]
    assert missing(h.analyze_stack(list(res.values()))) == [service]


def test_ecr_endpoint_of_gateway_type(h):
    res = network()
    res["ecr.api"] = endpoint("ecr.api", kind="Gateway")
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["ecr.api"]


def test_endpoint_type_defaults_to_gateway(h):
    res = network()
    res["ecr.dkr"] = endpoint("ecr.dkr", kind=None)
    assert missing(h.analyze_stack(list(res.values()))) == ["ecr.dkr"]


@pytest.mark.parametrize("dns", [False, None, "false"])
def test_private_dns_disabled(h, dns):
    res = network()
    res["ecr.dkr"] = endpoint("ecr.dkr", private_dns=dns)
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["ecr.dkr"]


def test_s3_gateway_on_the_wrong_route_table(h):
    res = network()
    res["s3"] = endpoint("s3", kind="Gateway", private_dns=None, route_tables=[PUBLIC_RT_ID])
    res["s3"]["propertyDependencies"]["routeTableIds"] = [u(RT, "public-rt")]
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["s3"]


def test_s3_gateway_on_no_route_table(h):
    res = network()
    res["s3"] = endpoint("s3", kind="Gateway", private_dns=None, route_tables=[])
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["s3"]


def test_s3_gateway_attached_with_a_route_table_association(h):
    res = network()
    res["s3"] = endpoint("s3", kind="Gateway", private_dns=None, route_tables=[])
    s3_id = res["s3"]["props"]["id"]
    res["s3-rta"] = resource(VPCE_RTA, "s3-rta", {"id": f"a-{s3_id}1234", "vpcEndpointId": s3_id,
                                                  "routeTableId": PRIVATE_RT_ID},
                             propertyDependencies={"vpcEndpointId": [res["s3"]["urn"]],
                                                   "routeTableId": [u(RT, "private-rt")]})
    assert h.analyze_stack(list(res.values())) == []


def test_s3_interface_endpoint_is_not_the_gateway(h):
    res = network()
    res["s3"] = endpoint("s3", kind="Interface", private_dns=True)
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["s3"]


def test_main_route_table_of_unassociated_subnets(h):
    res = network()
    del res["private-rta-0"], res["private-rta-1"]
    # The subnets use the VPC's main route table: the S3 gateway must be on it.
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["s3"]
    res["s3"] = endpoint("s3", kind="Gateway", private_dns=None, route_tables=[MAIN_RT_ID])
    assert h.analyze_stack(list(res.values())) == []


def test_main_route_table_association_replaces_the_main_table(h):
    res = network()
    del res["private-rta-0"], res["private-rta-1"]
    res["main"] = resource(MAIN_RTA, "main", {"id": "rtbassoc-0123456789abcdef0", "vpcId": VPC_ID,
                                              "routeTableId": PRIVATE_RT_ID, "originalRouteTableId": MAIN_RT_ID},
                           propertyDependencies={"vpcId": [u(VPC, "vpc")], "routeTableId": [u(RT, "private-rt")]})
    assert h.analyze_stack(list(res.values())) == []


def test_endpoints_in_another_vpc_do_not_count(h):
    res = network()
    res["other-vpc"] = resource(VPC, "other-vpc", {"id": OTHER_VPC_ID, "cidrBlock": "10.1.0.0/16"})
    res["other-flow"] = resource(FLOW_LOG, "other-flow", {"id": "fl-1", "vpcId": OTHER_VPC_ID})
    for service in ["ecr.api", "ecr.dkr"]:
        res[service] = endpoint(service, vpc_id=OTHER_VPC_ID, deps=False)
    assert missing(h.analyze_stack(list(res.values()))) == ["ecr.api", "ecr.dkr"]


def test_region_is_read_from_the_service_name(h):
    res = network()
    for service in ENDPOINTS:
        res[service] = endpoint(service, region="eu-west-2")
    res["s3"] = endpoint("s3", kind="Gateway", private_dns=None, route_tables=[PRIVATE_RT_ID], region="eu-west-2")
    assert h.analyze_stack(list(res.values())) == []
    res["ecr.api"]["props"]["serviceName"] = "cn.com.amazonaws.cn-north-1.ecr.api"
    assert h.analyze_stack(list(res.values())) == []
    res["ecr.api"]["props"]["serviceName"] = "com.amazonaws.eu-west-2.ecr.api-fips"
    assert missing(h.analyze_stack(list(res.values()))) == ["ecr.api"]


def test_logs_endpoint_needed_only_with_awslogs(h):
    res = network()
    del res["logs"]
    res["task"]["props"]["containerDefinitions"] = containers(log_driver="awsfirelens")
    assert h.analyze_stack(list(res.values())) == []
    res["task"]["props"]["containerDefinitions"] = containers(log_driver=None)
    assert h.analyze_stack(list(res.values())) == []


def test_secretsmanager_endpoint_needed_only_with_secrets(h):
    res = network()
    del res["secretsmanager"]
    res["task"]["props"]["containerDefinitions"] = containers(secrets=False)
    assert h.analyze_stack(list(res.values())) == []


@pytest.mark.parametrize("value_from", [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/payments/dev/db", "/payments/dev/db"])
def test_parameter_store_secrets_need_ssm(h, value_from):
    res = network()
    res["task"]["props"]["containerDefinitions"] = containers(value_from=value_from)
    assert missing(h.analyze_stack(list(res.values()))) == ["ssm"]
    res["ssm"] = endpoint("ssm")
    del res["secretsmanager"]
    assert h.analyze_stack(list(res.values())) == []


def test_public_services_need_no_endpoints(h):
    res = network()
    for key in ENDPOINTS + ["s3"]:
        del res[key]
    res["svc"]["props"]["networkConfiguration"]["assignPublicIp"] = True
    assert h.analyze_stack(list(res.values())) == []


def test_no_service_no_requirement(h):
    res = network()
    del res["svc"]
    for key in ENDPOINTS + ["s3"]:
        del res[key]
    assert h.analyze_stack(list(res.values())) == []


def test_external_launch_type_is_not_in_a_vpc(h):
    res = network()
    del res["ecr.api"]
    res["svc"]["props"]["launchType"] = "EXTERNAL"
    assert h.analyze_stack(list(res.values())) == []


def test_missing_network_configuration_counts_as_private(h):
    res = network()
    del res["ecr.api"]
    del res["svc"]["props"]["networkConfiguration"]
    del res["svc"]["propertyDependencies"]["networkConfiguration"]
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["ecr.api"] and diags[0].urn == u(SVC, "svc")


def test_services_in_one_vpc_are_reported_once(h):
    res = network()
    del res["ecr.api"]
    worker = json.loads(json.dumps(res["svc"]))
    worker["name"], worker["urn"] = "worker", u(SVC, "worker")
    res["worker"] = worker
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["ecr.api"] and [d.urn for d in diags] == [u(SVC, "svc")]


def test_subnets_outside_the_stack_fall_back_to_any_vpc(h):
    res = network()
    res["svc"]["props"]["networkConfiguration"] = {
        "subnets": ["subnet-0aaaaaaaaaaaaaaa9"], "securityGroups": ["sg-0aaaaaaaaaaaaaaa9"], "assignPublicIp": False}
    res["svc"]["propertyDependencies"]["networkConfiguration"] = []
    # The endpoints of the stack's VPC count (the subnets' route tables are unknown).
    assert h.analyze_stack(list(res.values())) == []
    del res["ecr.dkr"]
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["ecr.dkr"] and diags[0].urn == u(SVC, "svc")


def test_task_definition_outside_the_stack_uses_every_task_definition(h):
    res = network()
    del res["secretsmanager"]
    res["svc"]["props"]["taskDefinition"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/legacy:7"
    res["svc"]["propertyDependencies"]["taskDefinition"] = []
    assert missing(h.analyze_stack(list(res.values()))) == ["secretsmanager"]


def test_only_the_services_task_definition_counts(h):
    res = network()
    del res["secretsmanager"]
    res["task"]["props"]["containerDefinitions"] = containers(secrets=False)
    res["batch"] = resource(TD, "batch", {"id": "batch", "arn": TD_ARN.replace("payments-dev", "batch"),
                                          "containerDefinitions": containers(secrets=True)})
    assert h.analyze_stack(list(res.values())) == []


def test_additional_endpoints_config():
    h = Harness(["vpc-endpoints-for-private-tasks"],
                config={"vpc-endpoints-for-private-tasks": {"additionalEndpoints": ["ecs", "sts", "s3", 7]}})
    res = network()
    assert missing(h.analyze_stack(list(res.values()))) == ["ecs", "sts"]
    res["ecs"], res["sts"] = endpoint("ecs"), endpoint("sts")
    assert h.analyze_stack(list(res.values())) == []


def test_level_is_configurable():
    h = Harness(["vpc-endpoints-for-private-tasks"], config={"vpc-endpoints-for-private-tasks": "advisory"})
    res = network()
    del res["ecr.api"]
    assert [d.level for d in h.analyze_stack(list(res.values()))] == ["advisory"]


def test_preview_unknowns_are_lenient(h):
    """A first preview: ids, ARNs, serviceNames built from a region lookup and containerDefinitions
    are unknown; property dependencies are known."""
    res = network()
    for item in res.values():
        props = item["props"]
        for key in ("id", "arn", "vpcId", "subnetId", "routeTableId", "mainRouteTableId", "defaultRouteTableId",
                    "taskDefinition", "cluster", "containerDefinitions"):
            if key in props:
                props[key] = UNKNOWN
        if "routeTableIds" in props:
            props["routeTableIds"] = UNKNOWN
    res["svc"]["props"]["networkConfiguration"]["subnets"] = UNKNOWN
    res["svc"]["props"]["networkConfiguration"]["securityGroups"] = [UNKNOWN]
    res["ecr.api"]["props"]["serviceName"] = UNKNOWN
    res["ecr.dkr"]["props"]["privateDnsEnabled"] = UNKNOWN
    assert h.analyze_stack(list(res.values())) == []
    # Still decided from what is known: an ecr.dkr endpoint is missing.
    del res["ecr.dkr"]
    res["ecr.api"]["props"]["serviceName"] = f"com.amazonaws.{REGION}.ecr.api"
    assert missing(h.analyze_stack(list(res.values()))) == ["ecr.dkr"]


def test_unknown_network_configuration_at_preview(h):
    res = network()
    del res["ecr.api"]
    res["svc"]["props"]["networkConfiguration"] = UNKNOWN
    assert h.analyze_stack(list(res.values())) == []
    res["svc"]["props"]["networkConfiguration"] = {"subnets": list(SUBNET_IDS), "assignPublicIp": UNKNOWN}
    assert h.analyze_stack(list(res.values())) == []


def test_secret_container_definitions_are_read(h):
    res = network()
    del res["secretsmanager"]
    res["task"]["props"]["containerDefinitions"] = secret(containers())
    diags = h.analyze_stack(list(res.values()))
    assert missing(diags) == ["secretsmanager"]
    assert SECRET_ARN not in diags[0].message


@pytest.mark.parametrize("definitions", ["{not json", "[1, 2]", "{}", "", "null", json.dumps([{"logConfiguration": 5,
                                          "secrets": "x", "repositoryCredentials": [1]}])])
def test_invalid_container_definitions(h, definitions):
    res = network()
    del res["logs"], res["secretsmanager"]
    res["task"]["props"]["containerDefinitions"] = definitions
    assert h.analyze_stack(list(res.values())) == []


@pytest.mark.parametrize("mutate", [
    lambda r: r["svc"]["props"].update(networkConfiguration="subnets"),
    lambda r: r["svc"]["props"].update(networkConfiguration=[{"subnets": 5, "securityGroups": {"a": 1}}]),
    lambda r: r["svc"]["props"].update(networkConfiguration={"subnets": [None, 3, ""], "assignPublicIp": "maybe"}),
    lambda r: r["ecr.api"]["props"].update(serviceName=42, vpcEndpointType=["Interface"]),
    lambda r: r["s3"]["props"].update(routeTableIds="rtb-0bbbbbbbbbbbbbbb2"),
    lambda r: r["s3"]["props"].update(routeTableIds={"x": 1}),
    lambda r: r["private-rta-0"]["props"].clear(),
    lambda r: r["vpc"]["props"].update(mainRouteTableId=7),
    lambda r: r["svc"]["props"].update(taskDefinition=["x"], launchType=3),
    lambda r: r["private-0"]["props"].update(vpcId={"nested": True}),
    lambda r: r["svc"].update(propertyDependencies={"networkConfiguration": ["urn:pulumi:dev::payments::nope::x"]}),
])
def test_malformed_input_never_raises(h, mutate):
    res = network()
    mutate(res)
    diags = h.analyze_stack(list(res.values()))
    assert all(d.policy in NAMES for d in diags)


# =============================================================================================
# ecs-service-no-public-ip
# =============================================================================================
def svc_props(**network_configuration):
    return {"cluster": CLUSTER_ARN, "taskDefinition": TD_ARN,
            "networkConfiguration": {"subnets": list(SUBNET_IDS), "securityGroups": [APP_SG_ID], **network_configuration}}


@pytest.mark.parametrize("value", [True, "true", "TRUE"])
def test_public_ip_assigned(h, value):
    diags = h.analyze(SVC, svc_props(assignPublicIp=value), name="payments-svc")
    assert_violation(diags, "ecs-service-no-public-ip", name="payments-svc", path="networkConfiguration.assignPublicIp",
                     level="mandatory", only=True)


@pytest.mark.parametrize("value", [False, "false", None, UNKNOWN])
def test_no_public_ip(h, value):
    props = svc_props() if value is None else svc_props(assignPublicIp=value)
    assert h.analyze(SVC, props) == []


def test_network_configuration_as_one_element_list(h):
    props = {"networkConfiguration": [{"subnets": list(SUBNET_IDS), "assignPublicIp": True}]}
    assert policies_of(h.analyze(SVC, props)) == ["ecs-service-no-public-ip"]


def test_secret_flag_is_read(h):
    assert policies_of(h.analyze(SVC, svc_props(assignPublicIp=secret(True)))) == ["ecs-service-no-public-ip"]


@pytest.mark.parametrize("props", [{}, {"networkConfiguration": None}, {"networkConfiguration": UNKNOWN},
                                   {"networkConfiguration": "x"}, {"networkConfiguration": [1, 2]},
                                   {"networkConfiguration": {"assignPublicIp": [True]}},
                                   {"networkConfiguration": {"assignPublicIp": 1.0}}])
def test_public_ip_malformed(h, props):
    assert h.analyze(SVC, props) == []


def test_public_ip_other_types_ignored(h):
    assert h.analyze("aws:ec2/instance:Instance", {"associatePublicIpAddress": True}) == []


def test_public_ip_metadata():
    from policypack.rules.networking import EcsServiceNoPublicIp as R
    assert (R.kind, R.level, R.resource_types) == ("resource", "mandatory", (SVC,))
    assert any("ECS.2" in fw.controls for fw in R.frameworks)


# =============================================================================================
# vpc-flow-logs
# =============================================================================================
def flow_names(diags):
    return sorted(d.urn.rsplit("::", 1)[1] for d in diags if d.policy == "vpc-flow-logs")


def test_flow_log_by_value_without_dependency(h):
    res = network()
    res["flow-log"]["propertyDependencies"] = {}
    assert h.analyze_stack(list(res.values())) == []


def test_flow_log_by_dependency_at_preview(h):
    res = network()
    res["vpc"]["props"]["id"] = UNKNOWN
    res["flow-log"]["props"]["vpcId"] = UNKNOWN
    assert h.analyze_stack(list(res.values())) == []


def test_vpc_without_flow_log(h):
    res = network()
    del res["flow-log"]
    diags = h.analyze_stack(list(res.values()))
    assert flow_names(diags) == ["vpc"]
    # the VPC as a whole lacks a flow log: no property path
    assert_violation(diags, "vpc-flow-logs", urn=u(VPC, "vpc"), path="", level="advisory", only=True)


def test_flow_log_message_proposes_the_fix(h):
    """The wording test of vpc-flow-logs: the resource to add."""
    res = network()
    del res["flow-log"]
    message = h.analyze_stack(list(res.values()))[0].message
    assert "aws.ec2.FlowLog" in message and "vpc_id=vpc.id" in message


def test_flow_log_of_another_vpc_or_a_subnet(h):
    res = network()
    res["other-vpc"] = resource(VPC, "other-vpc", {"id": OTHER_VPC_ID, "cidrBlock": "10.1.0.0/16"})
    res["flow-log"] = resource(FLOW_LOG, "flow-log", {"id": "fl-1", "vpcId": OTHER_VPC_ID},
                               propertyDependencies={"vpcId": [u(VPC, "other-vpc")]})
    res["subnet-flow"] = resource(FLOW_LOG, "subnet-flow", {"id": "fl-2", "subnetId": SUBNET_IDS[0]},
                                  propertyDependencies={"subnetId": [u(SUBNET, "private-0")]})
    assert flow_names(h.analyze_stack(list(res.values()))) == ["vpc"]


def test_flow_log_for_external_vpc_does_not_cover_stack_vpc(h):
    res = network()
    res["flow-log"] = resource(FLOW_LOG, "flow-log", {"id": "fl-1", "vpcId": OTHER_VPC_ID})
    assert flow_names(h.analyze_stack(list(res.values()))) == ["vpc"]


def test_unknown_flow_log_vpc_is_lenient(h):
    res = network()
    res["flow-log"] = resource(FLOW_LOG, "flow-log", {"vpcId": UNKNOWN})
    assert h.analyze_stack(list(res.values())) == []


def test_flow_logs_metadata_and_disable():
    from policypack.rules.networking import VpcFlowLogs as R
    assert (R.kind, R.level) == ("stack", "advisory")
    assert any("EC2.6" in fw.controls for fw in R.frameworks)
    h = Harness(["vpc-flow-logs"], config={"vpc-flow-logs": "disabled"})
    assert h.analyze_stack([resource(VPC, "vpc", {"id": VPC_ID})]) == []
    h.configure({"vpc-flow-logs": "mandatory"})
    assert [d.level for d in h.analyze_stack([resource(VPC, "vpc", {"id": VPC_ID})])] == ["mandatory"]


@pytest.mark.parametrize("props", [{}, {"vpcId": 5}, {"vpcId": ["x"]}, {"vpcId": None}, {"vpcId": ""}])
def test_flow_log_malformed(h, props):
    res = [resource(VPC, "vpc", {"id": VPC_ID}), resource(FLOW_LOG, "fl", props)]
    assert flow_names(h.analyze_stack(res)) == ["vpc"]
