"""Rules of the tagging concern: required-tags (seed 10), remediable.

Which resources: every `aws:` resource whose pulumi-aws type has a `tags` input. The list ships
as `policypack/data/taggable_types.json`, generated from the installed pulumi-aws by
`scripts/generate_taggable_types.py` (a test keeps it current). It is read lazily, once per
process, on the first resource checked: the pack's start-up never imports pulumi_aws. A type the
list does not know (a newer pulumi-aws than the list) is still checked when its inputs visibly
carry a `tags` map.

Decisions (documented in the config schema too):
  * Tag keys match case-insensitively by default (`caseSensitive: false`): `Environment`
    satisfies `environment`. AWS itself treats keys as case-sensitive, so teams that rely on exact
    keys for cost allocation set `caseSensitive: true`; the message then points out a key that
    differs only in case.
  * The provider's default tags count. Analyze carries the resource's provider and its inputs:
    `defaultTags` arrives as an object `{"tags": {...}}`, as a JSON string of it (the Python SDK
    and the default provider built from `aws:defaultTags` config JSON-encode it) or as a max-1
    list. A resource's own tag overrides a default tag of the same key (as the provider merges).
    `aws:autoscaling/group:Group` takes a list of {key, value, propagateAtLaunch} blocks and the
    provider does NOT apply defaultTags to it: only its own tags count.
  * Unknowns (preview): an unknown `tags` (or unknown defaultTags) is silent, an unknown value
    counts as set; only tags known to be missing (or known empty) are reported.
  * A value counts as set when it is a non-blank string (numbers and booleans are tolerated);
    blank strings and null are reported as empty. Values are never echoed (they may be secret);
    messages name keys only, and never a key of a secret `tags` map.
  * `tagsAll` (an output) is ignored: Analyze sees inputs.

Remediation (enforcement level `remediate`): adds the missing (or empty) required tags for
which `defaultTagValues` has a value and returns `{"tags": merged}`; the resource's other tags,
unknown values and secret values are preserved as they are (secret stays secret). Tags without
a configured value cannot be invented: the validation, which then runs at mandatory, still
reports them.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any, Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Tuple

from .. import props as P
from ..data_files import read_json
from ..rule import Context, Framework, Rule, Violation, cfg_bool, cfg_list, glob_match, pci, string_list

CONCERN = "tagging"  # the concern of every rule here (Rule reads it)

DEFAULT_REQUIRED_TAGS = ["environment", "team", "cost-center", "application", "compliance", "backup"]
ASG = "aws:autoscaling/group:Group"
DATA_FILE = "taggable_types.json"


# --- the shipped list of taggable types ----------------------------------------------------
class TaggableTypes(NamedTuple):
    map_types: FrozenSet[str]      # `tags` is a string map; provider defaultTags apply
    list_types: FrozenSet[str]     # `tags` is a list of {key, value, ...} blocks (ASG)
    ignored: FrozenSet[str]        # a `tags` input that is not the resource's own tags
    untagged: FrozenSet[str]       # registered types without a `tags` input
    pulumi_aws: str                # the pulumi-aws version the list was generated from
    loaded: bool                   # False when the data file could not be read (fallback mode)


_taggable: Optional[TaggableTypes] = None
_taggable_lock = threading.Lock()


def _read_data() -> Dict[str, Any]:
    return read_json(DATA_FILE)


def taggable_types() -> TaggableTypes:
    """The shipped list, loaded once per process (thread-safe; the pack serves on 4 threads)."""
    global _taggable
    if _taggable is not None:
        return _taggable
    with _taggable_lock:
        if _taggable is None:
            try:
                data = _read_data()
                strs = lambda v: frozenset(t for t in (v or ()) if isinstance(t, str))  # noqa: E731
                _taggable = TaggableTypes(strs(data.get("types")), strs(data.get("listTagTypes")),
                                          strs(data.get("notResourceTags")), strs(data.get("untaggedTypes")),
                                          str(data.get("pulumiAws", "")), True)
            except Exception as exc:  # noqa: BLE001 - degrade, never fail the preview
                print(f"payments-guard: required-tags could not read {DATA_FILE} ({exc}); checking only "
                      "resources whose inputs carry a `tags` map", file=sys.stderr)
                _taggable = TaggableTypes(frozenset(), frozenset((ASG,)), frozenset(), frozenset(), "", False)
    return _taggable


# --- reading tags ----------------------------------------------------------------------------
def _value_state(value: Any) -> str:
    """'set' | 'unknown' | 'empty' for one tag value."""
    if P.is_unknown(value):
        return "unknown"
    if isinstance(value, str):
        return "set" if value.strip() else "empty"
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return "set"
    return "empty"


def default_tags(provider_props: Mapping) -> Any:
    """The provider's default tags: a mapping (possibly empty), or P.UNKNOWN."""
    value = P.parse_json(provider_props.get("defaultTags") if isinstance(provider_props, Mapping) else None)
    if value is P.UNKNOWN:
        return P.UNKNOWN
    blocks = value if isinstance(value, list) else [value]
    merged: Dict[str, Any] = {}
    for block in blocks[:8]:
        block = P.parse_json(block)
        if block is P.UNKNOWN:
            return P.UNKNOWN
        if not isinstance(block, Mapping):
            continue
        tags = P.parse_json(block.get("tags"))
        if tags is P.UNKNOWN:
            return P.UNKNOWN
        if isinstance(tags, Mapping):
            merged.update((k, v) for k, v in tags.items() if isinstance(k, str))
    return merged


class Assessment(NamedTuple):
    missing: List[str]                 # required keys no tag matches
    empty: List[Tuple[str, str]]       # (required key, the resource's own matching key or "")
    not_a_map: bool                    # `tags` present but of the wrong shape
    case_hints: Dict[str, List[str]]   # required key -> keys that differ only in case (case-sensitive mode)


def _required(ctx: Context) -> List[str]:
    seen, result = set(), []
    for tag in cfg_list(ctx, "requiredTags"):
        if isinstance(tag, str) and tag.strip() and tag not in seen:
            seen.add(tag)
            result.append(tag)
    return result


def _assess(own: Mapping[str, Any], defaults: Mapping[str, Any], required: List[str], case_sensitive: bool,
            not_a_map: bool, hints_allowed: bool) -> Assessment:
    effective: Dict[str, Tuple[Any, bool]] = {k: (v, False) for k, v in defaults.items()}
    effective.update((k, (v, True)) for k, v in own.items())  # the resource's own tag wins
    norm = (lambda k: k) if case_sensitive else (lambda k: k.casefold())  # noqa: E731
    index: Dict[str, List[Tuple[str, Any, bool]]] = {}
    for key, (value, is_own) in effective.items():
        index.setdefault(norm(key), []).append((key, value, is_own))
    missing, empty, hints = [], [], {}
    for tag in required:
        candidates = index.get(norm(tag), [])
        if not candidates:
            missing.append(tag)
            if case_sensitive and hints_allowed:
                folded = [k for k in effective if k != tag and k.casefold() == tag.casefold()]
                if folded:
                    hints[tag] = sorted(folded)
            continue
        states = {_value_state(value) for _, value, _ in candidates}
        if states & {"set", "unknown"}:
            continue
        own_key = next((key for key, _, is_own in candidates if is_own), "")
        empty.append((tag, own_key))
    return Assessment(missing, empty, not_a_map, hints)


def _list_tags(tags: Any) -> Any:
    """ASG-style tag blocks as a {key: value} mapping, or P.UNKNOWN when a block's key is unknown."""
    result: Dict[str, Any] = {}
    for block in tags:
        if P.is_unknown(block):
            return P.UNKNOWN
        if not isinstance(block, Mapping):
            continue
        key = block.get("key")
        if P.is_unknown(key):
            return P.UNKNOWN
        if isinstance(key, str):
            result[key] = block.get("value")
    return result


def _rewrap(value: Any, path: Tuple, secret_paths: Iterable[Tuple]) -> Any:
    """A decoded value back in wire form, secrets (recorded by path) wrapped again."""
    if path in secret_paths:
        return {P.SIG_KEY: P.SECRET_SIG, "value": value}
    if isinstance(value, Mapping):
        return {k: _rewrap(v, path + (k,), secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrap(v, path + (i,), secret_paths) for i, v in enumerate(value)]
    return value


class RequiredTags(Rule, policy="required-tags", level="mandatory", severity="low", seeds=(10,), remediable=True):
    """Taggable AWS resources must carry the required tags (environment, team, cost-center, application,
    compliance, backup by default), counting the provider's default tags.

    Remediation:
        Set the required tags once on the provider, `aws.Provider("aws",
        default_tags=aws.ProviderDefaultTagsArgs(tags=common_tags))` (or the `aws:defaultTags` stack config), or
        on the resource with `tags={**common_tags, ...}`; every value non-empty. For `aws.autoscaling.Group` use
        `tags=[aws.autoscaling.GroupTagArgs(key=..., value=..., propagate_at_launch=True)]` (provider default
        tags do not apply to it). At enforcement level `remediate` the pack adds missing tags from
        `defaultTagValues`.

    Compliant example:
        common_tags = {"environment": "production", "team": "payments", "cost-center": "cc-1234",
                       "application": "payment-processor", "compliance": "pci-dss", "backup": "daily"}
        aws.ecs.Cluster("payments", tags=common_tags)
    """
    frameworks = (pci("12.5.1"),
                  Framework("AWS Resource Tagging Standard", "1.0.0", ("ECS.13", "ECS.14", "ECS.15")))
    resource_types = ()  # every aws: type; `check` narrows to the taggable ones
    config_properties = {
        "requiredTags": string_list(
            list(DEFAULT_REQUIRED_TAGS),
            "Tag keys every taggable resource must carry with a non-empty value (its own "
            "`tags` or the provider's `default_tags`)."),
        "caseSensitive": {
            "type": "boolean", "default": False,
            "description": "Match tag keys exactly. Default false: `Environment` satisfies `environment` "
                           "(AWS keys are case-sensitive; set true when cost allocation relies on exact keys).",
        },
        "defaultTagValues": {
            "type": "object", "additionalProperties": {"type": "string"}, "default": {},
            "description": "Tag -> value added by remediation (enforcement level `remediate`) when the tag is "
                           "missing or empty. Tags without a value here are only reported.",
        },
        "excludeTypes": string_list([], "Type-token globs not checked (e.g. \"aws:iam/*\")."),
    }

    def applies_to(self, type_: str) -> bool:
        return type_.startswith("aws:")

    # --- shared evaluation -------------------------------------------------------------------
    def _shape(self, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        """'map' | 'list' | None (not checked)."""
        if glob_match(resource.type, cfg_list(ctx, "excludeTypes")):
            return None
        known = taggable_types()
        if resource.type in known.ignored or resource.type in known.untagged:
            return None
        if resource.type in known.list_types:
            return "list"
        if resource.type in known.map_types:
            return "map"
        # A type the shipped list has never seen (a newer pulumi-aws): checked when it carries a tags map.
        return "map" if isinstance(resource.props.get("tags"), Mapping) else None

    def _evaluate(self, resource: P.ResourceView, ctx: Context) -> Optional[Tuple[str, Assessment, Any]]:
        """(shape, assessment, the resource's own tags) or None when nothing can be decided."""
        shape = self._shape(resource, ctx)
        required = _required(ctx)
        if shape is None or not required:
            return None
        case_sensitive = cfg_bool(ctx, "caseSensitive", False)
        raw = resource.get("tags")
        if raw is P.UNKNOWN:
            return None  # unknown tags count as set
        hints_allowed = not resource.is_secret(("tags",))
        if shape == "list":
            items = P.as_list(raw)
            if items is P.MISSING:
                own: Any = {}
            elif isinstance(items, list):
                own = _list_tags(items)
                if own is P.UNKNOWN:
                    return None
            else:
                return shape, _assess({}, {}, required, case_sensitive, True, hints_allowed), raw
            return shape, _assess(own, {}, required, case_sensitive, False, hints_allowed), raw
        defaults = default_tags(resource.provider_props)
        if defaults is P.UNKNOWN:
            return None  # the provider's default tags are not known yet: they may carry them all
        if raw is P.MISSING:
            return shape, _assess({}, defaults, required, case_sensitive, False, hints_allowed), raw
        if not isinstance(raw, Mapping):
            return shape, _assess({}, defaults, required, case_sensitive, True, hints_allowed), raw
        own = {k: v for k, v in raw.items() if isinstance(k, str)}
        return shape, _assess(own, defaults, required, case_sensitive, False, hints_allowed), raw

    # --- validation --------------------------------------------------------------------------
    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        result = self._evaluate(resource, ctx)
        if result is None:
            return
        shape, found, _ = result
        if not (found.missing or found.empty or found.not_a_map):
            return
        parts = []
        if found.not_a_map:
            parts.append("its `tags` is not " + ("a list of tag blocks" if shape == "list" else "a map of strings"))
        if found.missing:
            text = "missing required tags: " + ", ".join(found.missing)
            hints = [f"'{k}' (found {', '.join(repr(x) for x in v)})" for k, v in found.case_hints.items()]
            if hints:
                text += " — keys are matched case-sensitively: " + "; ".join(hints)
            parts.append(text)
        if found.empty:
            parts.append("empty values for: " + ", ".join(tag for tag, _ in found.empty))
        if shape == "list":
            how = ("add `aws.autoscaling.GroupTagArgs(key=..., value=..., propagate_at_launch=True)` entries to "
                   "`tags` (the provider's default tags do not apply to auto scaling groups)")
        else:
            how = ("set them in the resource's `tags` or once in the provider's "
                   "`default_tags=aws.ProviderDefaultTagsArgs(tags={...})`")
        yield Violation(f"Resource '{resource.name}': " + "; ".join(parts) + f". To fix, {how}.",
                        path="tags")

    # --- remediation -------------------------------------------------------------------------
    def remediate(self, resource: P.ResourceView, ctx: Context) -> Optional[Dict[str, Any]]:
        result = self._evaluate(resource, ctx)
        if result is None:
            return None
        shape, found, raw = result
        if found.not_a_map or not (found.missing or found.empty):
            return None
        values = ctx.config.get("defaultTagValues")
        if not isinstance(values, Mapping):
            return None
        folded = {k.casefold(): v for k, v in values.items() if isinstance(k, str)}

        def value_for(tag: str) -> Optional[str]:
            value = values.get(tag)
            if value is None and not cfg_bool(ctx, "caseSensitive", False):
                value = folded.get(tag.casefold())
            return value if isinstance(value, str) and value.strip() else None

        additions: List[Tuple[str, str]] = []  # (key to set, value)
        for tag in found.missing:
            value = value_for(tag)
            if value is not None:
                additions.append((tag, value))
        for tag, own_key in found.empty:
            value = value_for(tag)
            if value is not None:
                additions.append((own_key or tag, value))
        if not additions:
            return None
        whole_secret = ("tags",) in resource.secret_paths  # the servicer re-wraps the whole value
        secrets = set() if whole_secret else resource.secret_paths
        if shape == "list":
            blocks = list(raw) if isinstance(raw, list) else ([] if raw is P.MISSING else [raw])
            merged_list = [_rewrap(block, ("tags", i), secrets) for i, block in enumerate(blocks)]
            pending = dict(additions)
            for i, block in enumerate(merged_list):
                key = block.get("key") if isinstance(block, Mapping) else None
                if isinstance(key, str) and key in pending:  # an empty value: replace it in place
                    merged_list[i] = {**block, "value": pending.pop(key)}
            for key, value in pending.items():
                merged_list.append({"key": key, "value": value, "propagateAtLaunch": True})
            return {"tags": merged_list}
        merged = {k: _rewrap(v, ("tags", k), secrets) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        for key, value in additions:
            merged[key] = value
        return {"tags": merged}


RULES = [RequiredTags]
