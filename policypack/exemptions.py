"""Exemptions: every policy accepts `exemptions` in its config, each with a reason and an expiry.

    "log-group-kms-encryption": {"exemptions": [
        {"resource": "*legacy-logs*", "reason": "migrating in PAY-123", "expires": "2027-03-31"}]}

`resource` is a glob over the URN, the type token or the resource name. An exempted violation is
reported as advisory with the reason and the expiry; from the day after `expires` the exemption
no longer applies and the violation says that it expired.
"""
from __future__ import annotations

import datetime
import fnmatch
import os
from collections.abc import Mapping
from typing import Any, Dict, Optional, Tuple

EXEMPTIONS_SCHEMA: Dict[str, Any] = {
    "type": "array",
    "description": "Exceptions to this policy: each names resources (a glob over URN, type or name), "
                   "why they are exempt, and the date (YYYY-MM-DD) after which the exemption ends.",
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": 1, "pattern": "\\S"},
            "expires": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        },
        "required": ["resource", "reason", "expires"],
    },
    "default": [],
}


def today() -> datetime.date:
    """Today's date; PAYMENTS_GUARD_TODAY (YYYY-MM-DD) pins it for reproducible runs."""
    pinned = os.environ.get("PAYMENTS_GUARD_TODAY")
    if pinned:
        try:
            return datetime.date.fromisoformat(pinned)
        except ValueError:
            pass
    return datetime.date.today()


def _matches(pattern: str, urn: str, type_: str, name: str) -> bool:
    return any(fnmatch.fnmatchcase(value, pattern) for value in (urn, type_, name) if value)


def find(config: Mapping[str, Any], urn: str, type_: str, name: str) -> Optional[Tuple[Mapping[str, Any], bool]]:
    """The exemption covering this resource and whether it is still in force (active ones first)."""
    entries = config.get("exemptions")
    if not isinstance(entries, list):
        return None
    expired = None
    current = today()
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        pattern, reason, expires = entry.get("resource"), entry.get("reason"), entry.get("expires")
        if not (isinstance(pattern, str) and isinstance(reason, str) and reason.strip() and isinstance(expires, str)):
            continue  # the CLI's schema validation rejects these; never trust them here
        if not _matches(pattern, urn, type_, name):
            continue
        try:
            end = datetime.date.fromisoformat(expires)
        except ValueError:  # 2027-02-30 passes the schema's pattern: never silently in force
            expired = expired or dict(entry, expires=f"{expires} (not a valid date)")
            continue
        if end >= current:
            return entry, True
        expired = expired or entry
    return (expired, False) if expired else None


def apply(config: Mapping[str, Any], level: str, message: str, urn: str, type_: str, name: str) -> Tuple[str, str]:
    """(level, message) after exemptions: advisory with the reason while in force."""
    found = find(config, urn, type_, name)
    if not found:
        return level, message
    entry, active = found
    if active:
        return "advisory", (f"{message}\nExempted until {entry['expires']} (was {level}): {entry['reason']}")
    return level, f"{message}\nThe exemption for this resource expired on {entry['expires']} ({entry['reason']})."
