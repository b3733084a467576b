"""Exemptions (reason and expiry) and baselines."""
import json

import pytest

from harness import Harness
from offline_helpers import cli, program

LG = "aws:cloudwatch/logGroup:LogGroup"
FUTURE, PAST = "2999-12-31", "2001-01-01"


def exempt(pattern, expires=FUTURE, reason="migrating in PAY-123"):
    return {"log-group-kms-encryption": {"exemptions": [{"resource": pattern, "reason": reason, "expires": expires}]}}


@pytest.mark.parametrize("pattern", ["legacy-logs", "*legacy*", LG, "urn:pulumi:dev::payments::*::legacy-logs"])
def test_active_exemption_turns_mandatory_advisory(pattern):
    h = Harness(["log-group-kms-encryption"], config=exempt(pattern))
    [diag] = h.analyze(LG, {}, name="legacy-logs")
    assert diag.level == "advisory"
    assert "Exempted until 2999-12-31" in diag.message and "PAY-123" in diag.message


def test_exemption_does_not_cover_other_resources():
    h = Harness(["log-group-kms-encryption"], config=exempt("legacy-*"))
    assert [d.level for d in h.analyze(LG, {}, name="payments-logs")] == ["mandatory"]


def test_expired_exemption_no_longer_applies():
    h = Harness(["log-group-kms-encryption"], config=exempt("legacy-logs", expires=PAST))
    [diag] = h.analyze(LG, {}, name="legacy-logs")
    assert diag.level == "mandatory" and "expired on 2001-01-01" in diag.message


def test_exemption_for_stack_policy_uses_violation_urn():
    from harness import resource
    h = Harness(["secret-rotation"], config={"secret-rotation": {"exemptions": [
        {"resource": "aws:secretsmanager/secret:Secret", "reason": "rotated by the DBA team", "expires": FUTURE}]}})
    diags = h.analyze_stack([resource("aws:secretsmanager/secret:Secret", "db",
                                      {"arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                                       "kmsKeyId": "k"})])
    assert diags and all("rotated by the DBA team" in d.message for d in diags)


@pytest.mark.parametrize("entry, field", [
    ({"resource": "x", "expires": FUTURE}, "reason"),
    ({"resource": "x", "reason": "r"}, "expires"),
    ({"resource": "x", "reason": "r", "expires": "next year"}, "expires"),
    ({"resource": "x", "reason": "", "expires": FUTURE}, "reason"),
])
def test_schema_rejects_incomplete_exemptions(tmp_path, entry, field):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"log-group-kms-encryption": {"exemptions": [entry]}}))
    result = cli("check", program("stdout-noise"), "--policy-config", str(config), "--quiet")
    assert result.returncode == 2
    assert "log-group-kms-encryption" in result.stderr and field in result.stderr


@pytest.mark.slow
def test_exemption_through_offline_check(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps(exempt("noisy")))
    report = json.loads(cli("check", program("stdout-noise"), "--policy-config", str(config), "--format", "json",
                            "--quiet").stdout)
    [v] = [v for v in report["violations"] if v["policyName"] == "log-group-kms-encryption"]
    assert v["enforcementLevel"] == "advisory"
    config.write_text(json.dumps(exempt("noisy", expires=PAST)))
    result = cli("check", program("stdout-noise"), "--policy-config", str(config), "--format", "json", "--quiet")
    assert result.returncode == 1


@pytest.mark.slow
def test_baseline_fails_only_on_new_defects(tmp_path):
    baseline = tmp_path / "baseline.json"
    first = cli("check", program("baseline-app"), "--write-baseline", str(baseline), "--quiet")
    assert first.returncode == 1  # writing a baseline does not hide today's violations
    recorded = json.loads(baseline.read_text())
    assert [v["policyName"] for v in recorded["violations"]] == ["log-group-kms-encryption"]
    assert recorded["violations"][0]["property"] == "kmsKeyId"
    again = cli("check", program("baseline-app"), "--baseline", str(baseline), "--format", "json", "--quiet")
    assert again.returncode == 0, again.stdout
    assert json.loads(again.stdout)["violations"][0]["baselined"] is True
    # the same run twice gives the same fingerprints
    rewritten = tmp_path / "again.json"
    cli("check", program("baseline-app"), "--write-baseline", str(rewritten), "--quiet")
    assert json.loads(rewritten.read_text())["violations"] == recorded["violations"]
    new = cli("check", program("baseline-app"), "--baseline", str(baseline), "--config", "addDefect=true",
              "--format", "json", "--quiet")
    assert new.returncode == 1
    report = json.loads(new.stdout)
    fresh = [v for v in report["violations"] if not v["baselined"]]
    assert [v["resourceName"] for v in fresh] == ["new-defect"]


@pytest.mark.slow
def test_bad_baseline_file(tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text("[]")
    result = cli("check", program("baseline-app"), "--baseline", str(bad), "--quiet")
    assert result.returncode == 2 and "not a payments-guard baseline" in result.stderr


def test_baseline_fingerprints_distinguish_indexed_property_paths():
    from policypack.offline.findings import _PROPERTY
    message = "x\n[property: containerDefinitions[0].environment[1].name]"
    assert _PROPERTY.search(message).group("path") == "containerDefinitions[0].environment[1].name"


def test_impossible_expiry_date_does_not_exempt():
    h = Harness(["log-group-kms-encryption"], config=exempt("legacy-logs", expires="2999-02-30"))
    [diag] = h.analyze(LG, {}, name="legacy-logs")
    assert diag.level == "mandatory" and "not a valid date" in diag.message
