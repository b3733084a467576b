"""The one place that reads resource properties safely.

Policies see properties in the engine's wire form: camelCase keys, numbers as floats,
unknowns (values not known at preview) as sentinel strings, secrets as signature objects
(which pulumi-policy unwraps before a policy runs). Every rule reads through this module so
that none of them ever raises on a missing key, a wrong type, an unknown or invalid JSON:
a rule that raises fails the user's whole preview.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping  # not typing.Mapping: isinstance through typing is several times slower
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

# The engine's wire constants: the SDK's unknown sentinels by kind (pulumi_policy.proxy) and the
# signature objects' key and values. The one copy in the package (the offline check's wire.py,
# recording.py, monitor.py and state.py read them here); literals, so that this module stays
# importable without the SDK and cheap at start-up.
UNKNOWN_BY_KIND = {
    "boolean": "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "number": "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "string": "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "array": "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "asset": "030794c1-ac77-496b-92df-f27374a8bd58",
    "archive": "e48ece36-62e2-4504-bad9-02848725956a",
    "object": "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
}
UNKNOWN_SENTINELS = frozenset(UNKNOWN_BY_KIND.values())
UNKNOWN_STRING = UNKNOWN_BY_KIND["string"]
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


class _Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __bool__(self) -> bool:
        return False


#: Returned by readers for a value that is not known yet (preview). Falsy, so `if value:` on it
#: is False; rules that treat "unknown" as "set" must test `is UNKNOWN` explicitly.
UNKNOWN = _Marker("UNKNOWN")
#: Returned by readers for an absent key or null value.
MISSING = _Marker("MISSING")
#: Returned by typed readers when the value is present but of the wrong type or malformed.
INVALID = _Marker("INVALID")


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in UNKNOWN_SENTINELS)


def is_asset(value: Any) -> bool:
    """An asset or archive (Lambda code, bucket object source): its text is never scanned."""
    return isinstance(value, Mapping) and value.get(SIG_KEY) in (ASSET_SIG, ARCHIVE_SIG)


def lookup(obj: Any, *path: Any) -> Any:
    """Follow `path` (keys and list indices) through plain values.

    Returns UNKNOWN when a step (or the value) is unknown, MISSING when absent or null, INVALID
    when a step meets a value of the wrong shape.
    """
    current = obj
    for step in path:
        if is_unknown(current):
            return UNKNOWN
        if current is None or current is MISSING:
            return MISSING
        if isinstance(step, int) and not isinstance(step, bool):
            if not isinstance(current, list):
                return INVALID
            if step >= len(current) or step < -len(current):
                return MISSING
            current = current[step]
        else:
            if not isinstance(current, Mapping):
                return INVALID
            if step not in current:
                return MISSING
            current = current[step]
    if is_unknown(current):
        return UNKNOWN
    if current is None:
        return MISSING
    return current


def _typed_reader(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The one opening of every typed reader: a marker passes through, null reads as MISSING and an
    unknown sentinel as UNKNOWN; any other value is `convert`ed (to the type, or INVALID)."""
    @functools.wraps(convert)
    def read(value: Any) -> Any:
        if value is None:
            return MISSING
        if value is UNKNOWN or value is MISSING or value is INVALID:
            return value
        if isinstance(value, str) and value in UNKNOWN_SENTINELS:
            return UNKNOWN
        return convert(value)
    return read


@_typed_reader
def as_bool(value: Any) -> Any:
    """True/False, or UNKNOWN/MISSING/INVALID. Accepts the strings "true"/"false" (config values)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return INVALID


@_typed_reader
def as_number(value: Any) -> Any:
    """A float, or UNKNOWN/MISSING/INVALID. Numbers arrive as floats; numeric strings are accepted."""
    if isinstance(value, bool):
        return INVALID
    if isinstance(value, (int, float)):
        number = float(value)
        return number if number == number and abs(number) != float("inf") else INVALID
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return INVALID
        return number if number == number and abs(number) != float("inf") else INVALID
    return INVALID


@_typed_reader
def as_str(value: Any) -> Any:
    return value if isinstance(value, str) else INVALID


@_typed_reader
def as_list(value: Any) -> Any:
    """A list (a lone mapping counts as a one-element list: pulumi-aws flattens max-1 blocks)."""
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    return INVALID


@_typed_reader
def as_dict(value: Any) -> Any:
    """A mapping; a one-element list of a mapping is unwrapped (max-1 blocks in either shape)."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
        return value[0]
    if isinstance(value, list) and not value:
        return MISSING
    return INVALID


def block(obj: Any, *path: Any) -> Any:
    """The max-1 block at `path` (each step an object or a one-element list of one), or the marker
    met on the way: UNKNOWN, MISSING or INVALID."""
    value = obj
    for step in path:
        value = as_dict(lookup(value, step))
        if not isinstance(value, Mapping):
            break
    return value


def dicts(value: Any) -> List[Mapping]:
    """The mappings of a list-valued property, skipping anything else (unknown/invalid -> [])."""
    items = as_list(value)
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, Mapping)]


def indexed_dicts(value: Any) -> List[Tuple[int, Mapping]]:
    """Like `dicts`, each mapping with its position in the list (for its property path)."""
    items = as_list(value)
    if not isinstance(items, list):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, Mapping)]


def strings(value: Any) -> List[str]:
    """The known strings of a string or list-of-strings property."""
    if isinstance(value, str):
        return [] if is_unknown(value) else [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and not is_unknown(v)]
    return []


@_typed_reader
def parse_json(value: Any) -> Any:
    """Parse a JSON-string property (IAM documents, containerDefinitions, secret strings).

    Already-structured values are returned as they are; unknown stays UNKNOWN; text that is not
    JSON is INVALID.
    """
    if isinstance(value, (dict, list)):
        return value
    if not isinstance(value, str):
        return INVALID
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return INVALID


def walk_strings(value: Any, path: Tuple = (), _depth: int = 0) -> Iterator[Tuple[Tuple, str]]:
    """Every known string leaf with its path (depth-bounded: deep garbage cannot exhaust the stack)."""
    if _depth > 64:
        return
    if isinstance(value, str):
        if value not in UNKNOWN_SENTINELS:
            yield path, value
    elif isinstance(value, Mapping):
        if is_asset(value):
            return
        for key, item in value.items():
            yield from walk_strings(item, path + (key,), _depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, path + (index,), _depth + 1)


def forward_target_refs(actions: Any) -> List[Any]:
    """The target groups a listener's `defaultActions` or a listener rule's `actions` forward to:
    each a known ARN string or UNKNOWN (an action, its type, its forward block or a group not known
    yet). Both `targetGroupArn` and `forward.targetGroups[].arn` count; other action types do not."""
    items = as_list(actions)
    if items is UNKNOWN:
        return [UNKNOWN]
    refs: List[Any] = []
    for action in items if isinstance(items, list) else ():
        if is_unknown(action):
            refs.append(UNKNOWN)
            continue
        if not isinstance(action, Mapping):
            continue
        kind = as_str(action.get("type"))
        if isinstance(kind, str) and kind.strip().lower() != "forward":
            continue
        single = as_str(action.get("targetGroupArn"))
        if single is UNKNOWN or (isinstance(single, str) and single):
            refs.append(single)
        forward = as_dict(action.get("forward"))
        if forward is UNKNOWN:
            refs.append(UNKNOWN)
            continue
        if not isinstance(forward, Mapping):
            continue
        groups = as_list(forward.get("targetGroups"))
        if groups is UNKNOWN:
            refs.append(UNKNOWN)
            continue
        for group in groups if isinstance(groups, list) else ():
            arn = UNKNOWN if is_unknown(group) else as_str(lookup(group, "arn"))
            if arn is UNKNOWN or (isinstance(arn, str) and arn):
                refs.append(arn)
    return refs


def format_path(path: Iterable[Any]) -> str:
    """`("loadBalancers", 0, "targetGroupArn")` -> `loadBalancers[0].targetGroupArn`."""
    text = ""
    for step in path:
        if isinstance(step, int) and not isinstance(step, bool):
            text += f"[{step}]"
        else:
            text += ("." if text else "") + str(step)
    return text


class ContainerDefinitions:
    """The parsed `containerDefinitions` of a task definition (a JSON string on the wire).

    `state` is "ok", "unknown" (not known at preview, or a container is partly unknown),
    "missing" or "invalid" (not JSON, or not a list of objects).
    """
    __slots__ = ("state", "containers")

    def __init__(self, raw: Any) -> None:
        parsed = parse_json(raw)
        self.containers: List[Mapping] = []
        if parsed is UNKNOWN:
            self.state = "unknown"
        elif parsed is MISSING:
            self.state = "missing"
        elif isinstance(parsed, list) and all(isinstance(c, Mapping) for c in parsed):
            self.containers = parsed
            self.state = "ok"
        else:
            self.state = "invalid"

    @property
    def known(self) -> bool:
        return self.state == "ok"


class ResourceView:
    """One resource as the rules see it: plain values, wire names, with its links.

    Built once per resource per call (the pack's servicer decodes a request once and shares the
    view between all policies), so expensive derived values are cached on it.
    """
    __slots__ = ("type", "name", "urn", "props", "secret_paths", "parent", "dependencies",
                 "property_dependencies", "provider_type", "provider_props", "provider_urn",
                 "_container_definitions", "id")

    def __init__(self, type_: str, name: str, urn: str, props: Mapping,
                 secret_paths: Optional[Set[Tuple]] = None, parent: str = "",
                 dependencies: Sequence[str] = (), property_dependencies: Optional[Mapping[str, Sequence[str]]] = None,
                 provider_type: str = "", provider_props: Optional[Mapping] = None, provider_urn: str = "") -> None:
        self.type = type_
        self.name = name
        self.urn = urn
        self.props = props if isinstance(props, Mapping) else {}
        self.secret_paths = secret_paths if secret_paths is not None else set()
        self.parent = parent
        self.dependencies = list(dependencies)
        self.property_dependencies = dict(property_dependencies or {})
        self.provider_type = provider_type
        self.provider_props = provider_props if isinstance(provider_props, Mapping) else {}
        self.provider_urn = provider_urn
        self._container_definitions: Optional[ContainerDefinitions] = None
        self.id = self.props.get("id") if isinstance(self.props.get("id"), str) else ""

    def get(self, *path: Any) -> Any:
        return lookup(self.props, *path)

    def is_secret(self, path: Sequence[Any]) -> bool:
        """Whether the value at `path` (or any prefix of it) was a secret on the wire."""
        if not self.secret_paths:
            return False
        path = tuple(path)
        return any(path[:len(secret)] == secret or secret[:len(path)] == path for secret in self.secret_paths)

    def show(self, path: Sequence[Any], value: Any, hidden: str = "(value not shown)") -> str:
        """`value` quoted and shortened for a message, or `hidden` when it was a secret on the wire
        (or is not text). The one way rules put a property's value into a message."""
        if self.is_secret(path) or not isinstance(value, str):
            return hidden
        return repr(value if len(value) <= 120 else value[:117] + "...")

    @property
    def container_definitions(self) -> ContainerDefinitions:
        if self._container_definitions is None:
            self._container_definitions = ContainerDefinitions(self.props.get("containerDefinitions"))
        return self._container_definitions

    def depends_on_resources(self, prop: str) -> List[str]:
        """URNs this resource's top-level property `prop` depends on (its propertyDependencies)."""
        urns = self.property_dependencies.get(prop)
        return list(urns) if urns else []

    def __repr__(self) -> str:
        return f"ResourceView({self.type}, {self.name})"


def cluster_name(value: str) -> str:
    """`arn:aws:ecs:region:account:cluster/NAME` -> NAME; a plain name stays itself."""
    if value.startswith("arn:") and ":cluster/" in value:
        return value.rsplit(":cluster/", 1)[1]
    return value


def lb_aliases(*tokens: str) -> Tuple[str, ...]:
    """Every `aws:lb/...` token with its `aws:alb/...` alias (pulumi-aws keeps both)."""
    result: List[str] = []
    for token in tokens:
        result.append(token)
        if token.startswith("aws:lb/"):
            result.append("aws:alb/" + token[len("aws:lb/"):])
        elif token.startswith("aws:alb/"):
            result.append("aws:lb/" + token[len("aws:alb/"):])
    return tuple(dict.fromkeys(result))


LB = lb_aliases("aws:lb/loadBalancer:LoadBalancer")
LISTENER = lb_aliases("aws:lb/listener:Listener")
LISTENER_RULE = lb_aliases("aws:lb/listenerRule:ListenerRule")
TARGET_GROUP = lb_aliases("aws:lb/targetGroup:TargetGroup")
SERVICE = ("aws:ecs/service:Service",)
CLUSTER = ("aws:ecs/cluster:Cluster",)
CLUSTER_CAPACITY_PROVIDERS = ("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",)
TASK_DEFINITION = ("aws:ecs/taskDefinition:TaskDefinition",)
REPOSITORY = ("aws:ecr/repository:Repository",)
LOG_GROUP = ("aws:cloudwatch/logGroup:LogGroup",)
KMS_KEY = ("aws:kms/key:Key",)
SECRET = ("aws:secretsmanager/secret:Secret",)
SECRET_VERSION = ("aws:secretsmanager/secretVersion:SecretVersion",)
SECRET_ROTATION = ("aws:secretsmanager/secretRotation:SecretRotation",)
VPC_ENDPOINT = ("aws:ec2/vpcEndpoint:VpcEndpoint",)
DEPLOYMENT_GROUP = ("aws:codedeploy/deploymentGroup:DeploymentGroup",)
CODEDEPLOY_APP = ("aws:codedeploy/application:Application",)
SSM_PARAMETER = ("aws:ssm/parameter:Parameter",)
VPC = ("aws:ec2/vpc:Vpc",)
FLOW_LOG = ("aws:ec2/flowLog:FlowLog",)
ECR_LIFECYCLE_POLICY = ("aws:ecr/lifecyclePolicy:LifecyclePolicy",)
