"""Rules of the containers concern (task definitions, Fargate services) — the Extended table's
container-platform hardening. The ECR repository rules (concern "registry") are in registry.py.

Task definitions: `containerDefinitions` is a JSON string on the wire; rules read it once through
`resource.container_definitions`, with the ECS API's camelCase container keys (`privileged`,
`readonlyRootFilesystem`, `user`, `logConfiguration`). When it is not known (preview: it usually
embeds other resources' outputs, such as the image URL or secret ARNs), or is not valid JSON / not
a list of objects, the task-* rules report not-applicable with the reason: they decide at `pulumi up`,
when Analyze sees the resolved string, and the provider itself rejects invalid JSON. A field that is itself unknown
counts as compliant. Containers are named in messages by their `name` unless the whole
`containerDefinitions` is secret (then by index); values are never echoed.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Iterable, Iterator, Optional, Tuple, Union

from .. import props as P
from ..rule import Context, NotApplicable, Rule, Violation, fsbp, pci
from .value_check import ValueCheck

CONCERN = "containers"  # the concern of every rule here (Rule reads it)


# --- task definitions ----------------------------------------------------------------------
def containers(resource: P.ResourceView) -> Iterator[Tuple[int, str, Mapping]]:
    """(index, label, container) of a known containerDefinitions; nothing when it is missing.
    Unknown (preview) or not a JSON list of objects: the rule cannot decide, and says so
    (not-applicable with the reason) rather than passing silently."""
    defs = resource.container_definitions
    if defs.state == "unknown":
        raise NotApplicable("containerDefinitions is not known yet (it embeds other resources' outputs); "
                             "the rule decides at `pulumi up`")
    if defs.state == "invalid":
        raise NotApplicable("containerDefinitions is not a JSON list of container definitions (the provider "
                             "rejects it)")
    if not defs.known:
        return
    hide = resource.is_secret(("containerDefinitions",))
    for index, container in enumerate(defs.containers):
        name = container.get("name")
        label = f"'{name}'" if isinstance(name, str) and name and not P.is_unknown(name) and not hide \
            else f"#{index}"
        yield index, label, container


def _where(resource: P.ResourceView, label: str) -> str:
    return f"Task definition '{resource.name}', container {label}"


class ContainerValueCheck(Rule):
    """A task-definition rule about one key of every container (the container-level counterpart of
    `ValueCheck`): a subclass names the key and says what is wrong with a value.

    - `container_key`: the ECS API's camelCase key (`privileged`, `user`...);
    - `read`: how the value is read (`P.as_bool`, `P.as_dict`...), giving the value or
      `P.MISSING` / `P.INVALID`; an unknown value complies (decided at `pulumi up`);
    - `problem(value, where)`: None when the value complies, else the message (`where` names the
      task definition and container), or (message, deeper path) to point below the key;
    - `judged(resource, ctx)`: whether the task definition is judged at all.
    """

    resource_types = P.TASK_DEFINITION
    container_key: str = ""

    @staticmethod
    def read(value: Any) -> Any:
        return value

    def judged(self, resource: P.ResourceView, ctx: Context) -> bool:
        return True

    def problem(self, value: Any, where: str) -> Union[None, str, Tuple[str, str]]:
        raise NotImplementedError

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        if not self.judged(resource, ctx):
            return
        for index, label, container in containers(resource):
            value = self.read(P.lookup(container, self.container_key))
            if value is P.UNKNOWN:
                continue
            found = self.problem(value, _where(resource, label))
            if found:
                message, deeper = (found, "") if isinstance(found, str) else found
                yield Violation(message, path=f"containerDefinitions[{index}].{self.container_key}{deeper}")


class TaskNonPrivileged(ContainerValueCheck, policy="task-non-privileged", level="mandatory", severity="high",
                        frameworks=(pci("2.2.6", "7.2.1"), fsbp("ECS.4"))):
    """ECS task definition containers must not run privileged.

    Remediation:
        Remove `"privileged": true` from the container definitions passed as `container_definitions` (or set it
        to false); grant specific Linux capabilities through `linuxParameters.capabilities.add` only where
        needed (Fargate supports none but SYS_PTRACE).

    Compliant example:
        aws.ecs.TaskDefinition("app", family="app", requires_compatibilities=["FARGATE"],
            container_definitions=json.dumps([{"name": "app", "image": image, "privileged": False}]), ...)
    """
    container_key = "privileged"
    read = staticmethod(P.as_bool)

    def problem(self, value: Any, where: str) -> Optional[str]:
        if value is True:
            return f"{where} is privileged (`privileged: true`): remove it from `container_definitions`."
        return None


class TaskReadonlyRootFilesystem(ContainerValueCheck, policy="task-readonly-root-filesystem", level="advisory",
                                 severity="medium", frameworks=(pci("2.2.6"), fsbp("ECS.5"))):
    """ECS task definition containers must mount their root filesystem read-only.

    Remediation:
        Set `"readonlyRootFilesystem": true` on every container in `container_definitions`; give paths the
        application must write a volume (`volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=...)]` plus the
        container's `mountPoints`).

    Compliant example:
        container_definitions=json.dumps([{"name": "app", "image": image, "readonlyRootFilesystem": True,
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp"}]}])
    """
    container_key = "readonlyRootFilesystem"
    read = staticmethod(P.as_bool)

    def problem(self, value: Any, where: str) -> Optional[str]:
        if value is True:
            return None
        state = "is false" if value is False else ("is not a boolean" if value is P.INVALID
                                                   else "is not set (defaults to false)")
        return f"{where}: `readonlyRootFilesystem` {state}: set it to true in `container_definitions`."


class TaskLoggingConfigured(ContainerValueCheck, policy="task-logging-configured", level="mandatory",
                            severity="high", frameworks=(pci("10.2.1"), fsbp("ECS.9"))):
    """ECS task definition containers must have a logging configuration.

    Remediation:
        Give every container in `container_definitions` a `logConfiguration` with a `logDriver`, e.g.
        `{"logDriver": "awslogs", "options": {"awslogs-group": log_group.name, "awslogs-region": region,
        "awslogs-stream-prefix": "app"}}` (the log group KMS-encrypted with a retention period).

    Compliant example:
        container_definitions=pulumi.Output.json_dumps([{"name": "app", "image": image,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": log_group.name,
                "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}}}])
    """
    container_key = "logConfiguration"
    read = staticmethod(P.as_dict)

    def problem(self, value: Any, where: str) -> Union[None, str, Tuple[str, str]]:
        if not isinstance(value, Mapping):
            what = "has no `logConfiguration`" if value is P.MISSING else "has a `logConfiguration` that is not an object"
            return (f"{where} {what}: its output is lost; add a `logConfiguration` (e.g. the awslogs driver) in "
                    "`container_definitions`.")
        driver = P.as_str(P.lookup(value, "logDriver"))
        if driver is P.UNKNOWN or (isinstance(driver, str) and driver.strip()):
            return None
        return (f"{where}: `logConfiguration` has no `logDriver`: set one (e.g. \"awslogs\") in "
                "`container_definitions`.", ".logDriver")


_ROOT_NAMES = ("root",)


def _is_root(user: Any) -> bool:
    """`root`, `0`, `0:0`, `root:root`, `0:1000`... — the user part (before ':') names uid 0."""
    if isinstance(user, bool):
        return False
    if isinstance(user, (int, float)):
        return user == 0
    name = user.split(":", 1)[0].strip()
    # no int(): it rejects long digit strings and accepts Unicode digits ("²")
    return name.lower() in _ROOT_NAMES or (name.isascii() and name.isdigit() and name.strip("0") == "")


class TaskNonRootUser(ContainerValueCheck, policy="task-non-root-user", level="advisory", severity="medium",
                      frameworks=(pci("2.2.6", "7.2.1"), fsbp("ECS.20"))):
    """ECS task definition containers must run as a non-root user.

    Remediation:
        Set `"user"` on every container in `container_definitions` to a non-root user or uid (e.g. "1000:1000"),
        and build the image so it runs as that user. Windows task definitions
        (`runtime_platform.operating_system_family` WINDOWS_*) are not checked.

    Compliant example:
        container_definitions=json.dumps([{"name": "app", "image": image, "user": "1000:1000"}])
    """
    container_key = "user"

    def judged(self, resource: P.ResourceView, ctx: Context) -> bool:
        family = P.as_str(P.lookup(P.as_dict(resource.get("runtimePlatform")), "operatingSystemFamily"))
        # ECS.20 covers Linux containers; `user` does not apply to Windows ones
        return not (isinstance(family, str) and family.strip().upper().startswith("WINDOWS"))

    def problem(self, value: Any, where: str) -> Optional[str]:
        if value is P.MISSING or (isinstance(value, str) and not value.strip()):
            return (f"{where} sets no `user`: it runs as the image's default user, root for most images; set a "
                    "non-root `user` (e.g. \"1000:1000\").")
        if isinstance(value, (str, int, float)) and _is_root(value):
            return f"{where} runs as root (`user` names uid 0): set a non-root `user` (e.g. \"1000:1000\")."
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            return f"{where}: `user` is not a string: set a non-root `user` (e.g. \"1000:1000\")."
        return None


# --- Fargate services ----------------------------------------------------------------------
_VERSION = re.compile(r"^\s*v?([0-9]{1,9})(?:\.([0-9]{1,9}))?(?:\.([0-9]{1,9}))?\s*$")  # ASCII, bounded
DEFAULT_MIN_PLATFORM = "1.4.0"


def parse_version(text: Any) -> Optional[Tuple[int, int, int]]:
    if not isinstance(text, str):
        return None
    match = _VERSION.match(text)
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())  # type: ignore[return-value]


class FargatePlatformVersion(ValueCheck, policy="fargate-platform-version", level="advisory", severity="medium",
                             frameworks=(pci("6.3.3"), fsbp("ECS.10")), types=P.SERVICE):
    """Fargate services must run on LATEST or a pinned, current platform version.

    Remediation:
        Leave `platform_version` unset (LATEST) or set it to "LATEST" or a version at least the configured
        minimum (default 1.4.0).

    Compliant example:
        aws.ecs.Service("app", launch_type="FARGATE", platform_version="LATEST", ...)
    """
    config_properties = {
        "minimumPlatformVersion": {
            "type": "string", "default": DEFAULT_MIN_PLATFORM,
            "description": "The oldest acceptable pinned Fargate platform version (LATEST and an absent "
                           "platformVersion, which means LATEST, always pass).",
        },
    }

    @staticmethod
    def _is_fargate(resource: P.ResourceView) -> bool:
        launch = P.as_str(resource.get("launchType"))
        if isinstance(launch, str) and launch.strip():
            return launch.strip().upper() == "FARGATE"
        strategies = P.dicts(resource.get("capacityProviderStrategies"))
        providers = [P.as_str(s.get("capacityProvider")) for s in strategies]
        if providers and all(isinstance(p, str) for p in providers):
            return any(p.strip().upper() in ("FARGATE", "FARGATE_SPOT") for p in providers)
        return True  # undecidable: the check below fires only on a known, pinned, old version

    property_path = ("platformVersion",)

    def judged(self, resource: P.ResourceView, ctx: Context) -> bool:
        return self._is_fargate(resource)

    def problem(self, version, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        if version is P.MISSING or (isinstance(version, str) and (not version.strip()
                                                                  or version.strip().upper() == "LATEST")):
            return None
        minimum_text = ctx.config.get("minimumPlatformVersion")
        minimum = parse_version(minimum_text) or parse_version(DEFAULT_MIN_PLATFORM)
        minimum_shown = ".".join(str(n) for n in minimum)
        parsed = parse_version(version)
        shown = "" if resource.is_secret(("platformVersion",)) or not isinstance(version, str) else f" {version.strip()!r}"
        if parsed is None:
            return (f"Service '{resource.name}': `platformVersion`{shown} is not a Fargate platform version: "
                    f"set `platform_version` to \"LATEST\" or at least {minimum_shown}.")
        if parsed < minimum:
            return (f"Service '{resource.name}' is pinned to Fargate platform version{shown}, older than "
                    f"{minimum_shown}: set `platform_version` to \"LATEST\" or at least {minimum_shown}.")
        return None


RULES = [TaskNonPrivileged, TaskReadonlyRootFilesystem, TaskLoggingConfigured, TaskNonRootUser,
         FargatePlatformVersion]
