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
import json
import logging
import os
import re
import runpy
import sys
import threading
import traceback
import uuid
from typing import Any, Dict, List, Optional, Tuple

from . import urns as U
from ..props import RESOURCE_REF_SIG, SECRET_SIG, SIG_KEY, UNKNOWN_BY_KIND

UNKNOWN_ID = UNKNOWN_BY_KIND["string"]


def unknown_like(value: Any) -> str:
    """The unknown sentinel of the same kind as `value` (what a preview shows for a computed output)."""
    if isinstance(value, bool):
        return UNKNOWN_BY_KIND["boolean"]
    if isinstance(value, (int, float)):
        return UNKNOWN_BY_KIND["number"]
    if isinstance(value, list):
        return UNKNOWN_BY_KIND["array"]
    if isinstance(value, dict):
        return UNKNOWN_BY_KIND["object"]
    return UNKNOWN_BY_KIND["string"]


def _fill_missing(given: Any, full: Any) -> Any:
    """`given` with the keys only `full` has added, recursively (dicts, and lists of equal length)."""
    if isinstance(given, dict) and isinstance(full, dict):
        if given.get(SIG_KEY) is not None:
            return given
        merged = {k: _fill_missing(v, full.get(k)) for k, v in given.items()}
        for key, value in full.items():
            if key not in merged:
                merged[key] = _json_safe(value)
        return merged
    if isinstance(given, list) and isinstance(full, list) and len(given) == len(full):
        return [_fill_missing(g, f) for g, f in zip(given, full)]
    return given


def _json_safe(value: Any) -> Any:
    """Plain JSON values (mock outputs may hold tuples, enums, floats that are ints...)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "value") and isinstance(getattr(value, "value"), (str, int, float)):
        return value.value  # enums
    return str(value)


class SourceTracker:
    """Remembers where in the program each resource was constructed (for SARIF locations and
    trimmed tracebacks): a wrapper around pulumi.Resource.__init__ walks the caller frames."""

    def __init__(self, program_dir: str) -> None:
        self.program_dir = os.path.realpath(program_dir)
        self.locations: Dict[Tuple[str, str], Dict[str, Any]] = {}
        # (type, name) -> the output property names a remote component declares (its generated
        # class sets each to None in the props it registers)
        self.output_names: Dict[Tuple[str, str], List[str]] = {}
        self._lock = threading.Lock()
        self._in_program: Dict[str, bool] = {}

    def program_frame(self, frames) -> Optional[Dict[str, Any]]:
        for frame in reversed(frames):
            if self.in_program(frame.filename):
                return self._location(frame.filename, frame.lineno)
        return None

    def _location(self, filename: str, line: int) -> Dict[str, Any]:
        return {"file": os.path.relpath(os.path.realpath(filename), self.program_dir), "line": line}

    def in_program(self, filename: str) -> bool:
        known = self._in_program.get(filename)  # cached: realpath costs a few stat calls
        if known is None:
            real = os.path.realpath(filename)
            known = real.startswith(self.program_dir + os.sep) and "site-packages" not in real
            self._in_program[filename] = known
        return known

    def caller_location(self) -> Optional[Dict[str, Any]]:
        frame = sys._getframe(2)
        depth = 0
        while frame is not None and depth < 60:
            if self.in_program(frame.f_code.co_filename):
                return self._location(frame.f_code.co_filename, frame.f_lineno)
            frame = frame.f_back
            depth += 1
        return None

    def install(self) -> None:
        import inspect
        import pulumi
        original = pulumi.Resource.__init__
        signature = inspect.signature(original)
        tracker = self

        def __init__(self, t, name, *args, **kwargs):
            location = tracker.caller_location()
            if location is not None:
                with tracker._lock:
                    tracker.locations.setdefault((t, name), location)
            try:
                bound = signature.bind(self, t, name, *args, **kwargs).arguments
            except TypeError:
                bound = {}
            props = bound.get("props")
            if bound.get("remote") and props is not None:
                # generated classes pass their args object, outputs set to None in its __dict__
                fields = props if isinstance(props, dict) else getattr(props, "__dict__", {})
                with tracker._lock:
                    tracker.output_names[(t, name)] = [k for k, v in fields.items() if v is None]
            return original(self, t, name, *args, **kwargs)

        pulumi.Resource.__init__ = __init__


class Recorder:
    """The recording state shared by the mocks and the monitor (called from executor threads)."""

    def __init__(self, spec: Dict[str, Any], tracker: SourceTracker) -> None:
        from .fabricate import Environment
        self.spec = spec
        self.preview = spec["mode"] == "preview"
        self.env = Environment(stack=spec["stack"], project=spec["project"], account=spec["account"],
                               region=spec["region"], partition=spec.get("partition", "aws"))
        self.tracker = tracker
        self.resources: List[Dict[str, Any]] = []
        self.by_urn: Dict[str, Dict[str, Any]] = {}
        self.reads: List[Dict[str, Any]] = []
        self.unseen: List[Dict[str, Any]] = []   # remote components whose children the check cannot build
        self.invokes: List[Dict[str, Any]] = []
        self.warnings: List[str] = []
        self.default_providers: Dict[str, Dict[str, Any]] = {}
        self.provider_ids: Dict[str, str] = {}
        self.lock = threading.Lock()

    def urn(self, type_: str, name: str, parent: str) -> str:
        return U.make_urn(self.spec["stack"], self.spec["project"], type_, name, parent)

    def env_for_provider(self, provider_ref: str):
        """The account/region an invoke or resource through this provider sees: an explicit aws
        provider's `region` input, else the stack's."""
        import dataclasses
        urn = (provider_ref or "").rsplit("::", 1)[0] if "::" in (provider_ref or "") else provider_ref
        with self.lock:
            record = self.by_urn.get(urn) if urn else None
        region = record["inputs"].get("region") if record is not None else None
        if isinstance(region, str) and region and region != self.env.region:
            return dataclasses.replace(self.env, region=region)
        return self.env

    def env_for(self, wire_inputs: Dict[str, Any], provider_ref: str):
        """A resource's own `region` argument (pulumi-aws 7) wins over its provider's."""
        import dataclasses
        own = wire_inputs.get("region") if isinstance(wire_inputs, dict) else None
        if isinstance(own, str) and own and own != self.env.region:
            return dataclasses.replace(self.env, region=own)
        return self.env_for_provider(provider_ref)

    # -- providers -------------------------------------------------------------------------
    def provider_id(self, urn: str) -> str:
        if self.preview:
            return UNKNOWN_ID
        with self.lock:
            if urn not in self.provider_ids:
                self.provider_ids[urn] = str(uuid.uuid5(uuid.NAMESPACE_URL, urn))
            return self.provider_ids[urn]

    def default_provider_ref(self, package: str, version: str) -> str:
        """The engine creates one default provider per package and version, configured from the
        stack's `<package>:*` config; it is registered before the first resource that uses it."""
        name = U.default_provider_name(version)
        urn = self.urn(f"pulumi:providers:{package}", name, "")
        with self.lock:
            known = urn in self.default_providers
        if not known:
            # As the engine builds them (target.GetPackageConfig): every `<package>:*` key, namespace
            # stripped, as a string (objects as compact JSON); secure config stays secret.
            inputs: Dict[str, Any] = {}
            secret_keys = set(self.spec.get("secretKeys", []))
            for key, value in self.spec.get("config", {}).items():
                if key.startswith(package + ":"):
                    text = config_string(value)
                    inputs[key[len(package) + 1:]] = (
                        {SIG_KEY: SECRET_SIG, "value": text} if key in secret_keys else text)
            if version:
                inputs["version"] = version
            record = {"urn": urn, "type": f"pulumi:providers:{package}", "name": name, "custom": True,
                      "parent": "", "provider": "", "dependencies": [], "propertyDependencies": {},
                      "inputs": inputs, "outputs": dict(inputs), "id": self.provider_id(urn),
                      "defaultProvider": True, "source": None, "options": {}}
            with self.lock:
                if urn not in self.default_providers:
                    self.default_providers[urn] = record
                    self.resources.append(record)
        return f"{urn}::{self.provider_id(urn)}"


def config_string(value: Any) -> str:
    """Config values are strings to the engine; structured ones compact JSON."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.dumps(json.loads(stripped), separators=(",", ":"))
            except ValueError:
                return value
        return value
    return json.dumps(value, separators=(",", ":"))


def engine_wire(value: Any) -> Any:
    """Wire inputs as the engine forwards them to analyzers: resource references become the
    referenced resource's id (or its URN when it has none); top-level `__` keys are dropped."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == RESOURCE_REF_SIG:
            return value.get("id") or value.get("urn", "")
        return {k: engine_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_wire(v) for v in value]
    return value


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
    import inspect
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
