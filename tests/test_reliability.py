"""No policy ever raises, whatever the input; secrets never leak; concurrency changes nothing.

Hypothesis drives every policy with arbitrary JSON-like properties for the types it reads (None,
wrong types, empty and huge strings, deep nesting, unknown sentinels, secrets, invalid JSON in
containerDefinitions) and every stack policy with arbitrary stacks. The conftest fixture fails a
test in which the servicer had to swallow a rule's exception.
"""
import json
import string
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from harness import UNKNOWN, Harness, resource, secret
from policypack import props as P
from policypack.rules import ALL_RULES

TYPES = sorted({t for rule in ALL_RULES for t in rule.resource_types} | {
    "aws:ecs/service:Service", "aws:ecs/cluster:Cluster", "aws:ecs/taskDefinition:TaskDefinition",
    "aws:lb/targetGroup:TargetGroup", "aws:alb/listener:Listener", "aws:lb/listenerRule:ListenerRule",
    "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/subnet:Subnet", "aws:secretsmanager/secret:Secret",
    "aws:codedeploy/deploymentGroup:DeploymentGroup", "aws:s3/bucket:Bucket", "pulumi:providers:aws",
    "my:component:Thing", "pulumi:pulumi:Stack"})
KEYS = sorted({"tags", "name", "kmsKeyId", "arn", "id", "vpcId", "subnets", "securityGroups", "cluster",
               "loadBalancers", "networkConfiguration", "assignPublicIp", "containerDefinitions", "healthCheck",
               "conditions", "listenerArn", "loadBalancerArn", "targetGroupArn", "defaultActions", "actions",
               "deploymentController", "deploymentConfiguration", "deploymentCircuitBreaker", "settings",
               "capacityProviders", "defaultCapacityProviderStrategies", "secretString", "secretBinary", "value",
               "type", "serviceName", "vpcEndpointType", "privateDnsEnabled", "routeTableIds", "secretId",
               "rotationRules", "encryptionConfigurations", "enableKeyRotation", "retentionInDays", "protocol",
               "port", "sslPolicy", "certificateArn", "dropInvalidHeaderFields", "accessLogs",
               "enableDeletionProtection", "imageScanningConfiguration", "imageTagMutability", "repository",
               "platformVersion", "ecsService", "deploymentStyle", "loadBalancerInfo", "appName",
               "computePlatform", "clusterName", "deletionWindowInDays", "advancedConfiguration"})
SENTINELS = sorted(P.UNKNOWN_SENTINELS)
WORDS = ["vpc-0123456789abcdef0", "subnet-0a1b2c3d", "sg-12345678", "arn:aws:kms:us-east-1:123456789012:key/x",
         "production", "prod", "dev", "CHANGEME", "password123", "AKIAABCDEFGHIJKLMNOP", "HTTP", "HTTPS",
         "FARGATE", "FARGATE_SPOT", "CODE_DEPLOY", "ECS", "BLUE_GREEN", "ROLLING", "enabled", "true", "0", "root",
         "awslogs", "com.amazonaws.us-east-1.ecr.dkr", "Interface", "Gateway", "{", "[1,", "null", "", " ",
         "x" * 5000]

scalars = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-10**6, 10**6).map(float), st.sampled_from(WORDS), st.sampled_from(SENTINELS),
                    st.text(max_size=40))
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), children,
                                               max_size=5)),
    max_leaves=30)


def _container_json(containers):
    return json.dumps(containers)


container = st.dictionaries(st.sampled_from(["name", "image", "environment", "secrets", "user", "privileged",
                                             "readonlyRootFilesystem", "logConfiguration"]), json_like, max_size=6)
container_definitions = st.one_of(st.lists(container, max_size=3).map(_container_json), st.sampled_from(
    ["", "{", "[", "not json", "null", "{}", "[1, 2]", '[{"environment": "x"}]', UNKNOWN]), json_like)


@st.composite
def properties(draw):
    props = draw(st.dictionaries(st.sampled_from(KEYS), json_like, max_size=8))
    if draw(st.booleans()):
        props["containerDefinitions"] = draw(container_definitions)
    for key in list(props):
        if draw(st.integers(0, 5)) == 0:
            props[key] = secret(props[key])
    if draw(st.integers(0, 10)) == 0:  # deep nesting
        deep = "leaf"
        for _ in range(draw(st.integers(50, 200))):
            deep = {"x": [deep]}
        props["deep"] = deep
    return props


HARNESS = Harness()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


@FAST
@given(type_=st.sampled_from(TYPES), props=properties())
def test_resource_policies_never_raise(type_, props):
    HARNESS.analyze(type_, props, provider=None)


@FAST
@given(type_=st.sampled_from(TYPES), props=properties(), provider=st.one_of(st.none(), json_like.filter(
    lambda v: isinstance(v, dict))))
def test_resource_policies_never_raise_with_providers(type_, props, provider):
    HARNESS.analyze(type_, props, provider=provider)
    HARNESS.remediate(type_, props, provider=provider)


@st.composite
def stacks(draw):
    count = draw(st.integers(0, 12))
    resources = []
    for index in range(count):
        type_ = draw(st.sampled_from(TYPES))
        props = draw(properties())
        resources.append(resource(type_, f"r{index}", props))
    urns = [r["urn"] for r in resources] + ["urn:pulumi:dev::payments::pulumi:pulumi:StackReference::gone"]
    for r in resources:
        if urns and draw(st.booleans()):
            prop = draw(st.sampled_from(KEYS))
            r["propertyDependencies"] = {prop: draw(st.lists(st.sampled_from(urns), max_size=3))}
            r["dependencies"] = draw(st.lists(st.sampled_from(urns), max_size=3))
        if draw(st.integers(0, 3)) == 0:
            r["parent"] = draw(st.sampled_from(urns))
    return resources


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(resources=stacks())
def test_stack_policies_never_raise(resources):
    HARNESS.analyze_stack(resources)


# digits at both ends keep the marker from being an ordinary word ("Deployment") found in type names
MARK = st.text(alphabet=string.ascii_letters + string.digits, min_size=8, max_size=8).map(lambda m: f"7{m}3")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_=st.sampled_from(TYPES), word=st.sampled_from(WORDS[:12] + ["CHANGEME_IN_PRODUCTION"]), mark=MARK,
       key=st.sampled_from(KEYS), shape=st.sampled_from(["plain", "json", "tag", "container-env", "nested"]))
def test_planted_secret_never_appears_in_a_diagnostic(type_, word, mark, key, shape):
    planted = f"{word}-{mark}"
    if shape == "plain":
        props = {key: secret(planted)}
    elif shape == "json":
        props = {key: secret(json.dumps({"password": planted, "host": planted}))}
    elif shape == "tag":
        props = {"tags": {"environment": secret(planted), "team": secret(planted)}}
    elif shape == "container-env":
        props = {"containerDefinitions": secret(json.dumps([{"name": "app", "environment": [
            {"name": "DB_PASSWORD", "value": planted}, {"name": "TOKEN", "value": planted}]}]))}
    else:
        props = {key: {"inner": [secret(planted)]}, "networkConfiguration": {"subnets": [secret(planted)]}}
    texts = [d.message for d in HARNESS.analyze(type_, props)]
    texts += [d.message for d in HARNESS.analyze_stack([resource(type_, "planted", props)])]
    reply = HARNESS.remediate(type_, props)
    for remediation in reply.remediations:
        texts.append(str(remediation.diagnostic))
    for text in texts:
        assert mark not in text, f"secret leaked into: {text}"


def test_concurrent_requests_give_the_same_diagnostics():
    requests = [(t, {"tags": {"environment": "prod"}, "kmsKeyId": "", "retentionInDays": 1.0,
                     "containerDefinitions": json.dumps([{"name": "a", "privileged": True,
                                                          "environment": [{"name": "API_TOKEN", "value": "x"}]}]),
                     "networkConfiguration": {"assignPublicIp": True}}) for t in TYPES] * 8

    def key(diags):
        return sorted((d.policy, d.level, d.message) for d in diags)

    serial = [key(HARNESS.analyze(t, p)) for t, p in requests]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda tp: key(HARNESS.analyze(*tp)), requests))
    assert serial == parallel
    assert any(serial)  # the requests do produce violations


def reference_decode(wire, path=(), secret_paths=None):
    """The wire form's meaning, written plainly (the servicer's decoder is a hand-tuned single pass
    over protobuf): secrets unwrapped with their paths recorded, resource references as their URN,
    assets and archives kept whole."""
    if isinstance(wire, dict):
        sig = wire.get(P.SIG_KEY)
        if sig == P.SECRET_SIG:
            secret_paths.add(path)
            return reference_decode(wire.get("value"), path, secret_paths)
        if sig == P.RESOURCE_REF_SIG:
            return wire.get("urn", "")
        if sig in (P.ASSET_SIG, P.ARCHIVE_SIG):
            return dict(wire)
        return {k: reference_decode(v, path + (k,), secret_paths) for k, v in wire.items()}
    if isinstance(wire, list):
        return [reference_decode(v, path + (i,), secret_paths) for i, v in enumerate(wire)]
    return wire


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(props=properties())
def test_one_pass_decode_equals_the_wire_form_meaning(props):
    """The servicer's protobuf decoder agrees with the plainly written reference on values and
    secret paths."""
    from harness import to_struct
    from policypack.servicer import decode_struct, struct_to_dict
    struct = to_struct(props)
    fast_secrets, slow_secrets = set(), set()
    fast = decode_struct(struct, fast_secrets)
    slow = reference_decode(struct_to_dict(struct), (), slow_secrets)
    assert repr(fast) == repr(slow) and fast_secrets == slow_secrets


def test_analyze_stack_restores_the_garbage_collector():
    import gc
    assert gc.isenabled()
    HARNESS.analyze_stack([resource("aws:s3/bucket:Bucket", "b", {})])
    assert gc.isenabled()
    gc.disable()
    try:
        HARNESS.analyze_stack([resource("aws:s3/bucket:Bucket", "b", {})])
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
