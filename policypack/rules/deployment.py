"""Rules of the deployment concern: which strategy a service deploys with, and that the one it
uses can actually roll back.

Wire facts (pulumi-aws 7.51.1, `aws:ecs/service:Service`):
- `deploymentController.type`: ECS (default) | CODE_DEPLOY | EXTERNAL.
- `deploymentConfiguration.strategy`: ROLLING (default) | BLUE_GREEN | LINEAR | CANARY — ECS-native
  blue/green, linear and canary (with `linearConfiguration` / `canaryConfiguration`).
- `deploymentCircuitBreaker{enable, rollback}`, `deploymentMinimumHealthyPercent`,
  `deploymentMaximumPercent` are top-level service inputs (not inside deploymentConfiguration).
- `loadBalancers[].advancedConfiguration{alternateTargetGroupArn, productionListenerRule,
  testListenerRule, roleArn}` carries ECS-native blue/green's second target group and listener rule.
- CodeDeploy (`aws:codedeploy/deploymentGroup:DeploymentGroup`): `appName`, `deploymentStyle`,
  `blueGreenDeploymentConfig`, `loadBalancerInfo.targetGroupPairInfo{prodTrafficRoute{listenerArns},
  targetGroups[{name}], testTrafficRoute}`, `ecsService{clusterName, serviceName}`,
  `autoRollbackConfiguration{enabled, events}`; the application has `computePlatform`.
Max-1 blocks may arrive as an object or a one-element list: always read them with `P.as_dict`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .. import props as P
from ..rule import (EXTERNAL, RESOLVED, UNDECIDABLE, Context, Resolution, Rule, StackRule, StackView, Undecided,
                    Violation, cfg_number, pci)

CONCERN = "deployment"  # the concern of every rule here (Rule reads it)

DEFAULT_STRATEGIES = ["rolling", "blue-green", "linear", "canary"]
KNOWN_STRATEGIES = ["rolling", "blue-green", "linear", "canary", "external"]
_ECS_STRATEGIES = {"ROLLING": "rolling", "BLUE_GREEN": "blue-green", "LINEAR": "linear", "CANARY": "canary"}
#: ECS-native strategies that shift traffic between two target groups (advancedConfiguration).
TRAFFIC_SHIFTING = ("blue-green", "linear", "canary")


class Strategy:
    """A service's effective deployment strategy as far as it is known.

    `controller`: "ECS" | "CODE_DEPLOY" | "EXTERNAL" | other upper-cased text | P.UNKNOWN | P.INVALID.
    `name`: "rolling" | "blue-green" | "linear" | "canary" | "external" | P.UNKNOWN | P.INVALID.
    `detail`: for INVALID, which property could not be read (for messages).
    """
    __slots__ = ("controller", "name", "detail")

    def __init__(self, controller: Any, name: Any, detail: str = "") -> None:
        self.controller = controller
        self.name = name
        self.detail = detail

    @property
    def known(self) -> bool:
        return isinstance(self.name, str)

    @property
    def ecs_native(self) -> bool:
        return self.controller == "ECS"


def effective_strategy(service: P.ResourceView) -> Strategy:
    """CODE_DEPLOY = blue-green (via CodeDeploy); ECS or no controller = the
    deploymentConfiguration.strategy (ROLLING by default); EXTERNAL = external."""
    controller = P.as_dict(service.get("deploymentController"))
    if controller is P.UNKNOWN:
        return Strategy(P.UNKNOWN, P.UNKNOWN)
    if controller is P.INVALID:
        return Strategy(P.INVALID, P.INVALID, "deploymentController")
    kind = P.MISSING if controller is P.MISSING else P.as_str(P.lookup(controller, "type"))
    if kind is P.UNKNOWN:
        return Strategy(P.UNKNOWN, P.UNKNOWN)
    if kind is P.INVALID:
        return Strategy(P.INVALID, P.INVALID, "deploymentController.type")
    kind = "ECS" if kind is P.MISSING or not kind.strip() else kind.strip().upper()
    if kind == "CODE_DEPLOY":
        return Strategy(kind, "blue-green")
    if kind == "EXTERNAL":
        return Strategy(kind, "external")
    if kind != "ECS":
        return Strategy(kind, P.INVALID, "deploymentController.type")
    config = P.as_dict(service.get("deploymentConfiguration"))
    if config is P.UNKNOWN:
        return Strategy(kind, P.UNKNOWN)
    if config is P.INVALID:
        return Strategy(kind, P.INVALID, "deploymentConfiguration")
    strategy = P.MISSING if config is P.MISSING else P.as_str(P.lookup(config, "strategy"))
    if strategy is P.UNKNOWN:
        return Strategy(kind, P.UNKNOWN)
    if strategy is P.INVALID:
        return Strategy(kind, P.INVALID, "deploymentConfiguration.strategy")
    if strategy is P.MISSING or not strategy.strip():
        return Strategy(kind, "rolling")
    name = _ECS_STRATEGIES.get(strategy.strip().upper())
    if name is None:
        return Strategy(kind, P.INVALID, "deploymentConfiguration.strategy")
    return Strategy(kind, name)


def _normalise_strategy(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return None
    return value.strip().lower().replace("_", "-").replace(" ", "-") or None


def _show(resource: P.ResourceView, path: Sequence[Any], value: Any) -> str:
    return resource.show(path, value if isinstance(value, str) else str(value), hidden="(secret)")


CIRCUIT_BREAKER_FIX = 'deployment_circuit_breaker={"enable": True, "rollback": True}'


def circuit_breaker_problems(service: P.ResourceView, why: str) -> List[Tuple[str, str]]:
    """(message, path) for each part of deploymentCircuitBreaker that is not enable+rollback true.
    Unknown values count as set."""
    block = P.as_dict(service.get("deploymentCircuitBreaker"))
    if block is P.UNKNOWN:
        return []
    if block is P.MISSING:
        return [(f"Service '{service.name}' has no `deploymentCircuitBreaker`: set `{CIRCUIT_BREAKER_FIX}` "
                 f"{why}.", "deploymentCircuitBreaker")]
    if block is P.INVALID:
        return [(f"Service '{service.name}' has a malformed `deploymentCircuitBreaker`: set "
                 f"`{CIRCUIT_BREAKER_FIX}` {why}.", "deploymentCircuitBreaker")]
    problems = []
    for key in ("enable", "rollback"):
        flag = P.as_bool(P.lookup(block, key))
        if flag is True or flag is P.UNKNOWN:
            continue
        state = "is not set" if flag is P.MISSING else ("is not a boolean" if flag is P.INVALID else "is false")
        problems.append((f"Service '{service.name}': `deploymentCircuitBreaker.{key}` {state}: set "
                         f"`{CIRCUIT_BREAKER_FIX}` {why}.", f"deploymentCircuitBreaker.{key}"))
    return problems


class DeploymentStrategyAllowed(Rule, policy="deployment-strategy-allowed", level="mandatory", severity="medium",
                                seeds=(7,), frameworks=(pci("6.5.1", "6.5.2"),), types=P.SERVICE):
    """ECS services must deploy with an approved strategy (rolling, blue/green, linear or canary).

    Remediation:
        Use the ECS deployment controller (`deployment_controller={"type": "ECS"}` or none) with
        `deployment_configuration={"strategy": "ROLLING" | "BLUE_GREEN" | "LINEAR" | "CANARY"}`, or
        `deployment_controller={"type": "CODE_DEPLOY"}` with a CodeDeploy application and deployment group in
        the same stack. An EXTERNAL controller moves deployments outside the reviewed change process: allow it
        through `allowedStrategies` only deliberately.

    Compliant example:
        aws.ecs.Service("api", cluster=cluster.arn, task_definition=task.arn,
            deployment_configuration={"strategy": "BLUE_GREEN"}, ...)
    """
    config_properties = {
        "allowedStrategies": {
            "type": "array",
            "items": {"type": "string", "enum": KNOWN_STRATEGIES},
            "default": list(DEFAULT_STRATEGIES),
            "description": ("Effective strategies a service may use. CODE_DEPLOY controller = blue-green; "
                            "ECS controller = the deploymentConfiguration.strategy (ROLLING -> rolling, "
                            "BLUE_GREEN -> blue-green, LINEAR -> linear, CANARY -> canary); EXTERNAL -> "
                            "external (outside IaC control, not allowed by default)."),
        },
    }

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        configured = ctx.config.get("allowedStrategies")
        if isinstance(configured, (list, tuple)):
            allowed = {s for s in (_normalise_strategy(v) for v in configured) if s}
        else:  # a malformed config falls back to the default, never to "nothing allowed"
            allowed = set(DEFAULT_STRATEGIES)
        strategy = effective_strategy(resource)
        allowed_text = ", ".join(sorted(allowed)) or "none"
        if strategy.name is P.UNKNOWN:
            return  # decided at `pulumi up`, when the controller and strategy are known
        if strategy.name is P.INVALID:
            path = strategy.detail.split(".")
            shown = P.as_str(P.lookup(P.as_dict(resource.get(path[0])), *path[1:])) if len(path) > 1 \
                else P.INVALID
            what = f"is {_show(resource, path, shown)}" if isinstance(shown, str) else "is malformed"
            yield Violation(f"Service '{resource.name}': `{strategy.detail}` {what}, not a deployment "
                            "controller/strategy this pack recognises; use `deployment_controller="
                            "{\"type\": \"ECS\"}` with `deployment_configuration={\"strategy\": ...}` (ROLLING, "
                            f"BLUE_GREEN, LINEAR or CANARY) or CODE_DEPLOY. Allowed strategies: {allowed_text}.",
                            path=strategy.detail)
            return
        if strategy.name in allowed:
            return
        if strategy.controller == "CODE_DEPLOY":
            source = "`deploymentController.type` is CODE_DEPLOY (blue-green via CodeDeploy)"
        elif strategy.controller == "EXTERNAL":
            source = "`deploymentController.type` is EXTERNAL (deployments made outside ECS and IaC)"
        else:
            source = f"`deploymentConfiguration.strategy` gives '{strategy.name}'"
        yield Violation(f"Service '{resource.name}' deploys with strategy '{strategy.name}' ({source}), which is not "
                        f"in allowedStrategies ({allowed_text}): set `deployment_controller` / "
                        "`deployment_configuration.strategy` to an allowed strategy.",
                        path="deploymentController" if strategy.controller != "ECS" else "deploymentConfiguration")


class RollingDeploymentCircuitBreaker(Rule, policy="rolling-deployment-circuit-breaker", level="mandatory",
                                      severity="high", seeds=(7, 13, 14), frameworks=(pci("6.5.1"),),
                                      types=P.SERVICE):
    """ECS rolling deployments must stop and roll back on failure and keep full capacity: circuit breaker with
    rollback, minimum healthy percent and maximum percent at their safe values.

    Remediation:
        On the service itself (not inside `deployment_configuration`, which has no such fields — seed failures
        13/14): `deployment_circuit_breaker={"enable": True, "rollback": True}`,
        `deployment_minimum_healthy_percent=100`, `deployment_maximum_percent=200`.

    Compliant example:
        aws.ecs.Service("api", cluster=cluster.arn, task_definition=task.arn, desired_count=3,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200, ...)
    """
    config_properties = {
        "minHealthyPercent": {"type": "number", "minimum": 0, "maximum": 100, "default": 100,
                              "description": "Lowest acceptable deploymentMinimumHealthyPercent (absent = the "
                                             "AWS default of 100 for replica services)."},
        "maxPercent": {"type": "number", "minimum": 100, "maximum": 200, "default": 200,
                       "description": "Lowest acceptable deploymentMaximumPercent (absent = the AWS default of "
                                      "200 for replica services)."},
    }

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        strategy = effective_strategy(resource)
        if strategy.name != "rolling":
            return  # other strategies: deployment-strategy-allowed / blue-green-deployment-complete
        why = "so that a failing rolling deployment stops and rolls back to the last working revision"
        for message, path in circuit_breaker_problems(resource, why):
            yield Violation(message, path=path)
        # maximumPercent is not valid for DAEMON services (one task per instance; never on Fargate), and
        # their minimum defaults to 0: the capacity checks are about replica services.
        scheduling = P.as_str(resource.get("schedulingStrategy"))
        if isinstance(scheduling, str) and scheduling.strip().upper() == "DAEMON":
            return
        minimum = cfg_number(ctx, "minHealthyPercent", 100)
        maximum = cfg_number(ctx, "maxPercent", 200)
        yield from self._percent(resource, "deploymentMinimumHealthyPercent", "deployment_minimum_healthy_percent",
                                 minimum, 100.0, "healthy tasks may drop below full capacity during a deployment")
        yield from self._percent(resource, "deploymentMaximumPercent", "deployment_maximum_percent",
                                 maximum, 200.0, "the new revision cannot start at full size next to the old one")

    @staticmethod
    def _percent(resource: P.ResourceView, prop: str, arg: str, required: float, aws_default: float,
                 risk: str) -> Iterable[Violation]:
        value = P.as_number(resource.get(prop))
        if value is P.UNKNOWN:
            return
        if value is P.MISSING:
            value = aws_default  # absent = what AWS applies to a replica service
            if value >= required:
                return
            yield Violation(f"Service '{resource.name}' leaves `{prop}` unset (AWS default {aws_default:g}), below the "
                            f"required {required:g}: {risk}; set `{arg}={required:g}`.", path=prop)
            return
        if value is P.INVALID:
            yield Violation(f"Service '{resource.name}': `{prop}` is not a number: set `{arg}={required:g}`.",
                            path=prop)
            return
        if value < required:
            yield Violation(f"Service '{resource.name}' has `{prop}` {value:g}, below the required {required:g}: "
                            f"{risk}; set `{arg}={required:g}`.", path=prop)


# --- blue-green-deployment-complete ---------------------------------------------------------

class BlueGreenDeploymentComplete(StackRule, policy="blue-green-deployment-complete", level="mandatory",
                                  severity="high", seeds=(7,), frameworks=(pci("6.5.1", "6.5.2"),)):
    """Blue/green services must be wired completely: CodeDeploy application and deployment group with two target
    groups, a production listener and auto-rollback, or ECS-native blue/green with an alternate target group, a
    production listener rule forwarding to both, a role and the circuit breaker.

    Remediation:
        CodeDeploy (`deployment_controller={"type": "CODE_DEPLOY"}`): create
        `aws.codedeploy.Application(compute_platform="ECS")` and an `aws.codedeploy.DeploymentGroup` with
        `app_name=app.name`, `ecs_service={"cluster_name": cluster.name, "service_name": service.name}`,
        `deployment_style={"deployment_type": "BLUE_GREEN", "deployment_option": "WITH_TRAFFIC_CONTROL"}`,
        `blue_green_deployment_config={...}`, `load_balancer_info={"target_group_pair_info": {"target_groups":
        [{"name": blue.name}, {"name": green.name}], "prod_traffic_route": {"listener_arns": [listener.arn]}}}`,
        `auto_rollback_configuration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}`. ECS-native
        (`deployment_configuration={"strategy": "BLUE_GREEN"|"LINEAR"|"CANARY"}`): on every `load_balancers`
        entry set `advanced_configuration={"alternate_target_group_arn": green.arn, "production_listener_rule":
        rule.arn, "role_arn": ecs_lb_role.arn}` where the listener rule forwards to both target groups
        (`actions=[{"type": "forward", "forward": {"target_groups": [{"arn": blue.arn}, {"arn": green.arn,
        "weight": 0}]}}]`), plus `deployment_circuit_breaker={"enable": True, "rollback": True}`.

    Compliant example:
        aws.ecs.Service("api", deployment_configuration={"strategy": "BLUE_GREEN"},
            deployment_circuit_breaker={"enable": True, "rollback": True},
            load_balancers=[{"target_group_arn": blue.arn, "container_name": "api", "container_port": 8080,
                "advanced_configuration": {"alternate_target_group_arn": green.arn,
                    "production_listener_rule": prod_rule.arn, "role_arn": ecs_lb_role.arn}}], ...)
    """

    def check_stack(self, stack: StackView, ctx: Context) -> Iterable[Violation]:
        services = stack.of_type(*P.SERVICE)
        codedeploy: List[P.ResourceView] = []
        native: List[P.ResourceView] = []
        for service in services:
            strategy = effective_strategy(service)
            if strategy.controller == "CODE_DEPLOY":
                codedeploy.append(service)
            elif strategy.ecs_native and strategy.name in TRAFFIC_SHIFTING:
                native.append(service)
        if not codedeploy and not native:
            return
        idx = _StackIndex(stack, update=not ctx.dry_run)
        yield from idx.undecided.report(self._violations(idx, codedeploy, native))

    @staticmethod
    def _violations(idx: "_StackIndex", codedeploy: List[P.ResourceView],
                    native: List[P.ResourceView]) -> Iterable[Violation]:
        for service in codedeploy:
            for message, path in idx.codedeploy_problems(service):
                yield Violation(message, urn=service.urn, path=path)
        for service in native:
            for message, path in idx.native_problems(service, effective_strategy(service).name):
                yield Violation(message, urn=service.urn, path=path)


def _required_block(dg: P.ResourceView, add: Callable[[str, str], None], path: Tuple[str, ...],
                    why: str) -> Optional[Mapping]:
    """The block at `path` of a deployment group; None when it is not known yet (decided at
    `pulumi up`) or, having `add`ed "has no `<path>`<why>", when it is absent or malformed."""
    block = P.block(dg.props, *path)
    if block is P.UNKNOWN:
        return None
    if not isinstance(block, Mapping):
        add(f"has no `{'.'.join(path)}`{why}", ".".join(path))
        return None
    return block


class _StackIndex:
    """Everything blue-green-deployment-complete links, indexed once per AnalyzeStack call."""

    def __init__(self, stack: StackView, update: bool = False) -> None:
        self.stack = stack
        self.update = update
        self.undecided = Undecided()
        # Deployment groups by the service they name (output name) or depend on; undetermined ones apart.
        self.dg_by_service_name: Dict[str, List[P.ResourceView]] = {}
        self.dg_by_service_urn: Dict[str, List[P.ResourceView]] = {}
        self.dg_undetermined: List[P.ResourceView] = []
        for dg in stack.of_type(*P.DEPLOYMENT_GROUP):
            ecs = P.as_dict(dg.get("ecsService"))
            name = P.UNKNOWN if ecs is P.UNKNOWN else (
                P.as_str(P.lookup(ecs, "serviceName")) if isinstance(ecs, Mapping) else P.MISSING)
            if isinstance(name, str) and name:
                self.dg_by_service_name.setdefault(name, []).append(dg)
            elif name is P.UNKNOWN:
                bound = stack.resolve(dg, "ecsService", P.SERVICE, P.UNKNOWN).urns
                for urn in bound:
                    self.dg_by_service_urn.setdefault(urn, []).append(dg)
                if not bound:
                    self.dg_undetermined.append(dg)

    def resolve(self, owner: P.ResourceView, prop: str, types: Sequence[str], value: Any,
                by: Sequence[str] = ("arn", "id")) -> Resolution:
        return self.stack.resolve(owner, prop, types, value, by=by, update=self.update)

    # --- CodeDeploy -----------------------------------------------------------------------
    def codedeploy_problems(self, service: P.ResourceView) -> List[Tuple[str, str]]:
        name = P.as_str(service.props.get("name"))
        candidates: List[P.ResourceView] = []
        if isinstance(name, str) and name:
            candidates.extend(self.dg_by_service_name.get(name, ()))
        for dg in self.dg_by_service_urn.get(service.urn, ()):
            if dg not in candidates:
                candidates.append(dg)
        if not candidates:
            if self.dg_undetermined or (not isinstance(name, str) and self.dg_by_service_name):
                # a deployment group names a service not known yet (preview): decided at `up`
                self.undecided.add(f"which CodeDeploy deployment group is bound to service '{service.name}' is not "
                                   "known yet")
                return []
            return [(f"Service '{service.name}' uses the CODE_DEPLOY deployment controller but no CodeDeploy "
                     "deployment group of this stack is bound to it: create an `aws.codedeploy.DeploymentGroup` "
                     "with `ecs_service={\"cluster_name\": cluster.name, \"service_name\": service.name}` (and an "
                     "`aws.codedeploy.Application(compute_platform=\"ECS\")`), or deployments cannot happen.",
                     "deploymentController")]
        best: Optional[List[Tuple[str, str]]] = None
        for dg in candidates:
            problems = self._deployment_group_problems(service, dg)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or []

    def _service_cluster(self, service: P.ResourceView) -> Tuple[Any, Optional[P.ResourceView]]:
        """The service's cluster name (or P.UNKNOWN) and its cluster resource of this stack, if any."""
        raw = service.props.get("cluster")
        cluster = self.stack.resolve(service, "cluster", P.CLUSTER, raw, by=("arn", "id", "name")).single
        if cluster is not None:
            name = P.as_str(cluster.props.get("name"))
            return (name if isinstance(name, str) and name else P.UNKNOWN), cluster
        value = P.as_str(raw)
        if value is P.MISSING:
            return "default", None
        if isinstance(value, str) and value:
            return P.cluster_name(value), None
        return P.UNKNOWN, None

    def _deployment_group_problems(self, service: P.ResourceView, dg: P.ResourceView) -> List[Tuple[str, str]]:
        problems: List[Tuple[str, str]] = []
        label = f"Service '{service.name}': CodeDeploy deployment group '{dg.name}'"

        def add(text: str, path: str) -> None:
            problems.append((f"{label} {text}", f"deploymentGroup:{dg.name}.{path}"))

        ecs = P.as_dict(dg.get("ecsService"))
        # Bound to the service's cluster too (a service name is unique only within a cluster).
        expected, cluster = self._service_cluster(service)
        cluster_name = P.as_str(P.lookup(ecs, "clusterName")) if isinstance(ecs, Mapping) else P.UNKNOWN
        if isinstance(cluster_name, str) and cluster_name and isinstance(expected, str):
            if cluster_name != expected and P.cluster_name(cluster_name) != expected:
                add(f"names cluster {_show(dg, ('ecsService', 'clusterName'), cluster_name)} in "
                    f"`ecsService.clusterName`, not the service's cluster '{expected}': set "
                    "`ecs_service={\"cluster_name\": cluster.name, ...}`.", "ecsService.clusterName")
        elif cluster_name is P.UNKNOWN:
            dep_clusters = self.stack.resolve(dg, "ecsService", P.CLUSTER, P.UNKNOWN).resources
            if cluster is not None and dep_clusters and cluster not in dep_clusters:
                add("takes `ecsService.clusterName` from another cluster than the service's: set "
                    "`ecs_service={\"cluster_name\": cluster.name, ...}`.", "ecsService.clusterName")
        elif cluster_name is P.MISSING or cluster_name is P.INVALID or cluster_name == "":
            add("has no `ecsService.clusterName`: set `ecs_service={\"cluster_name\": cluster.name, "
                "\"service_name\": service.name}`.", "ecsService.clusterName")

        self._application(dg, add)
        self._style(dg, add)
        self._target_group_pair(dg, add)
        self._auto_rollback(dg, add)
        return problems

    def _application(self, dg: P.ResourceView, add) -> None:
        value = P.as_str(dg.get("appName"))
        if value is P.MISSING or value is P.INVALID or value == "":
            add("has no `appName`: set `app_name` to the name of an `aws.codedeploy.Application("
                "compute_platform=\"ECS\")` of this stack.", "appName")
            return
        found = self.resolve(dg, "appName", P.CODEDEPLOY_APP, value, by=("name",))
        app = found.single
        if found.status == UNDECIDABLE:
            self.undecided.add(found.undecidable)
            return
        if found.status == RESOLVED and app is None:
            return  # one of several applications it depends on
        if app is None:
            add(f"has `appName` {_show(dg, ('appName',), value)}, which is not a CodeDeploy application of this "
                "stack: create `aws.codedeploy.Application(compute_platform=\"ECS\")` and set `app_name=app.name`.",
                "appName")
            return
        platform = P.as_str(app.props.get("computePlatform"))
        if platform is P.UNKNOWN or (isinstance(platform, str) and platform.strip().upper() == "ECS"):
            return
        shown = "unset (default Server)" if platform is P.MISSING else _show(app, ("computePlatform",), platform)
        add(f"uses application '{app.name}' whose `computePlatform` is {shown}: set `compute_platform=\"ECS\"` on "
            "the application.", "appName")

    @staticmethod
    def _style(dg: P.ResourceView, add) -> None:
        style = P.as_dict(dg.get("deploymentStyle"))
        fix = ("set `deployment_style={\"deployment_type\": \"BLUE_GREEN\", "
               "\"deployment_option\": \"WITH_TRAFFIC_CONTROL\"}`.")
        if style is P.MISSING or style is P.INVALID:
            add(f"has no `deploymentStyle` (defaults to IN_PLACE without traffic control): {fix}", "deploymentStyle")
        elif isinstance(style, Mapping):
            for key, wanted in (("deploymentType", "BLUE_GREEN"), ("deploymentOption", "WITH_TRAFFIC_CONTROL")):
                value = P.as_str(style.get(key))
                if value is P.UNKNOWN or (isinstance(value, str) and value.strip().upper() == wanted):
                    continue
                shown = "unset" if value is P.MISSING else _show(dg, ("deploymentStyle", key), value)
                add(f"has `deploymentStyle.{key}` {shown}, not {wanted}: {fix}", f"deploymentStyle.{key}")
        config = P.as_dict(dg.get("blueGreenDeploymentConfig"))
        if config is P.MISSING or config is P.INVALID or (isinstance(config, Mapping) and not config):
            add("has no `blueGreenDeploymentConfig`: set `blue_green_deployment_config={\"deployment_ready_option\": "
                "{\"action_on_timeout\": \"CONTINUE_DEPLOYMENT\"}, \"terminate_blue_instances_on_deployment_success\": "
                "{\"action\": \"TERMINATE\", \"termination_wait_time_in_minutes\": 5}}`.", "blueGreenDeploymentConfig")

    def _target_group_pair(self, dg: P.ResourceView, add) -> None:
        pair_fix = ("set `load_balancer_info={\"target_group_pair_info\": {\"target_groups\": [{\"name\": blue.name}, "
                    "{\"name\": green.name}], \"prod_traffic_route\": {\"listener_arns\": [listener.arn]}}}`.")
        pair = _required_block(dg, add, ("loadBalancerInfo", "targetGroupPairInfo"),
                               f" (blue/green needs two target groups): {pair_fix}")
        if pair is None:
            return
        base = ("loadBalancerInfo", "targetGroupPairInfo")
        groups = P.as_list(pair.get("targetGroups"))
        if groups is not P.UNKNOWN:
            entries = groups if isinstance(groups, list) else []
            if len(entries) != 2:
                add(f"has {len(entries)} target group(s) in `loadBalancerInfo.targetGroupPairInfo.targetGroups`; "
                    f"blue/green needs exactly two distinct target groups of this stack: {pair_fix}",
                    "loadBalancerInfo.targetGroupPairInfo.targetGroups")
            seen: Dict[str, int] = {}
            for i, entry in enumerate(entries):
                path = base + ("targetGroups", i, "name")
                name = P.as_str(P.lookup(entry, "name"))
                if name is P.UNKNOWN:
                    continue
                if not isinstance(name, str) or not name:
                    add(f"has no name in `loadBalancerInfo.targetGroupPairInfo.targetGroups[{i}]`: {pair_fix}",
                        P.format_path(path[:-1]))
                    continue
                found = self.resolve(dg, "loadBalancerInfo", P.TARGET_GROUP, name, by=("name",))
                if found.status == EXTERNAL:
                    add(f"names target group {_show(dg, path, name)} in `{P.format_path(path)}`, which is not a "
                        f"target group of this stack: create both with `aws.lb.TargetGroup` and {pair_fix}",
                        P.format_path(path))
                key = found.single.urn if found.single is not None else name
                if key in seen:
                    add(f"names the same target group twice (`targetGroups[{seen[key]}]` and `targetGroups[{i}]`): "
                        f"blue and green must be two distinct target groups; {pair_fix}", P.format_path(path))
                seen.setdefault(key, i)
        arns = P.as_list(P.lookup(P.block(pair, "prodTrafficRoute"), "listenerArns"))
        if arns is P.UNKNOWN:
            return
        items = arns if isinstance(arns, list) else []
        if not items:
            add("has no production traffic route "
                "(`loadBalancerInfo.targetGroupPairInfo.prodTrafficRoute.listenerArns`): "
                f"CodeDeploy cannot shift traffic; {pair_fix}", "loadBalancerInfo.targetGroupPairInfo.prodTrafficRoute")
            return
        for i, arn in enumerate(items):
            path = base + ("prodTrafficRoute", "listenerArns", i)
            listener = self.resolve(dg, "loadBalancerInfo", P.LISTENER, arn)
            if listener.status == UNDECIDABLE:
                self.undecided.add(listener.undecidable)
            elif listener.status == EXTERNAL:
                add(f"routes production traffic through `{P.format_path(path)}`, which is not a listener of this "
                    "stack: set it to `listener.arn` of an `aws.lb.Listener` created here.", P.format_path(path))

    @staticmethod
    def _auto_rollback(dg: P.ResourceView, add) -> None:
        fix = "set `auto_rollback_configuration={\"enabled\": True, \"events\": [\"DEPLOYMENT_FAILURE\"]}`."
        block = _required_block(dg, add, ("autoRollbackConfiguration",),
                                f": a failed deployment is not rolled back; {fix}")
        if block is None:
            return
        enabled = P.as_bool(block.get("enabled"))
        if enabled is not True and enabled is not P.UNKNOWN:
            add(f"does not enable `autoRollbackConfiguration.enabled`: {fix}", "autoRollbackConfiguration.enabled")
        events = P.as_list(block.get("events"))
        if events is P.UNKNOWN:
            return
        items = events if isinstance(events, list) else []
        if any(P.is_unknown(e) for e in items):
            return
        if not any(isinstance(e, str) and e.strip().upper() == "DEPLOYMENT_FAILURE" for e in items):
            add(f"does not roll back on DEPLOYMENT_FAILURE (`autoRollbackConfiguration.events`): {fix}",
                "autoRollbackConfiguration.events")

    # --- ECS-native blue/green, linear, canary ---------------------------------------------
    def native_problems(self, service: P.ResourceView, strategy: str) -> List[Tuple[str, str]]:
        problems: List[Tuple[str, str]] = []
        label = f"Service '{service.name}' (ECS-native {strategy})"
        for i, entry in P.indexed_dicts(service.get("loadBalancers")):
            problems.extend(self._native_entry(service, label, i, entry))
        why = f"so that a failing {strategy} deployment rolls back automatically"
        problems.extend(circuit_breaker_problems(service, why))
        return problems

    def _native_entry(self, service: P.ResourceView, label: str, i: int, entry: Mapping) -> List[Tuple[str, str]]:
        problems: List[Tuple[str, str]] = []
        at = f"loadBalancers[{i}]"
        fix = (f"set `load_balancers[{i}].advanced_configuration={{\"alternate_target_group_arn\": green.arn, "
               "\"production_listener_rule\": prod_rule.arn, \"role_arn\": ecs_lb_role.arn}`")
        adv = P.as_dict(entry.get("advancedConfiguration"))
        if adv is P.UNKNOWN:
            return problems
        if not isinstance(adv, Mapping):
            problems.append((f"{label}: `{at}` has no `advancedConfiguration` (alternate target group, production "
                             f"listener rule, role): {fix}.", f"{at}.advancedConfiguration"))
            return problems
        # Unknown at preview: resolved through the service's property dependencies (candidates).
        primary: Optional[Resolution] = self.resolve(service, "loadBalancers", P.TARGET_GROUP,
                                                     entry.get("targetGroupArn"))
        alternate_value = P.as_str(adv.get("alternateTargetGroupArn"))
        alternate: Optional[Resolution] = None
        path = f"{at}.advancedConfiguration.alternateTargetGroupArn"
        if alternate_value is P.MISSING or alternate_value is P.INVALID or alternate_value == "":
            problems.append((f"{label}: `{path}` is not set: {fix}.", path))
        else:
            alternate = self.resolve(service, "loadBalancers", P.TARGET_GROUP, alternate_value)
            if alternate.status == EXTERNAL:
                problems.append((f"{label}: `{path}` is not a target group of this stack: create the green target "
                                 f"group with `aws.lb.TargetGroup` in this stack and {fix}.", path))
                alternate = None  # reported once: not again as "not forwarded to"
            elif alternate_value == entry.get("targetGroupArn") or (
                    alternate.via == primary.via == "value" and alternate.status == primary.status == RESOLVED
                    and alternate.single is not None and alternate.single is primary.single):
                problems.append((f"{label}: `{path}` is the same target group as `{at}.targetGroupArn`: the "
                                 f"alternate (green) target group must be a second one; {fix}.", path))
                alternate = None

        rule_value = P.as_str(adv.get("productionListenerRule"))
        path = f"{at}.advancedConfiguration.productionListenerRule"
        if rule_value is P.MISSING or rule_value is P.INVALID or rule_value == "":
            problems.append((f"{label}: `{path}` is not set: {fix}.", path))
        else:
            problems.extend(self._production_rule(service, label, path, rule_value, primary, alternate, fix))

        role = P.as_str(adv.get("roleArn"))
        path = f"{at}.advancedConfiguration.roleArn"
        if role is P.MISSING or role is P.INVALID or role == "":
            problems.append((f"{label}: `{path}` is not set (ECS needs a role to shift traffic between the target "
                             f"groups): {fix}.", path))
        return problems

    def _production_rule(self, service: P.ResourceView, label: str, path: str, value: Any,
                         primary: Optional[Resolution], alternate: Optional[Resolution],
                         fix: str) -> List[Tuple[str, str]]:
        found = self.resolve(service, "loadBalancers", P.LISTENER_RULE, value)
        if found.status == UNDECIDABLE:
            self.undecided.add(found.undecidable)
            return []
        if found.status != RESOLVED:
            # A Network Load Balancer has no listener rules: AWS takes its listener's ARN here.
            listener = self.resolve(service, "loadBalancers", P.LISTENER, value).single
            if listener is not None and self._on_network_lb(listener):
                return self._forwards_both(label, path, f"listener '{listener.name}'", listener, "defaultActions",
                                           primary, alternate)
            return [(f"{label}: `{path}` is not a listener rule of this stack: create an `aws.lb.ListenerRule` on "
                     f"this stack's listener that forwards to both target groups and {fix}.", path)]
        # Several candidates (a preview value depending on several rules): one correct rule suffices.
        best: Optional[List[Tuple[str, str]]] = None
        for rule in found.resources:
            problems = self._rule_problems(label, path, rule, primary, alternate)
            if not problems:
                return []
            best = best or problems
        return best or []

    def _rule_problems(self, label: str, path: str, rule: P.ResourceView, primary: Optional[Resolution],
                       alternate: Optional[Resolution]) -> List[Tuple[str, str]]:
        problems: List[Tuple[str, str]] = []
        listeners = self.resolve(rule, "listenerArn", P.LISTENER, rule.props.get("listenerArn"))
        if listeners.status == EXTERNAL:
            problems.append((f"{label}: production listener rule '{rule.name}' is not on a listener of this stack "
                             "(`listenerArn`): attach it to an `aws.lb.Listener` of this stack's load balancer.", path))
        elif listeners.single is not None:
            listener = listeners.single
            lbs = self.resolve(listener, "loadBalancerArn", P.LB, listener.props.get("loadBalancerArn"))
            if lbs.status == EXTERNAL:
                problems.append((f"{label}: production listener rule '{rule.name}' is on listener '{listener.name}', "
                                 "which does not belong to a load balancer of this stack (`loadBalancerArn`): create "
                                 "the `aws.lb.LoadBalancer` in this stack.", path))
        problems.extend(self._forwards_both(label, path, f"listener rule '{rule.name}'", rule, "actions",
                                            primary, alternate))
        return problems

    def _on_network_lb(self, listener: P.ResourceView) -> bool:
        lb = self.resolve(listener, "loadBalancerArn", P.LB, listener.props.get("loadBalancerArn")).single
        if lb is None:
            return False
        kind = P.as_str(lb.props.get("loadBalancerType"))
        return isinstance(kind, str) and kind.strip().lower() == "network"

    def _forwards_both(self, label: str, path: str, what: str, owner: P.ResourceView, prop: str,
                       primary: Optional[Resolution], alternate: Optional[Resolution]) -> List[Tuple[str, str]]:
        """The production rule (or NLB listener) must forward to the primary and the alternate target
        group. At preview each side may be a set of candidates (its property dependencies): the rule
        must then reach each set and, primary and alternate being distinct, two target groups."""
        forwards = self.resolve(owner, prop, P.TARGET_GROUP, P.forward_target_refs(owner.props.get(prop)))
        if forwards.status == UNDECIDABLE:
            self.undecided.add(forwards.undecidable)
            return []
        forwarded = forwards.keys()
        # A side outside the stack is reported on its own (here or by ecs-service-behind-stack-alb).
        sides = [(role, found.urns) for role, found in (("primary (`targetGroupArn`)", primary),
                                                        ("alternate", alternate))
                 if found is not None and found.status == RESOLVED]
        missing = [role for role, keys in sides if not keys & forwarded]
        both = sides[0][1] | sides[1][1] if len(sides) == 2 else set()
        if not missing and len(both) >= 2 and len(forwarded & both) < 2:
            missing = [role for role, _ in sides]
        if not missing:
            return []
        return [(f"{label}: production {what} does not forward to the {' and '.join(missing)} target group: its "
                 "forward action must include both (`actions=[{\"type\": \"forward\", \"forward\": {\"target_groups\": "
                 "[{\"arn\": blue.arn}, {\"arn\": green.arn, \"weight\": 0}]}}]`) so ECS can shift traffic.", path)]


RULES = [DeploymentStrategyAllowed, BlueGreenDeploymentComplete, RollingDeploymentCircuitBreaker]
