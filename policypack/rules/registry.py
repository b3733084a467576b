"""Rules of the registry concern: ECR repositories (the Extended table's container-platform
hardening). Repository encryption (ecr-kms-encryption) is an encryption rule, in encryption.py.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Iterable, Optional, Set

from .. import props as P
from ..rule import (UNDECIDABLE, Context, NotApplicable, StackRule, StackView, Undecided, Violation, cfg_bool,
                    cfg_list, fsbp, pci, string_list)
from .value_check import ValueCheck

CONCERN = "registry"  # the concern of every rule here (Rule reads it)


class EcrScanOnPush(ValueCheck, policy="ecr-scan-on-push", level="mandatory", severity="high",
                    frameworks=(pci("6.3.1"), fsbp("ECR.1")), types=P.REPOSITORY):
    """ECR repositories must scan images on push.

    Remediation:
        Set `image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True)`
        on the repository (or configure registry-level scanning and set the policy's `registryScanning` to
        true).

    Compliant example:
        aws.ecr.Repository("app", image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True))
    """
    config_properties = {
        "registryScanning": {
            "type": "boolean", "default": False,
            "description": "Set true when the account's registry scanning configuration "
                           "(`aws.ecr.RegistryScanningConfiguration`, e.g. enhanced scanning with scan on push) "
                           "scans every repository: the repository-level setting is then ignored by ECR.",
        },
    }

    property_path = ("imageScanningConfiguration", "scanOnPush")
    read = staticmethod(P.as_bool)

    def judged(self, resource: P.ResourceView, ctx: Context) -> bool:
        return not cfg_bool(ctx, "registryScanning", False)

    def problem(self, scan, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        if scan is True:
            return None
        block = P.as_dict(resource.get("imageScanningConfiguration"))
        state = ("has no `imageScanningConfiguration`" if block is P.MISSING
                 else "has `scanOnPush` false or unset" if isinstance(block, Mapping)
                 else "has an `imageScanningConfiguration` that is not an object")
        return (f"ECR repository '{resource.name}' {state}: set `image_scanning_configuration="
                "aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True)`.")


DEFAULT_MUTABILITY = ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"]


class EcrImmutableTags(ValueCheck, policy="ecr-immutable-tags", level="advisory", severity="medium",
                       frameworks=(pci("6.5.1"), fsbp("ECR.2")), types=P.REPOSITORY):
    """ECR repositories must make image tags immutable.

    Remediation:
        Set `image_tag_mutability="IMMUTABLE"` on the repository (it defaults to MUTABLE) and deploy images by a
        unique tag or digest.

    Compliant example:
        aws.ecr.Repository("app", image_tag_mutability="IMMUTABLE", ...)
    """
    config_properties = {
        "allowedTagMutability": string_list(
            list(DEFAULT_MUTABILITY),
            "Accepted imageTagMutability values (IMMUTABLE_WITH_EXCLUSION keeps every tag "
            "immutable except the exclusion filters; remove it to require IMMUTABLE)."),
    }

    property_path = ("imageTagMutability",)
    read = staticmethod(P.as_str)

    def problem(self, value, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        allowed = {a.strip().upper() for a in cfg_list(ctx, "allowedTagMutability") if isinstance(a, str)}
        if not allowed:
            allowed = set(DEFAULT_MUTABILITY)
        if isinstance(value, str) and value.strip().upper() in allowed:
            return None
        if value is P.MISSING or (isinstance(value, str) and not value.strip()):
            state = "does not set `imageTagMutability` (defaults to MUTABLE)"
        elif isinstance(value, str) and not resource.is_secret(("imageTagMutability",)):
            state = f"has `imageTagMutability` {value.strip()!r}"
        else:
            state = "has an `imageTagMutability` that is not allowed"
        return (f"ECR repository '{resource.name}' {state}: set `image_tag_mutability=\"IMMUTABLE\"` "
                f"(allowed: {', '.join(sorted(allowed))}).")


class EcrLifecyclePolicy(StackRule, policy="ecr-lifecycle-policy", level="advisory", severity="low",
                         frameworks=(fsbp("ECR.3"),)):
    """Every ECR repository must have a lifecycle policy.

    Remediation:
        Add `aws.ecr.LifecyclePolicy("app-lifecycle", repository=repo.name, policy=json.dumps({"rules":
        [...]}))` for each repository (e.g. expire untagged images after 14 days and keep the last N tagged
        ones).

    Compliant example:
        aws.ecr.LifecyclePolicy("app", repository=repo.name, policy=json.dumps({"rules": [{
            "rulePriority": 1,
            "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                          "countNumber": 14},
            "action": {"type": "expire"}}]}))
    """

    def check_stack(self, stack: StackView, ctx: Context) -> Iterable[Violation]:
        repos = stack.of_type(*P.REPOSITORY)
        if not repos:
            return
        covered: Set[str] = set()
        undecided = Undecided()
        for policy in stack.of_type(*P.ECR_LIFECYCLE_POLICY):
            found = stack.resolve(policy, "repository", P.REPOSITORY, by=("name", "id"))
            if found.status == UNDECIDABLE:
                undecided.add(found.undecidable)  # it may be the one a repository lacks
            region = policy.props.get("region")
            for repo in found.resources:
                other = repo.props.get("region")
                if (found.via == "value" and isinstance(region, str) and isinstance(other, str)
                        and not P.is_unknown(region) and not P.is_unknown(other) and region != other):
                    continue  # same name, another region's repository
                covered.add(repo.urn)
        if undecided:
            raise NotApplicable(f"decided when the values are known: {'; '.join(undecided.reasons[:3])}")
        for repo in repos:
            if repo.urn not in covered:
                yield Violation(f"ECR repository '{repo.name}' has no lifecycle policy: old and untagged images "
                                "pile up; add `aws.ecr.LifecyclePolicy(..., repository=repo.name, policy=...)`.",
                                urn=repo.urn)


RULES = [EcrScanOnPush, EcrImmutableTags, EcrLifecyclePolicy]
