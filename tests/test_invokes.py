"""Tests of policypack.offline.invokes: built-in answers for the invokes programs make."""

from __future__ import annotations

import collections.abc
import importlib
import json
import re
import typing
import zlib

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policypack.offline.fabricate import Environment, output_type_for_invoke
from policypack.offline.invokes import _HANDLERS, answer_invoke, policy_document

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]

ENV = Environment(stack="dev", project="proj")
DOC = "aws:iam/getPolicyDocument:getPolicyDocument"


from mock_program import FabricatingMocks, run_program  # noqa: E402 - shared with the other offline tests


# Each answered token with the SDK function a program calls and arguments it would pass.
SDK_CALLS: dict[str, tuple[str, dict]] = {
    "aws:index/getRegion:getRegion": ("get_region", {}),
    "aws:index/getAvailabilityZones:getAvailabilityZones": ("get_availability_zones", {"state": "available"}),
    "aws:index/getCallerIdentity:getCallerIdentity": ("get_caller_identity", {}),
    "aws:index/getPartition:getPartition": ("get_partition", {}),
    "aws:index/getServicePrincipal:getServicePrincipal": ("get_service_principal", {"service_name": "ecs-tasks"}),
    "aws:index/getDefaultTags:getDefaultTags": ("get_default_tags", {}),
    "aws:index/getArn:getArn": ("get_arn", {"arn": "arn:aws:s3:::bucket/key"}),
    "aws:ec2/getVpc:getVpc": ("ec2.get_vpc", {"default": True}),
    "aws:ec2/getVpcs:getVpcs": ("ec2.get_vpcs", {}),
    "aws:ec2/getSubnets:getSubnets": ("ec2.get_subnets", {"filters": [{"name": "vpc-id", "values": ["vpc-0123"]}]}),
    "aws:ec2/getSubnet:getSubnet": ("ec2.get_subnet", {"availability_zone": "us-east-1b", "default_for_az": True}),
    "aws:ec2/getSecurityGroup:getSecurityGroup": ("ec2.get_security_group", {"name": "default"}),
    "aws:ec2/getSecurityGroups:getSecurityGroups": ("ec2.get_security_groups", {}),
    "aws:ec2/getAmi:getAmi": ("ec2.get_ami", {"most_recent": True, "owners": ["amazon"],
                                                "filters": [{"name": "name", "values": ["al2023-ami-*-x86_64"]}]}),
    "aws:ec2/getAmiIds:getAmiIds": ("ec2.get_ami_ids", {"owners": ["amazon"]}),
    "aws:iam/getPolicyDocument:getPolicyDocument": ("iam.get_policy_document", {"statements": [{"actions": ["s3:GetObject"], "resources": ["*"]}]}),
    "aws:iam/getRole:getRole": ("iam.get_role", {"name": "deployer"}),
    "aws:iam/getPolicy:getPolicy": ("iam.get_policy", {"arn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}),
    "aws:elb/getServiceAccount:getServiceAccount": ("elb.get_service_account", {}),
    "aws:ecs/getCluster:getCluster": ("ecs.get_cluster", {"cluster_name": "prod"}),
    "aws:ssm/getParameter:getParameter": ("ssm.get_parameter", {"name": "/app/db-host"}),
    "aws:route53/getZone:getZone": ("route53.get_zone", {"name": "example.com."}),
    "aws:acm/getCertificate:getCertificate": ("acm.get_certificate", {"domain": "example.com"}),
    "aws:eks/getClusterAuth:getClusterAuth": ("eks.get_cluster_auth", {"name": "prod"}),
    "aws:eks/getCluster:getCluster": ("eks.get_cluster", {"name": "prod"}),
    "aws:kms/getKey:getKey": ("kms.get_key", {"key_id": "alias/payments"}),
    "aws:kms/getAlias:getAlias": ("kms.get_alias", {"name": "alias/payments"}),
    "aws:secretsmanager/getSecret:getSecret": ("secretsmanager.get_secret", {"name": "db"}),
    "aws:secretsmanager/getSecretVersion:getSecretVersion": ("secretsmanager.get_secret_version", {"secret_id": "db"}),
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": ("ecr.get_authorization_token", {}),
    "aws:ecr/getCredentials:getCredentials": ("ecr.get_credentials", {"registry_id": "123456789012"}),
    "aws:ecr/getRepository:getRepository": ("ecr.get_repository", {"name": "payments"}),
    "aws:lb/getLoadBalancer:getLoadBalancer": ("lb.get_load_balancer", {"name": "web"}),
    "aws:alb/getLoadBalancer:getLoadBalancer": ("alb.get_load_balancer", {"name": "web"}),
    "aws:s3/getBucket:getBucket": ("s3.get_bucket", {"bucket": "assets"}),
    "aws:cloudfront/getCachePolicy:getCachePolicy": ("cloudfront.get_cache_policy", {"name": "Managed-CachingOptimized"}),
    "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy": ("cloudfront.get_origin_request_policy", {"name": "Managed-AllViewer"}),
}


def sdk_function(path: str) -> typing.Callable:
    """aws.<path>, resolved when the test runs (importing aws submodules warns about deprecations)."""
    target = aws
    for part in path.split("."):
        target = getattr(target, part)
    return target


def test_every_handler_is_exercised_through_the_sdk():
    assert set(SDK_CALLS) == set(_HANDLERS)


def _is_optional(hint) -> bool:
    return typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)


def _check(value, hint, where: str) -> None:
    """A non-Optional declared value is present and of its declared Python type."""
    if _is_optional(hint):
        if value is None:
            return
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    assert value is not None, f"{where} is None"
    origin = typing.get_origin(hint)
    if hint is str:
        assert isinstance(value, str), where
    elif hint is bool:
        assert isinstance(value, bool), where
    elif hint is int:
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif hint is float:
        assert isinstance(value, (int, float)), where
    elif origin in (list, collections.abc.Sequence):
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check(item, typing.get_args(hint)[0], f"{where}[{i}]")
    elif origin in (dict, collections.abc.Mapping):
        assert isinstance(value, dict), where
    elif isinstance(hint, type) and pulumi._types.is_output_type(hint):
        assert isinstance(value, hint), where
        _check_result(value, where)


def _check_result(result, where: str) -> None:
    cls = type(result)
    module = importlib.import_module(cls.__module__)
    for py, name, prop in pulumi._types._py_properties(cls):
        hint = typing.get_type_hints(prop.fget, globalns=vars(module))["return"]
        _check(getattr(result, py), hint, f"{where}.{name}")


@pytest.mark.parametrize("token", sorted(SDK_CALLS))
def test_sdk_functions_read_every_key_they_need(token):
    path, kwargs = SDK_CALLS[token]
    results = run_program(lambda: {"result": sdk_function(path)(**kwargs)})
    _check_result(results["result"], token)


def test_values_a_program_relies_on():
    def program():
        vpc = aws.ec2.get_vpc(default=True)
        return {
            "region": aws.get_region(),
            "zones": aws.get_availability_zones(exclude_names=["us-east-1c"]),
            "caller": aws.get_caller_identity(),
            "partition": aws.get_partition(),
            "vpc": vpc,
            "subnets": aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}]),
            "one_az": aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]},
                                                   {"name": "availability-zone", "values": ["us-east-1b"]}]),
            "subnet": aws.ec2.get_subnet(vpc_id=vpc.id, availability_zone="us-east-1b"),
            "sg": aws.ec2.get_security_group(vpc_id=vpc.id, name="default"),
            "ami": aws.ec2.get_ami(most_recent=True, owners=["amazon"],
                                   filters=[{"name": "architecture", "values": ["arm64"]}]),
            "ssm_ami": aws.ssm.get_parameter(name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
            "elb": aws.elb.get_service_account(),
            "eu": aws.get_region(region="eu-west-1"),
            "token": aws.eks.get_cluster_auth(name="prod"),
        }

    v = run_program(program)
    assert (v["region"].name, v["region"].region, v["region"].id) == ("us-east-1", "us-east-1", "us-east-1")
    assert v["region"].endpoint == "ec2.us-east-1.amazonaws.com"
    assert v["eu"].name == "eu-west-1"
    assert v["zones"].names == ["us-east-1a", "us-east-1b"] and v["zones"].zone_ids == ["use1-az1", "use1-az2"]
    assert (v["caller"].account_id, v["caller"].id) == ("123456789012", "123456789012")
    assert v["caller"].arn.startswith("arn:aws:iam::123456789012:")
    assert (v["partition"].partition, v["partition"].dns_suffix, v["partition"].reverse_dns_prefix) == (
        "aws", "amazonaws.com", "com.amazonaws")
    assert v["vpc"].default is True and re.fullmatch(r"vpc-[0-9a-f]{17}", v["vpc"].id)
    assert v["vpc"].arn == f"arn:aws:ec2:us-east-1:123456789012:vpc/{v['vpc'].id}"
    assert len(v["subnets"].ids) == 3 and all(re.fullmatch(r"subnet-[0-9a-f]{17}", i) for i in v["subnets"].ids)
    assert v["one_az"].ids == [v["subnets"].ids[1]]
    # The answers describe one consistent default VPC.
    assert v["subnet"].vpc_id == v["vpc"].id and v["subnet"].id == v["subnets"].ids[1]
    assert v["subnet"].availability_zone == "us-east-1b"
    assert v["sg"].vpc_id == v["vpc"].id and v["sg"].id.startswith("sg-")
    assert v["ami"].architecture == "arm64" and v["ami"].id.startswith("ami-") and v["ami"].image_id == v["ami"].id
    assert v["ssm_ami"].value.startswith("ami-")
    assert v["elb"].id == "127311923021" and v["elb"].arn == "arn:aws:iam::127311923021:root"
    assert v["token"].token.startswith("k8s-aws-v1.")


def test_answers_follow_the_environment():
    env = Environment(stack="s", project="p", account="210987654321", region="eu-central-1", partition="aws-cn")
    assert answer_invoke("aws:index/getCallerIdentity:getCallerIdentity", {}, env)["accountId"] == "210987654321"
    assert answer_invoke("aws:index/getPartition:getPartition", {}, env)["dnsSuffix"] == "amazonaws.com.cn"
    zones = answer_invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {}, env)
    assert zones["names"] == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    assert zones["zoneIds"][0] == "euc1-az1"


def test_answers_are_deterministic():
    first = answer_invoke("aws:ec2/getSubnets:getSubnets", {}, ENV)
    assert first == answer_invoke("aws:ec2/getSubnets:getSubnets", {}, ENV)


# --------------------------------------------------------------------------------------------
# getPolicyDocument, evaluated as the provider does
# --------------------------------------------------------------------------------------------


def doc(**args) -> dict:
    return answer_invoke(DOC, args, ENV)


def test_policy_document_single_values_collapse_and_sets_sort_in_reverse():
    result = doc(statements=[{"sid": "Read", "actions": ["s3:ListBucket", "s3:GetObject", "s3:GetObject"],
                              "resources": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
                             {"actions": ["sts:AssumeRole"], "resources": ["*"]}])
    assert result["json"] == """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket",
        "s3:GetObject"
      ],
      "Resource": [
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b"
      ]
    },
    {
      "Effect": "Allow",
      "Action": "sts:AssumeRole",
      "Resource": "*"
    }
  ]
}"""
    assert result["minifiedJson"] == json.dumps(json.loads(result["json"]), separators=(",", ":"))
    assert result["id"] == str(zlib.crc32(result["json"].encode()))


def test_policy_document_principals():
    statement = json.loads(doc(statements=[{"actions": ["sts:AssumeRole"], "principals": [
        {"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]},
        {"type": "AWS", "identifiers": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
        {"type": "AWS", "identifiers": ["arn:aws:iam::333333333333:root"]},
    ]}])["json"])["Statement"][0]
    assert statement["Principal"] == {
        "AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::111111111111:root", "arn:aws:iam::333333333333:root"],
        "Service": "ecs-tasks.amazonaws.com"}
    assert list(statement["Principal"]) == ["AWS", "Service"]  # Go sorts map keys

    anyone = json.loads(doc(statements=[{"actions": ["s3:GetObject"], "principals": [{"type": "*", "identifiers": ["*"]}]}])["json"])
    assert anyone["Statement"][0]["Principal"] == "*"
    aws_any = json.loads(doc(statements=[{"actions": ["s3:GetObject"], "principals": [{"type": "AWS", "identifiers": ["*"]}]}])["json"])
    assert aws_any["Statement"][0]["Principal"] == {"AWS": "*"}


def test_policy_document_conditions_and_negations():
    statement = json.loads(doc(statements=[{
        "effect": "Deny", "notActions": ["iam:*"], "notResources": ["arn:aws:s3:::b"],
        "notPrincipals": [{"type": "AWS", "identifiers": ["arn:aws:iam::1:root"]}],
        "conditions": [
            {"test": "StringEquals", "variable": "aws:SourceVpce", "values": ["vpce-2", "vpce-1"]},
            {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]},
        ],
    }])["json"])["Statement"][0]
    assert list(statement) == ["Effect", "NotAction", "NotResource", "NotPrincipal", "Condition"]
    assert statement["Effect"] == "Deny" and statement["NotAction"] == "iam:*"
    assert statement["NotPrincipal"] == {"AWS": "arn:aws:iam::1:root"}
    # Condition values keep their order; tests are sorted like any Go map.
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"},
                                      "StringEquals": {"aws:SourceVpce": ["vpce-2", "vpce-1"]}}
    assert list(statement["Condition"]) == ["Bool", "StringEquals"]


def test_policy_document_id_version_variables_and_html_escaping():
    result = doc(policyId="payments", version="2012-10-17",
                 statements=[{"actions": ["s3:*"], "resources": ["arn:aws:s3:::home/&{aws:username}/<x>"]}])
    parsed = json.loads(result["json"])
    assert list(parsed) == ["Version", "Id", "Statement"] and parsed["Id"] == "payments"
    assert parsed["Statement"][0]["Resource"] == "arn:aws:s3:::home/${aws:username}/<x>"
    assert "\\u003cx\\u003e" in result["json"]  # Go's encoder escapes <, > and &


def test_policy_document_without_statements():
    assert doc()["json"] == '{\n  "Version": "2012-10-17"\n}'


def test_policy_document_merges_source_and_override_documents_by_sid():
    source = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*",
         "Principal": {"AWS": ["arn:aws:iam::1:root", "arn:aws:iam::2:root"]}},
    ]})
    override = json.dumps({"Statement": [{"Sid": "A", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]})
    parsed = json.loads(doc(sourcePolicyDocuments=[source], overridePolicyDocuments=[override],
                            statements=[{"sid": "A", "actions": ["s3:GetObject"], "resources": ["*"]},
                                        {"actions": ["sqs:SendMessage"], "resources": ["*"]}])["json"])
    statements = parsed["Statement"]
    assert [s.get("Sid") for s in statements] == ["A", None, None]
    assert statements[0] == {"Sid": "A", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
    assert statements[1]["Action"] == ["ec2:Describe*"]  # source values are kept as written
    assert statements[1]["Principal"] == {"AWS": ["arn:aws:iam::2:root", "arn:aws:iam::1:root"]}
    assert statements[2]["Action"] == "sqs:SendMessage"


def test_policy_document_function_matches_invoke_answer():
    args = {"statements": [{"actions": ["kms:Decrypt"], "resources": ["*"]}]}
    pretty, minified = policy_document(args)
    assert doc(**args)["json"] == pretty and doc(**args)["minifiedJson"] == minified


# --------------------------------------------------------------------------------------------
# User answers, unknown tokens, robustness
# --------------------------------------------------------------------------------------------


def test_user_answers_take_precedence_and_are_completed():
    answers = {"aws:ec2/getVpc:getVpc": {"id": "vpc-user", "cidrBlock": "192.168.0.0/16"},
               "aws:rds/getEngineVersion:getEngineVersion": {"version": "16.3"},
               "custom:index:getThing": {"value": 1}}
    vpc = answer_invoke("aws:ec2/getVpc:getVpc", {}, ENV, answers)
    assert vpc["id"] == "vpc-user" and vpc["cidrBlock"] == "192.168.0.0/16"
    assert vpc["ownerId"] and isinstance(vpc["enableDnsSupport"], bool)  # completed from GetVpcResult
    engine = answer_invoke("aws:rds/getEngineVersion:getEngineVersion", {"engine": "postgres"}, ENV, answers)
    assert engine["version"] == "16.3" and engine["engine"] == "postgres"
    assert answer_invoke("custom:index:getThing", {}, ENV, answers) == {"value": 1}
    # Answers for other tokens leave the built-in ones alone.
    assert answer_invoke("aws:index/getRegion:getRegion", {}, ENV, answers)["name"] == "us-east-1"


def test_user_answer_is_used_by_the_sdk():
    answers = {"aws:ssm/getParameter:getParameter": {"value": "db.internal"}}

    class UserMocks(FabricatingMocks):
        def call(self, args):
            return answer_invoke(args.token, args.args, ENV, answers) or {}

    pulumi.runtime.set_mocks(UserMocks(), project="proj", stack="dev", preview=False)
    seen: dict = {}

    @pulumi.runtime.test
    def run():
        param = aws.ssm.get_parameter(name="/app/db-host")
        seen["value"], seen["version"] = param.value, param.version
        return pulumi.Output.from_input(1)

    run()
    assert seen == {"value": "db.internal", "version": 1}


@pytest.mark.parametrize("token", ["", "aws:nope/getNope:getNope", "random:index/getX:getX", "garbage"])
def test_unknown_tokens_are_unanswered(token):
    assert answer_invoke(token, {}, ENV) is None


@pytest.mark.parametrize("args", [None, [], "x", {"filters": "nope"}, {"filters": [None, 3, {"name": 1}]},
                                  {"statements": [None, {"actions": "s3:GetObject"}, {"principals": [{"identifiers": None}]}]},
                                  {"sourcePolicyDocuments": ["not json", "[]"]}, {"region": 5, "name": ["x"]}])
def test_garbage_arguments_never_raise(args):
    for token in _HANDLERS:
        result = answer_invoke(token, args, ENV)
        assert result is None or isinstance(result, dict)
        if result is not None:
            # The SDK's result class type-checks what it is given; it must accept the answer.
            pulumi._types.output_type_from_dict(output_type_for_invoke(token), result)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
_arg_keys = st.sampled_from(["name", "region", "id", "vpcId", "filters", "tags", "statements", "policyId", "version",
                             "sourcePolicyDocuments", "arn", "default", "owners", "excludeNames", "availabilityZone"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token=st.sampled_from(sorted(_HANDLERS)), args=st.dictionaries(_arg_keys, _json_values, max_size=5))
@example(token="aws:index/getAvailabilityZones:getAvailabilityZones", args={"excludeNames": [[]]})
@example(token=DOC, args={"sourcePolicyDocuments": ["00"]})  # not JSON: contributes nothing
def test_fuzzed_arguments_give_answers_the_sdk_accepts(token, args):
    result = answer_invoke(token, args, ENV)
    assert result is not None
    pulumi._types.output_type_from_dict(output_type_for_invoke(token), result)
