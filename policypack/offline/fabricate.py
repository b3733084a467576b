"""Realistic outputs for resources registered while a Pulumi program runs under mocks.

In "update" mode the offline check must hand the program what the engine would hand it after
`pulumi up`: the inputs, plus every output the resource type declares that AWS computes (arn,
endpoint, dnsName, ...). Programs index into those values (`cluster.certificate_authority.data`,
`lb.dns_name.apply(...)`), so a value that is missing or of the wrong Python type crashes them.

Which outputs exist, and their types, comes from the *installed* pulumi-aws: the resource class'
getters (`@pulumi.getter`) and their `pulumi.Output[T]` annotations. Which of them are computed
comes from two facts of the Terraform-bridged SDK:

* an output that is not an input of the resource (not a parameter of `_internal_init`) is
  computed by the provider;
* an output annotated `Output[T]` rather than `Output[Optional[T]]` is always set after a create,
  so a non-Optional input the user left out is one AWS fills with a default.

Values are shaped by the field's name and the resource type (real ARN/id formats), and the random
looking parts are derived from a hash of (type, logical name) so that runs are repeatable.
"""

from __future__ import annotations

import base64
import collections.abc
import dataclasses
import enum
import functools
import hashlib
import importlib
import importlib.util
import inspect
import json
import re
import string
import sys
import types
import typing
import uuid
from typing import Any, Callable, Optional

__all__ = ["Environment", "fabricate", "complete_object", "output_type_for_invoke"]


@dataclasses.dataclass(frozen=True)
class Environment:
    stack: str
    project: str
    account: str = "123456789012"
    region: str = "us-east-1"
    partition: str = "aws"


# Nested output types are fabricated recursively; real schemas are rarely deeper than this and a
# bound keeps self-referencing types (WAF rule statements) from recursing forever.
_MAX_DEPTH = 4

_ISO_TIME = "2024-01-01T00:00:00Z"
_GETTER_NAME_ATTR = "_pulumi_name"  # pulumi._types._PULUMI_NAME
_OUTPUT_TYPE_ATTR = "_pulumi_output_type"  # pulumi._types._PULUMI_OUTPUT_TYPE


# --------------------------------------------------------------------------------------------
# Deterministic pseudo-randomness
# --------------------------------------------------------------------------------------------


class _Rand:
    """Pseudo-random strings derived from a seed, so that the same resource always gets the same
    ids. Each call names a `salt` so that two fields of one resource get different values."""

    def __init__(self, seed: str):
        self._seed = seed

    def _digest(self, salt: str, length: int) -> bytes:
        out = b""
        counter = 0
        while len(out) < length:
            out += hashlib.sha256(f"{self._seed}|{salt}|{counter}".encode()).digest()
            counter += 1
        return out[:length]

    def chars(self, salt: str, n: int, alphabet: str) -> str:
        return "".join(alphabet[b % len(alphabet)] for b in self._digest(salt, n))

    def hex(self, salt: str, n: int) -> str:
        return self.chars(salt, n, "0123456789abcdef")

    def digits(self, salt: str, n: int) -> str:
        # A leading zero would make the number look truncated.
        return self.chars(salt + "#first", 1, "123456789") + self.chars(salt, n - 1, string.digits)

    def lower(self, salt: str, n: int) -> str:
        return self.chars(salt, n, string.ascii_lowercase + string.digits)

    def upper(self, salt: str, n: int) -> str:
        return self.chars(salt, n, string.ascii_uppercase + string.digits)

    def uuid(self, salt: str) -> str:
        return str(uuid.UUID(bytes=self._digest(salt, 16), version=4))

    def number(self, salt: str, low: int, high: int) -> int:
        if high <= low:
            return low
        return low + int.from_bytes(self._digest(salt, 8), "big") % (high - low + 1)


# --------------------------------------------------------------------------------------------
# Introspection of the installed SDK
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Shape:
    """What a declared property holds. kind: str/int/float/bool/list/map/object/any."""

    kind: str
    optional: bool = False
    elem: Optional["_Shape"] = None
    cls: Optional[type] = None  # the @pulumi.output_type class when kind == "object"


_ANY = _Shape("any", optional=True)
_UNION_TYPE = getattr(types, "UnionType", None)  # `X | Y` annotations, Python 3.10+


def _strip_output(hint: Any) -> Any:
    import pulumi

    if typing.get_origin(hint) is pulumi.Output:
        args = typing.get_args(hint)
        return args[0] if args else Any
    return hint


def _shape_of(hint: Any) -> _Shape:
    """Translate a resolved annotation (Output[...] already stripped or not) into a _Shape."""
    hint = _strip_output(hint)
    optional = False
    origin = typing.get_origin(hint)
    if origin is typing.Union or (_UNION_TYPE is not None and origin is _UNION_TYPE):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(members) < len(typing.get_args(hint))
        if not members:
            return _ANY
        # Unions of several real types are rare in the aws SDK; the first member is the one the
        # provider's schema declares.
        hint = members[0]
        origin = typing.get_origin(hint)
    shape = _shape_of_plain(hint, origin)
    return dataclasses.replace(shape, optional=optional)


def _shape_of_plain(hint: Any, origin: Any) -> _Shape:
    if hint is bool:
        return _Shape("bool")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _Shape("str")
    if hint is str or (isinstance(hint, type) and issubclass(hint, str)):
        return _Shape("str")
    if hint is int:
        return _Shape("int")
    if hint is float:
        return _Shape("float")
    if origin in (list, tuple, collections.abc.Sequence, typing.Sequence):
        args = typing.get_args(hint)
        return _Shape("list", elem=_shape_of(args[0]) if args else _ANY)
    if origin in (dict, collections.abc.Mapping, typing.Mapping):
        args = typing.get_args(hint)
        return _Shape("map", elem=_shape_of(args[1]) if len(args) == 2 else _ANY)
    if isinstance(hint, type) and hasattr(hint, _OUTPUT_TYPE_ATTR):
        return _Shape("object", cls=hint)
    return _ANY


def _getters(cls: type) -> list[tuple[str, str, property]]:
    """(python name, pulumi name, property) for every @pulumi.getter of cls and its bases."""
    found: dict[str, tuple[str, str, property]] = {}
    for base in reversed(cls.__mro__):
        for py_name, value in vars(base).items():
            if isinstance(value, property):
                pulumi_name = getattr(value.fget, _GETTER_NAME_ATTR, None)
                if isinstance(pulumi_name, str):
                    found[py_name] = (py_name, pulumi_name, value)
    return list(found.values())


def _return_hint(cls: type, prop: property) -> Any:
    """The getter's return annotation with forward refs ('outputs.ClusterVpcConfig') resolved
    against the defining module's globals."""
    module = sys.modules.get(cls.__module__)
    globalns = vars(module) if module else None
    try:
        return typing.get_type_hints(prop.fget, globalns=globalns).get("return", Any)
    except Exception:  # an unresolvable name: treat the property as untyped
        return Any


@functools.lru_cache(maxsize=None)
def _fields_of(cls: type) -> tuple[tuple[str, str, _Shape], ...]:
    """(python name, pulumi name, shape) of every declared property of a resource/output class."""
    return tuple((py, pn, _shape_of(_return_hint(cls, prop))) for py, pn, prop in _getters(cls))


def _python_package(token: str) -> str:
    """The Python package of a provider's generated SDK: `docker:index/image:Image` -> pulumi_docker."""
    return "pulumi_" + token.split(":", 1)[0].replace("-", "_")


@functools.lru_cache(maxsize=None)
def _resource_table(package: str = "pulumi_aws") -> dict[str, tuple[str, str]]:
    """Type token -> (python module, class name), from the `resource_modules` JSON that a generated
    SDK's __init__.py registers (pulumi_aws, pulumi_docker, pulumi_random...). Read as text so that
    looking a type up imports only the module that defines it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return {}
    with open(spec.origin, encoding="utf-8") as handle:
        source = handle.read()
    match = re.search(r'resource_modules="""(.*?)"""', source, re.S)
    if not match:
        return {}
    table: dict[str, tuple[str, str]] = {}
    for module_info in json.loads(match.group(1)):
        for token, class_name in module_info.get("classes", {}).items():
            table[token] = (module_info["fqn"], class_name)
    return table


@functools.lru_cache(maxsize=None)
def _module_packages() -> dict[str, str]:
    """aws module name ('lambda') -> python package ('pulumi_aws.lambda_')."""
    packages = {"index": "pulumi_aws"}
    for token, (fqn, _cls) in _resource_table().items():
        packages.setdefault(_split_token(token)[1], fqn)
    return packages


@dataclasses.dataclass(frozen=True)
class _Schema:
    fields: tuple[tuple[str, str, _Shape], ...]
    inputs: frozenset[str]  # pulumi names of the resource's input properties


@functools.lru_cache(maxsize=None)
def _schema_for(token: str) -> Optional[_Schema]:
    entry = _resource_table(_python_package(token)).get(token)
    if entry is None:
        return None
    module = importlib.import_module(entry[0])
    cls = getattr(module, entry[1])
    import pulumi
    if not (isinstance(cls, type) and issubclass(cls, pulumi.CustomResource)):
        return None  # a component: its outputs are whatever it registers
    fields = _fields_of(cls)
    return _Schema(fields=fields, inputs=frozenset(_input_names(cls, fields)))


def _input_names(cls: type, fields: tuple[tuple[str, str, _Shape], ...]) -> set[str]:
    """Inputs are the keyword parameters of the generated `_internal_init`; that is more reliable
    than guessing the Args class name (it is `XInitArgs` when `XArgs` is taken by a nested type)."""
    py_to_pulumi = {py: pn for py, pn, _shape in fields}
    init = getattr(cls, "_internal_init", None)
    if init is None:
        return set()
    params = inspect.signature(init).parameters
    skip = {"__self__", "self", "resource_name", "opts", "__props__"}
    return {py_to_pulumi.get(p, _camel(p)) for p in params if p not in skip}


def output_type_for_invoke(token: str) -> Optional[type]:
    """The `Get...Result` output class of an aws invoke token, e.g. aws:ec2/getVpc:getVpc ->
    pulumi_aws.ec2.GetVpcResult (None when it can't be found)."""
    try:
        _pkg, module_name, function = _split_token(token)
        package = _module_packages().get(module_name)
        if package is None or not function:
            return None
        cls = getattr(importlib.import_module(package), function[0].upper() + function[1:] + "Result", None)
        return cls if isinstance(cls, type) and hasattr(cls, _OUTPUT_TYPE_ATTR) else None
    except Exception:
        return None


# --------------------------------------------------------------------------------------------
# Small string helpers
# --------------------------------------------------------------------------------------------


def _split_token(token: str) -> tuple[str, str, str]:
    """'aws:ecs/service:Service' -> ('aws', 'ecs', 'service')."""
    parts = token.split(":")
    if len(parts) != 3:
        return (parts[0] if parts else "", "", "")
    module, _, member = parts[1].partition("/")
    return parts[0], module, member or parts[2]


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def _camel(snake: str) -> str:
    head, *rest = snake.strip("_").split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _last_segment(value: Any, default: str) -> str:
    """Name part of an ARN or path: 'arn:...:cluster/prod' -> 'prod'."""
    if not isinstance(value, str) or not value:
        return default
    return re.split(r"[/:]", value)[-1] or default


def _ends(field: str, *suffixes: str) -> bool:
    return any(field == s or field.endswith(s[:1].upper() + s[1:]) for s in suffixes)


# --------------------------------------------------------------------------------------------
# Per-resource context
# --------------------------------------------------------------------------------------------


class _Ctx:
    """Everything the value builders need about one resource, with the identity values (physical
    name, id, arn) computed lazily because builders refer to one another."""

    def __init__(self, token: str, name: str, inputs: dict, env: Environment, schema: Optional[_Schema]):
        self.token = token
        self.canonical = _canonical(token)
        _pkg, self.module, self.member = _split_token(self.canonical)
        if re.match(r"get[A-Z]", self.member):
            # An invoke (aws:ec2/getVpc:getVpc) describes the resource it is named after.
            self.member = self.member[3].lower() + self.member[4:]
        self.logical = name
        self.inputs = inputs
        self.env = env
        self.schema = schema
        self.rand = _Rand(f"{token}|{name}")
        region = inputs.get("region")
        self.region = region if isinstance(region, str) and region else env.region
        self.account = env.account
        self.partition = env.partition

    def get(self, key: str, default: Any = None) -> Any:
        value = self.inputs.get(key)
        return default if value is None else value

    def arn(self, service: str, resource: str, region: Optional[str] = None, account: Optional[str] = None) -> str:
        region = self.region if region is None else region
        account = self.account if account is None else account
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    @functools.cached_property
    def physical(self) -> str:
        return _physical_name(self)

    @functools.cached_property
    def id(self) -> str:
        return _ID_RULES.get(self.canonical, _generic_id)(self)

    @functools.cached_property
    def resource_arn(self) -> str:
        return _ARN_RULES.get(self.canonical, _generic_arn)(self)


def _canonical(token: str) -> str:
    # `aws:alb/*` are aliases of `aws:lb/*` with the same formats.
    if token.startswith("aws:alb/"):
        return "aws:lb/" + token[len("aws:alb/"):]
    return token


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

# The property Pulumi auto-names when the user leaves it out, when it isn't `name`, with the
# property holding an explicit prefix and whether AWS requires lower case.
_AUTONAME_FIELDS: dict[str, tuple[str, str, bool]] = {
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", True),
    "aws:s3/bucketV2:BucketV2": ("bucket", "bucketPrefix", True),
    "aws:rds/instance:Instance": ("identifier", "identifierPrefix", True),
    "aws:rds/cluster:Cluster": ("clusterIdentifier", "clusterIdentifierPrefix", True),
    "aws:rds/clusterInstance:ClusterInstance": ("identifier", "identifierPrefix", True),
    "aws:elasticache/cluster:Cluster": ("clusterId", "", True),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", "", True),
    "aws:eks/nodeGroup:NodeGroup": ("nodeGroupName", "nodeGroupNamePrefix", False),
    "aws:lambda/permission:Permission": ("statementId", "statementIdPrefix", False),
    "aws:cloudwatch/eventTarget:EventTarget": ("targetId", "", False),
    "aws:ecs/taskDefinition:TaskDefinition": ("family", "", False),
}

# AWS name length limits that Pulumi's autonaming respects.
_NAME_LIMITS = {
    "aws:lb/loadBalancer:LoadBalancer": 32,
    "aws:lb/targetGroup:TargetGroup": 32,
    "aws:elb/loadBalancer:LoadBalancer": 32,
    "aws:rds/instance:Instance": 63,
    "aws:s3/bucket:Bucket": 63,
    "aws:s3/bucketV2:BucketV2": 63,
    "aws:iam/role:Role": 64,
    "aws:lambda/function:Function": 64,
    "aws:elasticache/cluster:Cluster": 50,
}


def _autoname_field(ctx: _Ctx) -> Optional[tuple[str, str, bool]]:
    special = _AUTONAME_FIELDS.get(ctx.canonical)
    if special is not None:
        return special
    if ctx.schema is not None and "name" in ctx.schema.inputs:
        return ("name", "namePrefix", False)
    return None


def _physical_name(ctx: _Ctx) -> str:
    """The name AWS knows the resource by: the user's value, else what Pulumi's autonaming would
    pick (`<logical>-<7 hex>`, or `<prefix><digits>` when a prefix input is given)."""
    field = _autoname_field(ctx)
    if field is None:
        given = ctx.get("name")
        return given if isinstance(given, str) and given else _autoname(ctx, ctx.logical)
    key, prefix_key, lower = field
    given = ctx.get(key)
    if isinstance(given, str) and given:
        return given
    prefix = ctx.get(prefix_key) if prefix_key else None
    if isinstance(prefix, str) and prefix:
        name = prefix + ctx.rand.digits("name-prefix", 26)
    else:
        name = _autoname(ctx, ctx.logical)
    if ctx.canonical == "aws:sqs/queue:Queue" and ctx.get("fifoQueue") is True:
        name += ".fifo"  # AWS requires it of FIFO queues; Pulumi's autonaming adds it
    return name.lower() if lower else name


def _autoname(ctx: _Ctx, logical: str) -> str:
    suffix = "-" + ctx.rand.hex("autoname", 7)
    limit = _NAME_LIMITS.get(ctx.canonical)
    base = logical if limit is None else logical[: max(1, limit - len(suffix))]
    name = base + suffix
    if ctx.canonical == "aws:kms/alias:Alias":
        name = "alias/" + name  # AWS requires the prefix
    return name


# --------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------

# EC2-style ids: `<prefix>-<17 hex>`, keyed by the token's member name.
_EC2_PREFIXES = {
    "vpc": "vpc", "defaultVpc": "vpc", "subnet": "subnet", "defaultSubnet": "subnet",
    "securityGroup": "sg", "defaultSecurityGroup": "sg", "internetGateway": "igw",
    "natGateway": "nat", "eip": "eipalloc", "routeTable": "rtb", "defaultRouteTable": "rtb",
    "routeTableAssociation": "rtbassoc", "mainRouteTableAssociation": "rtbassoc",
    "instance": "i", "launchTemplate": "lt", "networkInterface": "eni", "vpcEndpoint": "vpce",
    "networkAcl": "acl", "defaultNetworkAcl": "acl", "vpcPeeringConnection": "pcx",
    "flowLog": "fl", "ami": "ami", "amiCopy": "ami", "amiFromInstance": "ami",
    "egressOnlyInternetGateway": "eigw", "vpnGateway": "vgw", "customerGateway": "cgw",
    "vpnConnection": "vpn", "transitGateway": "tgw", "vpcAttachment": "tgw-attach",
    "vpcDhcpOptions": "dopt", "volume": "vol", "snapshot": "snap", "managedPrefixList": "pl",
    "securityGroupIngressRule": "sgr", "securityGroupEgressRule": "sgr", "eipAssociation": "eipassoc",
    "spotInstanceRequest": "sir", "networkInterfaceAttachment": "eni-attach",
    "vpcIpv4CidrBlockAssociation": "vpc-cidr-assoc", "keyPair": "key", "fileSystem": "fs", "mountTarget": "fsmt", "accessPoint": "fsap",
    "capacityReservation": "cr",
}
_EC2_MODULES = {"ec2", "vpc", "ec2transitgateway", "ebs", "efs"}


def _ec2_id(prefix: str, ctx: _Ctx, salt: str = "id") -> str:
    return f"{prefix}-{ctx.rand.hex(salt, 17)}"


def _id_from_arn(ctx: _Ctx) -> str:
    return ctx.resource_arn


def _id_from_name(ctx: _Ctx) -> str:
    return ctx.physical


_ID_RULES: dict[str, Callable[[_Ctx], str]] = {
    # Resources whose Terraform id is the ARN.
    **{t: _id_from_arn for t in (
        "aws:ecs/cluster:Cluster", "aws:ecs/service:Service", "aws:ecs/capacityProvider:CapacityProvider",
        "aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener",
        "aws:lb/listenerRule:ListenerRule", "aws:iam/policy:Policy", "aws:secretsmanager/secret:Secret",
        "aws:sns/topic:Topic", "aws:sns/topicSubscription:TopicSubscription", "aws:acm/certificate:Certificate",
        "aws:sfn/stateMachine:StateMachine", "aws:kinesis/stream:Stream", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/samlProvider:SamlProvider", "aws:lambda/layerVersion:LayerVersion",
    )},
    "aws:kms/key:Key": lambda c: c.rand.uuid("key"),
    "aws:sqs/queue:Queue": lambda c: f"https://sqs.{c.region}.amazonaws.com/{c.account}/{c.physical}",
    "aws:ecs/taskDefinition:TaskDefinition": _id_from_name,
    "aws:route53/zone:Zone": lambda c: "Z" + c.rand.upper("id", 20),
    "aws:route53/record:Record": lambda c: f"{c.get('zoneId', 'Z')}_{c.get('name', c.logical)}_{c.get('type', 'A')}",
    "aws:codedeploy/application:Application": lambda c: f"{c.rand.uuid('app')}:{c.physical}",
    "aws:codedeploy/deploymentGroup:DeploymentGroup": lambda c: c.rand.uuid("group"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda c: f"{c.get('role', 'role')}-{c.rand.digits('id', 26)}",
    "aws:iam/rolePolicy:RolePolicy": lambda c: f"{c.get('role', 'role')}:{c.physical}",
    "aws:s3/bucketObject:BucketObject": lambda c: str(c.get("key", c.logical)),
    "aws:s3/bucketObjectv2:BucketObjectv2": lambda c: str(c.get("key", c.logical)),
    "aws:s3/bucketPolicy:BucketPolicy": lambda c: str(c.get("bucket", c.logical)),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": lambda c: str(c.get("bucket", c.logical)),
    "aws:lambda/permission:Permission": _id_from_name,
    "aws:cloudwatch/eventTarget:EventTarget": lambda c: f"{c.get('rule', 'rule')}-{c.physical}",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": lambda c: "cwlsf-" + c.rand.digits("id", 10),
    "aws:ec2/securityGroupRule:SecurityGroupRule": lambda c: "sgrule-" + c.rand.digits("id", 10),
    "aws:ec2/route:Route": lambda c: f"r-{c.get('routeTableId', 'rtb')}{c.rand.digits('id', 10)}",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": lambda c: f"{c.get('targetGroupArn', 'tg')}-{c.rand.digits('id', 20)}",
    "aws:appautoscaling/target:Target": lambda c: str(c.get("resourceId", c.physical)),
    "aws:secretsmanager/secretVersion:SecretVersion": lambda c: f"{c.get('secretId', 'secret')}|{c.rand.uuid('version')}",
}


def _generic_id(ctx: _Ctx) -> str:
    if ctx.module in _EC2_MODULES and ctx.member in _EC2_PREFIXES:
        return _ec2_id(_EC2_PREFIXES[ctx.member], ctx)
    field = _autoname_field(ctx)
    if field is not None:
        return ctx.physical
    # Attachments, associations and other name-less resources: Terraform usually composes the
    # id from other ids; a unique deterministic string is all a program can rely on.
    return f"{ctx.logical}-{ctx.rand.hex('id', 8)}"


# --------------------------------------------------------------------------------------------
# ARNs
# --------------------------------------------------------------------------------------------


def _lb_kind(ctx: _Ctx) -> str:
    return {"network": "net", "gateway": "gwy"}.get(str(ctx.get("loadBalancerType", "application")), "app")


def _listener_arn(ctx: _Ctx) -> str:
    # listener/app/<lb name>/<lb hex>/<listener hex>, derived from the load balancer's ARN.
    lb = str(ctx.get("loadBalancerArn", ""))
    match = re.search(r":loadbalancer/((?:app|net|gwy)/[^/]+/[^/]+)$", lb)
    base = match.group(1) if match else f"app/{ctx.logical}/{ctx.rand.hex('lb', 16)}"
    return ctx.arn("elasticloadbalancing", f"listener/{base}/{ctx.rand.hex('arn', 16)}")


def _listener_rule_arn(ctx: _Ctx) -> str:
    listener = str(ctx.get("listenerArn", ""))
    match = re.search(r":listener/(.+)$", listener)
    base = match.group(1) if match else f"app/{ctx.logical}/{ctx.rand.hex('lb', 16)}/{ctx.rand.hex('l', 16)}"
    return ctx.arn("elasticloadbalancing", f"listener-rule/{base}/{ctx.rand.hex('arn', 16)}")


def _iam_arn(kind: str) -> Callable[[_Ctx], str]:
    def build(ctx: _Ctx) -> str:
        path = ctx.get("path", "/")
        path = path if isinstance(path, str) and path.startswith("/") and path.endswith("/") else "/"
        return ctx.arn("iam", f"{kind}{path}{ctx.physical}", region="")
    return build


def _ssm_parameter_arn(ctx: _Ctx) -> str:
    name = ctx.physical
    return ctx.arn("ssm", "parameter" + (name if name.startswith("/") else "/" + name))


def _event_rule_arn(ctx: _Ctx) -> str:
    bus = ctx.get("eventBusName")
    path = f"rule/{bus}/{ctx.physical}" if isinstance(bus, str) and bus and bus != "default" else f"rule/{ctx.physical}"
    return ctx.arn("events", path)


_ARN_RULES: dict[str, Callable[[_Ctx], str]] = {
    "aws:ecs/cluster:Cluster": lambda c: c.arn("ecs", f"cluster/{c.physical}"),
    "aws:ecs/service:Service": lambda c: c.arn("ecs", f"service/{_last_segment(c.get('cluster'), 'default')}/{c.physical}"),
    "aws:ecs/taskDefinition:TaskDefinition": lambda c: c.arn("ecs", f"task-definition/{c.physical}:1"),
    "aws:ecs/capacityProvider:CapacityProvider": lambda c: c.arn("ecs", f"capacity-provider/{c.physical}"),
    "aws:lb/loadBalancer:LoadBalancer": lambda c: c.arn("elasticloadbalancing", f"loadbalancer/{_lb_kind(c)}/{c.physical}/{c.rand.hex('arn', 16)}"),
    "aws:lb/targetGroup:TargetGroup": lambda c: c.arn("elasticloadbalancing", f"targetgroup/{c.physical}/{c.rand.hex('arn', 16)}"),
    "aws:lb/listener:Listener": _listener_arn,
    "aws:lb/listenerRule:ListenerRule": _listener_rule_arn,
    "aws:elb/loadBalancer:LoadBalancer": lambda c: c.arn("elasticloadbalancing", f"loadbalancer/{c.physical}"),
    "aws:cloudwatch/logGroup:LogGroup": lambda c: c.arn("logs", f"log-group:{c.physical}"),
    "aws:cloudwatch/logStream:LogStream": lambda c: c.arn("logs", f"log-group:{c.get('logGroupName', 'group')}:log-stream:{c.physical}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda c: c.arn("cloudwatch", f"alarm:{c.physical}"),
    "aws:cloudwatch/eventRule:EventRule": _event_rule_arn,
    "aws:cloudwatch/eventBus:EventBus": lambda c: c.arn("events", f"event-bus/{c.physical}"),
    "aws:cloudwatch/dashboard:Dashboard": lambda c: c.arn("cloudwatch", f"dashboard/{c.physical}", region=""),
    "aws:kms/key:Key": lambda c: c.arn("kms", f"key/{c.id}"),
    "aws:kms/alias:Alias": lambda c: c.arn("kms", c.physical),
    "aws:secretsmanager/secret:Secret": lambda c: c.arn("secretsmanager", f"secret:{c.physical}-{c.rand.chars('suffix', 6, string.ascii_letters)}"),
    "aws:iam/role:Role": _iam_arn("role"),
    "aws:iam/policy:Policy": _iam_arn("policy"),
    "aws:iam/instanceProfile:InstanceProfile": _iam_arn("instance-profile"),
    "aws:s3/bucket:Bucket": lambda c: c.arn("s3", c.physical, region="", account=""),
    "aws:s3/bucketV2:BucketV2": lambda c: c.arn("s3", c.physical, region="", account=""),
    "aws:s3/bucketObject:BucketObject": lambda c: c.arn("s3", f"{c.get('bucket', 'bucket')}/{c.get('key', c.logical)}", region="", account=""),
    "aws:s3/bucketObjectv2:BucketObjectv2": lambda c: c.arn("s3", f"{c.get('bucket', 'bucket')}/{c.get('key', c.logical)}", region="", account=""),
    "aws:lambda/function:Function": lambda c: c.arn("lambda", f"function:{c.physical}"),
    "aws:lambda/alias:Alias": lambda c: c.arn("lambda", f"function:{_last_segment(c.get('functionName'), 'function')}:{c.physical}"),
    "aws:lambda/layerVersion:LayerVersion": lambda c: c.arn("lambda", f"layer:{c.get('layerName', c.physical)}:1"),
    "aws:lambda/eventSourceMapping:EventSourceMapping": lambda c: c.arn("lambda", f"event-source-mapping:{c.rand.uuid('esm')}"),
    "aws:ecr/repository:Repository": lambda c: c.arn("ecr", f"repository/{c.physical}"),
    "aws:rds/instance:Instance": lambda c: c.arn("rds", f"db:{c.physical}"),
    "aws:rds/clusterInstance:ClusterInstance": lambda c: c.arn("rds", f"db:{c.physical}"),
    "aws:rds/cluster:Cluster": lambda c: c.arn("rds", f"cluster:{c.physical}"),
    "aws:rds/subnetGroup:SubnetGroup": lambda c: c.arn("rds", f"subgrp:{c.physical}"),
    "aws:rds/parameterGroup:ParameterGroup": lambda c: c.arn("rds", f"pg:{c.physical}"),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": lambda c: c.arn("rds", f"cluster-pg:{c.physical}"),
    "aws:rds/optionGroup:OptionGroup": lambda c: c.arn("rds", f"og:{c.physical}"),
    "aws:elasticache/cluster:Cluster": lambda c: c.arn("elasticache", f"cluster:{c.physical}"),
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda c: c.arn("elasticache", f"replicationgroup:{c.physical}"),
    "aws:elasticache/subnetGroup:SubnetGroup": lambda c: c.arn("elasticache", f"subnetgroup:{c.physical}"),
    "aws:dynamodb/table:Table": lambda c: c.arn("dynamodb", f"table/{c.physical}"),
    "aws:sns/topic:Topic": lambda c: c.arn("sns", c.physical),
    "aws:sns/topicSubscription:TopicSubscription": lambda c: f"{c.get('topic', c.arn('sns', 'topic'))}:{c.rand.uuid('sub')}",
    "aws:sqs/queue:Queue": lambda c: c.arn("sqs", c.physical),
    "aws:route53/zone:Zone": lambda c: c.arn("route53", f"hostedzone/{c.id}", region="", account=""),
    "aws:acm/certificate:Certificate": lambda c: c.arn("acm", f"certificate/{c.rand.uuid('arn')}"),
    "aws:codedeploy/application:Application": lambda c: c.arn("codedeploy", f"application:{c.physical}"),
    "aws:codedeploy/deploymentGroup:DeploymentGroup": lambda c: c.arn(
        "codedeploy", f"deploymentgroup:{c.get('appName', 'app')}/{c.get('deploymentGroupName', c.logical)}"),
    "aws:codedeploy/deploymentConfig:DeploymentConfig": lambda c: c.arn("codedeploy", f"deploymentconfig:{c.get('deploymentConfigName', c.logical)}"),
    "aws:ssm/parameter:Parameter": _ssm_parameter_arn,
    "aws:ec2/eip:Eip": lambda c: c.arn("ec2", f"elastic-ip/{c.id}"),
    "aws:ec2/natGateway:NatGateway": lambda c: c.arn("ec2", f"natgateway/{c.id}"),
    "aws:ec2/flowLog:FlowLog": lambda c: c.arn("ec2", f"vpc-flow-log/{c.id}"),
    "aws:efs/fileSystem:FileSystem": lambda c: c.arn("elasticfilesystem", f"file-system/{c.id}"),
    "aws:efs/accessPoint:AccessPoint": lambda c: c.arn("elasticfilesystem", f"access-point/{c.id}"),
}

# aws module -> the service name in its ARNs, where they differ.
_ARN_SERVICES = {
    "lb": "elasticloadbalancing", "elb": "elasticloadbalancing", "alb": "elasticloadbalancing",
    "cognito": "cognito-idp", "apigatewayv2": "apigateway", "vpc": "ec2", "ec2transitgateway": "ec2",
    "ec2clientvpn": "ec2", "ebs": "ec2", "cfg": "config", "sfn": "states", "opensearch": "es",
    "elasticsearch": "es", "msk": "kafka", "docdb": "rds", "neptune": "rds",
    "appautoscaling": "application-autoscaling", "efs": "elasticfilesystem", "cloudwatch": "cloudwatch",
    "servicediscovery": "servicediscovery", "codestarconnections": "codestar-connections",
    "sesv2": "ses", "lambda": "lambda", "cloudtrail": "cloudtrail", "wafv2": "wafv2",
}
_GLOBAL_SERVICES = {"iam", "route53", "cloudfront", "organizations", "s3"}


def _generic_arn(ctx: _Ctx) -> str:
    service = _ARN_SERVICES.get(ctx.module, ctx.module)
    region = "" if service in _GLOBAL_SERVICES else None
    if ctx.module in _EC2_MODULES and ctx.member in _EC2_PREFIXES:
        return ctx.arn(service, f"{_kebab(ctx.member)}/{ctx.id}", region=region)
    return ctx.arn(service, f"{_kebab(ctx.member)}/{ctx.physical}", region=region)


# --------------------------------------------------------------------------------------------
# Field values
# --------------------------------------------------------------------------------------------

# Hosted zone ids AWS uses for ALIAS records, per region (the common ones; others fall back).
_ELB_ZONES = {"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-1": "Z368ELLRRE2KJ0",
              "us-west-2": "Z1H1FL5HABSF5", "eu-west-1": "Z32O12XQLNTSW2", "eu-central-1": "Z215JYRZR1TBD5"}
_NLB_ZONES = {"us-east-1": "Z26RNL4JYFTOTI", "us-east-2": "ZLMOA37VPKANP", "us-west-2": "Z18D5FSROUN65G",
              "eu-west-1": "Z2IFOLAFXWLO4F", "eu-central-1": "Z3F0SRJ5LGBH90"}
_S3_ZONES = {"us-east-1": "Z3AQBSTGFYJSTF", "us-east-2": "Z2O1EMRO9K5GLX", "us-west-2": "Z3BJ6K6RIION7M",
             "eu-west-1": "Z1BKCTXD74EZPE", "eu-central-1": "Z21DNDUVLTQW6Q"}
_RDS_ZONES = {"us-east-1": "Z2R2ITUGPM61AM", "us-west-2": "Z1PVIF0B656C1W", "eu-west-1": "Z29XKXDKYMONMX"}

_ENGINE_PORTS = {"postgres": 5432, "aurora-postgresql": 5432, "mysql": 3306, "mariadb": 3306,
                 "aurora-mysql": 3306, "aurora": 3306, "sqlserver": 1433, "oracle": 1521,
                 "redis": 6379, "valkey": 6379, "memcached": 11211, "docdb": 27017, "neptune": 8182}

_PEM_BODY = base64.b64encode(b"offline-check placeholder certificate; not a real key" * 4).decode()
_FAKE_PEM_CERT = "-----BEGIN CERTIFICATE-----\n" + "\n".join(
    _PEM_BODY[i:i + 64] for i in range(0, len(_PEM_BODY), 64)) + "\n-----END CERTIFICATE-----\n"

# Fields nested in user-given configuration blocks that AWS fills in (EKS/Lambda vpcConfig...).
_NESTED_COMPUTED = {"vpcId", "clusterSecurityGroupId", "ownerId"}
# Id inputs AWS fills in when left out, because they locate the resource rather than configure it.
_PLACEMENT_IDS = {"vpcId", "subnetId", "clusterSecurityGroupId"}


def _region_code(region: str) -> str:
    """'us-east-1' -> 'use1', as used in AZ ids and ElastiCache hostnames."""
    parts = region.split("-")
    if len(parts) != 3:
        return region.replace("-", "")
    return parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]


def _private_ip(ctx: _Ctx, salt: str) -> str:
    return f"10.0.{ctx.rand.number(salt + 'a', 0, 255)}.{ctx.rand.number(salt + 'b', 4, 254)}"


def _public_ip(ctx: _Ctx, salt: str) -> str:
    # TEST-NET-3: documentation range, never routes anywhere real.
    return f"203.0.113.{ctx.rand.number(salt, 1, 254)}"


def _port(ctx: _Ctx) -> int:
    engine = str(ctx.get("engine", "")).lower()
    for prefix, port in _ENGINE_PORTS.items():
        if engine == prefix or engine.startswith(prefix):
            return port
    if ctx.module in ("elasticache", "memorydb"):
        return 6379
    protocol = str(ctx.get("protocol", "")).upper()
    return 80 if protocol in ("HTTP", "TCP_UDP") else 443


def _lambda_invoke_arn(ctx: _Ctx, qualifier: Optional[str] = None, streaming: bool = False) -> str:
    target = ctx.resource_arn + (f":{qualifier}" if qualifier else "")
    if streaming:
        return f"arn:{ctx.partition}:apigateway:{ctx.region}:lambda:path/2021-11-15/functions/{target}/response-streaming-invocations"
    return f"arn:{ctx.partition}:apigateway:{ctx.region}:lambda:path/2015-03-31/functions/{target}/invocations"


def _lambda_version(ctx: _Ctx) -> str:
    return "1" if ctx.get("publish") is True else "$LATEST"


def _rds_host(ctx: _Ctx, kind: str = "") -> str:
    return f"{ctx.physical}.{kind}{ctx.rand.lower('host', 12)}.{ctx.region}.rds.amazonaws.com"


def _lb_dns(ctx: _Ctx) -> str:
    prefix = "internal-" if ctx.get("internal") is True else ""
    if _lb_kind(ctx) == "net":
        return f"{prefix}{ctx.physical}-{ctx.rand.hex('dns', 16)}.elb.{ctx.region}.amazonaws.com"
    return f"{prefix}{ctx.physical}-{ctx.rand.digits('dns', 10)}.{ctx.region}.elb.amazonaws.com"


def _ec2_dns(ctx: _Ctx, ip: str, public: bool) -> str:
    dashed = ip.replace(".", "-")
    if public:
        domain = "compute-1.amazonaws.com" if ctx.region == "us-east-1" else f"{ctx.region}.compute.amazonaws.com"
        return f"ec2-{dashed}.{domain}"
    domain = "ec2.internal" if ctx.region == "us-east-1" else f"{ctx.region}.compute.internal"
    return f"ip-{dashed}.{domain}"


def _acm_validation(ctx: _Ctx) -> list:
    domain = str(ctx.get("domainName", f"{ctx.logical}.example.com"))
    names = [domain] + [d for d in ctx.get("subjectAlternativeNames", []) if isinstance(d, str)]
    return [{
        "domainName": d,
        "resourceRecordName": f"_{ctx.rand.hex('dvo-name' + d, 32)}.{d.lstrip('*.')}.",
        "resourceRecordType": "CNAME",
        "resourceRecordValue": f"_{ctx.rand.hex('dvo-value' + d, 32)}.{ctx.rand.lower('dvo' + d, 10)}.acm-validations.aws.",
    } for d in names]


def _s3_website(ctx: _Ctx, endpoint: bool) -> str:
    if not ctx.get("website"):
        return ""  # AWS reports no website endpoint for a bucket without a website config
    domain = f"s3-website-{ctx.region}.amazonaws.com"
    return f"{ctx.physical}.{domain}" if endpoint else domain


# Per-type values, keyed by the dotted path of the property (nested paths for nested outputs).
# Hand-written formats are kept for what an ECS Fargate payment stack is made of (ECS, load
# balancing, networking, IAM roles and policies, KMS, secrets and their rotation Lambda, logs, data
# stores, DNS and certificates, deployment) and for appsync's `uris`, a map whose keys programs
# index; every other type gets values from its SDK's declared output types by the shape of their names.
_FIELD_RULES: dict[str, dict[str, Callable[[_Ctx], Any]]] = {
    "aws:lambda/function:Function": {
        "invokeArn": _lambda_invoke_arn,
        "qualifiedArn": lambda c: f"{c.resource_arn}:{_lambda_version(c)}",
        "qualifiedInvokeArn": lambda c: _lambda_invoke_arn(c, _lambda_version(c)),
        "responseStreamingInvokeArn": lambda c: _lambda_invoke_arn(c, streaming=True),
        "version": _lambda_version,
        "lastModified": lambda c: "2024-01-01T00:00:00.000+0000",
        "sourceCodeSize": lambda c: 1024,
        # Only set for code-signed functions; AWS reports them empty otherwise.
        "signingJobArn": lambda c: "",
        "signingProfileVersionArn": lambda c: "",
    },
    "aws:lambda/functionUrl:FunctionUrl": {
        "functionUrl": lambda c: f"https://{c.rand.lower('url', 32)}.lambda-url.{c.region}.on.aws/",
        "urlId": lambda c: c.rand.lower("url", 32),
    },
    "aws:lambda/permission:Permission": {"statementId": lambda c: c.physical},
    # A map keyed by endpoint kind; programs read uris["GRAPHQL"] (pulumi/examples aws-py-appsync).
    "aws:appsync/graphQLApi:GraphQLApi": {
        "uris": lambda c: {
            "GRAPHQL": f"https://{c.rand.lower('gql', 26)}.appsync-api.{c.region}.amazonaws.com/graphql",
            "REALTIME": f"wss://{c.rand.lower('gql', 26)}.appsync-realtime-api.{c.region}.amazonaws.com/graphql"},
    },
    "aws:lb/loadBalancer:LoadBalancer": {
        "dnsName": _lb_dns,
        "zoneId": lambda c: (_NLB_ZONES if _lb_kind(c) == "net" else _ELB_ZONES).get(c.region, "Z35SXDOTRQ7X7K"),
        "arnSuffix": lambda c: c.resource_arn.split(":loadbalancer/", 1)[-1],
        "loadBalancerType": lambda c: "application",
        "ipAddressType": lambda c: "ipv4",
    },
    "aws:lb/targetGroup:TargetGroup": {
        "arnSuffix": lambda c: c.resource_arn.split(":", 5)[-1],
    },
    "aws:elb/loadBalancer:LoadBalancer": {
        "dnsName": lambda c: f"{c.physical}-{c.rand.digits('dns', 10)}.{c.region}.elb.amazonaws.com",
        "zoneId": lambda c: _ELB_ZONES.get(c.region, "Z35SXDOTRQ7X7K"),
    },
    "aws:ecr/repository:Repository": {
        "repositoryUrl": lambda c: f"{c.account}.dkr.ecr.{c.region}.amazonaws.com/{c.physical}",
        "registryId": lambda c: c.account,
    },
    "aws:ecs/taskDefinition:TaskDefinition": {
        "revision": lambda c: 1,
        "arnWithoutRevision": lambda c: c.arn("ecs", f"task-definition/{c.physical}"),
    },
    "aws:kms/key:Key": {"keyId": lambda c: c.id},
    "aws:kms/alias:Alias": {
        "targetKeyArn": lambda c: c.arn("kms", f"key/{_last_segment(c.get('targetKeyId'), c.rand.uuid('key'))}"),
    },
    "aws:secretsmanager/secretVersion:SecretVersion": {
        "versionId": lambda c: c.id.split("|")[-1],
        "arn": lambda c: str(c.get("secretId", "")),
    },
    "aws:dynamodb/table:Table": {
        "streamArn": lambda c: c.arn("dynamodb", f"table/{c.physical}/stream/2024-01-01T00:00:00.000") if c.get("streamEnabled") else "",
        "streamLabel": lambda c: "2024-01-01T00:00:00.000" if c.get("streamEnabled") else "",
    },
    "aws:sqs/queue:Queue": {"url": lambda c: c.id},
    "aws:sns/topic:Topic": {"owner": lambda c: c.account},
    "aws:route53/zone:Zone": {
        "zoneId": lambda c: c.id,
        "nameServers": lambda c: [f"ns-{c.rand.number('ns1', 1, 511)}.awsdns-{c.rand.number('ns1d', 10, 63)}.com",
                                  f"ns-{c.rand.number('ns2', 512, 1023)}.awsdns-{c.rand.number('ns2d', 10, 63)}.net",
                                  f"ns-{c.rand.number('ns3', 1024, 1535)}.awsdns-{c.rand.number('ns3d', 10, 63)}.org",
                                  f"ns-{c.rand.number('ns4', 1536, 2047)}.awsdns-{c.rand.number('ns4d', 10, 63)}.co.uk"],
        "primaryNameServer": lambda c: f"ns-{c.rand.number('ns1', 1, 511)}.awsdns-{c.rand.number('ns1d', 10, 63)}.com",
    },
    "aws:route53/record:Record": {"fqdn": lambda c: str(c.get("name", c.logical)).rstrip(".")},
    "aws:acm/certificate:Certificate": {
        "status": lambda c: "ISSUED",
        "domainValidationOptions": _acm_validation,
        "domainName": lambda c: f"{c.logical}.example.com",
        "validationMethod": lambda c: "DNS",
        "type": lambda c: "AMAZON_ISSUED",
    },
    "aws:codedeploy/application:Application": {
        "applicationId": lambda c: c.id.split(":")[0],
        "computePlatform": lambda c: "Server",
    },
    "aws:codedeploy/deploymentGroup:DeploymentGroup": {"deploymentGroupId": lambda c: c.id},
    "aws:iam/role:Role": {"uniqueId": lambda c: "AROA" + c.rand.upper("unique", 17)},
    "aws:iam/instanceProfile:InstanceProfile": {"uniqueId": lambda c: "AIPA" + c.rand.upper("unique", 17)},
    "aws:iam/policy:Policy": {"policyId": lambda c: "ANPA" + c.rand.upper("unique", 17), "attachmentCount": lambda c: 0},
    "aws:s3/bucket:Bucket": {
        "bucketDomainName": lambda c: f"{c.physical}.s3.amazonaws.com",
        "bucketRegionalDomainName": lambda c: f"{c.physical}.s3.{c.region}.amazonaws.com",
        "hostedZoneId": lambda c: _S3_ZONES.get(c.region, "Z3AQBSTGFYJSTF"),
        "websiteEndpoint": lambda c: _s3_website(c, True),
        "websiteDomain": lambda c: _s3_website(c, False),
        "acl": lambda c: "private",
    },
    "aws:s3/bucketObject:BucketObject": {"etag": lambda c: c.rand.hex("etag", 32), "versionId": lambda c: ""},
    "aws:s3/bucketObjectv2:BucketObjectv2": {"etag": lambda c: c.rand.hex("etag", 32), "versionId": lambda c: ""},
    "aws:rds/instance:Instance": {
        "address": lambda c: _rds_host(c),
        "endpoint": lambda c: f"{_rds_host(c)}:{c.get('port', _port(c))}",
        "port": _port,
        "hostedZoneId": lambda c: _RDS_ZONES.get(c.region, "Z2R2ITUGPM61AM"),
        "resourceId": lambda c: "db-" + c.rand.upper("resource", 26),
        "status": lambda c: "available",
        "engineVersionActual": lambda c: str(c.get("engineVersion", "16.3")),
        "masterUserSecrets": lambda c: [] if not c.get("manageMasterUserPassword") else None,
    },
    "aws:rds/cluster:Cluster": {
        "endpoint": lambda c: _rds_host(c, "cluster-"),
        "readerEndpoint": lambda c: _rds_host(c, "cluster-ro-"),
        "port": _port,
        "hostedZoneId": lambda c: _RDS_ZONES.get(c.region, "Z2R2ITUGPM61AM"),
        "clusterResourceId": lambda c: "cluster-" + c.rand.upper("resource", 26),
        "masterUserSecrets": lambda c: [] if not c.get("manageMasterUserPassword") else None,
    },
    "aws:rds/clusterInstance:ClusterInstance": {
        "endpoint": lambda c: _rds_host(c),
        "port": _port,
        "dbiResourceId": lambda c: "db-" + c.rand.upper("resource", 26),
        "writer": lambda c: True,
    },
    "aws:elasticache/replicationGroup:ReplicationGroup": {
        "primaryEndpointAddress": lambda c: f"master.{c.physical}.{c.rand.lower('host', 6)}.{_region_code(c.region)}.cache.amazonaws.com",
        "readerEndpointAddress": lambda c: f"replica.{c.physical}.{c.rand.lower('host', 6)}.{_region_code(c.region)}.cache.amazonaws.com",
        "configurationEndpointAddress": lambda c: "",
        "port": _port,
    },
    "aws:elasticache/cluster:Cluster": {
        "cacheNodes.address": lambda c: f"{c.physical}.{c.rand.lower('host', 6)}.0001.{_region_code(c.region)}.cache.amazonaws.com",
        "cacheNodes.id": lambda c: "0001",
        "clusterAddress": lambda c: f"{c.physical}.{c.rand.lower('host', 6)}.cfg.{_region_code(c.region)}.cache.amazonaws.com",
        "port": _port,
    },
    "aws:ec2/eip:Eip": {
        "allocationId": lambda c: c.id,
        "publicIp": lambda c: _public_ip(c, "public"),
        "publicDns": lambda c: _ec2_dns(c, _public_ip(c, "public"), public=True),
        "domain": lambda c: "vpc",
    },
    "aws:ec2/natGateway:NatGateway": {
        "publicIp": lambda c: _public_ip(c, "public"),
        "privateIp": lambda c: _private_ip(c, "private"),
    },
    "aws:ec2/subnet:Subnet": {
        "availabilityZoneId": lambda c: f"{_region_code(c.region)}-az{c.rand.number('az', 1, 3)}",
    },
    "aws:ec2/vpc:Vpc": {
        # Only set when an IPv6 block was requested.
        "ipv6AssociationId": lambda c: _ec2_id("vpc-cidr-assoc", c, "ipv6") if c.get("assignGeneratedIpv6CidrBlock") else "",
        "instanceTenancy": lambda c: "default",
    },
    "aws:efs/fileSystem:FileSystem": {"dnsName": lambda c: f"{c.id}.efs.{c.region}.amazonaws.com"},
    "aws:efs/mountTarget:MountTarget": {
        "dnsName": lambda c: f"{c.get('fileSystemId', 'fs')}.efs.{c.region}.amazonaws.com",
        "ipAddress": lambda c: _private_ip(c, "ip"),
    },
    "aws:ssm/parameter:Parameter": {"version": lambda c: 1, "tier": lambda c: "Standard", "dataType": lambda c: "text"},
}


def _id_prefix_for_field(field: str) -> Optional[str]:
    """EC2-style id prefix for fields such as vpcId, defaultRouteTableId, primaryNetworkInterfaceId."""
    table = [
        ("TransitGatewayRouteTableId", "tgw-rtb"), ("LocalGatewayRouteTableId", "lgw-rtb"),
        ("SecurityGroupId", "sg"), ("RouteTableId", "rtb"), ("NetworkAclId", "acl"),
        ("NetworkInterfaceId", "eni"), ("InternetGatewayId", "igw"), ("NatGatewayId", "nat"),
        ("SubnetId", "subnet"), ("VpcEndpointId", "vpce"), ("DhcpOptionsId", "dopt"),
        ("TransitGatewayAttachmentId", "tgw-attach"), ("TransitGatewayId", "tgw"), ("VpcId", "vpc"),
        ("InstanceId", "i"), ("AllocationId", "eipalloc"), ("VolumeId", "vol"), ("SnapshotId", "snap"),
        ("ImageId", "ami"), ("PrefixListId", "pl"), ("KeyPairId", "key"), ("LaunchTemplateId", "lt"),
        ("FileSystemId", "fs"),
    ]
    cap = field[:1].upper() + field[1:]
    for suffix, prefix in table:
        if cap.endswith(suffix):
            return prefix
    return None


def _identity_string(path: tuple[str, ...], ctx: _Ctx) -> Optional[str]:
    """Values safe to fill even for inputs the user left out: they name or locate the resource
    rather than describe a setting a policy could care about."""
    field = path[-1]
    autoname = _autoname_field(ctx)
    if len(path) == 1 and autoname is not None and field == autoname[0]:
        return ctx.physical
    if len(path) == 1 and field == "name":
        return ctx.physical
    if len(path) == 1 and field == "arn":
        return ctx.resource_arn  # an input of a few types (ssm Parameter), AWS sets it anyway
    if field in ("region", "bucketRegion", "homeRegion"):
        return ctx.region
    if field == "availabilityZone":
        return ctx.region + "a"
    if field in ("ownerId", "accountId", "awsAccountId", "ownerAccountId", "registryId", "customerAwsId"):
        return ctx.account
    if field in _PLACEMENT_IDS:
        # Where AWS puts a resource the user didn't place: the default VPC and its subnet. Other
        # id inputs (sourceSecurityGroupId, peerVpcId...) are settings and are not invented.
        return _ec2_id(_id_prefix_for_field(field) or "id", ctx, ".".join(path))
    return None


def _when(*fields: str, ends: tuple = (), top: Optional[bool] = None) -> Callable[[str, tuple], bool]:
    """A field-name test: one of `fields`, or ending with one of `ends` (camelCase aware);
    top=True/False: only at the top level / only nested."""
    def test(field: str, path: tuple) -> bool:
        if top is not None and (len(path) == 1) != top:
            return False
        return field in fields or (bool(ends) and _ends(field, *ends))
    return test


def _host(ctx: _Ctx) -> str:
    return f"{ctx.physical}.{_ARN_SERVICES.get(ctx.module, ctx.module)}.{ctx.region}.amazonaws.com"


def _digest(salt: str, ctx: _Ctx) -> str:
    return base64.b64encode(hashlib.sha256(salt.encode() + ctx.rand.hex(salt, 8).encode()).digest()).decode()


_TIME_FIELD = re.compile(r"(Date|Time|At|Timestamp|Before|After|Created|Updated)$")

# Output-only strings by the shape of their name, first match wins: (test(field, path), build(field, salt, ctx)).
_COMPUTED_STRINGS: list[tuple[Callable[[str, tuple], bool], Callable[[str, str, _Ctx], str]]] = [
    (_when("arn", top=True), lambda f, s, c: c.resource_arn),
    (_when("id", top=True), lambda f, s, c: c.id),
    (_when("id"), lambda f, s, c: c.rand.hex(s, 17)),
    (lambda f, p: f == "data" and any("certificate" in part.lower() for part in p),
     lambda f, s, c: base64.b64encode(_FAKE_PEM_CERT.encode()).decode()),
    (_when(ends=("arn",)), lambda f, s, c: _arn_for_field(f, c)),
    (lambda f, p: bool(_TIME_FIELD.search(f)) or f in ("lastModified", "expiration", "created", "updated"),
     lambda f, s, c: _ISO_TIME),
    (_when(ends=("cidr", "cidrBlock")), lambda f, s, c: "10.0.0.0/16"),
    (_when(ends=("email",)), lambda f, s, c: f"{c.physical}@example.com"),
    (_when("uuid"), lambda f, s, c: c.rand.uuid(s)),
    (_when(ends=("certificate", "certificateChain", "certificatePem")), lambda f, s, c: _FAKE_PEM_CERT),
    (_when("policy"), lambda f, s, c: json.dumps({"Version": "2012-10-17", "Statement": []})),
    (_when("status"), lambda f, s, c: "ACTIVE"),
    (_when("state", ends=("status", "state")), lambda f, s, c: "available"),
    (_when(ends=("reason", "message", "description", "comment")), lambda f, s, c: ""),
    (_when("etag", "checksum", "fingerprint", ends=("hash", "sha256", "etag")), lambda f, s, c: _digest(s, c)),
    (_when("version", "latestVersion", "defaultVersion", ends=("version",)), lambda f, s, c: "1"),
    (_when("uniqueId"), lambda f, s, c: "AROA" + c.rand.upper(s, 17)),
    (_when("keyId"), lambda f, s, c: c.rand.uuid(s)),
    (_when(ends=("availabilityZoneId",)), lambda f, s, c: f"{_region_code(c.region)}-az1"),
    (lambda f, p: _id_prefix_for_field(f) is not None, lambda f, s, c: _ec2_id(_id_prefix_for_field(f) or "", c, s)),
    (_when(ends=("zoneId",)), lambda f, s, c: "Z" + c.rand.upper(s, 13)),
    (_when(ends=("resourceId",)), lambda f, s, c: c.rand.lower(s, 10)),
    (_when(ends=("id",)), lambda f, s, c: c.rand.hex(s, 17)),
    (_when(ends=("ip", "ipAddress")),
     lambda f, s, c: _public_ip(c, s) if "public" in f.lower() else _private_ip(c, s)),
    (_when(ends=("url", "uri")), lambda f, s, c: f"https://{_host(c)}/"),
    (_when(ends=("endpoint", "dnsName", "domainName", "address", "hostname", "domain", "fqdn")),
     lambda f, s, c: _host(c)),
    (_when("issuer"), lambda f, s, c: f"https://{c.physical}.{c.region}.amazonaws.com/id/{c.rand.hex(s, 32).upper()}"),
    (_when("name", ends=("name",)), lambda f, s, c: f"{c.physical}-{_kebab(f)}"),
    (_when("owner", "createdBy"), lambda f, s, c: c.account),
    (_when("path"), lambda f, s, c: "/"),
]


def _computed_string(path: tuple[str, ...], ctx: _Ctx) -> str:
    """A realistic value for an output-only string property, by the shape of its name."""
    field, salt = path[-1], ".".join(path)
    for applies, build in _COMPUTED_STRINGS:
        if applies(field, path):
            return build(field, salt, ctx)
    return f"{_kebab(field)}-{ctx.rand.hex(salt, 8)}"


# Field-name stem -> (arn service, resource type, is global) for fields like roleArn, kmsKeyArn.
_ARN_FIELD_STEMS = [
    ("role", ("iam", "role/", True)), ("kmsKey", ("kms", "key/", False)), ("key", ("kms", "key/", False)),
    ("topic", ("sns", "", False)), ("queue", ("sqs", "", False)), ("logGroup", ("logs", "log-group:", False)),
    ("function", ("lambda", "function:", False)), ("certificate", ("acm", "certificate/", False)),
    ("secret", ("secretsmanager", "secret:", False)), ("policy", ("iam", "policy/", True)),
    ("stream", ("kinesis", "stream/", False)), ("bucket", ("s3", "", True)),
]


def _arn_for_field(field: str, ctx: _Ctx) -> str:
    stem = field[: -len("Arn")] if field.endswith("Arn") else field
    for key, (service, resource, is_global) in _ARN_FIELD_STEMS:
        if stem == key or stem.endswith(key[:1].upper() + key[1:]):
            region = "" if is_global else None
            account = "" if service == "s3" else None
            return ctx.arn(service, f"{resource}{ctx.physical}", region=region, account=account)
    # Anything else is taken as a qualified form of the resource's own ARN (a policy then sees it
    # as this resource's, as it would the provider's real value, never as outside infrastructure).
    return f"{ctx.resource_arn}/{_kebab(stem) or ctx.member}"


def _int_value(path: tuple[str, ...], ctx: _Ctx, computed: bool) -> Optional[int]:
    field = path[-1]
    if _ends(field, "port"):
        return _port(ctx)
    if not computed:
        return None
    if _ends(field, "count", "revision", "version", "number", "capacity"):
        return 1
    if _ends(field, "size", "storage"):
        return 20
    return 1


# --------------------------------------------------------------------------------------------
# Value construction by shape
# --------------------------------------------------------------------------------------------


def _value(shape: _Shape, path: tuple[str, ...], ctx: _Ctx, computed: bool, depth: int = 0) -> Any:
    """A value for a property the user didn't set, or None to leave it absent.

    `computed` is True for output-only properties: those are fabricated fully. It is False for
    optional inputs that AWS defaults: only names, ids and locations are filled in (and the
    per-type rules); a setting (backupRetentionPeriod, internal, kmsKeyId...) stays absent so that
    a policy never judges a default we would have had to guess."""
    rule = _FIELD_RULES.get(ctx.canonical, {}).get(".".join(path))
    if rule is not None:
        value = rule(ctx)
        if _fits(value, shape):
            return value
    kind = shape.kind
    if kind == "str":
        identity = _identity_string(path, ctx)
        if identity is not None or not computed:
            return identity
        return _computed_string(path, ctx)
    if kind == "bool":
        return False if computed else None
    if kind == "int":
        return _int_value(path, ctx, computed)
    if kind == "float":
        return 1.0 if computed else None
    if kind == "map":
        if path == ("tagsAll",):
            tags = ctx.get("tags")
            return dict(tags) if isinstance(tags, dict) else {}
        return {}
    if kind == "list":
        return _list_value(shape, path, ctx, computed, depth)
    if kind == "object" and shape.cls is not None:
        if depth >= _MAX_DEPTH:
            return {} if computed else None
        value = _object_value(shape.cls, path, ctx, computed, depth + 1)
        return value if value or computed else None
    return None


def _list_value(shape: _Shape, path: tuple[str, ...], ctx: _Ctx, computed: bool, depth: int) -> list:
    # A computed list of blocks (certificateAuthorities, identities, cacheNodes) has one element in
    # the common case; lists of scalars (replicas, loadBalancerArns) are usually empty and a made
    # up element would be wrong more often than not.
    elem = shape.elem
    if computed and elem is not None and elem.kind == "object" and depth < _MAX_DEPTH:
        return [_value(elem, path, ctx, computed, depth)]
    return []


def _object_value(cls: type, path: tuple[str, ...], ctx: _Ctx, computed: bool, depth: int) -> dict:
    result: dict[str, Any] = {}
    for _py, name, shape in _fields_of(cls):
        sub = path + (name,)
        if computed:
            value = _value(shape, sub, ctx, computed, depth)
        elif name in _NESTED_COMPUTED and shape.kind == "str":
            value = _identity_string(sub, ctx)
        else:
            continue
        if value is not None:
            result[name] = value
    return result


def _merge_nested(given: Any, shape: _Shape, path: tuple[str, ...], ctx: _Ctx, depth: int = 0) -> Any:
    """Fill AWS-computed fields inside configuration blocks the user did give (EKS vpcConfig gets
    its clusterSecurityGroupId and vpcId), leaving every user value as it was."""
    if depth >= _MAX_DEPTH:
        return given
    if shape.kind == "object" and shape.cls is not None and isinstance(given, dict):
        merged = dict(given)
        for _py, name, sub_shape in _fields_of(shape.cls):
            sub = path + (name,)
            if name in merged:
                merged[name] = _merge_nested(merged[name], sub_shape, sub, ctx, depth + 1)
            elif name in _NESTED_COMPUTED and sub_shape.kind == "str":
                merged[name] = _identity_string(sub, ctx)
        return merged
    if shape.kind == "list" and shape.elem is not None and isinstance(given, list):
        return [_merge_nested(item, shape.elem, path, ctx, depth + 1) for item in given]
    return given


def _fits(value: Any, shape: _Shape) -> bool:
    """Whether value has the Python type the declared shape promises (None never fits: a rule
    returning None defers to the generic logic)."""
    if value is None:
        return False
    expected = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "map": dict, "object": dict}.get(shape.kind)
    if expected is None:
        return True
    if shape.kind in ("int", "float") and isinstance(value, bool):
        return False
    return isinstance(value, expected)


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def _plain_copy(value: Any) -> Any:
    """Copy dicts and lists so the caller's inputs are never mutated; leave other objects (resource
    references, secrets) as they are, deepcopy of those is neither needed nor safe."""
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    return value


def fabricate(type_token: str, name: str, inputs: dict, env: Environment, preview: bool) -> tuple[str, dict]:
    """Return (id, outputs) for a registered resource. `inputs` are the wire-form inputs as a plain
    dict with camelCase keys (as produced by pulumi.runtime.rpc.deserialize_properties of the
    RegisterResourceRequest object — i.e. what pulumi.runtime.mocks.MockResourceArgs.inputs holds).
    Outputs = inputs, plus every declared output not given as an input, fabricated by name and type
    from the provider's generated SDK (any provider installed in the program's environment).
    preview=True: return inputs only (no fabricated outputs) and id "" — the program then sees
    unknowns, exactly as a first `pulumi preview`.

    It does not swallow errors: values the program controls are checked where they are read
    (malformed inputs are tested never to raise); anything else is a bug the caller reports."""
    token = str(type_token or "")
    name = str(name or "")
    plain = _plain_copy(inputs) if isinstance(inputs, dict) else {}
    if preview:
        return "", plain
    builder = _FOREIGN.get(token)
    if builder is not None:
        return builder(_Rand(f"{token}|{name}"), name, plain)
    if token.startswith("pulumi:providers:"):
        return _Rand(f"{token}|{name}").uuid("provider"), plain
    schema = _schema_for(_canonical(token)) or _schema_for(token) if token.count(":") == 2 else None
    if schema is None:
        return _basics(token, name, plain, env)
    return _from_schema(token, name, plain, env, schema)


def _from_schema(token: str, name: str, inputs: dict, env: Environment, schema: _Schema) -> tuple[str, dict]:
    ctx = _Ctx(token, name, inputs, env, schema)
    outputs = dict(inputs)
    for _py, field, shape in schema.fields:
        path = (field,)
        if field in inputs:
            outputs[field] = _merge_nested(inputs[field], shape, path, ctx)
            continue
        is_input = field in schema.inputs
        if shape.optional:
            continue  # absent unless the provider always sets it: the user didn't, so neither do we
        value = _value(shape, path, ctx, computed=not is_input)
        if value is not None:
            outputs[field] = value
    return ctx.id, outputs


def _basics(token: str, name: str, inputs: dict, env: Environment) -> tuple[str, dict]:
    """Types no installed SDK describes (components, unknown packages): inputs, plus an id — and
    for aws types an arn and name."""
    ctx = _Ctx(token, name, inputs, env, None)
    if token.startswith("aws:"):
        inputs.setdefault("arn", ctx.resource_arn)
        inputs.setdefault("name", ctx.physical)
        return ctx.id, inputs
    return f"{name}-{ctx.rand.hex('id', 8)}", inputs


def complete_object(cls: type, given: dict, token: str, seed: str, env: Environment,
                    echo: Optional[dict] = None) -> dict:
    """`given` plus a fabricated value for every non-Optional property of the output type `cls`
    that is missing, recursively into nested output types: used to make invoke results carry every
    key the SDK reads (their result types declare required keys even inside nested blocks).
    Properties missing from `given` but present in `echo` (an invoke's arguments, which results
    repeat: filters, tags, state...) are copied from it first."""
    result = dict(given)
    for _py, field, shape in _fields_of(cls):
        if result.get(field) is None and isinstance(echo, dict) and _fits(echo.get(field), shape):
            result[field] = echo[field]
    ctx = _Ctx(token, seed, result, env, None)
    return _complete(cls, result, (), ctx, 0)


def _complete(cls: type, given: dict, path: tuple[str, ...], ctx: _Ctx, depth: int) -> dict:
    result = dict(given)
    for _py, field, shape in _fields_of(cls):
        sub = path + (field,)
        present = result.get(field)
        if present is not None:
            result[field] = _complete_value(present, shape, sub, ctx, depth)
        elif not shape.optional:
            value = _value(shape, sub, ctx, computed=True, depth=depth)
            if value is not None:
                result[field] = value
    return result


def _complete_value(value: Any, shape: _Shape, path: tuple[str, ...], ctx: _Ctx, depth: int) -> Any:
    if depth >= _MAX_DEPTH:
        return value
    if shape.kind == "object" and shape.cls is not None and isinstance(value, dict):
        return _complete(shape.cls, value, path, ctx, depth + 1)
    if shape.kind == "list" and shape.elem is not None and isinstance(value, list):
        return [_complete_value(item, shape.elem, path, ctx, depth + 1) for item in value]
    return value


# --------------------------------------------------------------------------------------------
# Non-aws packages (random, tls, awsx, providers, components)
# --------------------------------------------------------------------------------------------


def _random_string(rand: _Rand, name: str, inputs: dict) -> str:
    length = inputs.get("length")
    length = length if isinstance(length, int) and 0 < length <= 4096 else 16
    alphabet = ""
    if inputs.get("lower", True) is not False:
        alphabet += string.ascii_lowercase
    if inputs.get("upper", True) is not False:
        alphabet += string.ascii_uppercase
    if inputs.get("numeric", inputs.get("number", True)) is not False:
        alphabet += string.digits
    if inputs.get("special", True) is not False:
        override = inputs.get("overrideSpecial")
        alphabet += override if isinstance(override, str) and override else "!@#$%&*()-_=+[]{}<>:?"
    return rand.chars("result", length, alphabet or string.ascii_lowercase)


def _random_password(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    result = _random_string(rand, name, inputs)
    return "none", {**inputs, "result": result, "bcryptHash": "$2a$10$" + rand.chars("bcrypt", 53, string.ascii_letters + string.digits + "./")}


def _random_str(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    result = _random_string(rand, name, inputs)
    return result, {**inputs, "result": result}


def _random_id(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    size = inputs.get("byteLength")
    size = size if isinstance(size, int) and 0 < size <= 1024 else 8
    raw = bytes.fromhex(rand.hex("bytes", size * 2))
    prefix = inputs.get("prefix") if isinstance(inputs.get("prefix"), str) else ""
    b64_url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return b64_url, {
        **inputs,
        "hex": prefix + raw.hex(),
        "b64Url": prefix + b64_url,
        "b64Std": prefix + base64.b64encode(raw).decode(),
        "dec": prefix + str(int.from_bytes(raw, "big")),
    }


def _random_pet(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    words = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "proud",
             "otter", "falcon", "badger", "heron", "lynx", "marmot", "panda", "quail", "walrus", "zebra"]
    length = inputs.get("length") if isinstance(inputs.get("length"), int) else 2
    separator = inputs.get("separator") if isinstance(inputs.get("separator"), str) else "-"
    parts = [words[rand.number(f"word{i}", 0, len(words) - 1)] for i in range(max(1, length))]
    if isinstance(inputs.get("prefix"), str):
        parts.insert(0, inputs["prefix"])
    pet = separator.join(parts)
    return pet, {**inputs}


def _random_uuid(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    value = rand.uuid("uuid")
    return value, {**inputs, "result": value}


def _random_integer(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    low = inputs.get("min") if isinstance(inputs.get("min"), int) else 0
    high = inputs.get("max") if isinstance(inputs.get("max"), int) else low + 100
    value = rand.number("int", low, high)
    return str(value), {**inputs, "result": value}


def _random_shuffle(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    items = list(inputs.get("inputs") or [])
    items.sort(key=lambda item: rand.hex(f"shuffle{item}", 8))
    count = inputs.get("resultCount")
    if isinstance(count, int) and count >= 0:
        items = items[:count]
    return "-", {**inputs, "results": items}


def _pem(kind: str, rand: _Rand, salt: str) -> str:
    body = base64.b64encode(bytes.fromhex(rand.hex(salt, 256))).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"


def _tls_private_key(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    algorithm = str(inputs.get("algorithm", "RSA")).upper()
    key_kind = {"RSA": "RSA PRIVATE KEY", "ECDSA": "EC PRIVATE KEY"}.get(algorithm, "PRIVATE KEY")
    ssh_kind = {"RSA": "ssh-rsa", "ECDSA": "ecdsa-sha2-nistp256", "ED25519": "ssh-ed25519"}.get(algorithm, "ssh-rsa")
    fingerprint = ":".join(rand.hex("md5", 32)[i:i + 2] for i in range(0, 32, 2))
    outputs = {
        **inputs,
        "algorithm": algorithm,
        "privateKeyPem": _pem(key_kind, rand, "private"),
        "privateKeyPemPkcs8": _pem("PRIVATE KEY", rand, "private"),
        "privateKeyOpenssh": _pem("OPENSSH PRIVATE KEY", rand, "private"),
        "publicKeyPem": _pem("PUBLIC KEY", rand, "public"),
        "publicKeyOpenssh": f"{ssh_kind} {base64.b64encode(bytes.fromhex(rand.hex('ssh', 128))).decode()}\n",
        "publicKeyFingerprintMd5": fingerprint,
        "publicKeyFingerprintSha256": "SHA256:" + base64.b64encode(bytes.fromhex(rand.hex("sha", 64))).decode().rstrip("="),
    }
    return rand.hex("id", 40), outputs


def _tls_cert(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    serial = str(rand.number("serial", 10**20, 10**21))
    return serial, {**inputs, "certPem": _pem("CERTIFICATE", rand, "cert"),
                    "validityStartTime": _ISO_TIME, "validityEndTime": "2025-01-01T00:00:00Z",
                    "readyForRenewal": False}


def _tls_cert_request(rand: _Rand, name: str, inputs: dict) -> tuple[str, dict]:
    return rand.hex("id", 40), {**inputs, "certRequestPem": _pem("CERTIFICATE REQUEST", rand, "csr")}


_FOREIGN: dict[str, Callable[[_Rand, str, dict], tuple[str, dict]]] = {
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomString:RandomString": _random_str,
    "random:index/randomId:RandomId": _random_id,
    "random:index/randomPet:RandomPet": _random_pet,
    "random:index/randomUuid:RandomUuid": _random_uuid,
    "random:index/randomInteger:RandomInteger": _random_integer,
    "random:index/randomShuffle:RandomShuffle": _random_shuffle,
    "tls:index/privateKey:PrivateKey": _tls_private_key,
    "tls:index/selfSignedCert:SelfSignedCert": _tls_cert,
    "tls:index/locallySignedCert:LocallySignedCert": _tls_cert,
    "tls:index/certRequest:CertRequest": _tls_cert_request,
}
