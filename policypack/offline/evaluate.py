"""The evaluator: one way to drive a pack over a stack's resources, whatever their source.

A *source* (a program run in check.py, a `pulumi stack export` in state.py) yields an `Evaluation`:
the resources in the engine's order plus what the engine would tell the pack about the stack. The
evaluator starts the pack as the CLI does (client.py), makes the calls in the engine's order and
turns the answers into a `Report`, which reports.py renders.

    source.prepare() -> StackContext | None   (cheap, validates; None: no ConfigureStack is sent)
    source.start()                            (starts the slow part, e.g. the program)
    source.collect(deadline) -> Evaluation
    source.close()                            (always)
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Type

from ..rule import ADVISORY, DISABLED, MANDATORY, REMEDIATE
from .policy_config import PolicyConfigError, load_file

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


class CheckError(Exception):
    """The evaluation could not run; the message is the one-line cause."""


@dataclass
class StackContext:
    """What the engine tells a pack about the stack (ConfigureStack and the host's environment)."""
    stack: str
    project: str
    organization: str
    dry_run: bool
    config: Dict[str, str] = field(default_factory=dict)
    secret_keys: List[str] = field(default_factory=list)
    tags: Dict[str, str] = field(default_factory=dict)


@dataclass
class Evaluation:
    """A source's answer: the resources to evaluate, in the engine's order."""
    label: str                                  # the program directory or the export file
    project: str
    stack: str
    mode: str                                   # update | preview | state
    resources: List[Dict[str, Any]] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    program_findings: List[Dict[str, Any]] = field(default_factory=list)
    cause: str = ""                             # set when the source failed: nothing is analyzed
    interpreter: Optional[Dict[str, Any]] = None  # a program's: which Python ran it, and why
    allow_unseen: List[str] = field(default_factory=list)  # --allow-unseen globs in force
    #: a deployment applies remediations to the inputs before Analyze; `pulumi policy analyze`
    #: only reports them, and reports a remediation's diagnostic as an advisory violation
    apply_remediations: bool = True
    #: `pulumi policy analyze` attributes a stack policy's diagnostic whose URN is not in the
    #: snapshot to the root stack
    attribute_to_root: bool = False


class Source(Protocol):
    def prepare(self) -> Optional[StackContext]: ...
    def start(self) -> None: ...
    def collect(self, deadline: float) -> Evaluation: ...
    def close(self) -> None: ...


#: the order a report lists its findings in: what fails the run first
_LEVEL_ORDER = ("error", MANDATORY, REMEDIATE, ADVISORY, DISABLED)


def _level_rank(level: Any) -> int:
    return _LEVEL_ORDER.index(level) if level in _LEVEL_ORDER else len(_LEVEL_ORDER)


@dataclass
class Report:
    pack: Dict[str, str]
    project: str
    stack: str
    mode: str
    program: str
    resources: int = 0
    policies: List[Dict[str, Any]] = field(default_factory=list)
    violations: List[Dict[str, Any]] = field(default_factory=list)
    program_findings: List[Dict[str, Any]] = field(default_factory=list)
    remediations: List[Dict[str, Any]] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    not_applicable: List[Dict[str, str]] = field(default_factory=list)
    duration_seconds: float = 0.0
    cause: str = ""                                              # set when the program failed
    interpreter: Optional[Dict[str, Any]] = None                 # which Python ran the program, and why
    allow_unseen: List[str] = field(default_factory=list)        # --allow-unseen globs in force

    def unseen_components(self) -> int:
        """Multi-language components whose children no policy evaluated."""
        return sum(1 for f in self.program_findings if f.get("id") == "program-unseen-component")

    @property
    def exit_code(self) -> int:
        if any(f["level"] == "error" for f in self.program_findings):
            return 2
        if any(v["enforcementLevel"] == "mandatory" and not v.get("baselined") for v in self.violations):
            return 1
        if any(f["level"] == "mandatory" for f in self.program_findings):
            return 1
        return 0

    def counts(self) -> Dict[str, int]:
        counts = {"mandatory": 0, "advisory": 0, "baselined": 0}
        for v in self.violations:
            if v.get("baselined"):
                counts["baselined"] += 1
            else:
                counts[v["enforcementLevel"]] = counts.get(v["enforcementLevel"], 0) + 1
        return counts

    def apply_baseline(self, baseline: Mapping[str, Any]) -> None:
        known = {entry.get("fingerprint") for entry in baseline.get("violations", []) if isinstance(entry, dict)}
        for violation in self.violations:
            violation["baselined"] = violation["fingerprint"] in known

    def put_in_order(self) -> None:
        """Sort what the report lists by what a reader looks for, so the same input gives the same
        report in every format: the program's resources register concurrently, so the engine's
        order (and with it the order of diagnostics) changes from run to run."""
        self.violations.sort(key=lambda v: (_level_rank(v.get("enforcementLevel")), v.get("policyName") or "",
                                            v.get("urn") or "", v.get("property") or "", v.get("message") or ""))
        self.program_findings.sort(key=lambda f: (_level_rank(f.get("level")), str(f.get("id") or ""),
                                                  str(f.get("urn") or ""), str(f.get("message") or "")))
        self.remediations.sort(key=lambda r: (r.get("policyName") or "", r.get("urn") or "",
                                              json.dumps(r.get("changes"), sort_keys=True)))
        self.not_applicable.sort(key=lambda n: (n.get("policyName") or "", n.get("urn") or "", n.get("reason") or ""))
        self.warnings.sort()

    def baseline_entries(self) -> List[Dict[str, Any]]:
        return [{k: v[k] for k in ("fingerprint", "policyName", "urn", "property", "enforcementLevel")}
                for v in sorted(self.violations, key=lambda v: (v["policyName"], v["urn"]))]

    def baseline(self) -> Dict[str, Any]:
        return {"version": 1, "pack": self.pack, "project": self.project, "stack": self.stack,
                "violations": self.baseline_entries()}


def read_json_file(path: str, error: Type[Exception], what: str) -> Any:
    """The JSON of the file at `path`; the caller's own `error`, naming `what`, when the file
    cannot be read or is not JSON (a user's input: a message, never a traceback)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror}") from exc
    except ValueError as exc:
        raise error(f"{what} is not valid JSON: {exc}") from exc


def load_baseline(path: str) -> Dict[str, Any]:
    data = read_json_file(path, CheckError, f"baseline {path}")
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("violations"), list):
        raise CheckError(f"baseline {path} is not a payments-guard baseline (write one with --write-baseline)")
    return data


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
        from .client import PackError, PackProcess
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
    from pulumi.runtime import proto

    from . import findings as F
    from .client import SEVERITY_NAMES, analyze_request, stack_resource
    from .policy_config import build as build_policy_config
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
