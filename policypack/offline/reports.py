"""Reports of the offline check: text, JSON (schema in docs/report-schema.json), SARIF 2.1.0,
JUnit XML, GitHub workflow annotations and HTML. Every format carries every violation and program
finding, and names the mode (update/preview for a program, state for an export) it was evaluated
in. One input renders one `Report`; several render one `Batch` (many.py): every stack's report,
the inputs that could not be evaluated, and totals (JSON schemaVersion 2)."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any, Dict, List, Union
from xml.etree import ElementTree as ET

from .. import __version__
from ..release import homepage_url
from .html import render_html
from .pipeline import Batch, Report, read_json_file

FORMATS = ("text", "json", "sarif", "junit", "github", "html")
SCHEMA_VERSION = "1"
BATCH_SCHEMA_VERSION = "2"


def to_json_dict(report: Report) -> Dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "pack": report.pack, "project": report.project, "stack": report.stack, "mode": report.mode,
        "program": report.program, "resources": report.resources,
        "summary": {"policies": len(report.policies), **report.counts(),
                    "programFindings": len(report.program_findings),
                    "unseenComponents": report.unseen_components(), "exitCode": report.exit_code},
        "interpreter": report.interpreter,
        "allowUnseen": report.allow_unseen,
        "violations": [{k: v.get(k) for k in ("policyName", "enforcementLevel", "severity", "urn", "resourceType",
                                              "resourceName", "message", "property", "fingerprint", "baselined",
                                              "source")} for v in report.violations],
        "programFindings": report.program_findings,
        "remediations": report.remediations,
        "warnings": report.warnings,
        "notApplicable": report.not_applicable,
        "policies": report.policies,
        "durationSeconds": round(report.duration_seconds, 3),
    }


def render_json(report: Report) -> str:
    return json.dumps(to_json_dict(report), indent=2, sort_keys=False) + "\n"


def render_text(report: Report) -> str:
    lines: List[str] = []
    pack = f"{report.pack.get('name', '?')}@{report.pack.get('version', '?')}"
    what = f"audit of {report.program}" if report.mode == "state" else "offline check"
    lines.append(f"payments-guard {what} — {report.project}/{report.stack}, {report.mode} mode, pack {pack}")
    if report.interpreter:
        lines.append(f"program run by {report.interpreter['executable']}: {report.interpreter['reason']}")
    lines.append("")
    if report.program_findings:
        lines.append("Program findings:")
        for finding in report.program_findings:
            where = _where(finding.get("source"))
            lines.append(f"  [{finding['level']}] {finding['id']}: {finding['message']}{where}")
            if finding.get("traceback") and finding["level"] == "error":
                lines.extend("      " + line for line in finding["traceback"].splitlines()[-8:])
        lines.append("")
    by_resource: Dict[str, List[Dict[str, Any]]] = {}
    for violation in report.violations:
        by_resource.setdefault(violation["urn"] or "(stack)", []).append(violation)
    for urn, violations in by_resource.items():
        first = violations[0]
        title = f"{first['resourceType']} '{first['resourceName']}'" if first["resourceName"] else "stack"
        lines.append(f"{title}{_where(first.get('source'))}")
        for v in sorted(violations, key=lambda v: (v["enforcementLevel"] != "mandatory", v["policyName"])):
            message = v["message"].replace("\n", "\n      ")
            level = v["enforcementLevel"] + (", baselined" if v.get("baselined") else "")
            lines.append(f"  [{level}] {v['policyName']}: {message}")
        lines.append("")
    if report.remediations:
        lines.append("Remediations (what the pack would change):")
        for item in report.remediations:
            lines.append(f"  {item['policyName']} on {item['resourceType']} '{item['resourceName']}': "
                         f"{json.dumps(item['changes'], sort_keys=True)}")
        lines.append("")
    if report.warnings:
        lines.append("Warnings:")
        lines.extend(f"  - {w}" for w in report.warnings)
        lines.append("")
    counts = report.counts()
    baselined = f", {counts['baselined']} baselined" if counts["baselined"] else ""
    lines.append(f"{report.resources} resources, {len(report.policies)} policies: {counts['mandatory']} mandatory, "
                 f"{counts['advisory']} advisory violation(s){baselined}, {len(report.program_findings)} program finding(s) "
                 f"[{report.mode} mode]{_unseen_summary(report)} — exit {report.exit_code}")
    return visible_controls("\n".join(lines)) + "\n"  # a terminal reads it: an ESC in a name is shown


def _unseen_summary(report: Report) -> str:
    unseen = report.unseen_components()
    return f"; {unseen} component(s) not evaluated (their children are unseen)" if unseen else ""


def _where(source: Any) -> str:
    if isinstance(source, dict) and source.get("file"):
        return f" ({source['file']}:{source.get('line', 1)})"
    return ""


#: what XML 1.0 forbids anywhere in a document (C0 controls but tab, newline and CR; U+FFFE/FFFF;
#: lone surrogates), plus DEL and the C1 controls, which a terminal or log viewer would obey
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def visible_controls(text: str) -> str:
    """`text` with every control character a program or state may have put in a name or message shown
    as a visible escape (ESC -> `\\x1b`): XML stays well-formed, an annotation cannot drive a terminal."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                         text)


def _sarif_text(text: Any) -> str:
    """A SARIF message's plain text: `[text](url)` in it would be an embedded link (SARIF 2.1.0
    §3.11.6), so a literal backslash and brackets are escaped with a backslash."""
    return re.sub(r"([\\\[\]])", r"\\\1", "" if text is None else str(text))


_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning", "error": "error", "remediate": "error"}


def _sarif_run(report: Report, automation_id: str) -> Dict[str, Any]:
    rules, index = [], {}

    def rule_index(rule_id: str, description: str, url: str = "", severity: str = "") -> int:
        if rule_id not in index:
            index[rule_id] = len(rules)
            entry: Dict[str, Any] = {"id": rule_id, "name": rule_id,
                                     "shortDescription": {"text": description or rule_id}}
            if url:
                entry["helpUri"] = url
            if severity:
                entry["properties"] = {"severity": severity, "tags": ["security"],
                                       "security-severity": SECURITY_SEVERITY.get(severity, "5.0")}
            rules.append(entry)
        return index[rule_id]

    for policy in report.policies:
        rule_index(policy["name"], policy["description"], policy.get("url", ""), policy.get("severity", ""))
    results = []
    for v in report.violations:
        result = {"ruleId": v["policyName"], "ruleIndex": rule_index(v["policyName"], v.get("description", "")),
                  "level": "note" if v.get("baselined") else _SARIF_LEVEL.get(v["enforcementLevel"], "note"),
                  "message": {"text": _sarif_text(v["message"])},
                  "partialFingerprints": {"paymentsGuard/v1": v.get("fingerprint", "")},
                  "baselineState": "unchanged" if v.get("baselined") else "new",
                  "properties": {"urn": v["urn"], "resourceType": v["resourceType"],
                                 "resourceName": v["resourceName"], "enforcementLevel": v["enforcementLevel"],
                                 "severity": v.get("severity", ""), "mode": report.mode}}
        result["locations"] = [_sarif_location(report, v.get("source"), v["urn"])]
        results.append(result)
    for f in report.program_findings:
        results.append({"ruleId": f["id"], "ruleIndex": rule_index(f["id"], "offline check: " + f["id"]),
                        "level": _SARIF_LEVEL.get(f["level"], "note"), "message": {"text": _sarif_text(f["message"])},
                        "locations": [_sarif_location(report, f.get("source"), f.get("urn", ""))],
                        "properties": {"level": f["level"], "mode": report.mode}})
    return {"tool": {"driver": _sarif_driver(report, rules)},
            "automationDetails": {"id": automation_id},
            "properties": {"mode": report.mode, "stack": report.stack, "project": report.project},
            "results": results}


#: GitHub code scanning's scale for `security-severity`: critical over 9.0, high 7.0-8.9,
#: medium 4.0-6.9, low 0.1-3.9 (a string, as GitHub reads it).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}


def _tool_driver() -> Dict[str, Any]:
    """The tool: its link comes from the release's declared [project.urls] (none when none is
    declared), never from an address written here."""
    driver: Dict[str, Any] = {"name": "payments-guard", "version": __version__, "semanticVersion": __version__}
    home = homepage_url()
    if home:
        driver["informationUri"] = home
    return driver


def _sarif_driver(report: Report, rules: List[Dict[str, Any]]) -> Dict[str, Any]:
    driver = _tool_driver()
    driver["version"] = report.pack.get("version", "") or driver["version"]  # the pack evaluated
    driver["rules"] = rules
    return driver


def _automation_id(report: Report) -> str:
    return f"payments-guard/{report.project}/{report.stack}/{report.mode}"


def _sarif(runs: List[Dict[str, Any]]) -> str:
    sarif = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": runs}
    return json.dumps(sarif, indent=2) + "\n"


def render_sarif(report: Report) -> str:
    return _sarif([_sarif_run(report, _automation_id(report))])




def _sarif_location(report: Report, source: Any, urn: str) -> Dict[str, Any]:
    location: Dict[str, Any] = {}
    if isinstance(source, dict) and source.get("file"):
        path = os.path.relpath(os.path.join(report.program, source["file"]))
        location["physicalLocation"] = {"artifactLocation": {"uri": path.replace(os.sep, "/")},
                                        "region": {"startLine": int(source.get("line") or 1)}}
    if urn:
        location["logicalLocations"] = [{"fullyQualifiedName": urn, "kind": "resource"}]
    return location


def render_junit(report: Report) -> str:
    """One test case per (policy, resource) evaluated with a violation, plus one per policy that
    passed everywhere and one per program finding; mandatory and error = failure."""
    suites = ET.Element("testsuites")
    suites.append(_junit_suite(report))
    return _xml(suites)


def _xml(root: ET.Element) -> str:
    """The document, every attribute and text made XML 1.0 characters first: ElementTree writes a
    control character as it is, and one ESC in a resource name would make the file unparseable."""
    for element in root.iter():
        element.text = visible_controls(element.text) if element.text else element.text
        element.tail = visible_controls(element.tail) if element.tail else element.tail
        for name, value in element.attrib.items():
            element.set(name, visible_controls(value))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _junit_suite(report: Report) -> ET.Element:
    suite = ET.Element("testsuite", name=f"payments-guard {report.project}/{report.stack} ({report.mode})")
    failures = 0
    violated = set()
    for v in report.violations:
        violated.add(v["policyName"])
        case = ET.SubElement(suite, "testcase", classname=v["policyName"],
                             name=f"{v['resourceType']}::{v['resourceName']}" if v["resourceName"] else "stack")
        if v["enforcementLevel"] == "mandatory" and not v.get("baselined"):
            failures += 1
            failure = ET.SubElement(case, "failure", message=v["message"].splitlines()[0][:500], type="mandatory")
            failure.text = v["message"]
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"[{v['enforcementLevel']}] {v['message']}"
    for policy in report.policies:
        if policy["name"] not in violated:
            ET.SubElement(suite, "testcase", classname=policy["name"], name="all resources")
    errors = 0
    for f in report.program_findings:
        case = ET.SubElement(suite, "testcase", classname="program", name=f["id"])
        if f["level"] in ("error", "mandatory"):
            tag = "error" if f["level"] == "error" else "failure"
            errors += tag == "error"
            failures += tag == "failure"
            node = ET.SubElement(case, tag, message=f["message"][:500], type=f["id"])
            node.text = f["message"] + (f"\n{f['traceback']}" if f.get("traceback") else "")
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("time", f"{report.duration_seconds:.3f}")
    return suite


def gh_escape(text: str) -> str:
    """A workflow command's message: controls made visible, then GitHub's own %-escapes."""
    return visible_controls(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_property(text: str) -> str:
    """A workflow command's property value (title, file): as a message, and `:` and `,` too."""
    return gh_escape(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """GitHub Actions workflow commands: ::error/::warning with file and line where known."""
    lines = []
    for v in report.violations:
        kind = "error" if v["enforcementLevel"] == "mandatory" and not v.get("baselined") else "warning"
        props = [f"title={gh_property(v['policyName'] + ' (' + v['enforcementLevel'] + ')')}"]
        source = v.get("source")
        if isinstance(source, dict) and source.get("file"):
            path = os.path.relpath(os.path.join(report.program, source["file"]))
            props = [f"file={gh_property(path)}", f"line={int(source.get('line') or 1)}"] + props
        lines.append(f"::{kind} {','.join(props)}::{gh_escape(v['resourceType'] + ' ' + v['resourceName'] + ': ' + v['message'])}")
    for f in report.program_findings:
        kind = {"error": "error", "mandatory": "error"}.get(f["level"], "warning")
        lines.append(f"::{kind} title={gh_property(f['id'])}::{gh_escape(f['message'])}")
    counts = report.counts()
    lines.append(f"payments-guard: {report.resources} resources, {counts['mandatory']} mandatory, "
                 f"{counts['advisory']} advisory, {len(report.program_findings)} program finding(s) "
                 f"[{report.mode} mode]")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "junit": render_junit,
             "github": render_github, "html": lambda report: render_html([to_json_dict(report)])}


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)


# --- several inputs: one report --------------------------------------------------------------
def batch_json_dict(batch: Batch) -> Dict[str, Any]:
    return {"schemaVersion": BATCH_SCHEMA_VERSION, "stacks": [to_json_dict(r) for r in batch.reports],
            "errors": batch.errors, "totals": batch.totals(),
            "durationSeconds": round(batch.duration_seconds, 3)}


def _batch_json(batch: Batch) -> str:
    return json.dumps(batch_json_dict(batch), indent=2) + "\n"


def _batch_text(batch: Batch) -> str:
    parts = [render_text(r) for r in batch.reports]
    lines = []
    if batch.errors:
        lines.append("Inputs that could not be evaluated:")
        lines.extend(f"  - {e['error']}" for e in batch.errors)
        lines.append("")
    t = batch.totals()
    lines.append(f"{t['stacks']} stack(s) of {t['inputs']} input(s): {t['resources']} resources, "
                 f"{t['mandatory']} mandatory, {t['advisory']} advisory, {t['baselined']} baselined, "
                 f"{t['errors']} input(s) not evaluated — exit {t['exitCode']}")
    return visible_controls("\n".join(parts + ["\n".join(lines)])) + "\n"


def _batch_sarif(batch: Batch) -> str:
    """One run per stack, each with its own automationDetails.id (a repeated project/stack/mode
    gets its input's position); the inputs that could not be evaluated are a run's failed
    invocations."""
    runs, seen = [], set()
    for position, report in enumerate(batch.reports, 1):
        automation_id = _automation_id(report)
        if automation_id in seen:
            automation_id = f"{automation_id}/{position}"
        seen.add(automation_id)
        runs.append(_sarif_run(report, automation_id))
    if batch.errors:
        runs.append({"tool": {"driver": _tool_driver()},
                     "automationDetails": {"id": "payments-guard/inputs-not-evaluated"},
                     "invocations": [{"executionSuccessful": False, "toolExecutionNotifications": [
                         {"level": "error", "message": {"text": _sarif_text(e["error"])},
                          "locations": [{"physicalLocation": {"artifactLocation": {"uri": e["input"]}}}]}
                         for e in batch.errors]}],
                     "results": []})
    return _sarif(runs)


def _batch_junit(batch: Batch) -> str:
    suites = ET.Element("testsuites")
    for report in batch.reports:
        suites.append(_junit_suite(report))
    if batch.errors:
        suite = ET.SubElement(suites, "testsuite", name="payments-guard inputs not evaluated",
                              tests=str(len(batch.errors)), failures="0", errors=str(len(batch.errors)))
        for e in batch.errors:
            case = ET.SubElement(suite, "testcase", classname="input", name=e["input"])
            node = ET.SubElement(case, "error", message=e["error"][:500], type="input")
            node.text = e["error"]
    return _xml(suites)


def _batch_github(batch: Batch) -> str:
    parts = [render_github(r) for r in batch.reports]
    parts += [f"::error title={gh_property('input not evaluated')}::{gh_escape(e['error'])}\n" for e in batch.errors]
    t = batch.totals()
    parts.append(f"payments-guard: {t['stacks']} stack(s), {t['mandatory']} mandatory, {t['advisory']} advisory, "
                 f"{t['errors']} input(s) not evaluated\n")
    return "".join(parts)


BATCH_RENDERERS = {"text": _batch_text, "json": _batch_json, "sarif": _batch_sarif, "junit": _batch_junit,
                   "github": _batch_github,
                   "html": lambda batch: render_html([to_json_dict(r) for r in batch.reports], batch.errors)}


def render_batch(batch: Batch, fmt: str) -> str:
    return BATCH_RENDERERS[fmt](batch)


# --- a report rendered again from its JSON form ------------------------------------------------
class ReportFormatError(ValueError):
    """The document is not a payments-guard JSON report this release can render."""


def report_from_json_dict(data: Mapping) -> Report:
    """The `Report` a schemaVersion 1 document (`to_json_dict`) was made from, as far as any format
    shows it: rendering it again gives what the check itself would have rendered."""
    if not isinstance(data, Mapping) or data.get("schemaVersion") != SCHEMA_VERSION:
        raise ReportFormatError(f"not a one-stack report (schemaVersion {SCHEMA_VERSION})")
    try:
        return Report(pack=dict(data["pack"]), project=data["project"], stack=data["stack"], mode=data["mode"],
                      program=data["program"], resources=data["resources"], policies=list(data["policies"]),
                      violations=[dict(v) for v in data["violations"]],
                      program_findings=[dict(f) for f in data["programFindings"]],
                      remediations=list(data.get("remediations", [])), warnings=list(data.get("warnings", [])),
                      not_applicable=list(data.get("notApplicable", [])),
                      duration_seconds=float(data.get("durationSeconds", 0.0)),
                      interpreter=data.get("interpreter"), allow_unseen=list(data.get("allowUnseen") or []))
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportFormatError(f"a one-stack report without a valid {exc}") from None


def batch_from_json_dict(data: Mapping) -> Batch:
    """The `Batch` a schemaVersion 2 document (`batch_json_dict`) was made from."""
    if not isinstance(data, Mapping) or data.get("schemaVersion") != BATCH_SCHEMA_VERSION:
        raise ReportFormatError(f"not a several-input report (schemaVersion {BATCH_SCHEMA_VERSION})")
    try:
        reports = [report_from_json_dict(stack) for stack in data["stacks"]]
        errors = [{"input": str(e["input"]), "error": str(e["error"])} for e in data["errors"]]
    except (KeyError, TypeError) as exc:
        raise ReportFormatError(f"a several-input report without a valid {exc}") from None
    # each input became a stack or an error; the formats show only how many inputs there were
    return Batch(inputs=[r.program for r in reports] + [e["input"] for e in errors], reports=reports,
                 errors=errors, duration_seconds=float(data.get("durationSeconds", 0.0)))


def load_report(path: str) -> Union[Report, Batch]:
    """A JSON report file (`--format json`) as the Report or Batch it was rendered from."""
    data = read_json_file(path, ReportFormatError, path)
    try:
        if isinstance(data, Mapping) and data.get("schemaVersion") == BATCH_SCHEMA_VERSION:
            return batch_from_json_dict(data)
        return report_from_json_dict(data)
    except ReportFormatError as exc:
        raise ReportFormatError(f"{path}: {exc}") from None


def render_any(result: Union[Report, Batch], fmt: str) -> str:
    return render_batch(result, fmt) if isinstance(result, Batch) else render(result, fmt)
