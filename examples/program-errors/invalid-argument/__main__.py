"""Seed failure 12: an argument the installed pulumi-aws does not have.

Deliberately broken: pulumi-aws 7 names the argument `encryption_configurations` (a list), so
`encryption_configuration=` raises
    TypeError: Repository._internal_init() got an unexpected keyword argument 'encryption_configuration'
when the resource is constructed. Fix: `encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
encryption_type="KMS", kms_key=key.arn)]` (KMS, as ecr-kms-encryption requires).
"""
import pulumi_aws as aws

aws.ecr.Repository(
    "payment-processor-ecr",
    name="payment-processor",
    image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
    image_tag_mutability="IMMUTABLE",
    encryption_configuration=aws.ecr.RepositoryEncryptionConfigurationArgs(
        encryption_type="AES256",
    ),
)
