#!/usr/bin/env python3
"""The logic of the payments-guard GitHub Action (action.yml): check Pulumi programs of the
repository it runs in, annotate the diff, write SARIF for code scanning.

    python scripts/github_action.py --programs "infra/payments infra/edge" [--stack dev]
        [--policy-config pci-dss|FILE] [--baseline FILE] [--create-environments true|false]
        [--allow-unseen "awsx:* eks:*"] [--sarif-dir DIR]

Run with the interpreter that has this release installed (`payments-guard[check]`), from the
repository root. For each program directory: create its environment as its own toolchain does
(when asked: a fresh runner has none); then run `payments-guard check` on all of them once, to a
JSON report, and render that one report twice: as annotations (`--format github`, on stdout, which
GitHub turns into diff annotations) and as SARIF (one run per stack), so the two always agree.
Everything a program or the environment controls goes into an annotation escaped. The exit code (2 a program could not be checked, 1 a mandatory
violation, 0 clean) goes to $GITHUB_OUTPUT as `exit-code`, with `sarif-dir`; the script itself
exits with it too.
"""
from __future__ import annotations

import argparse
import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import yaml


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def program_dirs(spec: str, root: str) -> List[str]:
    """Directories from a whitespace/newline-separated list of paths or globs, relative to root."""
    found: List[str] = []
    for item in shlex.split(spec or ""):
        matches = sorted(glob.glob(os.path.join(root, item))) if any(c in item for c in "*?[") else [
            os.path.join(root, item)]
        for path in matches:
            rel = os.path.relpath(path, root)
            if rel not in found:
                found.append(rel)
    return found


def _project(program: str) -> Dict:
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        path = os.path.join(program, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
            return data if isinstance(data, dict) else {}
    return {}


def environment_commands(program: str) -> List[List[str]]:
    """The commands that create the program's environment as its toolchain does (what the Pulumi
    CLI's Python host expects to find): `toolchain: poetry` -> `poetry install`, `uv` -> `uv sync`,
    pip with `virtualenv: DIR` -> a virtualenv with requirements.txt. Empty when the project names
    no environment of its own (the check's interpreter runs it)."""
    runtime = _project(program).get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    options = options if isinstance(options, dict) else {}
    toolchain = str(options.get("toolchain") or "pip")
    if toolchain == "poetry":
        return [["poetry", "install", "--no-interaction"]]
    if toolchain == "uv":
        return [["uv", "sync"]]
    venv = options.get("virtualenv")
    if not venv:
        return []
    venv = venv if os.path.isabs(venv) else os.path.join(program, venv)
    if os.path.exists(os.path.join(venv, "bin", "python")):
        return []  # already there (a cache restored it)
    # the venv's own pip is not needed: this interpreter's pip installs into it (quicker on a runner)
    commands = [[sys.executable, "-m", "venv", "--without-pip", venv]]
    requirements = os.path.join(program, "requirements.txt")
    if os.path.exists(requirements):
        commands.append([sys.executable, "-m", "pip", "--python", os.path.join(venv, "bin", "python"), "install",
                         "-q", "-r", requirements])
    return commands


def create_environment(program: str) -> Optional[str]:
    """None, or the one-line cause the environment could not be created."""
    for command in environment_commands(program):
        if shutil.which(command[0]) is None and not os.path.exists(command[0]):
            return f"{program}: {command[0]} is not installed (the project's toolchain)"
        done = subprocess.run(command, cwd=program, capture_output=True, text=True)
        if done.returncode != 0:
            tail = " | ".join(line for line in done.stderr.strip().splitlines()[-3:])
            return f"{program}: `{' '.join(command)}` failed: {tail}"
    return None


def _annotation(text: str) -> str:
    """`text` as a workflow command's message: a program path or a tool's stderr is data."""
    from policypack.offline.reports import gh_escape
    return gh_escape(text)


def _check(programs: Sequence[str], options: Sequence[str], report: str) -> Tuple[int, str]:
    """One `payments-guard check` of every program to a JSON report (several programs give one
    report, a stack each): (exit code, the last line of its stderr)."""
    argv = [sys.executable, "-m", "policypack", "check", *programs, *options, "--format", "json",
            "--output", report, "--quiet"]
    sys.stdout.flush()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(done.stderr)  # into the log as before
    lines = done.stderr.strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def _render(report: str, sarif: str) -> Optional[str]:
    """The one report as annotations (stdout) and as SARIF (the file); None, or why it could not be read."""
    from policypack.offline.reports import ReportFormatError, load_report, render_any
    try:
        result = load_report(report)
    except ReportFormatError as exc:
        return str(exc)
    sys.stdout.write(render_any(result, "github"))
    with open(sarif, "w", encoding="utf-8") as handle:
        handle.write(render_any(result, "sarif"))
    return None


def _set_output(name: str, value: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{name}={value}\n")


def _worst(codes: Sequence[int]) -> int:
    return 2 if 2 in codes else (1 if 1 in codes else (max(codes) if codes else 0))


def run(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="payments-guard-action")
    parser.add_argument("--programs", required=True, help="program directories or globs, whitespace-separated")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--policy-config", default="", help="a preset name or a policy-config file")
    parser.add_argument("--baseline", default="")
    parser.add_argument("--create-environments", default="true")
    parser.add_argument("--allow-unseen", default="", help="remote component type globs accepted unseen, "
                                                         "whitespace-separated")
    parser.add_argument("--sarif-dir", default="payments-guard-sarif")
    parser.add_argument("--docs-repository", default="",
                        help="owner/name of the action's repository, for documentation links")
    parser.add_argument("--docs-ref", default="")
    parser.add_argument("--server-url", default="https://github.com")
    args = parser.parse_args(argv)

    root = os.getcwd()
    programs = program_dirs(args.programs, root)
    if not programs:
        print(f"::error title=payments-guard::{_annotation(f'no program directory matches {args.programs!r}')}")
        _set_output("exit-code", "2")
        return 2
    if args.docs_repository and args.docs_ref:
        # links to this release's own documentation: derived from where the action runs from
        base = f"{args.server_url.rstrip('/')}/{args.docs_repository}"
        os.environ.setdefault("PAYMENTS_GUARD_HOMEPAGE_URL", base)
        os.environ.setdefault("PAYMENTS_GUARD_DOCS_URL", f"{base}/blob/{args.docs_ref}/docs/rules.md")
    options = ["--stack", args.stack]
    if args.policy_config:
        options += ["--policy-config", args.policy_config]
    if args.baseline:
        options += ["--baseline", args.baseline]
    for pattern in shlex.split(args.allow_unseen):
        options += ["--allow-unseen", pattern]
    os.makedirs(args.sarif_dir, exist_ok=True)
    codes, ready = [], []
    if _truthy(args.create_environments):
        for program in programs:
            print(f"::group::{_annotation(f'payments-guard: the environment of {program}')}")
            cause = create_environment(program)
            print("::endgroup::")
            if cause:
                print(f"::error title=payments-guard::{_annotation(cause)}")
                codes.append(2)
            else:
                ready.append(program)
    else:
        ready = list(programs)
    if ready:
        with tempfile.TemporaryDirectory(prefix="payments-guard-") as work:
            report = os.path.join(work, "report.json")
            code, last_error = _check(ready, options, report)
            # annotations on stdout (GitHub puts them on the diff), the SARIF for code scanning
            unreadable = _render(report, os.path.join(args.sarif_dir, "payments-guard.sarif"))
        if unreadable:  # the check wrote no report: its own cause, else why the report is unusable
            print(f"::error title=payments-guard::{_annotation(last_error or unreadable)}")
            code = 2
        codes.append(code)
        print(_annotation(f"payments-guard: {' '.join(ready)}: exit {code}"))
    worst = _worst(codes)
    _set_output("exit-code", str(worst))
    _set_output("sarif-dir", os.path.abspath(args.sarif_dir))
    return worst


if __name__ == "__main__":
    sys.exit(run())
