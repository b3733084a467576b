"""Values in the engine's wire form, as the runner records them and the mock monitor answers with
them: unknown sentinels, outputs completed from the inputs, config strings, and the inputs the
engine forwards to analyzers. Plain functions: the check's parent process uses them too.
"""
from __future__ import annotations

import json
from typing import Any

from ..props import RESOURCE_REF_SIG, SIG_KEY, UNKNOWN_BY_KIND

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


def fill_missing(given: Any, full: Any) -> Any:
    """`given` with the keys only `full` has added, recursively (dicts, and lists of equal length)."""
    if isinstance(given, dict) and isinstance(full, dict):
        if given.get(SIG_KEY) is not None:
            return given
        merged = {k: fill_missing(v, full.get(k)) for k, v in given.items()}
        for key, value in full.items():
            if key not in merged:
                merged[key] = json_safe(value)
        return merged
    if isinstance(given, list) and isinstance(full, list) and len(given) == len(full):
        return [fill_missing(g, f) for g, f in zip(given, full)]
    return given


def json_safe(value: Any) -> Any:
    """Plain JSON values (mock outputs may hold tuples, enums, floats that are ints...)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "value") and isinstance(getattr(value, "value"), (str, int, float)):
        return value.value  # enums
    return str(value)


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
