"""The shapes the offline pipeline passes along, with no behaviour of the pack in them.

A *source* (check.py: a program run; state.py: a `pulumi stack export`) prepares a `StackContext`
and collects an `Evaluation`; the evaluator (evaluate.py) drives the pack over it and fills a
`Report`; several inputs make a `Batch`; reports.py renders either. Standard library only, so that
reading and rendering a saved report needs neither grpc nor the pack.

    source.prepare() -> StackContext | None   (cheap, validates; None: no ConfigureStack is sent)
    source.start()                            (starts the slow part, e.g. the program)
    source.collect(deadline) -> Evaluation
    source.close()                            (always)
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol, Type

from ..rule import ADVISORY, DISABLED, MANDATORY, REMEDIATE


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
class Batch:
    inputs: List[str]
    reports: List[Report] = field(default_factory=list)       # in input order
    errors: List[Dict[str, str]] = field(default_factory=list)  # {"input", "error"}, in input order
    duration_seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return max((r.exit_code for r in self.reports), default=0)

    def totals(self) -> Dict[str, int]:
        totals = {"inputs": len(self.inputs), "stacks": len(self.reports), "errors": len(self.errors),
                  "resources": 0, "mandatory": 0, "advisory": 0, "baselined": 0, "programFindings": 0}
        for report in self.reports:
            totals["resources"] += report.resources
            for level, count in report.counts().items():
                totals[level] = totals.get(level, 0) + count
            totals["programFindings"] += len(report.program_findings)
        totals["exitCode"] = self.exit_code
        return totals

    def baseline(self) -> Dict[str, Any]:
        """One baseline for every stack: each fingerprint covers the URN, so it carries the stack
        and project; entries name them too, for the reader."""
        pack = next((r.pack for r in self.reports if r.pack), {})
        return {"version": 1, "pack": pack,
                "stacks": [{"project": r.project, "stack": r.stack, "input": r.program} for r in self.reports],
                "violations": [dict(entry, project=r.project, stack=r.stack)
                               for r in self.reports for entry in r.baseline_entries()]}
