#!/usr/bin/env python3
"""Stage the policy pack for `pulumi policy publish`: only what evaluation needs.

    python3 scripts/package_pack.py dist/payments-guard && cd dist/payments-guard && pulumi policy publish <org>

`pulumi policy publish` archives the pack directory, honouring .gitignore (venv/, caches) but
nothing else: published from the repository root it would carry tests, examples, benchmarks and
the offline check. The staged directory is what `payments-guard pack` writes (one staging
function: entry point, PulumiPolicy.yaml, runtime requirements, the `policypack` package with its
presets and without its offline check) plus this repository's README.
"""
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from policypack.distribution import stage_pack  # noqa: E402


def stage(target: str) -> str:
    target = os.path.abspath(target)
    if os.path.exists(target):
        shutil.rmtree(target)
    stage_pack(target)
    shutil.copy2(os.path.join(ROOT, "README.md"), os.path.join(target, "README.md"))
    return target


if __name__ == "__main__":
    out = stage(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "dist", "payments-guard"))
    print(out)
