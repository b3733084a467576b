"""The evaluator: one way to drive a pack over a stack's resources, whatever their source.

It takes a source's `Evaluation` (pipeline.py), starts the pack as the CLI does (client.py), makes
the calls in the engine's order and turns the answers into a `Report`, which reports.py renders.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from pulumi.runtime import proto

from . import findings as F
from .client import SEVERITY_NAMES, PackError, PackProcess, analyze_request, stack_resource
from .pipeline import CheckError, Evaluation, Report, Source, StackContext, load_baseline
from .policy_config import PolicyConfigError, load_file
from .policy_config import build as build_policy_config

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


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


# --- providers -------------------------------------------------------------------------------
class ProviderIndex:
    """Provider resources by URN: the engine resolves a `<urn>::<id>` reference by its URN
    (pkg/resource/deploy/analyze_snapshot.go, plugin.AnalyzerProviderResource) and sends a
    provider only for resources that are not providers themselves."""

    def __init__(self, resources: List[Mapping[str, Any]]) -> None:
        self.by_urn = {r["urn"]: r for r in resources if r["type"].startswith("pulumi:providers:")}

    def provider_of(self, resource: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
        ref = resource.get("provider") or ""
        if not ref or not resource.get("custom") or resource["type"].startswith("pulumi:providers:"):
            return None
        return self.by_urn.get(ref.rsplit("::", 1)[0])


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
                drive(pack, context, evaluation, loaded, report, progress)
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


def drive(pack: Any, context: Optional[StackContext], evaluation: Evaluation, loaded: LoadedSettings,
          report: Report, progress: Callable[[str], None]) -> None:
    """The engine's calls, in its order: Handshake, ConfigureStack (when the engine sends one),
    GetAnalyzerInfo, Configure, Remediate per resource (when a policy remediates), Analyze per
    resource with its inputs, one AnalyzeStack with every resource's outputs."""
    directory = os.path.abspath(evaluation.label) if os.path.isdir(evaluation.label) else os.getcwd()
    pack.handshake(directory, directory)
    if context is not None:
        pack.configure_stack(context.stack, context.project, context.organization, context.dry_run,
                             context.config, context.secret_keys, context.tags)
    info = pack.analyzer_info()
    report.pack = {"name": info.name, "version": info.version}
    where = loaded.settings.policy_config or "policy config"
    policy_config = build_policy_config(info, loaded.user_policy_config, where=where, warnings=report.warnings)
    pack.configure(policy_config)
    severities = {p.name: SEVERITY_NAMES.get(p.severity, "") for p in info.policies}
    report.policies = [{"name": p.name, "description": p.description,
                        "enforcementLevel": policy_config[p.name]["enforcementLevel"],
                        "severity": severities[p.name], "url": p.url,
                        "kind": "stack" if p.policy_type == 2 else "resource"} for p in info.policies]

    resources = evaluation.resources
    by_urn = {r["urn"]: r for r in resources}
    providers = ProviderIndex(resources)
    # The engine analyzes every resource it has: custom ones, components, providers (default
    # ones included, before their first user) and the root stack.
    report.resources = len([r for r in resources if r["type"] != ROOT_STACK_TYPE])
    if any(v["enforcementLevel"] == "remediate" for v in policy_config.values()):
        progress(f"remediating {len(resources)} resources")
        replies = pack.map_calls("Remediate", [analyze_request(r, providers.provider_of(r)) for r in resources])
        for resource, reply in zip(resources, replies):
            if evaluation.apply_remediations:
                F.apply_remediations(resource, reply, report)
            else:
                F.report_remediations(resource, reply, report)
    progress(f"analyzing {len(resources)} resources")
    step = max(1, len(resources) // 10)

    def tick(done: int, total: int) -> None:
        if total >= 1000 and (done % step == 0 or done == total):
            progress(f"analyzed {done}/{total} resources")

    replies = pack.map_calls("Analyze", [analyze_request(r, providers.provider_of(r)) for r in resources],
                             progress=tick)
    for resource, reply in zip(resources, replies):
        F.collect(reply, resource, by_urn, severities, report)
    progress("analyzing the stack")
    stack_request = proto.AnalyzeStackRequest(
        resources=[stack_resource(r, providers.provider_of(r)) for r in resources])
    reply = pack.call("AnalyzeStack", stack_request)
    root_urn = root_stack_urn(evaluation) if evaluation.attribute_to_root else None
    F.collect(reply, None, by_urn, severities, report, root_urn=root_urn)


def root_stack_urn(evaluation: Evaluation) -> str:
    """The snapshot's root stack, or the one the engine synthesizes (resource.DefaultRootStackURN)."""
    for r in evaluation.resources:
        if r["type"] == ROOT_STACK_TYPE and not r.get("parent"):
            return r["urn"]
    return (f"urn:pulumi:{evaluation.stack}::{evaluation.project}::{ROOT_STACK_TYPE}::"
            f"{evaluation.project}-{evaluation.stack}")
