"""Rules of the capacity concern: ECS clusters' capacity providers and their observability.

Wire facts (pulumi-aws 7.51.1): `aws:ecs/cluster:Cluster` has `settings[{name, value}]`
(name `containerInsights`, value enabled | enhanced | disabled) and `name`/`arn` outputs; capacity
providers are no longer cluster inputs but a separate
`aws:ecs/clusterCapacityProviders:ClusterCapacityProviders` with `clusterName`,
`capacityProviders` and `defaultCapacityProviderStrategies[{capacityProvider, base, weight}]`
(numbers arrive as floats).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .. import props as P
from ..rule import (UNDECIDABLE, Context, Rule, StackRule, StackView, Undecided, Violation, cfg_bool, cfg_number,
                    fsbp, pci, string_list)

CONCERN = "capacity"  # the concern of every rule here (Rule reads it)

DEFAULT_PROVIDERS = ["FARGATE", "FARGATE_SPOT"]


def entries_keyed_by(items: Any, key: str) -> Tuple[List[Tuple[int, Mapping, str]], bool]:
    """The entries of a list of objects whose `key` is a known string, as (index, entry, that string),
    and whether any entry or its `key` is unknown at preview: then an entry not found may still be
    there, and its absence must not be reported."""
    found: List[Tuple[int, Mapping, str]] = []
    undecided = False
    for i, entry in enumerate(items if isinstance(items, list) else []):
        if P.is_unknown(entry):
            undecided = True
            continue
        if not isinstance(entry, Mapping):
            continue
        value = P.as_str(entry.get(key))
        if value is P.UNKNOWN:
            undecided = True
        elif isinstance(value, str):
            found.append((i, entry, value))
    return found, undecided


class FargateCapacityProviders(StackRule, policy="fargate-capacity-providers", level="advisory", severity="low",
                               seeds=(9,), frameworks=(pci("12.10.1"),)):
    """ECS clusters must have FARGATE and FARGATE_SPOT capacity providers with a default strategy that keeps a
    FARGATE (on-demand) base.

    Remediation:
        Create `aws.ecs.ClusterCapacityProviders(cluster_name=cluster.name, capacity_providers=["FARGATE",
        "FARGATE_SPOT"], default_capacity_provider_strategies=[{"capacity_provider": "FARGATE", "base": 1,
        "weight": 1}, {"capacity_provider": "FARGATE_SPOT", "weight": 3}])` for every cluster.

    Compliant example:
        aws.ecs.ClusterCapacityProviders("cp", cluster_name=cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[
                {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                {"capacity_provider": "FARGATE_SPOT", "weight": 3}])
    """
    # Spot for cost, an on-demand base so that a Spot reclaim never takes the whole service down
    # (business continuity of the payment service, PCI DSS 12.10.1).
    config_properties = {
        "minFargateBase": {"type": "number", "minimum": 0, "default": 1,
                           "description": "Smallest `base` the FARGATE entry of the default capacity provider "
                                          "strategy must keep (tasks always on on-demand Fargate); 0 disables the "
                                          "base check."},
        "requiredCapacityProviders": string_list(
            list(DEFAULT_PROVIDERS),
            "Capacity providers every cluster's ClusterCapacityProviders "
            "must list."),
    }

    def judge(self, stack: StackView, ctx: Context, undecided: Undecided) -> Iterable[Violation]:
        clusters = stack.of_type(*P.CLUSTER)
        if not clusters:
            return
        # Each ClusterCapacityProviders to the cluster(s) of this stack its clusterName refers to (by
        # name or ARN; unknown at preview: through its property dependencies).
        by_cluster: Dict[str, List[P.ResourceView]] = {}
        undetermined: List[P.ResourceView] = []
        for ccp in stack.of_type(*P.CLUSTER_CAPACITY_PROVIDERS):
            name = P.as_str(ccp.get("clusterName"))
            value = P.cluster_name(name) if isinstance(name, str) else ccp.props.get("clusterName")
            found = stack.resolve(ccp, "clusterName", P.CLUSTER, value, by=("name", "arn", "id"))
            if found.status == UNDECIDABLE:
                undetermined.append(ccp)
                undecided.add(found.undecidable)
            for cluster in found.resources:
                by_cluster.setdefault(cluster.urn, []).append(ccp)

        configured = ctx.config.get("requiredCapacityProviders")
        required = ([v.strip().upper() for v in configured if isinstance(v, str) and v.strip()]
                    if isinstance(configured, (list, tuple)) else list(DEFAULT_PROVIDERS))
        minimum = cfg_number(ctx, "minFargateBase", 1)

        for cluster in clusters:
            candidates = by_cluster.get(cluster.urn, [])
            if not candidates:
                if undetermined:
                    continue  # a ClusterCapacityProviders names a cluster not known yet (preview)
                yield Violation(f"Cluster '{cluster.name}' has no `aws.ecs.ClusterCapacityProviders`: create one with "
                                "`cluster_name=cluster.name`, `capacity_providers=[\"FARGATE\", \"FARGATE_SPOT\"]` and "
                                "a default strategy keeping a FARGATE `base` of at least "
                                f"{max(minimum, 0):g} (Spot for cost, on-demand base for availability).",
                                urn=cluster.urn, path="capacityProviders")
                continue
            best: Optional[Tuple[P.ResourceView, List[Tuple[str, str]]]] = None
            for ccp in candidates:
                problems = self._problems(cluster, ccp, required, minimum)
                if not problems:
                    best = None
                    break
                if best is None or len(problems) < len(best[1]):
                    best = (ccp, problems)
            if best is not None:
                for message, path in best[1]:
                    yield Violation(message, urn=best[0].urn, path=path)

    @staticmethod
    def _problems(cluster: P.ResourceView, ccp: P.ResourceView, required: Sequence[str],
                  minimum: float) -> List[Tuple[str, str]]:
        problems: List[Tuple[str, str]] = []
        label = f"Capacity providers '{ccp.name}' of cluster '{cluster.name}'"
        providers = P.as_list(ccp.get("capacityProviders"))
        if providers is not P.UNKNOWN:
            items = providers if isinstance(providers, list) else []
            if not any(P.is_unknown(v) for v in items):
                present = {v.strip().upper() for v in items if isinstance(v, str)}
                missing = [p for p in required if p not in present]
                if missing:
                    problems.append((f"{label} lack {', '.join(missing)} in `capacityProviders`: set "
                                     f"`capacity_providers={list(dict.fromkeys(list(required) + sorted(present)))!r}`.",
                                     "capacityProviders"))
        if minimum <= 0:
            return problems
        fix = (f"set `default_capacity_provider_strategies=[{{\"capacity_provider\": \"FARGATE\", \"base\": "
               f"{minimum:g}, \"weight\": 1}}, {{\"capacity_provider\": \"FARGATE_SPOT\", \"weight\": 3}}]`")
        strategies = P.as_list(ccp.get("defaultCapacityProviderStrategies"))
        if strategies is P.UNKNOWN:
            return problems
        entries, undecided = entries_keyed_by(strategies, "capacityProvider")
        for i, entry, provider in entries:
            if provider.strip().upper() != "FARGATE":
                continue
            base = P.as_number(entry.get("base"))
            if base is P.UNKNOWN:
                return problems
            path = f"defaultCapacityProviderStrategies[{i}].base"
            if base is P.INVALID:
                problems.append((f"{label}: `{path}` is not a number: {fix}.", path))
            else:
                base = 0.0 if base is P.MISSING else base
                if base >= minimum:
                    return problems
                problems.append((f"{label} keep a FARGATE `base` of {base:g} (`{path}`), below {minimum:g}: every "
                                 f"task may land on Spot and be reclaimed together; {fix}.", path))
            return problems
        if not undecided:
            problems.append((f"{label} have no FARGATE entry with a `base` in `defaultCapacityProviderStrategies`: "
                             f"every task may land on Spot and be reclaimed together; {fix}.",
                             "defaultCapacityProviderStrategies"))
        return problems


class EcsContainerInsights(Rule, policy="ecs-container-insights", level="mandatory", severity="medium", seeds=(9,),
                           frameworks=(fsbp("ECS.12"), pci("10.2.1", "10.4.1")), types=P.CLUSTER):
    """ECS clusters must have CloudWatch Container Insights enabled (enabled or enhanced).

    Remediation:
        Set `settings=[{"name": "containerInsights", "value": "enhanced"}]` (or "enabled") on the
        `aws.ecs.Cluster`; do not rely on the account-level default, which the cluster's code does not show.

    Compliant example:
        aws.ecs.Cluster("payments", settings=[{"name": "containerInsights", "value": "enhanced"}])
    """
    config_properties = {
        "requireEnhanced": {"type": "boolean", "default": False,
                            "description": "Accept only `enhanced` (task- and container-level metrics), "
                                           "not `enabled`."},
    }

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        accepted = ("enhanced",) if cfg_bool(ctx, "requireEnhanced", False) else ("enabled", "enhanced")
        wanted = " or ".join(f'"{v}"' for v in accepted)
        fix = f"set `settings=[{{\"name\": \"containerInsights\", \"value\": \"{accepted[-1]}\"}}]`"
        settings = P.as_list(resource.get("settings"))
        if settings is P.UNKNOWN:
            return
        if settings is P.INVALID:
            yield Violation(f"Cluster '{resource.name}' has malformed `settings`: {fix}.", path="settings")
            return
        entries, undecided = entries_keyed_by(settings, "name")
        wrong: Optional[Tuple[int, Any]] = None
        for i, entry, name in entries:
            if name.strip() != "containerInsights":
                continue
            value = P.as_str(entry.get("value"))
            if value is P.UNKNOWN or (isinstance(value, str) and value.strip().lower() in accepted):
                return
            if wrong is None:
                wrong = (i, value)
        if wrong is not None:
            i, value = wrong
            shown = (repr(value) if isinstance(value, str) and not resource.is_secret(("settings", i, "value"))
                     else "not set")
            yield Violation(f"Cluster '{resource.name}' has `settings[{i}]` containerInsights {shown}, not {wanted}: "
                            f"{fix}.", path=f"settings[{i}].value")
        elif not undecided:
            yield Violation(f"Cluster '{resource.name}' has no containerInsights setting (`settings`), so task metrics "
                            f"and performance logs are not collected: {fix}.", path="settings")


RULES = [FargateCapacityProviders, EcsContainerInsights]
