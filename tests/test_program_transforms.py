"""Transforms are applied as the engine applies them, and the pack sees the transformed inputs."""
from __future__ import annotations

import pytest

from offline_helpers import program
from program_helpers import check_and_record, resource

QUEUE, LOGS, BUCKET = "aws:sqs/queue:Queue", "aws:cloudwatch/logGroup:LogGroup", "aws:s3/bucketV2:BucketV2"


@pytest.fixture(scope="module")
def transformed():
    return check_and_record(program("transforms"))


def _order(record) -> str:
    return record["inputs"]["tags"]["order"]


def test_own_transforms_then_ancestors_then_the_stack(transformed):
    _code, _report, result = transformed
    assert _order(resource(result, "audit", LOGS)) == "rs"          # own, then the stack's
    assert _order(resource(result, "ledger-events", QUEUE)) == "ops"  # own, the component's, the stack's
    assert _order(resource(result, "archive", BUCKET)) == "as"       # an async transform


def test_a_stack_transform_adding_the_organisation_tags_satisfies_required_tags(transformed):
    _code, report, result = transformed
    tags = resource(result, "ledger-events", QUEUE)["inputs"]["tags"]
    assert {"environment", "team", "cost-center", "application", "compliance", "backup"} <= set(tags)
    assert not [v for v in report["violations"] if v["policyName"] == "required-tags"]


def test_a_transform_weakening_a_value_is_what_the_pack_judges(transformed):
    code, report, result = transformed
    assert resource(result, "audit", LOGS)["inputs"]["retentionInDays"] == 1
    retention = [v for v in report["violations"] if v["policyName"] == "log-group-retention"]
    assert [(v["resourceName"], v["property"], v["enforcementLevel"]) for v in retention] == \
        [("audit", "retentionInDays", "mandatory")]
    assert code == 1


def test_transforms_changing_options(transformed):
    _code, _report, result = transformed
    archive = resource(result, "archive", BUCKET)
    europe = resource(result, "europe", "pulumi:providers:aws")
    assert archive["provider"] == f"{europe['urn']}::{europe['id']}"
    assert archive["options"]["protect"] is True
    # created through the eu-west-1 provider: its outputs are in eu-west-1
    assert archive["outputs"]["region"] == "eu-west-1"


def test_the_older_transformations_keep_working(transformed):
    _code, _report, result = transformed
    legacy = resource(result, "legacy", QUEUE)
    assert legacy["inputs"]["messageRetentionSeconds"] == 60
    assert legacy["options"]["protect"] is True
    assert _order(legacy) == "s"  # the stack transform still ran after it


def test_invokes_through_an_explicit_provider_answer_for_its_region(transformed):
    _code, _report, result = transformed
    stack = next(r for r in result["resources"] if r["type"] == "pulumi:pulumi:Stack")
    assert stack["outputs"]["europeZone"] == "eu-west-1a"
    assert stack["outputs"]["homeZone"] == "us-east-1a"
