"""`audit`: `pulumi stack export` files evaluated as `pulumi policy analyze --file` evaluates them, and
several inputs (exports or programs) in one report.

The exports are written once per session by scripts/write_stack_exports.py from the offline
check's recording of the sample programs; each test edits a copy (a read VPC, a resource pending
deletion, another stack name) rather than running a program again.
"""
import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from offline_helpers import ROOT, cli, program, run_once
from test_samples import LEGACY_EXPECTED

from policypack.offline.check import load_project
from policypack.offline.drive import ProviderIndex
from policypack.offline.pipeline import CheckError
from policypack.offline.state import REDACTED, SECRET_SIG, SIG_KEY, parse_export

def _writer():
    spec = importlib.util.spec_from_file_location("write_stack_exports",
                                                  os.path.join(ROOT, "scripts", "write_stack_exports.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def exports(tmp_path_factory):
    """Export documents of the sample programs: legacy (dev), compliant (dev, production)."""
    writer = _writer()

    def recording(name, stack):  # the run test_state_analysis also reads
        return writer.labelled(run_once(name, stack=stack), program(name), load_project(program(name))["name"],
                               "us-east-1")
    legacy = recording("payment-service-legacy", "dev")
    compliant_dev = recording("payment-service", "dev")
    compliant_prod = recording("payment-service", "production")
    return {"legacy": writer.deployment(legacy, "dev", "ciphertext"),
            "legacy-plaintext": writer.deployment(legacy, "dev", "plaintext"),
            "compliant": writer.deployment(compliant_dev, "dev", "ciphertext"),
            "production": writer.deployment(compliant_prod, "production", "ciphertext")}


def _write(path, document):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
    return str(path)


def _resources(document):
    return document["deployment"]["resources"]


def _audit_json(*args):
    result = cli("audit", *args, "--format", "json", "--quiet")
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


@pytest.fixture(scope="session")
def legacy_audit(exports, tmp_path_factory):
    """The legacy export as `pulumi stack export --show-secrets` writes it: its weak password is
    readable, as the check sees it (a ciphertext one is "[secret]": undecidable)."""
    path = _write(tmp_path_factory.mktemp("legacy") / "legacy.json", exports["legacy-plaintext"])
    result, report = _audit_json(path)
    return path, result, report


# --- the export format ---------------------------------------------------------------------
def test_written_export_has_the_cli_format(exports):
    document = exports["legacy"]
    assert document["version"] == 3
    assert set(document["deployment"]) >= {"manifest", "secrets_providers", "resources"}
    assert set(document["deployment"]["manifest"]) == {"time", "magic", "version"}
    resources = _resources(document)
    assert resources[0]["type"] == "pulumi:pulumi:Stack"
    custom = [r for r in resources if r["custom"] and r["type"].startswith("aws:")]
    assert custom and all("__defaults" in r["inputs"] and r["provider"].count("::") >= 4 for r in custom)
    providers = {r["urn"]: r for r in resources if r["type"].startswith("pulumi:providers:")}
    assert all(r["provider"].rsplit("::", 1)[0] in providers for r in custom)
    external = [r for r in resources if r.get("external")]
    assert [r["type"] for r in external] == ["pulumi:pulumi:StackReference"]
    text = json.dumps(document)
    assert "ciphertext" in text and "plaintext" not in text
    assert "plaintext" in json.dumps(exports["legacy-plaintext"])


# --- how an export is read (in-process: cheap) ------------------------------------------------
def _mini(resources, version=3, **deployment):
    return json.dumps({"version": version, "deployment": {"manifest": {}, "resources": resources, **deployment}})


STACK = {"urn": "urn:pulumi:prod::shop::pulumi:pulumi:Stack::shop-prod", "custom": False,
         "type": "pulumi:pulumi:Stack"}
PROVIDER = {"urn": "urn:pulumi:prod::shop::pulumi:providers:aws::default_7_0_0", "custom": True, "id": "p-1",
            "type": "pulumi:providers:aws", "inputs": {"region": "eu-west-1", "__internal": {"x": 1}}}


def test_secrets_internal_keys_deletions_and_providers_read_as_the_engine_does():
    log_group = {"urn": "urn:pulumi:prod::shop::aws:cloudwatch/logGroup:LogGroup::logs", "custom": True,
                 "id": "logs", "type": "aws:cloudwatch/logGroup:LogGroup",
                 "provider": PROVIDER["urn"] + "::p-1", "parent": STACK["urn"],
                 "inputs": {"__defaults": ["name"], "tags": {SIG_KEY: SECRET_SIG, "ciphertext": "v1:abc:def"},
                            "nested": {"__kept": 1},
                            "retentionInDays": {SIG_KEY: SECRET_SIG, "plaintext": "400"}},
                 "outputs": {"tags": {SIG_KEY: SECRET_SIG, "plaintext": "{\"team\":\"payments\"}"}}}
    gone = dict(log_group, urn=log_group["urn"] + "-old", delete=True)
    pending = [{"type": "creating", "resource": dict(log_group, urn=log_group["urn"] + "-new")}]
    evaluation = parse_export(_mini([STACK, PROVIDER, log_group, gone], pending_operations=pending), "x.json")
    assert (evaluation.stack, evaluation.project, evaluation.mode) == ("prod", "shop", "state")
    assert [r["urn"] for r in evaluation.resources] == [STACK["urn"], PROVIDER["urn"], log_group["urn"]]
    lg = evaluation.resources[2]
    assert lg["name"] == "logs" and lg["parent"] == STACK["urn"]
    assert lg["inputs"] == {"tags": {SIG_KEY: SECRET_SIG, "value": REDACTED}, "nested": {"__kept": 1},
                            "retentionInDays": {SIG_KEY: SECRET_SIG, "value": 400}}
    assert lg["outputs"]["tags"] == {SIG_KEY: SECRET_SIG, "value": {"team": "payments"}}
    provider = ProviderIndex(evaluation.resources).provider_of(lg)
    assert provider["urn"] == PROVIDER["urn"] and "__internal" not in provider["inputs"]
    assert evaluation.apply_remediations is False and evaluation.attribute_to_root is True
    assert any("[secret]" in w for w in evaluation.warnings)


@pytest.mark.parametrize("text, cause", [
    ("{\"version\": 3, \"deployment\": {\"resources\": [", "truncated"),
    ("not json at all", "not valid JSON"),
    ("[1, 2]", "not a `pulumi stack export`"),
    (_mini([STACK], version=0), "version 0"),
    (_mini([STACK], version=5), "version 5"),
    (_mini([STACK], version=True), "version True"),
    (_mini([]), "no resources"),
    (_mini([dict(STACK, delete=True)]), "pending deletion"),
    (_mini([dict(STACK, urn="stack")]), "invalid URN"),
    (_mini([dict(STACK, inputs={"a": {SIG_KEY: SECRET_SIG}})]), "malformed secret"),
    # the wire form is not an export's: the CLI rejects it too
    (_mini([dict(STACK, inputs={"a": {SIG_KEY: SECRET_SIG, "value": "x"}})]), "malformed secret"),
    (_mini([dict(STACK, inputs={"a": {SIG_KEY: SECRET_SIG, "plaintext": "1", "ciphertext": "v1:a:b"}})]),
     "malformed secret"),
    (_mini([dict(STACK, inputs={"a": {SIG_KEY: SECRET_SIG, "plaintext": "{nope"}})]), "plaintext secret"),
])
def test_malformed_exports_have_a_one_line_cause_naming_the_file(text, cause):
    with pytest.raises(CheckError) as info:
        parse_export(text, "bad.json")
    message = str(info.value)
    assert "bad.json" in message and cause in message and "\n" not in message


def test_malformed_export_exits_2_with_one_stderr_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{\"version\": 3, \"deploy")
    result = cli("audit", str(path), "--quiet")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.json" in lines[0]


# --- the samples' exports ------------------------------------------------------------------
def test_legacy_export_fails_with_each_core_policy_as_the_check_does(legacy_audit):
    _, result, report = legacy_audit
    assert result.returncode == 1, result.stderr
    fired = {v["policyName"] for v in report["violations"]}
    assert LEGACY_EXPECTED <= fired, LEGACY_EXPECTED - fired
    checked = json.loads(cli("check", program("payment-service-legacy"), "--format", "json", "--quiet").stdout)
    by_check = {(v["policyName"], v["urn"], v["enforcementLevel"]) for v in checked["violations"]}
    by_audit = {(v["policyName"], v["urn"], v["enforcementLevel"]) for v in report["violations"]}
    # the state holds what the program made, so the pack finds the same; only the
    # StackReference, invisible to a pack at preview, is new
    assert by_check <= by_audit, by_check - by_audit
    assert {urn for _, urn, _ in by_audit - by_check} <= {
        r["urn"] for r in report_resources_of_type(legacy_audit, "pulumi:pulumi:StackReference")}
    assert report["mode"] == "state" and report["stack"] == "dev" and report["project"] == "payment-service-legacy"
    assert report["programFindings"] == []


def report_resources_of_type(audit, type_):
    path = audit[0]
    with open(path, encoding="utf-8") as handle:
        return [r for r in _resources(json.load(handle)) if r["type"] == type_]


def test_legacy_export_reports_the_stack_reference_to_production(legacy_audit):
    _, _, report = legacy_audit
    reference = report_resources_of_type(legacy_audit, "pulumi:pulumi:StackReference")[0]
    assert "production" in reference["inputs"]["name"]
    on_reference = [v for v in report["violations"] if v["urn"] == reference["urn"]]
    assert ("no-cross-environment-references", "mandatory") in {
        (v["policyName"], v["enforcementLevel"]) for v in on_reference}


def _with_read_vpc_and_deleted_resource(document):
    """The compliant export plus what `pulumi policy analyze` meets in real state: a VPC read with
    `.get` (external, no tags or flow log of ours) and a non-compliant log group pending deletion."""
    document = copy.deepcopy(document)
    resources = _resources(document)
    stack = resources[0]
    provider = next(r for r in resources if r["type"] == "pulumi:providers:aws")
    head = stack["urn"].rsplit("::", 2)[0]
    resources.append({"urn": f"{head}::aws:ec2/vpc:Vpc::shared-vpc", "custom": True, "id": "vpc-0a1b2c3d4e5f67890",
                      "type": "aws:ec2/vpc:Vpc", "inputs": {}, "external": True, "parent": stack["urn"],
                      "provider": f"{provider['urn']}::{provider['id']}",
                      "outputs": {"id": "vpc-0a1b2c3d4e5f67890", "cidrBlock": "10.0.0.0/16", "tags": {}}})
    resources.append({"urn": f"{head}::aws:cloudwatch/logGroup:LogGroup::old-logs", "custom": True,
                      "id": "old-logs", "type": "aws:cloudwatch/logGroup:LogGroup", "delete": True,
                      "inputs": {"name": "old-logs", "__defaults": []}, "outputs": {"name": "old-logs"},
                      "parent": stack["urn"], "provider": f"{provider['urn']}::{provider['id']}"})
    return document


def test_resource_pending_deletion_is_never_evaluated(exports, tmp_path):
    path = _write(tmp_path / "compliant.json", _with_read_vpc_and_deleted_resource(exports["compliant"]))
    result, report = _audit_json(path)
    assert report is not None, result.stderr
    mentioned = json.dumps(report["violations"]) + json.dumps(report["notApplicable"])
    assert "old-logs" not in mentioned
    assert any("[secret]" in w for w in report["warnings"])  # its secrets are ciphertext
    live = [r for r in _resources(json.load(open(path))) if not r.get("delete") and r["type"] != "pulumi:pulumi:Stack"]
    assert report["resources"] == len(live)


def test_compliant_export_with_read_vpc_deleted_resource_and_undecryptable_secrets_passes_silent(exports, tmp_path):
    document = _with_read_vpc_and_deleted_resource(exports["compliant"])
    assert "ciphertext" in json.dumps(document)
    result, report = _audit_json(_write(tmp_path / "compliant.json", document))
    assert result.returncode == 0, result.stderr
    assert report["violations"] == [], [(v["policyName"], v["resourceName"]) for v in report["violations"]]


def _without_deletion_protection(document):
    document = copy.deepcopy(document)
    albs = [r for r in _resources(document) if r["type"] == "aws:lb/loadBalancer:LoadBalancer"]
    assert albs
    for alb in albs:
        for side in ("inputs", "outputs"):
            alb[side]["enableDeletionProtection"] = False
    return document


def _deletion_protection_levels(document, tmp_path, name):
    result, report = _audit_json(_write(tmp_path / name, _without_deletion_protection(document)))
    assert report is not None, result.stderr
    return {v["enforcementLevel"] for v in report["violations"] if v["policyName"] == "alb-deletion-protection"}


def test_production_export_is_judged_as_production(exports, tmp_path):
    assert _deletion_protection_levels(exports["production"], tmp_path, "prod.json") == {"mandatory"}
    assert _deletion_protection_levels(exports["compliant"], tmp_path, "dev.json") == {"advisory"}


# --- several stacks ------------------------------------------------------------------------
def _restack(document, stack):
    """The same export as another stack of the project (URNs carry the stack)."""
    return json.loads(json.dumps(document).replace("urn:pulumi:dev::", f"urn:pulumi:{stack}::"))


@pytest.fixture(scope="session")
def folder_audit(exports, tmp_path_factory):
    """A folder of exports: two good ones (one in a subfolder) and every kind of broken one."""
    root = tmp_path_factory.mktemp("exports")
    _write(root / "a-legacy-dev.json", exports["legacy"])
    _write(root / "nested" / "b-legacy-staging.json", _restack(exports["legacy"], "staging"))
    (root / "c-truncated.json").write_text(json.dumps(exports["legacy"])[:5000])
    _write(root / "d-wrong-version.json", dict(exports["legacy"], version=5))  # the engine reads 1 to 4
    _write(root / "e-empty.json", {"version": 3, "deployment": {"manifest": {}, "resources": []}})
    (root / "notes.txt").write_text("not an export, and not *.json: ignored")
    result, report = _audit_json(str(root), "--jobs", "2")
    return root, result, report


def test_folder_with_broken_files_gives_one_report_of_the_good_ones_and_exit_2(folder_audit):
    root, result, report = folder_audit
    assert result.returncode == 2
    assert report["schemaVersion"] == "2"
    assert [s["stack"] for s in report["stacks"]] == ["dev", "staging"]  # input order
    assert [os.path.basename(e["input"]) for e in report["errors"]] == [
        "c-truncated.json", "d-wrong-version.json", "e-empty.json"]
    for error in report["errors"]:
        assert os.path.basename(error["input"]) in error["error"] and "\n" not in error["error"]
    stderr_errors = [line for line in result.stderr.splitlines() if line.startswith("payments-guard: error:")]
    assert len(stderr_errors) == 3 and all(".json" in line for line in stderr_errors)
    totals = report["totals"]
    assert (totals["inputs"], totals["stacks"], totals["errors"], totals["exitCode"]) == (5, 2, 3, 2)
    assert totals["mandatory"] == sum(s["summary"]["mandatory"] for s in report["stacks"]) > 0
    schema = json.load(open(os.path.join(ROOT, "docs", "report-schema.json"), encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(report)


def test_folder_without_failures_exits_1_on_mandatory_violations(exports, tmp_path):
    _write(tmp_path / "one.json", exports["legacy"])
    _write(tmp_path / "two.json", _restack(exports["legacy"], "qa"))
    result, report = _audit_json(str(tmp_path), "--jobs", "1")
    assert result.returncode == 1 and report["errors"] == [] and len(report["stacks"]) == 2


def test_stdin_reads_one_export(legacy_audit):
    path, _, by_file = legacy_audit
    with open(path, encoding="utf-8") as handle:
        result = subprocess.run([sys.executable, "-m", "policypack", "audit", "-", "--format", "json", "--quiet"],
                                cwd=ROOT, stdin=handle, capture_output=True, text=True, timeout=180)
    assert result.returncode == 1, result.stderr
    by_stdin = json.loads(result.stdout)
    assert by_stdin["schemaVersion"] == "1" and by_stdin["program"] == "<stdin>"
    key = lambda r: sorted((v["policyName"], v["urn"], v["property"]) for v in r["violations"])  # noqa: E731
    assert key(by_stdin) == key(by_file)


def test_single_export_report_keeps_the_one_stack_schema(legacy_audit):
    _, _, report = legacy_audit
    schema = json.load(open(os.path.join(ROOT, "docs", "report-schema.json"), encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(report)
    assert report["schemaVersion"] == "1" and "stacks" not in report


@pytest.fixture(scope="session")
def three_inputs(exports, tmp_path_factory):
    """Two exports of the same stack (still two runs) and a broken one, evaluated once in process."""
    from policypack.offline.evaluate import PackSettings, evaluate
    from policypack.offline.many import export_files, run_many
    from policypack.offline.state import ExportSource
    root = tmp_path_factory.mktemp("three")
    _write(root / "one.json", exports["legacy"])
    _write(root / "two.json", exports["legacy"])
    (root / "three.json").write_text("{")
    files, several = export_files([str(root)])
    assert several and [os.path.basename(f) for f in files] == ["one.json", "three.json", "two.json"]
    return run_many([(f, lambda f=f: evaluate(ExportSource(f), PackSettings())) for f in files], 2, lambda m: None)


def test_every_format_serves_several_stacks(three_inputs):
    from policypack.offline.reports import render_batch
    batch = three_inputs
    assert batch.exit_code == 2 and len(batch.reports) == 2 and len(batch.errors) == 1
    sarif = json.loads(render_batch(batch, "sarif"))
    stack_runs = [run for run in sarif["runs"] if run.get("results")]
    assert len(stack_runs) == 2
    ids = [run["automationDetails"]["id"] for run in sarif["runs"]]
    assert len(ids) == len(set(ids))
    failed = [n for run in sarif["runs"] for i in run.get("invocations", []) for n in i["toolExecutionNotifications"]]
    assert len(failed) == 1 and "three.json" in failed[0]["message"]["text"]
    junit = ET.fromstring(render_batch(batch, "junit"))
    suites = junit.findall("testsuite")
    assert len(suites) == 3 and sum(int(s.get("errors")) for s in suites) == 1
    assert all(int(s.get("failures")) > 0 for s in suites[:2])
    github = render_batch(batch, "github")
    assert github.count("::error") > 2 and "three.json" in github
    text = render_batch(batch, "text")
    assert text.count("payments-guard audit of") == 2 and "three.json" in text
    data = json.loads(render_batch(batch, "json"))
    assert [os.path.basename(s["program"]) for s in data["stacks"]] == ["one.json", "two.json"]


def test_html_is_one_page_for_several_stacks(three_inputs):
    # the page itself (escaping, what a browser renders) is tested in tests/test_html_report.py
    from policypack.offline.reports import render_batch
    page = render_batch(three_inputs, "html")
    assert page.lstrip().lower().startswith("<!doctype html") and "three.json" in page
    assert "payment-service-legacy" in page


def test_one_baseline_covers_every_stack_and_carries_the_stack(exports, tmp_path):
    _write(tmp_path / "dev" / "legacy.json", exports["legacy"])
    _write(tmp_path / "dev" / "legacy-qa.json", _restack(exports["legacy"], "qa"))
    baseline = tmp_path / "baseline.json"
    written = cli("audit", str(tmp_path / "dev"), "--write-baseline", str(baseline), "--quiet")
    assert written.returncode == 1
    data = json.loads(baseline.read_text())
    assert {(s["stack"]) for s in data["stacks"]} == {"dev", "qa"}
    assert {e["stack"] for e in data["violations"]} == {"dev", "qa"}
    result, report = _audit_json(str(tmp_path / "dev"), "--baseline", str(baseline))
    assert result.returncode == 0, result.stderr
    assert report["totals"]["mandatory"] == 0 and report["totals"]["baselined"] > 0
    # a third stack's violations are new: the baseline's fingerprints name their stack
    _write(tmp_path / "dev" / "legacy-uat.json", _restack(exports["legacy"], "uat"))
    result, report = _audit_json(str(tmp_path / "dev"), "--baseline", str(baseline))
    assert result.returncode == 1
    by_stack = {s["stack"]: s["summary"] for s in report["stacks"]}
    assert by_stack["uat"]["mandatory"] > 0 and by_stack["dev"]["mandatory"] == 0


# --- check with several programs -------------------------------------------------------------
def test_check_takes_several_programs_and_all(tmp_path):
    """Programs named and every Python program below --all ROOT, in one report: the good ones
    reported, a failing and a hanging one each an error, options and --timeout per program.
    The timeout is short (the hanging program waits it out), yet long enough for the good programs
    to finish with three at a time on a loaded machine (they take about 4s there)."""
    root = tmp_path / "repos"
    shutil.copytree(program("payment-service-legacy"), root / "team-a" / "legacy")
    shutil.copytree(program("config-missing"), root / "team-b" / "broken")
    shutil.copytree(program("hang"), root / "team-b" / "hangs")
    (root / "team-c").mkdir()
    (root / "team-c" / "Pulumi.yaml").write_text("name: node-app\nruntime: nodejs\n")  # not Python: skipped
    result = cli("check", program("components"), "--all", str(root), "--format", "json", "--jobs", "3",
                 "--timeout", "8")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert [os.path.basename(s["program"]) for s in report["stacks"]] == ["components", "legacy"]  # input order
    assert report["totals"]["stacks"] == 2 and report["totals"]["mandatory"] > 0
    errors = {os.path.basename(e["input"]): e["error"] for e in report["errors"]}
    assert set(errors) == {"broken", "hangs"}
    assert "environmentSuffix" in errors["broken"]
    assert "within 8s" in errors["hangs"]  # --timeout bounds each input, not the run
    assert "[1/4]" in result.stderr and "[4/4]" in result.stderr  # progress on stderr


def test_remediation_is_reported_not_applied_and_the_violation_stays_mandatory(legacy_audit, tmp_path):
    path, _, plain = legacy_audit
    config = tmp_path / "remediate.json"
    config.write_text(json.dumps({"required-tags": {"enforcementLevel": "remediate", "defaultTagValues": {
        "team": "payments", "cost-center": "cc-1", "application": "pay", "compliance": "pci", "backup": "daily",
        "environment": "dev"}}}))
    before = open(path, encoding="utf-8").read()
    result, report = _audit_json(path, "--policy-config", str(config))
    assert result.returncode == 1, result.stderr
    remediated = {r["urn"] for r in report["remediations"] if r["policyName"] == "required-tags"}
    assert remediated and all("tags" in r["changes"] for r in report["remediations"])
    # Analyze saw the stored inputs, not the remediated ones: every resource still violates, and a
    # violation left after a remediation is mandatory, as the engine reports it
    tagged = {v["urn"] for v in report["violations"] if v["policyName"] == "required-tags"}
    assert tagged == {v["urn"] for v in plain["violations"] if v["policyName"] == "required-tags"} == remediated
    assert {v["enforcementLevel"] for v in report["violations"] if v["policyName"] == "required-tags"} == {"mandatory"}
    assert open(path, encoding="utf-8").read() == before
