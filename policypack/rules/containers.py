"""Rules of the containers concern."""
from __future__ import annotations

RULES: list = []
