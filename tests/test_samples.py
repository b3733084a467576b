"""The sample stacks: the compliant one is clean in every deployment mode and evaluation mode; the
legacy one fires every core policy whose failure it contains; and each core policy is proven by a
mutation of the compliant sample that makes exactly that policy fire (nothing else mandatory)."""
import copy
import json
import re

import pytest

from harness import Harness, evaluate_records, secret
from offline_helpers import cli, program, run
from policypack.props import SECRET_SIG, SIG_KEY


MODES = ["codedeploy", "rolling", "ecs-blue-green"]


@pytest.mark.parametrize("deployment", MODES)
@pytest.mark.parametrize("mode", ["update", "preview"])
def test_compliant_sample_is_clean(deployment, mode):
    result = cli("check", program("payment-service"), "--mode", mode, "--config", f"deploymentMode={deployment}",
                 "--format", "json", "--quiet")
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert report["violations"] == [], [(v["policyName"], v["resourceName"], v["message"]) for v in report["violations"]]
    assert report["programFindings"] == [] and report["mode"] == mode
    assert report["resources"] > 60


LEGACY_EXPECTED = {
    "no-external-infrastructure-ids", "ecs-service-behind-stack-alb", "listener-rule-no-health-header-routing",
    "target-group-health-check", "vpc-endpoints-for-private-tasks", "log-group-kms-encryption",
    "log-group-retention", "ecr-kms-encryption", "rolling-deployment-circuit-breaker", "no-plaintext-secret-values",
    "secretsmanager-secret-cmk", "secret-rotation", "fargate-capacity-providers", "required-tags",
}


def _legacy_json() -> str:
    result = cli("check", program("payment-service-legacy"), "--format", "json", "--quiet")
    assert result.returncode == 1, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def legacy_json():
    return _legacy_json()


def test_legacy_sample_fires_its_failure_classes(legacy_json):
    report = json.loads(legacy_json)
    fired = {v["policyName"] for v in report["violations"]}
    assert LEGACY_EXPECTED <= fired, LEGACY_EXPECTED - fired
    findings = {f["id"] for f in report["programFindings"]}
    assert "program-stack-reference" in findings
    ref = [f for f in report["programFindings"] if f["id"] == "program-stack-reference"][0]
    assert ref["crossEnvironment"] and "production" in ref["message"]
    text = json.dumps(report)
    assert "CHANGEME_IN_PRODUCTION" not in text and "db.example.com" not in text


def test_a_second_run_gives_the_same_report(legacy_json):
    """The program's resources register concurrently, so the engine's order changes between runs;
    the report does not (only the run's duration may)."""
    def without_duration(text):
        return re.sub(r'\n  "durationSeconds": [0-9.]+\n', '\n  "durationSeconds": 0\n', text)
    first, second = without_duration(legacy_json), without_duration(_legacy_json())
    assert len(json.loads(first)["violations"]) > 20
    assert second == first


# --- mutations -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def recorded():
    return {mode: run("payment-service", deploymentMode=mode)["resources"] for mode in MODES}


def _find(records, type_, pick=0):
    matches = [r for r in records if r["type"] == type_]
    assert matches, type_
    return matches[pick]


def _both(record, fn):
    fn(record["inputs"])
    fn(record["outputs"])


def _tg(records):
    return _find(records, "aws:lb/targetGroup:TargetGroup")


def _containers(record, fn):
    def change(props):
        value = props["containerDefinitions"]
        wrapped = isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG
        containers = json.loads(value["value"] if wrapped else value)
        fn(containers)
        text = json.dumps(containers)
        props["containerDefinitions"] = secret(text) if wrapped else text
    _both(record, change)


def _remove(records, type_, predicate=lambda r: True):
    victims = [r for r in records if r["type"] == type_ and predicate(r)]
    assert victims, type_
    for victim in victims:
        records.remove(victim)


def _endpoint(service):
    def match(r):
        name = r["inputs"].get("serviceName", "")
        return isinstance(name, str) and name.endswith("." + service)
    return match


def _tags(record):
    return record["inputs"].get("tags") or {}


MUTATIONS = {
    "no-external-infrastructure-ids": ("codedeploy", lambda rs: _both(_find(rs, "aws:ecs/service:Service"), lambda p: p[
        "networkConfiguration"]["securityGroups"].append("sg-0123456789abcdef0"))),
    "no-cross-environment-references": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:cloudwatch/logGroup:LogGroup"), lambda p: p.update(name="payments-production-logs"))),
    "ecs-service-behind-stack-alb": ("rolling", lambda rs: _both(
        _find(rs, "aws:ecs/service:Service"), lambda p: p.pop("loadBalancers"))),
    "target-group-health-check": ("codedeploy", lambda rs: _both(_tg(rs), lambda p: p["healthCheck"].pop("matcher"))),
    "listener-rule-no-health-header-routing": ("ecs-blue-green", lambda rs: _both(
        _find(rs, "aws:lb/listenerRule:ListenerRule"), lambda p: p["conditions"].append(
            {"httpHeader": {"httpHeaderName": "X-Health-Check", "values": ["true"]}}))),
    "log-group-kms-encryption": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:cloudwatch/logGroup:LogGroup"), lambda p: p.pop("kmsKeyId"))),
    "log-group-retention": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:cloudwatch/logGroup:LogGroup"), lambda p: p.update(retentionInDays=30))),
    "ecr-kms-encryption": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:ecr/repository:Repository"), lambda p: p.update(
            encryptionConfigurations=[{"encryptionType": "AES256"}]))),
    "kms-key-rotation": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:kms/key:Key"), lambda p: p.update(enableKeyRotation=False))),
    "secretsmanager-secret-cmk": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:secretsmanager/secret:Secret"), lambda p: p.pop("kmsKeyId"))),
    "no-plaintext-secret-values": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:secretsmanager/secretVersion:SecretVersion"), lambda p: p.update(secretString=secret(
            json.dumps({"username": "payment_app", "password": "CHANGEME_IN_PRODUCTION"}))))),
    "no-secrets-in-task-environment": ("codedeploy", lambda rs: _containers(
        _find(rs, "aws:ecs/taskDefinition:TaskDefinition"),
        lambda cs: cs[0].setdefault("environment", []).append({"name": "DB_PASSWORD", "value": "hunter2hunter2"}))),
    "secret-rotation": ("codedeploy", lambda rs: _remove(rs, "aws:secretsmanager/secretRotation:SecretRotation")),
    "vpc-endpoints-for-private-tasks": ("codedeploy", lambda rs: _remove(
        rs, "aws:ec2/vpcEndpoint:VpcEndpoint", _endpoint("ecr.dkr"))),
    "ecs-service-no-public-ip": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:ecs/service:Service"), lambda p: p["networkConfiguration"].update(assignPublicIp=True))),
    "deployment-strategy-allowed": ("rolling", lambda rs: _both(
        _find(rs, "aws:ecs/service:Service"), lambda p: p.update(deploymentController={"type": "EXTERNAL"}))),
    "blue-green-deployment-complete": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:codedeploy/deploymentGroup:DeploymentGroup"),
        lambda p: p.update(autoRollbackConfiguration={"enabled": False}))),
    "rolling-deployment-circuit-breaker": ("rolling", lambda rs: _both(
        _find(rs, "aws:ecs/service:Service"), lambda p: p.update(
            deploymentCircuitBreaker={"enable": True, "rollback": False}))),
    "fargate-capacity-providers": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"),
        lambda p: p.update(capacityProviders=["FARGATE"]))),
    "ecs-container-insights": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:ecs/cluster:Cluster"), lambda p: p.update(
            settings=[{"name": "containerInsights", "value": "disabled"}]))),
    "required-tags": ("codedeploy", lambda rs: _both(
        _find(rs, "aws:cloudwatch/logGroup:LogGroup"), lambda p: p["tags"].pop("backup"))),
}

HARNESS = Harness()


@pytest.mark.parametrize("deployment", MODES)
def test_recorded_compliant_sample_is_clean_in_process(recorded, deployment):
    assert evaluate_records(recorded[deployment], HARNESS) == []


@pytest.mark.parametrize("policy", sorted(MUTATIONS))
def test_one_mutation_fires_exactly_its_policy(recorded, policy):
    deployment, mutate = MUTATIONS[policy]
    records = copy.deepcopy(recorded[deployment])
    mutate(records)
    diags = evaluate_records(records, HARNESS)
    fired = {d.policy for d in diags}
    assert policy in fired, f"{policy} did not fire"
    other_mandatory = {d.policy for d in diags if d.level == "mandatory"} - {policy}
    assert other_mandatory == set(), [d for d in diags if d.policy in other_mandatory]


def test_every_core_policy_has_a_mutation():
    from policypack.rules import CORE
    assert set(MUTATIONS) == set(CORE)
