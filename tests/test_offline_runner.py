"""The program runner: what it records is what the engine would send to a policy pack."""
import json

import pytest

from offline_helpers import by_name, run
from policypack.offline import urns as U
from policypack.props import SECRET_SIG, SIG_KEY, UNKNOWN_SENTINELS


STACK_URN = "urn:pulumi:dev::components::pulumi:pulumi:Stack::components-dev"


@pytest.fixture(scope="module")
def update():
    return run("components")


@pytest.fixture(scope="module")
def preview():
    return run("components", mode="preview")


def test_urns_as_the_engine_builds_them():
    assert U.make_urn("dev", "p", "aws:s3/bucket:Bucket", "b") == "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b"
    assert U.make_urn("dev", "p", "aws:s3/bucket:Bucket", "b", STACK_URN) == "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b"
    parent = "urn:pulumi:dev::p::a:b:Outer$a:b:Inner::x"
    assert U.make_urn("dev", "p", "aws:sqs/queue:Queue", "q", parent) == \
        "urn:pulumi:dev::p::a:b:Outer$a:b:Inner$aws:sqs/queue:Queue::q"
    assert U.default_provider_name("7.51.1") == "default_7_51_1"
    assert U.default_provider_name("1.2.3-alpha.1+b") == "default_1_2_3_alpha_1_b"


def test_root_stack_and_nested_components(update):
    urns = [r["urn"] for r in update["resources"]]
    assert urns[0] == STACK_URN
    assert "urn:pulumi:dev::components::acme:net:Outer::outer" in urns
    assert "urn:pulumi:dev::components::acme:net:Outer$acme:net:Inner::outer-inner" in urns
    queue = by_name(update, "outer-inner-queue")
    # the full parent chain, not just the parent's last type (the SDK mock monitor's shortcut)
    assert queue["urn"] == "urn:pulumi:dev::components::acme:net:Outer$acme:net:Inner$aws:sqs/queue:Queue::outer-inner-queue"
    assert queue["parent"] == "urn:pulumi:dev::components::acme:net:Outer$acme:net:Inner::outer-inner"
    outer = by_name(update, "outer")
    assert outer["parent"] == STACK_URN and outer["custom"] is False
    assert "innerQueue" in outer["outputs"]  # register_outputs


def test_default_provider_named_and_configured_as_the_engine_does(update):
    default = by_name(update, "default_7_51_1")
    assert default["urn"] == "urn:pulumi:dev::components::pulumi:providers:aws::default_7_51_1"
    assert default["inputs"]["region"] == "eu-west-1"
    assert default["inputs"]["version"] == "7.51.1"
    # object-valued stack config reaches the provider as compact JSON text
    assert default["inputs"]["defaultTags"] == '{"tags":{"environment":"dev"}}'
    logs = by_name(update, "logs")
    assert logs["provider"].startswith(default["urn"] + "::")
    index = [r["urn"] for r in update["resources"]]
    assert index.index(default["urn"]) < index.index(logs["urn"])


def test_explicit_provider(update):
    explicit = by_name(update, "useast")
    assert explicit["type"] == "pulumi:providers:aws" and explicit["inputs"]["region"] == "us-east-1"
    key = by_name(update, "key")
    assert key["provider"].startswith(explicit["urn"] + "::")


def test_wire_inputs_camel_case_secrets_and_dependencies(update):
    logs = by_name(update, "logs")
    key = by_name(update, "key")
    assert logs["inputs"]["kmsKeyId"] == key["outputs"]["arn"]
    assert logs["inputs"]["retentionInDays"] == 365
    assert logs["propertyDependencies"]["kmsKeyId"] == [key["urn"]]
    assert key["urn"] in logs["dependencies"]
    assert logs["inputs"]["tags"] == {"tier": "gold"}  # bare stack-config key in the project namespace
    version = by_name(update, "db", "aws:secretsmanager/secretVersion:SecretVersion")
    assert version["inputs"]["secretString"][SIG_KEY] == SECRET_SIG


def test_update_mode_outputs_are_realistic(update):
    key = by_name(update, "key")
    # created through the explicit us-east-1 provider, not in the stack's eu-west-1
    assert key["outputs"]["arn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert by_name(update, "logs")["outputs"]["arn"].startswith("arn:aws:logs:eu-west-1:123456789012:")
    assert key["id"] and key["id"] not in UNKNOWN_SENTINELS


def test_preview_mode_leaves_computed_outputs_unknown(preview):
    key = by_name(preview, "key")
    logs = by_name(preview, "logs")
    assert key["outputs"]["arn"] in UNKNOWN_SENTINELS
    assert logs["inputs"]["kmsKeyId"] in UNKNOWN_SENTINELS
    assert logs["inputs"]["retentionInDays"] == 365
    provider = by_name(preview, "default_7_51_1")
    # a provider not created yet has the unknown id at preview
    assert logs["provider"] == provider["urn"] + "::04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_stack_reference_and_get_are_reads_not_resources(update):
    kinds = {(r["kind"], r["name"]) for r in update["reads"]}
    assert ("stack-reference", "acme/legacy-infrastructure/production") in kinds
    assert ("read", "existing") in kinds
    assert not [r for r in update["resources"] if r["type"] == "pulumi:pulumi:StackReference"]
    assert not [r for r in update["resources"] if r["name"] == "existing"]
    # StackReference outputs stay unknown even in update mode
    sg = by_name(update, "app")
    assert sg["inputs"]["vpcId"] in UNKNOWN_SENTINELS


def test_invokes_answered(update):
    tokens = {i["token"]: i["answered"] for i in update["invokes"]}
    assert tokens["aws:index/getAvailabilityZones:getAvailabilityZones"] is True
    assert tokens["aws:iam/getPolicyDocument:getPolicyDocument"] is True
    role = by_name(update, "task")
    import json
    doc = json.loads(role["inputs"]["assumeRolePolicy"])
    assert doc["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert doc["Statement"][0]["Action"] == "sts:AssumeRole"
    stack = update["resources"][0]
    assert stack["outputs"]["zone"] == "eu-west-1a"
    assert stack["outputs"]["account"] == "123456789012"


def test_source_locations(update):
    logs = by_name(update, "logs")
    assert logs["source"] == {"file": "__main__.py", "line": 27}


def test_explicit_provider_inputs_carry_the_plugin_version(update):
    explicit = by_name(update, "useast")
    assert explicit["inputs"]["version"] == "7.51.1"
    # non-string provider arguments reach the engine JSON-encoded (the Python SDK does it)
    assert json.loads(explicit["inputs"]["defaultTags"]) == {"tags": {"team": "payments"}}


def test_analyze_options_as_on_a_first_deployment(update):
    for record in update["resources"]:
        assert record["options"].get("aliases", []) == []
