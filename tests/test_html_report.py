"""The HTML report: what a real browser renders from it, and that nothing a program or a state file
controls becomes markup. The browser test runs Debian's headless `chromium`; it is skipped only when
chromium is absent and `CI` is unset (CI installs it)."""
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import jsonschema
import pytest

from policypack.offline.html import render_html

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVIL = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = "<script>document.title='pwned'</script>"


def _violation(policy, level, severity, name, prop, message, type_="aws:cloudwatch/logGroup:LogGroup"):
    return {"policyName": policy, "enforcementLevel": level, "severity": severity,
            "urn": f"urn:pulumi:dev::payments::{type_}::{name}", "resourceType": type_, "resourceName": name,
            "message": message, "property": prop, "fingerprint": f"{policy}:{name}:{prop}", "baselined": False,
            "source": None}


def _policy(name, level="mandatory", severity="high"):
    return {"name": name, "description": f"{name} description", "enforcementLevel": level, "severity": severity,
            "url": f"https://example.invalid/rules#{name}", "kind": "resource"}


POLICIES = [_policy("log-group-retention"), _policy("required-tags", severity="medium"),
            _policy("alb-deletion-protection", "advisory", "medium"), _policy("vpc-flow-logs", "disabled", "medium")]


def _report(stack, violations, exit_code):
    baselined = sum(bool(v["baselined"]) for v in violations)
    mandatory = sum(v["enforcementLevel"] == "mandatory" and not v["baselined"] for v in violations)
    return {"schemaVersion": "1", "pack": {"name": "payments-guard", "version": "0.1.0"}, "project": "payments",
            "stack": stack, "mode": "update", "program": "/src/payments", "resources": 12,
            "summary": {"policies": len(POLICIES), "mandatory": mandatory,
                        "advisory": len(violations) - mandatory - baselined, "baselined": baselined, "programFindings": 0, "exitCode": exit_code},
            "violations": violations, "programFindings": [], "remediations": [], "warnings": [], "notApplicable": [],
            "policies": copy.deepcopy(POLICIES), "durationSeconds": 0.5}


def reports():
    known = _violation("log-group-retention", "mandatory", "high", EVIL, "retentionInDays",
                       f"Log group '{EVIL}' keeps logs 1 day {EVIL_SCRIPT}")
    known["baselined"] = True  # a mandatory violation the team accepted: neither failing nor advisory
    dev = _report("dev", [
        known,
        _violation("required-tags", "mandatory", "medium", "app-logs", "tags", "missing required tags: team"),
        _violation("required-tags", "mandatory", "medium", "audit-logs", "tags", "missing required tags: backup"),
    ], 1)
    prod = _report(f"prod{EVIL}", [
        _violation("alb-deletion-protection", "advisory", "medium", "alb", "enableDeletionProtection",
                   "set enable_deletion_protection=True", "aws:lb/loadBalancer:LoadBalancer"),
    ], 0)
    return [dev, prod], [{"input": f"exports/{EVIL}.json", "error": f"not JSON: {EVIL_SCRIPT}"}]


def test_reports_used_here_follow_the_report_schema():
    with open(os.path.join(ROOT, "docs", "report-schema.json")) as handle:
        schema = json.load(handle)
    for report in reports()[0]:
        jsonschema.validate(report, schema)


class Dom(HTMLParser):
    """Elements (tag, attributes) and the text inside each class of interest."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.texts, self._open = [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in ("br", "meta", "img", "input", "link", "rect"):
            self._open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        classes = " ".join(a.get("class", "") for _, a in self._open)
        self.texts.append((classes, data))

    def text_of(self, css_class):
        return [data for classes, data in self.texts if css_class in classes.split()]

    def tags(self):
        return {tag for tag, _ in self.elements}

    def cells(self):
        return {(a["data-stack"], a["data-policy"]): (a["data-state"], int(a["data-count"]))
                for tag, a in self.elements if tag == "td" and "data-policy" in a}


def check_rendered(dom):
    assert not {"img", "script", "iframe", "object", "embed", "link"} & dom.tags()
    assert not any(name.startswith("on") for _, attrs in dom.elements for name in attrs)
    cells = dom.cells()
    prod = f"payments/prod{EVIL}"
    assert cells[("payments/dev", "log-group-retention")] == ("baselined", 1)
    assert cells[("payments/dev", "required-tags")] == ("mandatory", 2)
    assert cells[("payments/dev", "alb-deletion-protection")] == ("pass", 0)
    assert cells[("payments/dev", "vpc-flow-logs")] == ("disabled", 0)
    assert cells[(prod, "alb-deletion-protection")] == ("advisory", 1)
    assert EVIL in dom.text_of("resource-name")
    assert any(EVIL_SCRIPT in text for text in dom.text_of("message"))
    assert any(EVIL in text for text in dom.text_of("errors"))
    bars = {(a["data-policy"], a["data-severity"]): int(a["data-count"]) for tag, a in dom.elements if tag == "rect"}
    assert bars == {("required-tags", "medium"): 2, ("log-group-retention", "high"): 1,
                    ("alb-deletion-protection", "medium"): 1}


def test_page_escapes_everything_and_loads_nothing():
    page = render_html(*reports())
    check_rendered(Dom(page))
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page.replace(
        "https://example.invalid", "")
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page


def test_each_cell_state_has_its_own_style_and_legend_entry():
    page = render_html(*reports())
    styles = dict(re.findall(r"\.cell\.(\w+)\{([^}]*)\}", page))
    states = ("mandatory", "advisory", "baselined", "pass")
    assert len({styles[state] for state in states}) == len(states)  # told apart at a glance
    legend = Dom(page).text_of("matrix-legend")
    assert [state for state in states if state in legend] == list(states)


def test_fix_comes_from_the_pack_and_every_finding_is_listed():
    dom = Dom(render_html(*reports()))
    from policypack.rules import ALL_RULES
    retention = next(r for r in ALL_RULES if r.name == "log-group-retention").remediation
    assert retention in dom.text_of("fix")
    assert len([a for tag, a in dom.elements if tag == "tr" and "finding" in a.get("class", "")]) == 4
    assert "retentionInDays" in dom.text_of("property")


def test_empty_and_malformed_inputs_render():
    for stacks, errors in [([], []), ([{}], []), ([{"violations": "x", "policies": [1, None]}], [{"input": None}]),
                           ([], [{"input": "a.json", "error": "truncated"}])]:
        page = render_html(stacks, errors)
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


needs_browser = pytest.mark.skipif(_chromium() is None and not os.environ.get("CI"),
                                   reason="chromium is not installed (CI installs it)")


def _browser(page_path, *mode, timeout=90):
    assert _chromium(), "CI must have chromium (.ci/run installs it)"
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=2000", *mode, "file://" + page_path],
            capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def rendered_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("html")
    path = str(folder / "report.html")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_html(*reports()))
    return path


@needs_browser
def test_browser_renders_the_matrix_and_runs_nothing(rendered_page):
    result = _browser(rendered_page, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = Dom(result.stdout)
    check_rendered(dom)
    assert "pwned" not in result.stdout.split("</title>")[0]  # no injected script changed the title
    csp = [a for tag, a in dom.elements if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]


@needs_browser
def test_browser_screenshot(rendered_page, tmp_path):
    shot = str(tmp_path / "report.png")
    result = _browser(rendered_page, f"--screenshot={shot}", "--window-size=1400,1600")
    assert result.returncode == 0 and os.path.getsize(shot) > 10_000, result.stderr[-2000:]
    if os.environ.get("HTML_REPORT_SCREENSHOT"):  # for a person to look at
        shutil.copy(shot, os.environ["HTML_REPORT_SCREENSHOT"])


def test_reports_render_html_for_one_stack():
    from policypack.offline.pipeline import Report
    from policypack.offline.reports import FORMATS, render
    [dev, _], _ = reports()
    report = Report(pack=dev["pack"], project="payments", stack="dev", mode="update", program="/src/payments",
                    resources=12, policies=dev["policies"], violations=dev["violations"])
    dom = Dom(render(report, "html"))
    assert "html" in FORMATS
    assert dom.cells()[("payments/dev", "required-tags")] == ("mandatory", 2)
    assert EVIL in dom.text_of("resource-name") and "img" not in dom.tags()
