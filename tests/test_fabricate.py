"""Tests of policypack.offline.fabricate: realistic outputs for resources created under mocks."""

from __future__ import annotations

import base64
import functools
import importlib
import importlib.util
import inspect
import json
import re
import typing

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policypack.offline.fabricate import Environment, fabricate

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]

ENV = Environment(stack="dev", project="proj")
ACCOUNT = ENV.account
REGION = ENV.region
HEX16 = "[0-9a-f]{16}"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web-1234567/0123456789abcdef"

# (type token, logical name, minimal inputs in wire form)
SAMPLE: list[tuple[str, str, dict]] = [
    ("aws:ecs/cluster:Cluster", "cluster", {}),
    ("aws:ecs/service:Service", "svc", {"cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod", "taskDefinition": "td:1"}),
    ("aws:ecs/taskDefinition:TaskDefinition", "td", {"family": "app", "containerDefinitions": "[]"}),
    ("aws:lb/loadBalancer:LoadBalancer", "web", {"subnets": ["subnet-1", "subnet-2"]}),
    ("aws:alb/loadBalancer:LoadBalancer", "legacy", {}),
    ("aws:lb/targetGroup:TargetGroup", "tg", {"port": 80, "protocol": "HTTP", "vpcId": "vpc-1"}),
    ("aws:lb/listener:Listener", "listener", {"loadBalancerArn": LB_ARN, "port": 443, "defaultActions": [{"type": "forward"}]}),
    ("aws:lb/listenerRule:ListenerRule", "rule", {"listenerArn": LB_ARN.replace("loadbalancer/", "listener/") + "/fedcba9876543210", "actions": [], "conditions": []}),
    ("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}),
    ("aws:ec2/subnet:Subnet", "subnet", {"vpcId": "vpc-1", "cidrBlock": "10.0.1.0/24"}),
    ("aws:ec2/securityGroup:SecurityGroup", "sg", {"vpcId": "vpc-1"}),
    ("aws:ec2/internetGateway:InternetGateway", "igw", {}),
    ("aws:ec2/natGateway:NatGateway", "nat", {"subnetId": "subnet-1"}),
    ("aws:ec2/eip:Eip", "eip", {}),
    ("aws:ec2/routeTable:RouteTable", "rt", {"vpcId": "vpc-1"}),
    ("aws:ec2/instance:Instance", "vm", {"ami": "ami-1", "instanceType": "t3.micro"}),
    ("aws:ec2/launchTemplate:LaunchTemplate", "lt", {}),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", "vpce", {"vpcId": "vpc-1", "serviceName": "com.amazonaws.us-east-1.s3"}),
    ("aws:iam/role:Role", "role", {"assumeRolePolicy": "{}"}),
    ("aws:iam/policy:Policy", "policy", {"policy": "{}"}),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", {"role": "r", "policyArn": "arn:aws:iam::aws:policy/x"}),
    ("aws:iam/instanceProfile:InstanceProfile", "profile", {"role": "r"}),
    ("aws:iam/user:User", "user", {}),
    ("aws:lambda/function:Function", "fn", {"role": "arn:aws:iam::1:role/r", "runtime": "python3.12", "handler": "a.b"}),
    ("aws:lambda/permission:Permission", "perm", {"action": "lambda:InvokeFunction", "function": "fn", "principal": "apigateway.amazonaws.com"}),
    ("aws:apigateway/restApi:RestApi", "api", {}),
    ("aws:apigateway/deployment:Deployment", "dep", {"restApi": "abcdefghij"}),
    ("aws:apigateway/stage:Stage", "stage", {"restApi": "abcdefghij", "deployment": "abc123", "stageName": "prod"}),
    ("aws:apigateway/resource:Resource", "res", {"restApi": "abcdefghij", "parentId": "root", "pathPart": "items"}),
    ("aws:apigatewayv2/api:Api", "httpapi", {"protocolType": "HTTP"}),
    ("aws:apigatewayv2/stage:Stage", "httpstage", {"apiId": "abcdefghij", "name": "$default"}),
    ("aws:eks/cluster:Cluster", "eks", {"roleArn": "arn:aws:iam::1:role/r", "vpcConfig": {"subnetIds": ["subnet-1"]}}),
    ("aws:eks/nodeGroup:NodeGroup", "ng", {"clusterName": "eks", "nodeRoleArn": "arn:aws:iam::1:role/n", "subnetIds": ["subnet-1"],
                                           "scalingConfig": {"desiredSize": 1, "maxSize": 1, "minSize": 1}}),
    ("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": "db.t3.micro"}),
    ("aws:rds/cluster:Cluster", "aurora", {"engine": "aurora-mysql"}),
    ("aws:rds/subnetGroup:SubnetGroup", "dbsubnets", {"subnetIds": ["subnet-1"]}),
    ("aws:s3/bucket:Bucket", "bucket", {}),
    ("aws:s3/bucketV2:BucketV2", "bucket2", {"bucket": "my-explicit-bucket"}),
    ("aws:s3/bucketObject:BucketObject", "obj", {"bucket": "b", "key": "index.html"}),
    ("aws:ecr/repository:Repository", "repo", {}),
    ("aws:kms/key:Key", "key", {}),
    ("aws:kms/alias:Alias", "alias", {"targetKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
    ("aws:cloudwatch/logGroup:LogGroup", "logs", {}),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm", {"comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 1}),
    ("aws:cloudwatch/eventRule:EventRule", "schedule", {"scheduleExpression": "rate(5 minutes)"}),
    ("aws:secretsmanager/secret:Secret", "secret", {}),
    ("aws:secretsmanager/secretVersion:SecretVersion", "secretv", {"secretId": "arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf"}),
    ("aws:dynamodb/table:Table", "table", {"hashKey": "id", "attributes": [{"name": "id", "type": "S"}]}),
    ("aws:sns/topic:Topic", "topic", {}),
    ("aws:sns/topicSubscription:TopicSubscription", "sub", {"topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:t", "protocol": "sqs", "endpoint": "arn:q"}),
    ("aws:sqs/queue:Queue", "queue", {}),
    ("aws:cloudfront/distribution:Distribution", "cdn", {"enabled": True, "origins": [], "defaultCacheBehavior": {}, "restrictions": {}, "viewerCertificate": {}}),
    ("aws:cloudfront/originAccessIdentity:OriginAccessIdentity", "oai", {}),
    ("aws:route53/zone:Zone", "zone", {"name": "example.com"}),
    ("aws:route53/record:Record", "record", {"zoneId": "Z123", "name": "www.example.com", "type": "A"}),
    ("aws:acm/certificate:Certificate", "cert", {"domainName": "example.com", "validationMethod": "DNS"}),
    ("aws:codedeploy/application:Application", "app", {"computePlatform": "ECS"}),
    ("aws:codedeploy/deploymentGroup:DeploymentGroup", "dg", {"appName": "app", "deploymentGroupName": "dg", "serviceRoleArn": "arn:r"}),
    ("aws:elasticache/cluster:Cluster", "cache", {"engine": "redis"}),
    ("aws:ssm/parameter:Parameter", "param", {"type": "String", "value": "v"}),
    ("aws:efs/fileSystem:FileSystem", "efs", {}),
    ("aws:autoscaling/group:Group", "asg", {"maxSize": 1, "minSize": 1}),
    ("aws:sfn/stateMachine:StateMachine", "sm", {"definition": "{}", "roleArn": "arn:r"}),
]

ARN_PATTERNS = {
    "aws:ecs/cluster:Cluster": rf"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/cluster-[0-9a-f]{{7}}",
    "aws:ecs/service:Service": rf"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/svc-[0-9a-f]{{7}}",
    "aws:ecs/taskDefinition:TaskDefinition": rf"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:1",
    "aws:lb/loadBalancer:LoadBalancer": rf"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web-[0-9a-f]{{7}}/{HEX16}",
    "aws:lb/targetGroup:TargetGroup": rf"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/tg-[0-9a-f]{{7}}/{HEX16}",
    "aws:lb/listener:Listener": rf"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web-1234567/0123456789abcdef/{HEX16}",
    "aws:lb/listenerRule:ListenerRule": rf"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/web-1234567/0123456789abcdef/fedcba9876543210/{HEX16}",
    "aws:ec2/vpc:Vpc": rf"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-[0-9a-f]{{17}}",
    "aws:ec2/subnet:Subnet": rf"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-[0-9a-f]{{17}}",
    "aws:ec2/securityGroup:SecurityGroup": rf"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-[0-9a-f]{{17}}",
    "aws:ec2/instance:Instance": rf"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-[0-9a-f]{{17}}",
    "aws:iam/role:Role": rf"arn:aws:iam::{ACCOUNT}:role/role-[0-9a-f]{{7}}",
    "aws:iam/policy:Policy": rf"arn:aws:iam::{ACCOUNT}:policy/policy-[0-9a-f]{{7}}",
    "aws:iam/instanceProfile:InstanceProfile": rf"arn:aws:iam::{ACCOUNT}:instance-profile/profile-[0-9a-f]{{7}}",
    "aws:lambda/function:Function": rf"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn-[0-9a-f]{{7}}",
    "aws:eks/cluster:Cluster": rf"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/eks-[0-9a-f]{{7}}",
    "aws:rds/instance:Instance": rf"arn:aws:rds:{REGION}:{ACCOUNT}:db:db-[0-9a-f]{{7}}",
    "aws:rds/cluster:Cluster": rf"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:aurora-[0-9a-f]{{7}}",
    "aws:s3/bucket:Bucket": r"arn:aws:s3:::bucket-[0-9a-f]{7}",
    "aws:s3/bucketV2:BucketV2": r"arn:aws:s3:::my-explicit-bucket",
    "aws:ecr/repository:Repository": rf"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/repo-[0-9a-f]{{7}}",
    "aws:kms/key:Key": rf"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID}",
    "aws:kms/alias:Alias": rf"arn:aws:kms:{REGION}:{ACCOUNT}:alias/alias-[0-9a-f]{{7}}",
    "aws:cloudwatch/logGroup:LogGroup": rf"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:logs-[0-9a-f]{{7}}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": rf"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:alarm-[0-9a-f]{{7}}",
    "aws:cloudwatch/eventRule:EventRule": rf"arn:aws:events:{REGION}:{ACCOUNT}:rule/schedule-[0-9a-f]{{7}}",
    "aws:secretsmanager/secret:Secret": rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:secret-[0-9a-f]{{7}}-[A-Za-z]{{6}}",
    "aws:dynamodb/table:Table": rf"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/table-[0-9a-f]{{7}}",
    "aws:sns/topic:Topic": rf"arn:aws:sns:{REGION}:{ACCOUNT}:topic-[0-9a-f]{{7}}",
    "aws:sns/topicSubscription:TopicSubscription": rf"arn:aws:sns:{REGION}:{ACCOUNT}:t:{UUID}",
    "aws:sqs/queue:Queue": rf"arn:aws:sqs:{REGION}:{ACCOUNT}:queue-[0-9a-f]{{7}}",
    "aws:route53/zone:Zone": r"arn:aws:route53:::hostedzone/Z[A-Z0-9]{20}",
    "aws:acm/certificate:Certificate": rf"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/{UUID}",
    "aws:codedeploy/application:Application": rf"arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:app-[0-9a-f]{{7}}",
    "aws:codedeploy/deploymentGroup:DeploymentGroup": rf"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:app/dg",
    "aws:elasticache/cluster:Cluster": rf"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:cache-[0-9a-f]{{7}}",
    "aws:ssm/parameter:Parameter": rf"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/param-[0-9a-f]{{7}}",
    "aws:efs/fileSystem:FileSystem": rf"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-[0-9a-f]{{17}}",
}

ID_PATTERNS = {
    "aws:ec2/vpc:Vpc": r"vpc-[0-9a-f]{17}",
    "aws:ec2/subnet:Subnet": r"subnet-[0-9a-f]{17}",
    "aws:ec2/securityGroup:SecurityGroup": r"sg-[0-9a-f]{17}",
    "aws:ec2/internetGateway:InternetGateway": r"igw-[0-9a-f]{17}",
    "aws:ec2/natGateway:NatGateway": r"nat-[0-9a-f]{17}",
    "aws:ec2/eip:Eip": r"eipalloc-[0-9a-f]{17}",
    "aws:ec2/routeTable:RouteTable": r"rtb-[0-9a-f]{17}",
    "aws:ec2/instance:Instance": r"i-[0-9a-f]{17}",
    "aws:ec2/launchTemplate:LaunchTemplate": r"lt-[0-9a-f]{17}",
    "aws:ec2/vpcEndpoint:VpcEndpoint": r"vpce-[0-9a-f]{17}",
    "aws:ecs/service:Service": ARN_PATTERNS["aws:ecs/service:Service"],
    "aws:ecs/taskDefinition:TaskDefinition": "app",
    "aws:ecr/repository:Repository": r"repo-[0-9a-f]{7}",
    "aws:cloudwatch/logGroup:LogGroup": r"logs-[0-9a-f]{7}",
    "aws:kms/key:Key": UUID,
    "aws:iam/role:Role": r"role-[0-9a-f]{7}",
    "aws:lb/loadBalancer:LoadBalancer": ARN_PATTERNS["aws:lb/loadBalancer:LoadBalancer"],
    "aws:s3/bucket:Bucket": r"bucket-[0-9a-f]{7}",
    "aws:sqs/queue:Queue": rf"https://sqs\.{REGION}\.amazonaws\.com/{ACCOUNT}/queue-[0-9a-f]{{7}}",
    "aws:route53/zone:Zone": r"Z[A-Z0-9]{20}",
    "aws:rds/instance:Instance": r"db-[0-9a-f]{7}",
    "aws:eks/cluster:Cluster": r"eks-[0-9a-f]{7}",
    "aws:codedeploy/application:Application": rf"{UUID}:app-[0-9a-f]{{7}}",
}


# --------------------------------------------------------------------------------------------
# An independent reading of the installed SDK, to check fabricate against
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _resource_classes() -> dict[str, tuple[str, str]]:
    """token -> (module, class) as registered by pulumi_aws/__init__.py."""
    init_source = open(importlib.util.find_spec("pulumi_aws").origin, encoding="utf-8").read()
    modules = json.loads(re.search(r'resource_modules="""(.*?)"""', init_source, re.S).group(1))
    return {token: (info["fqn"], cls) for info in modules for token, cls in info["classes"].items()}


def _resource_class(token: str) -> type:
    module, cls = _resource_classes()[token]
    return getattr(importlib.import_module(module), cls)


def _declared(cls: type) -> dict[str, typing.Any]:
    """pulumi name -> resolved annotation (Output[...] unwrapped) of every getter of cls."""
    result = {}
    for _py, name, prop in pulumi._types._py_properties(cls):
        hints = typing.get_type_hints(prop.fget, globalns=vars(importlib.import_module(cls.__module__)))
        hint = hints["return"]
        if typing.get_origin(hint) is pulumi.Output:
            hint = typing.get_args(hint)[0]
        result[name] = hint
    return result


def _is_optional(hint) -> bool:
    return typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)


def _unwrap(hint):
    if _is_optional(hint):
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _input_names(cls: type) -> set[str]:
    params = set(inspect.signature(cls._internal_init).parameters) - {"__self__", "resource_name", "opts", "__props__"}
    # A property called resource_name is passed as `resource_name_`.
    params = {p[:-1] if p.endswith("_") else p for p in params}
    return {name for py, name, _ in pulumi._types._py_properties(cls) if py in params}


def _check_type(value, hint, where: str) -> None:
    """value must have the Python type the annotation promises (recursively into nested types)."""
    hint = _unwrap(hint)
    origin = typing.get_origin(hint)
    if hint is str:
        assert isinstance(value, str), where
    elif hint is bool:
        assert isinstance(value, bool), where
    elif hint is int:
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif hint is float:
        assert isinstance(value, (int, float)) and not isinstance(value, bool), where
    elif origin in (list, typing.Sequence, __import__("collections").abc.Sequence):
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check_type(item, typing.get_args(hint)[0], f"{where}[{i}]")
    elif origin in (dict, typing.Mapping, __import__("collections").abc.Mapping):
        assert isinstance(value, dict), where
    elif isinstance(hint, type) and pulumi._types.is_output_type(hint):
        assert isinstance(value, dict), where
        nested = _declared(hint)
        for key, item in value.items():
            if key in nested:
                _check_type(item, nested[key], f"{where}.{key}")


@pytest.mark.parametrize("token,name,inputs", SAMPLE, ids=[s[0] for s in SAMPLE])
def test_every_computed_output_is_fabricated_with_its_declared_type(token, name, inputs):
    cls = _resource_class(token)
    declared = _declared(cls)
    inputs_of_type = _input_names(cls)
    id_, outputs = fabricate(token, name, inputs, ENV, preview=False)
    assert isinstance(id_, str) and id_
    for key, value in inputs.items():
        if not isinstance(value, dict):
            assert outputs[key] == value, f"input {key} must come back unchanged"
    for key, hint in declared.items():
        output_only = key not in inputs_of_type
        if output_only and not _is_optional(hint):
            assert key in outputs and outputs[key] is not None, f"{token}: computed output {key} missing"
        if key in outputs:
            _check_type(outputs[key], hint, f"{token}.{key}")


@pytest.mark.slow
def test_every_installed_aws_type_gets_its_computed_outputs():
    """Not just the sample: every resource type of the installed pulumi-aws, with no inputs at all,
    gets an id and every non-Optional output-only property, each of its declared type."""
    problems = []
    for token in sorted(_resource_classes()):
        try:
            cls = _resource_class(token)
            declared, inputs_of_type = _declared(cls), _input_names(cls)
            id_, outputs = fabricate(token, "res", {}, ENV, preview=False)
            assert id_, "no id"
            for key, hint in declared.items():
                if key not in inputs_of_type and not _is_optional(hint):
                    assert key in outputs, f"computed output {key} missing"
                if key in outputs:
                    _check_type(outputs[key], hint, key)
        except AssertionError as exc:
            problems.append(f"{token}: {exc}")
    assert not problems, problems[:20]


def test_sample_is_large_and_varied():
    assert len(SAMPLE) >= 40
    assert len({token.split(":")[1].split("/")[0] for token, _, _ in SAMPLE}) >= 20


@pytest.mark.parametrize("token,pattern", sorted(ARN_PATTERNS.items()))
def test_arns_use_each_services_real_format(token, pattern):
    name, inputs = next((n, i) for t, n, i in SAMPLE if t == token)
    _, outputs = fabricate(token, name, inputs, ENV, preview=False)
    assert re.fullmatch(pattern, outputs["arn"]), outputs["arn"]


@pytest.mark.parametrize("token,pattern", sorted(ID_PATTERNS.items()))
def test_ids_use_each_resources_real_format(token, pattern):
    name, inputs = next((n, i) for t, n, i in SAMPLE if t == token)
    id_, _ = fabricate(token, name, inputs, ENV, preview=False)
    assert re.fullmatch(pattern, id_), id_


def test_service_specific_values():
    _, lb = fabricate("aws:lb/loadBalancer:LoadBalancer", "web", {}, ENV, False)
    assert re.fullmatch(rf"web-[0-9a-f]{{7}}-\d{{10}}\.{REGION}\.elb\.amazonaws\.com", lb["dnsName"])
    assert lb["arnSuffix"] == lb["arn"].split(":loadbalancer/")[1] and lb["zoneId"] == "Z35SXDOTRQ7X7K"

    _, repo = fabricate("aws:ecr/repository:Repository", "repo", {"name": "payments"}, ENV, False)
    assert repo["repositoryUrl"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/payments"
    assert repo["registryId"] == ACCOUNT

    _, fn = fabricate("aws:lambda/function:Function", "fn", {"name": "handler"}, ENV, False)
    assert fn["invokeArn"] == (f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
                               f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:handler/invocations")
    assert fn["qualifiedArn"].endswith(":handler:$LATEST") and fn["version"] == "$LATEST"

    # Far from ECS Fargate (EKS, API Gateway...): no hand-written format; values from the SDK's
    # declared types by their names' shape, computed ARNs as qualified forms of the resource's own.
    _, eks = fabricate("aws:eks/cluster:Cluster", "eks", {"vpcConfig": {"subnetIds": ["subnet-1"]}}, ENV, False)
    assert base64.b64decode(eks["certificateAuthority"]["data"]).startswith(b"-----BEGIN CERTIFICATE-----")
    assert eks["endpoint"].endswith(f".{REGION}.amazonaws.com")
    assert eks["identities"][0]["oidcs"][0]["issuer"].startswith("https://")
    # AWS-computed fields inside a block the user gave are filled; the user's fields are kept.
    assert eks["vpcConfig"]["subnetIds"] == ["subnet-1"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", eks["vpcConfig"]["vpcId"])
    assert re.fullmatch(r"sg-[0-9a-f]{17}", eks["vpcConfig"]["clusterSecurityGroupId"])

    _, db = fabricate("aws:rds/instance:Instance", "db", {"engine": "postgres", "identifier": "payments"}, ENV, False)
    assert db["port"] == 5432 and db["endpoint"] == f"{db['address']}:5432"
    assert re.fullmatch(rf"payments\.[a-z0-9]{{12}}\.{REGION}\.rds\.amazonaws\.com", db["address"])
    _, mysql = fabricate("aws:rds/instance:Instance", "db", {"engine": "mysql"}, ENV, False)
    assert mysql["port"] == 3306

    _, bucket = fabricate("aws:s3/bucket:Bucket", "Site", {}, ENV, False)
    assert bucket["bucket"] == bucket["bucket"].lower() and bucket["bucket"].startswith("site-")
    assert bucket["bucketRegionalDomainName"] == f"{bucket['bucket']}.s3.{REGION}.amazonaws.com"

    _, group = fabricate("aws:cloudwatch/logGroup:LogGroup", "lg", {"name": "/ecs/payments"}, ENV, False)
    assert group["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/payments"

    _, stage = fabricate("aws:apigateway/stage:Stage", "s", {"restApi": "abcdefghij", "stageName": "prod"}, ENV, False)
    assert stage["invokeUrl"].startswith("https://")
    assert stage["executionArn"] == stage["arn"] + "/execution"

    _, cert = fabricate("aws:acm/certificate:Certificate", "c", {"domainName": "pay.example.com"}, ENV, False)
    option = cert["domainValidationOptions"][0]
    assert option["domainName"] == "pay.example.com" and option["resourceRecordType"] == "CNAME"

    _, queue = fabricate("aws:sqs/queue:Queue", "q", {"fifoQueue": True}, ENV, False)
    assert queue["name"].endswith(".fifo") and queue["url"].endswith("/" + queue["name"])


def test_environment_is_honoured():
    env = Environment(stack="prod", project="p", account="210987654321", region="eu-west-1", partition="aws-cn")
    _, topic = fabricate("aws:sns/topic:Topic", "t", {"name": "events"}, env, False)
    assert topic["arn"] == "arn:aws-cn:sns:eu-west-1:210987654321:events"
    # A resource-level region input wins over the environment's.
    _, queue = fabricate("aws:sqs/queue:Queue", "q", {"name": "jobs", "region": "us-west-2"}, env, False)
    assert queue["arn"] == "arn:aws-cn:sqs:us-west-2:210987654321:jobs"


def test_user_inputs_win_and_tags_all_mirrors_tags():
    inputs = {"name": "explicit", "tags": {"team": "payments"}}
    _, outputs = fabricate("aws:ecs/cluster:Cluster", "cluster", inputs, ENV, False)
    assert outputs["name"] == "explicit" and outputs["arn"].endswith(":cluster/explicit")
    assert outputs["tagsAll"] == {"team": "payments"}


def test_settings_the_user_left_out_stay_absent():
    # Optional inputs with an AWS default are not guessed: a policy must not judge a made-up value.
    _, db = fabricate("aws:rds/instance:Instance", "db", {"engine": "postgres"}, ENV, False)
    for setting in ("kmsKeyId", "backupRetentionPeriod", "multiAz", "storageEncrypted", "publiclyAccessible"):
        assert setting not in db
    _, lb = fabricate("aws:lb/loadBalancer:LoadBalancer", "lb", {}, ENV, False)
    assert "internal" not in lb and "accessLogs" not in lb


def test_name_prefix_and_length_limits():
    _, prefixed = fabricate("aws:iam/role:Role", "r", {"namePrefix": "svc-"}, ENV, False)
    assert re.fullmatch(r"svc-\d{26}", prefixed["name"])
    _, long_lb = fabricate("aws:lb/targetGroup:TargetGroup", "a-very-long-logical-name-for-a-target-group", {}, ENV, False)
    assert len(long_lb["name"]) <= 32


def test_deterministic_and_distinct():
    first = fabricate("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, ENV, False)
    again = fabricate("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, ENV, False)
    other = fabricate("aws:ec2/vpc:Vpc", "vpc2", {"cidrBlock": "10.0.0.0/16"}, ENV, False)
    assert first == again
    assert first[0] != other[0]


def test_preview_returns_inputs_only_and_no_id():
    inputs = {"cidrBlock": "10.0.0.0/16", "tags": {"a": "b"}}
    id_, outputs = fabricate("aws:ec2/vpc:Vpc", "vpc", inputs, ENV, preview=True)
    assert id_ == "" and outputs == inputs
    outputs["tags"]["a"] = "changed"
    assert inputs["tags"]["a"] == "b", "the caller's inputs must not be shared or mutated"


def test_inputs_are_not_mutated():
    inputs = {"roleArn": "r", "vpcConfig": {"subnetIds": ["s"]}}
    snapshot = json.loads(json.dumps(inputs))
    fabricate("aws:eks/cluster:Cluster", "eks", inputs, ENV, preview=False)
    assert inputs == snapshot


# --------------------------------------------------------------------------------------------
# Non-aws packages
# --------------------------------------------------------------------------------------------


def test_random_and_tls_resources():
    id_, pw = fabricate("random:index/randomPassword:RandomPassword", "pw", {"length": 24, "special": False}, ENV, False)
    assert len(pw["result"]) == 24 and pw["result"].isalnum() and pw["length"] == 24

    _, text = fabricate("random:index/randomString:RandomString", "s", {"length": 8, "upper": False, "special": False}, ENV, False)
    assert len(text["result"]) == 8 and text["result"] == text["result"].lower()

    id_, rid = fabricate("random:index/randomId:RandomId", "rid", {"byteLength": 4}, ENV, False)
    assert re.fullmatch(r"[0-9a-f]{8}", rid["hex"]) and int(rid["dec"]) == int(rid["hex"], 16)
    assert base64.urlsafe_b64decode(rid["b64Url"] + "==").hex() == rid["hex"]

    id_, key = fabricate("tls:index/privateKey:PrivateKey", "key", {"algorithm": "RSA"}, ENV, False)
    assert key["privateKeyPem"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert key["publicKeyOpenssh"].startswith("ssh-rsa ") and id_


def test_providers_components_and_unknown_packages_keep_their_inputs():
    id_, out = fabricate("pulumi:providers:aws", "default", {"region": "us-east-1"}, ENV, False)
    assert id_ and out == {"region": "us-east-1"}
    id_, out = fabricate("awsx:ec2:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, ENV, False)
    assert id_.startswith("vpc-") and out == {"cidrBlock": "10.0.0.0/16"}
    id_, out = fabricate("my:component:Thing", "thing", {}, ENV, False)
    assert isinstance(id_, str) and out == {}


# --------------------------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "aws", "aws:nope/nope:Nope", "aws:ec2/vpc", ":::", "aws:index/x:X", "x:y:z"])
def test_unknown_tokens_fall_back_to_basics(token):
    id_, outputs = fabricate(token, "thing", {"k": "v"}, ENV, False)
    assert isinstance(id_, str) and outputs["k"] == "v"
    if token.startswith("aws:"):
        assert outputs["arn"].startswith("arn:aws:") and outputs["name"]


@pytest.mark.parametrize("inputs", [None, [], "text", 3, {"vpcConfig": "not-a-dict"}, {"tags": ["x"]},
                                    {"name": 5, "region": 7, "cluster": {"weird": object()}},
                                    {"loadBalancerArn": None, "port": "80"}])
def test_garbage_inputs_never_raise(inputs):
    for token in ("aws:eks/cluster:Cluster", "aws:ecs/service:Service", "aws:lb/listener:Listener",
                  "aws:sqs/queue:Queue", "random:index/randomId:RandomId"):
        id_, outputs = fabricate(token, "x", inputs, ENV, False)
        assert isinstance(id_, str) and isinstance(outputs, dict)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token=st.sampled_from([s[0] for s in SAMPLE] + ["aws:bogus/x:X", "random:index/randomPassword:RandomPassword"]),
       name=st.text(max_size=12),
       inputs=st.dictionaries(st.sampled_from(["name", "tags", "region", "port", "engine", "vpcConfig", "cluster",
                                               "length", "byteLength", "fifoQueue", "restApi"]), _json_values, max_size=5))
def test_fuzzed_inputs_never_raise(token, name, inputs):
    id_, outputs = fabricate(token, name, inputs, ENV, False)
    assert isinstance(id_, str) and isinstance(outputs, dict)


# --------------------------------------------------------------------------------------------
# End to end: a program run in-process under mocks that use fabricate and answer_invoke
# --------------------------------------------------------------------------------------------


from mock_program import FabricatingMocks, run_program  # noqa: E402 - shared with the other offline tests


def test_end_to_end_program_reads_fabricated_outputs_and_invoke_answers():
    import pulumi_aws as aws

    def program():
        zones = aws.get_availability_zones()
        trust = aws.iam.get_policy_document(statements=[{
            "actions": ["sts:AssumeRole"],
            "principals": [{"type": "Service", "identifiers": ["eks.amazonaws.com"]}],
        }])
        role = aws.iam.Role("cluster-role", assume_role_policy=trust.json)
        cluster = aws.eks.Cluster("cluster", role_arn=role.arn, vpc_config={"subnet_ids": ["subnet-1", "subnet-2"]})
        api = aws.apigateway.RestApi("api")
        deployment = aws.apigateway.Deployment("deployment", rest_api=api.id)
        stage = aws.apigateway.Stage("stage", rest_api=api.id, deployment=deployment.id, stage_name="prod")
        return {
            "ca": cluster.certificate_authority.data,
            "endpoint": cluster.endpoint,
            "issuer": cluster.identities[0].oidcs[0].issuer,
            "vpc": cluster.vpc_config.vpc_id,
            "invoke_url": stage.invoke_url,
            "api_id": api.id,
            "root": api.root_resource_id,
            "zones": zones.names,
            "zone_ids": zones.zone_ids,
            "trust": trust.json,
            "role_arn": role.arn,
        }

    value = run_program(program)
    assert base64.b64decode(value["ca"]).startswith(b"-----BEGIN CERTIFICATE-----")
    assert value["endpoint"].endswith(".us-east-1.amazonaws.com")
    assert value["issuer"].startswith("https://")
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", value["vpc"])
    assert value["invoke_url"].startswith("https://") and value["api_id"] and value["root"]
    assert value["zones"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert value["zone_ids"] == ["use1-az1", "use1-az2", "use1-az3"]
    assert json.loads(value["trust"]) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "eks.amazonaws.com"}}]}
    assert re.fullmatch(r"arn:aws:iam::123456789012:role/cluster-role-[0-9a-f]{7}", value["role_arn"])


def test_fargate_service_program_in_the_style_of_the_public_examples():
    """The shape of pulumi/examples aws-py-fargate plus the Lambda/API/ACM idioms that crash under
    naive mocks: default VPC lookups, an ALB, a task definition built from the ECR repository URL,
    a Lambda permission from the API's execution ARN, a DNS validation record from the certificate."""
    import pulumi_aws as aws

    def program():
        vpc = aws.ec2.get_vpc(default=True)
        subnets = aws.ec2.get_subnets(filters=[aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id])])
        group = aws.ec2.SecurityGroup("web", vpc_id=vpc.id, ingress=[aws.ec2.SecurityGroupIngressArgs(
            protocol="tcp", from_port=80, to_port=80, cidr_blocks=["0.0.0.0/0"])])
        alb = aws.lb.LoadBalancer("app-lb", security_groups=[group.id], subnets=subnets.ids)
        target_group = aws.lb.TargetGroup("app-tg", port=80, protocol="HTTP", target_type="ip", vpc_id=vpc.id)
        listener = aws.lb.Listener("web", load_balancer_arn=alb.arn, port=80, default_actions=[
            aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)])
        role = aws.iam.Role("task-exec", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
        repo = aws.ecr.Repository("repo")
        task = aws.ecs.TaskDefinition(
            "task", family="app", cpu="256", memory="512", network_mode="awsvpc", requires_compatibilities=["FARGATE"],
            execution_role_arn=role.arn,
            container_definitions=repo.repository_url.apply(lambda url: json.dumps([{"name": "app", "image": url + ":latest"}])))
        cluster = aws.ecs.Cluster("cluster")
        service = aws.ecs.Service(
            "svc", cluster=cluster.arn, desired_count=2, launch_type="FARGATE", task_definition=task.arn,
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(subnets=subnets.ids, security_groups=[group.id]),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(target_group_arn=target_group.arn, container_name="app", container_port=80)],
            opts=pulumi.ResourceOptions(depends_on=[listener]))
        fn = aws.lambda_.Function("fn", role=role.arn, runtime="python3.12", handler="h.h", code=pulumi.AssetArchive({}))
        api = aws.apigatewayv2.Api("api", protocol_type="HTTP")
        aws.apigatewayv2.Integration("integration", api_id=api.id, integration_type="AWS_PROXY", integration_uri=fn.invoke_arn)
        permission = aws.lambda_.Permission("permission", action="lambda:InvokeFunction", function=fn.name,
                                            principal="apigateway.amazonaws.com",
                                            source_arn=api.execution_arn.apply(lambda arn: arn + "/*/*"))
        stage = aws.apigatewayv2.Stage("stage", api_id=api.id, name="$default", auto_deploy=True)
        cert = aws.acm.Certificate("cert", domain_name="pay.example.com", validation_method="DNS")
        zone = aws.route53.get_zone(name="example.com")
        option = cert.domain_validation_options[0]
        record = aws.route53.Record("validation", zone_id=zone.zone_id, name=option.resource_record_name,
                                    type=option.resource_record_type, records=[option.resource_record_value], ttl=60)
        return {"url": alb.dns_name, "service": service.id, "image": task.container_definitions,
                "invoke": stage.invoke_url, "source_arn": permission.source_arn, "fqdn": record.fqdn,
                "task_arn": task.arn, "cluster": cluster.arn}

    value = run_program(program)
    assert re.fullmatch(r"app-lb-[0-9a-f]{7}-\d{10}\.us-east-1\.elb\.amazonaws\.com", value["url"])
    assert value["service"] == value["cluster"].replace(":cluster/", ":service/") + "/" + value["service"].rsplit("/", 1)[1]
    assert json.loads(value["image"])[0]["image"].startswith("123456789012.dkr.ecr.us-east-1.amazonaws.com/repo-")
    assert value["task_arn"] == "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1"
    assert value["invoke"].startswith("https://")
    assert value["source_arn"].startswith("arn:aws:apigateway:us-east-1:") and value["source_arn"].endswith("/*/*")
    assert re.fullmatch(r"_[0-9a-f]{32}\.pay\.example\.com", value["fqdn"])


def test_every_sample_type_survives_the_sdks_own_output_translation():
    """The SDK converts the mock's outputs into its typed output classes; a wrong shape raises or
    yields None. Read every declared output of every sample resource back through the SDK."""

    def program():
        values = {}
        for token, name, _inputs in SAMPLE:
            cls = _resource_class(token)
            # Construct with the wire inputs re-keyed to the SDK's Python names.
            names = {pn: py for py, pn, _ in pulumi._types._py_properties(cls)}
            kwargs = {names[k]: v for k, v in _inputs.items() if k in names}
            resource = cls(f"{name}-{token.split('/')[1].split(':')[0]}", **kwargs)
            for py, pn, _ in pulumi._types._py_properties(cls):
                values[f"{token}.{pn}"] = getattr(resource, py)
            values[f"{token}.id"] = resource.id
        return values

    value = run_program(program)
    for token, _name, _inputs in SAMPLE:
        assert value[f"{token}.id"], token
        if f"{token}.arn" in value:
            assert value[f"{token}.arn"], token


def test_preview_mode_program_sees_unknowns():
    import pulumi_aws as aws

    class PreviewMocks(FabricatingMocks):
        def new_resource(self, args):
            return fabricate(args.typ, args.name, args.inputs, ENV, preview=True)

    pulumi.runtime.set_mocks(PreviewMocks(), project="proj", stack="dev", preview=True)
    seen: dict = {}

    @pulumi.runtime.test
    def run():
        queue = aws.sqs.Queue("queue", name="jobs")
        queue.name.apply(lambda v: seen.setdefault("name", v))
        queue.arn.apply(lambda v: seen.setdefault("arn", v))
        return queue.urn

    run()
    assert seen.get("name") == "jobs"
    assert "arn" not in seen, "a computed output must stay unknown in preview"
