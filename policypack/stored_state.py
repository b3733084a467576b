"""What the pack needs to judge a stack's stored state (`pulumi policy analyze`) as it judges a preview.

`pulumi policy analyze` (pkg/resource/deploy/analyze_snapshot.go) sends every resource of the snapshot
not pending deletion to Analyze (stored inputs) and AnalyzeStack (stored outputs), but:

- it sends no ConfigureStack (the analyzers are loaded without options, and no PULUMI_STACK is set):
  the stack and project are only in the URNs, `urn:pulumi:<stack>::<project>::<type>::<name>`;
- the snapshot holds *read* resources, which a preview never shows a pack: every
  `pulumi.StackReference` and every `Resource.get`. The state marks them `external: true`; the
  analyzer protocol does not carry that flag. What does tell them apart is what the engine stores as
  their inputs: `GenerateReadSteps` (pkg/resource/deploy/step_generator.go) stores
  `Inputs: event.Properties()`, the properties of the ReadResourceRequest, which are only the
  optional `state` arguments of `.get` (the Python SDK drops the None ones, pulumi/runtime/rpc.py
  `serialize_properties`), so a plain `Vpc.get(name, id)` stores `{}`. A registered resource's
  stored inputs are the provider-checked inputs and are never empty in practice for pulumi-aws
  (arguments, schema defaults, autonames). The engine hands the pack inputs without internal keys
  (`SkipInternalKeys`, pkg/resource/plugin/analyzer_plugin.go), so `__defaults` cannot tell either.
  So: a StackReference (its type), or a custom resource (it has a provider) whose stored inputs are
  empty, evaluated without ConfigureStack. At a preview read resources never reach Analyze, and an
  engine that configured the stack is not analyzing stored state: no resource is judged a read then.
  The one look-alike: a resource created with no arguments whose provider filled in none (stored
  inputs `{"__defaults": []}`), which is then skipped like a read.
- secrets the CLI cannot decrypt are the string "[secret]", whatever their type was.
"""
from __future__ import annotations

from typing import Any, FrozenSet, Iterable, Optional, Set, Tuple

from . import props as P

REDACTED = "[secret]"
STACK_REFERENCE = "pulumi:pulumi:StackReference"


def identity_from_urn(urn: str) -> Optional[Tuple[str, str]]:
    """(stack, project) of `urn:pulumi:<stack>::<project>::...`, or None for anything else."""
    if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
        return None
    parts = urn[len("urn:pulumi:"):].split("::")
    if len(parts) < 4 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def is_read_resource(type_: str, has_provider: bool, inputs_empty: bool, stack_configured: bool) -> bool:
    """Whether a resource handed to Analyze is a read (`external: true` in the state); see the module doc."""
    if type_ == STACK_REFERENCE:
        return True
    return not stack_configured and has_provider and inputs_empty and not type_.startswith("pulumi:")


class Redacted(str):
    """A value the CLI redacted to "[secret]": rules see the unknown sentinel (a value that exists but
    is not known, never a placeholder or a weak value); the servicer finds it by its class."""
    __slots__ = ()


#: The one instance: equal to (and hashed like) the SDK's unknown string sentinel.
REDACTED_VALUE = Redacted(P.UNKNOWN_STRING)


def redacted_keys(props: Any, secret_paths: Iterable[Tuple]) -> FrozenSet[str]:
    """Top-level keys under which a redacted value sits (only secret paths can hold one)."""
    keys: Set[str] = set()
    for path in secret_paths:
        if path and isinstance(path[0], str) and _holds_redacted(props.get(path[0]), 0):
            keys.add(path[0])
    return frozenset(keys)


def _holds_redacted(value: Any, depth: int) -> bool:
    if isinstance(value, Redacted):
        return True
    if depth > 64:
        return False
    if isinstance(value, dict):
        return any(_holds_redacted(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_holds_redacted(v, depth + 1) for v in value)
    return False


class RedactedProps(dict):
    """A resource's properties when some were redacted: notes which of those a rule looked up
    (`get`, `[]`), so that a rule that needed one is reported not-applicable rather than passed.
    Iterating over every value (scans of all strings) does not count as needing one."""
    __slots__ = ("redacted", "touched")

    def __init__(self, values: dict, redacted: FrozenSet[str]) -> None:
        super().__init__(values)
        self.redacted = redacted
        self.touched: Set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self.redacted:
            self.touched.add(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        if key in self.redacted:
            self.touched.add(key)
        return super().__getitem__(key)


#: Outputs other resources' references are matched against: redacted, a reference to the resource
#: cannot be told from one to infrastructure outside the stack.
IDENTITY_KEYS = frozenset(("id", "arn"))


def not_applicable_reason(views: Iterable[P.ResourceView], found_violations: bool) -> str:
    """Why a rule could not decide: the redacted properties it looked up ("" when none). A rule that
    found violations decided from other values, unless it looked up a redacted id or ARN (then a
    reference it reports may well be to that resource)."""
    needed = []
    for view in views:
        props = view.props
        if isinstance(props, RedactedProps) and props.touched:
            keys = props.touched & IDENTITY_KEYS if found_violations else props.touched
            needed.extend(f"{view.name}.{key}" for key in sorted(keys))
    if not needed:
        return ""
    shown = ", ".join(needed[:5]) + (f" and {len(needed) - 5} more" if len(needed) > 5 else "")
    return (f"needs {shown}, stored as a secret that could not be decrypted (\"[secret]\"); "
            "analyze with the stack's secrets provider available to judge it")


def reset(views: Iterable[P.ResourceView]) -> None:
    for view in views:
        if isinstance(view.props, RedactedProps):
            view.props.touched.clear()
