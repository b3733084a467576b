"""Rules of the deployment concern."""
from __future__ import annotations

RULES: list = []
