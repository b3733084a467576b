"""Rules of the load-balancing concern."""
from __future__ import annotations

RULES: list = []
