"""What a release carries beyond the rules: presets by name, `payments-guard pack` directories that
start as the CLI starts a pack, --version, a missing extra named, links from the declared place,
and SARIF that GitHub code scanning can use (validated against the SARIF 2.1.0 schema)."""
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata

import pytest
import yaml

from distribution_helpers import analyzer_info_of, sarif_schema_errors
from offline_helpers import ROOT, program
from policypack import PACK_NAME, __version__
from policypack.catalogue import presets
from policypack.release import homepage_url, policy_url
from policypack.offline.client import PROTO_TO_LEVEL
from policypack.offline.policy_config import PolicyConfigError, build, load_file
from policypack.pack import select_rules
from policypack.rules import ALL_RULES

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import package_pack  # noqa: E402

DOCS = "https://docs.example.test/guard/rules.md"
HOME = "https://example.test/guard"
URL_ENV = ("PAYMENTS_GUARD_DOCS_URL", "PAYMENTS_GUARD_HOMEPAGE_URL")
#: GitHub code scanning's bands for properties.security-severity
BANDS = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}


def guard(*args, cwd=ROOT, env=None, timeout=180):
    """`python -m policypack ...` (the `payments-guard` entry point) with this checkout importable."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = ROOT
    return subprocess.run([sys.executable, "-m", "policypack", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _without_url_overrides():
    return {k: v for k, v in os.environ.items() if k not in URL_ENV}


def _level_of(preset, name, default):
    value = preset.get(name, preset.get("all", default))
    return value if isinstance(value, str) else value.get("enforcementLevel", default)


# --- presets ---------------------------------------------------------------------------------
def test_presets_are_listed_and_shipped_in_the_package():
    names = guard("presets").stdout.split()
    assert names == sorted(name[:-5] for name in presets())
    for line in guard("presets", "--paths").stdout.splitlines():
        name, path = line.split("\t")
        assert os.path.dirname(path) == os.path.join(ROOT, "policypack", "presets")
        assert json.load(open(path)) == presets()[name + ".json"]


def test_policy_config_takes_a_preset_name_or_a_path(tmp_path, monkeypatch):
    pci = presets()["pci-dss.json"]
    assert load_file("pci-dss") == pci
    assert load_file("pci-dss.json") == pci
    assert load_file(os.path.join(ROOT, "policypack", "presets", "pci-dss.json")) == pci
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pci-dss").write_text('{"all": "disabled"}')
    assert load_file("pci-dss") == {"all": "disabled"}  # an existing file always wins over a name
    with pytest.raises(PolicyConfigError) as error:
        load_file("no-such-preset")
    assert "advisory-rollout" in str(error.value)  # the cause names what can be used instead


# --- the check with a preset by name, and its SARIF ----------------------------------------------
@pytest.fixture(scope="module")
def legacy_reports(tmp_path_factory):
    """The legacy sample checked with `--policy-config pci-dss` from outside the checkout: JSON with
    the link overrides set and the SARIF rendered from that one run; and SARIF without the overrides,
    a run of its own because the pack fixes a policy's link when it starts."""
    out = tmp_path_factory.mktemp("reports")
    env = dict(os.environ, PAYMENTS_GUARD_DOCS_URL=DOCS, PAYMENTS_GUARD_HOMEPAGE_URL=HOME)
    results = {}
    for label, run_env in (("json", env), ("sarif-declared", _without_url_overrides())):
        path = out / f"{label}.json"
        done = guard("check", program("payment-service-legacy"), "--policy-config", "pci-dss", "--format", "json",
                     "--output", str(path), "--quiet", cwd=str(out), env=run_env)
        assert done.returncode == 1, done.stderr
        results[label] = json.loads(path.read_text())
    for label, source, run_env in (("sarif", "json", env), ("sarif-declared", "sarif-declared",
                                                             _without_url_overrides())):
        done = guard("render", str(out / f"{source}.json"), "--format", "sarif", cwd=str(out), env=run_env)
        assert done.returncode == 0, done.stderr
        results[label] = json.loads(done.stdout)
    return results


def test_check_applies_a_preset_named_on_the_command_line(legacy_reports):
    report = legacy_reports["json"]
    assert report["pack"] == {"name": PACK_NAME, "version": __version__}  # the package served itself
    pci = presets()["pci-dss.json"]
    levels = {p["name"]: p["enforcementLevel"] for p in report["policies"]}
    assert levels == {r.name: _level_of(pci, r.name, r.level) for r in ALL_RULES}
    assert {v["enforcementLevel"] for v in report["violations"]} <= {"mandatory", "advisory"}
    assert any(v["enforcementLevel"] == "mandatory" for v in report["violations"])


@pytest.mark.parametrize("label", ["sarif", "sarif-declared"])
def test_sarif_validates_against_the_sarif_2_1_0_schema(legacy_reports, label):
    assert sarif_schema_errors(legacy_reports[label]) == []
    assert legacy_reports[label]["runs"][0]["results"]


def test_sarif_rules_carry_links_from_the_declared_place_and_security_severity(legacy_reports):
    run = legacy_reports["sarif"]["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["informationUri"] == HOME and driver["semanticVersion"] == __version__
    severities = {r.name: r.severity for r in ALL_RULES}
    policy_rules = [rule for rule in driver["rules"] if rule["id"] in severities]
    assert {rule["id"] for rule in policy_rules} == set(severities)
    for rule in policy_rules:
        assert rule["helpUri"] == f"{DOCS}#{rule['id']}"
        low, high = BANDS[severities[rule["id"]]]
        assert low <= float(rule["properties"]["security-severity"]) <= high, rule["id"]
        assert "security" in rule["properties"]["tags"]
    # the stable fingerprints of the JSON report, one per result
    by_key = {(v["policyName"], v["urn"], v["message"]): v["fingerprint"] for v in legacy_reports["json"]["violations"]}
    for result in run["results"]:
        if result["ruleId"] in severities:
            urn = result["properties"]["urn"]
            message = re.sub(r"\\(.)", r"\1", result["message"]["text"])  # SARIF's escapes undone
            assert result["partialFingerprints"]["paymentsGuard/v1"] == by_key[(result["ruleId"], urn, message)]


def test_sarif_links_are_only_the_declared_ones(legacy_reports):
    """Without overrides the links are what the release declares (pyproject.toml's [project.urls])
    or absent: never an address written in the code."""
    run = legacy_reports["sarif-declared"]["runs"][0]
    assert run["tool"]["driver"].get("informationUri", "") == homepage_url()
    for rule in run["tool"]["driver"]["rules"]:
        if rule["id"] in {r.name for r in ALL_RULES}:
            assert rule.get("helpUri", "") == policy_url(rule["id"])


def test_links_come_from_the_installed_distributions_metadata(tmp_path):
    """An installed release reads [project.urls] and its requirements from its own metadata."""
    site = tmp_path / "site"
    shutil.copytree(os.path.join(ROOT, "policypack"), site / "policypack",
                    ignore=shutil.ignore_patterns("__pycache__", "offline"))
    info = site / f"payments_guard-{__version__}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: payments-guard\nVersion: " + __version__ + "\n"
        "Project-URL: Documentation, https://docs.example.test/released/rules.md\n"
        "Project-URL: Repository, https://example.test/released\n"
        "Requires-Dist: pulumi<4,>=3.200\nRequires-Dist: pulumi-policy<2,>=1.18\n"
        'Requires-Dist: pulumi-aws<8,>=7; extra == "check"\n')
    (info / "RECORD").write_text("")
    code = ("import json; from policypack import release as d; "
            "print(json.dumps([d.policy_url('required-tags'), d.homepage_url(), d.runtime_requirements()]))")
    env = {k: v for k, v in _without_url_overrides().items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], cwd=str(site), env=env, capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout) == ["https://docs.example.test/released/rules.md#required-tags",
                                       "https://example.test/released", ["pulumi<4,>=3.200", "pulumi-policy<2,>=1.18"]]


# --- payments-guard pack -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def pci_pack(tmp_path_factory):
    target = tmp_path_factory.mktemp("packs") / "pci-guard"
    done = guard("pack", str(target), "--name", "pci-guard", "--frameworks", "pci", "--preset", "pci-dss",
                 cwd=str(target.parent))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(target)
    return str(target)


def test_written_pack_serves_the_selection_with_the_preset_as_initial_config(pci_pack):
    info = analyzer_info_of(pci_pack, sys.executable)  # this checkout is not importable from there
    assert info.name == "pci-guard" and info.version == __version__
    served = [rule.name for rule in select_rules(frameworks=["pci"])]
    assert [p.name for p in info.policies] == served and len(served) < len(ALL_RULES)
    pci = presets()["pci-dss.json"]
    assert set(info.initialConfig) <= set(served)
    effective = build(info, None)  # what the CLI sends when no --policy-pack-config is given
    for name in served:
        assert effective[name]["enforcementLevel"] == _level_of(pci, name, "advisory"), name
    assert effective["log-group-retention"]["properties"]["minRetentionDays"] == 365
    # the preset's levels are the served policies' own too (an initial `advisory` has no wire form)
    assert {p.name: PROTO_TO_LEVEL[p.enforcementLevel] for p in info.policies} == {
        name: _level_of(pci, name, "advisory") for name in served}


def test_written_pack_directory_is_ready_for_the_cli(pci_pack):
    manifest = yaml.safe_load(open(os.path.join(pci_pack, "PulumiPolicy.yaml")))
    assert manifest["version"] == __version__
    assert manifest["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    lines = [l.split("#")[0].strip() for l in open(os.path.join(pci_pack, "requirements.txt"))]
    assert {re.split(r"[<>=!~ ;]", l)[0].lower() for l in lines if l} == {"pulumi", "pulumi-policy"}
    import tomllib
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        assert [l for l in lines if l] == tomllib.load(handle)["project"]["dependencies"]  # the one declared place
    assert json.load(open(os.path.join(pci_pack, "policy-config.json"))) == presets()["pci-dss.json"]
    assert not os.path.exists(os.path.join(pci_pack, "policypack", "offline"))
    assert sorted(os.listdir(os.path.join(pci_pack, "policypack", "presets"))) == sorted(presets())
    assert "venv/" in open(os.path.join(pci_pack, ".gitignore")).read().split()


def test_written_pack_by_default_serves_every_policy_at_its_default_level(tmp_path):
    target = tmp_path / "everything"
    assert guard("pack", str(target), "--policies", "required-tags,alb-https-only", cwd=str(tmp_path)).returncode == 0
    info = analyzer_info_of(str(target), sys.executable)
    assert [p.name for p in info.policies] == [r.name for r in select_rules(names=["required-tags", "alb-https-only"])]
    assert info.name == PACK_NAME and not info.initialConfig
    target = tmp_path / "all"
    assert guard("pack", str(target), cwd=str(tmp_path)).returncode == 0
    info = analyzer_info_of(str(target), sys.executable)
    assert {p.name: PROTO_TO_LEVEL[p.enforcementLevel] for p in info.policies} == {r.name: r.level for r in ALL_RULES}
    assert not os.path.exists(target / "policy-config.json")


@pytest.mark.parametrize("args", [
    ("--name", "has spaces"), ("--name", "x" * 101), ("--policies", "no-such-policy"),
    ("--frameworks", "no-such-framework"), ("--preset", "no-such-preset")])
def test_pack_refuses_bad_requests_with_one_line_and_writes_nothing(tmp_path, args):
    target = tmp_path / "pack"
    done = guard("pack", str(target), *args, cwd=str(tmp_path))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not target.exists()


def test_pack_refuses_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    done = guard("pack", str(tmp_path))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == ["keep.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert guard("pack", str(empty)).returncode == 0  # an empty directory is fine


@pytest.mark.parametrize("options", [["--policies", "required-tags"], ["--frameworks", "pci"]])
def test_selecting_policies_without_the_packs_dependencies_is_a_one_line_cause(tmp_path, options):
    # a python3 without site-packages (no grpc, no pulumi-policy): bare `pack` works, a selection cannot
    done = subprocess.run([sys.executable, "-S", "-m", "policypack", "pack", str(tmp_path / "out"), *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "not installed" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_repository_staging_script_uses_the_same_staging_and_carries_the_presets(tmp_path):
    # as the README runs it, with any python3: without site-packages, so without pulumi
    done = subprocess.run([sys.executable, "-S", os.path.join(ROOT, "scripts", "package_pack.py"),
                           str(tmp_path / "plain")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path / "plain" / "policypack" / "presets")) == sorted(presets())
    staged = package_pack.stage(str(tmp_path / "staged"))
    for name, content in presets().items():
        assert json.load(open(os.path.join(staged, "policypack", "presets", name))) == content
    assert os.path.exists(os.path.join(staged, "README.md"))
    info = analyzer_info_of(staged, sys.executable)
    assert [p.name for p in info.policies] == [r.name for r in ALL_RULES]


# --- --version, a missing extra ----------------------------------------------------------------
def test_version_names_the_release_and_the_sdks_it_runs_with():
    done = guard("--version")
    assert done.returncode == 0
    assert done.stdout.split() == ["payments-guard", __version__, "(pulumi-policy", metadata.version("pulumi-policy") + ",",
                                   "pulumi", metadata.version("pulumi") + ")"]


def test_a_missing_extra_is_one_line_naming_it():
    code = ("import sys; sys.modules['jsonschema'] = None; from policypack.cli import main; "
            f"sys.exit(main(['check', {program('stdout-noise')!r}]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "jsonschema" in lines[0] and "payments-guard[check]" in lines[0]
