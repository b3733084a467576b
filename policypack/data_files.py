"""Generated data shipped with the pack (`policypack/data/*.json`, made by `scripts/generate_*.py`
from the installed pulumi-aws): read lazily, once per process, never at start-up.

A rule that needs a file asks for it on its first evaluation; the pack serves on several threads,
so the load is guarded. A file that cannot be read degrades the rule (it says so once on stderr)
rather than failing the user's preview.
"""
from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Generic, Optional, TypeVar

T = TypeVar("T")


def read_json(name: str) -> Any:
    """A data file's JSON: through importlib.resources (works from a wheel or zip too), else by path."""
    try:
        from importlib import resources
        text = resources.files("policypack").joinpath("data", name).read_text(encoding="utf-8")
    except Exception:  # noqa: BLE001
        text = (Path(__file__).resolve().parent / "data" / name).read_text(encoding="utf-8")
    return json.loads(text)


class Lazy(Generic[T]):
    """`parse(read_json(name))`, computed on first use, once, thread-safe; `fallback` (and one line
    on stderr naming `consequence`) when the file is missing or malformed."""

    def __init__(self, name: str, parse: Callable[[Any], T], fallback: T, consequence: str) -> None:
        self.name, self.parse, self.fallback, self.consequence = name, parse, fallback, consequence
        self._value: Optional[T] = None
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                try:
                    self._value = self.parse(read_json(self.name))
                except Exception as exc:  # noqa: BLE001 - degrade, never fail the preview
                    print(f"payments-guard: could not read {self.name} ({exc}); {self.consequence}", file=sys.stderr)
                    self._value = self.fallback
            return self._value

    def reset(self) -> None:
        """Forget the loaded value (tests)."""
        with self._lock:
            self._value = None
