"""Rules of the tagging concern."""
from __future__ import annotations

RULES: list = []
