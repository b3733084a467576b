"""What the INSTALLED pulumi-aws declares, read for the pack's generated data files.

Shared by `generate_taggable_types.py` (types with a `tags` input) and
`generate_input_properties.py` (each type's input properties). Two ways to read a resource class:

  * import it (authoritative: the classes the SDK itself uses; ~10 s for all ~1,750 of them);
  * read the same declarations from its source file without importing (~100x cheaper; the
    consistency tests use it, and a test keeps both ways in agreement).

The token -> class mapping is pulumi-aws's own `resource_modules` registration JSON in
`pulumi_aws/__init__.py` (the table the SDK uses to rehydrate resources), so `aws:alb/*` aliases and
every module are covered.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.metadata
import importlib.util
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "policypack" / "data"


def installed_version() -> str:
    return importlib.metadata.version("pulumi_aws")


def _package_root() -> Path:
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or not spec.origin:
        raise SystemExit("pulumi_aws is not installed in this interpreter")
    return Path(spec.origin).parent


def resource_modules() -> List[Dict[str, Any]]:
    """The `resource_modules` JSON passed to `_utilities.register(...)` in pulumi_aws/__init__.py,
    read from the source (no import of the package's 230 sub-packages needed)."""
    tree = ast.parse((_package_root() / "__init__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "register":
            for keyword in node.keywords:
                if keyword.arg == "resource_modules" and isinstance(keyword.value, ast.Constant):
                    return json.loads(keyword.value.value)
    raise SystemExit("resource_modules registration not found in pulumi_aws/__init__.py")


def tokens_and_classes() -> List[Tuple[str, str, str]]:
    """(type token, module fqn, class name) for every resource pulumi-aws registers."""
    result = []
    for module in resource_modules():
        for token, class_name in (module.get("classes") or {}).items():
            result.append((token, module["fqn"], class_name))
    return sorted(result)


def resource_class(fqn: str, class_name: str) -> type:
    return getattr(importlib.import_module(fqn), class_name)


def snake(name: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


_CLASS = "^class {}\\(pulumi\\.CustomResource\\):"


class SourceIndex:
    """Reads resource classes from the installed source files, without importing them."""

    def __init__(self) -> None:
        self.root = _package_root()

    def find(self, token: str, fqn: str, class_name: str) -> Tuple[str, int]:
        """The source text defining the resource class and the offset after its `class` line: the
        file named after the token's module first (snake_case), else any file of the package."""
        package = self.root.joinpath(*fqn.split(".")[1:])
        pattern = re.compile(_CLASS.format(re.escape(class_name)), re.M)
        guess = package / (snake(token.split(":")[1].split("/", 1)[-1]) + ".py")
        candidates = ([guess] if guess.exists() else []) + sorted(p for p in package.glob("*.py") if p != guess)
        for path in candidates:
            text = path.read_text(encoding="utf-8")
            match = pattern.search(text)
            if match:
                return text, match.end()
        raise LookupError(f"class {class_name} of {token} not found under {package}")

    @staticmethod
    def internal_init(text: str, start: int, what: str) -> Tuple[int, int]:
        """(begin, end) offsets of the resource class's `_internal_init` signature."""
        begin = text.find("def _internal_init(", start)
        end = text.find("__props__=None):", begin)
        if begin < 0 or end < 0:
            raise LookupError(f"_internal_init of {what} not found")
        return begin, end


def render(data: Dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def read_json(path: Path) -> Optional[Dict[str, Any]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def generator_main(argv: Optional[List[str]], doc: str, output: Path, script: str,
                   generate: Callable[[], Dict[str, Any]], check: Callable[..., List[str]],
                   summary: Callable[[Dict[str, Any]], str]) -> int:
    """The command line both generators share: write `output`, or with --check compare it with what the
    installed pulumi-aws gives (exit 1 when stale). `summary` says what was written."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed JSON; exit 1 if stale")
    parser.add_argument("--sample", type=int, default=None, help="with --check: check N random types only")
    parser.add_argument("--seed", type=int, default=None, help="random seed for --sample")
    parser.add_argument("--method", choices=("import", "source"), default="import",
                        help="with --check: re-derive by importing each class (default, ~10 s) or by reading "
                             "the same signature from the source files (~2 s)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    relative = output.relative_to(ROOT)
    if args.check:
        problems = check(args.sample, args.seed, args.method)
        for problem in problems[:50]:
            print(problem)
        if problems:
            print(f"{relative} is out of date: run python scripts/{script}", file=sys.stderr)
            return 1
        print(f"up to date ({time.monotonic() - started:.1f} s)")
        return 0
    data = generate()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(data), encoding="utf-8")
    print(f"wrote {summary(data)} from pulumi-aws {data['pulumiAws']} to {relative} "
          f"in {time.monotonic() - started:.1f} s")
    return 0
