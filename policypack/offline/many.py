"""Many stacks in one run: inputs evaluated in parallel, one report of the stacks that could be
evaluated and the inputs that could not.

An input that cannot be evaluated (unreadable, not an export, a program that failed) is an error
with a one-line cause naming it; it never hides the others. Exit status: 2 when any input could not
be evaluated, else 1 when any stack has a mandatory violation, else 0.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

from .evaluate import stop_all
from .pipeline import Batch, CheckError, Report
from .pool import run_each

#: (the input as the user named it, a function that evaluates it)
Job = Tuple[str, Callable[[], Report]]


def failure_cause(report: Report) -> str:
    """A report whose program failed, as one line."""
    cause = report.cause or next((f["message"] for f in report.program_findings if f["level"] == "error"),
                                 "the program failed")
    return " ".join(str(cause).split())


def run_many(jobs: List[Job], workers: int, progress: Callable[[str], None]) -> Batch:
    started = time.monotonic()
    batch = Batch(inputs=[name for name, _ in jobs])
    results: List[Optional[Tuple[str, Any]]] = [None] * len(jobs)
    done = [0]
    lock = threading.Lock()

    def one(index: int) -> None:
        name, run = jobs[index]
        began = time.monotonic()
        try:
            report = run()
        except CheckError as exc:
            outcome: Tuple[str, Any] = ("error", f"{name}: {exc}" if name not in str(exc) else str(exc))
        except Exception as exc:  # noqa: BLE001 - one input's crash must not hide the others
            outcome = ("error", f"{name}: internal error: {type(exc).__name__}: {exc}")
        else:
            if report.exit_code == 2:
                outcome = ("error", f"{name}: {failure_cause(report)}")
            else:
                outcome = ("report", report)
        results[index] = outcome
        with lock:
            done[0] += 1
            if outcome[0] == "error":
                progress(f"[{done[0]}/{len(jobs)}] error: {outcome[1]}")
            else:
                counts = outcome[1].counts()
                progress(f"[{done[0]}/{len(jobs)}] {name}: {outcome[1].resources} resources, "
                         f"{counts['mandatory']} mandatory, {counts['advisory']} advisory "
                         f"({time.monotonic() - began:.1f}s)")

    workers = max(1, min(workers, len(jobs)))
    progress(f"evaluating {len(jobs)} inputs, {workers} at a time")
    # on an interrupt, the workers' packs and programs must not outlive the run
    run_each(one, len(jobs), workers, on_failure=stop_all)
    for (name, _), outcome in zip(jobs, results):
        assert outcome is not None
        if outcome[0] == "error":
            batch.errors.append({"input": name, "error": outcome[1]})
        else:
            batch.reports.append(outcome[1])
    batch.duration_seconds = time.monotonic() - started
    return batch


# --- expanding the command line ------------------------------------------------------------
_SKIPPED_DIRS = {".git", ".hg", "node_modules", "__pycache__", ".venv", "venv", ".tox"}


def _walk(root: str):
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIPPED_DIRS and not d.startswith(".")
                            and not os.path.exists(os.path.join(directory, d, "pyvenv.cfg")))
        yield directory, sorted(files)


def export_files(paths: List[str]) -> Tuple[List[str], bool]:
    """(the export files named or found, whether the run is about several stacks): a directory
    stands for every `*.json` below it, recursively."""
    found: List[str] = []
    several = len(paths) > 1
    for path in paths:
        if path != "-" and os.path.isdir(path):
            several = True
            found += [os.path.join(directory, name) for directory, files in _walk(path)
                      for name in files if name.endswith(".json")]
        else:
            found.append(path)
    return found, several


def python_programs(root: str) -> List[str]:
    """Every directory below `root` whose Pulumi.yaml names the python runtime."""
    import yaml
    programs = []
    for directory, files in _walk(root):
        name = "Pulumi.yaml" if "Pulumi.yaml" in files else "Pulumi.yml" if "Pulumi.yml" in files else None
        if name is None:
            continue
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                project = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError):
            programs.append(directory)  # unreadable: the check names the cause as an error
            continue
        runtime = project.get("runtime") if isinstance(project, dict) else None
        runtime = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime == "python":
            programs.append(directory)
    return programs
