"""StackReferences in stored state, for no-cross-environment-references (seeds 1 and 4).

A preview never shows a pack a `pulumi.StackReference` (a read, not a registered resource); stored
state does (`pulumi policy analyze`), and the servicer keeps it in `StackView.reads`. Its `name`
(`org/project/stack`) says which stack it reads: one of another environment is the seed's
"dev defaults to the production legacy stack", reported on the reference itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Iterator, Optional

from .. import props as P
from ..environments import environments_named, stack_environment
from ..rule import Context, StackView, Violation
from ..stored_state import STACK_REFERENCE


def referenced_environment(name: str, ctx: Context, index: Mapping[str, str]) -> Optional[str]:
    """The environment of the stack a StackReference names: its stack part as a stack name
    (`stackEnvironments`, then its tokens), else the one environment the full name names."""
    env = stack_environment(ctx, name.rsplit("/", 1)[-1])
    if env is not None:
        return env
    named = environments_named(name, index)
    return next(iter(named)) if len(named) == 1 else None


def foreign_stack_references(stack: StackView, ctx: Context, env: str,
                             index: Mapping[str, str]) -> Iterator[Violation]:
    for ref in stack.reads:
        if ref.type != STACK_REFERENCE:
            continue
        name = P.as_str(ref.get("name"))
        if not isinstance(name, str) or not name:
            continue  # unknown, redacted or malformed: nothing to judge
        other = referenced_environment(name, ctx, index)
        if other is None or other == env:
            continue
        yield Violation(
            f"StackReference '{ref.name}' reads stack '{name}', which is the {other} environment, but stack "
            f"'{ctx.stack}' is the {env} environment. A stack must not read another environment's stack: "
            "reference the stack of its own environment (e.g. `f\"{org}/legacy/{pulumi.get_stack()}\"`), "
            "never default to production.",
            urn=ref.urn, path="name")
