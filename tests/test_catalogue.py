"""The catalogue as users see it: names and levels as shipped, metadata on every policy, generated
docs and presets that are up to date and valid, selection by metadata, `payments-guard list`."""
import ast
import json
import os
import re

import pytest

from offline_helpers import ROOT, cli, program
from policypack.catalogue import catalogue, render_docs, presets
from policypack.offline.policy_config import build
from policypack.pack import build_pack, select_rules
from policypack.rules import ALL_RULES, CORE, EXTENDED

# The contract lives beside the repository (CI clones it with ../shared next to it); SHARED_DIR
# points elsewhere, e.g. for a checkout whose shared folder is not its sibling.
SHARED = os.path.join(os.environ.get("SHARED_DIR") or os.path.join(os.path.dirname(ROOT), "shared"), "catalogue.md")


def _catalogue_table():
    """name -> (kind, level) from shared/catalogue.md, the contract."""
    rows = {}
    for line in open(SHARED, encoding="utf-8"):
        match = re.match(r"^\| ([a-z0-9-]+) \| ([^|]+) \| ([^|]+) \|", line)
        if match and match.group(1) != "policy":
            kind = match.group(2).strip()
            rows[match.group(1)] = ("stack" if kind == "stack" else "resource", match.group(3).strip())
    return rows


def test_names_kinds_and_levels_match_the_contract():
    if not os.path.exists(SHARED):
        # In CI the contract must be checked: a missing file is a broken setup, not a reason to pass.
        message = f"{SHARED} not found (the catalogue contract; set SHARED_DIR to the folder holding it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    table = _catalogue_table()
    assert set(table) == {r.name for r in ALL_RULES} == set(CORE + EXTENDED)
    for rule in ALL_RULES:
        kind, level = table[rule.name]
        if rule.name in CORE or kind == "stack":
            assert rule.kind == kind, rule.name
        assert level.startswith(rule.level), (rule.name, level, rule.level)
        assert rule.remediable == ("remediable" in level), rule.name


def test_every_policy_carries_its_metadata(monkeypatch):
    monkeypatch.setenv("PAYMENTS_GUARD_DOCS_URL", "https://docs.example.test/rules.md")
    for entry in catalogue():
        assert entry["severity"] in ("low", "medium", "high", "critical"), entry["name"]
        assert entry["concern"] and entry["remediation"] and entry["url"].endswith("#" + entry["name"])
        assert entry["frameworks"] and all(fw["controls"] for fw in entry["frameworks"]), entry["name"]
        assert entry["compliantExample"], entry["name"]
        assert "exemptions" in entry["configSchema"]
        if entry["name"] in CORE:
            assert entry["seeds"], entry["name"]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.name)
def test_compliant_example_is_python(rule):
    """The example users copy parses (an elided rest of the arguments, `, ...)`, aside)."""
    ast.parse(rule.compliant_example.replace(", ...)", ")"))


def test_docs_are_generated_and_current():
    with open(os.path.join(ROOT, "docs", "rules.md"), encoding="utf-8") as handle:
        assert handle.read() == render_docs(), "docs/rules.md is stale: run `python -m policypack docs`"
    text = render_docs()
    for rule in ALL_RULES:
        assert f"## {rule.name}" in text and f"[{rule.name}](#{rule.name})" in text


def _analyzer_info():
    return build_pack().servicer().GetAnalyzerInfo(None, None)


@pytest.mark.parametrize("name", sorted(presets()))
def test_presets_are_current_and_valid(name):
    path = os.path.join(ROOT, "policypack", "presets", name)
    with open(path, encoding="utf-8") as handle:
        committed = json.load(handle)
    assert committed == presets()[name], f"{path} is stale: run `python -m policypack docs`"
    config = build(_analyzer_info(), committed, where=name)  # raises on a schema error
    assert set(config) == {r.name for r in ALL_RULES}


def test_preset_semantics():
    info = _analyzer_info()
    rollout = build(info, presets()["advisory-rollout.json"])
    assert {v["enforcementLevel"] for v in rollout.values()} == {"advisory"}
    pci = build(info, presets()["pci-dss.json"])
    assert pci["log-group-kms-encryption"]["enforcementLevel"] == "mandatory"
    production = build(info, presets()["production.json"])
    assert production["alb-deletion-protection"]["enforcementLevel"] == "mandatory"
    assert production["listener-rule-no-health-header-routing"]["enforcementLevel"] == "advisory"


@pytest.mark.slow
def test_presets_load_through_the_offline_check():
    for name in sorted(presets()):
        result = cli("check", program("stdout-noise"), "--policy-config", os.path.join(ROOT, "policypack", "presets", name),
                     "--format", "json", "--quiet")
        assert result.returncode in (0, 1), (name, result.stderr)


def test_selection_by_metadata():
    pci = select_rules(frameworks=["pci"])
    assert pci and all(any(fw.name == "PCI DSS" for fw in r.frameworks) for r in pci)
    assert {r.name for r in select_rules(concerns=["encryption"])} >= {"log-group-kms-encryption", "kms-key-rotation"}
    assert all(r.severity == "critical" for r in select_rules(severities=["critical"]))
    assert [r.name for r in select_rules(names=["required-tags"])] == ["required-tags"]
    with pytest.raises(ValueError, match="unknown policy"):
        select_rules(names=["no-such-policy"])
    assert len(build_pack().rules) == len(CORE) + len(EXTENDED)


def test_list_command():
    listing = json.loads(cli("list", "--format", "json").stdout)
    assert [e["name"] for e in listing] == list(CORE + EXTENDED)
    for entry in listing:
        assert {"severity", "frameworks", "concern", "enforcementLevel", "kind", "seeds", "configSchema"} <= set(entry)
    text = cli("list").stdout
    assert all(name in text for name in CORE + EXTENDED) and "37 policies" in text


def test_docs_command_check_mode():
    result = cli("docs", "--check")
    assert result.returncode == 0, result.stdout
