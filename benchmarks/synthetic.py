"""Synthetic stacks of any size, made of replicas of a recorded sample stack.

The recorded resources of the compliant sample (`tests/offline_helpers.run(...)`) are the template.
The root stack and the default provider are kept once (a real stack has one of each); every other
resource is replicated. Replica 0 is the sample itself; replica k rewrites, everywhere in the
resources (URNs, names, ids, ARNs, inputs, outputs, JSON documents inside strings, parents,
dependencies, property dependencies, provider references), every *atom*:

- logical resource names (`payment-dev-vpc` -> `payment-dev-vpc-r7`), which makes every URN unique;
- the name segments of ids and ARNs that have no random part (`cluster/payment-dev` ->
  `cluster/payment-dev-r7`);
- the random hex/digit runs of ids and ARNs (`vpc-59b4016b43ca70c9d` -> `vpc-59b4016b43c000007`:
  same length and alphabet, so an id keeps its format).

Because one substitution is applied to the whole text of a replica, every reference between the
resources of one replica stays consistent (a service's target group ARN is the ARN of the same
replica's target group; a log group name inside a container definition JSON is the same replica's
log group), and no replica refers to another. Exact sizes are reached by taking a prefix, in
registration order, of one more replica: dependencies are registered before their dependents, so
every reference of a partial replica still resolves (a stack rule may still miss a resource the
cut-off replica did not get to).
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence


ACCOUNT = "123456789012"
_HEX_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{7,}(?![0-9A-Za-z])")
_REVISION = re.compile(r":\d+$")
SHARED_TYPES = ("pulumi:pulumi:Stack",)


def is_shared(record: Mapping[str, Any]) -> bool:
    """Kept once per synthetic stack: the root stack and the providers."""
    return record["type"] in SHARED_TYPES or record["type"].startswith("pulumi:providers:")


def _name_segment(identifier: str) -> str:
    """The last segment of an id or ARN (`.../task-definition/family:3` -> `family`)."""
    text = _REVISION.sub("", identifier) if "/" in identifier else identifier
    return re.split(r"[/:|]", text)[-1]


class Replicator:
    """Builds replica k of the template records (k = 0 is the template itself)."""

    def __init__(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.shared = [dict(r) for r in records if is_shared(r)]
        self.template = [dict(r) for r in records if not is_shared(r)]
        excluded = {ACCOUNT}
        for record in self.shared:
            for value in (record.get("id") or "", record["urn"]):
                excluded.update(_HEX_RUN.findall(value))
        hex_atoms, name_atoms = set(), set()
        for record in self.template:
            name_atoms.add(record["name"])
            for identifier in (record.get("id") or "", (record.get("outputs") or {}).get("arn") or ""):
                if not isinstance(identifier, str) or not identifier:
                    continue
                runs = [run for run in _HEX_RUN.findall(identifier) if run not in excluded]
                hex_atoms.update(runs)
                if not runs:
                    segment = _name_segment(identifier)
                    if len(segment) >= 4:
                        name_atoms.add(segment)
        name_atoms -= hex_atoms
        self.hex_atoms = sorted(hex_atoms)
        self.name_atoms = sorted(name_atoms)
        atoms = sorted(hex_atoms | name_atoms, key=len, reverse=True)
        pattern = re.compile(r"(?<![0-9A-Za-z])(" + "|".join(re.escape(a) for a in atoms) + r")(?![0-9A-Za-z])")
        # The template as one JSON text, split once into literal parts and atoms (odd indices).
        text = json.dumps(self.template, separators=(",", ":"), sort_keys=True)
        self._parts = pattern.split(text)
        self._hex = hex_atoms

    def per_replica(self) -> int:
        return len(self.template)

    def _variant(self, atom: str, k: int) -> str:
        if atom in self._hex:
            digits = f"{k:06x}"
            return atom[:-len(digits)] + digits
        return f"{atom}-r{k}"

    def replica(self, k: int) -> List[Dict[str, Any]]:
        if k == 0:
            return json.loads(json.dumps(self.template))
        parts = list(self._parts)
        cache: Dict[str, str] = {}
        for i in range(1, len(parts), 2):
            atom = parts[i]
            variant = cache.get(atom)
            if variant is None:
                variant = cache[atom] = self._variant(atom, k)
            parts[i] = variant
        return json.loads("".join(parts))

    def stack(self, size: int) -> List[Dict[str, Any]]:
        """Exactly `size` records (at least the shared ones): shared first, then replicas."""
        records = [dict(r) for r in self.shared]
        k = 0
        while len(records) < size:
            replica = self.replica(k)
            records.extend(replica[: size - len(records)])
            k += 1
        return records


# --- requests ---------------------------------------------------------------------------
def provider_index(records: Iterable[Mapping[str, Any]]) -> Dict[str, Mapping[str, Any]]:
    providers: Dict[str, Mapping[str, Any]] = {}
    for r in records:
        if r["type"].startswith("pulumi:providers:"):
            providers[f"{r['urn']}::{r['id']}"] = r
            providers.setdefault(r["urn"], r)
    return providers


def provider_of(record: Mapping[str, Any], providers: Mapping[str, Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """As the offline check: the engine sends a provider only for custom resources that are not providers."""
    ref = record.get("provider") or ""
    if not ref or not record.get("custom") or record["type"].startswith("pulumi:providers:"):
        return None
    return providers.get(ref) or providers.get(ref.rsplit("::", 1)[0])


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def stack_request_bytes(records: Sequence[Mapping[str, Any]]) -> bytes:
    """A serialized AnalyzeStackRequest (field 1, repeated AnalyzerResource), built resource by
    resource so that 50,000 resources never exist as one Python message."""
    from policypack.offline.client import stack_resource
    providers = provider_index(records)
    chunks = []
    for record in records:
        data = stack_resource(record, provider_of(record, providers)).SerializeToString()
        chunks.append(b"\x0a" + _varint(len(data)) + data)
    return b"".join(chunks)


def analyze_requests(records: Sequence[Mapping[str, Any]]) -> List[Any]:
    from policypack.offline.client import analyze_request
    providers = provider_index(records)
    return [analyze_request(r, provider_of(r, providers)) for r in records]


def uniqueness(records: Sequence[Mapping[str, Any]]) -> Dict[str, int]:
    """Duplicates among URNs, ids and ARNs of different replicated resources (0 expected for URNs;
    ids may repeat only where the sample itself repeats them, e.g. a bucket and its policy)."""
    urns, ids, arns = {}, {}, {}
    for r in records:
        urns[r["urn"]] = urns.get(r["urn"], 0) + 1
        if r.get("id"):
            ids[r["id"]] = ids.get(r["id"], 0) + 1
        arn = (r.get("outputs") or {}).get("arn")
        if isinstance(arn, str) and arn:
            arns[arn] = arns.get(arn, 0) + 1
    return {"urn": sum(n - 1 for n in urns.values()), "id": sum(n - 1 for n in ids.values()),
            "arn": sum(n - 1 for n in arns.values())}
