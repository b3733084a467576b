"""Shared helpers for the offline-check tests: run fixtures through the runner or the whole check."""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from typing import Any, Dict, Mapping, Optional

from policypack.offline.check import CheckOptions, load_project, run_program, stack_config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROGRAMS = os.path.join(HERE, "fixtures", "programs")
EXAMPLES = os.path.join(ROOT, "examples")


def program(name: str) -> str:
    path = os.path.join(PROGRAMS, name)
    return path if os.path.isdir(path) else os.path.join(EXAMPLES, name)


def run(name: str, mode: str = "update", stack: str = "dev", **config: str) -> Dict[str, Any]:
    """The runner's recorded result for a fixture program."""
    options = CheckOptions(program=program(name), stack=stack, mode=mode, config=dict(config))
    project = load_project(options.program)
    cfg, secret_keys, _ = stack_config(options.program, project, options)
    cfg.setdefault("aws:region", "us-east-1")
    return run_program(options, project, cfg, secret_keys, cfg["aws:region"], time.monotonic() + 120)


@functools.lru_cache(maxsize=None)
def run_once(name: str, mode: str = "update", stack: str = "dev", **config: str) -> Dict[str, Any]:
    """`run(...)` once per test session (per xdist worker) for the same program and arguments, for
    the modules that only read a sample's recording. Treat the result as read-only (deep-copy to edit)."""
    return run(name, mode=mode, stack=stack, **config)


def by_name(result: Dict[str, Any], name: str, type_: Optional[str] = None) -> Dict[str, Any]:
    matches = [r for r in result["resources"] if r["name"] == name and (type_ is None or r["type"] == type_)]
    assert len(matches) == 1, [r["urn"] for r in matches]
    return matches[0]


def cli(*args: str, timeout: float = 180, env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
    """`python -m policypack ...` as a user runs it (`env`: its whole environment)."""
    return subprocess.run([sys.executable, "-m", "policypack", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=None if env is None else dict(env))


def script(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python scripts/<name> ...` as a developer runs it (the data generators' --check)."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", name), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@functools.lru_cache(maxsize=None)
def cli_once(*args: str) -> subprocess.CompletedProcess:
    """`cli(...)` run once per test session (per xdist worker) for the same arguments: for read-only
    invocations (no output file) whose result several tests inspect. Treat the result as read-only."""
    return cli(*args)
