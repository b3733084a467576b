"""Seed failure 11: `config.require` of a key the stack does not set.

Deliberately broken (no Pulumi.<stack>.yaml sets environmentSuffix): the program stops with
pulumi.ConfigMissingError before registering anything. Fix: `config.get("environmentSuffix") or
pulumi.get_stack()` (a default), or set the key with `pulumi config set environmentSuffix dev`.
"""
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
environment_suffix = config.require("environmentSuffix")

aws.ecr.Repository(
    f"payment-processor-ecr-{environment_suffix}",
    name=f"payment-processor-{environment_suffix}",
    image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
)
