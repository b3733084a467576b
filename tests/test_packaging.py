"""The pack as the CLI runs and publishes it: entry point, manifest, start-up path, staged package."""
import os
import re
import subprocess
import sys

import pytest
import yaml

from offline_helpers import ROOT
from policypack import PACK_NAME, __version__
from policypack.offline.client import PackProcess
from policypack.rules import ALL_RULES, CATALOGUE

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import package_pack  # noqa: E402


def test_manifest():
    manifest = yaml.safe_load(open(os.path.join(ROOT, "PulumiPolicy.yaml")))
    assert manifest["runtime"]["name"] == "python"
    assert manifest["runtime"]["options"]["virtualenv"] == "venv"
    assert manifest["version"] == __version__
    assert re.fullmatch(r"[a-zA-Z0-9-_.]{1,100}", PACK_NAME)


def test_runtime_requirements_are_only_what_evaluation_needs():
    lines = [l.split("#")[0].strip() for l in open(os.path.join(ROOT, "requirements.txt"))]
    names = {re.split(r"[<>=!~ ]", l)[0].lower() for l in lines if l}
    assert names == {"pulumi", "pulumi-policy"}


@pytest.mark.slow
def test_start_up_path_is_light():
    code = ("import sys, runpy; sys.argv=['x']; import policypack.pack as p; p.build_pack(); "
            "print(sorted(m for m in ('pulumi_aws', 'jsonschema', 'hypothesis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_catalogue_policy_is_served():
    assert [r.name for r in ALL_RULES] == list(CATALOGUE)
    docs = "https://docs.example.test/payments-guard/rules.md"  # the declared place's override
    with PackProcess(ROOT, dict(os.environ, PAYMENTS_GUARD_DOCS_URL=docs), timeout=30, python=sys.executable) as pack:
        info = pack.analyzer_info()
    assert info.name == PACK_NAME
    assert [p.name for p in info.policies] == list(CATALOGUE)
    for policy in info.policies:
        assert policy.description and policy.remediation_steps
        assert policy.url == f"{docs}#{policy.name}"
        assert policy.severity != 0


@pytest.mark.slow
def test_staged_package_is_clean_and_starts(tmp_path):
    staged = package_pack.stage(str(tmp_path / "pack"))
    files = []
    for base, dirs, names in os.walk(staged):
        files += [os.path.relpath(os.path.join(base, n), staged) for n in names]
    assert "__main__.py" in files and "PulumiPolicy.yaml" in files and "requirements.txt" in files
    forbidden = [f for f in files if f.split(os.sep)[0] in ("tests", "examples", "benchmarks", "venv", ".venv")
                 or "offline" in f.split(os.sep) or f.endswith(".pyc")]
    assert forbidden == []
    with PackProcess(staged, dict(os.environ), timeout=30, python=sys.executable) as pack:
        assert len(pack.analyzer_info().policies) == len(CATALOGUE)
