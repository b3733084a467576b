"""Secrets Manager rotation function for the payment-service database credentials.

Implements the four rotation steps (createSecret, setSecret, testSecret, finishSecret) with the
boto3 client bundled in the Lambda Python runtime. The function runs in the private subnets and
reaches Secrets Manager through the VPC interface endpoint (private DNS), so it needs no NAT.

`set_secret` is where a deployment applies the pending password to its database user
(ALTER USER ... PASSWORD ...): this sample has no database, so it only checks the pending version.
"""
import json
import logging

import boto3

log = logging.getLogger()
log.setLevel(logging.INFO)
client = boto3.client("secretsmanager")


def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError("rotation is not enabled for this secret")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError("unknown version token")
    if "AWSCURRENT" in versions[token]:
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError("version is not pending rotation")
    {"createSecret": create_secret, "setSecret": set_secret,
     "testSecret": check_secret, "finishSecret": finish_secret}[step](arn, token)


def create_secret(arn, token):
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    current = json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    current["password"] = client.get_random_password(
        PasswordLength=32, ExcludeCharacters="/@\"'\\")["RandomPassword"]
    client.put_secret_value(SecretId=arn, ClientRequestToken=token,
                            SecretString=json.dumps(current), VersionStages=["AWSPENDING"])
    log.info("created the pending version")


def set_secret(arn, token):
    # Apply the pending password to the database user here (ALTER USER ... PASSWORD ...).
    pending = json.loads(client.get_secret_value(SecretId=arn, VersionId=token,
                                                 VersionStage="AWSPENDING")["SecretString"])
    log.info("pending credentials ready for user %s", pending["username"])


def check_secret(arn, token):
    pending = json.loads(client.get_secret_value(SecretId=arn, VersionId=token,
                                                 VersionStage="AWSPENDING")["SecretString"])
    missing = {"username", "password", "host", "port"} - set(pending)
    if missing:
        raise ValueError("pending secret lacks " + ", ".join(sorted(missing)))


def finish_secret(arn, token):
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next((v for v, labels in versions.items() if "AWSCURRENT" in labels), None)
    if current == token:
        return
    client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                       MoveToVersionId=token, RemoveFromVersionId=current)
    log.info("rotation finished")
