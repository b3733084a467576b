"""Built-in answers for the data-source invokes common Pulumi AWS programs make.

Under mocks every `aws.get_*()` call reaches the mock's `call`; a program that gets nothing back
crashes on the first key it reads (`azs.names[0]`). The answers here are consistent with the
fabricated resources (same account, region and partition) and with one another (the default VPC
id returned by getVpc is the vpcId of the subnets getSubnets lists).

`aws:iam/getPolicyDocument` is evaluated for real, following the provider's rendering rules, since
policies are exactly what a policy pack inspects.

Every answer is completed against the SDK's `Get...Result` class: a non-Optional key the answer
doesn't set is fabricated by name and type, so the SDK never reads None where it expects a value
(and never raises the TypeError its result constructors raise on a mistyped value).
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any, Callable, Optional

# _Rand and _plain_copy are package-internal helpers shared with fabricate.py.
from .fabricate import Environment, _plain_copy, _Rand, complete_object, output_type_for_invoke

__all__ = ["answer_invoke", "policy_document"]

_Handler = Callable[[dict, Environment], dict]
_HANDLERS: dict[str, _Handler] = {}


def _handles(*tokens: str) -> Callable[[_Handler], _Handler]:
    def register(fn: _Handler) -> _Handler:
        for token in tokens:
            _HANDLERS[token] = fn
        return fn
    return register


def answer_invoke(token: str, args: dict, env: Environment, user_answers: dict | None = None) -> dict | None:
    """Return the invoke's result (camelCase keys, as the provider returns them), or None when unanswered."""
    try:
        args = _plain_copy(args) if isinstance(args, dict) else {}
        user = user_answers.get(token) if isinstance(user_answers, dict) else None
        if isinstance(user, dict):
            result = _plain_copy(user)
        else:
            handler = _HANDLERS.get(token)
            if handler is None:
                return None
            result = handler(args, env)
        return _complete(token, args, result, env)
    except Exception:
        return None


def _complete(token: str, args: dict, result: dict, env: Environment) -> dict:
    """Echo the arguments the result declares (filters, tags, state...) and fabricate any other
    non-Optional key the SDK's result class reads."""
    cls = output_type_for_invoke(token)
    if cls is None:
        return result
    seed = json.dumps(args, sort_keys=True, default=str)
    return complete_object(cls, result, token, seed, env, echo=args)


# --------------------------------------------------------------------------------------------
# Shared identities: the same default VPC, subnets and security group across invokes
# --------------------------------------------------------------------------------------------


# Arguments come from the program: a wrong type must degrade to the default, never reach a result
# (the SDK's result classes raise TypeError on a mistyped value).
def _s(args: dict, key: str, default: str = "") -> str:
    value = args.get(key)
    return value if isinstance(value, str) and value else default


def _l(args: dict, key: str) -> list:
    value = args.get(key)
    return value if isinstance(value, list) else []


def _d(args: dict, key: str) -> dict:
    value = args.get(key)
    return value if isinstance(value, dict) else {}


def _region(args: dict, env: Environment) -> str:
    return _s(args, "region", env.region)


def _rand(env: Environment, region: str, *parts: str) -> _Rand:
    return _Rand("|".join((env.account, region) + parts))


def _arn(env: Environment, service: str, region: str, resource: str, account: Optional[str] = None) -> str:
    return f"arn:{env.partition}:{service}:{region}:{env.account if account is None else account}:{resource}"


def _default_vpc_id(env: Environment, region: str) -> str:
    return "vpc-" + _rand(env, region, "default-vpc").hex("id", 17)


def _azs(region: str) -> list[str]:
    return [region + suffix for suffix in ("a", "b", "c")]


def _zone_id(region: str, index: int) -> str:
    parts = region.split("-")
    code = parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1] if len(parts) == 3 else region
    return f"{code}-az{index + 1}"


def _subnet_id(env: Environment, region: str, vpc_id: str, az: str) -> str:
    return "subnet-" + _rand(env, region, "subnet", vpc_id, az).hex("id", 17)


def _filter_values(args: dict, name: str) -> list[str]:
    """Values of the EC2 filter called `name` (e.g. 'vpc-id'), [] when absent."""
    values: list[str] = []
    for item in _l(args, "filters"):
        if isinstance(item, dict) and item.get("name") == name:
            values += [v for v in item.get("values") or [] if isinstance(v, str)]
    return values


def _vpc_from_args(args: dict, env: Environment, region: str) -> str:
    return _s(args, "vpcId") or next(iter(_filter_values(args, "vpc-id")), "") or _default_vpc_id(env, region)


# --------------------------------------------------------------------------------------------
# aws:index
# --------------------------------------------------------------------------------------------

_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)", "eu-west-1": "Europe (Ireland)", "eu-west-2": "Europe (London)",
    "eu-central-1": "Europe (Frankfurt)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "ap-northeast-1": "Asia Pacific (Tokyo)",
}


def _dns_suffix(partition: str) -> str:
    return {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}.get(partition, "amazonaws.com")


@_handles("aws:index/getRegion:getRegion")
def _get_region(args: dict, env: Environment) -> dict:
    name = _s(args, "region") or _s(args, "name") or env.region
    return {"name": name, "region": name, "id": name, "description": _REGION_NAMES.get(name, name),
            "endpoint": f"ec2.{name}.{_dns_suffix(env.partition)}"}


@_handles("aws:index/getAvailabilityZones:getAvailabilityZones")
def _get_availability_zones(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    # (only strings can name a zone; anything else in the lists excludes nothing, and a list inside
    # the list must not make the answer unhashable-and-None)
    excluded_names = {n for n in _l(args, "excludeNames") if isinstance(n, str)}
    excluded_ids = {z for z in _l(args, "excludeZoneIds") if isinstance(z, str)}
    zones = [(name, _zone_id(region, i)) for i, name in enumerate(_azs(region))]
    zones = [(n, z) for n, z in zones if n not in excluded_names and z not in excluded_ids]
    return {"names": [n for n, _ in zones], "zoneIds": [z for _, z in zones],
            "groupNames": [region] * len(zones), "id": region, "region": region}


@_handles("aws:index/getCallerIdentity:getCallerIdentity")
def _get_caller_identity(args: dict, env: Environment) -> dict:
    user_id = "AIDA" + _rand(env, "", "caller").upper("id", 17)
    return {"accountId": env.account, "arn": f"arn:{env.partition}:iam::{env.account}:user/offline-check",
            "userId": user_id, "id": env.account}


@_handles("aws:index/getPartition:getPartition")
def _get_partition(args: dict, env: Environment) -> dict:
    suffix = _dns_suffix(env.partition)
    return {"partition": env.partition, "dnsSuffix": suffix,
            "reverseDnsPrefix": ".".join(reversed(suffix.split("."))), "id": env.partition}


@_handles("aws:index/getServicePrincipal:getServicePrincipal")
def _get_service_principal(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    service = _s(args, "serviceName", "ec2")
    suffix = _dns_suffix(env.partition)
    return {"name": f"{service}.{suffix}", "suffix": suffix, "id": f"{service}.{region}",
            "region": region, "serviceName": service}


@_handles("aws:index/getDefaultTags:getDefaultTags")
def _get_default_tags(args: dict, env: Environment) -> dict:
    return {"tags": {}, "id": env.partition}


@_handles("aws:index/getArn:getArn")
def _get_arn(args: dict, env: Environment) -> dict:
    arn = _s(args, "arn", "")
    parts = arn.split(":", 5) + [""] * 6
    return {"arn": arn, "partition": parts[1], "service": parts[2], "region": parts[3],
            "account": parts[4], "resource": parts[5], "id": arn}


# --------------------------------------------------------------------------------------------
# aws:ec2
# --------------------------------------------------------------------------------------------


@_handles("aws:ec2/getVpc:getVpc")
def _get_vpc(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    vpc_id = _s(args, "id") or next(iter(_filter_values(args, "vpc-id")), "")
    default = args.get("default") is True or not vpc_id  # no id asked for: the default VPC
    vpc_id = vpc_id or _default_vpc_id(env, region)
    rand = _rand(env, region, "vpc", vpc_id)
    cidr = _s(args, "cidrBlock") or ("172.31.0.0/16" if default else "10.0.0.0/16")
    return {
        "id": vpc_id, "arn": _arn(env, "ec2", region, f"vpc/{vpc_id}"), "cidrBlock": cidr, "default": default,
        "cidrBlockAssociations": [{"associationId": "vpc-cidr-assoc-" + rand.hex("assoc", 17), "cidrBlock": cidr, "state": "associated"}],
        "dhcpOptionsId": "dopt-" + rand.hex("dopt", 17), "enableDnsHostnames": default, "enableDnsSupport": True,
        "enableNetworkAddressUsageMetrics": False, "instanceTenancy": "default", "ipv6AssociationId": "",
        "ipv6CidrBlock": "", "ipv6CidrBlockAssociations": [], "mainRouteTableId": "rtb-" + rand.hex("rtb", 17),
        "ownerId": env.account, "region": region, "state": "available", "tags": _d(args, "tags"),
    }


@_handles("aws:ec2/getVpcs:getVpcs")
def _get_vpcs(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    return {"ids": [_default_vpc_id(env, region)], "id": region, "region": region, "tags": _d(args, "tags")}


def _subnet_azs(args: dict, region: str) -> list[str]:
    wanted = set(_filter_values(args, "availability-zone"))
    return [az for az in _azs(region) if not wanted or az in wanted]


@_handles("aws:ec2/getSubnets:getSubnets")
def _get_subnets(args: dict, env: Environment) -> dict:
    # Filters are honoured loosely: the VPC and the AZs narrow the answer, others are accepted.
    region = _region(args, env)
    vpc_id = _vpc_from_args(args, env, region)
    ids = [_subnet_id(env, region, vpc_id, az) for az in _subnet_azs(args, region)]
    wanted_ids = set(_filter_values(args, "subnet-id"))
    if wanted_ids:
        ids = [i for i in ids if i in wanted_ids] or sorted(wanted_ids)
    return {"ids": ids, "id": region, "region": region, "tags": _d(args, "tags")}


@_handles("aws:ec2/getSubnet:getSubnet")
def _get_subnet(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    vpc_id = _vpc_from_args(args, env, region)
    azs = _azs(region)
    az = _s(args, "availabilityZone") or next(iter(_filter_values(args, "availability-zone")), azs[0])
    index = azs.index(az) if az in azs else 0
    subnet_id = _s(args, "id") or _subnet_id(env, region, vpc_id, az)
    default = vpc_id == _default_vpc_id(env, region)
    cidr = _s(args, "cidrBlock") or (f"172.31.{index * 16}.0/20" if default else f"10.0.{index}.0/24")
    return {
        "id": subnet_id, "arn": _arn(env, "ec2", region, f"subnet/{subnet_id}"), "vpcId": vpc_id,
        "availabilityZone": az, "availabilityZoneId": _s(args, "availabilityZoneId") or _zone_id(region, index),
        "cidrBlock": cidr, "availableIpAddressCount": 4091 if default else 251, "defaultForAz": default,
        "mapPublicIpOnLaunch": default, "state": "available", "ownerId": env.account, "region": region,
        "tags": _d(args, "tags"), "ipv6CidrBlock": "", "ipv6CidrBlockAssociationId": "", "outpostArn": "",
        "customerOwnedIpv4Pool": "", "privateDnsHostnameTypeOnLaunch": "ip-name",
    }


@_handles("aws:ec2/getSecurityGroup:getSecurityGroup")
def _get_security_group(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    vpc_id = _vpc_from_args(args, env, region)
    name = _s(args, "name") or next(iter(_filter_values(args, "group-name")), "default")
    group_id = _s(args, "id") or "sg-" + _rand(env, region, "sg", vpc_id, name).hex("id", 17)
    return {"id": group_id, "arn": _arn(env, "ec2", region, f"security-group/{group_id}"), "name": name,
            "vpcId": vpc_id, "description": f"{name} security group", "region": region, "tags": _d(args, "tags")}


@_handles("aws:ec2/getSecurityGroups:getSecurityGroups")
def _get_security_groups(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    vpc_id = _vpc_from_args(args, env, region)
    group_id = "sg-" + _rand(env, region, "sg", vpc_id, "default").hex("id", 17)
    return {"ids": [group_id], "arns": [_arn(env, "ec2", region, f"security-group/{group_id}")],
            "vpcIds": [vpc_id], "id": region, "region": region, "tags": _d(args, "tags")}


def _ami_architecture(args: dict) -> str:
    text = json.dumps(args, default=str).lower()
    return "arm64" if "arm64" in text or "aarch64" in text else "x86_64"


@_handles("aws:ec2/getAmi:getAmi")
def _get_ami(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    rand = _rand(env, region, "ami", json.dumps(args, sort_keys=True, default=str))
    ami_id = "ami-" + rand.hex("id", 17)
    owners = [o for o in _l(args, "owners") if isinstance(o, str)]
    owner = next((o for o in owners if o.isdigit()), "137112412989")  # Amazon's image account
    names = _filter_values(args, "name")
    name = names[0].replace("*", "2024.0.20240101.0") if names else f"offline-image-{rand.hex('name', 8)}"
    return {
        "id": ami_id, "imageId": ami_id, "arn": _arn(env, "ec2", region, f"image/{ami_id}", account=""),
        "architecture": _ami_architecture(args), "name": name, "ownerId": owner, "owners": owners or [owner],
        "description": name, "state": "available", "public": True, "platform": "", "platformDetails": "Linux/UNIX",
        "rootDeviceName": "/dev/xvda", "rootDeviceType": "ebs", "virtualizationType": "hvm", "hypervisor": "xen",
        "imageType": "machine", "imageOwnerAlias": "amazon", "creationDate": "2024-01-01T00:00:00.000Z",
        "blockDeviceMappings": [], "productCodes": [], "enaSupport": True, "region": region, "tags": {},
        "imageLocation": f"amazon/{name}", "kernelId": "", "ramdiskId": "", "sriovNetSupport": "simple",
        "usageOperation": "RunInstances", "bootMode": "", "imdsSupport": "", "tpmSupport": "", "stateReason": {},
        "deprecationTime": "", "lastLaunchedTime": "", "rootSnapshotId": "snap-" + rand.hex("snap", 17),
    }


@_handles("aws:ec2/getAmiIds:getAmiIds")
def _get_ami_ids(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    rand = _rand(env, region, "ami", json.dumps(args, sort_keys=True, default=str))
    return {"ids": ["ami-" + rand.hex("id", 17)], "id": region, "region": region, "owners": _l(args, "owners")}


# --------------------------------------------------------------------------------------------
# aws:iam
# --------------------------------------------------------------------------------------------

_ASSUME_ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@_handles("aws:iam/getRole:getRole")
def _get_role(args: dict, env: Environment) -> dict:
    name = _s(args, "name", "offline-role")
    rand = _rand(env, "", "role", name)
    return {"name": name, "id": name, "arn": f"arn:{env.partition}:iam::{env.account}:role/{name}", "path": "/",
            "assumeRolePolicy": _ASSUME_ROLE_POLICY, "uniqueId": "AROA" + rand.upper("id", 17),
            "createDate": "2024-01-01T00:00:00Z", "description": "", "maxSessionDuration": 3600,
            "permissionsBoundary": "", "roleLastUseds": [], "tags": _d(args, "tags")}


@_handles("aws:iam/getPolicy:getPolicy")
def _get_policy(args: dict, env: Environment) -> dict:
    arn = _s(args, "arn")
    name = _s(args, "name")
    if not arn:
        name = name or "offline-policy"
        arn = f"arn:{env.partition}:iam::{env.account}:policy/{name}"
    name = name or arn.rsplit("/", 1)[-1]
    path = "/" + arn.split(":policy/", 1)[-1].rsplit("/", 1)[0] + "/" if arn.count("/") > 1 else "/"
    rand = _rand(env, "", "policy", arn)
    # The real document is unknown offline: an empty one grants nothing and trips no rule.
    document = json.dumps({"Version": "2012-10-17", "Statement": []})
    return {"arn": arn, "id": arn, "name": name, "path": path, "description": "", "policy": document,
            "policyId": "ANPA" + rand.upper("id", 17), "attachmentCount": 1, "tags": _d(args, "tags")}


# --------------------------------------------------------------------------------------------
# Other services
# --------------------------------------------------------------------------------------------

# The per-region accounts of Elastic Load Balancing, for access-log bucket policies.
_ELB_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
    "eu-central-1": "054676820928", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "sa-east-1": "507241528517",
}


@_handles("aws:elb/getServiceAccount:getServiceAccount")
def _get_elb_service_account(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    account = _ELB_ACCOUNTS.get(region, "127311923021")
    return {"id": account, "arn": f"arn:{env.partition}:iam::{account}:root", "region": region}


@_handles("aws:ecs/getCluster:getCluster")
def _get_ecs_cluster(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    name = _s(args, "clusterName", "default")
    arn = _arn(env, "ecs", region, f"cluster/{name}")
    return {"clusterName": name, "arn": arn, "id": arn, "status": "ACTIVE", "pendingTasksCount": 0,
            "runningTasksCount": 0, "registeredContainerInstancesCount": 0, "settings": [],
            "serviceConnectDefaults": [], "region": region, "tags": _d(args, "tags")}


@_handles("aws:ssm/getParameter:getParameter")
def _get_ssm_parameter(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    name = _s(args, "name", "/offline/parameter")
    rand = _rand(env, region, "ssm", name)
    # Public AMI parameters (/aws/service/ami-amazon-linux-latest/..., eks optimized-ami) feed an
    # instance's `ami`: answer with an AMI id rather than text.
    value = "ami-" + rand.hex("ami", 17) if "ami" in name.lower() else "offline-placeholder"
    arn = _arn(env, "ssm", region, "parameter" + (name if name.startswith("/") else "/" + name))
    return {"name": name, "value": value, "insecureValue": value, "type": "String", "version": 1,
            "arn": arn, "id": name, "region": region}


@_handles("aws:route53/getZone:getZone")
def _get_zone(args: dict, env: Environment) -> dict:
    name = _s(args, "name", "example.com").rstrip(".")
    rand = _rand(env, "", "zone", name)
    zone_id = _s(args, "zoneId") or "Z" + rand.upper("id", 20)
    servers = [f"ns-{rand.number('ns' + str(i), 1, 2047)}.awsdns-{rand.number('d' + str(i), 10, 63)}.{tld}"
               for i, tld in enumerate(("com", "net", "org", "co.uk"))]
    return {"id": zone_id, "zoneId": zone_id, "name": name, "arn": f"arn:{env.partition}:route53:::hostedzone/{zone_id}",
            "nameServers": servers, "primaryNameServer": servers[0], "callerReference": rand.uuid("caller"),
            "comment": "", "resourceRecordSetCount": 2, "linkedServiceDescription": "",
            "linkedServicePrincipal": "", "tags": _d(args, "tags")}


def _pem(kind: str, rand: _Rand) -> str:
    body = base64.b64encode(bytes.fromhex(rand.hex(kind, 192))).decode()
    return f"-----BEGIN {kind}-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + f"\n-----END {kind}-----\n"


@_handles("aws:acm/getCertificate:getCertificate")
def _get_certificate(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    domain = _s(args, "domain", "example.com")
    rand = _rand(env, region, "acm", domain)
    arn = _arn(env, "acm", region, f"certificate/{rand.uuid('arn')}")
    return {"arn": arn, "id": arn, "domain": domain, "status": "ISSUED", "region": region,
            "certificate": _pem("CERTIFICATE", rand), "certificateChain": _pem("CERTIFICATE", _Rand(arn)),
            "tags": _d(args, "tags")}


@_handles("aws:eks/getClusterAuth:getClusterAuth")
def _get_cluster_auth(args: dict, env: Environment) -> dict:
    name = _s(args, "name", "cluster")
    token = "k8s-aws-v1." + base64.urlsafe_b64encode(f"offline-token-for-{name}".encode()).decode().rstrip("=")
    return {"name": name, "id": name, "token": token, "region": _region(args, env)}


@_handles("aws:eks/getCluster:getCluster")
def _get_eks_cluster(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    name = _s(args, "name", "cluster")
    rand = _rand(env, region, "eks", name)
    cert = base64.b64encode(_pem("CERTIFICATE", rand).encode()).decode()
    vpc_id = _default_vpc_id(env, region)
    return {
        "name": name, "id": name, "arn": _arn(env, "eks", region, f"cluster/{name}"), "region": region,
        "endpoint": f"https://{rand.hex('endpoint', 32).upper()}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthorities": [{"data": cert}], "status": "ACTIVE", "version": "1.31", "platformVersion": "eks.1",
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{rand.hex('oidc', 32).upper()}"}]}],
        "roleArn": f"arn:{env.partition}:iam::{env.account}:role/{name}-cluster-role",
        "vpcConfig": {"vpcId": vpc_id, "subnetIds": [_subnet_id(env, region, vpc_id, az) for az in _azs(region)],
                      "securityGroupIds": [], "clusterSecurityGroupId": "sg-" + rand.hex("sg", 17),
                      "endpointPrivateAccess": False, "endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]},
        "createdAt": "2024-01-01T00:00:00Z", "tags": _d(args, "tags"),
    }


@_handles("aws:kms/getKey:getKey")
def _get_kms_key(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    given = _s(args, "keyId", "")
    rand = _rand(env, region, "kms", given)
    key_id = given.rsplit("/", 1)[-1] if given.count("-") == 4 and not given.startswith("alias") else rand.uuid("key")
    return {"id": key_id, "keyId": key_id, "arn": _arn(env, "kms", region, f"key/{key_id}"), "awsAccountId": env.account,
            "enabled": True, "keyState": "Enabled", "keyUsage": "ENCRYPT_DECRYPT", "keySpec": "SYMMETRIC_DEFAULT",
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyManager": "CUSTOMER", "origin": "AWS_KMS",
            "multiRegion": False, "description": "", "region": region, "creationDate": "2024-01-01T00:00:00Z",
            "deletionDate": "", "validTo": "", "expirationModel": "", "cloudHsmClusterId": "", "customKeyStoreId": "",
            "pendingDeletionWindowInDays": 0, "multiRegionConfigurations": [], "xksKeyConfigurations": []}


@_handles("aws:kms/getAlias:getAlias")
def _get_kms_alias(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    name = _s(args, "name", "alias/offline")
    key_id = _rand(env, region, "kms-alias", name).uuid("key")
    return {"name": name, "id": _arn(env, "kms", region, name), "arn": _arn(env, "kms", region, name),
            "targetKeyId": key_id, "targetKeyArn": _arn(env, "kms", region, f"key/{key_id}"), "region": region}


@_handles("aws:secretsmanager/getSecret:getSecret")
def _get_secret(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    arn = _s(args, "arn")
    name = _s(args, "name") or (arn.split(":secret:", 1)[-1].rsplit("-", 1)[0] if arn else "offline-secret")
    if not arn:
        suffix = _rand(env, region, "secret", name).chars("suffix", 6, "abcdefghijklmnopqrstuvwxyzABCDEF")
        arn = _arn(env, "secretsmanager", region, f"secret:{name}-{suffix}")
    return {"arn": arn, "id": arn, "name": name, "description": "", "kmsKeyId": "", "policy": "",
            "createdDate": "2024-01-01T00:00:00Z", "lastChangedDate": "2024-01-01T00:00:00Z",
            "region": region, "tags": _d(args, "tags"), "type": ""}


@_handles("aws:secretsmanager/getSecretVersion:getSecretVersion")
def _get_secret_version(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    secret_id = _s(args, "secretId", "offline-secret")
    arn = secret_id if secret_id.startswith("arn:") else _arn(env, "secretsmanager", region, f"secret:{secret_id}-AbCdEf")
    version = _s(args, "versionId") or _rand(env, region, "secret-version", secret_id).uuid("v")
    # "{}" parses as JSON (programs often json.loads a secret) and is still a usable string.
    return {"arn": arn, "id": f"{arn}|{_s(args, 'versionStage', 'AWSCURRENT')}", "secretId": secret_id,
            "secretArn": arn, "secretString": "{}", "secretBinary": "", "versionId": version,
            "versionStages": [_s(args, "versionStage", "AWSCURRENT")], "createdDate": "2024-01-01T00:00:00Z",
            "region": region}


@_handles("aws:ecr/getAuthorizationToken:getAuthorizationToken")
def _get_ecr_token(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    password = "offline-" + _rand(env, region, "ecr").lower("token", 32)
    registry = _s(args, "registryId") or env.account
    return {"authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(), "password": password,
            "userName": "AWS", "proxyEndpoint": f"https://{registry}.dkr.ecr.{region}.amazonaws.com",
            "expiresAt": "2024-01-01T12:00:00Z", "id": region, "region": region}


@_handles("aws:ecr/getCredentials:getCredentials")
def _get_ecr_credentials(args: dict, env: Environment) -> dict:
    """The older form of getAuthorizationToken (programs pushing images to ECR with docker)."""
    token = _get_ecr_token(args, env)
    registry = _s(args, "registryId") or env.account
    return {"authorizationToken": token["authorizationToken"], "expiresAt": token["expiresAt"],
            "proxyEndpoint": token["proxyEndpoint"], "registryId": registry, "id": registry,
            "region": token["region"]}


@_handles("aws:ecr/getRepository:getRepository")
def _get_ecr_repository(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    name = _s(args, "name", "repository")
    registry = _s(args, "registryId") or env.account
    return {"name": name, "id": name, "arn": _arn(env, "ecr", region, f"repository/{name}"), "registryId": registry,
            "repositoryUrl": f"{registry}.dkr.ecr.{region}.amazonaws.com/{name}", "imageTagMutability": "MUTABLE",
            "mostRecentImageTags": [], "imageTagMutabilityExclusionFilters": [], "region": region,
            "tags": _d(args, "tags")}


@_handles("aws:lb/getLoadBalancer:getLoadBalancer", "aws:alb/getLoadBalancer:getLoadBalancer")
def _get_load_balancer(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    arn = _s(args, "arn")
    name = _s(args, "name") or (arn.split("/")[-2] if arn.count("/") >= 3 else "offline-lb")
    rand = _rand(env, region, "lb", str(name))
    if not arn:
        arn = _arn(env, "elasticloadbalancing", region, f"loadbalancer/app/{name}/{rand.hex('arn', 16)}")
    vpc_id = _default_vpc_id(env, region)
    return {"arn": arn, "id": arn, "name": name, "arnSuffix": arn.split(":loadbalancer/", 1)[-1],
            "dnsName": f"{name}-{rand.number('dns', 10**9, 10**10 - 1)}.{region}.elb.amazonaws.com",
            "zoneId": "Z35SXDOTRQ7X7K" if region == "us-east-1" else "Z" + rand.upper("zone", 13),
            "loadBalancerType": "application", "internal": False, "ipAddressType": "ipv4", "vpcId": vpc_id,
            "subnets": [_subnet_id(env, region, vpc_id, az) for az in _azs(region)], "securityGroups": [],
            "region": region, "tags": _d(args, "tags")}


@_handles("aws:s3/getBucket:getBucket")
def _get_bucket(args: dict, env: Environment) -> dict:
    region = _region(args, env)
    bucket = _s(args, "bucket", "offline-bucket")
    return {"bucket": bucket, "id": bucket, "arn": f"arn:{env.partition}:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
            "hostedZoneId": "Z3AQBSTGFYJSTF" if region == "us-east-1" else "Z" + _rand(env, region, "s3").upper("z", 13),
            "region": region, "bucketRegion": region, "websiteEndpoint": "", "websiteDomain": ""}


# Ids of the AWS-managed CloudFront policies that programs look up by name.
_MANAGED_CACHE_POLICIES = {
    "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    "Managed-CachingOptimizedForUncompressedObjects": "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
}
_MANAGED_ORIGIN_REQUEST_POLICIES = {
    "Managed-AllViewer": "216adef6-5c7f-47e4-b989-5492eafa07d3",
    "Managed-CORS-S3Origin": "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
    "Managed-AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
}


@_handles("aws:cloudfront/getCachePolicy:getCachePolicy")
def _get_cache_policy(args: dict, env: Environment) -> dict:
    name = _s(args, "name", "Managed-CachingOptimized")
    policy_id = _s(args, "id") or _MANAGED_CACHE_POLICIES.get(name) or _Rand(name).uuid("cache")
    return {"id": policy_id, "name": name, "comment": "", "etag": "E" + _Rand(name).upper("etag", 13),
            "defaultTtl": 86400, "maxTtl": 31536000, "minTtl": 1}


@_handles("aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy")
def _get_origin_request_policy(args: dict, env: Environment) -> dict:
    name = _s(args, "name", "Managed-AllViewer")
    policy_id = _s(args, "id") or _MANAGED_ORIGIN_REQUEST_POLICIES.get(name) or _Rand(name).uuid("origin")
    return {"id": policy_id, "name": name, "comment": "", "etag": "E" + _Rand(name).upper("etag", 13)}


# --------------------------------------------------------------------------------------------
# aws:iam/getPolicyDocument — evaluated as the provider does
# --------------------------------------------------------------------------------------------
#
# The provider (Terraform's aws_iam_policy_document) renders a document whose statements hold:
# Sid, Effect, Action, NotAction, Resource, NotResource, Principal, NotPrincipal, Condition, in
# that order, each omitted when empty. Sets of strings (actions, resources, principal identifiers)
# collapse to a plain string when they have one element and are otherwise sorted in *reverse*
# order; condition values keep their order and also collapse when single. Principals and
# conditions are JSON objects, whose keys Go's encoder sorts. `source_policy_documents` are merged
# first, then the statements, then `override_policy_documents`, a statement replacing an earlier
# one with the same non-empty Sid.


@_handles("aws:iam/getPolicyDocument:getPolicyDocument")
def _get_policy_document(args: dict, env: Environment) -> dict:
    pretty, minified = policy_document(args)
    return {"json": pretty, "minifiedJson": minified, "id": str(zlib.crc32(pretty.encode()))}


def policy_document(args: dict) -> tuple[str, str]:
    """(json, minifiedJson) of a getPolicyDocument call's arguments (camelCase, as on the wire)."""
    merged: dict[str, Any] = {"Version": "", "Id": "", "Statement": []}
    for source in _l(args, "sourcePolicyDocuments"):
        if isinstance(source, str) and source:
            _merge_document(merged, _parse_document(source))
    version = _s(args, "version") or "2012-10-17"
    own = {"Version": version, "Id": _s(args, "policyId") or "",
           "Statement": [_statement_from_args(s, version) for s in _l(args, "statements") if isinstance(s, dict)]}
    _merge_document(merged, own)
    for override in _l(args, "overridePolicyDocuments"):
        if isinstance(override, str) and override:
            _merge_document(merged, _parse_document(override))
    rendered = _render_document(merged)
    return _go_json(rendered, pretty=True), _go_json(rendered, pretty=False)


def _merge_document(target: dict, new: dict) -> None:
    if new.get("Id"):
        target["Id"] = new["Id"]
    if str(new.get("Version") or "") > str(target.get("Version") or ""):
        target["Version"] = new["Version"]
    for statement in new.get("Statement", []):
        sid = statement.get("Sid") or ""
        index = next((i for i, s in enumerate(target["Statement"]) if sid and s.get("Sid") == sid), None)
        if index is None:
            target["Statement"].append(statement)
        else:
            target["Statement"][index] = statement


def _collapse(values: list[str]) -> Any:
    """A set of strings as the provider writes it: the element itself when single, otherwise the
    distinct values sorted in reverse order."""
    distinct = sorted(set(values), reverse=True)
    return distinct[0] if len(distinct) == 1 else distinct


def _replace_vars(value: Any, version: str) -> Any:
    # `&{aws:username}` is how a program writes an IAM variable without it being interpolated.
    if version == "2008-10-17":
        return value
    if isinstance(value, list):
        return [v.replace("&{", "${") for v in value]
    return value.replace("&{", "${") if isinstance(value, str) else value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)]


def _statement_from_args(raw: dict, version: str) -> dict:
    statement: dict[str, Any] = {"Sid": raw.get("sid") or "", "Effect": raw.get("effect") or "Allow"}
    for key, out in (("actions", "Action"), ("notActions", "NotAction")):
        if _strings(raw.get(key)):
            statement[out] = _collapse(_strings(raw.get(key)))
    for key, out in (("resources", "Resource"), ("notResources", "NotResource")):
        if _strings(raw.get(key)):
            statement[out] = _replace_vars(_collapse(_strings(raw.get(key))), version)
    for key, out in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        principals = [(str(p.get("type", "")), _replace_vars(_collapse(_strings(p.get("identifiers"))), version))
                      for p in raw.get(key) or [] if isinstance(p, dict) and _strings(p.get("identifiers"))]
        if principals:
            statement[out] = principals
    conditions = []
    for c in raw.get("conditions") or []:
        if isinstance(c, dict):
            values = _replace_vars([v if isinstance(v, str) else str(v) for v in c.get("values") or []], version)
            conditions.append((str(c.get("test", "")), str(c.get("variable", "")), values[0] if len(values) == 1 else values))
    if conditions:
        statement["Condition"] = conditions
    return statement


def _ci_get(mapping: dict, key: str) -> Any:
    """Go's JSON decoder matches field names case-insensitively."""
    if key in mapping:
        return mapping[key]
    return next((v for k, v in mapping.items() if isinstance(k, str) and k.lower() == key.lower()), None)


def _parse_document(text: str) -> dict:
    """A policy JSON (source/override documents) into the same shape _statement_from_args builds.
    A document that is not JSON, or not a JSON object, contributes nothing: the provider would fail
    the call, but an offline answer must still be one the SDK accepts, so the program runs on."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict):
        return {"Statement": []}
    raw_statements = _ci_get(doc, "Statement") or []
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raw_statements = []
    statements = []
    for raw in raw_statements:
        if not isinstance(raw, dict):
            continue
        statement: dict[str, Any] = {"Sid": _text(_ci_get(raw, "Sid")), "Effect": _text(_ci_get(raw, "Effect"))}
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if _ci_get(raw, key):
                statement[key] = _ci_get(raw, key)  # kept exactly as written
        for key in ("Principal", "NotPrincipal"):
            principals = _parse_principals(_ci_get(raw, key))
            if principals:
                statement[key] = principals
        conditions = _parse_conditions(_ci_get(raw, "Condition"))
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    return {"Version": _text(_ci_get(doc, "Version")), "Id": _text(_ci_get(doc, "Id")), "Statement": statements}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _parse_principals(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, str):
        return [("*", ["*"])]
    if not isinstance(value, dict):
        return []
    principals: list[tuple[str, Any]] = []
    for kind, ids in value.items():
        if isinstance(ids, str):
            principals.append((kind, ids))
        elif isinstance(ids, list):
            principals.append((kind, sorted(str(i) for i in ids)))
    return principals


def _parse_conditions(value: Any) -> list[tuple[str, str, Any]]:
    conditions: list[tuple[str, str, Any]] = []
    if not isinstance(value, dict):
        return conditions
    for test, variables in value.items():
        for variable, values in (variables or {}).items() if isinstance(variables, dict) else []:
            if isinstance(values, bool):
                conditions.append((test, variable, "true" if values else "false"))
            elif isinstance(values, str):
                conditions.append((test, variable, [values]))
            elif isinstance(values, list):
                conditions.append((test, variable, [str(v) for v in values]))
    return conditions


def _render_principals(principals: list[tuple[str, Any]]) -> Any:
    if len(principals) == 1 and principals[0][0] == "*" and principals[0][1] in ("*", ["*"]):
        return "*"
    rendered: dict[str, Any] = {}
    for kind, ids in principals:
        current = rendered.get(kind)
        if isinstance(ids, list):
            merged = [] if current is None else ([current] if isinstance(current, str) else current)
            rendered[kind] = merged + sorted(ids, reverse=True)
        elif current is None:
            rendered[kind] = ids
        elif isinstance(current, str):
            rendered[kind] = [current, ids]
        else:
            current.append(ids)
    return {k: rendered[k] for k in sorted(rendered)}


def _render_conditions(conditions: list[tuple[str, str, Any]]) -> dict:
    rendered: dict[str, dict[str, list[str]]] = {}
    for test, variable, values in conditions:
        bucket = rendered.setdefault(test, {}).setdefault(variable, [])
        bucket.extend(values if isinstance(values, list) else [values])
    return {test: {var: (vals[0] if len(vals) == 1 else vals) for var, vals in sorted(rendered[test].items())}
            for test in sorted(rendered)}


def _render_document(doc: dict) -> dict:
    out: dict[str, Any] = {}
    if doc.get("Version"):
        out["Version"] = doc["Version"]
    if doc.get("Id"):
        out["Id"] = doc["Id"]
    statements = []
    for s in doc.get("Statement", []):
        rendered: dict[str, Any] = {}
        for key in ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource"):
            if s.get(key):
                rendered[key] = s[key]
        for key in ("Principal", "NotPrincipal"):
            if s.get(key):
                rendered[key] = _render_principals(s[key])
        if s.get("Condition"):
            rendered["Condition"] = _render_conditions(s["Condition"])
        statements.append(rendered)
    if statements:
        out["Statement"] = statements
    return out


def _go_json(value: Any, pretty: bool) -> str:
    """JSON as Go's encoding/json writes it: UTF-8 kept, but <, > and & escaped for HTML safety
    (and U+2028/U+2029), two-space indentation for MarshalIndent."""
    if pretty:
        text = json.dumps(value, ensure_ascii=False, indent=2, separators=(",", ": "))
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text
