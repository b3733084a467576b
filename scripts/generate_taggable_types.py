#!/usr/bin/env python3
"""Generate policypack/data/taggable_types.json from the INSTALLED pulumi-aws.

A type is taggable when its resource class's `_internal_init` has a `tags` parameter (the input
the provider merges with its `defaultTags`). The token -> class mapping is pulumi-aws's own
`resource_modules` registration JSON in `pulumi_aws/__init__.py` (the table the SDK uses to
rehydrate resources), so `aws:alb/*` aliases and every module are covered.

The shape of `tags` decides how `required-tags` reads it:
  * `types`          - `tags` is a string map (the provider's defaultTags apply): nearly all;
  * `listTagTypes`   - `tags` is a list of {key, value, propagateAtLaunch} blocks
                       (aws:autoscaling/group:Group; the provider's defaultTags do NOT apply);
  * `notResourceTags`- a `tags` input that is not the resource's own tags (e.g. a tag filter),
                       with the annotation seen; the rule ignores these types.

Usage:
  python scripts/generate_taggable_types.py            # (re)write the JSON
  python scripts/generate_taggable_types.py --check    # exit 1 when the JSON is out of date
  python scripts/generate_taggable_types.py --check --sample 100   # re-derive 100 random types only
  python scripts/generate_taggable_types.py --check --method source  # read signatures from source (~2 s)

`untaggedTypes` lists every other registered type, so a check can tell a type without `tags` from
one the list has never seen (the rule checks an unseen aws: type when it carries a `tags` map).

Importing every resource module takes ~10 s (about 1,750 classes); this script is not on the
pack's start-up path (the rule reads the JSON lazily and never imports pulumi_aws). Reading
pulumi-aws (registered types, classes, source) is shared with generate_input_properties.py in
pulumi_aws_schema.py.
"""
from __future__ import annotations

import inspect
import json
import random
import re
import sys
import typing
from typing import Any, Dict, Iterable, List, Optional, Tuple

from pulumi_aws_schema import (DATA, SourceIndex, generator_main, installed_version, resource_class,
                               tokens_and_classes)

OUTPUT = DATA / "taggable_types.json"


def _is_string_map(annotation: Any) -> bool:
    """Whether a `tags` annotation is `Optional[Input[Mapping[str, Input[str]]]]`-shaped."""
    seen = []

    def visit(t: Any, depth: int = 0) -> None:
        if depth > 6:
            return
        origin = typing.get_origin(t)
        seen.append(origin or t)
        for arg in typing.get_args(t):
            visit(arg, depth + 1)

    visit(annotation)
    import collections.abc as abc
    return any(o in (abc.Mapping, dict, typing.Mapping) for o in seen)


def _is_sequence(annotation: Any) -> bool:
    import collections.abc as abc
    origins = set()

    def visit(t: Any, depth: int = 0) -> None:
        if depth > 6:
            return
        origins.add(typing.get_origin(t))
        for arg in typing.get_args(t):
            visit(arg, depth + 1)

    visit(annotation)
    return bool(origins & {abc.Sequence, list, typing.Sequence})


def classify(fqn: str, class_name: str) -> Optional[Tuple[str, str]]:
    """None when the class has no `tags` input, else (kind, annotation text) with kind in
    map / list / other."""
    parameter = inspect.signature(resource_class(fqn, class_name)._internal_init).parameters.get("tags")
    if parameter is None:
        return None
    annotation = parameter.annotation
    text = str(annotation)
    if _is_string_map(annotation):
        return "map", text
    if _is_sequence(annotation) and "TagArgs" in text:
        return "list", text
    return "other", text


_TAGS_PARAM = re.compile(r"^\s+tags: (.*) = None,$", re.M)


def classify_source(index: SourceIndex, token: str, fqn: str, class_name: str) -> Optional[Tuple[str, str]]:
    """`classify`, reading the `_internal_init` signature from the source file (no import)."""
    text, start = index.find(token, fqn, class_name)
    begin, end = index.internal_init(text, start, f"{class_name} ({token})")
    match = _TAGS_PARAM.search(text, begin, end)
    if match is None:
        return None
    annotation = match.group(1)
    if re.match(r"pulumi\.Input\[Optional\[Mapping\[", annotation):
        return "map", annotation
    if "Sequence[" in annotation and "TagArgs" in annotation:
        return "list", annotation
    return "other", annotation


def generate(selection: Optional[Iterable[Tuple[str, str, str]]] = None, method: str = "import") -> Dict[str, Any]:
    """The JSON document. `method`: "import" (authoritative: inspect each imported class's
    `_internal_init`) or "source" (read the same signature from the source file)."""
    types, list_types, others, untagged = [], [], {}, []
    source = SourceIndex() if method == "source" else None
    for token, fqn, class_name in (selection if selection is not None else tokens_and_classes()):
        kind = classify_source(source, token, fqn, class_name) if source else classify(fqn, class_name)
        if kind is None:
            untagged.append(token)
        elif kind[0] == "map":
            types.append(token)
        elif kind[0] == "list":
            list_types.append(token)
        else:
            others[token] = "`tags` is not a string map of the resource's own tags"
    return {
        "generatedBy": "scripts/generate_taggable_types.py",
        "pulumiAws": installed_version(),
        "types": sorted(types),
        "listTagTypes": sorted(list_types),
        "notResourceTags": dict(sorted(others.items())),
        "untaggedTypes": sorted(untagged),
    }


KEYS = ("types", "listTagTypes", "notResourceTags", "untaggedTypes")


def check(sample: Optional[int], seed: Optional[int], method: str = "import") -> List[str]:
    """Differences between the committed JSON and the installed pulumi-aws (empty = up to date).

    Always checked: the pulumi-aws version and that every registered type token is classified
    (cheap: no class import). Each type's classification is re-derived for all types, or for
    `sample` random ones.
    """
    try:
        committed = json.loads(OUTPUT.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{OUTPUT} unreadable: {exc}"]
    problems = []
    installed = installed_version()
    if committed.get("pulumiAws") != installed:
        problems.append(f"generated from pulumi-aws {committed.get('pulumiAws')}, installed {installed}")
    for key in ("types", "listTagTypes", "untaggedTypes"):
        if committed.get(key) != sorted(committed.get(key) or ()):
            problems.append(f"{key} is not a sorted list")
    everything = tokens_and_classes()
    classified = set()
    for key in KEYS:
        classified.update(committed.get(key) or ())
    registered = {token for token, _, _ in everything}
    problems += [f"unclassified type {t}" for t in sorted(registered - classified)]
    problems += [f"type no longer registered {t}" for t in sorted(classified - registered)]
    selection = everything
    if sample is not None and sample < len(everything):
        selection = random.Random(seed).sample(everything, sample)
    fresh = generate(selection, method)
    names = {token for token, _, _ in selection}
    for key in KEYS:
        want = set(fresh[key])
        have = {t for t in (committed.get(key) or ()) if t in names}
        problems += [f"{key}: missing {t}" for t in sorted(want - have)]
        problems += [f"{key}: stale {t}" for t in sorted(have - want)]
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    return generator_main(argv, __doc__, OUTPUT, "generate_taggable_types.py", generate, check,
                          lambda data: f"{len(data['types'])} map-tagged + {len(data['listTagTypes'])} list-tagged types")


if __name__ == "__main__":
    sys.exit(main())
