"""What the runner records while a program runs, shared by the runner and the mock monitor: where
each resource was constructed, and the resources, reads, invokes and warnings as the engine would
see them (with the default providers it would create).
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import sys
import threading
import uuid
from typing import Any, Dict, List, Optional, Tuple

from . import urns as U
from ..props import SECRET_SIG, SIG_KEY
from .fabricate import Environment
from .wire import UNKNOWN_ID, config_string


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
        import pulumi  # the program's own, imported once the runner has checked it is supported
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
        urn = (provider_ref or "").rsplit("::", 1)[0] if "::" in (provider_ref or "") else provider_ref
        with self.lock:
            record = self.by_urn.get(urn) if urn else None
        region = record["inputs"].get("region") if record is not None else None
        if isinstance(region, str) and region and region != self.env.region:
            return dataclasses.replace(self.env, region=region)
        return self.env

    def env_for(self, wire_inputs: Dict[str, Any], provider_ref: str):
        """A resource's own `region` argument (pulumi-aws 7) wins over its provider's."""
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
