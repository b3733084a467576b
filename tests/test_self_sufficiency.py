"""no-external-infrastructure-ids and no-cross-environment-references.

Stack tests use realistic outputs as AnalyzeStack receives them at `pulumi up` (created resources
have ids and ARNs; consumers carry property dependencies), built on the compliant private network
of test_networking.
"""
import json

import pytest

from harness import Harness, UNKNOWN, assert_violation, resource, secret, urn
from test_networking import (ACCOUNT, APP_SG_ID, REGION, SECRET_ARN, SUBNET_IDS, VPC_ID,
                             network)

EXT = "no-external-infrastructure-ids"
XENV = "no-cross-environment-references"

SVC = "aws:ecs/service:Service"
TG = "aws:lb/targetGroup:TargetGroup"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
LR = "aws:lb/listenerRule:ListenerRule"
ROLE = "aws:iam/role:Role"
RPA = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
KEY = "aws:kms/key:Key"
LG = "aws:cloudwatch/logGroup:LogGroup"
SEC = "aws:secretsmanager/secret:Secret"
SV = "aws:secretsmanager/secretVersion:SecretVersion"
TD = "aws:ecs/taskDefinition:TaskDefinition"
NAT = "aws:ec2/natGateway:NatGateway"
PROVIDER = "pulumi:providers:aws"

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/payments-dev-alb/50dc6c495c0c9188"
LISTENER_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/payments-dev-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
TG_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/payments-dev-tg/73e2d6bc24d8a067"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/payments-dev-exec-7f3a2b1"
CERT_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
LEGACY_LISTENER = (f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/legacy-production-alb/"
                   "50dc6c495c0c9100/f2f7dc8efc522a00")
LEGACY_SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
LEGACY_SG = "sg-0aaaaaaaaaaaaaaa3"
LEGACY_VPC = "vpc-0aaaaaaaaaaaaaaa4"
TAGS = {"environment": "dev", "team": "payments", "cost-center": "cc-1234", "application": "payments",
        "compliance": "pci-dss", "backup": "daily", "Name": "payments-dev"}


def u(type_, name):
    return urn(type_, name)


def payment_stack():
    """A compliant payment stack: the private network plus ALB, IAM, KMS, logs and secrets."""
    res = network()
    alb_urn, tg_urn, role_urn, key_urn = u(LB, "alb"), u(TG, "tg"), u(ROLE, "exec-role"), u(KEY, "key")
    res.update({
        "alb": resource(LB, "alb", {"id": LB_ARN, "arn": LB_ARN, "name": "payments-dev-alb",
                                    "subnets": [SUBNET_IDS[0]], "securityGroups": [APP_SG_ID], "vpcId": VPC_ID,
                                    "dnsName": f"payments-dev-alb-1234567890.{REGION}.elb.amazonaws.com",
                                    "zoneId": "Z35SXDOTRQ7X7K", "tags": dict(TAGS), "tagsAll": dict(TAGS)},
                         propertyDependencies={"subnets": [u("aws:ec2/subnet:Subnet", "private-0")],
                                               "securityGroups": [u("aws:ec2/securityGroup:SecurityGroup", "app-sg")]}),
        "tg": resource(TG, "tg", {"id": TG_ARN, "arn": TG_ARN, "name": "payments-dev-tg", "vpcId": VPC_ID,
                                  "port": 8080.0, "protocol": "HTTP", "targetType": "ip", "loadBalancerArns": [LB_ARN],
                                  "tags": dict(TAGS)},
                       propertyDependencies={"vpcId": [u("aws:ec2/vpc:Vpc", "vpc")]}),
        "https": resource(LISTENER, "https", {
            "id": LISTENER_ARN, "arn": LISTENER_ARN, "loadBalancerArn": LB_ARN, "port": 443.0, "protocol": "HTTPS",
            "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificateArn": CERT_ARN,
            "defaultActions": [{"type": "forward", "targetGroupArn": TG_ARN,
                                "forward": {"targetGroups": [{"arn": TG_ARN, "weight": 1.0}]}}]},
            propertyDependencies={"loadBalancerArn": [alb_urn], "defaultActions": [tg_urn]}),
        "exec-role": resource(ROLE, "exec-role", {
            "id": "payments-dev-exec-7f3a2b1", "arn": ROLE_ARN, "name": "payments-dev-exec-7f3a2b1",
            "assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"},
                              "StringEquals": {"aws:SourceAccount": ACCOUNT}}}]}),
            "managedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
            "uniqueId": "AROA1234567890EXAMPLE", "tags": dict(TAGS)}),
        "exec-attach": resource(RPA, "exec-attach", {
            "id": "payments-dev-exec-7f3a2b1-20240101000000000000000001", "role": "payments-dev-exec-7f3a2b1",
            "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"},
            propertyDependencies={"role": [role_urn]}),
        "key": resource(KEY, "key", {"id": KEY_ID, "arn": KEY_ARN, "keyId": KEY_ID, "enableKeyRotation": True,
                                     "policy": json.dumps({"Statement": [{"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                                          "Resource": "*"}]}), "tags": dict(TAGS)}),
        "logs": resource(LG, "logs", {"id": "/ecs/payments-dev", "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/payments-dev",
                                      "name": "/ecs/payments-dev", "kmsKeyId": KEY_ARN, "retentionInDays": 365.0,
                                      "tags": dict(TAGS)},
                         propertyDependencies={"kmsKeyId": [key_urn]}),
        "db": resource(SEC, "db", {"id": SECRET_ARN, "arn": SECRET_ARN, "name": "payments-dev-db", "kmsKeyId": KEY_ARN,
                                   "tags": dict(TAGS)}, propertyDependencies={"kmsKeyId": [key_urn]}),
        "db-version": resource(SV, "db-version", {
            "id": f"{SECRET_ARN}|4b0b4f5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", "arn": SECRET_ARN, "secretId": SECRET_ARN,
            "secretArn": SECRET_ARN, "versionId": "4b0b4f5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
            "secretString": secret(json.dumps({"username": "payments", "password": "s3cr3t-v4lue-from-config"})),
            "versionStages": ["AWSCURRENT"]}, propertyDependencies={"secretId": [u(SEC, "db")]}),
        "provider": {"type": PROVIDER, "name": "default_7_51_1", "urn": u(PROVIDER, "default_7_51_1"),
                     "props": {"region": REGION, "version": "7.51.1",
                               "defaultTags": json.dumps({"tags": {"environment": "dev"}})}},
    })
    res["task"]["props"].update(executionRoleArn=ROLE_ARN, taskRoleArn=ROLE_ARN, tags=dict(TAGS))
    res["task"]["propertyDependencies"] = {"executionRoleArn": [role_urn], "taskRoleArn": [role_urn]}
    res["svc"]["props"].update(
        loadBalancers=[{"targetGroupArn": TG_ARN, "containerName": "app", "containerPort": 8080.0}],
        platformVersion="LATEST", tags=dict(TAGS), name="payments-dev-svc")
    res["svc"]["propertyDependencies"]["loadBalancers"] = [tg_urn]
    res["vpc"]["props"]["tags"] = dict(TAGS)
    return res


def by_policy(diags, policy):
    return [d for d in diags if d.policy == policy]


@pytest.fixture(scope="module")
def h():
    return Harness([EXT, XENV])


def test_compliant_stack(h):
    assert h.analyze_stack(list(payment_stack().values())) == []


def test_metadata():
    from policypack.rules.self_sufficiency import NoCrossEnvironmentReferences, NoExternalInfrastructureIds
    for rule in (NoExternalInfrastructureIds, NoCrossEnvironmentReferences):
        assert (rule.kind, rule.level, rule.concern) == ("stack", "mandatory", "self-sufficiency")
        assert rule.frameworks and rule.remediation and rule.compliant_example and rule.seeds
    assert NoExternalInfrastructureIds.config_defaults()["allowedPatterns"] == []
    assert NoExternalInfrastructureIds.config_defaults()["allowCertificateArns"] is True
    defaults = NoCrossEnvironmentReferences.config_defaults()
    assert defaults["environments"]["production"] == ["production", "prod", "prd"]
    assert defaults["stackEnvironments"] == {} and defaults["environmentTagKeys"] == ["environment", "env"]


# =============================================================================================
# no-external-infrastructure-ids
# =============================================================================================
def ext(diags):
    return by_policy(diags, EXT)


def seed_service(res):
    """The seed: subnets and security group read from the legacy stack (known literals, no dependency)."""
    res["svc"]["props"]["networkConfiguration"] = {"subnets": list(LEGACY_SUBNETS), "securityGroups": [LEGACY_SG],
                                                   "assignPublicIp": False}
    res["svc"]["propertyDependencies"]["networkConfiguration"] = []


def test_seed_network_configuration_from_a_stack_reference(h):
    res = payment_stack()
    seed_service(res)
    diags = ext(h.analyze_stack(list(res.values())))
    assert_violation(diags, EXT, urn=res["svc"]["urn"], path="networkConfiguration", level="mandatory", only=True)


def test_external_ids_message_lists_each_value_to_replace(h):
    """The wording test of no-external-infrastructure-ids: the property is reported whole, the message
    lists which of its values come from outside (and only those)."""
    res = payment_stack()
    seed_service(res)
    message = ext(h.analyze_stack(list(res.values())))[0].message
    for text in ("'svc'", "`networkConfiguration.subnets[0]` = subnet-0aaaaaaaaaaaaaaa1",
                 "networkConfiguration.subnets[1]", "`networkConfiguration.securityGroups[0]` = sg-0aaaaaaaaaaaaaaa3"):
        assert text in message
    res = payment_stack()
    res["svc"]["props"]["networkConfiguration"]["subnets"] = [SUBNET_IDS[0], LEGACY_SUBNETS[0]]
    res["svc"]["props"]["networkConfiguration"]["securityGroups"].append(LEGACY_SG)
    message = ext(h.analyze_stack(list(res.values())))[0].message
    assert LEGACY_SUBNETS[0] in message and LEGACY_SG in message
    assert SUBNET_IDS[0] not in message and APP_SG_ID not in message


def test_seed_listener_rule_and_target_group(h):
    res = payment_stack()
    res["rule"] = resource(LR, "rule", {"id": "x", "listenerArn": LEGACY_LISTENER, "priority": 100.0,
                                        "actions": [{"type": "forward", "targetGroupArn": TG_ARN}]},
                           propertyDependencies={"actions": [u(TG, "tg")]})
    res["tg"]["props"]["vpcId"] = LEGACY_VPC
    res["tg"]["propertyDependencies"] = {}
    diags = ext(h.analyze_stack(list(res.values())))
    assert sorted((d.name, d.path) for d in diags) == [("rule", "listenerArn"), ("tg", "vpcId")]


@pytest.mark.parametrize("type_, props, path", [
    (SVC, {"loadBalancers": [{"targetGroupArn": TG_ARN.replace("73e2", "0000"), "containerPort": 80.0}]},
     "loadBalancers[0].targetGroupArn"),
    ("aws:lambda/function:Function", {"vpcConfig": {"securityGroupIds": [LEGACY_SG], "subnetIds": []}},
     "vpcConfig.securityGroupIds[0]"),
    (SVC, {"cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/legacy"}, "cluster"),
    (LB, {"subnets": LEGACY_SUBNETS}, "subnets[0]"),
    (LB, {"securityGroups": [LEGACY_SG]}, "securityGroups[0]"),
    ("aws:ec2/route:Route", {"routeTableId": "rtb-0123456789abcdef0", "destinationCidrBlock": "0.0.0.0/0"},
     "routeTableId"),
    ("aws:ec2/route:Route", {"natGatewayId": "nat-0123456789abcdef0"}, "natGatewayId"),
    ("aws:ec2/route:Route", {"gatewayId": "igw-0123abcd"}, "gatewayId"),
    (TG, {"vpcId": "vpc-1a2b3c4d"}, "vpcId"),
    (SVC, {"networkConfiguration": {"subnets": ["subnet-12345"], "securityGroups": ["sg-12345"]}},
     "networkConfiguration.subnets[0]"),
    ("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
     {"vpcEndpointId": "vpce-0123456789abcdef0"}, "vpcEndpointId"),
    ("aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment", {"networkInterfaceId": "eni-12345678"},
     "networkInterfaceId"),
    (LG, {"kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab"}, "kmsKeyId"),
    (LG, {"kmsKeyId": "aaaaaaaa-12ab-34cd-56ef-1234567890ab"}, "kmsKeyId"),
    (SEC, {"kmsKeyId": "alias/payments-shared"}, "kmsKeyId"),
    (TD, {"executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"}, "executionRoleArn"),
    (RPA, {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/legacy-payments"}, "policyArn"),
    ("aws:secretsmanager/secretRotation:SecretRotation",
     {"secretId": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:legacy-db-AbCdEf"}, "secretId"),
    (LR, {"actions": [{"type": "forward", "forward": {"targetGroups": [{"arn": TG_ARN.replace("73e2", "1111")}]}}]},
     "actions[0].forward.targetGroups[0].arn"),
    ("aws:rds/instance:Instance", {"vpcSecurityGroupIds": [LEGACY_SG]}, "vpcSecurityGroupIds[0]"),
])
def test_literal_references(h, type_, props, path):
    diags = ext(h.analyze_stack([resource(type_, "consumer", props)]))
    # the top-level property is reported (its offending values are listed in the message)
    top = path.split(".")[0].split("[")[0]
    assert_violation(diags, EXT, name="consumer", path=top, level="mandatory", only=True)


def test_mixed_dependent_property(h):
    """`networkConfiguration` depends on the stack through its security group; a StackReference
    subnet (or an extra literal security group) next to it is still reported."""
    res = payment_stack()
    res["svc"]["props"]["networkConfiguration"]["subnets"] = [SUBNET_IDS[0], LEGACY_SUBNETS[0]]
    res["svc"]["props"]["networkConfiguration"]["securityGroups"].append(LEGACY_SG)
    diags = ext(h.analyze_stack(list(res.values())))
    assert_violation(diags, EXT, urn=res["svc"]["urn"], path="networkConfiguration", only=True)


def test_values_that_flowed_from_a_dependency_pass(h):
    """A derived output of a stack resource (not its id/ARN) that the property depends on."""
    res = payment_stack()
    res["svc"]["props"]["networkConfiguration"]["securityGroups"] = ["sg-0ddddddddddddddd4", "sg-0eeeeeeeeeeeeee55"]
    res["svc"]["propertyDependencies"]["networkConfiguration"].append(u("aws:ec2/vpc:Vpc", "vpc"))
    res["vpc"]["props"]["someComputedGroups"] = {"extra": ["sg-0eeeeeeeeeeeeee55"]}
    assert ext(h.analyze_stack(list(res.values()))) == []


def test_dependent_property_passes_as_a_whole_when_configured():
    h = Harness([EXT], config={EXT: {"checkDependentProperties": False}})
    res = payment_stack()
    res["svc"]["props"]["networkConfiguration"]["subnets"] = list(LEGACY_SUBNETS)
    assert h.analyze_stack(list(res.values())) == []
    seed_service(res)  # no dependency at all: reported either way
    assert len(h.analyze_stack(list(res.values()))) == 1


def test_dependency_on_something_outside_the_stack_does_not_count(h):
    res = payment_stack()
    seed_service(res)
    res["svc"]["propertyDependencies"]["networkConfiguration"] = [
        "urn:pulumi:production::legacy-infrastructure::pulumi:pulumi:StackReference::legacy"]
    assert len(ext(h.analyze_stack(list(res.values())))) == 1


def test_values_of_stack_resources_pass_without_dependencies(h):
    """Ids and ARNs equal to another stack resource's outputs (by_reference) are fine."""
    res = payment_stack()
    for item in res.values():
        item.pop("propertyDependencies", None)
    assert ext(h.analyze_stack(list(res.values()))) == []


def test_own_and_owned_outputs_do_not_count(h):
    vpc = resource("aws:ec2/vpc:Vpc", "vpc", {
        "id": VPC_ID, "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{VPC_ID}", "defaultSecurityGroupId": "sg-0d1d2d3d4d5d6d7d8",
        "mainRouteTableId": "rtb-0d1d2d3d4d5d6d7d8", "defaultRouteTableId": "rtb-0d1d2d3d4d5d6d7d8",
        "defaultNetworkAclId": "acl-0d1d2d3d4d5d6d7d8", "dhcpOptionsId": "dopt-0d1d2d3d4d5d6d7d8"})
    s3 = resource("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {
        "id": "vpce-0e1e2e3e4e5e6e7e8", "vpcId": VPC_ID, "routeTableIds": ["rtb-0d1d2d3d4d5d6d7d8"],
        "networkInterfaceIds": ["eni-0e1e2e3e4e5e6e7e8"], "prefixListId": "pl-63a5400a",
        "securityGroupIds": ["sg-0d1d2d3d4d5d6d7d8"]})
    nat = resource(NAT, "nat", {
        "id": "nat-0f1f2f3f4f5f6f7f8", "subnetId": "subnet-0f1f2f3f4f5f6f7f8", "allocationId": "eipalloc-0f1f2f3f4f5f6f7f8",
        "vpcId": "vpc-0123456701234567a", "networkInterfaceId": "eni-0f1f2f3f4f5f6f7f8", "routeTableId": "rtb-0f1f2f3f4f5f6f7f8",
        "regionalNatGatewayAddresses": [{"networkInterfaceId": "eni-0a1f2f3f4f5f6f7f8", "allocationId": "eipalloc-0a1f2f3f4f5f6f7f8"}]},
        propertyDependencies={"subnetId": [u("aws:ec2/subnet:Subnet", "public")],
                              "allocationId": [u("aws:ec2/eip:Eip", "eip")]})
    subnet = resource("aws:ec2/subnet:Subnet", "public", {"id": "subnet-0f1f2f3f4f5f6f7f8", "vpcId": VPC_ID})
    eip = resource("aws:ec2/eip:Eip", "eip", {"id": "eipalloc-0f1f2f3f4f5f6f7f8", "allocationId": "eipalloc-0f1f2f3f4f5f6f7f8"})
    key = resource(KEY, "key", {"id": KEY_ID, "arn": KEY_ARN, "keyId": KEY_ID})
    fn = resource("aws:lambda/function:Function", "fn", {
        "id": "rotate", "arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate",
        "qualifiedArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate:$LATEST"})
    alias = resource("aws:kms/alias:Alias", "alias", {"id": "alias/payments-dev", "targetKeyId": KEY_ID,
                                                      "targetKeyArn": KEY_ARN})
    assert ext(h.analyze_stack([vpc, s3, nat, subnet, eip, key, fn, alias])) == []


def test_zonal_nat_vpc_is_derived_but_a_regional_nat_vpc_is_an_input(h):
    nat = resource(NAT, "nat", {"id": "nat-0f1f2f3f4f5f6f7f8", "vpcId": LEGACY_VPC, "availabilityMode": "regional"})
    assert len(ext(h.analyze_stack([nat]))) == 1


def test_policy_documents_and_aws_managed_arns_pass(h):
    structured = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": KEY_ARN,
                                                          "Condition": {"StringEquals": {"aws:SourceArn": LEGACY_LISTENER,
                                                                                         "aws:SourceVpce": "vpce-0123456789abcdef0"}}}]}
    res = [
        resource("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "r", "policy": json.dumps(structured)}),
        resource("aws:iam/policy:Policy", "structured", {"policy": structured}),
        resource(ROLE, "role", {"assumeRolePolicy": structured, "inlinePolicies": [{"name": "x", "policy": structured}],
                                "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                                "permissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/boundary"}),
        resource("aws:sqs/queue:Queue", "q", {"redrivePolicy": {"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}}),
        resource("aws:s3/bucketPolicy:BucketPolicy", "bp", {"bucket": "b", "policyDocument": structured}),
        resource("aws:ecs/service:Service", "wild", {"iamRole": "x", "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:*:*:targetgroup/*"}]}),
        resource("aws:appautoscaling/target:Target", "scale", {
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
            "resourceId": "service/payments-dev/payments-dev-svc"}),
        resource("aws:sns/topic:Topic", "topic", {"kmsMasterKeyId": "alias/aws/sns"}),
        resource(LG, "lg", {"kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/logs"}),
        resource("aws:ec2/launchTemplate:LaunchTemplate", "lt", {"imageId": f"arn:aws:ssm:{REGION}::parameter/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"}),
    ]
    assert ext(h.analyze_stack(res)) == []


def test_provider_assume_role_is_not_a_reference(h):
    provider = {"type": PROVIDER, "name": "deploy", "urn": u(PROVIDER, "deploy"),
                "props": {"region": REGION, "assumeRoles": json.dumps([{"roleArn": f"arn:aws:iam::{ACCOUNT}:role/deployer"}]),
                          "assumeRole": {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/deployer"}}}
    assert ext(h.analyze_stack([provider])) == []


def test_aws_managed_default_kms_keys_pass(h):
    rds = resource("aws:rds/instance:Instance", "db", {"storageEncrypted": True, "kmsKeyId": KEY_ARN.replace("1234abcd", "99999999"),
                                                        "performanceInsightsKmsKeyId": KEY_ARN.replace("1234abcd", "88888888")})
    assert ext(h.analyze_stack([rds])) == []
    rds["props"]["vpcSecurityGroupIds"] = [LEGACY_SG]
    assert len(ext(h.analyze_stack([rds]))) == 1


def test_certificates_are_configurable(h):
    listener = resource(LISTENER, "https", {"certificateArn": CERT_ARN})
    iam_cert = resource(LISTENER, "legacy", {"certificateArn": f"arn:aws:iam::{ACCOUNT}:server-certificate/payments"})
    assert ext(h.analyze_stack([listener, iam_cert])) == []
    strict = Harness([EXT], config={EXT: {"allowCertificateArns": False}})
    diags = strict.analyze_stack([listener, iam_cert])
    assert sorted((d.name, d.path) for d in diags) == [("https", "certificateArn"), ("legacy", "certificateArn")]
    # A certificate created in the stack always passes.
    cert = resource("aws:acm/certificate:Certificate", "cert", {"id": CERT_ARN, "arn": CERT_ARN})
    assert strict.analyze_stack([cert, listener]) == []


def test_allowed_patterns(h):
    strict = Harness([EXT], config={EXT: {"allowedPatterns": ["^subnet-0aaaaaaaaaaaaaaa[12]$", "[invalid", 5, "sg-0aaa"]}})
    res = payment_stack()
    seed_service(res)
    assert strict.analyze_stack(list(res.values())) == []


def test_id_prefixes_and_services_are_configurable():
    route = resource("aws:ec2/route:Route", "tgw", {"transitGatewayId": "tgw-0123456789abcdef0"})
    assert Harness([EXT]).analyze_stack([route]) == []
    strict = Harness([EXT], config={EXT: {"idPrefixes": ["tgw", "Bad Prefix!", 3], "arnServices": []}})
    assert len(strict.analyze_stack([route])) == 1
    listener = resource(LR, "rule", {"listenerArn": LEGACY_LISTENER})
    assert strict.analyze_stack([listener]) == []


def test_unknowns_pass(h):
    res = payment_stack()
    seed_service(res)
    res["svc"]["props"]["networkConfiguration"] = {"subnets": [UNKNOWN, UNKNOWN], "securityGroups": UNKNOWN}
    res["tg"]["props"]["vpcId"] = UNKNOWN
    assert ext(h.analyze_stack(list(res.values()))) == []


def test_secret_values_are_not_echoed(h):
    svc = resource(SVC, "svc", {"networkConfiguration": {"subnets": secret(list(LEGACY_SUBNETS))},
                                "cluster": secret(f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/legacy")})
    diags = ext(h.analyze_stack([svc]))
    assert sorted(d.path for d in diags) == ["cluster", "networkConfiguration"]
    for d in diags:
        assert "subnet-0aaa" not in d.message and "cluster/legacy" not in d.message


@pytest.mark.parametrize("value", ["sg-app", "subnet-private-a", "vpc-main", "sg-123", "subnet-0123456789abcdef01",
                                   "my-vpc-0123456789abcdef0", "arn:aws:ecs:us-east-1:*:cluster/*", "payments-cluster"])
def test_names_and_patterns_are_not_ids(h, value):
    assert ext(h.analyze_stack([resource(SVC, "svc", {"cluster": value, "networkConfiguration": {"subnets": [value]}})])) == []


def test_non_reference_properties_are_not_scanned(h):
    res = [resource("aws:ssm/parameter:Parameter", "p", {"name": "/payments/dev/vpc", "value": LEGACY_VPC}),
           resource("aws:cloudwatch/metricAlarm:MetricAlarm", "a", {"dimensions": {"LoadBalancer": "app/legacy/123"},
                                                                     "alarmActions": [f"arn:aws:sns:{REGION}:{ACCOUNT}:legacy"]}),
           resource("aws:ec2/subnet:Subnet", "s", {"id": "subnet-0123456789abcdef0", "vpcId": VPC_ID, "cidrBlock": "10.0.0.0/24"},
                    propertyDependencies={"vpcId": [u("aws:ec2/vpc:Vpc", "vpc")]}),
           resource("aws:ec2/vpc:Vpc", "vpc", {"id": VPC_ID, "ownerId": ACCOUNT})]
    assert ext(h.analyze_stack(res)) == []


def test_long_lists_are_summarised(h):
    subnets = [f"subnet-0{i:016x}" for i in range(10)]
    diags = ext(h.analyze_stack([resource(LB, "alb", {"subnets": subnets})]))
    assert_violation(diags, EXT, name="alb", path="subnets", only=True)
    assert all(s not in diags[0].message for s in subnets[6:])  # a long list is summarised, not repeated whole


@pytest.mark.parametrize("props", [
    {"vpcId": 5.0}, {"vpcId": None}, {"subnetIds": [None, 1.0, True, {"a": "b"}]}, {"subnets": "subnet-0123456789abcdef0"},
    {"networkConfiguration": [[[[]]]]}, {"loadBalancers": {"targetGroupArn": {"deep": ["x"]}}},
    {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"vpcId": "vpc-0123456789abcdef0"}}}}}}}}},
    {"kmsKeyId": ""}, {"policy": "not json"}, {"x": "arn:aws:ecs"},
])
def test_malformed_input(h, props):
    diags = ext(h.analyze_stack([resource(SVC, "svc", props)]))
    assert all(d.policy == EXT for d in diags)


def test_deep_nesting_never_raises(h):
    value = "vpc-0123456789abcdef0"
    for _ in range(90):
        value = {"vpcId": value}
    assert all(d.policy == EXT for d in h.analyze_stack([resource(SVC, "svc", {"deep": value})]))


def test_level_is_configurable():
    h = Harness([EXT], config={EXT: "advisory"})
    res = payment_stack()
    seed_service(res)
    assert [d.level for d in h.analyze_stack(list(res.values()))] == ["advisory"]


# =============================================================================================
# no-cross-environment-references
# =============================================================================================
def xenv(diags):
    return by_policy(diags, XENV)


def test_seed_listener_of_the_production_stack(h):
    res = payment_stack()
    res["rule"] = resource(LR, "rule", {"listenerArn": LEGACY_LISTENER, "priority": 100.0}, )
    diags = xenv(h.analyze_stack(list(res.values())))
    assert_violation(diags, XENV, urn=u(LR, "rule"), path="listenerArn", level="mandatory", only=True)


def test_cross_environment_message_names_both_environments(h):
    """The wording test of no-cross-environment-references: which environment is named where, and
    which one the stack is."""
    res = payment_stack()
    res["rule"] = resource(LR, "rule", {"listenerArn": LEGACY_LISTENER, "priority": 100.0}, )
    message = xenv(h.analyze_stack(list(res.values())))[0].message
    assert "production" in message and "listenerArn" in message and "the dev environment" in message


@pytest.mark.parametrize("name, props, where", [
    ("payments-prod-db", {}, "(logical name)"),
    ("db", {"name": "payments-production-db"}, "name"),
    ("db", {"tags": {**TAGS, "Name": "payments-prd"}}, "tags.Name"),
    ("db", {"secretId": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/payments/db-AbCdEf"}, "secretId"),
    ("db", {"endpoint": "https://api.staging.payments.example.com/v1"}, "endpoint"),
    ("db", {"bucket": "payments-stg-artifacts"}, "bucket"),
    ("db", {"nested": {"list": [{"value": "uat-queue"}]}}, "nested.list[0].value"),
])
def test_other_environment_named(h, name, props, where):
    diags = xenv(h.analyze_stack([resource("aws:rds/instance:Instance", name, props)]))
    assert_violation(diags, XENV, name=name, path=where, only=True)


def test_json_documents_values_not_keys(h):
    definitions = json.dumps([{"name": "app", "environment": [
        {"name": "STAGE", "value": "dev"}, {"name": "NODE_ENV", "value": "production"},
        {"name": "PROD_API_URL_IS_A_NAME", "value": "https://api.dev.example.com"},
        {"name": "PAYMENTS_DB_HOST", "value": "payments-prod.cluster-abc.us-east-1.rds.amazonaws.com"}],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET_ARN}]}])
    task = resource(TD, "task", {"containerDefinitions": definitions})
    diags = xenv(h.analyze_stack([task]))
    assert_violation(diags, XENV, name="task", path="containerDefinitions[0].environment[3].value", only=True)
    assert "cluster-abc" not in diags[0].message  # the value is not echoed
    policy = resource("aws:iam/policy:Policy", "read", {"policy": json.dumps({"Statement": [
        {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::payments-prod-artifacts/*"}]})})
    diags = xenv(h.analyze_stack([policy]))
    assert_violation(diags, XENV, name="read", path="policy.Statement[0].Resource", only=True)


def test_false_positive_strings(h):
    res = [resource("aws:ecs/service:Service", "svc-dev", {
        "platformVersion": "LATEST", "region": "eu-west-2", "availabilityZone": "us-east-1a",
        "deliveryService": "delivery.logs.amazonaws.com", "stage": "UpdateSecretVersionStage",
        "principal": "ecs-tasks.amazonaws.com", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "preprod": "preprod-like", "camel": "productionReadyFlag", "url": "https://docs.aws.amazon.com/prodigy",
        "versionStages": ["AWSCURRENT", "AWSPENDING"], "image": "nginx:stable-alpine", "description": "Not for production use",
        "tags": {**TAGS, "Description": "copied from the prod runbook"}})]
    assert h.analyze_stack(res) == []


def test_property_names_are_not_scanned(h):
    res = [resource("aws:ssm/parameter:Parameter", "p", {"prodMirror": "x", "tags": {**TAGS, "prod-owner": "alice"}})]
    assert h.analyze_stack(res) == []


def test_secret_values_are_not_scanned(h):
    res = [resource(SV, "v", {"secretString": secret("postgres://payments-prod-db:5432/payments"),
                              "secretBinary": secret(json.dumps({"host": "prod-db"}))})]
    assert h.analyze_stack(res) == []


def test_this_stacks_own_arns_are_fine():
    """Stack `prod-mirror` is a test environment (config); its resources are named after it."""
    h = Harness([XENV], stack="prod-mirror", config={XENV: {"stackEnvironments": {"prod-mirror": "test"}}})
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments-prod-mirror"
    res = [resource("aws:ecs/cluster:Cluster", "cluster", {"id": arn, "arn": arn, "name": "payments-prod-mirror",
                                                           "tags": {"environment": "test"}}),
           resource(SVC, "svc", {"cluster": arn, "name": "payments-prod-mirror-svc"})]
    assert h.analyze_stack(res) == []
    res.append(resource(SVC, "reader", {"cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments-prod"}))
    diags = h.analyze_stack(res)
    assert_violation(diags, XENV, urn=u(SVC, "reader"), path="cluster", only=True)


def test_references_to_a_misnamed_stack_resource_are_reported_once(h):
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:payments-prod-db-AbCdEf"
    res = [resource(SEC, "db", {"id": arn, "arn": arn, "name": "payments-prod-db"}),
           resource(SV, "v", {"secretId": arn, "arn": arn}),
           resource("aws:secretsmanager/secretPolicy:SecretPolicy", "p", {"secretArn": arn}),
           resource("aws:ssm/parameter:Parameter", "name-ref", {"value": "payments-prod-db"})]
    diags = xenv(h.analyze_stack(res))
    assert [d.urn for d in diags] == [u(SEC, "db")]


@pytest.mark.parametrize("key, value, fires", [
    ("environment", "dev", False), ("Environment", "Development", False), ("ENV", "dev", False),
    ("environment", "payments-dev", False), ("environment", "production", True), ("env", "prod", True),
    ("environment", "sandbox", True), ("environment", "dev-and-prod", True), ("environment", 5.0, True),
    ("environment", UNKNOWN, False), ("Owner", "prod-team", True),
])
def test_environment_tag(h, key, value, fires):
    diags = xenv(h.analyze_stack([resource(LG, "logs", {"tags": {key: value}})]))
    assert bool(diags) == fires, diags
    if fires:
        assert_violation(diags, XENV, name="logs", path=f"tags.{key}", only=True)


def test_environment_tag_violation_is_reported_once(h):
    diags = xenv(h.analyze_stack([resource(LG, "logs", {"tags": {"environment": "production"},
                                                        "tagsAll": {"environment": "production"}})]))
    assert_violation(diags, XENV, name="logs", path="tags.environment", only=True)


def test_secret_environment_tag_is_not_echoed(h):
    diags = xenv(h.analyze_stack([resource(LG, "logs", {"tags": {"environment": secret("prod-secret-marker")}})]))
    assert_violation(diags, XENV, name="logs", path="tags.environment", only=True)
    assert "prod-secret-marker" not in diags[0].message


def test_provider_default_tags_judged_once_on_the_provider(h):
    provider = {"type": PROVIDER, "name": "default_7_51_1", "urn": u(PROVIDER, "default_7_51_1"),
                "props": {"region": REGION, "defaultTags": json.dumps({"tags": {"environment": "production",
                                                                               "Name": "payments"}})}}
    lg = resource(LG, "logs", {"tags": {"team": "payments"}, "tagsAll": {"team": "payments", "environment": "production"}},
                  provider={"region": REGION})
    diags = xenv(h.analyze_stack([provider, lg]))
    assert_violation(diags, XENV, urn=provider["urn"], path="defaultTags.tags.environment", only=True)
    # Without the provider in the stack, the merged tagsAll is judged on the resource.
    diags = xenv(h.analyze_stack([lg]))
    assert_violation(diags, XENV, urn=lg["urn"], path="tagsAll.environment", only=True)


def test_provider_settings_are_scanned(h):
    provider = {"type": PROVIDER, "name": "aws", "urn": u(PROVIDER, "aws"),
                "props": {"region": REGION, "profile": "payments-prod-admin", "secretKey": secret("prod-key")}}
    diags = xenv(h.analyze_stack([provider]))
    assert_violation(diags, XENV, name="aws", path="profile", only=True)
    assert "prod-key" not in diags[0].message


def test_tag_blocks_in_list_form(h):
    asg = resource("aws:autoscaling/group:Group", "asg", {"tags": [
        {"key": "environment", "value": "production", "propagateAtLaunch": True},
        {"key": "prod-owner", "value": "alice", "propagateAtLaunch": True}]})
    diags = xenv(h.analyze_stack([asg]))
    assert_violation(diags, XENV, name="asg", path="tags[0].value", only=True)


def test_unknown_environment_is_not_applicable():
    h = Harness([XENV], stack="sandbox")
    res = [resource(LG, "payments-prod-logs", {"tags": {"team": "payments"}})]
    assert h.analyze_stack(res) == []
    request_names = _not_applicable_stack(h, res)
    assert request_names == [XENV]


def _not_applicable_stack(h, resources):
    from pulumi.runtime import proto
    from harness import to_struct
    request = proto.AnalyzeStackRequest()
    for r in resources:
        request.resources.append(proto.AnalyzerResource(type=r["type"], name=r["name"], urn=r["urn"],
                                                        properties=to_struct(r["props"])))
    return [n.policy_name for n in h.servicer.AnalyzeStack(request, None).not_applicable]


def test_unknown_environment_inferred_from_resource_tags():
    h = Harness([XENV], stack="sandbox")
    res = [resource(LG, "logs", {"tags": {"environment": "dev"}}),
           resource(LG, "payments-prod-logs", {"tags": {"environment": "dev"}})]
    diags = h.analyze_stack(res)
    assert [d.urn for d in diags] == [u(LG, "payments-prod-logs")]


def test_unknown_environment_with_conflicting_tags():
    h = Harness([XENV], stack="sandbox")
    res = [resource(LG, "a", {"tags": {"environment": "dev"}}), resource(LG, "b", {"tags": {"environment": "dev"}}),
           resource(LG, "c", {"tags": {"Environment": "production"}})]
    diags = h.analyze_stack(res)
    assert sorted((d.urn, d.path) for d in diags) == [(u(LG, "a"), "tags"), (u(LG, "c"), "tags")]


def test_environment_from_stack_tags():
    h = Harness([XENV], stack="sandbox", stack_tags={"Environment": "staging"})
    diags = h.analyze_stack([resource(LG, "logs", {"name": "payments-dev-logs", "tags": {"environment": "staging"}})])
    assert_violation(diags, XENV, name="logs", path="name", only=True)


def test_stack_environment_mapping_and_custom_environments():
    config = {XENV: {"stackEnvironments": {"payments-eu-*": "production"},
                     "environments": {"production": ["production", "prod", "live"], "dev": ["dev"], "perf": ["perf"]}}}
    h = Harness([XENV], stack="payments-eu-1", config=config)
    assert h.analyze_stack([resource(LG, "live-logs", {"tags": {"environment": "prod"}})]) == []
    diags = h.analyze_stack([resource(LG, "perf-logs", {"tags": {"environment": "live"}}),
                             resource(LG, "qa-logs", {})])
    assert [d.urn for d in diags] == [u(LG, "perf-logs")]  # qa is not an environment any more


def test_production_stack_must_not_point_at_dev():
    h = Harness([XENV], stack="payments-prod")
    diags = h.analyze_stack([resource(SVC, "svc", {"cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/payments-dev"})])
    assert_violation(diags, XENV, name="svc", path="cluster", only=True)


def test_allowed_patterns_and_ignored_properties():
    config = {XENV: {"allowedPatterns": ["^arn:aws:s3:::prod-log-archive", "(unclosed"],
                     "ignoredProperties": ["*description", "comment"], "ignoredEnvironmentVariables": []}}
    h = Harness([XENV], config=config)
    res = [resource("aws:ec2/flowLog:FlowLog", "fl", {"logDestination": "arn:aws:s3:::prod-log-archive/vpc",
                                                       "comment": "prod", "alarmDescription": "prod"})]
    assert h.analyze_stack(res) == []
    task = resource(TD, "task", {"containerDefinitions": json.dumps([{"environment": [{"name": "NODE_ENV", "value": "production"}]}])})
    assert len(h.analyze_stack([task])) == 1


def test_unknowns_are_skipped(h):
    res = [resource(SVC, "svc", {"cluster": UNKNOWN, "name": UNKNOWN, "tags": {"environment": UNKNOWN, "Name": UNKNOWN},
                                 "containerDefinitions": UNKNOWN})]
    assert h.analyze_stack(res) == []


@pytest.mark.parametrize("props", [
    {"tags": "production"}, {"tags": ["prod", 1]}, {"tags": 5.0}, {"tags": None}, {"tags": {"environment": None}},
    {"tagsAll": [1, 2]}, {"containerDefinitions": "{not json prod"}, {"containerDefinitions": "[prod"},
    {"x": [[[["prod"]]]]}, {"y": {"": "prod"}}, {"name": 5.0},
])
def test_cross_env_malformed_input(h, props):
    diags = xenv(h.analyze_stack([resource(SVC, "svc", props)]))
    assert all(d.policy == XENV for d in diags)


def test_deeply_nested_strings_never_raise(h):
    value = "prod"
    for _ in range(90):
        value = [value]
    assert all(d.policy == XENV for d in h.analyze_stack([resource(SVC, "svc", {"deep": value,
                                                                                "doc": json.dumps(value)})]))


def test_negated_environment_tokens(h):
    res = [resource(LG, "logs", {"name": "payments-non-prod-logs", "kmsKeyId": "alias/pre-prod-shared-is-free-text",
                                 "tags": {"tier": "not-production"}})]
    assert xenv(h.analyze_stack(res)) == []


def test_non_prod_stack_is_not_production():
    h = Harness([XENV], stack="payments-non-prod")
    res = [resource(LG, "logs", {"name": "payments-dev-logs"})]
    assert h.analyze_stack(res) == []  # no environment: not applicable, not "production"
    assert _not_applicable_stack(h, res) == [XENV]


def test_build_mode_variables_in_map_form(h):
    fn = resource("aws:lambda/function:Function", "fn", {"environment": {"variables": {
        "NODE_ENV": "production", "RAILS_ENV": "production", "UPSTREAM": "https://prod.payments.example.com"}}})
    diags = xenv(h.analyze_stack([fn]))
    assert_violation(diags, XENV, name="fn", path="environment.variables.UPSTREAM", only=True)


# =============================================================================================
# Robustness: a realistic stack with one property replaced by garbage, for the four stack rules
# =============================================================================================
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

STACK_RULES = Harness([EXT, XENV, "vpc-endpoints-for-private-tasks", "vpc-flow-logs"])
_BASE = payment_stack()
_garbage = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=20), st.just(UNKNOWN),
              st.sampled_from(["vpc-0123456789abcdef0", "{", "[1,", "prod", LEGACY_LISTENER, "com.amazonaws.x.s3"])),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=12)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(target=st.sampled_from(sorted(_BASE)), data=st.data(), garbage=_garbage, as_secret=st.booleans())
def test_mutated_stacks_never_raise(target, data, garbage, as_secret):
    res = json.loads(json.dumps(_BASE))
    props = res[target]["props"]
    key = data.draw(st.sampled_from(sorted(props) + ["extra"]))
    props[key] = secret(garbage) if as_secret else garbage
    diags = STACK_RULES.analyze_stack(list(res.values()))
    assert all(d.policy in (EXT, XENV, "vpc-endpoints-for-private-tasks", "vpc-flow-logs") for d in diags)


def test_blue_green_vocabulary_names_no_environment():
    from harness import Harness, resource
    h = Harness(["no-cross-environment-references"], stack="payments-dev")
    lis = "aws:lb/listener:Listener"
    ok = [resource(lis, name, {"port": 443.0}) for name in
          ("payments-dev-test-listener", "payments-prod-listener", "checkout-test-traffic-route", "api-prod-tg")]
    assert h.analyze_stack(ok) == []
    bad = h.analyze_stack([resource(lis, "payments-prod-db-listener", {"port": 443.0})])
    assert [d.policy for d in bad] == ["no-cross-environment-references"]
