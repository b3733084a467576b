"""Done-when for an installed release: a fresh virtualenv with nothing but this release installed
from a built wheel (no pip, no checkout on the path) checks the sample stacks, and writes a pack
directory that starts, in a virtualenv of its requirements.txt alone, as a PCI DSS pack.

Slow (a wheel build and virtualenv installs): one session virtualenv. Dependencies install from a
local wheelhouse (~/.cache/payments-guard-tests/wheelhouse, or $PAYMENTS_GUARD_WHEELHOUSE), filled
from the package index on first use, by one pytest-xdist worker at a time: later runs need no network.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

from distribution_helpers import analyzer_info_of, clean_env, wheelhouse_install
from offline_helpers import ROOT
from policypack import PACK_NAME, __version__
from policypack.catalogue import presets
from policypack.offline.policy_config import build
from policypack.rules import ALL_RULES

pytestmark = pytest.mark.slow


def _run(argv, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 600)
    return subprocess.run(argv, **kwargs)


def _new_venv(path: str) -> str:
    done = _run([sys.executable, "-m", "venv", "--without-pip", path])
    assert done.returncode == 0, done.stderr
    return os.path.join(path, "bin", "python")


@pytest.fixture(scope="session")
def release(tmp_path_factory):
    work = tmp_path_factory.mktemp("release")
    source = work / "source"  # built from a copy: a build writes build/ and *.egg-info beside the sources
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(os.path.join(ROOT, name), source / name)
    shutil.copytree(os.path.join(ROOT, "policypack"), source / "policypack",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_release.json"))
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(source)],
                 env=clean_env())
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = glob.glob(str(work / "dist" / "payments_guard-*.whl"))
    python = _new_venv(str(work / "venv"))
    wheelhouse_install(python, wheel)
    programs = work / "programs"
    for name in ("payment-service", "payment-service-legacy"):
        shutil.copytree(os.path.join(ROOT, "examples", name), programs / name,
                        ignore=shutil.ignore_patterns("__pycache__", "venv"))
    guard = str(work / "venv" / "bin" / "payments-guard")
    without_extra = _run([guard, "check", str(programs / "payment-service")], cwd=str(work), env=clean_env())
    wheelhouse_install(python, f"{wheel}[check]")
    return SimpleNamespace(work=work, python=python, guard=guard, programs=programs, without_extra=without_extra)


def _guard(release, *args):
    return _run([release.guard, *args], cwd=str(release.work), env=clean_env())


def test_only_the_release_is_installed(release):
    done = _run([release.python, "-c", "import importlib.util as u, sys; "
                 "print(u.find_spec('pip') is None, u.find_spec('policypack').origin)"], cwd="/", env=clean_env())
    no_pip, origin = done.stdout.split()
    assert no_pip == "True" and origin.startswith(str(release.work / "venv"))


def test_without_the_check_extra_the_cause_names_it(release):
    done = release.without_extra
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "pulumi-aws" in line and "jsonschema" in line and "payments-guard[check]" in line


def test_installed_release_prints_its_versions_and_ships_its_presets(release):
    done = _guard(release, "--version")
    assert done.returncode == 0 and done.stdout.startswith(f"payments-guard {__version__} (pulumi-policy ")
    done = _guard(release, "presets")
    assert done.stdout.split() == sorted(name[:-5] for name in presets())


def test_installed_check_reports_on_the_sample_stacks(release):
    compliant, legacy = release.work / "compliant.json", release.work / "legacy.json"
    # both at once: each is mostly waiting on its program and its pack
    runs = [subprocess.Popen([release.guard, "check", str(release.programs / name), *extra, "--format", "json",
                              "--output", str(out), "--quiet"], cwd=str(release.work), env=clean_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, extra, out in (("payment-service", [], compliant),
                                     ("payment-service-legacy", ["--policy-config", "pci-dss"], legacy))]
    (_, compliant_err), (_, legacy_err) = [run.communicate(timeout=600) for run in runs]
    assert runs[0].returncode == 0, compliant_err
    report = json.loads(compliant.read_text())
    assert report["pack"] == {"name": PACK_NAME, "version": __version__}
    assert report["resources"] > 50 and len(report["policies"]) == len(ALL_RULES) and not report["violations"]
    assert runs[1].returncode == 1, legacy_err
    report = json.loads(legacy.read_text())
    assert any(v["enforcementLevel"] == "mandatory" for v in report["violations"])


def test_installed_release_writes_a_pci_pack_that_starts_as_the_cli_starts_it(release):
    target = release.work / "guard-pack"
    done = _guard(release, "pack", "./guard-pack", "--preset", "pci-dss")
    assert done.returncode == 0, done.stderr
    # what the CLI does with PulumiPolicy.yaml's `virtualenv: venv`: a virtualenv of requirements.txt alone
    pack_python = _new_venv(str(target / "venv"))
    wheelhouse_install(pack_python, "-r", str(target / "requirements.txt"))
    info = analyzer_info_of(str(target), pack_python)
    assert info.name == PACK_NAME and info.version == __version__
    assert [p.name for p in info.policies] == [r.name for r in ALL_RULES]
    effective = build(info, None)  # the CLI's merge when no --policy-pack-config is given
    pci = {r.name for r in ALL_RULES if any(fw.name == "PCI DSS" for fw in r.frameworks)}
    assert {name for name, cfg in effective.items() if cfg["enforcementLevel"] == "mandatory"} == pci
    assert json.loads((target / "policy-config.json").read_text()) == presets()["pci-dss.json"]
