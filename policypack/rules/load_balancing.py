"""Load balancing: ECS services behind a load balancer of their own stack, target-group health
checks, listener rules, and hardening of the load balancers and their listeners.

Every rule reads both `aws:lb/*` and `aws:alb/*` tokens (P.LB, P.LISTENER, P.LISTENER_RULE,
P.TARGET_GROUP).

Which load balancers the `alb-*` rules judge (a load balancer without `loadBalancerType` is an
application load balancer, the provider's default; an unknown type is not judged):

- alb-drop-invalid-headers: application only (network/gateway load balancers parse no HTTP).
- alb-access-logs: `loadBalancerTypes` config, default application only (FSBP ELB.5; network
  load balancers log TLS listeners only, gateway load balancers not at all).
- alb-deletion-protection: `loadBalancerTypes` config, default all three (FSBP ELB.6 covers
  application, network and gateway load balancers alike).
- alb-https-only / alb-modern-tls-policy judge listeners, whose load balancer a resource rule
  cannot see, so they go by the listener's protocol: HTTPS and TLS (network load balancers'
  TLS termination) need a certificate and an allowed security policy; HTTP must only redirect
  to HTTPS; QUIC is encrypted end to end (passed through to the targets) and passes; TCP, UDP,
  TCP_UDP and TCP_QUIC carry whatever the client sends and are reported unless listed in
  `passthroughProtocols` (for targets that terminate TLS themselves); gateway load balancer
  listeners (no protocol, no port, or GENEVE) are not judged.

Checkov equivalents of the extended rules: CKV2_AWS_20 (https-only), CKV_AWS_103 (TLS policy),
CKV_AWS_131 (drop invalid headers), CKV_AWS_91 (access logs), CKV_AWS_150 (deletion protection).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Generator, Iterable, List, Optional, Set, Tuple

from .. import props as P
from ..environments import ENVIRONMENT_CONFIG, stack_environment
from .value_check import ValueCheck
from ..rule import (RESOLVED, UNDECIDABLE, Context, Resolution, Rule, StackRule, StackView, Undecided, Violation,
                    cfg_bool, cfg_list, cfg_number, fsbp, glob_match, known, pci, string_list)

CONCERN = "load-balancing"




# --- small readers -----------------------------------------------------------------------------

def _text(resource: P.ResourceView, path: Tuple, value: Any) -> str:
    return resource.show(path, value)


def _nonempty(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _lb_type(resource: P.ResourceView) -> Optional[str]:
    """The load balancer type (application when absent), or None when it cannot be told."""
    value = P.as_str(resource.get("loadBalancerType"))
    if value is P.MISSING or (isinstance(value, str) and not value.strip()):
        return "application"
    if isinstance(value, str):
        return value.strip().lower()
    return None


def _lower_strings(values: Iterable[Any]) -> List[str]:
    return [v.strip().lower() for v in values if isinstance(v, str) and v.strip()]


def _listener_protocol(resource: P.ResourceView) -> Any:
    """The listener's protocol in upper case; "HTTP" when absent on a listener with a port (the
    provider's default for application load balancers); None for a gateway load balancer listener
    (no protocol and no port); P.UNKNOWN / P.INVALID as read."""
    value = P.as_str(resource.get("protocol"))
    if value is P.UNKNOWN or value is P.INVALID:
        return value
    if value is P.MISSING or not value.strip():
        port = resource.get("port")
        return None if port is P.MISSING else "HTTP"
    return value.strip().upper()


TLS_PROTOCOLS = ("HTTPS", "TLS")
PLAINTEXT_NLB_PROTOCOLS = ("TCP", "UDP", "TCP_UDP", "TCP_QUIC")

# --- core rules --------------------------------------------------------------------------------


def _names(stack: StackView, urns: Iterable[str]) -> str:
    """The quoted logical names of the stack's resources among `urns`, for a message."""
    return ", ".join(sorted(f"'{stack.by_urn[urn].name}'" for urn in urns if urn in stack.by_urn))


class EcsServiceBehindStackAlb(StackRule, policy="ecs-service-behind-stack-alb", level="mandatory",
                               severity="critical", seeds=(2,), frameworks=(pci("1.4.2", "12.5.1"),)):
    """Every ECS service that serves traffic must register with a target group created in this stack, forwarded
    to by a listener or listener rule of a load balancer created in this stack.

    Remediation:
        Create the load balancer, its listener and the target group in this stack and wire them by their
        outputs: `aws.lb.TargetGroup(..., target_type='ip')`, `aws.lb.Listener(load_balancer_arn=alb.arn,
        default_actions=[{'type': 'forward', 'target_group_arn': tg.arn}])` (or an
        `aws.lb.ListenerRule(listener_arn=listener.arn, actions=[...forward to tg.arn])`), and on the service
        `load_balancers=[aws.ecs.ServiceLoadBalancerArgs(target_group_arn=tg.arn, container_name=...,
        container_port=...)]`. Do not attach services to load balancers, listeners or target groups of another
        stack or of the account (StackReference outputs, literal ARNs). A service that serves no traffic is
        exempted by a name pattern or the exempt tag (config).

    Compliant example:
        tg = aws.lb.TargetGroup("api", port=8080, protocol="HTTP", target_type="ip", vpc_id=vpc.id, ...)
        listener = aws.lb.Listener("https", load_balancer_arn=alb.arn, port=443, protocol="HTTPS",
            certificate_arn=cert.arn, ssl_policy="ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=tg.arn)])
        aws.ecs.Service("api", load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
            target_group_arn=tg.arn, container_name="api", container_port=8080)], ...)
    """
    config_properties = {
        "exemptServiceNamePatterns": string_list(
            ["*worker*", "*consumer*", "*scheduler*", "*cron*"],
            "Shell-style patterns (case-insensitive) of services that serve no traffic "
            "(queue workers, consumers, schedulers); matched against the Pulumi resource "
            "name and the service's `name`."),
        "exemptServiceTags": {
            "type": "object", "additionalProperties": {"type": "string"},
            "default": {"serves-traffic": "false"},
            "description": "Tag key -> value (case-insensitive) that marks a service as serving no "
                           "traffic, e.g. tags={'serves-traffic': 'false'}.",
        },
    }

    def judge(self, stack: StackView, ctx: Context, undecided: Undecided) -> Iterable[Violation]:
        services = stack.of_type(*P.SERVICE)
        if not services:
            return
        index: Optional[_TrafficIndex] = None
        for service in services:
            if self._exempt(service, ctx):
                continue
            if index is None:
                index = _TrafficIndex(stack, strict=not ctx.dry_run)
            yield from self._check_service(service, stack, index, undecided)

    # --- exemptions ----------------------------------------------------------------------
    @staticmethod
    def _exempt(service: P.ResourceView, ctx: Context) -> bool:
        patterns = _lower_strings(cfg_list(ctx, "exemptServiceNamePatterns"))
        names = [service.name]
        name = P.as_str(service.get("name"))
        if isinstance(name, str):
            names.append(name)
        if patterns and any(glob_match(n.lower(), patterns) for n in names if n):
            return True
        wanted = ctx.config.get("exemptServiceTags")
        if isinstance(wanted, Mapping) and wanted:
            for prop in ("tags", "tagsAll"):
                tags = P.as_dict(service.get(prop))
                if not isinstance(tags, Mapping):
                    continue
                for key, value in wanted.items():
                    actual = tags.get(key)
                    if (isinstance(value, str) and isinstance(actual, str) and not P.is_unknown(actual)
                            and actual.strip().lower() == value.strip().lower()):
                        return True
        return False

    # --- one service ---------------------------------------------------------------------
    def _check_service(self, service: P.ResourceView, stack: StackView, index: "_TrafficIndex",
                       undecided: Undecided) -> Iterable[Violation]:
        label = f"ECS service '{service.name}'"
        raw = service.get("loadBalancers")
        entries = P.as_list(raw)
        if entries is P.UNKNOWN or (isinstance(entries, list) and any(P.is_unknown(e) for e in entries)):
            undecided.add(f"the `loadBalancers` of service '{service.name}' are not known yet")
            return
        if not isinstance(entries, list) or not entries:
            yield Violation(
                f"{label} has no `loadBalancers`: it serves traffic but no load balancer of this stack "
                "reaches it. Set `load_balancers=[aws.ecs.ServiceLoadBalancerArgs(target_group_arn=tg.arn, "
                "container_name=..., container_port=...)]` with a target group of this stack that a listener "
                "of this stack's load balancer forwards to, or exempt the service if it serves no traffic "
                "(config exemptServiceNamePatterns / exemptServiceTags).",
                urn=service.urn, path="loadBalancers")
            return
        controller = P.as_str(P.lookup(P.as_dict(service.get("deploymentController")), "type"))
        code_deploy = isinstance(controller, str) and controller.strip().upper() == "CODE_DEPLOY"
        for i, entry in enumerate(entries):
            path = f"loadBalancers[{i}]"
            if not isinstance(entry, Mapping):
                yield Violation(f"{label} has a malformed `{path}` (not an object): set "
                                "`target_group_arn` to a target group of this stack.", urn=service.urn, path=path)
                continue
            yield from self._check_entry(service, label, entry, path, code_deploy, stack, index, undecided)

    def _check_entry(self, service: P.ResourceView, label: str, entry: Mapping, path: str, code_deploy: bool,
                     stack: StackView, index: "_TrafficIndex", undecided: Undecided) -> Iterable[Violation]:
        tg_value = P.lookup(entry, "targetGroupArn")
        if tg_value is P.MISSING or (isinstance(tg_value, str) and not tg_value.strip()):
            elb = P.as_str(P.lookup(entry, "elbName"))
            if elb is P.UNKNOWN or _nonempty(elb):
                yield Violation(f"{label} registers with a Classic Load Balancer (`{path}.elbName`), which "
                                "Fargate does not support and this pack cannot follow: set `target_group_arn` "
                                "to a target group of this stack behind an application load balancer of this "
                                "stack instead of `elb_name`.", urn=service.urn, path=f"{path}.elbName")
            else:
                yield Violation(f"{label} has no `{path}.targetGroupArn`: set `target_group_arn` to a target "
                                "group created in this stack.", urn=service.urn, path=f"{path}.targetGroupArn")
            return
        tgs = yield from _stack_urns(
            stack.resolve(service, "loadBalancers", P.TARGET_GROUP, tg_value, update=index.strict), undecided,
            "target group", label, f"{path}.targetGroupArn", service.urn,
            "the service would depend on infrastructure this stack does not create (it cannot be deployed on "
            "its own and breaks when that infrastructure changes). Create the target group (and its load "
            "balancer and listener) in this stack and set `target_group_arn=tg.arn`.")
        if not tgs:
            return

        # ECS-native blue/green (BLUE_GREEN/LINEAR/CANARY): the production listener rule carries
        # the traffic and must forward to the primary target group.
        advanced = P.as_dict(P.lookup(entry, "advancedConfiguration"))
        if isinstance(advanced, Mapping):
            rule_value = P.lookup(advanced, "productionListenerRule")
            if rule_value is P.UNKNOWN or _nonempty(rule_value):
                yield from self._check_production_rule(service, label, path, rule_value, tgs, stack, index,
                                                       undecided)
                return

        candidates = set(tgs)
        if code_deploy:
            for tg in tgs:
                candidates |= index.partners.get(tg, set())
        if any(index.forwarded_on_stack(tg) for tg in candidates):
            return
        if index.unresolved_forward:
            undecided.add(index.unresolved_forward)  # a listener may forward to it: decided at `pulumi up`
            return
        tg_names = _names(stack, tgs)
        forwarders = sorted({f"{kind} '{res.name}'" for tg in candidates for res, kind, _ in index.forwarders.get(tg, ())})
        pair = " (or the other target group of its CodeDeploy pair)" if code_deploy else ""
        if forwarders:
            detail = (f"it is forwarded to only by {', '.join(forwarders)}, which is not on a load balancer "
                      "created in this stack (its `loadBalancerArn` / `listenerArn` points outside the stack)")
        else:
            detail = "no listener or listener rule of this stack forwards to it"
        yield Violation(
            f"{label} registers with target group {tg_names} (`{path}.targetGroupArn`), but {detail}{pair}. "
            "Create the load balancer and its listener in this stack and forward to the target group: "
            "`aws.lb.Listener(load_balancer_arn=alb.arn, default_actions=[{'type': 'forward', "
            "'target_group_arn': tg.arn}])` or an `aws.lb.ListenerRule(listener_arn=listener.arn, ...)`.",
            urn=service.urn, path=f"{path}.targetGroupArn")

    def _check_production_rule(self, service: P.ResourceView, label: str, path: str, rule_value: Any,
                               primary: Set[str], stack: StackView, index: "_TrafficIndex",
                               undecided: Undecided) -> Iterable[Violation]:
        rpath = f"{path}.advancedConfiguration.productionListenerRule"
        rules = yield from _stack_urns(
            stack.resolve(service, "loadBalancers", P.LISTENER_RULE, rule_value, update=index.strict), undecided,
            "listener rule", label, rpath, service.urn,
            "ECS-native blue/green shifts production traffic through that rule, so it must be an "
            "`aws.lb.ListenerRule` of this stack on a listener of this stack's load balancer; set "
            "`production_listener_rule=rule.arn`.")
        if not rules:
            return
        on_stack = [r for r in rules if index.rule_on_stack.get(r, True)]
        if not on_stack:
            names = _names(stack, rules)
            yield Violation(
                f"{label}: production listener rule {names} (`{rpath}`) is attached to a listener that is "
                "not on a load balancer created in this stack: create the listener and load balancer in "
                "this stack and set the rule's `listener_arn=listener.arn`.", urn=service.urn, path=rpath)
            return
        for rule in on_stack:
            targets = index.rule_targets.get(rule)
            if targets is None:
                undecided.add(f"the forward targets of listener rule '{stack.by_urn[rule].name}' are not known yet")
                return
            if targets & primary:
                if not primary <= targets:
                    # The primary is one of several candidates (preview: the service's property
                    # dependencies) and the rule forwards to only some of them: which one is not known.
                    undecided.add(f"which target group is the primary of service '{service.name}' is not known "
                                  f"yet, and listener rule '{stack.by_urn[rule].name}' forwards to only some of "
                                  "its candidates")
                return  # forwards to the primary target group
        names = _names(stack, on_stack)
        tg_names = _names(stack, primary)
        yield Violation(
            f"{label}: production listener rule {names} (`{rpath}`) does not forward to the service's "
            f"primary target group {tg_names} (`{path}.targetGroupArn`): give the rule a forward action "
            "whose `forward.target_groups` include the primary and the alternate target group.",
            urn=service.urn, path=rpath)


_STATUS_PHRASE = {
    "external": "refers to a {} that is not created in this stack",
    "wrong-type": "refers to a resource of this stack that is not a {}",
    "invalid": "is not a string",
}


def _problem(found: Resolution) -> str:
    """The `_STATUS_PHRASE` key of a reference that is not (only) resources of this stack."""
    if found.invalid:
        return "invalid"
    if found.wrong_type and not found.external:
        return "wrong-type"
    return "external"


def _stack_urns(found: Resolution, undecided: Undecided, noun: str, label: str, path: str, urn: str,
                fix: str) -> Generator[Violation, None, Set[str]]:
    """The URNs of the stack resources (each a `noun`) a service's reference at `path` resolves
    to; none when it does not: an undecidable reference is noted in `undecided`, any other is a
    violation of the service that says what it refers to instead, then `fix`."""
    if found.status == UNDECIDABLE:
        undecided.add(found.undecidable)
        return set()
    if found.status != RESOLVED:
        yield Violation(f"{label}: `{path}` {_STATUS_PHRASE[_problem(found)].format(noun)}: {fix}",
                        urn=urn, path=path)
        return set()
    return found.urns


class _TrafficIndex:
    """Listeners, listener rules and CodeDeploy target-group pairs of a stack, indexed once."""

    def __init__(self, stack: StackView, strict: bool = False) -> None:
        self.stack = stack
        self.strict = strict
        #: target group URN -> [(listener or rule, kind, on a stack load balancer)]
        self.forwarders: Dict[str, List[Tuple[P.ResourceView, str, bool]]] = {}
        #: listener rule URN -> on a listener of a stack load balancer (True when unknown)
        self.rule_on_stack: Dict[str, bool] = {}
        #: listener rule URN -> target groups it forwards to (None: not resolvable yet)
        self.rule_targets: Dict[str, Optional[Set[str]]] = {}
        #: why a listener or rule on a stack load balancer forwards to targets not known yet ("": none)
        self.unresolved_forward = ""
        #: target group URN -> the target groups of its CodeDeploy blue/green pair
        self.partners: Dict[str, Set[str]] = {}

        listener_on_stack: Dict[str, bool] = {}
        for listener in stack.of_type(*P.LISTENER):
            lb = stack.resolve(listener, "loadBalancerArn", P.LB, update=strict)
            on_stack = lb.status in (RESOLVED, UNDECIDABLE)
            listener_on_stack[listener.urn] = on_stack
            self._index_actions(listener, "defaultActions", "listener", on_stack)
        for rule in stack.of_type(*P.LISTENER_RULE):
            listeners = stack.resolve(rule, "listenerArn", P.LISTENER, update=strict)
            if listeners.status == RESOLVED:
                on_stack = any(listener_on_stack.get(u, False) for u in listeners.urns)
            else:
                on_stack = listeners.status == UNDECIDABLE
            self.rule_on_stack[rule.urn] = on_stack
            self.rule_targets[rule.urn] = self._index_actions(rule, "actions", "listener rule", on_stack)
        self._index_codedeploy_pairs()

    def _index_actions(self, owner: P.ResourceView, prop: str, kind: str, on_stack: bool) -> Optional[Set[str]]:
        found = self.stack.resolve(owner, prop, P.TARGET_GROUP, P.forward_target_refs(owner.get(prop)),
                                   update=self.strict)
        targets = found.urns
        for tg in targets:
            self.forwarders.setdefault(tg, []).append((owner, kind, on_stack))
        unresolved = found.status == UNDECIDABLE
        if unresolved and on_stack and not self.unresolved_forward:
            self.unresolved_forward = found.undecidable
        return None if unresolved else targets

    def _index_codedeploy_pairs(self) -> None:
        for group in self.stack.of_type(*P.DEPLOYMENT_GROUP):
            info = P.as_dict(group.get("loadBalancerInfo"))
            if not isinstance(info, Mapping):
                continue
            for pair in P.dicts(P.lookup(info, "targetGroupPairInfo")):
                names = [P.lookup(tg, "name") for tg in P.dicts(P.lookup(pair, "targetGroups"))]
                members = self.stack.resolve(group, "loadBalancerInfo", P.TARGET_GROUP, names, by=("name",)).urns
                for tg in members:
                    self.partners.setdefault(tg, set()).update(members)

    def forwarded_on_stack(self, tg: str) -> bool:
        return any(on_stack for _, _, on_stack in self.forwarders.get(tg, ()))


class TargetGroupHealthCheck(Rule, policy="target-group-health-check", level="mandatory", severity="high",
                             seeds=(3,), frameworks=(pci("6.5.1"),), types=P.TARGET_GROUP):
    """Target groups must health-check their targets over HTTP/HTTPS on an explicit path and matcher, with
    thresholds of at least 2 and timeout < interval <= 60 seconds.

    Remediation:
        Give the target group an explicit health check:
        `health_check=aws.lb.TargetGroupHealthCheckArgs(enabled=True, protocol='HTTP', path='/health',
        matcher='200', healthy_threshold=3, unhealthy_threshold=3, timeout=5, interval=30)`. ALB health checks
        cannot send custom headers: serve the health path without any header requirement.

    Compliant example:
        aws.lb.TargetGroup("api", port=8080, protocol="HTTP", target_type="ip", vpc_id=vpc.id,
            health_check=aws.lb.TargetGroupHealthCheckArgs(enabled=True, protocol="HTTP", path="/health",
                matcher="200", healthy_threshold=3, unhealthy_threshold=3, timeout=5, interval=30))
    """
    config_properties = {
        "minThreshold": {"type": "number", "minimum": 2, "default": 2,
                         "description": "Smallest healthyThreshold and unhealthyThreshold (one success or "
                                        "failure never flips a target)."},
        "maxIntervalSeconds": {"type": "number", "minimum": 5, "default": 60,
                               "description": "Longest acceptable health check interval."},
        "exemptTargetTypes": string_list(
            ["lambda"],
            "Target types not judged (Lambda targets are invoked, not polled; "
            "their health checks are off by default)."),
        "allowTcpHealthChecks": {"type": "boolean", "default": False,
                                 "description": "Let network load balancer target groups (TCP, TLS, UDP, "
                                                "TCP_UDP, QUIC, TCP_QUIC) use a TCP health check, which then "
                                                "needs no path or matcher. Off: a TCP check only proves the "
                                                "port is open, not that the application works."},
    }

    _NLB_PROTOCOLS = ("TCP", "TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC")

    _FULL_FIX = ("set `health_check=aws.lb.TargetGroupHealthCheckArgs(enabled=True, protocol='HTTP', "
                 "path='/health', matcher='200', healthy_threshold=3, unhealthy_threshold=3, timeout=5, interval=30)`.")

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        if self._not_judged(resource, ctx):
            return
        label = f"Target group '{resource.name}'"
        hc = known(P.as_dict(resource.get("healthCheck")), "healthCheck")
        if not isinstance(hc, Mapping):
            what = "no `healthCheck`" if hc is P.MISSING else "a malformed `healthCheck` (not an object)"
            yield Violation(f"{label} has {what}: {self._FULL_FIX}", path="healthCheck")
            return
        enabled = P.as_bool(P.lookup(hc, "enabled"))
        if enabled is False or enabled is P.INVALID:
            yield Violation(f"{label} has health checks disabled (`healthCheck.enabled`): set "
                            "`health_check.enabled=True`; without them the load balancer routes to failed "
                            "tasks and deployments cannot roll back on failure.", path="healthCheck.enabled")
            return
        http_check = yield from self._protocol(resource, label, hc, ctx)
        if http_check:
            yield from self._path_and_matcher(label, hc)
        yield from self._thresholds(label, hc, ctx)
        yield from self._interval_and_timeout(label, hc, ctx)

    @staticmethod
    def _not_judged(resource: P.ResourceView, ctx: Context) -> bool:
        """Lambda targets (invoked, not polled) and gateway load balancer appliances (GENEVE)."""
        target_type = P.as_str(resource.get("targetType"))
        if isinstance(target_type, str) and target_type.strip().lower() in _lower_strings(cfg_list(ctx, "exemptTargetTypes")):
            return True
        protocol = P.as_str(resource.get("protocol"))
        return isinstance(protocol, str) and protocol.strip().upper() == "GENEVE"

    def _protocol(self, resource: P.ResourceView, label: str, hc: Mapping,
                  ctx: Context) -> Generator[Violation, None, bool]:
        """Violations of `healthCheck.protocol`; returns whether the check is an HTTP(S) one (a path and
        matcher then apply)."""
        hc_protocol = P.as_str(P.lookup(hc, "protocol"))
        if hc_protocol is P.MISSING or (isinstance(hc_protocol, str) and not hc_protocol.strip()):
            hc_protocol = "HTTP"  # the provider's default
        if hc_protocol is P.INVALID:
            yield Violation(f"{label} has a malformed `healthCheck.protocol`: set `health_check.protocol` to "
                            "'HTTP' or 'HTTPS'.", path="healthCheck.protocol")
            return True
        if not isinstance(hc_protocol, str) or hc_protocol.strip().upper() in ("HTTP", "HTTPS"):
            return True  # HTTP(S), or unknown at preview (judged as HTTP: path and matcher still apply)
        protocol = P.as_str(resource.get("protocol"))
        tg_protocol = protocol.strip().upper() if isinstance(protocol, str) else ""
        tcp_ok = (cfg_bool(ctx, "allowTcpHealthChecks", False) and hc_protocol.strip().upper() == "TCP"
                  and tg_protocol in self._NLB_PROTOCOLS)
        if not tcp_ok:
            shown = _text(resource, ("healthCheck", "protocol"), hc_protocol)
            yield Violation(f"{label} health-checks with protocol {shown} (`healthCheck.protocol`): a "
                            "TCP check only proves the port is open; set `health_check.protocol` to "
                            "'HTTP' or 'HTTPS' with a `path` the application answers.",
                            path="healthCheck.protocol")
        return False

    @staticmethod
    def _path_and_matcher(label: str, hc: Mapping) -> Iterable[Violation]:
        path = P.as_str(P.lookup(hc, "path"))
        if path is not P.UNKNOWN and not (isinstance(path, str) and path.strip().startswith("/")):
            problem = "has no explicit `healthCheck.path`" if (path is P.MISSING or (isinstance(path, str) and not path.strip())) \
                else "has a `healthCheck.path` that is not an absolute path"
            yield Violation(f"{label} {problem}: set `health_check.path` to the application's health "
                            "endpoint (e.g. '/health').", path="healthCheck.path")
        matcher = P.as_str(P.lookup(hc, "matcher"))
        if matcher is not P.UNKNOWN and not _nonempty(matcher):
            yield Violation(f"{label} has no explicit `healthCheck.matcher`: set `health_check.matcher` to "
                            "the success codes (e.g. '200'; '0-99' for gRPC).", path="healthCheck.matcher")

    @staticmethod
    def _thresholds(label: str, hc: Mapping, ctx: Context) -> Iterable[Violation]:
        minimum = cfg_number(ctx, "minThreshold", 2)
        for key, arg in (("healthyThreshold", "healthy_threshold"), ("unhealthyThreshold", "unhealthy_threshold")):
            value = P.as_number(P.lookup(hc, key))
            if value is P.INVALID or (isinstance(value, float) and value < minimum):
                yield Violation(f"{label} has `healthCheck.{key}` below {minimum:g} or not a number: set "
                                f"`health_check.{arg}` to at least {minimum:g} (default 3).", path=f"healthCheck.{key}")

    @staticmethod
    def _interval_and_timeout(label: str, hc: Mapping, ctx: Context) -> Iterable[Violation]:
        maximum = cfg_number(ctx, "maxIntervalSeconds", 60)
        interval = P.as_number(P.lookup(hc, "interval"))
        interval_given = interval is not P.MISSING
        if interval is P.MISSING:
            interval = 30.0  # the provider's default
        if interval is P.INVALID or (isinstance(interval, float) and (interval > maximum or interval <= 0)):
            yield Violation(f"{label} has a `healthCheck.interval` that is not a number of seconds in "
                            f"(0, {maximum:g}]: set `health_check.interval` to at most {maximum:g} (e.g. 30).",
                            path="healthCheck.interval")
            return
        # An absent timeout: AWS picks the default per target type and protocol (5s for most ALB
        # targets) and accepts it with any valid interval, so only a timeout the program sets is judged.
        timeout = P.as_number(P.lookup(hc, "timeout"))
        if timeout is P.INVALID:
            yield Violation(f"{label} has a `healthCheck.timeout` that is not a number: set "
                            "`health_check.timeout` below the interval (e.g. 5).", path="healthCheck.timeout")
        elif isinstance(timeout, float) and isinstance(interval, float) and timeout >= interval:
            n = f"{interval:g}s" + ("" if interval_given else " (default)")
            yield Violation(f"{label} has a health check timeout of {timeout:g}s that is not below its interval of "
                            f"{n} (`healthCheck.timeout`, `healthCheck.interval`): set `health_check.timeout` "
                            "below `health_check.interval` (e.g. timeout=5, interval=30).",
                            path="healthCheck.timeout")


class ListenerRuleNoHealthHeaderRouting(Rule, policy="listener-rule-no-health-header-routing", level="advisory",
                                        severity="medium", seeds=(3,), frameworks=(pci("6.2.4"),),
                                        types=P.LISTENER_RULE):
    """Listener rules must not route on an HTTP header whose name mentions health: ALB health checks cannot send
    custom headers, so the application must validate such a header.

    Remediation:
        Remove the `http_header` condition that names a health header. ALB health checks cannot send custom
        headers, so the condition never matches the load balancer's own checks, and any client can send it, so
        it authenticates nothing. Health-check the target group on a plain path (`health_check.path='/health'`)
        and, if a header is required, validate it in the application.

    Compliant example:
        aws.lb.ListenerRule("api", listener_arn=https.arn, priority=100,
            conditions=[aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=["/api/*"]))],
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=tg.arn)])
    """
    config_properties = {
        "headerNameSubstrings": string_list(["health"], "Case-insensitive substrings of header names that must not "
                                                        "be routing conditions."),
    }

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        needles = _lower_strings(cfg_list(ctx, "headerNameSubstrings"))
        if not needles:
            return
        for i, condition in P.indexed_dicts(resource.get("conditions")):
            header = P.as_dict(P.lookup(condition, "httpHeader"))
            if not isinstance(header, Mapping):
                continue
            name = P.as_str(P.lookup(header, "httpHeaderName"))
            if not isinstance(name, str) or not any(n in name.lower() for n in needles):
                continue
            path = ("conditions", i, "httpHeader", "httpHeaderName")
            yield Violation(
                f"Listener rule '{resource.name}' routes on HTTP header {_text(resource, path, name)} "
                f"(`{P.format_path(path)}`): ALB health checks cannot send custom headers, so this condition "
                "never matches the target group's health checks, and any client can send the header, so it "
                "is no access control. Remove the `http_header` condition, health-check a plain path "
                "(`health_check.path='/health'`) and validate the header in the application if it is required.",
                path=P.format_path(path))


# --- extended rules ----------------------------------------------------------------------------

#: Security policies whose minimum is TLS 1.2 or 1.3 (ELB predefined policies, 2025-09 included).
MODERN_TLS_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-RFC9151-FIPS-2023-07",
    "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP1-FIPS-2023-07",
    "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP2-FIPS-2023-07",
    "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP3-FIPS-2023-07",
    "ELBSecurityPolicy-TLS13-1-2-RFC9151-INTEROP4-FIPS-2023-07",
    "ELBSecurityPolicy-TLS13-1-3-RFC9151-FIPS-2023-07",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
]


class AlbHttpsOnly(Rule, policy="alb-https-only", level="mandatory", severity="high", seeds=(2,),
                   frameworks=(pci("4.2.1"), fsbp("ELB.1")), types=P.LISTENER):
    """Load balancer listeners must terminate HTTPS/TLS with a certificate; plain HTTP only as a redirect to
    HTTPS.

    Remediation:
        Serve clients on `protocol='HTTPS'` (network load balancers: 'TLS') with `certificate_arn` set to an ACM
        certificate, and keep port 80 only as
        `default_actions=[aws.lb.ListenerDefaultActionArgs(type='redirect',
        redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol='HTTPS', port='443',
        status_code='HTTP_301'))]`.

    Compliant example:
        aws.lb.Listener("http", load_balancer_arn=alb.arn, port=80, protocol="HTTP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443",
                                                                  status_code="HTTP_301"))])
    """
    config_properties = {
        "passthroughProtocols": string_list([], "Network load balancer protocols accepted without TLS "
                                                "termination (e.g. ['TCP'] when the targets terminate TLS "
                                                "themselves). QUIC is always accepted (encrypted end to end)."),
    }

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        label = f"Listener '{resource.name}'"
        protocol = _listener_protocol(resource)
        if protocol is P.UNKNOWN or protocol is None or protocol == "GENEVE":
            return
        if protocol is P.INVALID:
            yield Violation(f"{label} has a malformed `protocol`: set `protocol='HTTPS'` with `certificate_arn`.",
                            path="protocol")
            return
        if protocol in TLS_PROTOCOLS:
            cert = P.as_str(resource.get("certificateArn"))
            if cert is not P.UNKNOWN and not _nonempty(cert):
                yield Violation(f"{label} uses {protocol} without a `certificateArn`: set `certificate_arn` to "
                                "the ARN of an ACM certificate (e.g. `cert.arn`).", path="certificateArn")
            return
        if protocol == "QUIC":
            return
        if protocol == "HTTP":
            yield from self._check_http(resource, label)
            return
        if protocol in [p.upper() for p in _lower_strings(cfg_list(ctx, "passthroughProtocols"))]:
            return
        shown = _text(resource, ("protocol",), protocol)
        yield Violation(f"{label} accepts plaintext protocol {shown} (`protocol`): set `protocol='TLS'` "
                        "(network load balancer) or 'HTTPS' (application load balancer) with `certificate_arn`; "
                        "if the targets terminate TLS themselves, list the protocol in this policy's "
                        "`passthroughProtocols` config.", path="protocol")

    @staticmethod
    def _check_http(resource: P.ResourceView, label: str) -> Iterable[Violation]:
        actions = P.as_list(resource.get("defaultActions"))
        if actions is P.UNKNOWN:
            return
        fix = ("set `default_actions=[aws.lb.ListenerDefaultActionArgs(type='redirect', redirect="
               "aws.lb.ListenerDefaultActionRedirectArgs(protocol='HTTPS', port='443', status_code='HTTP_301'))]` "
               "and serve the application on an HTTPS listener.")
        if not isinstance(actions, list) or not actions:
            yield Violation(f"{label} serves plain HTTP and has no redirect to HTTPS (`defaultActions`): {fix}",
                            path="defaultActions")
            return
        bad: List[str] = []
        for i, action in enumerate(actions):
            if P.is_unknown(action):
                continue
            if not isinstance(action, Mapping):
                bad.append(f"defaultActions[{i}]")
                continue
            type_ = P.as_str(P.lookup(action, "type"))
            if type_ is P.UNKNOWN:
                continue
            if not (isinstance(type_, str) and type_.strip().lower() == "redirect"):
                bad.append(f"defaultActions[{i}]")
                continue
            target = P.as_str(P.lookup(P.as_dict(P.lookup(action, "redirect")), "protocol"))
            if target is P.UNKNOWN or (isinstance(target, str) and target.strip().upper() == "HTTPS"):
                continue
            bad.append(f"defaultActions[{i}].redirect.protocol")
        if bad:
            yield Violation(f"{label} serves plain HTTP: {', '.join(f'`{b}`' for b in bad)} "
                            f"{'is' if len(bad) == 1 else 'are'} not a redirect to HTTPS "
                            "(a redirect without `protocol` keeps HTTP): " + fix, path=bad[0])


class AlbModernTlsPolicy(Rule, policy="alb-modern-tls-policy", level="mandatory", severity="high", seeds=(2,),
                         frameworks=(pci("4.2.1"), fsbp("ELB.17")), types=P.LISTENER):
    """HTTPS and TLS listeners must use a security policy that allows only TLS 1.2 and 1.3.

    Remediation:
        Set the listener's `ssl_policy` to a TLS 1.2+ policy, e.g. 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06' (or
        the post-quantum 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09'). Leaving it unset gives the API default
        'ELBSecurityPolicy-2016-08', which allows TLS 1.0 and 1.1.

    Compliant example:
        aws.lb.Listener("https", load_balancer_arn=alb.arn, port=443, protocol="HTTPS",
            certificate_arn=cert.arn, ssl_policy="ELBSecurityPolicy-TLS13-1-2-Res-2021-06", default_actions=[...])
    """
    config_properties = {
        "allowedPolicies": string_list(
            MODERN_TLS_POLICIES,
            "ELB security policy names accepted (exact); the first one is "
            "suggested in messages."),
    }

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        protocol = _listener_protocol(resource)
        if protocol not in TLS_PROTOCOLS:
            return
        allowed = [p for p in cfg_list(ctx, "allowedPolicies") if isinstance(p, str)]
        suggestion = f"'{allowed[0]}'" if allowed else "a TLS 1.2+ security policy"
        label = f"{protocol} listener '{resource.name}'"
        policy = P.as_str(resource.get("sslPolicy"))
        if policy is P.UNKNOWN:
            return
        if policy is P.MISSING or (isinstance(policy, str) and not policy.strip()):
            yield Violation(f"{label} has no `sslPolicy`, so AWS applies ELBSecurityPolicy-2016-08 (TLS 1.0 and "
                            f"1.1 allowed): set `ssl_policy={suggestion}`.", path="sslPolicy")
        elif policy is P.INVALID:
            yield Violation(f"{label} has a malformed `sslPolicy`: set `ssl_policy={suggestion}`.", path="sslPolicy")
        elif policy.strip() not in allowed:
            yield Violation(f"{label} uses security policy {_text(resource, ('sslPolicy',), policy)} (`sslPolicy`), "
                            f"which is not in the allowed TLS 1.2+ policies: set `ssl_policy={suggestion}`.",
                            path="sslPolicy")


class AlbDropInvalidHeaders(ValueCheck, policy="alb-drop-invalid-headers", level="mandatory", severity="medium",
                            seeds=(2,), frameworks=(pci("6.2.4"), fsbp("ELB.4")), types=P.LB):
    """Application load balancers must drop invalid HTTP header fields.

    Remediation:
        Set `drop_invalid_header_fields=True` on the application load balancer.

    Compliant example:
        aws.lb.LoadBalancer("alb", load_balancer_type="application", drop_invalid_header_fields=True, ...)
    """
    property_path = ("dropInvalidHeaderFields",)
    read = staticmethod(P.as_bool)

    def judged(self, resource: P.ResourceView, ctx: Context) -> bool:
        return _lb_type(resource) == "application"

    def problem(self, value, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        if value is True:
            return None
        return (f"Application load balancer '{resource.name}' forwards invalid HTTP header fields "
                "(`dropInvalidHeaderFields` is not true; header smuggling and desync attacks): set "
                "`drop_invalid_header_fields=True`.")


class AlbAccessLogs(Rule, policy="alb-access-logs", level="advisory", severity="medium", seeds=(2,),
                    frameworks=(pci("10.2.1"), fsbp("ELB.5")), types=P.LB):
    """Load balancers must write access logs to an S3 bucket.

    Remediation:
        Set `access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs_bucket.id, enabled=True, prefix='alb')`
        (the bucket policy must let the ELB log delivery write to it). `enabled` defaults to false even when a
        bucket is given.

    Compliant example:
        aws.lb.LoadBalancer("alb", access_logs=aws.lb.LoadBalancerAccessLogsArgs(
            bucket=logs_bucket.id, enabled=True, prefix="alb"), ...)
    """
    config_properties = {
        "loadBalancerTypes": string_list(["application"], "Load balancer types judged (application, network)."),
    }

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        lb_type = _lb_type(resource)
        if lb_type is None or lb_type not in _lower_strings(cfg_list(ctx, "loadBalancerTypes")):
            return
        label = f"Load balancer '{resource.name}'"
        logs = known(P.as_dict(resource.get("accessLogs")), "accessLogs")
        if not isinstance(logs, Mapping):
            yield Violation(f"{label} has no `accessLogs`: set `access_logs=aws.lb.LoadBalancerAccessLogsArgs("
                            "bucket=logs_bucket.id, enabled=True)`.", path="accessLogs")
            return
        enabled = P.as_bool(P.lookup(logs, "enabled"))
        if enabled is not True and enabled is not P.UNKNOWN:
            yield Violation(f"{label} does not enable its access logs (`accessLogs.enabled` defaults to false, "
                            "even with a bucket): set `access_logs.enabled=True`.", path="accessLogs.enabled")
        bucket = P.as_str(P.lookup(logs, "bucket"))
        if bucket is not P.UNKNOWN and not _nonempty(bucket):
            yield Violation(f"{label} has no access log bucket (`accessLogs.bucket`): set `access_logs.bucket` "
                            "to an S3 bucket of this stack.", path="accessLogs.bucket")


class AlbDeletionProtection(ValueCheck, policy="alb-deletion-protection", level="advisory", severity="medium",
                            seeds=(2,), frameworks=(fsbp("ELB.6"),), types=P.LB):
    """Load balancers must have deletion protection enabled (mandatory in production).

    Remediation:
        Set `enable_deletion_protection=True` on the load balancer (turn it off in the same update that
        deliberately deletes it).

    Compliant example:
        aws.lb.LoadBalancer("alb", enable_deletion_protection=True, ...)
    """
    config_properties = {
        **ENVIRONMENT_CONFIG,
        "mandatoryEnvironments": string_list(
            ["production"],
            "Environments in which a violation is mandatory whatever the "
            "configured level (unless the policy is disabled)."),
        "loadBalancerTypes": string_list(["application", "network", "gateway"], "Load balancer types judged."),
    }
    property_path = ("enableDeletionProtection",)
    read = staticmethod(P.as_bool)

    def judged(self, resource: P.ResourceView, ctx: Context) -> bool:
        lb_type = _lb_type(resource)
        return lb_type is not None and lb_type in _lower_strings(cfg_list(ctx, "loadBalancerTypes"))

    @staticmethod
    def _mandatory_environment(ctx: Context) -> Optional[str]:
        """The stack's environment when the config makes this policy mandatory in it."""
        environment = stack_environment(ctx)
        if environment is not None and environment.lower() in _lower_strings(cfg_list(ctx, "mandatoryEnvironments")):
            return environment
        return None

    def level_for(self, resource: P.ResourceView, ctx: Context) -> str:
        return "mandatory" if self._mandatory_environment(ctx) else ""

    def problem(self, value, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        if value is True:
            return None
        environment = self._mandatory_environment(ctx)
        why = f" This is mandatory: stack '{ctx.stack}' is mapped to {environment}." if environment else ""
        return (f"Load balancer '{resource.name}' can be deleted by a single update "
                "(`enableDeletionProtection` is not true): set `enable_deletion_protection=True`." + why)


RULES = [EcsServiceBehindStackAlb, TargetGroupHealthCheck, ListenerRuleNoHealthHeaderRouting,
         AlbHttpsOnly, AlbModernTlsPolicy, AlbDropInvalidHeaders, AlbAccessLogs, AlbDeletionProtection]
