"""The machine-read formats (SARIF, JUnit XML, GitHub annotations) carry whatever a program or a
state put in a name or message as data: no embedded SARIF link, no XML that will not parse, no
workflow command or terminal control smuggled into an annotation. Reports built in-process: no
program runs here."""
import json
import os
import re
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest

from distribution_helpers import sarif_schema_errors
from offline_helpers import ROOT
from policypack.offline.pipeline import Batch, Report
from policypack.offline.reports import (FORMATS, batch_from_json_dict, render, render_batch,
                                        report_from_json_dict)

LINK = "evil[link](https://evil.example)"
IMG = "<img src=x onerror=alert(1)>"
#: ESC and BEL (a terminal obeys them), characters XML 1.0 forbids, a newline, a backslash
CONTROLS = "a\x1b[31mred\x07b\x00c\ufffe\ud800d\ne\\f"
HOSTILE_NAME = f"{LINK}{IMG}{CONTROLS}"


def _violation(level, name, message, baselined=False):
    return {"policyName": "ecs-service-no-public-ip", "enforcementLevel": level, "severity": "high",
            "urn": f"urn:pulumi:dev::payments::aws:ecs/service:Service::{name}",
            "resourceType": "aws:ecs/service:Service", "resourceName": name, "message": message,
            "property": "networkConfiguration.assignPublicIp", "fingerprint": "f" * 16, "baselined": baselined,
            "source": {"file": "__main__.py", "line": 3}}


def hostile_report(stack="dev"):
    message = f"service {HOSTILE_NAME} has a public IP\n[property: networkConfiguration.assignPublicIp]"
    return Report(
        pack={"name": "payments-guard", "version": "0.1.0"}, project="payments", stack=stack, mode="update",
        program="/src/payments", resources=2,
        policies=[{"name": "ecs-service-no-public-ip", "description": "no public IP", "enforcementLevel": "mandatory",
                   "severity": "high", "url": "", "kind": "resource"}],
        violations=[_violation("mandatory", HOSTILE_NAME, message),
                    _violation("advisory", HOSTILE_NAME, f"advisory {LINK}{CONTROLS}")],
        program_findings=[{"id": "program-error", "level": "error", "message": f"program failed: {CONTROLS}{LINK}",
                           "traceback": f"Traceback\n  File \"{HOSTILE_NAME}\"\nValueError: {CONTROLS}"}])


def hostile_batch():
    return Batch(inputs=["a", "b"], reports=[hostile_report()],
                 errors=[{"input": f"exports/{HOSTILE_NAME}.json", "error": f"not JSON: {LINK}{CONTROLS}"}])


def _unescape_sarif(text):
    return re.sub(r"\\(.)", r"\1", text)


def _sarif_messages(document):
    for run in document["runs"]:
        for result in run["results"]:
            yield result["message"]["text"]
        for invocation in run.get("invocations", []):
            for notification in invocation["toolExecutionNotifications"]:
                yield notification["message"]["text"]


@pytest.mark.parametrize("several", [False, True])
def test_sarif_message_text_has_no_embedded_link(several):
    document = json.loads(render_batch(hostile_batch(), "sarif") if several else render(hostile_report(), "sarif"))
    assert sarif_schema_errors(document) == []
    texts = list(_sarif_messages(document))
    assert len(texts) == (4 if several else 3)
    for text in texts:
        # every bracket and backslash is escaped: a SARIF viewer finds no [text](url) link in it
        assert not re.search(r"(?<!\\)(?:\\\\)*[\[\]]", text), text
    violation = document["runs"][0]["results"][0]["message"]["text"]
    assert _unescape_sarif(violation) == hostile_report().violations[0]["message"]  # the data, unchanged
    assert violation.endswith(r"\[property: networkConfiguration.assignPublicIp\]")


def _all_text(root):
    for element in root.iter():
        yield from (element.text or "", element.tail or "", *element.attrib.values())


@pytest.mark.parametrize("several", [False, True])
def test_junit_is_well_formed_xml_with_the_controls_visible(several):
    document = render_batch(hostile_batch(), "junit") if several else render(hostile_report(), "junit")
    root = ET.fromstring(document)  # not well-formed: ParseError
    texts = "".join(_all_text(root))
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]", texts)
    assert r"\x1b[31mred\x07b\x00c\ufffe\ud800d" in texts  # shown, not dropped
    cases = root.iter("testcase")
    names = [case.get("name") for case in cases]
    assert f"aws:ecs/service:Service::{LINK}{IMG}a\\x1b[31mred\\x07b\\x00c\\ufffe\\ud800d\ne\\f" in names
    error = next(root.iter("error"))
    assert "ValueError" in error.text  # the program's traceback is in the report, made safe


@pytest.mark.parametrize("several", [False, True])
def test_github_annotations_carry_no_control_character_or_extra_command(several):
    output = render_batch(hostile_batch(), "github") if several else render(hostile_report(), "github")
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", output)
    lines = output.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "payments-guard:")) for line in lines), lines
    annotations = [line for line in lines if line.startswith("::")]
    assert len(annotations) == (4 if several else 3)  # a newline in a name starts no command of its own
    assert r"a\x1b[31mred\x07b" in annotations[0] and "%0A" in annotations[0]


# --- one check, every format: a report renders again from its JSON form -----------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_report_renders_from_its_json_form_as_from_the_check(fmt):
    report = hostile_report()
    report.duration_seconds = 1.23456
    report.interpreter = {"executable": "/usr/bin/python3", "reason": "the project's virtualenv"}
    again = report_from_json_dict(json.loads(render(report, "json")))
    assert render(again, fmt) == render(report, fmt)
    batch = hostile_batch()
    assert render_batch(batch_from_json_dict(json.loads(render_batch(batch, "json"))), fmt) == render_batch(batch, fmt)


def test_render_command_renders_a_json_report_file_and_refuses_anything_else(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(render_batch(hostile_batch(), "json"))
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-m", "policypack", "render", str(path), "--format", "sarif"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_batch(hostile_batch(), "sarif")
    for bad in ("{}", "not json", json.dumps({"schemaVersion": "1", "stack": "dev"})):
        path.write_text(bad)
        done = subprocess.run([sys.executable, "-m", "policypack", "render", str(path), "--format", "github"],
                              capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 2 and done.stdout == "", bad
        assert len(done.stderr.strip().splitlines()) == 1 and str(path) in done.stderr, done.stderr


@pytest.mark.parametrize("several", [False, True])
def test_text_report_shows_control_characters_instead_of_sending_them_to_the_terminal(several):
    output = render_batch(hostile_batch(), "text") if several else render(hostile_report(), "text")
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", output)
    assert r"a\x1b[31mred\x07b" in output
