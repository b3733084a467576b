"""The shape of a rule that judges one property of one resource (Checkov's value check, in this
pack's terms): a subclass names the property and says what is wrong with a value; reading it
safely, unknown values at preview and the violation's path are handled here once.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterable, Optional, Tuple

from .. import props as P
from ..rule import Context, Rule, Violation, known


class ValueCheck(Rule):
    """A resource rule about one property.

    - `property_path`: wire names from the top, e.g. `("imageScanningConfiguration", "scanOnPush")`;
      the blocks on the way may arrive as an object or a one-element list (max-1 blocks).
    - `read`: how the value is read (`P.as_bool`, `P.as_number`, `P.as_str`...); it returns the
      value or `P.MISSING` / `P.INVALID`. A block missing or malformed on the way gives that marker.
    - `problem(value, resource, ctx)`: the violation's message, or None when the value complies.
    - `judged(resource, ctx)`: whether the resource is judged at all (e.g. application load
      balancers only); `level_for(resource, ctx)`: "mandatory" to escalate this violation.
    - An unknown value (preview) is not-applicable, decided at `pulumi up` - unless
      `unknown_is_set`: for a reference to another resource's output (a key ARN), unknown means set.
    """

    property_path: Tuple[str, ...] = ()
    unknown_is_set: bool = False

    @staticmethod
    def read(value: Any) -> Any:
        return value

    def judged(self, resource: P.ResourceView, ctx: Context) -> bool:
        return True

    def problem(self, value: Any, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        raise NotImplementedError

    def level_for(self, resource: P.ResourceView, ctx: Context) -> str:
        return ""

    def value_of(self, resource: P.ResourceView) -> Any:
        block = P.block(resource.props, *self.property_path[:-1])
        if not isinstance(block, Mapping):
            return block  # UNKNOWN, MISSING or INVALID on the way
        return self.read(P.lookup(block, self.property_path[-1]))

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        if not self.judged(resource, ctx):
            return
        value = self.value_of(resource)
        path = P.format_path(self.property_path)
        if value is P.UNKNOWN and self.unknown_is_set:
            return
        message = self.problem(known(value, path), resource, ctx)
        if message:
            yield Violation(message, path=path, level=self.level_for(resource, ctx))
