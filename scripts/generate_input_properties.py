#!/usr/bin/env python3
"""Generate policypack/data/input_properties.json from the INSTALLED pulumi-aws.

For every resource type pulumi-aws registers: the properties a program can set, as they appear on
the wire (camelCase). They are the parameters of the resource class's `_internal_init` (its
constructor arguments), named as its Args class's getters name them (`pulumi.getter(name=...)`).
`no-external-infrastructure-ids` judges only these: what AnalyzeStack shows besides them (an
instance's `outpostArn`, a node group's `resources`, a state machine's `stateMachineVersionArn`) is
computed by the provider, not a reference the program made.

Only top-level properties: nested input types (`FunctionVpcConfigArgs`...) also declare the
provider's computed attributes of the block (`vpc_id`), so they would not tell inputs from outputs;
the rule keeps its own short list of those.

Usage:
  python scripts/generate_input_properties.py            # (re)write the JSON (imports every class, 10-30 s)
  python scripts/generate_input_properties.py --check    # exit 1 when the JSON is out of date
  python scripts/generate_input_properties.py --check --method source  # read the source instead (~3 s)
  python scripts/generate_input_properties.py --check --sample 100      # re-derive 100 random types only

The JSON maps each type token to its input names joined by spaces (one string per type keeps the
file small and its load fast: the rule splits a type's string the first time it meets the type).
"""
from __future__ import annotations

import inspect
import random
import re
import sys
from typing import Any, Dict, Iterable, List, Optional, Tuple

from pulumi_aws_schema import (DATA, SourceIndex, generator_main, installed_version, read_json,
                               resource_class, tokens_and_classes)

OUTPUT = DATA / "input_properties.json"
_NOT_INPUTS = ("__self__", "resource_name", "opts", "__props__")


def _wire(parameters: List[str], wire: Dict[str, str], token: str, args_class: str) -> List[str]:
    """Wire names of constructor parameters (`resource_name_` is the `resource_name` input renamed
    away from the constructor's own first argument)."""
    names, missing = [], []
    for parameter in parameters:
        python = parameter if parameter in wire else parameter.rstrip("_")
        if python in wire:
            names.append(wire[python])
        else:
            missing.append(parameter)
    if missing:
        raise LookupError(f"{token}: constructor arguments without a getter in {args_class}: {missing}")
    return sorted(names)


def _wire_names(args_class: type) -> Dict[str, str]:
    """Python attribute name -> wire name, from the Args class's pulumi getters."""
    names: Dict[str, str] = {}
    for klass in reversed(args_class.__mro__):
        for attribute, value in vars(klass).items():
            wire = getattr(getattr(value, "fget", None), "_pulumi_name", None)
            if isinstance(value, property) and isinstance(wire, str):
                names[attribute] = wire
    return names


def inputs_by_import(token: str, fqn: str, class_name: str) -> List[str]:
    cls = resource_class(fqn, class_name)
    parameters = [p for p in inspect.signature(cls._internal_init).parameters if p not in _NOT_INPUTS]
    module = sys.modules[cls.__module__]
    args_names = [n for n in getattr(module, "__all__", ()) if n != class_name and n.endswith("Args")]
    if len(args_names) != 1:
        raise LookupError(f"no single Args class next to {class_name} ({token}): {args_names}")
    return _wire(parameters, _wire_names(getattr(module, args_names[0])), token, args_names[0])


_PARAMETER = re.compile(r"^ {17}(\w+): .*= None,$", re.M)
_ARGS_NEW = re.compile(r"__props__ = (\w+)\.__new__\(")
_GETTER = re.compile(r'@pulumi\.getter(?:\(name="([^"]+)"\))?\n(?:\s+@[^\n]*\n)*?\s+def (\w+)\(self\)')


def inputs_by_source(index: SourceIndex, token: str, fqn: str, class_name: str) -> List[str]:
    """The same table read from the class's source file, without importing it."""
    text, start = index.find(token, fqn, class_name)
    begin, end = index.internal_init(text, start, f"{class_name} ({token})")
    parameters = [p for p in _PARAMETER.findall(text, begin, end) if p not in _NOT_INPUTS]
    args = _ARGS_NEW.search(text, end)
    if args is None:
        raise LookupError(f"{token}: Args class of _internal_init not found")
    body_start = text.find(f"\nclass {args.group(1)}:", 0)
    if body_start < 0:
        raise LookupError(f"{token}: class {args.group(1)} not found in the same file")
    body_end = text.find("\nclass ", body_start + 1)
    wire = {python: (name or python) for name, python in _GETTER.findall(text, body_start, body_end)}
    return _wire(parameters, wire, token, args.group(1))


def generate(selection: Optional[Iterable[Tuple[str, str, str]]] = None, method: str = "import") -> Dict[str, Any]:
    """The JSON document. `method`: "import" (authoritative) or "source" (the same, read from source)."""
    index = SourceIndex() if method == "source" else None
    inputs = {}
    for token, fqn, class_name in (selection if selection is not None else tokens_and_classes()):
        names = (inputs_by_source(index, token, fqn, class_name) if index is not None
                 else inputs_by_import(token, fqn, class_name))
        inputs[token] = " ".join(names)
    return {"generatedBy": "scripts/generate_input_properties.py", "pulumiAws": installed_version(),
            "inputs": dict(sorted(inputs.items()))}


def check(sample: Optional[int], seed: Optional[int], method: str = "import") -> List[str]:
    """Differences between the committed JSON and the installed pulumi-aws (empty = up to date):
    the version, the set of types (cheap: no class read), and each type's inputs for all types or
    `sample` random ones."""
    committed = read_json(OUTPUT)
    if committed is None or not isinstance(committed.get("inputs"), dict):
        return [f"{OUTPUT} unreadable"]
    problems = []
    installed = installed_version()
    if committed.get("pulumiAws") != installed:
        problems.append(f"generated from pulumi-aws {committed.get('pulumiAws')}, installed {installed}")
    everything = tokens_and_classes()
    registered = {token for token, _, _ in everything}
    shipped = set(committed["inputs"])
    problems += [f"type missing {t}" for t in sorted(registered - shipped)]
    problems += [f"type no longer registered {t}" for t in sorted(shipped - registered)]
    selection = everything
    if sample is not None and sample < len(everything):
        selection = random.Random(seed).sample(everything, sample)
    fresh = generate(selection, method)["inputs"]
    for token, names in fresh.items():
        if committed["inputs"].get(token) != names:
            problems.append(f"{token}: inputs differ")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    return generator_main(argv, __doc__, OUTPUT, "generate_input_properties.py", generate, check,
                          lambda data: f"the inputs of {len(data['inputs'])} types")


if __name__ == "__main__":
    sys.exit(main())
