"""The release: its metadata (version, requirements, links), the documentation link of each
policy and the presets it ships.

Imports nothing of the pack and only the standard library, so that every layer can use it (a
rule's `url`, the catalogue, the policy config, the reports) and a written pack can read it at
start-up.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from . import __version__

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PRESETS_DIR = os.path.join(PACKAGE_DIR, "presets")
DISTRIBUTION = "payments-guard"
#: Override the documentation page of the rules (each policy's `url` is `<it>#<policy name>`).
DOCS_URL_ENV = "PAYMENTS_GUARD_DOCS_URL"
#: Override the project's home page (the SARIF tool's informationUri).
HOMEPAGE_URL_ENV = "PAYMENTS_GUARD_HOMEPAGE_URL"
#: Written into a vendored copy of the package, which has no distribution metadata of its own.
RELEASE_FILE = "_release.json"


# --- presets -------------------------------------------------------------------------------
def preset_names() -> List[str]:
    try:
        names = os.listdir(PRESETS_DIR)
    except OSError:
        return []
    return sorted(name[:-5] for name in names if name.endswith(".json"))


def preset_path(name: str) -> Optional[str]:
    """The shipped preset called `name` (with or without `.json`), or None."""
    stem = name[:-5] if name.endswith(".json") else name
    if stem in preset_names():
        return os.path.join(PRESETS_DIR, stem + ".json")
    return None


# --- release metadata: version, requirements, links -----------------------------------------
_METADATA_CACHE: Dict[str, Any] = {}


def _from_installed_distribution() -> Optional[Dict[str, Any]]:
    """The installed distribution's metadata, when it is the one this package was loaded from
    (a clone may sit next to an older installed release)."""
    try:
        from importlib import metadata
        dist = metadata.distribution(DISTRIBUTION)
    except Exception:  # noqa: BLE001 - not installed (a clone, a vendored pack)
        return None
    try:
        located = os.path.realpath(str(dist.locate_file(os.path.join("policypack", "__init__.py"))))
    except Exception:  # noqa: BLE001
        return None
    if located != os.path.realpath(os.path.join(PACKAGE_DIR, "__init__.py")):
        return None
    urls = {}
    for entry in dist.metadata.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if url.strip():
            urls[label.strip()] = url.strip()
    requires = [r.split(";")[0].strip() for r in (dist.requires or [])
                if ";" not in r or "extra" not in r.split(";", 1)[1]]
    return {"version": dist.version, "urls": urls, "requires": requires}


def _from_release_file() -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(PACKAGE_DIR, RELEASE_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _from_pyproject() -> Optional[Dict[str, Any]]:
    """A clone: pyproject.toml beside the package."""
    path = os.path.join(os.path.dirname(PACKAGE_DIR), "pyproject.toml")
    try:
        import tomllib  # python >= 3.11
    except ImportError:  # pragma: no cover - older pythons read no links from a clone
        return None
    try:
        with open(path, "rb") as handle:
            project = tomllib.load(handle).get("project", {})
    except (OSError, ValueError):
        return None
    if project.get("name") != DISTRIBUTION:
        return None
    return {"version": project.get("version", __version__), "urls": dict(project.get("urls", {})),
            "requires": list(project.get("dependencies", []))}


def release_metadata() -> Dict[str, Any]:
    """{"version", "urls", "requires"} of this release, from the one declared place
    (pyproject.toml's [project]) as it reaches this copy of the package: a clone's pyproject.toml
    (a build's leftover metadata beside it may be stale), else the installed distribution's
    metadata, else the release file of a written pack."""
    if "value" not in _METADATA_CACHE:
        found = _from_pyproject() or _from_installed_distribution() or _from_release_file()
        _METADATA_CACHE["value"] = found or {"version": __version__, "urls": {}, "requires": []}
    return _METADATA_CACHE["value"]


def _first(urls: Dict[str, str], *labels: str) -> str:
    lowered = {k.lower(): v for k, v in urls.items()}
    for label in labels:
        if lowered.get(label.lower()):
            return lowered[label.lower()]
    return ""


def docs_url() -> str:
    """The rules' documentation page ("" when none is declared: no link is better than an
    invented one)."""
    return os.environ.get(DOCS_URL_ENV, "").strip() or _first(release_metadata()["urls"], "Documentation")


def homepage_url() -> str:
    return (os.environ.get(HOMEPAGE_URL_ENV, "").strip()
            or _first(release_metadata()["urls"], "Homepage", "Repository", "Source")
            or docs_url().split("#")[0])


def policy_url(policy_name: str) -> str:
    base = docs_url()
    return f"{base.split('#')[0]}#{policy_name}" if base else ""


def runtime_requirements() -> List[str]:
    """What the pack needs to evaluate a stack (pulumi, pulumi-policy): the release's own
    dependencies, without any extra."""
    return list(release_metadata()["requires"])


def versions() -> Dict[str, str]:
    from importlib import metadata
    result = {"payments-guard": __version__}
    for name in ("pulumi-policy", "pulumi"):
        try:
            result[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            result[name] = "not installed"
    return result
