"""The program runs under its own environment, as the Python language host picks it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from importlib import metadata

import pytest

from offline_helpers import HERE
from program_helpers import check_and_record, resource
from policypack.offline import interpreter as I
from policypack.offline.check import CheckOptions, load_project, run_program

PACKAGES = os.path.join(HERE, "fixtures", "packages")
PROGRAMS = os.path.join(HERE, "fixtures", "programs")


def _requirement_closure(name: str) -> set:
    """`name` and what it requires (no extras), as installed in the check's environment."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        key = current.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(current) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" in requirement:
                continue
            todo.append(requirement.split(";")[0].split("[")[0].split("(")[0].strip().split(" ")[0]
                        .split("<")[0].split(">")[0].split("=")[0].split("!")[0].split("~")[0])
    return seen


def make_venv(directory: str, distributions=("pulumi",), extra_packages=()) -> str:
    """A virtualenv that sees none of the check's packages: made without pip (offline, fast), with
    only `distributions` and what they require linked in from the check's environment, and
    `extra_packages` (fixture packages written here) copied into it. Returns its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", directory], check=True)
    site = subprocess.run([os.path.join(directory, "bin", "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    wanted = set()
    for name in distributions:
        wanted |= _requirement_closure(name)
    for dist in metadata.distributions():
        if dist.metadata["Name"].lower().replace("_", "-") not in wanted:
            continue
        tops = {str(f).split("/")[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops:
            source, target = os.path.join(ours, top), os.path.join(site, top)
            if os.path.exists(source) and not os.path.exists(target):
                os.symlink(source, target)
    for package in extra_packages:
        shutil.copytree(os.path.join(PACKAGES, package), os.path.join(site, package))
    return site


@pytest.fixture(scope="module")
def own_venv(tmp_path_factory):
    """The own-venv program, copied with its own virtualenv (pulumi + pulumi_acmewidgets only)."""
    root = tmp_path_factory.mktemp("own-venv")
    program = str(root / "own-venv")
    shutil.copytree(os.path.join(PROGRAMS, "own-venv"), program)
    make_venv(os.path.join(program, "venv"), extra_packages=["pulumi_acmewidgets"])
    return (program,) + check_and_record(program)


def test_the_program_runs_under_the_virtualenv_its_project_names(own_venv):
    program, code, report, _result = own_venv
    assert code == 0, report["programFindings"]
    assert report["interpreter"]["source"] == "virtualenv"
    assert report["interpreter"]["virtualenv"] == os.path.join(program, "venv")
    assert report["interpreter"]["executable"] == os.path.join(program, "venv", "bin", "python")


def test_a_provider_only_the_program_has_gets_plausible_outputs(own_venv):
    _program, _code, report, result = own_venv
    # the check's environment lacks the package; the program found it in its own
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("pulumi_acmewidgets")
    assert report["resources"] == 2  # the widget and its default provider
    stack = next(r for r in result["resources"] if r["type"] == "pulumi:pulumi:Stack")
    assert stack["outputs"]["url"].startswith("https://")
    assert stack["outputs"]["nextPort"] > 1  # port + 1: the apply ran on a number (wire numbers are floats)


def test_nothing_of_the_check_environment_reaches_the_program(own_venv):
    _program, _code, _report, result = own_venv
    stack = next(r for r in result["resources"] if r["type"] == "pulumi:pulumi:Stack")
    assert stack["outputs"]["checkPackagesSeen"] == []
    widget = resource(result, "ledger", "acmewidgets:index/widget:Widget")
    assert widget["inputs"] == {"size": 3}
    assert widget["provider"].startswith("urn:pulumi:dev::own-venv::pulumi:providers:acmewidgets::default")


def test_missing_virtualenv_is_an_error_naming_the_command_that_creates_it(tmp_path):
    program = str(tmp_path / "own-venv")
    shutil.copytree(os.path.join(PROGRAMS, "own-venv"), program)
    options = CheckOptions(program=program)
    project = load_project(program)
    result = run_program(options, project, {}, [], "us-east-1", time.monotonic() + 30)
    error = result["error"]
    assert error["id"] == "program-environment-missing" and error["level"] == "error"
    assert error["command"] == "python3 -m venv venv && venv/bin/pip install -r requirements.txt"


def test_an_environment_below_the_minimum_is_reported_unsupported(tmp_path):
    program = str(tmp_path / "old")
    shutil.copytree(os.path.join(PROGRAMS, "own-venv"), program)
    site = make_venv(os.path.join(program, "venv"), distributions=())
    # only the metadata of an old pulumi: the runner must refuse before importing it
    info = os.path.join(site, "pulumi-3.100.0.dist-info")
    os.mkdir(info)
    with open(os.path.join(info, "METADATA"), "w") as handle:
        handle.write("Metadata-Version: 2.1\nName: pulumi\nVersion: 3.100.0\n")
    options = CheckOptions(program=program)
    result = run_program(options, load_project(program), {}, [], "us-east-1", time.monotonic() + 60)
    assert result["error"]["id"] == "program-environment-unsupported"
    assert "3.100.0" in result["error"]["message"] and "3.121.0" in result["error"]["message"]


# --- picking the interpreter (no program run) ---------------------------------------------
def _project(**options):
    return {"name": "p", "runtime": {"name": "python", "options": options} if options else "python"}


def test_python_flag_overrides_everything(tmp_path):
    picked = I.pick(str(tmp_path), str(tmp_path), _project(virtualenv="venv"), override=sys.executable)
    assert picked.source == "--python" and picked.executable == os.path.abspath(sys.executable)


def test_uv_and_poetry_environments_and_their_commands(tmp_path):
    with pytest.raises(I.EnvironmentMissing) as missing:
        I.pick(str(tmp_path), str(tmp_path), _project(toolchain="uv"), environ={})
    assert missing.value.command == "uv sync"
    with pytest.raises(I.EnvironmentMissing) as missing:
        I.pick(str(tmp_path), str(tmp_path), _project(toolchain="poetry"), environ={}, which=lambda name: None)
    assert missing.value.command == "poetry install"
    # uv's environment: .venv next to the nearest uv.lock, found as the language host finds it
    (tmp_path / "uv.lock").write_text("")
    nested = tmp_path / "infra"
    nested.mkdir()
    os.makedirs(tmp_path / ".venv" / "bin")
    (tmp_path / ".venv" / "bin" / "python").write_text("")
    picked = I.pick(str(nested), str(nested), _project(), environ={})
    assert picked.source == "uv" and picked.virtualenv == str(tmp_path / ".venv")
    env = picked.environ({"PATH": "/usr/bin", "PYTHONHOME": "/x"})
    assert env["PATH"].startswith(str(tmp_path / ".venv" / "bin")) and "PYTHONHOME" not in env


def test_pulumi_python_cmd_then_python3_with_pulumi_then_the_checks_own(tmp_path):
    which = {"mypython": "/opt/bin/mypython", "python3": "/usr/bin/python3"}.get
    picked = I.pick(str(tmp_path), str(tmp_path), _project(), environ={"PULUMI_PYTHON_CMD": "mypython"}, which=which)
    assert (picked.source, picked.executable) == ("PULUMI_PYTHON_CMD", "/opt/bin/mypython")
    picked = I.pick(str(tmp_path), str(tmp_path), _project(), environ={}, which=which, probe=lambda path: True)
    assert (picked.source, picked.executable) == ("python3", "/usr/bin/python3")
    picked = I.pick(str(tmp_path), str(tmp_path), _project(), environ={}, which=which, probe=lambda path: False)
    assert (picked.source, picked.executable) == ("check", sys.executable)


def test_unsupported_reasons():
    assert I.unsupported_reason((3, 11, 7), "3.272.0") is None
    assert "Python 3.8.10" in I.unsupported_reason((3, 8, 10), "3.272.0")
    assert "no `pulumi`" in I.unsupported_reason((3, 11, 0), None)
    assert "3.120.1" in I.unsupported_reason((3, 11, 0), "3.120.1")
    assert I.unsupported_reason((3, 11, 0), "3.121.0rc1") is None


def test_python3_on_path_with_pulumi_takes_over_from_the_checks_own(tmp_path, monkeypatch):
    """The program starts under the check's interpreter while `python3` is probed; a python3 that
    has pulumi then runs it, as the language host would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "python3"  # a python3 that has pulumi: the check's, under another name
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("PULUMI_PYTHON_CMD", raising=False)
    program = os.path.join(PROGRAMS, "config-missing")
    options = CheckOptions(program=program)
    result = run_program(options, load_project(program), {}, [], "us-east-1", time.monotonic() + 120)
    assert result["interpreter"]["source"] == "python3"
    assert result["interpreter"]["executable"] == str(bin_dir / "python3")
    assert result["error"]["id"] == "program-config-missing"  # the program itself ran, under python3


def test_main_names_the_program_directory_or_file(tmp_path):
    from policypack.offline.check import CheckError, program_entry
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "stack.py").write_text("")
    assert program_entry(str(tmp_path), {"name": "p"}) == (str(tmp_path), None)
    assert program_entry(str(tmp_path), {"name": "p", "main": "infra/"}) == (str(tmp_path / "infra"), None)
    assert program_entry(str(tmp_path), {"name": "p", "main": "infra/stack.py"}) == \
        (str(tmp_path / "infra"), str(tmp_path / "infra" / "stack.py"))
    with pytest.raises(CheckError):
        program_entry(str(tmp_path), {"name": "p", "main": "missing/"})
