"""Encryption at rest: CloudWatch log groups, ECR repositories, KMS keys, Secrets Manager."""
from __future__ import annotations

from typing import Iterable

from .. import props as P
from ..rule import Context, Rule, Violation, fsbp, pci, cfg_number


class LogGroupKmsEncryption(Rule):
    name = "log-group-kms-encryption"
    description = "CloudWatch log groups must be encrypted with a customer-managed KMS key."
    level = "mandatory"
    severity = "high"
    concern = "encryption"
    seeds = (6,)
    frameworks = (pci("3.5.1", "10.3.2"), fsbp("CloudWatch.16"))
    resource_types = P.LOG_GROUP
    remediation = ("Create an `aws.kms.Key` (with rotation and a key policy that lets "
                   "`logs.<region>.amazonaws.com` use it) and set the log group's `kms_key_id` to its ARN. "
                   "`kms_key_id=None` means no encryption with a key you control, not 'AWS-managed'.")
    compliant_example = 'aws.cloudwatch.LogGroup("app", kms_key_id=logs_key.arn, retention_in_days=365)'

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        key = P.as_str(resource.get("kmsKeyId"))
        if key is P.UNKNOWN or (isinstance(key, str) and key.strip()):
            return  # an unknown reference (another resource's output) counts as set
        yield Violation(f"Log group '{resource.name}' has no `kmsKeyId`: set `kms_key_id` to the ARN of a "
                        "customer-managed KMS key.", path="kmsKeyId")


class LogGroupRetention(Rule):
    name = "log-group-retention"
    description = "CloudWatch log groups must keep logs for at least the minimum retention period."
    level = "mandatory"
    severity = "medium"
    concern = "encryption"
    seeds = (6,)
    frameworks = (pci("10.5.1"), fsbp("CloudWatch.16"))
    resource_types = P.LOG_GROUP
    config_properties = {
        "minRetentionDays": {"type": "number", "minimum": 1, "default": 365,
                             "description": "The shortest acceptable retentionInDays (PCI DSS 10.5.1: one year)."},
    }
    remediation = "Set `retention_in_days` to at least the configured minimum (default 365)."
    compliant_example = 'aws.cloudwatch.LogGroup("app", kms_key_id=logs_key.arn, retention_in_days=365)'

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        minimum = cfg_number(ctx, "minRetentionDays", 365)
        days = P.as_number(resource.get("retentionInDays"))
        if days is P.UNKNOWN:
            return
        if days is P.MISSING or days == 0:
            yield Violation(f"Log group '{resource.name}' has no `retentionInDays` (logs kept forever or "
                            f"unmanaged): set `retention_in_days` to at least {minimum:g}.", path="retentionInDays")
        elif days is P.INVALID:
            yield Violation(f"Log group '{resource.name}' has a `retentionInDays` that is not a number: set "
                            f"`retention_in_days` to at least {minimum:g}.", path="retentionInDays")
        elif days < minimum:
            yield Violation(f"Log group '{resource.name}' keeps logs {days:g} days (`retentionInDays`); the "
                            f"minimum is {minimum:g}: set `retention_in_days` to at least {minimum:g}.",
                            path="retentionInDays")


RULES = [LogGroupKmsEncryption, LogGroupRetention]
