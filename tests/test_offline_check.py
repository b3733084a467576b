"""The offline check end to end: the real pack process, exit statuses, formats, faults."""
import json
import os
import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest

from offline_helpers import PROGRAMS, ROOT, cli, cli_once, program


PACKS = os.path.join(os.path.dirname(PROGRAMS), "packs")


MARK = "PAYMENTS_GUARD_TEST_RUN"


def _marked_environment():
    """An environment whose every descendant process can be found again: the check's runner and
    pack inherit it (their command lines do not name the program), and no other test's carry it."""
    marker = uuid.uuid4().hex
    return dict(os.environ, **{MARK: marker}), marker


def _leftovers(marker: str):
    """The command lines of the processes still carrying `marker` (none may outlive a check)."""
    found = []
    wanted = f"{MARK}={marker}".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if wanted not in handle.read().split(b"\0"):
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                found.append(handle.read().decode("utf-8", "replace").replace("\0", " "))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


@pytest.fixture(scope="module")
def components_json():
    result = cli_once("check", program("components"), "--format", "json", "--quiet")
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


def test_json_report_schema(components_json):
    report = components_json
    for key in ("pack", "stack", "project", "resources", "violations", "programFindings", "remediations",
                "warnings", "mode"):
        assert key in report
    assert report["pack"]["name"] == "payments-guard" and report["mode"] == "update"
    for v in report["violations"]:
        assert set(v) >= {"policyName", "enforcementLevel", "severity", "urn", "resourceType", "resourceName",
                          "message"}
    ref = [f for f in report["programFindings"] if f["id"] == "program-stack-reference"]
    assert ref and ref[0]["level"] == "mandatory" and ref[0]["crossEnvironment"] is True
    assert "acme/legacy-infrastructure/production" in ref[0]["message"]
    reads = [f for f in report["programFindings"] if f["id"] == "program-resource-read"]
    assert reads and reads[0]["level"] == "advisory"


def test_secret_value_never_in_any_format():
    # the fixture's secret string is {"password": "xxx"}: flagged, but never repeated
    for fmt in ("text", "json", "sarif", "junit", "github"):
        result = cli_once("check", program("components"), "--format", fmt, "--quiet")
        assert result.returncode == 1
        assert '"xxx"' not in result.stdout and "xxx" not in result.stdout.replace("xxxx", "")


def test_sarif_and_junit_carry_every_violation(components_json):
    total = len(components_json["violations"]) + len(components_json["programFindings"])
    sarif = json.loads(cli_once("check", program("components"), "--format", "sarif", "--quiet").stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert len(run["results"]) == total
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    located = [r for r in run["results"] if r["locations"][0].get("physicalLocation")]
    assert located, "results carry source locations where known"
    junit = ET.fromstring(cli_once("check", program("components"), "--format", "junit", "--quiet").stdout)
    suite = junit.find("testsuite")
    mandatory = [v for v in components_json["violations"] if v["enforcementLevel"] == "mandatory"]
    assert int(suite.get("failures")) == len(mandatory) + 1  # + the StackReference finding


def test_preview_mode_is_named_and_runs(tmp_path):
    out = tmp_path / "r.json"
    result = cli("check", program("components"), "--mode", "preview", "--format", "json", "--output", str(out),
                 "--quiet")
    assert result.returncode == 1
    report = json.loads(out.read_text())
    assert report["mode"] == "preview"
    assert not [v for v in report["violations"] if "can't run policy" in v["message"]]


def test_config_missing():
    result = cli("check", program("config-missing"), "--quiet")
    assert result.returncode == 2
    assert "environmentSuffix" in result.stdout and "pulumi config set environmentSuffix" in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1 and "environmentSuffix" in result.stderr
    fixed = cli("check", program("config-missing"), "--config", "environmentSuffix=dev", "--quiet")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_invalid_argument_names_closest():
    result = cli("check", program("invalid-argument"), "--format", "json", "--quiet")
    assert result.returncode == 2
    finding = json.loads(result.stdout)["programFindings"][0]
    assert finding["id"] == "program-invalid-argument"
    assert finding["argument"] == "encryption_configuration"
    assert finding["closest"] == "encryption_configurations"
    assert finding["resourceClass"] == "Repository"


def test_apply_error_trims_traceback_to_program():
    result = cli("check", program("apply-error"), "--format", "json", "--quiet")
    assert result.returncode == 2
    finding = json.loads(result.stdout)["programFindings"][0]
    assert finding["id"] == "program-error" and "ValueError" in finding["message"]
    assert "__main__.py" in finding["traceback"] and "site-packages" not in finding["traceback"]


def test_program_that_hangs_times_out_and_leaves_nothing():
    env, marker = _marked_environment()
    result = cli("check", program("hang"), "--timeout", "5", "--quiet", env=env)
    assert result.returncode == 2
    assert "did not finish within 5s" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _leftovers(marker) == []


def test_program_that_exits_early():
    result = cli("check", program("exit-early"), "--quiet")
    assert result.returncode == 2 and "exited early (status 3)" in result.stderr


def test_program_printing_to_stdout_still_reports():
    result = cli("check", program("stdout-noise"), "--format", "json", "--quiet")
    report = json.loads(result.stdout)
    assert report["resources"] >= 1
    assert {v["policyName"] for v in report["violations"]} >= {"log-group-kms-encryption"}


@pytest.mark.parametrize("pack, cause", [("noisy", "before its port"), ("dies", "died during Analyze"),
                                         ("silent", "did not answer Analyze")])
def test_pack_faults(pack, cause):
    env, marker = _marked_environment()
    result = cli("check", program("stdout-noise"), "--pack", os.path.join(PACKS, pack), "--timeout", "6", "--quiet",
                 env=env)
    assert result.returncode == 2, result.stdout
    assert cause in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _leftovers(marker) == []


def test_bad_policy_config(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"log-group-retention": {"minRetentionDays": "forever"}}))
    result = cli("check", program("stdout-noise"), "--policy-config", str(bad), "--quiet")
    assert result.returncode == 2
    assert "log-group-retention" in result.stderr and "minRetentionDays" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = cli("check", program("stdout-noise"), "--policy-config", str(broken), "--quiet")
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    level = tmp_path / "level.json"
    level.write_text(json.dumps({"log-group-kms-encryption": "sometimes"}))
    result = cli("check", program("stdout-noise"), "--policy-config", str(level), "--quiet")
    assert result.returncode == 2 and "sometimes" in result.stderr


def test_policy_config_changes_levels(tmp_path):
    config = tmp_path / "advisory.json"
    config.write_text(json.dumps({"all": "advisory"}))
    result = cli("check", program("stdout-noise"), "--policy-config", str(config), "--format", "json", "--quiet")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["violations"] and all(v["enforcementLevel"] == "advisory" for v in report["violations"])


def test_remediate_level_reports_changes(tmp_path):
    config = tmp_path / "remediate.json"
    config.write_text(json.dumps({"required-tags": {"enforcementLevel": "remediate", "defaultTagValues": {
        "team": "payments", "cost-center": "cc-1", "application": "pay", "compliance": "pci", "backup": "daily",
        "environment": "dev"}}}))
    result = cli("check", program("stdout-noise"), "--policy-config", str(config), "--format", "json", "--quiet")
    report = json.loads(result.stdout)
    assert report["remediations"], result.stderr
    change = report["remediations"][0]
    assert change["policyName"] == "required-tags" and "tags" in change["changes"]
    assert not [v for v in report["violations"] if v["policyName"] == "required-tags"]


def test_bad_program_dir_and_usage():
    assert cli("check", "/nonexistent").returncode == 2
    assert cli("check", program("stdout-noise"), "--config", "novalue").returncode == 2


def test_json_report_validates_against_the_documented_schema(components_json):
    import jsonschema
    with open(os.path.join(ROOT, "docs", "report-schema.json"), encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft7Validator(schema).validate(components_json)
    errors = json.loads(cli("check", program("config-missing"), "--format", "json", "--quiet").stdout)
    jsonschema.Draft7Validator(schema).validate(errors)


@pytest.mark.parametrize("name, content, cause", [
    ("Pulumi.dev.yaml", "config: [unclosed", "not valid YAML"),
    ("answers.json", "{nope", "cannot read invoke answers"),
])
def test_malformed_program_files(tmp_path, name, content, cause):
    import shutil
    copy = tmp_path / "prog"
    shutil.copytree(program("stdout-noise"), copy)
    (copy / name).write_text(content)
    args = ["check", str(copy), "--quiet"]
    if name == "answers.json":
        args += ["--invoke-answers", str(copy / name)]
    result = cli(*args)
    assert result.returncode == 2 and cause in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_github_annotations(components_json):
    out = cli_once("check", program("components"), "--format", "github", "--quiet").stdout.splitlines()
    errors = [l for l in out if l.startswith("::error ")]
    warnings = [l for l in out if l.startswith("::warning ")]
    mandatory = [v for v in components_json["violations"] if v["enforcementLevel"] == "mandatory"]
    advisory = [v for v in components_json["violations"] if v["enforcementLevel"] == "advisory"]
    assert len(errors) == len(mandatory) + 1 and len(warnings) == len(advisory) + 1  # + program findings
    assert any("file=" in l and "line=" in l for l in errors)
    assert all("\n" not in l for l in out)


def test_timeout_bounds_the_analysis_phase():
    import time
    started = time.monotonic()
    result = cli("check", program("components"), "--pack", os.path.join(PACKS, "silent"), "--timeout", "6", "--quiet")
    assert result.returncode == 2 and "did not answer Analyze" in result.stderr and "--timeout" in result.stderr
    # a full timeout per queued call would take 18s: the components' 12 calls in rounds of four
    assert time.monotonic() - started < 15


def test_sigterm_reaps_the_runner_and_the_pack():
    import signal
    import time
    env, marker = _marked_environment()
    process = subprocess.Popen([__import__("sys").executable, "-m", "policypack", "check", program("hang"), "--quiet"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # signalled as soon as both are running (the program hangs; the pack waits for its calls)
    deadline = time.monotonic() + 60
    children = _children(process.pid)
    while (not {"policypack.offline.runner", "pulumi.policy"} <= set(children.values())
           and time.monotonic() < deadline and process.poll() is None):
        time.sleep(0.2)
        children = _children(process.pid)
    assert {"policypack.offline.runner", "pulumi.policy"} <= set(children.values()), children
    running = _leftovers(marker)  # the marker finds the check, its runner and its pack
    assert len(running) >= 3 and any("pulumi.policy" in c for c in running), running
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2 and "terminated" in err
    time.sleep(0.5)
    assert [pid for pid in children if _alive(pid)] == []
    assert _leftovers(marker) == []


def _children(parent: int):
    """The runner and the pack a check started: pid -> the module it runs."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().decode("utf-8", "replace").split("\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and "-m" in argv and argv.index("-m") + 1 < len(argv):
            found[int(pid)] = argv[argv.index("-m") + 1]
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie the check has not reaped yet counts as alive)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return bool(handle.read())
    except OSError:
        return False


def test_unwritable_output_is_exit_2():
    result = cli("check", program("stdout-noise"), "--output", "/nonexistent/dir/report.json", "--quiet")
    assert result.returncode == 2 and "cannot write the report" in result.stderr


def test_secret_config_values_never_reach_program_errors(tmp_path):
    import shutil
    copy = tmp_path / "prog"
    shutil.copytree(program("stdout-noise"), copy)
    (copy / "__main__.py").write_text("import pulumi\nint(pulumi.Config().require('dbPassword'))\n")
    result = cli("check", str(copy), "--secret", "dbPassword=Sup3rS3cret!", "--quiet")
    assert result.returncode == 2
    assert "Sup3rS3cret!" not in result.stdout + result.stderr
    # every format, rendered from one run of the check (the CLI prints exactly that)
    from policypack.offline.check import CheckOptions, run_check
    from policypack.offline.reports import FORMATS, render
    report = run_check(CheckOptions(program=str(copy), secrets={"dbPassword": "Sup3rS3cret!"}))
    assert report.exit_code == 2 and any(f["id"] == "program-error" for f in report.program_findings)
    for fmt in FORMATS:
        assert "Sup3rS3cret!" not in render(report, fmt), fmt


def test_drives_any_python_pack(tmp_path):
    pack = os.path.join(PACKS, "plain-sdk")
    result = cli("check", program("stdout-noise"), "--pack", pack, "--format", "json", "--quiet")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["pack"]["name"] == "plain-sdk"
    assert sorted((v["policyName"], v["enforcementLevel"]) for v in report["violations"]) == [
        ("lg-retention", "mandatory"), ("small-stack", "advisory")]
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"lg-retention": {"minimum": 5}, "small-stack": {"max": 1000}}))
    result = cli("check", program("stdout-noise"), "--pack", pack, "--policy-config", str(config), "--quiet")
    assert result.returncode == 0, result.stdout
