"""Policy configuration as the CLI builds it for Configure.

The file is what `pulumi preview --policy-pack-config FILE` takes: a JSON object keyed by policy
name (or `all`), each value an enforcement level string or an object with an optional
`enforcementLevel` and the policy's properties. For each policy the CLI starts from its schema
defaults, applies the pack's initial config, then the file, and validates the properties against
the policy's JSON schema. A policy absent everywhere is sent with its default level.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Dict, Optional

from ..release import preset_names, preset_path
from ..rule import LEVELS


class PolicyConfigError(Exception):
    """A policy-config file the CLI would reject (exit status 2 of the check)."""


def resolve(path_or_preset: str) -> str:
    """A file path as given, or the shipped preset of that name (`pci-dss`, `pci-dss.json`) when
    no such file exists: an existing file always wins."""
    if os.path.exists(path_or_preset):
        return path_or_preset
    return preset_path(path_or_preset) or path_or_preset


def load_file(path: str) -> Dict[str, Any]:
    """A policy-config file, or a shipped preset by name."""
    given, path = path, resolve(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PolicyConfigError(f"cannot read policy config {given}: {exc.strerror} "
                                f"(or name a preset: {', '.join(preset_names())})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PolicyConfigError(f"policy config {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyConfigError(f"policy config {path} must be a JSON object keyed by policy name")
    return data


def _split(name: str, value: Any, where: str) -> tuple:
    """(level or None, properties) of one entry."""
    if isinstance(value, str):
        if value not in LEVELS:
            raise PolicyConfigError(f"{where}: policy '{name}': enforcement level '{value}' is not one of "
                                    f"{', '.join(LEVELS)}")
        return value, {}
    if not isinstance(value, dict):
        raise PolicyConfigError(f"{where}: policy '{name}': expected an enforcement level or an object, "
                                f"got {type(value).__name__}")
    level = value.get("enforcementLevel")
    if level is not None and level not in LEVELS:
        raise PolicyConfigError(f"{where}: policy '{name}': enforcementLevel '{level}' is not one of "
                                f"{', '.join(LEVELS)}")
    return level, {k: v for k, v in value.items() if k != "enforcementLevel"}


def _field_path(error: Any) -> str:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (("." if text else "") + str(step))
    return text or "(top level)"


def build(analyzer_info: Any, user: Optional[Mapping[str, Any]] = None, where: str = "policy config",
          warnings: Optional[list] = None) -> Dict[str, Dict[str, Any]]:
    """The Configure payload: policy name -> {enforcementLevel, properties}, validated.

    Entries for policies the pack does not have are passed over with a warning (one file often
    configures several packs of a policy group), as the CLI passes them over."""
    # Imported here, not at the top: the check reads the config file (`load_file`) before it starts
    # the program, and these imports (pulumi and grpc through the client, ~0.2 s) need not delay it.
    import jsonschema
    from google.protobuf import json_format

    user = {k: v for k, v in dict(user or {}).items() if k != "environments"}
    policies = {p.name: p for p in analyzer_info.policies}
    for name in user:
        if name != "all" and name not in policies:
            _split(name, user[name], where)
            if warnings is not None:
                warnings.append(f"{where}: pack '{analyzer_info.name}' has no policy named '{name}'; entry ignored")
    from .client import PROTO_TO_LEVEL
    # proto3 has no presence: an initial config's level 0 (advisory) cannot be told from "unset",
    # so only a non-zero level overrides the policy's own.
    initial = {}
    for name, cfg in analyzer_info.initialConfig.items():
        entry: Dict[str, Any] = {"properties": json_format.MessageToDict(cfg.properties)}
        if cfg.enforcementLevel:
            entry["enforcementLevel"] = PROTO_TO_LEVEL.get(cfg.enforcementLevel, "advisory")
        initial[name] = entry
    all_level = None
    if "all" in user:
        all_level, all_props = _split("all", user["all"], where)
        if all_props:
            raise PolicyConfigError(f"{where}: 'all' takes only an enforcement level")
    result: Dict[str, Dict[str, Any]] = {}
    for name, policy in policies.items():
        schema = json_format.MessageToDict(policy.configSchema) if policy.HasField("configSchema") else {}
        properties_schema = schema.get("properties", {})
        props = {key: spec["default"] for key, spec in properties_schema.items()
                 if isinstance(spec, dict) and "default" in spec}
        level = PROTO_TO_LEVEL.get(policy.enforcementLevel, "advisory")
        if name in initial:
            level = initial[name].get("enforcementLevel", level)
            props.update(initial[name].get("properties", {}))
        if all_level is not None:
            level = all_level
        if name in user:
            user_level, user_props = _split(name, user[name], where)
            level = user_level or level
            props.update(user_props)
        if properties_schema or props:
            full = {"type": "object", "properties": properties_schema}
            if schema.get("required"):
                full["required"] = list(schema["required"])
            validator = jsonschema.Draft7Validator(full)
            errors = sorted(validator.iter_errors(props), key=lambda e: list(e.absolute_path))
            if errors:
                first = errors[0]
                raise PolicyConfigError(
                    f"{where}: validating policy config: {analyzer_info.name} {analyzer_info.version}  "
                    f"{name}: {_field_path(first)}: {first.message}")
        result[name] = {"enforcementLevel": level, "properties": props}
    return result
