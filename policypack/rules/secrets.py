"""Rules of the secrets concern."""
from __future__ import annotations

RULES: list = []
