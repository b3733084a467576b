"""Rules of the networking concern."""
from __future__ import annotations

RULES: list = []
