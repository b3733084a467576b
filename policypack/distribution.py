"""What a release does beyond the rules: the pack directory it serves itself from, the pack
directories it writes (`payments-guard pack`) and the projects a change touches (the pre-commit
hook). Its metadata, links and presets are in `release.py`.

Light on purpose: a written pack vendors this module and imports it at start-up, and
`payments-guard pack` runs under a plain python3, so the pack itself (grpc, pulumi-policy) is
imported only by the functions that build one.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from typing import Any, Dict, Iterable, List, Optional, Sequence

from . import PACK_DESCRIPTION, PACK_NAME, __version__
from .release import PACKAGE_DIR, RELEASE_FILE, preset_names, preset_path, release_metadata, runtime_requirements

#: A pack directory inside the package: `python -m pulumi.policy ADDR <it>` serves this installed
#: copy of the package, which is how an installed `payments-guard check` starts its pack.
SERVED_PACK_DIR = os.path.join(PACKAGE_DIR, "served")
PACK_NAME_RE = re.compile(r"^[a-zA-Z0-9-_.]{1,100}$")  # the engine's rule for pack names
#: The offline check is a development and CI tool: a written pack leaves it out.
EXCLUDED_FROM_PACK = ("offline",)


class DistributionError(Exception):
    """A `payments-guard pack` / preset request that cannot be carried out (one-line cause)."""


def load_preset(name: str) -> Dict[str, Any]:
    path = preset_path(name)
    if path is None:
        raise DistributionError(f"no preset named {name!r} (presets: {', '.join(preset_names()) or 'none'})")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# --- the projects a change touches (the pre-commit hook) -------------------------------------
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")


def pulumi_projects(paths: Iterable[str], root: str) -> List[str]:
    """The Pulumi projects containing `paths`: for each, the nearest directory at or above it
    (not above `root`) with a Pulumi.yaml. Relative to root, in first-seen order."""
    root = os.path.abspath(root)
    found: List[str] = []
    for path in paths:
        current = os.path.abspath(os.path.join(root, path))
        if not os.path.isdir(current):
            current = os.path.dirname(current)
        while True:
            if os.path.commonpath([current, root]) != root:
                break  # outside the repository
            if any(os.path.isfile(os.path.join(current, name)) for name in PROJECT_FILES):
                relative = os.path.relpath(current, root)
                if relative not in found:
                    found.append(relative)
                break
            if current == root:
                break
            current = os.path.dirname(current)
    return found


def project_runtime(project_dir: str) -> str:
    """The runtime name a Pulumi.yaml declares ("" when it cannot be read)."""
    import yaml
    for name in PROJECT_FILES:
        try:
            with open(os.path.join(project_dir, name), encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError):
            continue
        runtime = data.get("runtime") if isinstance(data, dict) else None
        runtime = runtime.get("name") if isinstance(runtime, dict) else runtime
        return runtime if isinstance(runtime, str) else ""
    return ""


# --- a pack of a selection, with a preset as its initial config ----------------------------
def initial_config(preset: Optional[Dict[str, Any]], policy_names: Sequence[str]) -> Dict[str, Dict[str, Any]]:
    """A preset (the `--policy-pack-config` format) as per-policy initial config: `all` spread
    over the policies, entries for policies not served dropped (the engine rejects them)."""
    if not preset:
        return {}
    result: Dict[str, Dict[str, Any]] = {}
    for name in policy_names:
        entry: Dict[str, Any] = {}
        if isinstance(preset.get("all"), str):
            entry["enforcementLevel"] = preset["all"]
        value = preset.get(name)
        if isinstance(value, str):
            entry["enforcementLevel"] = value
        elif isinstance(value, dict):
            entry.update(value)
        if entry:
            result[name] = entry
    return result


def build_selected_pack(name: str = PACK_NAME, policies: Optional[Iterable[str]] = None,
                        preset: Optional[Dict[str, Any]] = None):
    """The pack a written `__main__.py` serves: the named policies (all when None), the preset
    as pulumi-policy's initial_config. The preset's levels also become the policies' own: proto3
    cannot carry an initial-config level of `advisory` (it is the zero value, read as unset)."""
    from .pack import Pack, select_rules
    rules = select_rules(names=None if policies is None else list(policies))
    config = initial_config(preset, [rule.name for rule in rules])
    for rule in rules:
        level = config.get(rule.name, {}).get("enforcementLevel")
        if level:
            rule.level = level  # instance attribute: the class (and every other pack) is unchanged
    return Pack(rules, name=name, initial_config=config)


# --- writing a pack directory --------------------------------------------------------------
_MAIN_TEMPLATE = '''\
# Generated by `payments-guard pack` (payments-guard {version}). `pulumi preview --policy-pack <this
# directory>` runs it through `python -m pulumi.policy`: it builds the pack and serves it; nothing may
# print before the port line.
from policypack.distribution import build_selected_pack

NAME = {name!r}
#: The policies served (None: every policy of the release).
POLICIES = {policies}
#: The preset {preset_name} as the pack's initial config (also in policy-config.json).
PRESET = {preset}

build_selected_pack(NAME, POLICIES, PRESET).serve()
'''

_MANIFEST_TEMPLATE = '''\
# Written by `payments-guard pack` (payments-guard {version}). The CLI creates ./venv and installs
# requirements.txt into it on first use.
runtime:
  name: python
  options:
    virtualenv: venv
version: {version}
description: {description}
'''


def _ignore_for_pack(directory: str, names: Iterable[str]) -> set:
    skipped = {n for n in names if n == "__pycache__" or n.endswith(".pyc") or n == RELEASE_FILE}
    if os.path.abspath(directory) == PACKAGE_DIR:
        skipped |= set(EXCLUDED_FROM_PACK) & set(names)
    return skipped


def _dump_python(value: Any) -> str:
    """A JSON value as a Python literal (a preset holds only JSON types: repr is exact)."""
    import pprint
    return pprint.pformat(value, indent=1, width=100, sort_dicts=False)


def stage_pack(target: str, name: str = PACK_NAME, policies: Optional[Sequence[str]] = None,
               frameworks: Optional[Sequence[str]] = None, preset: Optional[str] = None) -> str:
    """Write a ready policy-pack directory at `target` (absent or empty): PulumiPolicy.yaml,
    __main__.py, requirements.txt (pulumi and pulumi-policy only), .gitignore, the `policypack`
    package without its offline check (presets included) and, with a preset, policy-config.json
    for `pulumi policy enable --config`. Returns the directory."""
    if not PACK_NAME_RE.match(name or ""):
        raise DistributionError(f"pack name {name!r} is not valid: letters, digits, '-', '_' and '.', "
                                "1 to 100 characters")
    target = os.path.abspath(target)
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        raise DistributionError(f"{target} exists and is not an empty directory")
    names = None  # every policy: then nothing of the pack is imported here (plain python3 can stage)
    if policies or frameworks:
        pack = _import_pack("selecting policies (--policies, --frameworks)")
        try:
            selected = pack.select_rules(names=policies or None, frameworks=frameworks or None)
        except ValueError as exc:
            raise DistributionError(str(exc)) from None
        if not selected:
            raise DistributionError("the --policies/--frameworks given select no policy")
        names = [rule.name for rule in selected]
    preset_content = None
    if preset:
        preset_content = load_preset(preset) if preset_path(preset) else _load_preset_file(preset)
        _validate_preset(preset_content, names, preset)

    metadata = release_metadata()
    if not runtime_requirements():
        raise DistributionError("cannot tell this release's requirements (no installed metadata, no "
                                "pyproject.toml readable by this Python): install the release")
    os.makedirs(target, exist_ok=True)
    shutil.copytree(PACKAGE_DIR, os.path.join(target, "policypack"), ignore=_ignore_for_pack)
    with open(os.path.join(target, "policypack", RELEASE_FILE), "w", encoding="utf-8") as handle:
        json.dump({"version": __version__, "urls": metadata["urls"], "requires": metadata["requires"]}, handle,
                  indent=2)
        handle.write("\n")
    preset_label = os.path.basename(preset)[:-5] if preset and preset.endswith(".json") else preset
    files = {
        "PulumiPolicy.yaml": _MANIFEST_TEMPLATE.format(version=__version__, description=PACK_DESCRIPTION),
        "__main__.py": _MAIN_TEMPLATE.format(version=__version__, name=name, policies=_dump_python(names),
                                             preset=_dump_python(preset_content),
                                             preset_name=repr(preset_label) if preset else "(none)"),
        "requirements.txt": "# What the pack needs to evaluate a stack (installed by every enforced preview).\n"
                            + "".join(f"{line}\n" for line in runtime_requirements()),
        ".gitignore": "venv/\n__pycache__/\n*.pyc\n",
    }
    if preset_content is not None:
        files["policy-config.json"] = json.dumps(preset_content, indent=2) + "\n"
    for filename, text in files.items():
        with open(os.path.join(target, filename), "w", encoding="utf-8") as handle:
            handle.write(text)
    return target


def _load_preset_file(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise DistributionError(f"no preset named {path!r} and no such file: {exc.strerror} "
                                f"(presets: {', '.join(preset_names())})") from None
    except ValueError as exc:
        raise DistributionError(f"preset {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DistributionError(f"preset {path} must be a JSON object keyed by policy name")
    return data


def _import_pack(why: str) -> Any:
    """The pack module, which needs the release's dependencies (pulumi, pulumi-policy, grpc): under
    a python3 without them, a one-line cause instead of a traceback."""
    try:
        from . import pack
    except ModuleNotFoundError as exc:
        raise DistributionError(f"{why} loads the policies, which need {exc.name} (not installed): install the "
                                "release (pip install payments-guard) or run from the project's venv") from None
    return pack


def _validate_preset(preset: Dict[str, Any], names: Optional[Sequence[str]], label: str) -> None:
    """Against the served policies' schemas, as the CLI validates a policy config (needs the
    `check` extra's jsonschema)."""
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        raise DistributionError("validating a preset needs jsonschema: "
                                "pip install 'payments-guard[check]'") from None
    _import_pack("validating a preset")
    from .offline.policy_config import PolicyConfigError, build
    pack = build_selected_pack(PACK_NAME, names, None)
    info = pack.analyzer_info()
    try:
        build(info, preset, where=f"preset {label}")
    except PolicyConfigError as exc:
        raise DistributionError(str(exc)) from None
