"""Rules of the self-sufficiency concern."""
from __future__ import annotations

RULES: list = []
