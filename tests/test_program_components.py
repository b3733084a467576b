"""Multi-language components: reported as unseen, never a silent pass; their outputs unknown."""
from __future__ import annotations

import pulumi_awsx  # noqa: F401 - the fixture program's; missing (requirements-dev.txt), this module must fail, not skip
import pytest

from offline_helpers import program
from program_helpers import check_and_record
from policypack.props import UNKNOWN_SENTINELS

AWSX_TYPES = {("awsx:ec2:Vpc", "checkout"), ("awsx:lb:ApplicationLoadBalancer", "checkout"),
              ("awsx:ecs:FargateService", "checkout")}


@pytest.fixture(scope="module")
def unaccepted():
    return check_and_record(program("awsx-service"))


@pytest.fixture(scope="module")
def accepted():
    return check_and_record(program("awsx-service"), allow_unseen=["awsx:ec2:*", "awsx:lb:*", "awsx:ecs:Fargate*"])


def _unseen(report):
    return [f for f in report["programFindings"] if f["id"] == "program-unseen-component"]


def test_each_remote_component_is_a_mandatory_finding(unaccepted):
    code, report, _result = unaccepted
    unseen = _unseen(report)
    assert {(f["resourceType"], f["resourceName"]) for f in unseen} == AWSX_TYPES
    assert {f["level"] for f in unseen} == {"mandatory"}
    assert report["summary"]["unseenComponents"] == 3
    assert code == 1  # the plain cluster alone would pass: the unseen children do not


def test_accepted_types_are_advisory_and_recorded(accepted):
    code, report, _result = accepted
    unseen = _unseen(report)
    assert {f["level"] for f in unseen} == {"advisory"}
    assert {f["acceptedBy"] for f in unseen} == {"awsx:ec2:*", "awsx:lb:*", "awsx:ecs:Fargate*"}
    assert report["allowUnseen"] == ["awsx:ec2:*", "awsx:lb:*", "awsx:ecs:Fargate*"]
    assert report["summary"]["unseenComponents"] == 3
    assert code == 0  # decided by the rest: the cluster has only an advisory violation


def test_a_program_reading_component_outputs_runs_on_with_unknowns(unaccepted):
    _code, report, result = unaccepted
    assert not [f for f in report["programFindings"] if f["level"] == "error"]
    stack = next(r for r in result["resources"] if r["type"] == "pulumi:pulumi:Stack")
    # lb.load_balancer.dns_name: unknown, as at a first preview (an apply on it never ran)
    assert stack["outputs"]["url"] in UNKNOWN_SENTINELS
    assert stack["outputs"]["vpcId"] in UNKNOWN_SENTINELS
    # the plain cluster is still judged
    assert [v["resourceType"] for v in report["violations"]] == ["aws:ecs/cluster:Cluster"]
