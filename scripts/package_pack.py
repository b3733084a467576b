#!/usr/bin/env python3
"""Stage the policy pack for `pulumi policy publish`: only what evaluation needs.

    python3 scripts/package_pack.py dist/payments-guard && cd dist/payments-guard && pulumi policy publish <org>

`pulumi policy publish` archives the pack directory, honouring .gitignore (venv/, caches) but
nothing else: published from the repository root it would carry tests, examples, benchmarks and
the offline check. The staged directory holds the entry point, PulumiPolicy.yaml, the runtime
requirements and the `policypack` package without its offline check.
"""
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ("__main__.py", "PulumiPolicy.yaml", "requirements.txt", "README.md", ".gitignore")
EXCLUDED_PACKAGES = ("offline",)  # the offline check is a development and CI tool


def _ignore(directory: str, names):
    skipped = {n for n in names if n == "__pycache__" or n.endswith(".pyc")}
    if os.path.abspath(directory) == os.path.join(ROOT, "policypack"):
        skipped |= set(EXCLUDED_PACKAGES) & set(names)
    return skipped


def stage(target: str) -> str:
    target = os.path.abspath(target)
    if os.path.exists(target):
        shutil.rmtree(target)
    os.makedirs(target)
    for name in FILES:
        shutil.copy2(os.path.join(ROOT, name), os.path.join(target, name))
    shutil.copytree(os.path.join(ROOT, "policypack"), os.path.join(target, "policypack"), ignore=_ignore)
    return target


if __name__ == "__main__":
    out = stage(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "dist", "payments-guard"))
    print(out)
