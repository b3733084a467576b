"""Write `pulumi stack export` files (deployment version 3) from the offline check's recording of a
Pulumi Python program: the state a `pulumi up` of that program would leave, for tests and demos.

    python scripts/write_stack_exports.py examples/payment-service --stack production \\
        --secrets ciphertext --output /tmp/payment-service.production.json

The format is the CLI's (sdk/go/common/apitype: UntypedDeployment, DeploymentV3, ResourceV3,
SecretV1): `version`, `deployment.manifest` (time, magic, version), `secrets_providers`, resources
with `urn`, `custom`, `id`, `type`, `inputs` (bridged resources carry `__defaults`), `outputs`,
`parent`, `provider` (`<urn>::<id>`), `dependencies`, `propertyDependencies`, `external`, `delete`.
Secrets are `{sig, ciphertext}` objects (undecryptable here: no passphrase exists) or, as
`--show-secrets` writes them, `{sig, plaintext: <JSON text>}`. What the program only reads — a
StackReference and every `.get` — is stored as the engine stores it: `external: true`, the
StackReference under the default `pulumi` provider.

Outputs are the recording's fabricated ones; a value the recording left unknown (the outputs of a
StackReference, which the check never resolves) is written as a placeholder of its kind, since
state holds no unknowns.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from policypack.offline import urns as U  # noqa: E402
from policypack.props import SECRET_SIG, SIG_KEY, UNKNOWN_BY_KIND  # noqa: E402

CLI_VERSION = "3.272.0"
PLACEHOLDERS = {UNKNOWN_BY_KIND["string"]: "resolved-at-deployment", UNKNOWN_BY_KIND["number"]: 0,
                UNKNOWN_BY_KIND["boolean"]: False, UNKNOWN_BY_KIND["array"]: [],
                UNKNOWN_BY_KIND["object"]: {}}


class Writer:
    def __init__(self, secrets: str, salt: str) -> None:
        self.secrets = secrets
        self.salt = salt

    def value(self, value: Any) -> Any:
        """A wire value (the recording) -> its deployment form."""
        if isinstance(value, dict):
            if value.get(SIG_KEY) == SECRET_SIG:
                return self.secret(self.value(value.get("value")))
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str) and value in PLACEHOLDERS:
            return PLACEHOLDERS[value]
        if isinstance(value, float) and value.is_integer():
            return int(value)  # Go's encoder writes 30, not 30.0
        return value

    def secret(self, plain: Any) -> Dict[str, str]:
        text = json.dumps(plain, separators=(",", ":"))
        if self.secrets == "plaintext":
            return {SIG_KEY: SECRET_SIG, "plaintext": text}
        # Opaque, like the passphrase provider's `v1:<nonce>:<ciphertext>`; it encrypts nothing and
        # carries no trace of the value (a digest of a salt and a counter).
        self.salt = hashlib.sha256(self.salt.encode()).hexdigest()
        blob = base64.b64encode(hashlib.sha256(("ct" + self.salt).encode()).digest()).decode()
        return {SIG_KEY: SECRET_SIG, "ciphertext": f"v1:{self.salt[:16]}:{blob}"}

    def properties(self, props: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        return {k: self.value(v) for k, v in (props or {}).items()}


def record(stack: str, program: str, mode: str = "update", config: Optional[Dict[str, str]] = None
           ) -> Dict[str, Any]:
    """The offline check's recording of `program` as stack `stack`."""
    from policypack.offline.check import CheckOptions, load_project, run_program, stack_config
    options = CheckOptions(program=program, stack=stack, mode=mode, config=dict(config or {}))
    project = load_project(options.program)
    cfg, secret_keys, _ = stack_config(options.program, project, options)
    cfg.setdefault("aws:region", "us-east-1")
    result = run_program(options, project, cfg, secret_keys, cfg["aws:region"], time.monotonic() + 300)
    return labelled(result, program, project["name"], cfg["aws:region"])


def labelled(result: Dict[str, Any], program: str, project: str, region: str) -> Dict[str, Any]:
    """A runner's result with the project and region `deployment` needs (a new dict: a cached
    recording is shared)."""
    from policypack.offline.check import CheckError
    if result.get("error"):
        raise CheckError(f"{program}: {result['error'].get('message')}")
    return dict(result, project=project, region=region)


def deployment(result: Dict[str, Any], stack: str, secrets: str = "ciphertext",
               account: str = "123456789012") -> Dict[str, Any]:
    """The `pulumi stack export` document of a recording."""
    from policypack.offline.fabricate import Environment, fabricate
    project = result["project"]
    writer = Writer(secrets, f"{project}/{stack}")
    resources: List[Dict[str, Any]] = []
    root = next((r["urn"] for r in result["resources"] if r["type"] == U.ROOT_STACK_TYPE), "")
    for r in result["resources"]:
        item: Dict[str, Any] = {"urn": r["urn"], "custom": bool(r["custom"])}
        if r.get("id"):
            item["id"] = r["id"]
        item["type"] = r["type"]
        inputs = writer.properties(r.get("inputs"))
        if r["custom"] and not r["type"].startswith("pulumi:providers:") and r["type"].startswith("aws:"):
            inputs["__defaults"] = []  # bridged providers record which inputs they defaulted
        if inputs:
            item["inputs"] = inputs
        outputs = writer.properties(r.get("outputs"))
        if outputs:
            item["outputs"] = outputs
        if r.get("parent"):
            item["parent"] = r["parent"]
        if (r.get("options") or {}).get("protect"):
            item["protect"] = True
        if r.get("dependencies"):
            item["dependencies"] = list(r["dependencies"])
        if r.get("provider"):
            item["provider"] = r["provider"]
        if r.get("propertyDependencies"):
            item["propertyDependencies"] = {k: list(v) for k, v in r["propertyDependencies"].items()}
        secret_outputs = (r.get("options") or {}).get("additionalSecretOutputs")
        if secret_outputs:
            item["additionalSecretOutputs"] = list(secret_outputs)
        resources.append(item)
    env = Environment(stack=stack, project=project, account=account, region=result.get("region", "us-east-1"))
    pulumi_provider = ""
    for read in result.get("reads", []):
        item = {"urn": read["urn"], "custom": True, "type": read["type"], "external": True}
        if read["kind"] == "stack-reference":
            if not pulumi_provider:
                urn = U.make_urn(stack, project, "pulumi:providers:pulumi", "default")
                provider_id = hashlib.sha256(urn.encode()).hexdigest()[:8] + "-0000-4000-8000-000000000000"
                resources.append({"urn": urn, "custom": True, "id": provider_id, "type": "pulumi:providers:pulumi"})
                pulumi_provider = f"{urn}::{provider_id}"
            name = read.get("stack") or read["name"]
            item.update({"id": name, "inputs": {"name": name},
                         "outputs": {"name": name, "outputs": {}, "secretOutputNames": []},
                         "provider": pulumi_provider})
        else:
            try:
                _, state = fabricate(read["type"], read["name"], {}, env, False)
            except Exception:  # noqa: BLE001 - a read of a type fabricate does not know: its id only
                state = {}
            state = dict(state, id=read.get("id") or "")
            item.update({"id": read.get("id") or "", "inputs": {}, "outputs": writer.properties(state)})
            package = read["type"].split(":", 1)[0]
            provider = next((r for r in result["resources"] if r["type"] == f"pulumi:providers:{package}"), None)
            if provider is not None:
                item["provider"] = f"{provider['urn']}::{provider['id']}"
        if root:
            item["parent"] = root
        resources.append(item)
    providers = {"type": "passphrase", "state": {"salt": "v1:" + base64.b64encode(
        hashlib.sha256(f"{project}/{stack}".encode()).digest()[:8]).decode() + ":v1:AAAA"}}
    return {"version": 3, "deployment": {
        "manifest": {"time": "2026-01-01T00:00:00.000000000Z",
                     "magic": hashlib.sha256(CLI_VERSION.encode()).hexdigest(), "version": f"v{CLI_VERSION}"},
        "secrets_providers": providers, "resources": resources}}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("program", help="the Pulumi Python program directory")
    parser.add_argument("--stack", default="dev", help="the stack the export belongs to (default: dev)")
    parser.add_argument("--secrets", choices=("ciphertext", "plaintext"), default="ciphertext",
                        help="ciphertext: as `pulumi stack export` writes them (default); plaintext: as with "
                             "--show-secrets")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="stack config")
    parser.add_argument("--output", "-o", help="the export file (default: stdout)")
    args = parser.parse_args(argv)
    config = dict(item.split("=", 1) for item in args.config)
    document = deployment(record(args.stack, args.program, config=config), args.stack, args.secrets)
    text = json.dumps(document, indent=4) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
