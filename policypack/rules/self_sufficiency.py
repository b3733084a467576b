"""Rules of the self-sufficiency concern: a stack deploys on its own, into its own environment.

no-external-infrastructure-ids (seeds 1, 2)
    The seed read the VPC, subnets, security groups, ALB and listener of a "legacy" stack through
    a StackReference. A pack never sees a StackReference (a read, not a registered resource), only
    what it leaves behind: known literal IDs and exact ARNs in reference-valued properties (names
    ending in Id/Ids/Arn/Arns, subnets, securityGroups, cluster, loadBalancers, nested ones too)
    that did not come from a resource of this stack. Only input properties are judged (the
    type's inputs in the installed pulumi-aws, shipped as `data/input_properties.json`): what the
    provider computes (an instance's `outpostArn`, a node group's `resources`) is not a reference
    the program made; a type the table does not know has all its properties judged. Property
    dependencies are per top-level property, so in a property that depends on stack resources a
    value passes when it appears among those resources' outputs (a StackReference subnet next to a
    stack security group in `networkConfiguration` is still reported; `checkDependentProperties:
    false` restores whole-property passing). Passes: values
    equal to a stack resource's id/ARN/URN or to infrastructure AWS creates with it (a stack VPC's
    default security group and main route table, an endpoint's ENIs); a resource's own outputs
    and outputs AWS derives from its other inputs (an ALB's vpcId); policy documents (`policy`,
    `assumeRolePolicy`, `*Policy`, anything with a `Statement`); AWS-owned ARNs (account `aws`,
    service-linked roles, `alias/aws/*` keys, `/aws/` public parameters); wildcard ARNs; the
    AWS-managed KMS keys AWS fills into RDS/EBS/EFS when no key is given; provider settings. The
    message's suggested fix follows the kind of reference and the property (`kms_key_id=key.arn`).
    Certificates (ACM, ACM PCA, IAM server certificates) pass by default: a payment platform's
    TLS certificates are commonly issued or imported by a key custodian outside application stacks
    (PCI DSS 3.6/4.2.1 key management) — `allowCertificateArns: false` makes them findings.

no-cross-environment-references (seed 4)
    The seed's dev deployment defaulted to the `production` legacy stack. Names (logical and
    physical), tag values and every known string input (recursively; JSON documents by their
    values, never their keys) must not name another environment than the stack's, by whole
    tokens; a token after "non"/"pre"/"not" names none ("non-prod"). Skipped: property names,
    secret values, unknowns, the ids/ARNs/URNs and names of this stack's own resources (a
    misnamed resource is reported once, where it is defined), the stack's and project's own
    names inside strings, free-text properties (`*description`), and build-mode variables such as
    NODE_ENV=production. The `environment`/`env` tag must name the stack's environment.
    The stack's environment: `stackEnvironments` config, else its name's tokens, else a pulumi
    stack tag `environment`, else the one environment all resources' `environment` tags (and
    provider default tags) agree on. Resources tagged with several environments are reported as
    a mixed stack; with no clue at all the rule is not applicable (it says so and how to map the
    stack) rather than guessing. `stage` alone names no environment (API Gateway, CodePipeline and
    Serverless stages); names of AWS-owned resources that carry AWS's own environment token (ECR's
    layer bucket `prod-<region>-starport-layer-bucket`) pass (`awsOwnedNames`).
"""
from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Mapping
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from .. import props as P
from ..data_files import Lazy
from ..environments import ENVIRONMENT_CONFIG, alias_index, environments_named, stack_environment
from ..rule import Context, StackRule, StackView, Violation, cfg_bool, cfg_list, pci, string_list
from ..rule import NotApplicable
from .stack_references import foreign_stack_references

CONCERN = "self-sufficiency"  # the concern of every rule here (Rule reads it)

_MAX_LISTED = 6  # paths listed in one message before "and N more"


def _compile_patterns(patterns: Iterable[Any]) -> List["re.Pattern[str]"]:
    """Regular expressions from config; invalid ones are skipped (a config typo must not fail the
    user's preview: the CLI validated the types, not the regex syntax)."""
    compiled = []
    for pattern in patterns:
        if isinstance(pattern, str) and pattern:
            try:
                compiled.append(re.compile(pattern))
            except (re.error, RecursionError, OverflowError):
                continue
    return compiled


def _allowed(value: str, patterns: Sequence["re.Pattern[str]"]) -> bool:
    return any(p.search(value) for p in patterns)


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        shown += f" and {len(items) - _MAX_LISTED} more"
    return shown


def _stack_dependencies(stack: StackView, resource: P.ResourceView, prop: str) -> List[str]:
    """URNs of resources of this stack that the top-level property `prop` depends on (pulumi-policy
    drops dependencies it cannot resolve; our servicer keeps them, so filter here)."""
    return [urn for urn in resource.depends_on_resources(prop) if urn in stack.by_urn and urn != resource.urn]


# =============================================================================================
# no-external-infrastructure-ids
# =============================================================================================

DEFAULT_ID_PREFIXES = ["vpc", "subnet", "sg", "rtb", "igw", "nat", "eni", "vpce", "acl", "eigw",
                       "pcx", "eipalloc", "fs", "fsap"]
DEFAULT_ARN_SERVICES = ["elasticloadbalancing", "ecs", "kms", "secretsmanager", "logs", "ecr", "rds",
                        "ec2", "iam", "acm", "acm-pca", "ssm", "sns", "sqs", "dynamodb", "lambda", "s3",
                        "elasticfilesystem", "servicediscovery", "elasticache", "codedeploy", "wafv2",
                        "events", "states", "kinesis", "firehose", "route53"]

#: Property names (besides the *Id/*Ids/*Arn/*Arns suffixes) that hold references to infrastructure.
_REFERENCE_NAMES = frozenset(("subnets", "securityGroups", "cluster", "loadBalancers", "vpcZoneIdentifiers"))
_REFERENCE_SUFFIXES = ("Id", "Ids", "Arn", "Arns")

#: Outputs that AWS computes from another input of the same resource, or that name infrastructure
#: AWS creates along with the resource (a VPC's default security group, an endpoint's ENIs...).
#: They are never user literals: a wrong value shows in the input they derive from. Dotted paths,
#: list indices left out.
_COMPUTED_REFERENCES: Dict[str, frozenset] = {
    "aws:ec2/vpc:Vpc": frozenset(("defaultSecurityGroupId", "defaultRouteTableId", "mainRouteTableId",
                                  "defaultNetworkAclId", "dhcpOptionsId", "ipv6AssociationId")),
    "aws:ec2/defaultVpc:DefaultVpc": frozenset(("defaultSecurityGroupId", "defaultRouteTableId",
                                                "mainRouteTableId", "defaultNetworkAclId", "dhcpOptionsId")),
    "aws:ec2/vpcEndpoint:VpcEndpoint": frozenset(("networkInterfaceIds", "prefixListId")),
    "aws:ec2/natGateway:NatGateway": frozenset(("networkInterfaceId", "associationId", "routeTableId",
                                                "regionalNatGatewayAddresses.networkInterfaceId",
                                                "regionalNatGatewayAddresses.allocationId",
                                                "regionalNatGatewayAddresses.associationId")),
    "aws:ec2/instance:Instance": frozenset(("primaryNetworkInterfaceId",)),
    "aws:efs/mountTarget:MountTarget": frozenset(("networkInterfaceId", "fileSystemArn")),
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation": frozenset(("originalRouteTableId",)),
    "aws:lb/loadBalancer:LoadBalancer": frozenset(("vpcId",)),
    "aws:alb/loadBalancer:LoadBalancer": frozenset(("vpcId",)),
    "aws:lb/targetGroup:TargetGroup": frozenset(("loadBalancerArns",)),
    "aws:alb/targetGroup:TargetGroup": frozenset(("loadBalancerArns",)),
    "aws:kms/alias:Alias": frozenset(("targetKeyArn",)),
    "aws:secretsmanager/secretVersion:SecretVersion": frozenset(("secretArn",)),
    "aws:rds/subnetGroup:SubnetGroup": frozenset(("vpcId",)),
    "aws:elasticache/subnetGroup:SubnetGroup": frozenset(("vpcId",)),
    "aws:rds/clusterInstance:ClusterInstance": frozenset(("kmsKeyId",)),
    "aws:lambda/function:Function": frozenset(("vpcConfig.vpcId",)),
    "aws:eks/cluster:Cluster": frozenset(("vpcConfig.vpcId", "vpcConfig.clusterSecurityGroupId")),
}
#: Inputs AWS fills in from another input when they are left out (a zonal NAT gateway's `vpcId`
#: is its subnet's VPC): (type, property) -> the input it then derives from.
_DERIVED_WHEN_SET = {
    ("aws:ec2/natGateway:NatGateway", "vpcId"): "subnetId",
}
#: Infrastructure AWS creates along with a stack resource: other resources may legitimately
#: reference it (an S3 gateway endpoint on `vpc.main_route_table_id`, an ALB on the VPC's default
#: security group).
_OWNED_OUTPUTS: Dict[str, Tuple[str, ...]] = {
    "aws:ec2/vpc:Vpc": ("defaultSecurityGroupId", "defaultRouteTableId", "mainRouteTableId",
                        "defaultNetworkAclId", "dhcpOptionsId"),
    "aws:ec2/defaultVpc:DefaultVpc": ("defaultSecurityGroupId", "defaultRouteTableId", "mainRouteTableId",
                                      "defaultNetworkAclId", "dhcpOptionsId"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("networkInterfaceIds", "prefixListId"),
    "aws:ec2/natGateway:NatGateway": ("networkInterfaceId", "routeTableId",
                                      "regionalNatGatewayAddresses.networkInterfaceId",
                                      "regionalNatGatewayAddresses.allocationId"),
    "aws:ec2/instance:Instance": ("primaryNetworkInterfaceId",),
    "aws:efs/mountTarget:MountTarget": ("networkInterfaceId",),
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation": ("originalRouteTableId",),
}
#: Inputs AWS fills in from the account's default VPC when the program leaves them out. AnalyzeStack
#: cannot tell them from a literal (the engine drops empty property dependencies), and the stack
#: does depend on a VPC it does not create; the message says how such a value arises.
_DEFAULT_VPC_FILLED = {
    "aws:ec2/securityGroup:SecurityGroup": frozenset(("vpcId",)),
    "aws:ec2/instance:Instance": frozenset(("subnetId", "vpcSecurityGroupIds")),
}
#: Encryption keys AWS fills in with the account's AWS-managed key (aws/rds, aws/ebs...) when the
#: program leaves them out: at `pulumi up` they read as a key ARN of the account.
_DEFAULTED_KMS = {
    "aws:rds/instance:Instance": frozenset(("kmsKeyId", "performanceInsightsKmsKeyId")),
    "aws:rds/cluster:Cluster": frozenset(("kmsKeyId", "performanceInsightsKmsKeyId")),
    "aws:rds/clusterInstance:ClusterInstance": frozenset(("performanceInsightsKmsKeyId",)),
    "aws:ebs/volume:Volume": frozenset(("kmsKeyId",)),
    "aws:efs/fileSystem:FileSystem": frozenset(("kmsKeyId",)),
    "aws:dynamodb/table:Table": frozenset(("serverSideEncryption.kmsKeyArn",)),
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset(("kmsKeyId",)),
    "aws:ec2/instance:Instance": frozenset(("rootBlockDevice.kmsKeyId", "ebsBlockDevices.kmsKeyId")),
}

_ID_LABELS = {"vpc": "VPC ID", "subnet": "subnet ID", "sg": "security group ID", "rtb": "route table ID",
              "igw": "internet gateway ID", "nat": "NAT gateway ID", "eni": "network interface ID",
              "vpce": "VPC endpoint ID", "acl": "network ACL ID", "eigw": "egress-only gateway ID",
              "pcx": "peering connection ID", "eipalloc": "Elastic IP allocation ID", "fs": "EFS file system ID",
              "fsap": "EFS access point ID", "tgw": "transit gateway ID"}
#: What to create in the stack, and the output to pass, per kind of reference: the fix the message
#: suggests follows the property (a KMS key for `kmsKeyId`, subnets for `subnets`).
_ID_FIXES = {
    "VPC ID": ("VPC", "aws.ec2.Vpc", "vpc.id"), "subnet ID": ("subnets", "aws.ec2.Subnet", "subnet.id"),
    "security group ID": ("security group", "aws.ec2.SecurityGroup", "sg.id"),
    "route table ID": ("route table", "aws.ec2.RouteTable", "route_table.id"),
    "internet gateway ID": ("internet gateway", "aws.ec2.InternetGateway", "igw.id"),
    "NAT gateway ID": ("NAT gateway", "aws.ec2.NatGateway", "nat.id"),
    "network interface ID": ("network interface", "aws.ec2.NetworkInterface", "eni.id"),
    "VPC endpoint ID": ("VPC endpoint", "aws.ec2.VpcEndpoint", "endpoint.id"),
    "network ACL ID": ("network ACL", "aws.ec2.NetworkAcl", "acl.id"),
    "egress-only gateway ID": ("egress-only gateway", "aws.ec2.EgressOnlyInternetGateway", "eigw.id"),
    "peering connection ID": ("peering connection", "aws.ec2.VpcPeeringConnection", "peering.id"),
    "Elastic IP allocation ID": ("Elastic IP", "aws.ec2.Eip", "eip.allocation_id"),
    "EFS file system ID": ("file system", "aws.efs.FileSystem", "fs.id"),
    "EFS access point ID": ("access point", "aws.efs.AccessPoint", "access_point.id"),
    "KMS key ID": ("KMS key", "aws.kms.Key", "key.arn"), "KMS alias": ("KMS key", "aws.kms.Key", "key.arn"),
    "certificate ARN": ("certificate", "aws.acm.Certificate", "certificate.arn"),
}
#: (service, ARN resource prefix) -> (what, class, output); prefix "" is the service's default.
_ARN_FIXES = {
    ("kms", ""): ("KMS key", "aws.kms.Key", "key.arn"),
    ("elasticloadbalancing", "targetgroup/"): ("target group", "aws.lb.TargetGroup", "target_group.arn"),
    ("elasticloadbalancing", "listener-rule/"): ("listener rule", "aws.lb.ListenerRule", "rule.arn"),
    ("elasticloadbalancing", "listener/"): ("listener", "aws.lb.Listener", "listener.arn"),
    ("elasticloadbalancing", ""): ("load balancer", "aws.lb.LoadBalancer", "alb.arn"),
    ("ecs", ""): ("cluster", "aws.ecs.Cluster", "cluster.arn"),
    ("ecs", "service/"): ("service", "aws.ecs.Service", "service.id"),
    ("ecs", "task-definition/"): ("task definition", "aws.ecs.TaskDefinition", "task_definition.arn"),
    ("iam", "role/"): ("IAM role", "aws.iam.Role", "role.arn"),
    ("iam", "policy/"): ("IAM policy", "aws.iam.Policy", "policy.arn"),
    ("iam", "instance-profile/"): ("instance profile", "aws.iam.InstanceProfile", "profile.arn"),
    ("secretsmanager", ""): ("secret", "aws.secretsmanager.Secret", "secret.arn"),
    ("logs", ""): ("log group", "aws.cloudwatch.LogGroup", "log_group.arn"),
    ("ecr", ""): ("repository", "aws.ecr.Repository", "repository.arn"),
    ("ssm", ""): ("parameter", "aws.ssm.Parameter", "parameter.arn"),
    ("sns", ""): ("topic", "aws.sns.Topic", "topic.arn"),
    ("sqs", ""): ("queue", "aws.sqs.Queue", "queue.arn"),
    ("lambda", ""): ("function", "aws.lambda_.Function", "function.arn"),
    ("s3", ""): ("bucket", "aws.s3.Bucket", "bucket.arn"),
    ("dynamodb", ""): ("table", "aws.dynamodb.Table", "table.arn"),
    ("servicediscovery", ""): ("service discovery service", "aws.servicediscovery.Service", "registry.arn"),
    ("wafv2", ""): ("web ACL", "aws.wafv2.WebAcl", "web_acl.arn"),
    ("rds", ""): ("database", "aws.rds.Instance", "db.arn"),
}


def _fix_hint(path: Tuple, text: str, kind: str) -> str:
    """The fix that fits the property and the kind of value found: what to create, and the
    argument to pass its output to (`kms_key_id=key.arn`, `subnets=[subnet.id ...]`)."""
    names = [step for step in path if isinstance(step, str)]
    leaf = names[-1] if names else ""
    fix = _ID_FIXES.get(kind)
    if fix is None:
        match = _ARN.fullmatch(text.strip())
        if match:
            service, resource = match.group(2), match.group(5)
            prefixes = [p for (s, p) in _ARN_FIXES if s == service and p and resource.startswith(p)]
            fix = _ARN_FIXES.get((service, prefixes[0] if prefixes else ""))
    what, cls, output = fix or ("resource", "the resource's class", "resource.arn")
    if leaf == "arn":  # forward.targetGroups[].arn: a nested block names it `arn`
        argument = "arn"
    else:
        argument = _snake(leaf) if leaf else "the argument"
    value = output
    if path and isinstance(path[-1], int):  # a list of references
        value = "[subnet.id for subnet in private_subnets]" if what == "subnets" else f"[{output}]"
    elif what == "subnets":
        what = "subnet"
    inside = f" inside `{_snake(names[0])}`" if len(names) > 1 else ""
    return f"create the {what} in this stack (`{cls}`) and pass its output: `{argument}={value}`{inside}"


_ARN = re.compile(r"arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}|aws|):(\S+)")
_UUID = re.compile(r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.I)
_PREFIX_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


@functools.lru_cache(maxsize=8192)  # property names repeat across every resource of a stack
def _is_reference_key(key: str) -> bool:
    return key.endswith(_REFERENCE_SUFFIXES) or key in _REFERENCE_NAMES


@functools.lru_cache(maxsize=8192)
def _is_policy_key(key: str) -> bool:
    """IAM and resource policy documents: their principals, resources and conditions name other
    accounts' and services' ARNs by design (and `aws:SourceArn` conditions end in Arn)."""
    return key == "policy" or key.endswith("Policy") or key.endswith("Policies") or key == "policyDocument"


def _is_policy_document(value: Mapping) -> bool:
    return "Statement" in value or "statement" in value


def _kms_key_name(key: str) -> bool:
    lowered = key.lower()
    return "kms" in lowered or key in ("keyId", "targetKeyId")


def _strings_at(value: Any, steps: Sequence[str]) -> List[str]:
    """Known strings at a dotted path, stepping through lists (`a.b` reads a[*].b)."""
    if isinstance(value, list):
        return [s for item in value for s in _strings_at(item, steps)]
    if not steps:
        return P.strings(value)
    if isinstance(value, dict):
        return _strings_at(value.get(steps[0]), steps[1:])
    return []


def _snake(name: str) -> str:
    """The pulumi-aws Python argument name of a wire property: `networkConfiguration` -> `network_configuration`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _dotted(path: Tuple) -> str:
    return ".".join(str(step) for step in path if isinstance(step, str))


def _reference_strings(value: Any, path: Tuple, key: str, inside: bool,
                       depth: int = 0) -> Iterator[Tuple[Tuple, str, str]]:
    """(path, string, nearest key) of every known string under a reference-named property.
    (Decoded properties are plain dicts: `isinstance(.., dict)` is several times cheaper than a
    typing.Mapping check on this hot path.)"""
    if depth > 32:
        return
    if isinstance(value, dict):
        if _is_policy_document(value):
            return
        for sub_key, item in value.items():
            if not isinstance(sub_key, str) or _is_policy_key(sub_key):
                continue
            # A nested `arn` (forward.targetGroups[].arn) names a resource as much as `targetGroupArn`.
            yield from _reference_strings(item, path + (sub_key,), sub_key,
                                          inside or _is_reference_key(sub_key) or sub_key == "arn", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _reference_strings(item, path + (index,), key, inside, depth + 1)
    elif inside and isinstance(value, str) and value and not P.is_unknown(value):
        yield path, value, key


class _Classifier:
    """Decides whether a string is a literal reference to account infrastructure."""

    def __init__(self, ctx: Context) -> None:
        prefixes = [p.lower() for p in cfg_list(ctx, "idPrefixes")
                    if isinstance(p, str) and _PREFIX_NAME.fullmatch(p.lower())]
        self.id_pattern = (re.compile(r"(?:%s)-[0-9a-f]{4,17}" % "|".join(re.escape(p) for p in prefixes), re.I)
                           if prefixes else None)
        self.services = {s.lower() for s in cfg_list(ctx, "arnServices") if isinstance(s, str)}
        self.allow_certificates = cfg_bool(ctx, "allowCertificateArns", True)

    def classify(self, value: str, key: str) -> Optional[str]:
        text = value.strip()
        if self.id_pattern is not None and self.id_pattern.fullmatch(text):
            prefix = text.split("-", 1)[0].lower()
            return _ID_LABELS.get(prefix, f"{prefix}- ID")
        match = _ARN.fullmatch(text)
        if match:
            return self._arn(match)
        if _kms_key_name(key):
            if _UUID.fullmatch(text):
                return "KMS key ID"
            if text.startswith("alias/") and not text.startswith("alias/aws/"):
                return "KMS alias"
        return None

    def _arn(self, match: "re.Match[str]") -> Optional[str]:
        _partition, service, _region, account, resource = match.groups()
        if account == "aws":
            return None  # AWS-managed: arn:aws:iam::aws:policy/...
        if any(c in resource for c in "*?") or "${" in resource:
            return None  # a pattern (policies, conditions), not one resource
        if service not in self.services:
            return None
        if service in ("acm", "acm-pca") or (service == "iam" and resource.startswith("server-certificate/")):
            return None if self.allow_certificates else "certificate ARN"
        if service == "iam" and resource.startswith("role/aws-service-role/"):
            return None  # service-linked roles are created by AWS itself
        if service == "kms" and resource.startswith("alias/aws/"):
            return None  # AWS-managed key alias
        if service == "ssm" and resource.startswith("parameter/aws/"):
            return None  # AWS public parameters (AMI ids, regions...)
        return f"{service} ARN"


class _InputProperties:
    """Each pulumi-aws type's input properties (what a program can set), from the shipped table
    `data/input_properties.json` (scripts/generate_input_properties.py). A type's names are split
    the first time the type is met: most stacks use a few dozen of the ~1,750 types."""

    def __init__(self, inputs: Mapping[str, str]) -> None:
        self._inputs = inputs
        self._split: Dict[str, Optional[frozenset]] = {}

    def of(self, type_: str) -> Optional[frozenset]:
        """The type's inputs, or None for a type the table does not know (another provider, a newer
        pulumi-aws): then every property is judged, as before the table."""
        try:
            return self._split[type_]
        except KeyError:
            text = self._inputs.get(type_)
            names = frozenset(text.split()) if isinstance(text, str) else None
            self._split[type_] = names
            return names


def _parse_input_properties(data: Any) -> _InputProperties:
    inputs = data.get("inputs") if isinstance(data, Mapping) else None
    if not isinstance(inputs, Mapping):
        raise ValueError("no `inputs` map")
    return _InputProperties(inputs)


INPUT_PROPERTIES = Lazy("input_properties.json", _parse_input_properties, _InputProperties({}),
                        "no-external-infrastructure-ids judges every property, computed attributes included")


class _DependencyOutputs:
    """The known strings among the outputs of stack resources, built lazily once per resource: a
    value of a property that depends on resource R and appears among R's outputs came from R."""

    def __init__(self, stack: StackView) -> None:
        self.stack = stack
        self.cache: Dict[str, Set[str]] = {}

    def contains(self, urns: Sequence[str], value: str) -> bool:
        for urn in urns:
            strings = self.cache.get(urn)
            if strings is None:
                resource = self.stack.by_urn.get(urn)
                strings = {text for _path, text in P.walk_strings(resource.props)} if resource is not None else set()
                self.cache[urn] = strings
            if value in strings:
                return True
        return False


class NoExternalInfrastructureIds(StackRule, policy="no-external-infrastructure-ids", level="mandatory",
                                  severity="critical", seeds=(1, 2), frameworks=(pci("6.5.1", "12.5.1"),)):
    """A stack must create the infrastructure it uses: no literal IDs or ARNs of VPCs, subnets, security groups,
    load balancers, clusters, keys or secrets created elsewhere.

    Remediation:
        Create the VPC, subnets, security groups, load balancer, listener, cluster, keys and secrets in this
        stack and pass their outputs (`subnets=[s.id for s in private_subnets]`, `listener_arn=listener.arn`)
        instead of values read from a `pulumi.StackReference`, an `aws.*.get_*` lookup or typed in. Every
        deployment must be able to run in isolation. An intended external dependency goes into
        `allowedPatterns`.

    Compliant example:
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16")
        app_sg = aws.ec2.SecurityGroup("app", vpc_id=vpc.id)
        aws.ecs.Service("svc", network_configuration={
            "subnets": [s.id for s in private], "security_groups": [app_sg.id], "assign_public_ip": False}, ...)
    """
    config_properties = {
        "allowedPatterns": string_list(
            [],
            "Regular expressions (Python `re.search`) of IDs and ARNs that may come from outside "
            "the stack, e.g. a shared transit gateway or a central WAF web ACL "
            "(\"^arn:aws:wafv2:[^:]+:111122223333:\"). Default: none."),
        "allowCertificateArns": {
            "type": "boolean", "default": True,
            "description": "Whether ACM / ACM PCA / IAM server certificate ARNs may be literals. Default true: "
                           "certificates whose private keys are issued and imported by a key custodian (PCI DSS "
                           "3.6/4.2.1) legitimately live outside application stacks. Set false to require "
                           "`aws.acm.Certificate` in the stack.",
        },
        "idPrefixes": string_list(
            DEFAULT_ID_PREFIXES,
            "EC2-style ID prefixes (`<prefix>-<4 to 17 hex digits>`) that name account infrastructure. "
            "Default: vpc, subnet, sg, rtb, igw, nat, eni, vpce, acl, eigw, pcx, eipalloc, fs, fsap "
            "(transit gateways, `tgw`, are left out: they are shared by design)."),
        "arnServices": string_list(
            DEFAULT_ARN_SERVICES,
            "ARN service names whose exact ARNs count as account infrastructure."),
        "checkDependentProperties": {
            "type": "boolean", "default": True,
            "description": "Property dependencies are per top-level property, so `networkConfiguration` "
                           "depends on the stack as soon as one security group in it does. Default true: in such "
                           "a property each value is still checked, and passes when it is found among the outputs "
                           "of the stack resources the property depends on (or is a stack resource's id/ARN): a "
                           "StackReference subnet next to a stack security group is reported. False: a property "
                           "that depends on a resource of this stack passes as a whole.",
        },
    }

    def check_stack(self, stack: StackView, ctx: Context) -> Iterable[Violation]:
        classifier = _Classifier(ctx)
        allowed = _compile_patterns(cfg_list(ctx, "allowedPatterns"))
        strict = cfg_bool(ctx, "checkDependentProperties", True)
        owned = self._owned_values(stack)
        flowed = _DependencyOutputs(stack)
        table = INPUT_PROPERTIES.get()
        for resource in stack.resources:
            if resource.type.startswith("pulumi:"):
                continue  # providers (assumeRole.roleArn is how cross-account deploys work), the stack
            # Only what the program can set is a reference it made: AnalyzeStack also shows what the
            # provider computed (an instance's outpostArn, a node group's resources).
            settable = table.of(resource.type)
            computed = set(_COMPUTED_REFERENCES.get(resource.type, ()))
            for (type_, prop), source in _DERIVED_WHEN_SET.items():
                if type_ == resource.type and resource.props.get(source) not in (None, ""):
                    computed.add(prop)
            defaulted_kms = _DEFAULTED_KMS.get(resource.type, frozenset())
            own_arn = resource.props.get("arn")
            own_arn = own_arn if isinstance(own_arn, str) and own_arn.startswith("arn:") else ""
            own = {resource.urn, resource.id, own_arn}
            for top, value in resource.props.items():
                if not isinstance(top, str) or top in ("id", "arn", "urn") or _is_policy_key(top):
                    continue
                if settable is not None and top not in settable:
                    continue
                depends = _stack_dependencies(stack, resource, top)
                if depends and not strict:
                    continue
                findings: List[str] = []
                hint: Optional[str] = None
                for path, text, key in _reference_strings(value, (top,), top, _is_reference_key(top)):
                    dotted = _dotted(path)
                    if dotted in computed:
                        continue
                    if text in own or text in owned or stack.by_reference(text) is not None:
                        continue
                    if own_arn and text.startswith(own_arn):
                        continue  # qualified forms of its own ARN (a Lambda's qualifiedArn...)
                    if depends and flowed.contains(depends, text):
                        continue  # an output of a stack resource this property depends on
                    kind = classifier.classify(text, key)
                    if kind is None or _allowed(text, allowed):
                        continue
                    if dotted in defaulted_kms and kind in ("kms ARN", "KMS key ID"):
                        continue
                    shown = "(secret value)" if resource.is_secret(path) else text
                    findings.append(f"`{P.format_path(path)}` = {shown} ({kind})")
                    if hint is None:
                        hint = _fix_hint(path, text, kind)
                if findings:
                    origin = ("a StackReference, an `aws.*.get_*` lookup, a literal or, when the argument is left "
                              "out, the account's default VPC" if top in _DEFAULT_VPC_FILLED.get(resource.type, ())
                              else "a StackReference, an `aws.*.get_*` lookup or a literal")
                    yield Violation(
                        f"{resource.type} '{resource.name}': `{top}` references infrastructure this stack does not "
                        f"create: {_listing(findings)}. Such values typically come from {origin}, and the "
                        "deployment then cannot run in isolation: "
                        f"{hint}, or allow an intended dependency with `allowedPatterns`.",
                        urn=resource.urn, path=top)

    @staticmethod
    def _owned_values(stack: StackView) -> Set[str]:
        """IDs of infrastructure AWS creates along with a stack resource (default security group and
        route tables of a stack VPC, ENIs of a stack endpoint...), indexed once."""
        owned: Set[str] = set()
        for resource in stack.resources:
            for dotted in _OWNED_OUTPUTS.get(resource.type, ()):
                owned.update(_strings_at(resource.props, dotted.split(".")))
        return owned


# =============================================================================================
# no-cross-environment-references
# =============================================================================================

DEFAULT_ENV_TAG_KEYS = ["environment", "env"]
#: Blue/green vocabulary: a CodeDeploy or ECS-native deployment has a production and a test
#: listener (route, port, rule, target group) in every environment.
DEFAULT_DEPLOYMENT_VOCABULARY = [
    r"(?i)(?<![a-z0-9])(prod|production|test)[-_. ]?(listener|traffic|route|port|rule|tg|target[-_. ]?group)s?(?![a-z0-9])",
]
#: Names of resources AWS owns (in its own accounts) that carry an environment token of AWS's, not
#: of the stack: ECR serves image layers from `prod-<region>-starport-layer-bucket`, which the S3
#: gateway endpoint policy of every private ECR pull names. Matched as whole names (not inside a
#: longer bucket name) and removed before matching, like the deployment vocabulary.
_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]"
DEFAULT_AWS_OWNED_NAMES = [
    r"(?<![A-Za-z0-9_.-])prod-" + _REGION + r"-starport-layer-bucket(?![A-Za-z0-9_-])",
]
DEFAULT_IGNORED_PROPERTIES = ["*description"]
DEFAULT_IGNORED_ENV_VARS = ["NODE_ENV", "RAILS_ENV", "RACK_ENV", "MIX_ENV"]


def _tag_items(value: Any) -> List[Tuple[Tuple, str, Any]]:
    """(relative path, key, value) of a tags map, or of a list of {key, value} blocks (ASG style)."""
    value = P.parse_json(value) if isinstance(value, str) else value
    items: List[Tuple[Tuple, str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                items.append(((key,), key, item))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                items.append(((index, "value"), item["key"], item.get("value")))
    return items


def _provider_default_tags(resource: P.ResourceView) -> List[Tuple[Tuple, str, Any]]:
    """A provider's defaultTags.tags (provider inputs arrive JSON-encoded, or as objects)."""
    raw = resource.props.get("defaultTags")
    parsed = P.parse_json(raw)
    block = P.as_dict(parsed)
    if not isinstance(block, Mapping):
        return []
    return [(("defaultTags", "tags") + rel, key, value) for rel, key, value in _tag_items(block.get("tags"))]


class _EnvironmentScan:
    """Per-call state of no-cross-environment-references: the stack, its environment, the config."""

    def __init__(self, stack: StackView, ctx: Context, env: str, index: Mapping[str, str]) -> None:
        self.stack = stack
        self.env = env
        self.index = index
        self.first_unknown: Optional[Tuple[str, str]] = None  # (resource, path) of a string not known yet
        self.allowed = _compile_patterns(cfg_list(ctx, "allowedPatterns"))
        self.vocabulary = _compile_patterns(cfg_list(ctx, "deploymentVocabulary"))
        self.aws_owned = _compile_patterns(cfg_list(ctx, "awsOwnedNames"))
        self.ignored = [p.lower() for p in cfg_list(ctx, "ignoredProperties") if isinstance(p, str)]
        self.ignored_vars = {v.lower() for v in cfg_list(ctx, "ignoredEnvironmentVariables") if isinstance(v, str)}
        self.tag_keys = {k.lower() for k in cfg_list(ctx, "environmentTagKeys") if isinstance(k, str)}
        # The stack's and project's own names are never a reference to another environment (a
        # stack `prod-mirror` mapped to test names all its resources after itself).
        own = sorted({n for n in (ctx.stack, ctx.project) if isinstance(n, str) and len(n) >= 2}, key=len, reverse=True)
        self.own_names = re.compile("|".join(re.escape(n) for n in own), re.I) if own else None
        self.names: Dict[str, str] = {}
        for resource in stack.resources:
            name = resource.props.get("name")
            if isinstance(name, str) and name:
                self.names.setdefault(name, resource.urn)
        # Strings and keys repeat heavily across a stack (tags, regions, ARNs): judge each once per call.
        self._foreign: Dict[str, Set[str]] = {}
        self._ignored: Dict[str, bool] = {}
        self._verdicts: Dict[str, Tuple[Optional[str], Set[str]]] = {}

    # --- matching ---------------------------------------------------------------------------
    def foreign(self, text: str) -> Set[str]:
        """Environments other than the stack's that `text` names (whole tokens)."""
        envs = self._foreign.get(text)
        if envs is None:
            stripped = text
            if self.own_names is not None:
                stripped = self.own_names.sub(" ", stripped)
            for phrase in self.vocabulary:
                stripped = phrase.sub(" ", stripped)
            for owned in self.aws_owned:
                stripped = owned.sub(" ", stripped)
            envs = environments_named(stripped, self.index) - {self.env}
            self._foreign[text] = envs
        return envs

    def ignored_key(self, key: Any) -> bool:
        if not isinstance(key, str):
            return False
        ignored = self._ignored.get(key)
        if ignored is None:
            lowered = key.lower()
            ignored = any(fnmatch.fnmatchcase(lowered, p) for p in self.ignored)
            self._ignored[key] = ignored
        return ignored

    def is_env_tag(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in self.tag_keys

    # --- scanning ---------------------------------------------------------------------------
    def scan_value(self, resource: P.ResourceView, value: Any, path: Tuple, found: Dict[str, Set[str]],
                   depth: int = 0, in_json: bool = False) -> None:
        if depth > 48:
            return
        if isinstance(value, dict):  # decoded values are plain dicts (and dict checks are cheap)
            if P.is_asset(value):
                return  # source code and files are content, not names or references
            pair_name = value.get("name") if ("value" in value or "valueFrom" in value) else None
            skip_pair = isinstance(pair_name, str) and pair_name.lower() in self.ignored_vars
            for key, item in value.items():
                if not isinstance(key, str) or self.ignored_key(key):
                    continue
                if pair_name is not None and key == "name":
                    continue  # an environment variable's name is a key, not a reference
                if "value" in value and key == "key" and isinstance(item, str):
                    continue  # {key, value} tag blocks: the key is a name
                if skip_pair and key in ("value", "valueFrom"):
                    continue  # NODE_ENV=production is a build mode, not an environment reference
                if key.lower() in self.ignored_vars:
                    continue  # the same in map form (a Lambda's environment.variables)
                self.scan_value(resource, item, path + (key,), found, depth + 1, in_json)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.scan_value(resource, item, path + (index,), found, depth + 1, in_json)
        elif isinstance(value, str) and value and not P.is_unknown(value):
            if not in_json and resource.is_secret(path):
                return  # secret values are never read (nor echoed)
            self.scan_string(resource, value, path, found, depth, in_json)
        elif self.first_unknown is None and P.is_unknown(value):
            self.first_unknown = (resource.name, P.format_path(path))

    def scan_string(self, resource: P.ResourceView, value: str, path: Tuple, found: Dict[str, Set[str]],
                    depth: int, in_json: bool) -> None:
        stripped = value.lstrip()
        if stripped[:1] in ("{", "["):
            parsed = P.parse_json(value)
            if isinstance(parsed, (dict, list)):
                # JSON documents (containerDefinitions, policies): their values, never their keys.
                self.scan_value(resource, parsed, path, found, depth + 1, in_json=True)
                return
        verdict = self._verdicts.get(value)
        if verdict is None:
            verdict = self._verdicts[value] = self._judge(value)
        owner, envs = verdict
        if envs and (owner is None or owner == resource.urn):
            found.setdefault(P.format_path(path), set()).update(envs)

    def _judge(self, value: str) -> Tuple[Optional[str], Set[str]]:
        """(the stack resource this string names, the foreign environments it names), judged once
        per string and call: the same values recur on thousands of resources."""
        if self.stack.by_reference(value) is not None:
            return None, set()  # a stack resource's id/ARN/URN: its name is judged where it is defined
        owner = self.names.get(value)  # another resource's name is reported on that resource
        if _allowed(value, self.allowed):
            return owner, set()
        return owner, self.foreign(value)


class NoCrossEnvironmentReferences(StackRule, policy="no-cross-environment-references", level="mandatory",
                                   severity="high", seeds=(4,), frameworks=(pci("6.5.3", "6.5.5"),)):
    """Names, tags and string inputs must not name another environment than the stack's own (a dev stack must
    not point at production).

    Remediation:
        Derive every name, tag and reference from the stack's own environment (e.g. `env = pulumi.get_stack()`,
        `f"payments-{env}"`), never default to another environment (`config.get("legacyStackEnv") or
        "production"`). Set the `environment` tag to the stack's environment. Map stack names that carry no
        environment with `stackEnvironments`.

    Compliant example:
        env = pulumi.get_stack()  # "dev"
        aws.ecs.Cluster("cluster", name=f"payments-{env}", tags={"environment": env})
    """
    config_properties = {
        **ENVIRONMENT_CONFIG,
        "environmentTagKeys": string_list(
            DEFAULT_ENV_TAG_KEYS,
            "Tag keys (case-insensitive) whose value must name the stack's environment. "
            "Default: environment, env."),
        "allowedPatterns": string_list(
            [],
            "Regular expressions (Python `re.search`) of string values that may name another "
            "environment, e.g. a central log archive (\"prod-log-archive\"). Default: none."),
        "deploymentVocabulary": string_list(
            DEFAULT_DEPLOYMENT_VOCABULARY,
            "Regular expressions of phrases removed before matching: blue/green deployments "
            "name a production and a test listener, route or target group in every environment "
            "(\"test-listener\", \"prod-traffic-route\"), which names no environment."),
        "awsOwnedNames": string_list(
            DEFAULT_AWS_OWNED_NAMES,
            "Regular expressions of names of AWS-owned resources that carry an environment token "
            "of AWS's own, removed before matching. Default: ECR's image layer bucket "
            "`prod-<region>-starport-layer-bucket` (named by the S3 gateway endpoint policy that "
            "private ECR pulls need), as a whole bucket name only. A configured list replaces the "
            "default one."),
        "ignoredProperties": string_list(
            DEFAULT_IGNORED_PROPERTIES,
            "Property and tag names (case-insensitive globs) whose values are free text, not "
            "references. Default: *description."),
        "ignoredEnvironmentVariables": string_list(
            DEFAULT_IGNORED_ENV_VARS,
            "Container environment variables whose values are build modes, not environments "
            "(NODE_ENV=production is right in every environment). Default: NODE_ENV, RAILS_ENV, "
            "RACK_ENV, MIX_ENV."),
    }

    def check_stack(self, stack: StackView, ctx: Context) -> Iterable[Violation]:
        index = alias_index(ctx)
        tag_keys = {k.lower() for k in cfg_list(ctx, "environmentTagKeys") if isinstance(k, str)}
        env = stack_environment(ctx) or self._from_stack_tags(ctx, index, tag_keys)
        if env is None:
            inferred, conflicts = self._from_resource_tags(stack, index, tag_keys)
            if conflicts:
                yield from conflicts
                return
            if inferred is None:
                raise NotApplicable(
                    f"cannot tell which environment stack '{ctx.stack}' is: its name names none (or several), and no "
                    "stack or resource `environment` tag says; map it with the `stackEnvironments` config")
            env = inferred
        scan = _EnvironmentScan(stack, ctx, env, index)
        reported = False
        for resource in stack.resources:
            for violation in self._check_resource(scan, stack, resource, ctx):
                reported = True
                yield violation
        for violation in foreign_stack_references(stack, ctx, env, index):  # visible in stored state only
            reported = True
            yield violation
        if not reported and scan.first_unknown is not None:
            # Strings not known yet (preview) are judged at `pulumi up`: say so rather than pass silently.
            name, path = scan.first_unknown
            raise NotApplicable(f"some strings are not known yet (e.g. `{path}` of '{name}'); they are judged "
                                "when they are known (`pulumi up`)")

    # --- the stack's environment -----------------------------------------------------------
    @staticmethod
    def _from_stack_tags(ctx: Context, index: Mapping[str, str], tag_keys: Set[str]) -> Optional[str]:
        tags = ctx.stack_tags if isinstance(ctx.stack_tags, Mapping) else {}
        for key, value in tags.items():
            if isinstance(key, str) and key.lower() in tag_keys and isinstance(value, str):
                named = environments_named(value, index)
                if len(named) == 1:
                    return next(iter(named))
        return None

    @staticmethod
    def _from_resource_tags(stack: StackView, index: Mapping[str, str],
                            tag_keys: Set[str]) -> Tuple[Optional[str], List[Violation]]:
        """With no environment from the stack's name or config: the one environment every
        `environment` tag of the stack names, if they agree. If they disagree, the stack mixes
        environments: that is reported (one violation per environment with its first resource)."""
        seen: Dict[str, P.ResourceView] = {}
        counts: Dict[str, int] = {}
        for resource in stack.resources:
            items = (_provider_default_tags(resource) if resource.type.startswith("pulumi:providers:")
                     else [(("tags",) + rel, k, v) for rel, k, v in _tag_items(resource.props.get("tags"))])
            for path, key, value in items:
                if key.lower() not in tag_keys or not isinstance(value, str) or resource.is_secret(path):
                    continue
                for env in environments_named(value, index):
                    seen.setdefault(env, resource)
                    counts[env] = counts.get(env, 0) + 1
        if len(seen) <= 1:
            return (next(iter(seen)) if seen else None), []
        summary = ", ".join(f"{env} ({counts[env]})" for env in sorted(seen))
        return None, [Violation(
            f"The stack's resources carry `environment` tags naming several environments: {summary}; "
            f"{resource.type} '{resource.name}' is tagged {env}. One stack deploys one environment: tag every "
            "resource with the stack's environment (and map the stack with `stackEnvironments` if its name "
            "carries none).", urn=resource.urn, path="tags") for env, resource in sorted(seen.items())]

    # --- one resource -----------------------------------------------------------------------
    def _check_resource(self, scan: _EnvironmentScan, stack: StackView, resource: P.ResourceView,
                        ctx: Context) -> Iterator[Violation]:
        found: Dict[str, Set[str]] = {}
        env_tags: List[Tuple[Tuple, Any]] = []
        if resource.name:
            envs = scan.foreign(resource.name)
            if envs:
                found["(logical name)"] = envs
        is_provider = resource.type.startswith("pulumi:providers:")
        tag_keys_seen: Set[str] = set()
        for path, key, value in _tag_items(resource.props.get("tags")):
            tag_keys_seen.add(key)
            if scan.is_env_tag(key):
                env_tags.append((("tags",) + path, value))
        if is_provider:
            for path, key, value in _provider_default_tags(resource):
                if scan.is_env_tag(key):
                    env_tags.append((path, value))
        provider_in_stack = bool(resource.provider_urn) and resource.provider_urn in stack.by_urn
        env_tag_paths = {path for path, _ in env_tags}
        for top, value in resource.props.items():
            if not isinstance(top, str) or scan.ignored_key(top):
                continue
            if top == "tagsAll":
                # Provider default tags merged in: judged once on the provider when it is in the stack.
                if provider_in_stack:
                    continue
                for path, key, item in _tag_items(value):
                    if key in tag_keys_seen:
                        continue
                    full = ("tagsAll",) + path
                    if scan.is_env_tag(key):
                        env_tags.append((full, item))
                    elif not scan.ignored_key(key):
                        scan.scan_value(resource, item, full, found)
                continue
            if top in ("tags", "defaultTags"):
                items = (_tag_items(value) if top == "tags"
                         else [(p[1:], k, v) for p, k, v in _provider_default_tags(resource)])
                base = ("tags",) if top == "tags" else ("defaultTags",)
                for path, key, item in items:
                    full = base + path
                    if full in env_tag_paths or scan.ignored_key(key):
                        continue
                    scan.scan_value(resource, item, full, found)
                continue
            scan.scan_value(resource, value, (top,), found)
        if found:
            envs = sorted(set().union(*found.values()))
            yield Violation(
                f"{resource.type} '{resource.name}' names {' and '.join(envs)} in "
                f"{_listing(sorted(found))}, but stack '{ctx.stack}' is the {scan.env} environment. A stack must "
                f"only reach its own environment's resources: derive names and references from the stack's "
                "environment, or allow an intended shared resource with `allowedPatterns`.",
                urn=resource.urn, path=sorted(found)[0])
        for path, value in env_tags:
            problem = self._env_tag_problem(scan, resource, path, value)
            if problem:
                yield Violation(problem, urn=resource.urn, path=P.format_path(path))

    @staticmethod
    def _env_tag_problem(scan: _EnvironmentScan, resource: P.ResourceView, path: Tuple, value: Any) -> Optional[str]:
        if P.is_unknown(value) or value is None:
            return None
        where = f"{resource.type} '{resource.name}': tag `{P.format_path(path)}`"
        if not isinstance(value, str):
            return f"{where} is not a string; set it to '{scan.env}'."
        named = environments_named(value, scan.index)
        if named == {scan.env}:
            return None
        shown = "(secret)" if resource.is_secret(path) else repr(value)
        says = f"names {' and '.join(sorted(named))}" if named else "names no known environment"
        return (f"{where} is {shown}, which {says}; the stack is the {scan.env} environment: set it to "
                f"'{scan.env}'.")


RULES = [NoExternalInfrastructureIds, NoCrossEnvironmentReferences]
