"""The program runner: runs a Pulumi Python program in-process under a recording mock monitor.

It runs in a child process of the check (`python -m policypack.offline.runner SPEC OUT [--gate FD]`)
so that a program that hangs, exits, or prints cannot take the check down with it. It records every
RegisterResource/ReadResource/Invoke request as the engine would receive it and writes one JSON
document (see `RunResult` in check.py for its use):

    {"resources": [...], "reads": [...], "invokes": [...], "warnings": [...], "error": {...} | null}

Engine fidelity: URNs are built as the engine builds them (urns.py), custom resources without an
explicit provider get the default provider the engine would create, inputs are kept in wire form
(secrets as secret signatures, unknowns as the SDK's sentinels), and in update mode every created
resource gets realistic outputs (fabricate.py) so values built from them are known.
"""
from __future__ import annotations

import asyncio
import difflib
import inspect
import json
import logging
import os
import re
import runpy
import sys
import traceback
from typing import Any, Dict, List, Optional

from .recording import Recorder, SourceTracker

class _LogCapture(logging.Handler):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__(logging.WARNING)
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.recorder.warnings.append(f"program log ({record.levelname.lower()}): {record.getMessage()}")
        except Exception:  # noqa: BLE001
            pass


_UNEXPECTED_KW = re.compile(r"(?P<owner>[\w.]+)\.(?:_internal_init|__init__)\(\) got an unexpected keyword "
                            r"argument '(?P<arg>\w+)'")
_NO_ATTRIBUTE = re.compile(r"module '(?P<module>[\w.]+)' has no attribute '(?P<attr>\w+)'")


def _closest_argument(owner: str, arg: str, tb) -> Optional[str]:
    """The valid keyword argument of the pulumi-aws class closest to `arg`."""
    cls = None
    for frame, _ in traceback.walk_tb(tb):
        candidate = frame.f_locals.get("self") or frame.f_locals.get("__self__")
        if candidate is not None and type(candidate).__name__ == owner:
            cls = type(candidate)
    if cls is None:
        return None
    names: List[str] = []
    for method in ("_internal_init", "__init__"):
        try:
            names += [p for p in inspect.signature(getattr(cls, method)).parameters
                      if p not in ("self", "resource_name", "opts", "__props__", "args", "kwargs")]
        except (TypeError, ValueError, AttributeError):
            continue
    match = difflib.get_close_matches(arg, list(dict.fromkeys(names)), n=1, cutoff=0.5)
    return match[0] if match else None


def classify_error(exc: BaseException, tracker: SourceTracker, spec: Dict[str, Any]) -> Dict[str, Any]:
    """A program failure as a program finding (id, level, message, details)."""
    import pulumi
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if tracker.in_program(f.filename)]
    trimmed = "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type(exc), exc))
    location = tracker.program_frame(traceback.extract_tb(exc.__traceback__))
    base = {"level": "error", "traceback": trimmed.strip(), "source": location,
            "exceptionType": type(exc).__name__}
    if isinstance(exc, pulumi.ConfigMissingError):
        key = exc.key
        flag = " --secret" if getattr(exc, "secret", False) else ""
        bare = key.split(":", 1)[1] if key.startswith(spec["project"] + ":") else key
        return dict(base, id="program-config-missing", key=key,
                    message=(f"Missing required configuration value '{key}'. Set it with "
                             f"`pulumi config set{flag} {bare} <value> --stack {spec['stack']}` "
                             f"(or pass --{'secret' if flag else 'config'} {bare}=<value> to the check)."))
    text = str(exc)
    match = _UNEXPECTED_KW.search(text) if isinstance(exc, TypeError) else None
    if match:
        owner, arg = match.group("owner").split(".")[-1], match.group("arg")
        closest = _closest_argument(owner, arg, exc.__traceback__)
        hint = f"; the closest valid argument is `{closest}`" if closest else ""
        return dict(base, id="program-invalid-argument", resourceClass=owner, argument=arg, closest=closest,
                    message=f"{owner} has no argument `{arg}` in the installed pulumi-aws{hint}.")
    match = _NO_ATTRIBUTE.search(text) if isinstance(exc, AttributeError) else None
    if match and match.group("module").startswith("pulumi_aws"):
        module_name, attr = match.group("module"), match.group("attr")
        module = sys.modules.get(module_name)
        names = [n for n in dir(module) if not n.startswith("_")] if module else []
        close = difflib.get_close_matches(attr, names, n=1, cutoff=0.6)
        hint = f"; the closest name is `{close[0]}`" if close else ""
        return dict(base, id="program-invalid-argument", resourceClass=module_name, argument=attr,
                    closest=close[0] if close else None,
                    message=f"`{module_name}.{attr}` does not exist in the installed pulumi-aws{hint}.")
    if isinstance(exc, (ModuleNotFoundError, ImportError)):
        missing = getattr(exc, "name", None) or text
        return dict(base, id="program-error", module=missing,
                    message=f"The program needs the Python module `{missing}`, which is not installed: "
                            f"install the program's requirements ({type(exc).__name__}: {text}).")
    return dict(base, id="program-error", message=f"The program failed: {type(exc).__name__}: {text}")


def secret_values(spec: Dict[str, Any]) -> List[str]:
    """The secret config values (and their JSON leaves) that no report may show."""
    values: List[str] = []
    for key in spec.get("secretKeys", []):
        value = spec.get("config", {}).get(key)
        if not isinstance(value, str):
            continue
        values.append(value)
        try:
            parsed = json.loads(value)
        except ValueError:
            continue
        stack = [parsed]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str):
                values.append(item)
    # longest first, and not trivially short ones (they would blank out ordinary text)
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def redact(finding: Dict[str, Any], secrets: List[str]) -> Dict[str, Any]:
    for field in ("message", "traceback"):
        text = finding.get(field)
        if isinstance(text, str):
            for secret in secrets:
                text = text.replace(secret, "[secret]")
            finding[field] = text
    return finding


def run(spec: Dict[str, Any], gate: Optional[int] = None) -> Dict[str, Any]:
    # The program's pulumi is imported here, not at the top: main() has first checked that this
    # interpreter and its pulumi are supported (an older pulumi may lack these names).
    from pulumi.runtime import mocks as M
    from pulumi.runtime import settings as S
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_in_stack

    from .monitor import RecordingMocks, RecordingMonitor

    program_dir = os.path.abspath(spec["program"])
    tracker = SourceTracker(spec.get("projectRoot") or program_dir)
    tracker.install()
    recorder = Recorder(spec, tracker)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = RecordingMocks(recorder)
    monitor = RecordingMonitor(mocks, recorder, loop)
    logger = logging.getLogger("payments-guard.program")
    logger.propagate = False
    logger.addHandler(_LogCapture(recorder))
    # Newer SDKs read the monitor's features from GetDeploymentInfo; older ones (before it existed)
    # ask SupportsFeature one feature at a time, which the mock monitor answers.
    features = {}
    if hasattr(monitor, "GetDeploymentInfo"):
        features["monitor_features"] = set(monitor.GetDeploymentInfo(None).supportedFeatures)
    settings = M.MockSettings(monitor=monitor, **features, engine=M.MockEngine(logger),
        project=spec["project"], stack=spec["stack"], dry_run=recorder.preview,
        organization=spec.get("organization", "organization"), callbacks=None)
    S.configure(settings)
    set_all_config(dict(spec.get("config", {})), list(spec.get("secretKeys", [])))
    os.environ.update({"PULUMI_PROJECT": spec["project"], "PULUMI_STACK": spec["stack"],
                       "PULUMI_ORGANIZATION": spec.get("organization", "organization"),
                       "PULUMI_DRY_RUN": "true" if recorder.preview else "false"})

    if gate is not None:
        _pass_gate(gate)
    main = spec.get("main") or program_dir
    sys.path.insert(0, program_dir)
    os.chdir(program_dir)
    error = None
    try:
        loop.run_until_complete(run_in_stack(lambda: runpy.run_path(main, run_name="__main__")))
    except SystemExit as exc:
        if exc.code not in (0, None):
            error = {"id": "program-error", "level": "error", "exceptionType": "SystemExit",
                     "message": f"The program exited early with status {exc.code}.", "traceback": "", "source": None}
    except BaseException as exc:  # noqa: BLE001 - every program failure becomes a finding
        error = redact(classify_error(_root_cause(exc, tracker), tracker, spec), secret_values(spec))
        unanswered = sorted({i["token"] for i in recorder.invokes if not i["answered"]})
        if error.get("id") == "program-error" and unanswered:
            # a program reading a field of an empty invoke result fails far from the invoke
            error["message"] += (f" The program called invokes the check has no answer for ({', '.join(unanswered)}):"
                                 " if it read their results, answer them with --invoke-answers FILE.")
            error["unansweredInvokes"] = unanswered
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        try:
            loop.run_until_complete(asyncio.sleep(0))
        except BaseException:  # noqa: BLE001
            pass
    return {"resources": recorder.resources, "reads": recorder.reads, "invokes": recorder.invokes,
            "unseen": recorder.unseen, "warnings": list(dict.fromkeys(recorder.warnings)), "error": error}


def _root_cause(exc: BaseException, tracker: Optional[SourceTracker] = None) -> BaseException:
    """The program's own exception, not the SDK's wrappers around it (an exception raised in an
    apply reaches the top wrapped in "While processing resource..." errors): the innermost
    exception of the chain whose traceback passes through the program, else the innermost one."""
    import pulumi
    chain: List[BaseException] = []
    current: Optional[BaseException] = exc
    while current is not None and current not in chain and len(chain) < 20:
        chain.append(current)
        if isinstance(current, pulumi.ConfigMissingError):
            return current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    if tracker is not None:
        for candidate in reversed(chain):
            if any(tracker.in_program(f.filename) for f in traceback.extract_tb(candidate.__traceback__)):
                return candidate
    return chain[-1]


def _environment_unsupported() -> Optional[str]:
    """Checked before pulumi is imported: the program's interpreter and its pulumi version."""
    from importlib import metadata
    from .interpreter import unsupported_reason
    try:
        version: Optional[str] = metadata.version("pulumi")
    except metadata.PackageNotFoundError:
        version = None
    return unsupported_reason(tuple(sys.version_info[:3]), version)


def _pass_gate(gate: int) -> None:
    """Wait, ready to run the program, until the check says this interpreter is the one ("r");
    end of file means another interpreter runs it: leave without running it (no side effect twice)."""
    try:
        go = os.read(gate, 1) == b"r"
    except OSError:
        go = False
    os.close(gate)
    if not go:
        os._exit(0)


def main(argv: List[str]) -> int:
    spec_path, out_path = argv[1], argv[2]
    gate = int(argv[4]) if argv[3:4] == ["--gate"] else None
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    # The program's prints must not mix with anything: send its stdout to stderr.
    sys.stdout = sys.stderr
    unsupported = _environment_unsupported()
    if unsupported:
        result = {"resources": [], "reads": [], "invokes": [], "unseen": [], "warnings": [],
                  "error": {"id": "program-environment-unsupported", "level": "error", "message": unsupported,
                            "traceback": "", "source": None, "exceptionType": ""}}
    else:
        result = run(spec, gate)
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    os.replace(tmp, out_path)
    return 0


if __name__ == "__main__":
    sys.stderr.flush()
    code = main(sys.argv)
    sys.stderr.flush()
    os._exit(code)  # a program's stray threads must not keep the runner alive
