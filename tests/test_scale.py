"""Scale: a 20,000-resource program through the offline check gives the exact report (no time-out,
no exhausted memory). In a module of its own so that the parallel suite starts it first, on a worker
of its own, while the other worker runs everything else."""
import json

from offline_helpers import cli, program


def test_twenty_thousand_resources_give_a_correct_report(tmp_path):
    out = tmp_path / "large.json"
    result = cli("check", program("large"), "--format", "json", "--output", str(out), "--quiet", "--timeout", "900",
                 timeout=1000)
    assert result.returncode == 1, result.stderr
    report = json.loads(out.read_text())
    assert report["resources"] == 20002  # 20,001 parameters and the default provider
    assert sorted((v["policyName"], v["resourceName"]) for v in report["violations"]) == [
        ("no-plaintext-secret-values", "db-password"), ("ssm-secure-string", "db-password")]
