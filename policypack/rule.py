"""The shape of a rule: metadata next to the check, one small class per policy.

A rule never sees pulumi-policy's proxies: the servicer hands it `ResourceView`s (plain values,
unknowns as sentinels) and a `Context` with its configuration already merged with the schema
defaults. A rule yields `Violation`s; it does not raise (the servicer still guards it).
"""
from __future__ import annotations

import copy
import fnmatch
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from .exemptions import EXEMPTIONS_SCHEMA
from .props import MISSING, ResourceView, is_unknown
from .release import policy_url

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


def known(value: Any, path: str) -> Any:
    """`value`, which the rule needs to decide; unknown (at preview) it cannot: not-applicable."""
    if is_unknown(value):
        raise NotApplicable(f"`{path}` is not known yet; the rule decides at `pulumi up`")
    return value


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
        self._by_output: Dict[str, Dict[str, List[ResourceView]]] = {}
        self._unnamed_by_types: Dict[Tuple[str, ...], List[ResourceView]] = {}

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

    # --- the resolver ----------------------------------------------------------------------
    def _named(self, output: str, value: str) -> List[ResourceView]:
        """Resources whose known `output` (arn, id, name...) equals `value`, built once per output."""
        index = self._by_output.get(output)
        if index is None:
            index = {}
            for resource in self.resources:
                ref = resource.props.get(output)
                if isinstance(ref, str) and ref and not is_unknown(ref):
                    index.setdefault(ref, []).append(resource)
            self._by_output[output] = index
        return index.get(value, [])

    def _unnamed(self, types: Tuple[str, ...]) -> List[ResourceView]:
        """Resources of `types` whose `name` output is not known yet (preview), once per types."""
        found = self._unnamed_by_types.get(types)
        if found is None:
            found = self._unnamed_by_types[types] = [r for r in self.of_type(*types)
                                                     if is_unknown(r.props.get("name"))]
        return found

    def dependencies_of(self, owner: ResourceView, prop: str) -> Tuple[List[ResourceView], str]:
        """The stack resources `owner`'s top-level property `prop` depends on, and where that came
        from: its propertyDependencies for `prop` when it has some, else its `dependencies`."""
        urns = owner.depends_on_resources(prop)
        via = "propertyDependencies"
        if not urns:
            urns, via = owner.dependencies, "dependencies"
        return [self.by_urn[u] for u in dict.fromkeys(urns) if u in self.by_urn], via

    def _through_dependencies(self, owner: ResourceView, prop: str, types: Tuple[str, ...],
                              seen: Set[str]) -> Tuple[List[ResourceView], str]:
        """Resources of `types` an unknown value of `prop` comes from: the dependencies of that type;
        failing those, the same property of dependencies that have it (an endpoint's `vpcId` taken
        from a subnet's `vpcId`), followed a few steps."""
        seen.add(owner.urn)
        deps, via = self.dependencies_of(owner, prop)
        found = [d for d in deps if d.type in types]
        if found or len(seen) > 4:
            return found, via
        for dep in deps:
            if dep.urn in seen or prop not in dep.props:
                continue
            value = dep.props.get(prop)
            if isinstance(value, str) and not is_unknown(value):
                found.extend(r for r in self._lookup(value, types, ("arn", "id")) if r.type in types)
            else:
                found.extend(self._through_dependencies(dep, prop, types, seen)[0])
        return list(dict.fromkeys(found)), via

    def _lookup(self, value: str, types: Tuple[str, ...], by: Sequence[str]) -> List[ResourceView]:
        """Resources named by `value` (URN, then each output in `by`), those of `types` first."""
        if value in self.by_urn:
            return [self.by_urn[value]]
        matches: List[ResourceView] = []
        for output in by:
            matches.extend(self._named(output, value))
        typed = [r for r in matches if r.type in types]
        return list(dict.fromkeys(typed or matches))

    def resolve(self, owner: ResourceView, prop: str, types: Sequence[str], value: Any = ..., *,
                by: Sequence[str] = ("arn", "id"), update: bool = False) -> Resolution:
        """Which resources of this stack, of `types`, a reference refers to.

        `owner`: the resource holding the reference; `prop`: its top-level property (the key of
        propertyDependencies); `value`: the reference itself - a string, an unknown, or a list of
        them - read from a nested place of `prop` (default: the whole property). Known strings are
        matched by URN and by the outputs named in `by` (default `arn`, `id`; CodeDeploy refers by
        `name`). An unknown value resolves through `owner`'s propertyDependencies of `prop` (then its
        `dependencies`) to the resources of `types` among them, so a preview decides what an update
        would; only a value no dependency decides is undecidable (so is, at preview, a literal name
        while a resource of `types` has a name not known yet: programs choose names, not ARNs).
        `update` (not a preview): every output of this stack is known then, so such a value comes
        from outside the stack: external.
        """
        types = tuple(types)
        if value is ...:  # not given: the whole property
            value = owner.props.get(prop)
        items = value if isinstance(value, list) else [value]
        resources: List[ResourceView] = []
        external: List[str] = []
        wrong: List[ResourceView] = []
        invalid = False
        unknown = False
        unknown_name = ""
        via = "value"
        for item in items:
            if item is None or item is MISSING:
                continue
            if is_unknown(item):
                unknown = True
                continue
            if not isinstance(item, str):
                invalid = True
                continue
            text = item.strip()
            if not text:
                continue
            named = self._lookup(text, types, by)
            if any(r.type in types for r in named):
                resources.extend(r for r in named if r.type in types)
            elif named:
                wrong.extend(named)
            else:
                # A dependency of the expected type whose identifying output (arn, id...) is not known
                # - not yet, or redacted in stored state - cannot be compared with the value: it is
                # what the value names.
                deps, dep_via = self.dependencies_of(owner, prop)
                uncomparable = [d for d in deps if d.type in types and any(is_unknown(d.props.get(k)) for k in by)]
                if uncomparable:
                    resources.extend(uncomparable)
                    via = dep_via
                elif not update and "name" in by and self._unnamed(types):
                    # A program chooses names: the literal may be the name of one not known yet.
                    unnamed = self._unnamed(types)
                    unknown_name = f"the `name` of '{unnamed[0].name}', which `{prop}` may name, is not known yet"
                else:
                    external.append(text)
        undecidable = unknown_name
        if unknown:
            found, dep_via = self._through_dependencies(owner, prop, types, set())
            if found:
                resources.extend(found)
                via = dep_via
            elif update:
                external.append(UNKNOWN_EXTERNAL)
            elif not undecidable:
                undecidable = (f"`{prop}` of '{owner.name}' is not known yet and depends on no "
                               f"{_type_names(types)} of this stack")
        return Resolution(tuple(dict.fromkeys(resources)), tuple(dict.fromkeys(external)),
                          tuple(dict.fromkeys(wrong)), invalid, undecidable, via)


#: Resolution.status values (see StackView.resolve).
RESOLVED, EXTERNAL, UNDECIDABLE, ABSENT = "resolved", "external", "undecidable", "absent"


@dataclass(frozen=True)
class Resolution:
    """What a reference-valued property of a stack resource refers to (`StackView.resolve`).

    - `resources`: resources of this stack, of the expected types, that the value names (by URN, or
      by an output such as `arn`/`id`), or - for a value not known yet - that the property depends on.
    - `external`: known values that name no resource of this stack (raw strings: another stack's or
      the account's infrastructure); `wrong_type`: resources of this stack it names that are of
      another type; `invalid`: a part of the value is not a string.
    - `undecidable`: why a part of the value cannot be resolved ("" when all of it is): only an
      unknown value at preview that no dependency decides.
    - `via`: how `resources` were found: "value", "propertyDependencies" or "dependencies".

    `status` sums it up: UNDECIDABLE when any part is undecidable, else EXTERNAL when any part is
    external, of a wrong type or invalid, else RESOLVED; ABSENT for a missing or empty value."""
    resources: Tuple[ResourceView, ...] = ()
    external: Tuple[str, ...] = ()
    wrong_type: Tuple[ResourceView, ...] = ()
    invalid: bool = False
    undecidable: str = ""
    via: str = "value"

    @property
    def status(self) -> str:
        if self.undecidable:
            return UNDECIDABLE
        if self.external or self.wrong_type or self.invalid:
            return EXTERNAL
        return RESOLVED if self.resources else ABSENT

    @property
    def urns(self) -> Set[str]:
        return {r.urn for r in self.resources}

    @property
    def single(self) -> Optional[ResourceView]:
        """The one resource referred to (None when there are none or several candidates)."""
        return self.resources[0] if len(self.resources) == 1 else None

    def keys(self) -> Set[str]:
        """URNs of the stack resources and the raw external values: comparable identities."""
        return self.urns | set(self.external)


#: An unknown value of the offline check's update mode that no dependency of the expected type
#: explains: every output of this stack is known at `up`, so it comes from outside the stack.
UNKNOWN_EXTERNAL = "(a value from outside this stack)"


class Undecided:
    """Why a rule could not decide (a value unknown at preview that no dependency resolves).

    A rule that cannot decide says so instead of passing silently: `report(violations)` passes the
    violations through and, when there were none but something was undecided, raises
    NotApplicable with the reasons (the engine shows it as the policy's not-applicable reason)."""

    def __init__(self) -> None:
        self.reasons: List[str] = []

    def add(self, reason: str) -> None:
        if reason and reason not in self.reasons:
            self.reasons.append(reason)

    def __bool__(self) -> bool:
        return bool(self.reasons)

    def report(self, violations: Iterable[Violation]) -> Iterator[Violation]:
        found = False
        for violation in violations:
            found = True
            yield violation
        if self.reasons and not found:
            shown = "; ".join(self.reasons[:3]) + (f" (and {len(self.reasons) - 3} more)" if len(self.reasons) > 3 else "")
            raise NotApplicable(f"decided when the values are known: {shown}")


def _type_names(types: Sequence[str]) -> str:
    """`aws:ec2/vpc:Vpc` -> "Vpc" (the last part of each token), for reasons and messages."""
    names = list(dict.fromkeys(t.rsplit(":", 1)[-1] for t in types))
    return " or ".join(names) if names else "resource"


# A policy's docstring holds all its prose: the description, then these sections.
DOCSTRING_SECTIONS = {"Remediation:": "remediation", "Compliant example:": "compliant_example"}
# What a header looks like (one or two unindented words and a colon), and a known header written
# otherwise (case, a missing colon, text after it): either would silently join the text above it.
_SECTION_LIKE = re.compile(r"^[A-Za-z]+(?: [A-Za-z]+)?:$|^(?:remediation|compliant example)\b", re.IGNORECASE)


def docstring_texts(doc: str) -> Dict[str, str]:
    """A policy's docstring as its texts: the description (before the first section) and the
    remediation, lines joined by single spaces, as prose; the compliant example as the code it
    is, dedented, its lines kept. A section given twice is a `TypeError` where it is declared."""
    texts: Dict[str, List[str]] = {"description": []}
    current = "description"
    for line in inspect.cleandoc(doc).splitlines():
        line = line.rstrip()
        if line in DOCSTRING_SECTIONS:
            current = DOCSTRING_SECTIONS[line]
            if current in texts:
                raise TypeError(f"the docstring gives {line!r} twice")
            texts[current] = []
        elif _SECTION_LIKE.match(line):
            raise TypeError(f"the docstring has a section {line!r}: the sections are "
                            f"{', '.join(DOCSTRING_SECTIONS)}, each alone on its line")
        else:
            texts[current].append(line)
    return {key: (textwrap.dedent("\n".join(lines)).strip("\n") if key == "compliant_example"
                  else " ".join(" ".join(lines).split()))
            for key, lines in texts.items()}


class Rule:
    """Base of every policy. A policy declares its identity in one line, the class statement,
    its prose in its docstring, and overrides `check` (resource rules, called only for
    `resource_types`) or, as a `StackRule`, `check_stack`:

        class EcrImmutableTags(ValueCheck, policy="ecr-immutable-tags", level="advisory", severity="medium",
                               frameworks=(pci("6.5.1"), fsbp("ECR.2")), types=P.REPOSITORY):
            '''ECR repositories must make image tags immutable.

            Remediation:
                Set `image_tag_mutability="IMMUTABLE"` on the repository ...

            Compliant example:
                aws.ecr.Repository("app", image_tag_mutability="IMMUTABLE", ...)
            '''

    The docstring's first part is the description. The description and remediation are prose
    (their lines joined by single spaces), the example
    is code (its lines kept); `concern` defaults to the module's `CONCERN`; the config schema
    stays a class attribute, `config_properties`."""

    name: str = ""
    description: str = ""
    kind: str = "resource"          # "resource" | "stack" (StackRule)
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

    def __init_subclass__(cls, policy: str = "", level: Optional[str] = None, severity: Optional[str] = None,
                          concern: Optional[str] = None, seeds: Optional[Tuple[int, ...]] = None,
                          frameworks: Optional[Tuple[Framework, ...]] = None,
                          types: Optional[Tuple[str, ...]] = None, remediable: Optional[bool] = None,
                          **kwargs: Any) -> None:
        """Takes the class statement's keywords as the policy's metadata and checks it where it
        is declared: a typo in its kind, level, severity or concern fails the import (every test,
        the pack's start), never a user's preview."""
        super().__init_subclass__(**kwargs)
        declared = {"name": policy, "level": level, "severity": severity, "concern": concern, "seeds": seeds,
                    "frameworks": frameworks, "resource_types": types, "remediable": remediable}
        for attribute, value in declared.items():
            if value is not None and value != "":
                setattr(cls, attribute, value)
        if policy:
            prose = [a for a in ("description", "remediation", "compliant_example") if a in cls.__dict__]
            if prose:  # one place for a policy's prose, so the docstring is never silently overridden
                raise TypeError(f"policy {policy}: {', '.join(prose)} belong in the docstring")
            try:
                texts = docstring_texts(cls.__doc__ or "")
            except TypeError as exc:
                raise TypeError(f"policy {policy}: {exc}") from None
            for attribute, text in texts.items():
                setattr(cls, attribute, text)
        if not cls.name:
            return  # a base shared by several policies, not a policy
        if not cls.concern:  # the module's rules share one concern unless one says otherwise
            cls.concern = getattr(sys.modules.get(cls.__module__), "CONCERN", "")
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
        return policy_url(self.name)


class StackRule(Rule):
    """Base of a stack policy: it judges the whole stack at once (AnalyzeStack). It overrides
    `judge`, which notes in `undecided` what it cannot decide yet (a value unknown at preview): when
    it finds no violation, the policy reports not-applicable with those reasons instead of passing
    (or it overrides `check_stack` to say so itself)."""

    kind = "stack"

    def check_stack(self, stack: StackView, ctx: Context) -> Iterable[Violation]:
        undecided = Undecided()
        yield from undecided.report(self.judge(stack, ctx, undecided))

    def judge(self, stack: StackView, ctx: Context, undecided: Undecided) -> Iterable[Violation]:
        return ()


def glob_match(value: str, patterns: Iterable[Any]) -> bool:
    """Case-sensitive shell-style match of `value` against any of `patterns` (non-strings ignored)."""
    return any(isinstance(p, str) and fnmatch.fnmatchcase(value, p) for p in patterns)


def string_list(default: List[str], description: str) -> Dict[str, Any]:
    """The config schema of a property that is a list of strings (patterns, names, types)."""
    return {"type": "array", "items": {"type": "string"}, "default": default, "description": description}


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
