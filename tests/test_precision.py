"""Precision on programs the rules were not written against (issue 10, items 1-4 and 8).

Each test builds a small stack of this repository's own, as AnalyzeStack (or Analyze) receives it:
`update` mode carries the outputs the provider computed, `preview` mode leaves every computed
output unknown (a first `pulumi preview`). Assertions are on policy, resource and property path.
"""
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import string

import pytest
from hypothesis import assume, example, given, settings, strategies as st

from harness import Harness, UNKNOWN, resource, secret, urn
from offline_helpers import script

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "210987654321"
REGION = "eu-west-1"
EXT = "no-external-infrastructure-ids"
XENV = "no-cross-environment-references"
PLAIN = "no-plaintext-secret-values"
TASK_ENV = "no-secrets-in-task-environment"
MODES = ("update", "preview")

VPC, SUBNET, RT = "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable"
VPCE = "aws:ec2/vpcEndpoint:VpcEndpoint"
REST_API, DEPLOYMENT, STAGE = ("aws:apigateway/restApi:RestApi", "aws:apigateway/deployment:Deployment",
                               "aws:apigateway/stage:Stage")
STACK = "pulumi:pulumi:Stack"
INSTANCE, STATE_MACHINE, NODE_GROUP = ("aws:ec2/instance:Instance", "aws:sfn/stateMachine:StateMachine",
                                       "aws:eks/nodeGroup:NodeGroup")
LG, SVC = "aws:cloudwatch/logGroup:LogGroup", "aws:ecs/service:Service"
SV, TD = "aws:secretsmanager/secretVersion:SecretVersion", "aws:ecs/taskDefinition:TaskDefinition"

VPC_ID = "vpc-07e1d2c3b4a596870"
SUBNET_ID = "subnet-0c1d2e3f4a5b6c7d8"
RT_ID = "rtb-0d2e3f4a5b6c7d8e9"
FOREIGN_SUBNET = "subnet-0f0e0d0c0b0a09080"
FOREIGN_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"


def found(diags, policy):
    """(resource name, property path) of each violation of `policy`."""
    return sorted((d.name, d.path) for d in diags if d.policy == policy)


def computed(value, mode):
    """An output the provider computes: known at `pulumi up`, unknown at a first preview."""
    return UNKNOWN if mode == "preview" else value


# =============================================================================================
# 1. `stage` is API Gateway's noun, not the staging environment
# =============================================================================================
def api_stack(mode, stage_name="stage"):
    api_id = computed("k3m9x2p7q1", mode)
    invoke_url = computed(f"https://k3m9x2p7q1.execute-api.{REGION}.amazonaws.com/{stage_name}", mode)
    api = resource(REST_API, "example-api", {"id": api_id, "name": "orders-api", "tags": {"environment": "dev"}})
    deployment = resource(DEPLOYMENT, "api-deployment", {"id": computed("d9f8e7", mode), "restApi": api_id},
                          propertyDependencies={"restApi": [api["urn"]]})
    stage = resource(STAGE, "api-stage", {
        "id": computed(f"ags-k3m9x2p7q1-{stage_name}", mode), "restApi": api_id, "stageName": stage_name,
        "deployment": computed("d9f8e7", mode), "invokeUrl": invoke_url, "tags": {"environment": "dev"}},
        propertyDependencies={"restApi": [api["urn"]], "deployment": [deployment["urn"]]})
    other = resource(STAGE, "example-stage", {"restApi": api_id, "stageName": "v1", "deployment": computed("d9f8e7", mode)},
                     propertyDependencies={"restApi": [api["urn"]]})
    root = {"type": STACK, "name": "orders-dev", "urn": urn(STACK, "orders-dev"),
            "props": {"stageUrl": invoke_url, "stageName": stage_name}}
    return [api, deployment, stage, other, root]


@pytest.mark.parametrize("mode", MODES)
def test_api_gateway_stage_names_no_environment(mode):
    diags = Harness([XENV]).analyze_stack(api_stack(mode))
    assert found(diags, XENV) == []


@pytest.mark.parametrize("mode", MODES)
def test_staging_and_stg_still_name_staging(mode):
    res = api_stack(mode)
    res.append(resource("aws:sqs/queue:Queue", "orders-stg-queue", {"name": "orders-stg-queue"}))
    res.append(resource(LG, "logs", {"name": "/ecs/orders-staging", "kmsKeyId": computed(FOREIGN_KEY, mode)}))
    diags = Harness([XENV]).analyze_stack(res)
    assert found(diags, XENV) == [("logs", "name"), ("orders-stg-queue", "(logical name)")]
    assert {d.level for d in diags} == {"mandatory"}


@pytest.mark.parametrize("mode", MODES)
def test_a_team_adds_stage_by_config(mode):
    from policypack.environments import DEFAULT_ENVIRONMENTS
    environments = {**DEFAULT_ENVIRONMENTS, "staging": ["staging", "stage", "stg"]}
    h = Harness([XENV], config={XENV: {"environments": environments}})
    diags = h.analyze_stack(api_stack(mode))
    fired = found(diags, XENV)
    assert ("api-stage", "(logical name)") in fired and ("example-stage", "(logical name)") in fired


def test_defaults_leave_stage_out():
    from policypack.rules.self_sufficiency import NoCrossEnvironmentReferences
    environments = NoCrossEnvironmentReferences.config_defaults()["environments"]
    assert environments["staging"] == ["staging", "stg"]
    assert not any("stage" in aliases for aliases in environments.values())


# =============================================================================================
# 2. AWS-owned names that carry an environment token (ECR's layer bucket)
# =============================================================================================
def ecr_pull_policy(*buckets):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "EcrLayers", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/*" for bucket in buckets]}]})


def private_network(mode, policy):
    vpc = resource(VPC, "vpc", {"id": computed(VPC_ID, mode), "cidrBlock": "10.20.0.0/16",
                                "tags": {"environment": "dev", "Name": "orders-dev"}})
    subnet = resource(SUBNET, "private-a", {"id": computed(SUBNET_ID, mode), "vpcId": computed(VPC_ID, mode),
                                            "cidrBlock": "10.20.1.0/24"},
                      propertyDependencies={"vpcId": [vpc["urn"]]})
    table = resource(RT, "private-a", {"id": computed(RT_ID, mode), "vpcId": computed(VPC_ID, mode)},
                     propertyDependencies={"vpcId": [vpc["urn"]]})
    s3 = resource(VPCE, "s3-gateway", {
        "id": computed("vpce-0a9b8c7d6e5f40312", mode), "vpcId": computed(VPC_ID, mode),
        "serviceName": f"com.amazonaws.{REGION}.s3", "vpcEndpointType": "Gateway",
        "routeTableIds": [computed(RT_ID, mode)], "policy": policy, "tags": {"environment": "dev"}},
        propertyDependencies={"vpcId": [vpc["urn"]], "routeTableIds": [table["urn"]]})
    return [vpc, subnet, table, s3]


@pytest.mark.parametrize("mode", MODES)
def test_ecr_layer_bucket_in_an_endpoint_policy_is_allowed(mode):
    stack = private_network(mode, ecr_pull_policy(f"prod-{REGION}-starport-layer-bucket"))
    assert found(Harness([XENV, EXT]).analyze_stack(stack), XENV) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bucket", [
    f"orders-prod-{REGION}-starport-layer-bucket",      # a longer name: somebody's bucket
    f"prod-{REGION}-starport-layer-bucket-copy",
    "prod-orders-starport-layer-bucket",                # no region: not ECR's
    "starport-prod-artifacts",                          # mentions starport, names production
])
def test_only_the_aws_owned_name_itself_is_allowed(mode, bucket):
    stack = private_network(mode, ecr_pull_policy(f"prod-{REGION}-starport-layer-bucket", bucket))
    assert found(Harness([XENV]).analyze_stack(stack), XENV) == [("s3-gateway", "policy.Statement[0].Resource[1]")]


def test_aws_owned_names_are_configurable():
    stack = private_network("update", ecr_pull_policy(f"prod-{REGION}-starport-layer-bucket"))
    strict = Harness([XENV], config={XENV: {"awsOwnedNames": []}})
    assert found(strict.analyze_stack(stack), XENV) == [("s3-gateway", "policy.Statement[0].Resource[0]")]
    own = Harness([XENV], config={XENV: {"awsOwnedNames": [r"prod-shared-ami-bucket", "[invalid"]}})
    stack = private_network("update", ecr_pull_policy("prod-shared-ami-bucket"))
    assert found(own.analyze_stack(stack), XENV) == []


def test_aws_owned_names_config_is_in_the_schema():
    import jsonschema
    from policypack.rules.self_sufficiency import NoCrossEnvironmentReferences
    schema = {"type": "object", "properties": NoCrossEnvironmentReferences.config_schema()}
    assert "awsOwnedNames" in schema["properties"]
    jsonschema.validate({"awsOwnedNames": ["^x$"]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"awsOwnedNames": "x"}, schema)


# =============================================================================================
# 3. Only input properties are references the program made
# =============================================================================================
def computed_attribute_stack(mode):
    """Resources whose computed attributes hold ARNs and ids of infrastructure AWS manages."""
    instance = resource(INSTANCE, "bastion", {
        "id": computed("i-0a1b2c3d4e5f60789", mode), "ami": "ami-0c1d2e3f4a5b6c7d8", "instanceType": "t3.micro",
        "subnetId": computed(SUBNET_ID, mode), "outpostArn": computed(
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:outpost/bastion-7f3a", mode),
        "primaryNetworkInterfaceId": computed("eni-0a1b2c3d4e5f60789", mode)},
        propertyDependencies={"subnetId": [urn(SUBNET, "private-a")]})
    machine = resource(STATE_MACHINE, "settle", {
        "id": computed(f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:settle", mode),
        "arn": computed(f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:settle", mode),
        "definition": json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        "roleArn": computed(f"arn:aws:iam::{ACCOUNT}:role/settle-sfn", mode), "publish": True,
        "stateMachineVersionArn": computed(f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:settle:1", mode)},
        propertyDependencies={"roleArn": [urn("aws:iam/role:Role", "settle-sfn")]})
    nodes = resource(NODE_GROUP, "workers", {
        "clusterName": "orders", "nodeRoleArn": computed(f"arn:aws:iam::{ACCOUNT}:role/workers", mode),
        "subnetIds": [computed(SUBNET_ID, mode)], "scalingConfig": {"desiredSize": 2, "maxSize": 3, "minSize": 1},
        "resources": computed([{"autoscalingGroups": [{"name": "eks-workers-1a2b"}],
                                "remoteAccessSecurityGroupId": "sg-0e1d2c3b4a5968778"}], mode)},
        propertyDependencies={"nodeRoleArn": [urn("aws:iam/role:Role", "workers")],
                              "subnetIds": [urn(SUBNET, "private-a")]})
    role = lambda name: resource("aws:iam/role:Role", name, {  # noqa: E731
        "id": name, "arn": computed(f"arn:aws:iam::{ACCOUNT}:role/{name}", mode), "name": name})
    vpc = resource(VPC, "vpc", {"id": computed(VPC_ID, mode), "cidrBlock": "10.20.0.0/16"})
    subnet = resource(SUBNET, "private-a", {"id": computed(SUBNET_ID, mode), "vpcId": computed(VPC_ID, mode)},
                      propertyDependencies={"vpcId": [vpc["urn"]]})
    return [instance, machine, nodes, role("settle-sfn"), role("workers"), subnet, vpc]


@pytest.mark.parametrize("mode", MODES)
def test_computed_attributes_are_not_references(mode):
    assert found(Harness([EXT]).analyze_stack(computed_attribute_stack(mode)), EXT) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_same_values_in_inputs_still_fire(mode):
    stack = computed_attribute_stack(mode)
    stack[0]["props"]["subnetId"] = FOREIGN_SUBNET
    stack[0]["propertyDependencies"] = {}
    stack[0]["props"]["hostResourceGroupArn"] = f"arn:aws:ec2:{REGION}:{ACCOUNT}:outpost/bastion-7f3a"
    stack[2]["props"]["remoteAccess"] = {"ec2SshKey": "ops", "sourceSecurityGroupIds": ["sg-0e1d2c3b4a5968778"]}
    diags = Harness([EXT]).analyze_stack(stack)
    assert found(diags, EXT) == [("bastion", "hostResourceGroupArn"), ("bastion", "subnetId"),
                                 ("workers", "remoteAccess")]


def test_types_the_table_does_not_know_are_judged_whole():
    """Another provider's resource (or a type newer than the table): every property is judged."""
    thing = resource("acme:network/attachment:Attachment", "att", {"computedSubnetId": FOREIGN_SUBNET})
    assert found(Harness([EXT]).analyze_stack([thing]), EXT) == [("att", "computedSubnetId")]


def test_input_table_loads_lazily_once_and_thread_safe(monkeypatch):
    from policypack import data_files
    from policypack.rules import self_sufficiency as ss
    ss.INPUT_PROPERTIES.reset()
    reads = []
    real = data_files.read_json

    def counting(name):
        reads.append(name)
        return real(name)
    monkeypatch.setattr(data_files, "read_json", counting)
    h = Harness([EXT])
    assert reads == []  # building and configuring the pack reads nothing
    stacks = [computed_attribute_stack("update") for _ in range(6)]
    threads = [threading.Thread(target=h.analyze_stack, args=(s,)) for s in stacks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reads == ["input_properties.json"]
    assert ss.INPUT_PROPERTIES.get().of(INSTANCE) and "outpostArn" not in ss.INPUT_PROPERTIES.get().of(INSTANCE)


def test_unreadable_table_degrades_to_judging_everything(monkeypatch, capsys):
    from policypack import data_files
    from policypack.rules import self_sufficiency as ss

    def broken(name):
        raise OSError("gone")
    ss.INPUT_PROPERTIES.reset()
    monkeypatch.setattr(data_files, "read_json", broken)
    try:
        diags = Harness([EXT]).analyze_stack(computed_attribute_stack("update"))
        assert ("bastion", "outpostArn") in found(diags, EXT)
        assert "input_properties.json" in capsys.readouterr().err
    finally:
        ss.INPUT_PROPERTIES.reset()


def test_pack_start_up_does_not_read_the_table():
    code = ("import sys; from policypack.pack import build_pack; build_pack(); "
            "from policypack.rules import self_sufficiency as ss; "
            "assert ss.INPUT_PROPERTIES._value is None; assert 'pulumi_aws' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


def test_shipped_inputs_match_installed_pulumi_aws():
    """The shipped table is what the generator gives for the installed pulumi-aws: same version,
    every registered type, each type's inputs re-read from its source (~3 s). Set
    PAYMENTS_GUARD_INPUTS_IMPORT=1 to re-derive it by importing every class, as the generator does."""
    pytest.importorskip("pulumi_aws")
    method = "import" if os.environ.get("PAYMENTS_GUARD_INPUTS_IMPORT") else "source"
    result = script("generate_input_properties.py", "--check", "--method", method)
    assert result.returncode == 0, result.stdout + result.stderr


def test_source_reading_agrees_with_imported_classes():
    """The source check and the generator's import of the classes agree (a few small modules)."""
    pytest.importorskip("pulumi_aws")
    code = ("import sys; sys.path.insert(0, 'scripts'); import generate_input_properties as g; "
            "from pulumi_aws_schema import tokens_and_classes; "
            "rows = [r for r in tokens_and_classes() if r[1] in "
            "('pulumi_aws.sfn', 'pulumi_aws.lightsail', 'pulumi_aws.arcregionswitch', 'pulumi_aws.kms')]; "
            "a, b = g.generate(rows, 'import'), g.generate(rows, 'source'); assert a == b, (a, b); "
            "assert 'stateMachineVersionArn' not in a['inputs']['aws:sfn/stateMachine:StateMachine'].split(); "
            "assert 'resourceName' in a['inputs']['aws:lightsail/bucketResourceAccess:BucketResourceAccess'].split()")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=180)


# =============================================================================================
# 4. Every string of a secret document is judged, whatever its key
# =============================================================================================
WEAK_DOCUMENTS = [
    ({"signing": "password123"}, "signing"),
    ({"hmac": "abcabcabcabc"}, "hmac"),
    ({"master": "Password1"}, "master"),
    ({"keys": ["password123"]}, "keys[0]"),
    ({"webhook": {"shared": "qwerty2024"}}, "webhook.shared"),
]


def secret_version(value):
    return {"secretId": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:orders-keys-Ab12Cd",
            "secretString": secret(value)}


@pytest.mark.parametrize("doc, key", WEAK_DOCUMENTS)
def test_weak_values_under_any_key_fire(doc, key):
    text = json.dumps(doc)
    diags = Harness([PLAIN]).analyze(SV, secret_version(text), name="orders-keys")
    assert [(d.policy, d.urn, d.path, d.level) for d in diags] == \
        [(PLAIN, urn(SV, "orders-keys"), "secretString", "mandatory")]
    leaf = re.findall(r'"([^"]*)"', text)[-1]
    assert leaf not in diags[0].message  # the value is never repeated


def test_the_message_names_the_key_not_the_value():
    """The one wording test of `no-plaintext-secret-values`: the key (with its path in the document)
    tells the user which entry to fix; the value itself is never shown."""
    diag, = Harness([PLAIN]).analyze(SV, secret_version(json.dumps({"webhook": {"shared": "qwerty2024"}})))
    assert "`webhook.shared`" in diag.message
    assert "qwerty2024" not in diag.message


@settings(derandomize=True, max_examples=60, deadline=None)
@given(key=st.text(alphabet=string.ascii_letters + "_-", min_size=1, max_size=12),
       value=st.text(alphabet=string.ascii_letters + string.digits + "!#%&*+-=?@^_~", min_size=6, max_size=24),
       weak=st.sampled_from(["", "123", "Password1", "!"]))
@example(key="signing", value="passw0rd9", weak="123")
@example(key="keys", value="aaaaaa1", weak="")
def test_a_judged_value_is_never_repeated(key, value, weak):
    """Whatever the key, a value is never quoted: keys are shown, values never (a value with a
    digit cannot be one of the message template's words)."""
    assume(any(c.isdigit() for c in value) and value.lower() not in key.lower())
    # The last entry is known weak whatever `key` is, so the rule always fires and writes a message.
    doc = [{key: value + weak}, {"nested": {key: [value]}}, {"password": "password123"}]
    diags = Harness([PLAIN]).analyze(SV, secret_version(json.dumps(doc)), name="orders-keys")
    assert [(d.policy, d.urn, d.path) for d in diags] == [(PLAIN, urn(SV, "orders-keys"), "secretString")]
    assert value not in diags[0].message


@pytest.mark.parametrize("doc", [
    {"signing": "Xq7#vN2$pL9@wR4!", "hmac": "b3f1c9e2a7d54c8e9f0a1b2c3d4e5f60", "keys": ["7tY!k2Qz9#Lm4$Pw"]},
    {"username": "admin", "password": "Xq7#vN2$pL9@wR4!", "engine": "postgres", "host": "orders.cluster-c1.rds.amazonaws.com",
     "port": 5432, "dbname": "payments", "note": "rotated monthly", "optional": "", "currency": "eur", "retries": 3},
])
def test_strong_and_descriptive_values_pass(doc):
    assert Harness([PLAIN]).analyze(SV, secret_version(json.dumps(doc))) == []


def test_preview_unknown_secret_is_not_applicable():
    h = Harness([PLAIN])
    props = {"secretId": UNKNOWN, "secretString": UNKNOWN}
    assert h.analyze(SV, props) == [] and h.not_applicable(SV, props) == [PLAIN]


@pytest.mark.parametrize("props", [
    {"secretId": "x", "secretString": "[secret]"},
    {"secretId": "x", "secretBinary": "[secret]"},
])
def test_undecryptable_secret_is_undecidable(props):
    """`pulumi policy analyze` sends "[secret]" for a value it cannot decrypt: neither weak nor a
    placeholder, and reported as not-applicable."""
    h = Harness([PLAIN])
    assert h.analyze(SV, props) == [] and h.not_applicable(SV, props) == [PLAIN]
    ssm = {"name": "/orders/dev/db/password", "type": "SecureString", "value": "[secret]"}
    assert h.analyze("aws:ssm/parameter:Parameter", ssm) == []


def test_undecryptable_leaf_is_not_judged_but_the_others_are():
    h = Harness([PLAIN])
    assert h.analyze(SV, secret_version(json.dumps({"password": "[secret]", "signing": "[secret]"}))) == []
    assert h.analyze(SV, secret_version(json.dumps({"password": "[secret]", "signing": "Xq7#vN2$pL9@wR4!"}))) == []
    diags = h.analyze(SV, secret_version(json.dumps({"password": "[secret]", "signing": "password123"})))
    assert [(d.policy, d.path, d.level) for d in diags] == [(PLAIN, "secretString", "mandatory")]


def test_undecryptable_container_definitions_are_undecidable():
    h = Harness([TASK_ENV])
    props = {"family": "orders", "containerDefinitions": "[secret]"}
    assert h.analyze(TD, props) == [] and h.not_applicable(TD, props) == [TASK_ENV]
    env = json.dumps([{"name": "app", "image": "orders:1", "environment": [{"name": "SIGNING_MODE", "value": "[secret]"}]}])
    assert h.analyze(TD, {"family": "orders", "containerDefinitions": env}) == []


# =============================================================================================
# 8. The suggested fix fits the property
# =============================================================================================
def test_suggested_fix_follows_the_property():
    """The one wording test of `no-external-infrastructure-ids`: a key is suggested for `kmsKeyId`, subnets for `subnets`."""
    h = Harness([EXT])
    key_diag, = h.analyze_stack([resource(LG, "audit", {"name": "/orders/audit", "kmsKeyId": FOREIGN_KEY})])
    assert (key_diag.path, key_diag.urn) == ("kmsKeyId", urn(LG, "audit"))
    assert "kms_key_id=" in key_diag.message and "aws.kms.Key" in key_diag.message
    assert "subnets=" not in key_diag.message
    net_diag, = h.analyze_stack([resource(SVC, "api", {"networkConfiguration": {"subnets": [FOREIGN_SUBNET]}})])
    assert net_diag.path == "networkConfiguration"
    assert "subnets=" in net_diag.message and "kms_key_id" not in net_diag.message


def test_undecryptable_parameter_name_or_type_is_not_a_credential():
    h = Harness(["ssm-secure-string"])
    ssm = "aws:ssm/parameter:Parameter"
    assert h.analyze(ssm, {"name": "[secret]", "type": "String", "value": "on"}) == []
    props = {"name": "/orders/dev/db/password", "type": "[secret]", "value": "[secret]"}
    assert h.analyze(ssm, props) == [] and h.not_applicable(ssm, props) == ["ssm-secure-string"]
    fired = h.analyze(ssm, {"name": "/orders/dev/db/password", "type": "String", "value": "[secret]"})
    assert [(d.policy, d.path) for d in fired] == [("ssm-secure-string", "type")]
