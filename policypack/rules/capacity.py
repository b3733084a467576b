"""Rules of the capacity concern."""
from __future__ import annotations

RULES: list = []
