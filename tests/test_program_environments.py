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


def _tree(tmp_path, *files):
    """tmp_path/fs stands for the filesystem root (pick's ceiling): files written above it are
    what a lock file in a parent of pytest's tmp dir would be, and the host would see those."""
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (tmp_path / "fs" / "repo" / ".git").mkdir(parents=True, exist_ok=True)
    program = tmp_path / "fs" / "repo" / "infra"
    program.mkdir(exist_ok=True)
    return str(program), str(tmp_path / "fs")


def _venv(directory):
    os.makedirs(os.path.join(directory, "bin"), exist_ok=True)
    open(os.path.join(directory, "bin", "python"), "w").close()


def test_uv_and_poetry_environments_and_their_commands(tmp_path):
    program, ceiling = _tree(tmp_path)
    with pytest.raises(I.EnvironmentMissing) as missing:
        I.pick(program, program, _project(toolchain="uv"), environ={}, ceiling=ceiling)
    assert missing.value.command == "uv sync"
    with pytest.raises(I.EnvironmentMissing) as missing:
        I.pick(program, program, _project(toolchain="poetry"), environ={}, which=lambda name: None, ceiling=ceiling)
    assert missing.value.command == "poetry install"


def test_a_lock_file_anywhere_above_the_program_picks_its_toolchain(tmp_path):
    """toolchain.go ResolveToolchain (Auto): uv.lock, then poetry.lock, searched up from the program
    directory past the project and the repository root, up to the filesystem root."""
    program, ceiling = _tree(tmp_path, "fs/poetry.lock")
    with pytest.raises(I.EnvironmentMissing) as missing:
        I.pick(program, program, _project(virtualenv="venv"), environ={}, which=lambda name: None, ceiling=ceiling)
    assert missing.value.command == "poetry install" and "poetry.lock" in str(missing.value)
    (tmp_path / "fs" / "repo" / "uv.lock").write_text("")  # uv.lock wins over poetry.lock, wherever each is
    _venv(os.path.join(program, "venv"))
    picked = I.pick(program, program, _project(virtualenv="venv"), environ={}, ceiling=ceiling)
    assert (picked.source, picked.virtualenv) == ("uv", os.path.join(program, "venv"))  # uv keeps the option


def test_a_lock_file_above_the_ceiling_is_not_seen(tmp_path):
    """What makes these tests hermetic: above the ceiling (as above the filesystem root) nothing counts."""
    program, ceiling = _tree(tmp_path, "poetry.lock", "uv.lock")
    picked = I.pick(program, program, _project(), environ={}, which={"python3": "/usr/bin/python3"}.get,
                    probe=lambda path: True, ceiling=ceiling)
    assert picked.source == "python3"
    assert I.searchup(program, "poetry.lock", ceiling) is None
    assert I.searchup(program, "poetry.lock") == str(tmp_path)  # without a ceiling: the host's climb


def test_the_search_climbs_to_the_filesystem_root():
    here = os.path.abspath(os.path.dirname(__file__))
    top = here.split(os.sep)[1]  # an entry of the filesystem root, by construction
    assert I.searchup(here, top) == os.path.abspath(os.sep)


def test_an_explicit_toolchain_ignores_lock_files(tmp_path):
    program, ceiling = _tree(tmp_path, "fs/repo/uv.lock", "fs/repo/poetry.lock")
    _venv(os.path.join(program, "venv"))
    picked = I.pick(program, program, _project(toolchain="pip", virtualenv="venv"), environ={})
    assert (picked.source, picked.virtualenv) == ("virtualenv", os.path.join(program, "venv"))
    picked = I.pick(program, program, _project(toolchain="pip"), environ={}, which={"python3": "/usr/bin/python3"}.get,
                    probe=lambda path: True)
    assert picked.source == "python3" and "toolchain: pip" in picked.reason


def test_uvs_environment_is_found_from_the_program_directory(tmp_path):
    """uv.go newUv: .venv next to the nearest uv.lock, else pyproject.toml, searching up from the
    program directory (main: infra/), not from the project root; else in the program directory."""
    program, ceiling = _tree(tmp_path, "fs/repo/uv.lock", "fs/repo/infra/pyproject.toml")
    root = os.path.dirname(program)
    _venv(os.path.join(root, ".venv"))
    picked = I.pick(root, program, _project(), environ={}, ceiling=ceiling)
    assert picked.source == "uv" and picked.virtualenv == os.path.join(root, ".venv")  # nearest uv.lock
    env = picked.environ({"PATH": "/usr/bin", "PYTHONHOME": "/x"})
    assert env["PATH"].startswith(os.path.join(root, ".venv", "bin")) and "PYTHONHOME" not in env
    os.remove(os.path.join(root, "uv.lock"))
    _venv(os.path.join(program, ".venv"))
    picked = I.pick(root, program, _project(toolchain="uv"), environ={}, ceiling=ceiling)
    assert picked.virtualenv == os.path.join(program, ".venv")  # next to the program's pyproject.toml
    picked = I.pick(root, program, _project(toolchain="uv"), environ={"UV_PROJECT_ENVIRONMENT": ".venv"},
                    ceiling=ceiling)
    assert picked.virtualenv == os.path.join(program, ".venv")


def test_pulumi_python_cmd_then_python3_with_pulumi_then_the_checks_own(tmp_path):
    program, ceiling = _tree(tmp_path, "poetry.lock")
    which = {"mypython": "/opt/bin/mypython", "python3": "/usr/bin/python3"}.get
    picked = I.pick(program, program, _project(), environ={"PULUMI_PYTHON_CMD": "mypython"}, which=which,
                    ceiling=ceiling)
    assert (picked.source, picked.executable) == ("PULUMI_PYTHON_CMD", "/opt/bin/mypython")
    picked = I.pick(program, program, _project(), environ={}, which=which, probe=lambda path: True, ceiling=ceiling)
    assert (picked.source, picked.executable) == ("python3", "/usr/bin/python3")
    picked = I.pick(program, program, _project(), environ={}, which=which, probe=lambda path: False, ceiling=ceiling)
    assert (picked.source, picked.executable) == ("check", sys.executable)
    assert picked.instead_of.executable == "/usr/bin/python3"  # what the check probes alongside the runner


def test_unsupported_reasons():
    assert I.unsupported_reason((3, 11, 7), "3.272.0") is None
    assert "Python 3.8.10" in I.unsupported_reason((3, 8, 10), "3.272.0")
    assert "no `pulumi`" in I.unsupported_reason((3, 11, 0), None)
    assert "3.120.1" in I.unsupported_reason((3, 11, 0), "3.120.1")
    assert I.unsupported_reason((3, 11, 0), "3.121.0rc1") is None


def _slow_python3(tmp_path, monkeypatch, has_pulumi: bool):
    """A `python3` first on PATH: the check's interpreter under another name, whose probe answers
    late (and, without pulumi, no)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "python3"
    probe = "sleep 1.5; " + ("" if has_pulumi else "exit 1")
    wrapper.write_text(f'#!/bin/sh\ncase "$1" in -c) {probe};; esac\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("PULUMI_PYTHON_CMD", raising=False)
    return wrapper


def _side_effect_program(tmp_path):
    program = tmp_path / "side-effect"
    program.mkdir()
    # toolchain: pip, so that no lock file above tmp_path can choose another toolchain
    (program / "Pulumi.yaml").write_text("name: side-effect\nruntime:\n  name: python\n  options:\n"
                                         "    toolchain: pip\n")
    (program / "__main__.py").write_text("with open('runs.txt', 'a') as runs:\n    runs.write('ran\\n')\n"
                                         "import pulumi\npulumi.export('ran', True)\n")
    return program


@pytest.mark.parametrize("python3_has_pulumi", [True, False])
def test_the_program_runs_once_under_the_interpreter_the_probe_settles_on(tmp_path, monkeypatch, python3_has_pulumi):
    """The runner starts under the check's interpreter while a slow `python3` is probed, and waits
    at a gate before the program: the program runs once, under python3 only if it has pulumi."""
    wrapper = _slow_python3(tmp_path, monkeypatch, python3_has_pulumi)
    program = _side_effect_program(tmp_path)
    options = CheckOptions(program=str(program))
    result = run_program(options, load_project(str(program)), {}, [], "us-east-1", time.monotonic() + 120)
    assert result["error"] is None, result["error"]
    assert (program / "runs.txt").read_text() == "ran\n"
    if python3_has_pulumi:
        assert (result["interpreter"]["source"], result["interpreter"]["executable"]) == ("python3", str(wrapper))
    else:
        assert (result["interpreter"]["source"], result["interpreter"]["executable"]) == ("check", sys.executable)


def test_closing_a_run_before_the_probe_answers_stops_probe_settler_and_runner(tmp_path, monkeypatch):
    from policypack.offline.check import ProgramRun
    _slow_python3(tmp_path, monkeypatch, has_pulumi=False)
    program = _side_effect_program(tmp_path)
    run = ProgramRun(CheckOptions(program=str(program)), load_project(str(program)), {}, [], "us-east-1")
    gated = run.process
    run.close()  # e.g. the pack failed to start
    assert gated.returncode is not None and run.probe.returncode is not None and not run.settler.is_alive()
    assert not (program / "runs.txt").exists()


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
