"""Encryption at rest: CloudWatch log groups, ECR repositories, KMS keys, Secrets Manager.

Decisions:
* A key reference that is unknown at preview (another resource's output) counts as set.
* `alias/aws/...` (or an alias ARN ending so) names an AWS-managed key: it does not satisfy a rule that asks
  for a customer-managed key (secretsmanager-secret-cmk; ecr-kms-encryption with requireCustomerManagedKey).
* ecr-kms-encryption: no `encryptionConfigurations` (or no `encryptionType`) is ECR's AES256 default and
  fires unless `allowAes256`; KMS and KMS_DSSE pass; KMS without `kmsKey` (the AWS-managed `aws/ecr` key)
  passes unless `requireCustomerManagedKey`.
* kms-key-rotation: KMS can rotate only symmetric encryption keys in its own key store, so asymmetric/HMAC
  keys (customerMasterKeySpec other than SYMMETRIC_DEFAULT, keyUsage SIGN_VERIFY/GENERATE_VERIFY_MAC) and
  custom-key-store keys are reported not-applicable rather than violating; so is a key whose spec is still
  unknown and whose rotation is off (decided at `up`).
* kms-key-deletion-window: unset means 30 days (the longest), so only an explicit shorter window fires.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Iterable, Optional

from .. import props as P
from ..rule import Context, Rule, Violation, cfg_bool, cfg_number, cis, fsbp, pci
from ..rule import NotApplicable
from .value_check import ValueCheck

CONCERN = "encryption"  # the concern of every rule here (Rule reads it)


class LogGroupKmsEncryption(ValueCheck, policy="log-group-kms-encryption", level="mandatory", severity="high",
                            seeds=(6,), frameworks=(pci("3.5.1", "10.3.2"), fsbp("CloudWatch.16")),
                            types=P.LOG_GROUP):
    """CloudWatch log groups must be encrypted with a customer-managed KMS key.

    Remediation:
        Create an `aws.kms.Key` (with rotation and a key policy that lets `logs.<region>.amazonaws.com` use it)
        and set the log group's `kms_key_id` to its ARN. `kms_key_id=None` means no encryption with a key you
        control, not 'AWS-managed'.

    Compliant example:
        aws.cloudwatch.LogGroup("app", kms_key_id=logs_key.arn, retention_in_days=365)
    """
    property_path = ("kmsKeyId",)
    read = staticmethod(P.as_str)
    unknown_is_set = True  # an unknown reference (another resource's output) counts as set

    def problem(self, key, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        if isinstance(key, str) and key.strip():
            return None
        return (f"Log group '{resource.name}' has no `kmsKeyId`: set `kms_key_id` to the ARN of a "
                "customer-managed KMS key.")


class LogGroupRetention(ValueCheck, policy="log-group-retention", level="mandatory", severity="medium", seeds=(6,),
                        frameworks=(pci("10.5.1"), fsbp("CloudWatch.16")), types=P.LOG_GROUP):
    """CloudWatch log groups must keep logs for at least the minimum retention period.

    Remediation:
        Set `retention_in_days` to at least the configured minimum (default 365).

    Compliant example:
        aws.cloudwatch.LogGroup("app", kms_key_id=logs_key.arn, retention_in_days=365)
    """
    config_properties = {
        "minRetentionDays": {"type": "number", "minimum": 1, "default": 365,
                             "description": "The shortest acceptable retentionInDays (PCI DSS 10.5.1: one year)."},
    }
    property_path = ("retentionInDays",)
    read = staticmethod(P.as_number)

    def problem(self, days, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        minimum = cfg_number(ctx, "minRetentionDays", 365)
        if days is P.MISSING or days == 0:
            return (f"Log group '{resource.name}' has no `retentionInDays` (logs kept forever or "
                    f"unmanaged): set `retention_in_days` to at least {minimum:g}.")
        if days is P.INVALID:
            return (f"Log group '{resource.name}' has a `retentionInDays` that is not a number: set "
                    f"`retention_in_days` to at least {minimum:g}.")
        if days < minimum:
            return (f"Log group '{resource.name}' keeps logs {days:g} days (`retentionInDays`); the "
                    f"minimum is {minimum:g}: set `retention_in_days` to at least {minimum:g}.")
        return None


# --- shared helpers ------------------------------------------------------------------------------

def _aws_managed_alias(key: str) -> bool:
    """`alias/aws/...` (or an alias ARN ending so) names an AWS-managed key, not one you control."""
    text = key.strip().lower()
    return text.startswith("alias/aws/") or ":alias/aws/" in text


def _key_is_set(value) -> bool:
    """A key reference counts as set when it is unknown (another resource's output) or a non-blank
    string; anything else (missing, empty, wrong type) does not."""
    key = P.as_str(value)
    return key is P.UNKNOWN or (isinstance(key, str) and bool(key.strip()))


# --- ECR ---------------------------------------------------------------------------------------

#: Encryption types that use KMS (KMS_DSSE: dual-layer server-side encryption with KMS keys).
_ECR_KMS_TYPES = ("KMS", "KMS_DSSE")


class EcrKmsEncryption(Rule, policy="ecr-kms-encryption", level="mandatory", severity="medium", seeds=(6, 12),
                       frameworks=(pci("3.5.1", "3.6.1"),), types=P.REPOSITORY):
    """ECR repositories must encrypt images with KMS (not the default AES256).

    Remediation:
        Set `encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS",
        kms_key=key.arn)]` on the repository (pulumi-aws 7: a list, `encryption_configurations`; the singular
        `encryption_configuration` does not exist and fails with a TypeError). Encryption settings cannot be
        changed after creation: the repository is replaced.

    Compliant example:
        aws.ecr.Repository("app", encryption_configurations=[
            aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=ecr_key.arn)])
    """
    config_properties = {
        "allowAes256": {"type": "boolean", "default": False,
                        "description": "Accept encryptionType AES256 (S3-managed keys, ECR's default) as compliant."},
        "requireCustomerManagedKey": {
            "type": "boolean", "default": False,
            "description": "With KMS, also require `kmsKey` to name a customer-managed key (not the AWS-managed "
                           "`aws/ecr` key, which is used when `kmsKey` is omitted or is an `alias/aws/...`)."},
    }

    _FIX = ("set `encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type=\"KMS\", "
            "kms_key=<key ARN>)]`")

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        allow_aes = cfg_bool(ctx, "allowAes256", False)
        require_cmk = cfg_bool(ctx, "requireCustomerManagedKey", False)
        raw = resource.get("encryptionConfigurations")
        configs = P.as_list(raw)
        if configs is P.UNKNOWN:
            return
        if configs is P.MISSING or configs == []:
            if not allow_aes:
                yield Violation(f"Repository '{resource.name}' has no `encryptionConfigurations`, so ECR uses its "
                                f"default AES256 encryption: {self._FIX}.", path="encryptionConfigurations")
            return
        if configs is P.INVALID:
            yield Violation(f"Repository '{resource.name}' has an `encryptionConfigurations` that is not a list of "
                            f"encryption configurations: {self._FIX}.", path="encryptionConfigurations")
            return
        for index, entry in enumerate(configs):
            path = f"encryptionConfigurations[{index}]"
            if P.is_unknown(entry):
                continue
            if not isinstance(entry, Mapping):
                yield Violation(f"Repository '{resource.name}' has a `{path}` that is not an encryption "
                                f"configuration: {self._FIX}.", path=path)
                continue
            kind = P.as_str(P.lookup(entry, "encryptionType"))
            if kind is P.UNKNOWN:
                continue
            if kind is P.MISSING or (isinstance(kind, str) and kind.strip().upper() == "AES256"):
                if not allow_aes:
                    what = "no `encryptionType` (defaults to AES256)" if kind is P.MISSING else "`encryptionType` AES256"
                    yield Violation(f"Repository '{resource.name}' has {what} in `{path}`: {self._FIX}.",
                                    path=f"{path}.encryptionType")
                continue
            if kind is P.INVALID or kind.strip().upper() not in _ECR_KMS_TYPES:
                shown = "" if kind is P.INVALID or resource.is_secret(("encryptionConfigurations",)) else f" ({kind!r})"
                yield Violation(f"Repository '{resource.name}' has an unsupported `encryptionType`{shown} in "
                                f"`{path}`: {self._FIX}.", path=f"{path}.encryptionType")
                continue
            if require_cmk:
                key = P.lookup(entry, "kmsKey")
                if not _key_is_set(key):
                    yield Violation(f"Repository '{resource.name}' uses KMS without `kmsKey` in `{path}`, i.e. the "
                                    "AWS-managed `aws/ecr` key: set `kms_key` to the ARN of a customer-managed KMS key.",
                                    path=f"{path}.kmsKey")
                elif isinstance(key, str) and _aws_managed_alias(key):
                    yield Violation(f"Repository '{resource.name}' names an AWS-managed key (`alias/aws/...`) as "
                                    f"`kmsKey` in `{path}`: set `kms_key` to the ARN of a customer-managed KMS key.",
                                    path=f"{path}.kmsKey")


# --- KMS -----------------------------------------------------------------------------------------

_SYMMETRIC = "SYMMETRIC_DEFAULT"


class KmsKeyRotation(Rule, policy="kms-key-rotation", level="mandatory", severity="medium", seeds=(6,),
                     frameworks=(pci("3.6.1", "3.7.4"), fsbp("KMS.4"), cis("3.6")), types=P.KMS_KEY):
    """Customer-managed symmetric KMS keys must have automatic key rotation enabled.

    Remediation:
        Set `enable_key_rotation=True` on the `aws.kms.Key` (optionally `rotation_period_in_days` between 90 and
        the configured maximum). Asymmetric, HMAC and custom-key-store keys cannot be rotated automatically: the
        rule does not apply to them; rotate them manually.

    Compliant example:
        aws.kms.Key("data", enable_key_rotation=True, deletion_window_in_days=30)
    """
    config_properties = {
        "maxRotationPeriodDays": {
            "type": "number", "minimum": 90, "maximum": 2560, "default": 2560,
            "description": "The longest acceptable `rotationPeriodInDays` (the key's cryptoperiod, PCI DSS 3.7.4). "
                           "Default 2560, the AWS maximum: any enabled rotation passes, as the catalogue asks; "
                           "set e.g. 365 to enforce a yearly cryptoperiod. KMS rotates yearly when it is not set."},
    }

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        enabled = P.as_bool(resource.get("enableKeyRotation"))
        if enabled is True:
            yield from self._period(resource, ctx)
            return
        if enabled is P.UNKNOWN:
            return
        # Only symmetric encryption keys in the AWS KMS key store can rotate automatically: KMS rejects
        # EnableKeyRotation for asymmetric and HMAC keys and for keys in custom key stores.
        spec = P.as_str(resource.get("customerMasterKeySpec"))
        usage = P.as_str(resource.get("keyUsage"))
        store = resource.get("customKeyStoreId")
        xks = resource.get("xksKeyId")
        if spec is P.UNKNOWN or usage is P.UNKNOWN:
            raise NotApplicable("the key spec is not known yet; the rule decides when it is")
        if isinstance(spec, str) and spec.strip() and spec.strip().upper() != _SYMMETRIC:
            raise NotApplicable("asymmetric and HMAC KMS keys cannot be rotated automatically")
        if isinstance(usage, str) and usage.strip().upper() in ("SIGN_VERIFY", "GENERATE_VERIFY_MAC"):
            raise NotApplicable("signing and MAC KMS keys cannot be rotated automatically")
        if _key_is_set(store) or _key_is_set(xks):
            raise NotApplicable("keys in a custom key store cannot be rotated automatically")
        if enabled is P.INVALID:
            yield Violation(f"KMS key '{resource.name}' has an `enableKeyRotation` that is not a boolean: set "
                            "`enable_key_rotation=True`.", path="enableKeyRotation")
        else:
            state = "is false" if enabled is False else "is not set (defaults to false)"
            yield Violation(f"KMS key '{resource.name}': `enableKeyRotation` {state}; set `enable_key_rotation=True` "
                            "so KMS rotates the key material.", path="enableKeyRotation")

    def _period(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        maximum = cfg_number(ctx, "maxRotationPeriodDays", 2560)
        period = P.as_number(resource.get("rotationPeriodInDays"))
        if isinstance(period, float) and period > maximum:
            yield Violation(f"KMS key '{resource.name}' rotates every {period:g} days (`rotationPeriodInDays`); the "
                            f"maximum is {maximum:g}: set `rotation_period_in_days` to at most {maximum:g}.",
                            path="rotationPeriodInDays")


class KmsKeyDeletionWindow(ValueCheck, policy="kms-key-deletion-window", level="advisory", severity="low",
                           seeds=(6,), frameworks=(pci("3.6.1", "3.7.5"), fsbp("KMS.3")), types=P.KMS_KEY):
    """KMS keys must keep the longest deletion waiting period, so a mistaken deletion can be cancelled.

    Remediation:
        Leave `deletion_window_in_days` unset (KMS waits 30 days) or set it to at least the configured minimum:
        data encrypted under a deleted key is lost for good.

    Compliant example:
        aws.kms.Key("data", enable_key_rotation=True, deletion_window_in_days=30)
    """
    config_properties = {
        "minDeletionWindowDays": {
            "type": "number", "minimum": 7, "maximum": 30, "default": 30,
            "description": "The shortest acceptable `deletionWindowInDays` (KMS accepts 7 to 30; 30 when unset)."},
    }
    property_path = ("deletionWindowInDays",)
    read = staticmethod(P.as_number)

    def problem(self, days, resource: P.ResourceView, ctx: Context) -> Optional[str]:
        minimum = cfg_number(ctx, "minDeletionWindowDays", 30)
        if days is P.MISSING:
            return None  # unset: KMS waits 30 days, the longest it allows
        if days is P.INVALID:
            return (f"KMS key '{resource.name}' has a `deletionWindowInDays` that is not a number: set "
                    f"`deletion_window_in_days` to at least {minimum:g} (or leave it unset).")
        if days < minimum:
            return (f"KMS key '{resource.name}' has a deletion window of {days:g} days "
                    f"(`deletionWindowInDays`); the minimum is {minimum:g}: set `deletion_window_in_days` to "
                    f"at least {minimum:g} (or leave it unset for 30).")
        return None


# --- Secrets Manager ------------------------------------------------------------------------------

class SecretsManagerSecretCmk(Rule, policy="secretsmanager-secret-cmk", level="mandatory", severity="medium",
                              seeds=(6, 8), frameworks=(pci("3.6.1", "8.3.2"),), types=P.SECRET):
    """Secrets Manager secrets must be encrypted with a customer-managed KMS key.

    Remediation:
        Set `kms_key_id` on the `aws.secretsmanager.Secret` (and on each of its `replicas`) to the ARN of a
        customer-managed KMS key. Without it, or with `alias/aws/secretsmanager`, the AWS-managed key is used:
        its key policy cannot be restricted, and any principal of the account allowed to call GetSecretValue can
        decrypt.

    Compliant example:
        aws.secretsmanager.Secret("db", kms_key_id=secrets_key.arn)
    """

    def check(self, resource: P.ResourceView, ctx: Context) -> Iterable[Violation]:
        key = resource.get("kmsKeyId")
        if not _key_is_set(key):
            yield Violation(f"Secret '{resource.name}' has no `kmsKeyId`, so it is encrypted with the AWS-managed "
                            "`aws/secretsmanager` key: set `kms_key_id` to the ARN of a customer-managed KMS key.",
                            path="kmsKeyId")
        elif isinstance(key, str) and _aws_managed_alias(key):
            yield Violation(f"Secret '{resource.name}' names an AWS-managed key (`alias/aws/...`) as `kmsKeyId`: set "
                            "`kms_key_id` to the ARN of a customer-managed KMS key.", path="kmsKeyId")
        for index, replica in enumerate(P.dicts(resource.get("replicas"))):
            region = P.as_str(P.lookup(replica, "region"))
            where = f" (region {region})" if isinstance(region, str) and region.strip() and \
                not resource.is_secret(("replicas",)) else ""
            replica_key = P.lookup(replica, "kmsKeyId")
            if not _key_is_set(replica_key) or (isinstance(replica_key, str) and _aws_managed_alias(replica_key)):
                yield Violation(f"Secret '{resource.name}': replica `replicas[{index}]`{where} has no customer-managed "
                                "`kmsKeyId` (the replica region's AWS-managed key is used): set the replica's "
                                "`kms_key_id` to a customer-managed key of that region.",
                                path=f"replicas[{index}].kmsKeyId")


RULES = [LogGroupKmsEncryption, LogGroupRetention, EcrKmsEncryption, KmsKeyRotation, SecretsManagerSecretCmk,
         KmsKeyDeletionWindow]
