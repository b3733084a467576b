"""Rules of the networking concern: private tasks, the endpoints they need, flow logs.

vpc-endpoints-for-private-tasks (seed 5): tasks in private subnets without the VPC endpoints that
let them pull from ECR without an internet path. The VPC of a service is found through its
subnets' and security groups' `vpcId` (values or property dependencies); when they are not
resources of this stack, endpoints of any VPC of the stack count. Required: Interface endpoints
(private DNS on) for ecr.api and ecr.dkr; the s3 Gateway endpoint on the route tables of the
service's subnets (RouteTableAssociations, else the VPC's main route table; `routeTableIds` or
VpcEndpointRouteTableAssociations); logs when a container of the service's task definition logs
with awslogs; secretsmanager when one reads secrets (ssm for Parameter Store references); plus
`additionalEndpoints`. The region is whatever the endpoint's `com.amazonaws.<region>.` says.

References are read through the stack's one resolver (`StackView.resolve`): a resource of this
stack is identified by its URN, infrastructure outside the stack by its raw ID. An unknown reference
(preview) is resolved through its property dependencies (an endpoint whose `vpcId` depends on VPC B
is in VPC B; a gateway whose `routeTableIds` depend on one route table covers that one); only one no
dependency decides counts as matching, and a result that depends on it is reported not-applicable
with the reason, not as a pass. An unknown service name, endpoint type or private DNS flag counts as
matching; unknown containerDefinitions require nothing beyond ECR and S3.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from .. import props as P
from ..rule import (UNDECIDABLE, Context, NotApplicable, Resolution, StackRule, StackView, Undecided, Violation,
                    cfg_list, cis, fsbp, pci, string_list)
from .value_check import ValueCheck

CONCERN = "networking"  # the concern of every rule here (Rule reads it)

SUBNET = ("aws:ec2/subnet:Subnet", "aws:ec2/defaultSubnet:DefaultSubnet")
SECURITY_GROUP = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
VPCS = P.VPC + ("aws:ec2/defaultVpc:DefaultVpc",)
ROUTE_TABLE = ("aws:ec2/routeTable:RouteTable", "aws:ec2/defaultRouteTable:DefaultRouteTable")
ROUTE_TABLE_ASSOCIATION = ("aws:ec2/routeTableAssociation:RouteTableAssociation",)
MAIN_ROUTE_TABLE_ASSOCIATION = ("aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",)
ENDPOINT_ROUTE_TABLE_ASSOCIATION = ("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",)

_SERVICE_NAME = re.compile(r"(?:cn\.)?com\.amazonaws\.([a-z0-9-]+)\.(.+)")
_ANY = "*"  # key of "the VPC could not be resolved: any VPC of the stack"


def _network_configuration(resource: P.ResourceView) -> Any:
    return P.as_dict(resource.get("networkConfiguration"))


def _listed(value: Any) -> Any:
    """A list-of-references property as a list (unknown as one unknown item, absent as empty)."""
    if P.is_unknown(value):
        return [P.UNKNOWN]
    return value if isinstance(value, list) else ([value] if isinstance(value, str) else [])


# --------------------------------------------------------------------------------------------
# Reference resolution
# --------------------------------------------------------------------------------------------
class _Resolver:
    """The resolver (`StackView.resolve`) bound to this call's mode, read as keys: the URN of a
    stack resource, else the raw known value (infrastructure outside the stack)."""

    def __init__(self, stack: StackView, update: bool = False) -> None:
        self.stack = stack
        self.update = update

    def resolve(self, resource: P.ResourceView, prop: str, types: Tuple[str, ...], value: Any = None) -> Resolution:
        value = resource.props.get(prop) if value is None else value
        return self.stack.resolve(resource, prop, types, value, update=self.update)

    def keys(self, resource: P.ResourceView, prop: str, types: Tuple[str, ...], value: Any = None) -> Set[str]:
        return self.resolve(resource, prop, types, value).keys()

    def vpc_of(self, resource: P.ResourceView) -> Resolution:
        """The VPC(s) of a resource with a `vpcId` (subnet, security group, endpoint, flow log)."""
        return self.resolve(resource, "vpcId", VPCS)


def _display(stack: StackView, key: str) -> str:
    if key == _ANY:
        return "any VPC of this stack"
    resource = stack.by_urn.get(key)
    kind = "VPC" if resource is None or resource.type in VPCS else "route table" if resource.type in ROUTE_TABLE else ""
    return f"{kind} '{resource.name}'".strip() if resource is not None else key


# --------------------------------------------------------------------------------------------
# ecs-service-no-public-ip
# --------------------------------------------------------------------------------------------
class EcsServiceNoPublicIp(ValueCheck, policy="ecs-service-no-public-ip", level="mandatory", severity="high",
                           seeds=(5,), frameworks=(pci("1.3.1", "1.4.4"), fsbp("ECS.2")), types=P.SERVICE):
    """ECS services must not assign public IP addresses to their tasks.

    Remediation:
        Run the tasks in private subnets with `network_configuration={"assign_public_ip": False, "subnets":
        [private subnet ids], "security_groups": [...]}` and reach them through the load balancer; give the VPC
        the endpoints the tasks need (ecr.api, ecr.dkr, s3, logs, secretsmanager).

    Compliant example:
        aws.ecs.Service("svc", network_configuration={
            "subnets": [s.id for s in private], "security_groups": [app_sg.id], "assign_public_ip": False}, ...)
    """

    property_path = ("networkConfiguration", "assignPublicIp")
    read = staticmethod(P.as_bool)

    def problem(self, value, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        if value is not True:
            return None
        return (f"ECS service '{resource.name}' sets `networkConfiguration.assignPublicIp` to true: every "
                "task gets a public IP address. Set `assign_public_ip=False` and run the tasks in private "
                "subnets behind the load balancer.")


# --------------------------------------------------------------------------------------------
# vpc-endpoints-for-private-tasks
# --------------------------------------------------------------------------------------------
class _Endpoint:
    __slots__ = ("resource", "service", "type", "private_dns", "vpcs", "vpc_unknown", "route_tables", "rt_unknown")

    def __init__(self, resource: P.ResourceView, refs: _Resolver) -> None:
        self.resource = resource
        name = P.as_str(resource.get("serviceName"))
        if name is P.UNKNOWN:
            self.service: Optional[str] = None  # unknown: matches any service
        else:
            match = _SERVICE_NAME.fullmatch(name.strip().lower()) if isinstance(name, str) else None
            self.service = match.group(2) if match else ""
        kind = P.as_str(resource.get("vpcEndpointType"))
        # pulumi-aws defaults vpc_endpoint_type to Gateway.
        self.type = None if kind is P.UNKNOWN else (kind.lower() if isinstance(kind, str) else "gateway")
        self.private_dns = P.as_bool(resource.get("privateDnsEnabled"))
        # Unknown at preview: decided through the property dependencies (an endpoint whose vpcId
        # depends on VPC B is in VPC B); undecidable only when no dependency says.
        vpcs = refs.vpc_of(resource)
        self.vpcs, self.vpc_unknown = vpcs.keys(), vpcs.status == UNDECIDABLE
        tables = refs.resolve(resource, "routeTableIds", ROUTE_TABLE)
        self.route_tables, self.rt_unknown = tables.keys(), tables.status == UNDECIDABLE

    def serves(self, service: str) -> bool:
        return self.service is None or self.service == service

    def is_interface(self) -> bool:
        return self.type is None or self.type == "interface"

    def is_gateway(self) -> bool:
        return self.type is None or self.type == "gateway"

    def dns_ok(self) -> bool:
        return self.private_dns is True or self.private_dns is P.UNKNOWN


class _Group:
    """Private services sharing a VPC, with what their containers need."""

    def __init__(self) -> None:
        self.services: List[P.ResourceView] = []
        self.needs: Dict[str, str] = {}  # endpoint service -> why
        self.route_tables: Set[str] = set()


def _secret_service(value_from: Any) -> str:
    """secretsmanager, or ssm for Parameter Store references (an ssm ARN or a /path name)."""
    if isinstance(value_from, str):
        text = value_from.strip()
        if text.startswith("arn:") and text.split(":")[2:3] == ["ssm"]:
            return "ssm"
        if text.startswith("/"):
            return "ssm"
    return "secretsmanager"


def _container_needs(task: P.ResourceView) -> Dict[str, str]:
    """Endpoint services a task definition's containers need, with the reason. Unknown or invalid
    containerDefinitions need nothing that can be proven."""
    needs: Dict[str, str] = {}
    definitions = task.container_definitions
    if not definitions.known:
        return needs
    for index, container in enumerate(definitions.containers):
        label = container.get("name") if isinstance(container.get("name"), str) else f"#{index}"
        log = P.as_dict(container.get("logConfiguration"))
        if isinstance(log, Mapping):
            driver = log.get("logDriver")
            if isinstance(driver, str) and driver.strip().lower() == "awslogs":
                needs.setdefault("logs", f"container '{label}' of '{task.name}' logs with awslogs")
            for option in P.dicts(log.get("secretOptions")):
                service = _secret_service(option.get("valueFrom"))
                needs.setdefault(service, f"container '{label}' of '{task.name}' reads log secrets")
        for secret in P.dicts(container.get("secrets")):
            service = _secret_service(secret.get("valueFrom"))
            needs.setdefault(service, f"container '{label}' of '{task.name}' reads secrets")
        credentials = P.as_dict(container.get("repositoryCredentials"))
        if isinstance(credentials, Mapping) and credentials.get("credentialsParameter"):
            needs.setdefault("secretsmanager", f"container '{label}' of '{task.name}' uses registry credentials")
    return needs


def _needs_of(tasks: Iterable[P.ResourceView]) -> Dict[str, str]:
    """What the containers of these task definitions need an endpoint for -> why (the first reason)."""
    needs: Dict[str, str] = {}
    for task in tasks:
        for need, why in _container_needs(task).items():
            needs.setdefault(need, why)
    return needs


def _required(group: "_Group", extra: List[str]) -> List[Tuple[str, str]]:
    """The Interface endpoints a VPC's private services need, with why: ECR always; logs, secrets
    and parameters when their containers use them; the `additionalEndpoints` config."""
    required = [("ecr.api", "every task pulls its image manifest through the ECR API"),
                ("ecr.dkr", "every task pulls its image through the ECR Docker registry")]
    for need in ("logs", "secretsmanager", "ssm"):
        if need in group.needs:
            required.append((need, group.needs[need]))
    for need in extra:
        if need not in {r[0] for r in required} and need != "s3":
            required.append((need, "required by the `additionalEndpoints` config"))
    return required


class VpcEndpointsForPrivateTasks(StackRule, policy="vpc-endpoints-for-private-tasks", level="mandatory",
                                  severity="high", seeds=(5,),
                                  frameworks=(pci("1.3.2", "1.4.4"), fsbp("EC2.55", "EC2.56"))):
    """ECS tasks without a public IP need VPC endpoints in their VPC: ecr.api and ecr.dkr (Interface, private
    DNS), the s3 Gateway on their route tables, logs for awslogs, secretsmanager for secrets.

    Remediation:
        In the VPC of the service create `aws.ec2.VpcEndpoint`s:
        `service_name=f"com.amazonaws.{region}.ecr.api"` and `.ecr.dkr` (and `.logs`, `.secretsmanager` as the
        containers need) with `vpc_endpoint_type="Interface"`, `private_dns_enabled=True`, the private subnets
        and a security group allowing 443 from the tasks; and `service_name=f"com.amazonaws.{region}.s3"`,
        `vpc_endpoint_type="Gateway"`, `route_table_ids=[private route tables]`.

    Compliant example:
        for svc in ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]:
            aws.ec2.VpcEndpoint(svc, vpc_id=vpc.id, service_name=f"com.amazonaws.{region}.{svc}",
                vpc_endpoint_type="Interface", private_dns_enabled=True,
                subnet_ids=[s.id for s in private], security_group_ids=[endpoint_sg.id])
        aws.ec2.VpcEndpoint("s3", vpc_id=vpc.id, service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway", route_table_ids=[private_rt.id])
    """
    config_properties = {
        "additionalEndpoints": string_list(
            [],
            "Endpoint services (the part after `com.amazonaws.<region>.`) every VPC with private "
            "tasks must also have, as Interface endpoints with private DNS, e.g. [\"ecs\", "
            "\"ecs-agent\", \"ecs-telemetry\", \"sts\", \"kms\", \"ssmmessages\"]. Default: none."),
    }

    def judge(self, stack: StackView, ctx: Context, undecided: Undecided) -> Iterable[Violation]:
        services = self._private_services(stack, undecided)
        if not services:
            return
        refs = _Resolver(stack, update=not ctx.dry_run)
        extra = [e.strip().lower() for e in cfg_list(ctx, "additionalEndpoints") if isinstance(e, str) and e.strip()]
        groups = self._groups_by_vpc(stack, refs, services)
        endpoints = [_Endpoint(r, refs) for r in stack.of_type(*P.VPC_ENDPOINT)]
        anywhere: List[_Endpoint] = []  # VPC unknown (preview) or missing: counts for every VPC
        by_vpc: Dict[str, List[_Endpoint]] = {}
        for endpoint in endpoints:
            if endpoint.vpc_unknown or not endpoint.vpcs:
                anywhere.append(endpoint)
            for key in endpoint.vpcs:
                by_vpc.setdefault(key, []).append(endpoint)
        attached = self._endpoint_route_tables(stack, refs)
        for vpc, group in groups.items():
            in_vpc = endpoints if vpc == _ANY else by_vpc.get(vpc, []) + anywhere
            yield from self._judge_vpc(stack, vpc, group, in_vpc, attached, _required(group, extra), undecided)

    def _judge_vpc(self, stack: StackView, vpc: str, group: "_Group", in_vpc: List["_Endpoint"],
                   attached: Dict[str, Set[str]], required: List[Tuple[str, str]],
                   undecided: Undecided) -> Iterable[Violation]:
        """The endpoints one VPC's private services need, against those it has."""
        # What passes only thanks to an endpoint whose VPC or route tables no dependency decides
        # is undecided, not compliant.
        decided = [e for e in in_vpc if not e.vpc_unknown]
        unsure = [e.resource.name for e in in_vpc if e.vpc_unknown or e.rt_unknown]
        why_unsure = (f"the VPC or route tables of endpoint(s) {', '.join(repr(n) for n in sorted(unsure)[:3])} "
                      "are not known yet "
                      "and depend on no VPC or route table of this stack")
        for service, why in required:
            problem = self._interface_problem(service, in_vpc)
            if problem:
                yield self._violation(stack, vpc, group, service, why, problem)
            elif unsure and self._interface_problem(service, decided):
                undecided.add(why_unsure)
        problem = self._gateway_problem(stack, in_vpc, attached, group.route_tables)
        if problem:
            yield self._violation(stack, vpc, group, "s3", "ECR serves image layers from S3", problem)
        elif unsure and self._gateway_problem(stack, decided, attached, group.route_tables, decided_only=True):
            undecided.add(why_unsure)

    def _private_services(self, stack: StackView, undecided: Undecided) -> List[P.ResourceView]:
        services = []
        for service in stack.of_type(*P.SERVICE):
            private = self._is_private(service)
            if private is P.UNKNOWN:
                undecided.add(f"whether service '{service.name}' runs without a public IP is not known yet")
            elif private:
                services.append(service)
        return services

    def _groups_by_vpc(self, stack: StackView, refs: "_Resolver",
                       services: List[P.ResourceView]) -> Dict[str, "_Group"]:
        """The private services by VPC (`_ANY` when a service's is not known), with the route tables
        of their subnets and what their containers need."""
        associations, main_tables = self._route_table_index(stack, refs)
        groups: Dict[str, _Group] = {}
        all_tasks: Optional[Dict[str, str]] = None
        for service in services:
            vpcs, subnets = self._service_network(stack, refs, service)
            tasks = self._task_definitions(stack, refs, service)
            if tasks is None:  # not resolvable: what any task definition of the stack needs
                if all_tasks is None:
                    all_tasks = _needs_of(stack.of_type(*P.TASK_DEFINITION))
                needs = dict(all_tasks)
            else:
                needs = _needs_of(tasks)
            tables: Set[str] = set()
            for subnet in subnets:
                if subnet in associations:
                    tables.update(associations[subnet])
                else:
                    subnet_resource = stack.by_urn.get(subnet)
                    if subnet_resource is not None:
                        for vpc in refs.vpc_of(subnet_resource).keys():
                            tables.update(main_tables.get(vpc, ()))
            for vpc in (vpcs or {_ANY}):
                group = groups.setdefault(vpc, _Group())
                group.services.append(service)
                group.route_tables.update(tables)
                for need, why in needs.items():
                    group.needs.setdefault(need, why)
        return groups

    # --- which services ----------------------------------------------------------------------
    @staticmethod
    def _is_private(service: P.ResourceView) -> Any:
        launch = P.as_str(service.get("launchType"))
        if isinstance(launch, str) and launch.upper() == "EXTERNAL":
            return False  # ECS Anywhere: not in a VPC
        config = _network_configuration(service)
        if config is P.UNKNOWN:
            return P.UNKNOWN  # cannot tell at preview
        if not isinstance(config, Mapping):
            return True
        public = P.as_bool(P.lookup(config, "assignPublicIp"))
        if public is P.UNKNOWN:
            return P.UNKNOWN
        return public is not True

    # --- where the service runs --------------------------------------------------------------
    @staticmethod
    def _service_network(stack: StackView, refs: _Resolver, service: P.ResourceView) -> Tuple[Set[str], Set[str]]:
        """(VPC keys, subnet keys) of a service, through its subnets' and security groups' `vpcId`."""
        config = _network_configuration(service)
        subnet_values = P.lookup(config, "subnets") if isinstance(config, Mapping) else P.MISSING
        group_values = P.lookup(config, "securityGroups") if isinstance(config, Mapping) else P.MISSING
        subnets = refs.keys(service, "networkConfiguration", SUBNET, _listed(subnet_values))
        groups = refs.keys(service, "networkConfiguration", SECURITY_GROUP, _listed(group_values))
        vpcs: Set[str] = set()
        for key in subnets | groups:
            resource = stack.by_urn.get(key)
            if resource is not None:
                vpcs.update(refs.vpc_of(resource).keys())
        return vpcs, subnets

    @staticmethod
    def _task_definitions(stack: StackView, refs: _Resolver, service: P.ResourceView) -> Optional[List[P.ResourceView]]:
        """The service's task definition(s) in this stack, or None when it cannot be resolved."""
        return list(refs.resolve(service, "taskDefinition", P.TASK_DEFINITION).resources) or None

    @staticmethod
    def _route_table_index(stack: StackView, refs: _Resolver) -> Tuple[Dict[str, Set[str]], Dict[str, Set[str]]]:
        """subnet key -> route table keys (explicit associations); VPC key -> main route table keys."""
        associations: Dict[str, Set[str]] = {}
        for assoc in stack.of_type(*ROUTE_TABLE_ASSOCIATION):
            subnets = refs.keys(assoc, "subnetId", SUBNET)
            tables = refs.keys(assoc, "routeTableId", ROUTE_TABLE)
            for subnet in subnets:
                associations.setdefault(subnet, set()).update(tables)
        main: Dict[str, Set[str]] = {}
        for vpc in stack.of_type(*VPCS):
            for key in ("mainRouteTableId", "defaultRouteTableId"):
                value = P.as_str(vpc.get(key))
                if isinstance(value, str) and value:
                    main.setdefault(vpc.urn, set()).update(refs.keys(vpc, key, ROUTE_TABLE, value))
                    break
        for assoc in stack.of_type(*MAIN_ROUTE_TABLE_ASSOCIATION):
            tables = refs.keys(assoc, "routeTableId", ROUTE_TABLE)
            for vpc in refs.vpc_of(assoc).keys():
                if tables:
                    main[vpc] = set(tables)
        return associations, main

    @staticmethod
    def _endpoint_route_tables(stack: StackView, refs: _Resolver) -> Dict[str, Set[str]]:
        """endpoint URN -> route table keys attached with VpcEndpointRouteTableAssociation."""
        attached: Dict[str, Set[str]] = {}
        for assoc in stack.of_type(*ENDPOINT_ROUTE_TABLE_ASSOCIATION):
            endpoints = refs.resolve(assoc, "vpcEndpointId", P.VPC_ENDPOINT).urns
            tables = refs.resolve(assoc, "routeTableId", ROUTE_TABLE)
            for endpoint in endpoints:
                bucket = attached.setdefault(endpoint, set())
                bucket.update(tables.keys())
                if tables.status == UNDECIDABLE:
                    bucket.add(_ANY)
        return attached

    # --- what is wrong -----------------------------------------------------------------------
    @staticmethod
    def _interface_problem(service: str, endpoints: List[_Endpoint]) -> Optional[str]:
        candidates = [e for e in endpoints if e.serves(service)]
        if not candidates:
            return "there is none"
        if any(e.is_interface() and e.dns_ok() for e in candidates):
            return None
        if not any(e.is_interface() for e in candidates):
            names = ", ".join(f"'{e.resource.name}'" for e in candidates)
            return f"{names} is not an Interface endpoint: set `vpc_endpoint_type=\"Interface\"`"
        names = ", ".join(f"'{e.resource.name}'" for e in candidates if e.is_interface())
        return (f"{names} has private DNS disabled, so the tasks still resolve the public endpoint: set "
                "`private_dns_enabled=True`")

    @staticmethod
    def _gateway_problem(stack: StackView, endpoints: List[_Endpoint], attached: Mapping[str, Set[str]],
                         required: Set[str], decided_only: bool = False) -> Optional[str]:
        """What is wrong with the s3 gateway endpoints, or None. An endpoint whose route tables are
        undecidable covers every table, unless `decided_only` (then it covers the ones it knows)."""
        candidates = [e for e in endpoints if e.serves("s3")]
        gateways = [e for e in candidates if e.is_gateway()]
        if not gateways:
            if candidates:
                return ("there is only an Interface endpoint for s3; ECR layer downloads need the Gateway endpoint "
                        "(`vpc_endpoint_type=\"Gateway\"`) on the private route tables")
            return "there is none"
        best_missing: Optional[Set[str]] = None
        for endpoint in gateways:
            tables = set(endpoint.route_tables) | attached.get(endpoint.resource.urn, set())
            if (endpoint.rt_unknown or _ANY in tables) and not decided_only:
                return None
            tables.discard(_ANY)
            if not tables:
                missing = set(required) or {""}
            else:
                missing = required - tables
            if not missing:
                return None
            if best_missing is None or len(missing) < len(best_missing):
                best_missing = missing
        names = ", ".join(f"'{e.resource.name}'" for e in gateways)
        if best_missing == {""}:
            return f"{names} is attached to no route table: set `route_table_ids` to the private route tables"
        shown = ", ".join(sorted(_display(stack, k) for k in (best_missing or ()) if k))
        return (f"{names} is not attached to the route table(s) of the service's subnets ({shown}): add them to "
                "`route_table_ids`")

    @staticmethod
    def _violation(stack: StackView, vpc: str, group: _Group, service: str, why: str, problem: str) -> Violation:
        names = ", ".join(f"'{s.name}'" for s in group.services[:5])
        if len(group.services) > 5:
            names += f" and {len(group.services) - 5} more"
        kind = "Gateway" if service == "s3" else "Interface"
        return Violation(
            f"ECS service(s) {names} run without a public IP in {_display(stack, vpc)}, which needs the "
            f"`com.amazonaws.<region>.{service}` {kind} endpoint ({why}), but {problem}.",
            urn=group.services[0].urn, path=f"networkConfiguration.subnets ({service} endpoint)")


# --------------------------------------------------------------------------------------------
# vpc-flow-logs
# --------------------------------------------------------------------------------------------
class VpcFlowLogs(StackRule, policy="vpc-flow-logs", level="advisory", severity="medium", seeds=(),
                  frameworks=(pci("10.2.1", "10.2.1.1"), fsbp("EC2.6"), cis("3.7"))):
    """Every VPC must have a flow log.

    Remediation:
        Add `aws.ec2.FlowLog("vpc-flow-log", vpc_id=vpc.id, traffic_type="ALL",
        log_destination=flow_log_group.arn, iam_role_arn=flow_log_role.arn)` for every VPC (to a KMS-encrypted
        log group with a year's retention, or to S3).

    Compliant example:
        aws.ec2.FlowLog("vpc-flow-log", vpc_id=vpc.id, traffic_type="ALL",
            log_destination=flow_logs.arn, iam_role_arn=flow_log_role.arn)
    """

    def check_stack(self, stack: StackView, ctx: Context) -> Iterable[Violation]:
        vpcs = stack.of_type(*P.VPC)
        if not vpcs:
            return
        refs = _Resolver(stack, update=not ctx.dry_run)
        covered: Set[str] = set()
        for flow_log in stack.of_type(*P.FLOW_LOG):
            logged = refs.vpc_of(flow_log)
            if logged.status == UNDECIDABLE:
                # a flow log on a VPC no dependency decides (preview): it may be any of them
                raise NotApplicable(f"decided when the values are known: {logged.undecidable}")
            covered.update(logged.keys())
        for vpc in vpcs:
            if vpc.urn in covered or (vpc.id and vpc.id in covered):
                continue
            yield Violation(f"VPC '{vpc.name}' has no flow log: add `aws.ec2.FlowLog(..., vpc_id=vpc.id, "
                            "traffic_type=\"ALL\")` so that network traffic to the payment tasks is recorded.",
                            urn=vpc.urn)


RULES = [VpcEndpointsForPrivateTasks, EcsServiceNoPublicIp, VpcFlowLogs]
