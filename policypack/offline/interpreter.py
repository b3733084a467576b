"""Which Python runs the user's program: the one the Pulumi language host would use.

The Python language host (pulumi/pulumi, `sdk/python/cmd/pulumi-language-python/main.go`
`parseOptions`, `sdk/python/toolchain/toolchain.go` `ResolveToolchain`) reads the project's
`runtime.options` (`sdk/go/common/workspace/project.go` `ProjectRuntimeInfo`): `toolchain: pip`
runs `virtualenv` (relative to the project root) or, without it, `PULUMI_PYTHON_CMD`, else the first
of `python3`, `python` on PATH (`pip.go` `CommandPath`); `toolchain: poetry` runs the environment
`poetry env info --path` names in the program directory; `toolchain: uv` runs the `virtualenv`
option, else `UV_PROJECT_ENVIRONMENT`, else `.venv` next to the nearest `uv.lock`, else next to the
nearest `pyproject.toml`, searching up from the program directory (`uv.go` `newUv`). With no
`toolchain` (the host's `Auto`, since pulumi 3.227), a `uv.lock`, then a `poetry.lock`, found
searching up from the program directory to the filesystem root selects uv or poetry; else pip.

The check follows that order, with two differences: `--python FILE` overrides everything, and when
pip would run a bare `python3` that has no `pulumi`, the check's own interpreter runs the program
(a repository whose samples share the check's virtualenv).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

from .virtualenv import venv_python

# What the program's environment needs: Python 3.9 (the runner's own syntax) and pulumi 3.121
# (the first SDK with register_resource_transform; the runner drives transforms through the
# SDK's callback servicer, as the engine does).
MIN_PYTHON = (3, 9)
MIN_PULUMI = (3, 121, 0)

PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Interpreter:
    executable: str
    source: str                       # --python | virtualenv | poetry | uv | PULUMI_PYTHON_CMD | python3 | check
    reason: str                       # one sentence for the report
    virtualenv: Optional[str] = None  # activated as the language host activates it
    # source "check" only: the `python3` on PATH the host would run, found without pulumi by the
    # probe given to pick (the check probes it itself, alongside the runner's start)
    instead_of: Optional["Interpreter"] = None

    def as_dict(self) -> Dict[str, Any]:
        return {"executable": self.executable, "source": self.source, "reason": self.reason,
                "virtualenv": self.virtualenv}

    def environ(self, base: Mapping[str, str]) -> Dict[str, str]:
        """The environment the language host gives the program (toolchain.ActivateVirtualEnv)."""
        env = {k: v for k, v in base.items() if k not in ("PYTHONHOME", "VIRTUAL_ENV")}
        if self.virtualenv:
            bin_dir = os.path.join(self.virtualenv, "Scripts" if os.name == "nt" else "bin")
            env["PATH"] = bin_dir + (os.pathsep + env["PATH"] if env.get("PATH") else "")
            env["VIRTUAL_ENV"] = self.virtualenv
        return env


class EnvironmentMissing(Exception):
    """The environment the project names does not exist; `command` creates it."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
        self.command = command


def searchup(start: str, name: str, ceiling: Optional[str] = None) -> Optional[str]:
    """The nearest directory from `start` upwards that holds `name`, as the host's `searchup`
    (toolchain.go) finds it: it climbs to the filesystem root, not only to the project or
    repository root, so a lock file anywhere above a program decides its toolchain. `ceiling`
    stands in for the filesystem root (tests build their own tree under it)."""
    current = os.path.abspath(start)
    top = os.path.abspath(ceiling) if ceiling else None
    while True:
        if os.path.exists(os.path.join(current, name)):
            return current
        parent = os.path.dirname(current)
        if parent == current or current == top:
            return None
        current = parent


def runtime_options(project: Mapping[str, Any]) -> Dict[str, Any]:
    runtime = project.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    return dict(options) if isinstance(options, dict) else {}


_PROBE = "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('pulumi') else 1)"


def start_probe(executable: str, cwd: Optional[str] = None) -> subprocess.Popen:
    """Whether `executable` can import pulumi: exit status 0 (one interpreter start, no import).
    Run from the program directory, as the host runs the program: a pyenv shim picks its Python
    from the `.python-version` there."""
    return subprocess.Popen([executable, "-c", _PROBE], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def has_pulumi(executable: str, cwd: Optional[str] = None) -> bool:
    try:
        probe = start_probe(executable, cwd)
    except OSError:
        return False
    try:
        return probe.wait(PROBE_TIMEOUT) == 0
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.wait()
        return False


def pick(project_root: str, program_dir: str, project: Mapping[str, Any], override: Optional[str] = None,
         environ: Optional[Mapping[str, str]] = None, which: Callable[[str], Optional[str]] = shutil.which,
         probe: Optional[Callable[[str], bool]] = None, ceiling: Optional[str] = None) -> Interpreter:
    """The interpreter for the program, or EnvironmentMissing naming the command that creates it.
    `ceiling`: where searches up from the program stop (None: the filesystem root, as the host)."""
    environ = os.environ if environ is None else environ
    if override:
        path = override if os.sep in override else (which(override) or override)
        if not os.path.exists(path):
            raise EnvironmentMissing(f"--python {override}: no such interpreter", "")
        return Interpreter(os.path.abspath(path), "--python", f"--python {override} was given")
    options = runtime_options(project)
    virtualenv = options.get("virtualenv")
    if virtualenv is not None and not isinstance(virtualenv, str):
        raise EnvironmentMissing("Pulumi.yaml: runtime.options.virtualenv must be a string", "")
    toolchain = options.get("toolchain")
    if toolchain not in (None, "pip", "poetry", "uv"):
        raise EnvironmentMissing(f"Pulumi.yaml: unsupported toolchain option {toolchain!r} "
                                 "(the language host accepts pip, poetry, uv)", "")
    detected = ""
    if toolchain is None:
        # The host's Auto toolchain (toolchain.go ResolveToolchain): uv.lock anywhere above the
        # program first, then poetry.lock; the virtualenv option does not stop the search.
        if searchup(program_dir, "uv.lock", ceiling):
            detected = "uv"
        elif searchup(program_dir, "poetry.lock", ceiling):
            detected = "poetry"
    chosen = toolchain or detected
    if chosen == "uv":
        return _uv(project_root, program_dir, virtualenv, environ, detected, ceiling)
    if chosen == "poetry":
        return _poetry(program_dir, which, detected)
    if virtualenv:
        return _pip_virtualenv(project_root, virtualenv)
    command = environ.get("PULUMI_PYTHON_CMD")
    if command:
        path = which(command)
        if path is None:
            raise EnvironmentMissing(f"PULUMI_PYTHON_CMD is {command!r}, which is not on PATH", "")
        return Interpreter(path, "PULUMI_PYTHON_CMD", f"PULUMI_PYTHON_CMD={command}, as the language host uses it")
    # The host takes the first of python3, python (python first on Windows) on PATH (pip.go
    # CommandPath); the check takes it only when it has pulumi, else runs its own interpreter.
    names = ("python", "python3") if os.name == "nt" else ("python3", "python")
    name, path = next(((n, which(n)) for n in names if which(n)), ("", None))
    basis = "Pulumi.yaml toolchain: pip names no virtualenv" if toolchain else \
        "the project names no virtualenv or toolchain and no uv.lock or poetry.lock is above it"
    bare = path_interpreter(path, basis) if path else None
    if bare and (probe(path) if probe else has_pulumi(path, program_dir)):
        return bare
    return Interpreter(sys.executable, "check", f"{basis}, and no `python3` on PATH has pulumi: the check's own "
                                                "interpreter", instead_of=bare)


def path_interpreter(path: str, basis: str) -> Interpreter:
    """The `python3` (or `python`) on PATH, which has pulumi."""
    return Interpreter(path, "python3", f"`{os.path.basename(path)}` on PATH ({path}) has pulumi; {basis}")


def _pip_virtualenv(project_root: str, virtualenv: str) -> Interpreter:
    directory = virtualenv if os.path.isabs(virtualenv) else os.path.join(project_root, virtualenv)
    python = venv_python(directory)
    if not os.path.exists(python):
        pip = os.path.join(virtualenv, "bin", "pip")
        raise EnvironmentMissing(
            f"Pulumi.yaml names the virtualenv {virtualenv!r} ({directory}), which does not exist",
            f"python3 -m venv {virtualenv} && {pip} install -r requirements.txt")
    return Interpreter(python, "virtualenv", f"Pulumi.yaml runtime.options.virtualenv: {virtualenv}",
                       virtualenv=directory)


def _uv(project_root: str, program_dir: str, virtualenv: Optional[str], environ: Mapping[str, str], detected: str,
        ceiling: Optional[str]) -> Interpreter:
    why = "uv.lock found (the language host then uses uv)" if detected else "Pulumi.yaml toolchain: uv"
    if virtualenv:
        directory = virtualenv if os.path.isabs(virtualenv) else os.path.join(project_root, virtualenv)
    else:
        # uv.go newUv: next to the nearest uv.lock, else pyproject.toml, searching up from the
        # program directory (the host passes ProgramDir), else in the program directory.
        anchor = searchup(program_dir, "uv.lock", ceiling) or searchup(program_dir, "pyproject.toml", ceiling) \
            or program_dir
        configured = environ.get("UV_PROJECT_ENVIRONMENT")
        directory = (configured if os.path.isabs(configured) else os.path.join(anchor, configured)) if configured \
            else os.path.join(anchor, ".venv")
    python = venv_python(directory)
    if not os.path.exists(python):
        raise EnvironmentMissing(f"{why}: its environment {directory} does not exist", "uv sync")
    return Interpreter(python, "uv", f"{why}: {directory}", virtualenv=directory)


def _poetry(program_dir: str, which: Callable[[str], Optional[str]], detected: str) -> Interpreter:
    why = "poetry.lock found (the language host then uses poetry)" if detected else "Pulumi.yaml toolchain: poetry"
    poetry = which("poetry")
    if poetry is None:
        raise EnvironmentMissing(f"{why}, but `poetry` is not installed", "poetry install")
    try:
        found = subprocess.run([poetry, "env", "info", "--path"], cwd=program_dir, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=PROBE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentMissing(f"{why}: `poetry env info --path` failed ({exc})", "poetry install") from exc
    directory = found.stdout.strip()
    if found.returncode != 0 or not directory or not os.path.exists(venv_python(directory)):
        raise EnvironmentMissing(f"{why}: poetry has no environment for this project yet", "poetry install")
    return Interpreter(venv_python(directory), "poetry", f"{why}: `poetry env info --path` is {directory}",
                       virtualenv=directory)


def version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit()) if not piece.isdigit() else piece
        if not digits:
            break
        parts.append(int(digits))
        if not piece.isdigit():
            break
    return tuple(parts)


def unsupported_reason(python: tuple, pulumi_version: Optional[str]) -> Optional[str]:
    """Why an environment cannot run the program under the check, or None. Runs in the runner
    child, under the program's interpreter, before pulumi is imported."""
    need = (f"Python {'.'.join(map(str, MIN_PYTHON))}+ and pulumi {'.'.join(map(str, MIN_PULUMI))}+")
    if tuple(python[:2]) < MIN_PYTHON:
        return f"the program's interpreter is Python {'.'.join(map(str, python[:3]))}; the check needs {need}"
    if pulumi_version is None:
        return f"the program's environment has no `pulumi` package; the check needs {need}"
    if version_tuple(pulumi_version) < MIN_PULUMI:
        return f"the program's environment has pulumi {pulumi_version}; the check needs {need}"
    return None
