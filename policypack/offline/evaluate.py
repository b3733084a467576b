"""The evaluator: one way to drive a pack over a stack's resources, whatever their source.

It takes a source's `Evaluation` (pipeline.py), starts the pack as the CLI does (client.py), makes
the calls in the engine's order (drive.py) and turns the answers into a `Report`, which
reports.py renders.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from .pipeline import CheckError, Report, Source, StackContext, load_baseline
from .policy_config import PolicyConfigError, load_file

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class PackSettings:
    """How the pack is driven, whatever the source: the same for every input of a run."""
    pack: str = REPO_ROOT                                        # --pack DIR
    policy_config: Optional[str] = None                          # --policy-config FILE
    baseline: Optional[str] = None                               # --baseline FILE
    timeout: float = 300.0                                       # --timeout, per input
    progress: Optional[Callable[[str], None]] = None

    def load(self) -> "LoadedSettings":
        try:
            user_policy_config = load_file(self.policy_config) if self.policy_config else None
        except PolicyConfigError as exc:
            raise CheckError(str(exc)) from exc
        baseline = load_baseline(self.baseline) if self.baseline else None
        if not os.path.exists(os.path.join(self.pack, "__main__.py")):
            raise CheckError(f"{self.pack} is not a Python policy pack (no __main__.py)")
        return LoadedSettings(self, user_policy_config, baseline)


@dataclass
class LoadedSettings:
    settings: PackSettings
    user_policy_config: Optional[Dict[str, Any]]
    baseline: Optional[Dict[str, Any]]


# --- the pack's environment ------------------------------------------------------------------
_HOST_VARIABLES = ("PULUMI_STACK", "PULUMI_PROJECT", "PULUMI_ORGANIZATION", "PULUMI_DRY_RUN", "PULUMI_CONFIG",
                   "PULUMI_CONFIG_SECRET_KEYS")


def pack_environment(context: Optional[StackContext]) -> Dict[str, str]:
    """The environment the Python host gives a pack: the stack and its config after ConfigureStack;
    nothing of the stack when none is sent (`pulumi policy analyze`)."""
    env = {k: v for k, v in os.environ.items() if k not in _HOST_VARIABLES}
    if context is not None:
        env.update({"PULUMI_STACK": context.stack, "PULUMI_PROJECT": context.project,
                    "PULUMI_ORGANIZATION": context.organization,
                    "PULUMI_DRY_RUN": "true" if context.dry_run else "false",
                    "PULUMI_CONFIG": json.dumps(dict(context.config))})
    return env


# --- the evaluation ----------------------------------------------------------------------------
_active_lock = threading.Lock()
_active: Dict[int, Callable[[], None]] = {}


def stop_all() -> None:
    """Stop every pack and source still running (several inputs run in worker threads, whose
    finally blocks a SIGTERM in the main thread does not reach)."""
    with _active_lock:
        closers = list(_active.values())
        _active.clear()
    for close in closers:
        try:
            close()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


def evaluate(source: Source, settings: PackSettings) -> Report:
    """Run one source through the pack; raises CheckError when it could not be evaluated."""
    started = time.monotonic()
    deadline = started + settings.timeout
    progress = settings.progress or (lambda message: None)
    context = source.prepare()
    loaded = settings.load()
    source.start()
    try:
        # Imported once the source has started: pulumi and grpc take about 0.2 s to import, which
        # the program run, the long pole, need not wait for.
        from .client import PackError, PackProcess
        from .drive import drive
        pack = PackProcess(settings.pack, pack_environment(context), timeout=max(1.0, min(settings.timeout, 120.0)))
        pack_error: List[BaseException] = []

        def start_pack() -> None:
            try:
                pack.start()
            except BaseException as exc:  # noqa: BLE001 - reported after the source is collected
                pack_error.append(exc)

        # The pack starts while the source works: a program takes about as long as the pack.
        starter = threading.Thread(target=start_pack, daemon=True)
        with _active_lock:
            _active[id(pack)] = lambda: (pack.stop(), source.close())
        starter.start()
        try:
            evaluation = source.collect(deadline)
            report = Report(pack={}, project=evaluation.project, stack=evaluation.stack, mode=evaluation.mode,
                            program=evaluation.label)
            report.warnings = list(evaluation.warnings)
            report.program_findings = list(evaluation.program_findings)
            report.interpreter, report.allow_unseen = evaluation.interpreter, list(evaluation.allow_unseen)
            starter.join(max(0.1, deadline - time.monotonic()))
            if pack_error:
                raise CheckError(str(pack_error[0]))
            if starter.is_alive():
                raise CheckError("the policy pack did not start within the timeout")
            pack.deadline = deadline
            if evaluation.cause:
                report.cause = evaluation.cause
                info = pack.analyzer_info()
                report.pack = {"name": info.name, "version": info.version}
            else:
                drive(pack, context, evaluation, loaded.user_policy_config,
                      loaded.settings.policy_config or "policy config", report, progress)
                if loaded.baseline is not None:
                    report.apply_baseline(loaded.baseline)
            report.put_in_order()
            report.duration_seconds = time.monotonic() - started
            return report
        except PackError as exc:
            raise CheckError(str(exc)) from exc
        except PolicyConfigError as exc:
            raise CheckError(str(exc)) from exc
        finally:
            with _active_lock:
                _active.pop(id(pack), None)
            starter.join(5)
            pack.stop()
    finally:
        source.close()


