"""The shape of a rule: metadata next to the check, one small class per policy.

A rule never sees pulumi-policy's proxies: the servicer hands it `ResourceView`s (plain values,
unknowns as sentinels) and a `Context` with its configuration already merged with the schema
defaults. A rule yields `Violation`s; it does not raise (the servicer still guards it).
"""
from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .exemptions import EXEMPTIONS_SCHEMA
from .props import ResourceView

ADVISORY, MANDATORY, REMEDIATE, DISABLED = "advisory", "mandatory", "remediate", "disabled"
LEVELS = (ADVISORY, MANDATORY, REMEDIATE, DISABLED)
SEVERITIES = ("low", "medium", "high", "critical")
KINDS = ("resource", "stack")
CONCERNS = ("self-sufficiency", "load-balancing", "encryption", "secrets", "networking",
            "deployment", "capacity", "tagging", "containers", "registry", "logging")

@dataclass(frozen=True)
class Framework:
    """A compliance framework a rule serves, with the requirement or control IDs."""
    name: str
    version: str
    controls: Tuple[str, ...]


PCI = "PCI DSS"
FSBP = "AWS Foundational Security Best Practices"
CIS = "CIS AWS Foundations Benchmark"


def pci(*controls: str) -> Framework:
    return Framework(PCI, "4.0", tuple(controls))


def fsbp(*controls: str) -> Framework:
    return Framework(FSBP, "1.0", tuple(controls))


def cis(*controls: str) -> Framework:
    return Framework(CIS, "3.0", tuple(controls))


@dataclass(frozen=True)
class Violation:
    """One finding. `path` is the offending property path (used for messages and fingerprints);
    `urn` is set by stack rules to name the resource at fault; `level` ("" or "mandatory") asks
    for a stricter level than the configured one (e.g. deletion protection on production stacks):
    the servicer raises advisory to it, never lowers a level, never revives a disabled policy."""
    message: str
    urn: Optional[str] = None
    path: str = ""
    level: str = ""


class NotApplicable(Exception):
    """Raised by a rule to say it does not apply (reported like pulumi-policy's args.not_applicable)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Context:
    """What a rule knows besides the resource: its config and the stack it runs for."""
    config: Mapping[str, Any]
    stack: str = ""
    project: str = ""
    organization: str = ""
    dry_run: bool = False
    stack_tags: Mapping[str, str] = field(default_factory=dict)


class StackView:
    """Every resource of the stack (AnalyzeStack's outputs), indexed once per call.

    `reads`: resources read, not created, by the stack (StackReference, `.get`), which only stored
    state shows a pack; kept out of `resources` and the indexes, so a reference to one counts as
    external as it does at preview."""

    def __init__(self, resources: Sequence[ResourceView], reads: Sequence[ResourceView] = ()) -> None:
        self.reads = list(reads)
        self.resources = list(resources)
        self.by_urn: Dict[str, ResourceView] = {r.urn: r for r in self.resources}
        self._by_type: Dict[str, List[ResourceView]] = {}
        for resource in self.resources:
            self._by_type.setdefault(resource.type, []).append(resource)
        self._by_id: Optional[Dict[str, ResourceView]] = None

    def of_type(self, *tokens: str) -> List[ResourceView]:
        if len(tokens) == 1:
            return list(self._by_type.get(tokens[0], ()))
        result: List[ResourceView] = []
        for token in dict.fromkeys(tokens):
            result.extend(self._by_type.get(token, ()))
        return result

    def by_reference(self, value: Any) -> Optional[ResourceView]:
        """The stack resource a string refers to: its URN, id, arn or name (outputs)."""
        if not isinstance(value, str) or not value:
            return None
        if value in self.by_urn:
            return self.by_urn[value]
        if self._by_id is None:
            index: Dict[str, ResourceView] = {}
            for resource in self.resources:
                for key in ("arn", "id"):
                    ref = resource.props.get(key)
                    if isinstance(ref, str) and ref:
                        index.setdefault(ref, resource)
            self._by_id = index
        return self._by_id.get(value)


class Rule:
    """Base of every policy. Subclasses set the metadata and override `check` (resource rules,
    called only for `resource_types`) or `check_stack` (stack rules)."""

    name: str = ""
    description: str = ""
    kind: str = "resource"          # "resource" | "stack"
    level: str = MANDATORY
    severity: str = "medium"
    concern: str = ""
    seeds: Tuple[int, ...] = ()     # failure classes of the seed analysis this rule encodes
    frameworks: Tuple[Framework, ...] = ()
    remediation: str = ""
    resource_types: Tuple[str, ...] = ()   # resource rules: the types it reads; () = every type
    config_properties: Mapping[str, Mapping[str, Any]] = {}
    compliant_example: str = ""
    remediable: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A policy's metadata is checked where it is declared: a typo in its kind, level, severity
        or concern fails the import (every test, the pack's start), never a user's preview."""
        super().__init_subclass__(**kwargs)
        if not cls.name:
            return  # a base shared by several policies, not a policy
        problems = [f"{field} {value!r} is not one of {', '.join(allowed)}"
                    for field, value, allowed in (("kind", cls.kind, KINDS), ("level", cls.level, LEVELS),
                                                  ("severity", cls.severity, SEVERITIES),
                                                  ("concern", cls.concern, CONCERNS))
                    if value not in allowed]
        if problems:
            raise TypeError(f"policy {cls.name}: " + "; ".join(problems))

    # --- configuration -------------------------------------------------------------------
    @classmethod
    def config_schema(cls) -> Dict[str, Any]:
        """JSON schema properties of this rule's config (without enforcementLevel); every rule
        accepts `exemptions`."""
        schema = copy.deepcopy(dict(cls.config_properties))
        schema.setdefault("exemptions", copy.deepcopy(EXEMPTIONS_SCHEMA))
        return schema

    @classmethod
    def config_defaults(cls) -> Dict[str, Any]:
        return {key: copy.deepcopy(spec["default"]) for key, spec in cls.config_schema().items()
                if "default" in spec}

    @classmethod
    def merged_config(cls, given: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """Schema defaults overlaid with the configured values (a pack never configured gets {})."""
        merged = cls.config_defaults()
        if isinstance(given, Mapping):
            for key, value in given.items():
                if key != "enforcementLevel":
                    merged[key] = value
        return merged

    # --- evaluation ----------------------------------------------------------------------
    def applies_to(self, type_: str) -> bool:
        return not self.resource_types or type_ in self.resource_types

    def check(self, resource: ResourceView, ctx: Context) -> Iterable[Violation]:
        return ()

    def check_stack(self, stack: StackView, ctx: Context) -> Iterable[Violation]:
        return ()

    def remediate(self, resource: ResourceView, ctx: Context) -> Optional[Dict[str, Any]]:
        """Return the properties to change (top-level wire keys -> plain new values), or None."""
        return None

    @property
    def url(self) -> str:
        """`<documentation page>#<name>`, the page declared in pyproject.toml's [project.urls]
        (or its override); "" when none is declared."""
        from .distribution import policy_url
        return policy_url(self.name)


def glob_match(value: str, patterns: Iterable[Any]) -> bool:
    """Case-sensitive shell-style match of `value` against any of `patterns` (non-strings ignored)."""
    return any(isinstance(p, str) and fnmatch.fnmatchcase(value, p) for p in patterns)


def cfg_list(ctx: Context, key: str) -> List[Any]:
    """A config value that should be a list; anything else reads as empty."""
    value = ctx.config.get(key)
    return list(value) if isinstance(value, (list, tuple)) else []


def cfg_number(ctx: Context, key: str, fallback: float) -> float:
    value = ctx.config.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return fallback
    return float(value)


def cfg_bool(ctx: Context, key: str, fallback: bool) -> bool:
    value = ctx.config.get(key)
    return value if isinstance(value, bool) else fallback
