"""Baseline for figure 4: run a Pulumi Python program under plain `pulumi.runtime.set_mocks`.

    python benchmarks/mock_baseline.py PROGRAM_DIR [--stack dev] [--preview]

Trivial mocks: every resource gets its inputs back plus `id`, `arn` and `name`; the invokes the
sample program makes (region, caller identity, partition, availability zones, ELB service account)
get minimal answers, any other invoke gets {}. Nothing is recorded and nothing is analyzed: this is
the cost of running the program itself (interpreter start, `import pulumi_aws`, the program's
resource registrations), which the offline check cannot avoid.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import runpy
import sys

ACCOUNT = "123456789012"


def _config(program: str, stack: str):
    """Project defaults < Pulumi.<stack>.yaml (plain values only), as string config values."""
    import yaml

    def load(path):
        if not os.path.exists(path):
            return {}
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle) or {}

    project = load(os.path.join(program, "Pulumi.yaml"))
    name = project["name"]
    config = {}

    def put(key, value):
        key = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            return
        config[key] = value if isinstance(value, str) else json.dumps(value) if not isinstance(value, bool) \
            else ("true" if value else "false")

    for key, spec in (project.get("config") or {}).items():
        value = spec.get("default", spec.get("value")) if isinstance(spec, dict) else spec
        if value is not None:
            put(str(key), value)
    for key, value in ((load(os.path.join(program, f"Pulumi.{stack}.yaml")).get("config")) or {}).items():
        put(str(key), value)
    config.setdefault("aws:region", "us-east-1")
    return project, config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("program")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--preview", action="store_true")
    args = parser.parse_args(argv)
    program = os.path.abspath(args.program)
    project, config = _config(program, args.stack)
    region = config["aws:region"]

    import pulumi
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            outputs = dict(args.inputs)
            outputs.setdefault("name", args.name)
            outputs.setdefault("arn", f"arn:aws:mock:{region}:{ACCOUNT}:{args.name}")
            # the few computed outputs the sample program formats into strings
            if args.typ == "aws:ecr/repository:Repository":
                outputs.setdefault("repositoryUrl", f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{args.name}")
            return f"{args.name}-id", outputs

        def call(self, args):
            token = args.token
            if token.endswith("getAvailabilityZones"):
                return {"names": [f"{region}a", f"{region}b", f"{region}c"],
                        "zoneIds": ["use1-az1", "use1-az2", "use1-az3"], "id": region}
            if token.endswith("getRegion"):
                return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}
            if token.endswith("getCallerIdentity"):
                return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/mock", "userId": "mock",
                        "id": ACCOUNT}
            if token.endswith("getPartition"):
                return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
            if token.endswith("getServiceAccount"):
                return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
            return {}

    # set_mocks registers the root stack on the current event loop: make it the one the program runs on.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    set_all_config(config, [])
    pulumi.runtime.set_mocks(Mocks(), project=project["name"], stack=args.stack, preview=args.preview)
    os.environ.update({"PULUMI_PROJECT": project["name"], "PULUMI_STACK": args.stack})
    main_path = os.path.join(program, project["main"]) if isinstance(project.get("main"), str) else program
    sys.path.insert(0, program)
    os.chdir(program)
    # As the language host does: run the program, then wait for every outstanding RPC and output.
    loop.run_until_complete(run_pulumi_func(lambda: runpy.run_path(main_path, run_name="__main__")))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # as the check's runner: stray threads must not keep the process alive


if __name__ == "__main__":
    main()
