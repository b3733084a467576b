"""The analyzer client: starts a policy pack exactly as the Pulumi CLI does and drives it over gRPC.

Launch: `<python> -u -m pulumi.policy <engine-address> <pack-dir>` with the pack directory as the
working directory; the pack prints its port as the first stdout line. The interpreter comes from
PulumiPolicy.yaml's `runtime.options.virtualenv` when that exists, else this interpreter.
Every call has a deadline; the pack's process group is always reaped.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, List, Optional, Sequence

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from .pool import run_each
from .virtualenv import venv_python


class PackError(Exception):
    """The pack could not be started or stopped answering (exit status 2 of the check)."""


_VENV_RE = re.compile(r"^\s*virtualenv\s*:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(#.*)?$", re.M)


def pack_interpreter(pack_dir: str) -> str:
    """The Python the CLI would use for the pack: PulumiPolicy.yaml's virtualenv, when it exists."""
    manifest = os.path.join(pack_dir, "PulumiPolicy.yaml")
    try:
        with open(manifest, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return sys.executable
    match = _VENV_RE.search(text)
    if match:
        venv = match.group(1).strip()
        venv = venv if os.path.isabs(venv) else os.path.join(pack_dir, venv)
        if os.path.exists(venv_python(venv)):
            return venv_python(venv)
    return sys.executable


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(value))
    return struct


class PackProcess:
    """A running pack. Use as a context manager: the process (group) never outlives it."""

    def __init__(self, pack_dir: str, env: Mapping[str, str], timeout: float = 60.0,
                 python: Optional[str] = None) -> None:
        self.pack_dir = os.path.abspath(pack_dir)
        self.timeout = timeout
        self.python = python or pack_interpreter(self.pack_dir)
        self.env = dict(env)
        self.process: Optional[subprocess.Popen] = None
        self.channel = None
        self.stub: Optional[analyzer_pb2_grpc.AnalyzerStub] = None
        self._stderr: List[str] = []
        self.port: Optional[int] = None
        #: monotonic time by which every call must have answered (the check's --timeout)
        self.deadline: Optional[float] = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "PackProcess":
        argv = [self.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", self.pack_dir]
        try:
            self.process = subprocess.Popen(argv, cwd=self.pack_dir, env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise PackError(f"could not start the policy pack with {self.python}: {exc}") from exc
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        first_line: List[bytes] = []
        reader = threading.Thread(target=lambda: first_line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.timeout)
        if reader.is_alive():
            raise PackError(f"the policy pack printed no port within {self.timeout:g}s")
        line = first_line[0].decode("utf-8", "replace").strip() if first_line else ""
        if not line.isdigit():
            self.process.poll()
            if not line and self.process.returncode is not None:
                raise PackError(f"the policy pack exited with status {self.process.returncode} before printing "
                                f"its port: {self.stderr_tail()}")
            raise PackError(f"the policy pack printed {line[:80]!r} before its port (the first stdout line must "
                            "be the port: nothing may print before PolicyPack starts)")
        self.port = int(line)
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=[
            ("grpc.max_receive_message_length", 400 * 1024 * 1024),
            ("grpc.max_send_message_length", 400 * 1024 * 1024)])
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        return self

    def _drain_stderr(self) -> None:
        for raw in iter(self.process.stderr.readline, b""):
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())
            if len(self._stderr) > 2000:
                del self._stderr[:1000]

    def _drain_stdout(self) -> None:
        for _ in iter(self.process.stdout.readline, b""):
            pass

    def stderr_tail(self, lines: int = 5) -> str:
        tail = [line for line in self._stderr if line.strip()][-lines:]
        return " | ".join(tail) if tail else "(no output on stderr)"

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.process.wait(2)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.process.wait(5)
        else:  # the leader is gone; reap anything it left in its group
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for stream in (self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass

    def __enter__(self) -> "PackProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- calls -----------------------------------------------------------------------------
    def call(self, method: str, request: Any, optional: bool = False) -> Any:
        timeout = self.timeout
        if self.deadline is not None:
            timeout = min(timeout, self.deadline - time.monotonic())
            if timeout <= 0:
                raise PackError(f"the check ran out of time before {method} (--timeout)")
        try:
            return getattr(self.stub, method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            if optional and exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                return None
            raise self._rpc_error(method, exc) from None

    def _rpc_error(self, method: str, exc: grpc.RpcError) -> PackError:
        code = exc.code()
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            if self.deadline is not None and time.monotonic() >= self.deadline - 0.05:
                return PackError(f"the policy pack did not answer {method} before the check's deadline (--timeout)")
            return PackError(f"the policy pack did not answer {method} within {self.timeout:g}s")
        if code == grpc.StatusCode.UNAVAILABLE and self.process is not None:
            try:  # a dropped connection usually means the process is dying: give it a moment
                self.process.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
        if self.process is not None and self.process.poll() is not None:
            return PackError(f"the policy pack died during {method} (exit status {self.process.returncode}): "
                             f"{self.stderr_tail()}")
        details = (exc.details() or "").strip().splitlines()
        return PackError(f"the policy pack failed {method}: {code.name}: {details[-1] if details else ''}")

    def handshake(self, root: str, program: str) -> None:
        self.call("Handshake", proto.AnalyzerHandshakeRequest(
            engine_address="", root_directory=root, program_directory=program), optional=True)

    def configure_stack(self, stack: str, project: str, organization: str, dry_run: bool,
                        config: Mapping[str, str], secret_keys: Sequence[str], tags: Mapping[str, str]) -> None:
        self.call("ConfigureStack", proto.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization=organization, dry_run=dry_run,
            config={k: str(v) for k, v in config.items()}, config_secret_keys=list(secret_keys),
            tags=dict(tags)), optional=True)

    def analyzer_info(self) -> Any:
        return self.call("GetAnalyzerInfo", empty_pb2.Empty())

    def configure(self, policy_config: Mapping[str, Mapping[str, Any]]) -> None:
        request = proto.ConfigureAnalyzerRequest()
        for name, value in policy_config.items():
            request.policyConfig[name].CopyFrom(proto.PolicyConfig(
                enforcementLevel=LEVEL_TO_PROTO[value["enforcementLevel"]],
                properties=_struct(value.get("properties", {}))))
        self.call("Configure", request)

    def map_calls(self, method: str, requests: Sequence[Any], progress=None, workers: int = 4) -> List[Any]:
        """Issue `requests` with up to `workers` in flight (the engine analyzes steps concurrently
        too); results in request order."""
        results: List[Any] = [None] * len(requests)
        if not requests:
            return results
        done = [0]
        lock = threading.Lock()

        def one(index: int) -> None:
            results[index] = self.call(method, requests[index])
            if progress is not None:
                with lock:
                    done[0] += 1
                    progress(done[0], len(requests))

        if len(requests) < 8:
            for i in range(len(requests)):
                one(i)
            return results
        run_each(one, len(requests), workers)
        return results


LEVEL_TO_PROTO = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY,
                  "remediate": proto.REMEDIATE, "disabled": proto.DISABLED}
PROTO_TO_LEVEL = {v: k for k, v in LEVEL_TO_PROTO.items()}
SEVERITY_NAMES = {proto.POLICY_SEVERITY_UNSPECIFIED: "", proto.POLICY_SEVERITY_LOW: "low",
                  proto.POLICY_SEVERITY_MEDIUM: "medium", proto.POLICY_SEVERITY_HIGH: "high",
                  proto.POLICY_SEVERITY_CRITICAL: "critical"}


def analyze_request(resource: Mapping[str, Any], provider: Optional[Mapping[str, Any]]) -> Any:
    request = proto.AnalyzeRequest(type=resource["type"], name=resource["name"], urn=resource["urn"],
                                   properties=_struct(resource["inputs"]), options=_options(resource))
    if provider is not None:
        request.provider.CopyFrom(_provider(provider))
    return request


def stack_resource(resource: Mapping[str, Any], provider: Optional[Mapping[str, Any]]) -> Any:
    item = proto.AnalyzerResource(type=resource["type"], name=resource["name"], urn=resource["urn"],
                                  properties=_struct(resource["outputs"]), options=_options(resource),
                                  parent=resource.get("parent") or "",
                                  dependencies=list(resource.get("dependencies") or []))
    for prop, urns in (resource.get("propertyDependencies") or {}).items():
        item.propertyDependencies[prop].urns.extend(urns)
    if provider is not None:
        item.provider.CopyFrom(_provider(provider))
    return item


def _provider(provider: Mapping[str, Any]) -> Any:
    return proto.AnalyzerProviderResource(type=provider["type"], name=provider["name"], urn=provider["urn"],
                                          properties=_struct(provider["inputs"]))


def _options(resource: Mapping[str, Any]) -> Any:
    opts = resource.get("options") or {}
    return proto.AnalyzerResourceOptions(
        protect=bool(opts.get("protect")), ignoreChanges=list(opts.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(opts.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined=bool(opts.get("deleteBeforeReplaceDefined")),
        additionalSecretOutputs=list(opts.get("additionalSecretOutputs") or []),
        aliases=list(opts.get("aliases") or []), parent=resource.get("parent") or "",
        customTimeouts=_timeouts(opts.get("customTimeouts")))


def _timeouts(value: Any) -> Any:
    """Custom timeouts in seconds, as state stores them (`create`, `update`, `delete`, `read`)."""
    value = value if isinstance(value, Mapping) else {}
    return proto.AnalyzerResourceOptions.CustomTimeouts(
        **{k: float(value[k]) for k in ("create", "update", "delete", "read")
           if isinstance(value.get(k), (int, float)) and not isinstance(value.get(k), bool)})
