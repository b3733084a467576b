"""payment-service: a self-contained ECS Fargate payment API that passes every payments-guard rule.

Everything the service needs is created in this stack (no StackReference, no literal IDs):
a VPC with flow logs, public subnets for the ALB and private subnets for the tasks in two or
more AZs, VPC endpoints instead of a NAT gateway, a customer-managed KMS key for logs, ECR and
Secrets Manager, an HTTPS-only ALB with access logs, two target groups (blue/green), an ECS
cluster on FARGATE + FARGATE_SPOT, and the deployment machinery chosen by `deploymentMode`:

  codedeploy      (default) CODE_DEPLOY controller + CodeDeploy application and deployment group
  rolling         ECS controller, rolling updates with the deployment circuit breaker
  ecs-blue-green  ECS controller, ECS-native BLUE_GREEN strategy on a weighted listener rule

See README.md for the configuration keys.
"""
import ipaddress
import json
import re
import secrets as pysecrets

import pulumi
import pulumi_aws as aws

config = pulumi.Config()

# ---------------------------------------------------------------------------------------------
# Configuration: every key has a default (a missing `config.require` aborts the whole program).
# ---------------------------------------------------------------------------------------------


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-") or "dev"


environment = _slug(config.get("environment") or pulumi.get_stack())
deployment_mode = config.get("deploymentMode") or "codedeploy"
if deployment_mode not in ("codedeploy", "rolling", "ecs-blue-green"):
    raise ValueError(f"deploymentMode must be codedeploy, rolling or ecs-blue-green, not {deployment_mode!r}")

vpc_cidr = config.get("vpcCidr") or "10.0.0.0/16"
az_count = max(2, config.get_int("azCount") or 2)
domain_name = config.get("domainName") or f"payments.{environment}.example.com"
hosted_zone_name = config.get("hostedZoneName")  # optional: validates the certificate via Route 53
ingress_cidr = config.get("allowedIngressCidr") or "0.0.0.0/0"
container_port = config.get_int("containerPort") or 8080
image_tag = config.get("imageTag") or "1.0.0"
desired_count = config.get_int("desiredCount") or 2
task_cpu = config.get("taskCpu") or "512"
task_memory = config.get("taskMemory") or "1024"
log_retention_days = config.get_int("logRetentionDays") or 365
secret_rotation_days = config.get_int("secretRotationDays") or 30
db_username = config.get("dbUsername") or "payment_app"
db_host = config.get("dbHost") or f"payments-db.{environment}.internal"
db_port = config.get("dbPort") or "5432"
db_name = config.get("dbName") or "payments"
# The ELB log-delivery principal: "account" (the regional ELB account, regions opened before
# August 2022) or "service" (logdelivery.elasticloadbalancing.amazonaws.com, newer regions).
elb_log_principal = config.get("elbLogDeliveryPrincipal") or "account"

# The database password comes from the config secret `dbPassword`
# (`pulumi config set --secret dbPassword ...`). Without it a strong random value is generated
# once: the secret version then ignores later changes (rotation owns the value from there on).
configured_password = config.get_secret("dbPassword")
generated_password = configured_password is None
db_password = configured_password if configured_password is not None else pulumi.Output.secret(
    pysecrets.token_urlsafe(32))

tags = {
    "environment": environment,
    "team": config.get("team") or "payments-platform",
    "cost-center": config.get("costCenter") or "cc-4410",
    "application": "payment-service",
    "compliance": config.get("compliance") or "pci-dss",
    "backup": config.get("backup") or "daily",
}


def tagged(name: str) -> dict:
    return {**tags, "Name": name}


prefix = f"payment-{environment}"


def short(name: str, limit: int = 32) -> str:
    """ALB and target-group names are limited to 32 characters."""
    return name[:limit].rstrip("-")


region = aws.get_region().region
account_id = aws.get_caller_identity().account_id
partition = aws.get_partition().partition
azs = aws.get_availability_zones(state="available").names[:az_count]
if len(azs) < 2:
    raise ValueError("the region must offer at least two availability zones")


def assume_role_policy(service: str, same_account_only: bool = False) -> str:
    """Trust policy for an AWS service. `same_account_only` adds the confused-deputy guard for the
    services that document the aws:SourceAccount key on AssumeRole (ECS tasks, VPC flow logs)."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if same_account_only:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# ---------------------------------------------------------------------------------------------
# KMS: one customer-managed key for CloudWatch Logs, ECR and Secrets Manager.
# ---------------------------------------------------------------------------------------------
key = aws.kms.Key(
    f"{prefix}-cmk",
    description=f"{prefix} key for CloudWatch Logs, ECR and Secrets Manager",
    enable_key_rotation=True,
    deletion_window_in_days=30,
    policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                           "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:log-group:*"}},
            },
        ],
    }),
    tags=tagged(f"{prefix}-cmk"),
)
aws.kms.Alias(f"{prefix}-cmk-alias", name=f"alias/{prefix}", target_key_id=key.key_id)


def log_group(resource_name: str, group_name: str) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=group_name,
        retention_in_days=log_retention_days,
        kms_key_id=key.arn,
        tags=tagged(group_name),
    )


# ---------------------------------------------------------------------------------------------
# Network: VPC with flow logs, public subnets (ALB), private subnets (tasks), no NAT gateway.
# ---------------------------------------------------------------------------------------------
vpc = aws.ec2.Vpc(
    f"{prefix}-vpc",
    cidr_block=vpc_cidr,
    enable_dns_hostnames=True,  # required by interface endpoints with private DNS
    enable_dns_support=True,
    tags=tagged(f"{prefix}-vpc"),
)

flow_log_group = log_group(f"{prefix}-flow-logs", f"/vpc/{prefix}/flow-logs")
flow_log_role = aws.iam.Role(
    f"{prefix}-flow-logs-role",
    assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com", same_account_only=True),
    tags=tagged(f"{prefix}-flow-logs-role"),
)
aws.iam.RolePolicy(
    f"{prefix}-flow-logs-policy",
    role=flow_log_role.id,
    policy=flow_log_group.arn.apply(lambda arn: json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
                       "logs:DescribeLogStreams"],
            "Resource": [arn, f"{arn}:*"],
        }],
    })),
)
aws.ec2.FlowLog(
    f"{prefix}-flow-log",
    vpc_id=vpc.id,
    traffic_type="ALL",
    log_destination_type="cloud-watch-logs",
    log_destination=flow_log_group.arn,
    iam_role_arn=flow_log_role.arn,
    max_aggregation_interval=60,
    tags=tagged(f"{prefix}-flow-log"),
)

network = ipaddress.ip_network(vpc_cidr)
subnet_cidrs = [str(n) for n in network.subnets(new_prefix=min(network.prefixlen + 4, 28))]

igw = aws.ec2.InternetGateway(f"{prefix}-igw", vpc_id=vpc.id, tags=tagged(f"{prefix}-igw"))
public_route_table = aws.ec2.RouteTable(
    f"{prefix}-public-rt",
    vpc_id=vpc.id,
    routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
    tags=tagged(f"{prefix}-public-rt"),
)

public_subnets, private_subnets, private_route_tables = [], [], []
for index, az in enumerate(azs):
    public = aws.ec2.Subnet(
        f"{prefix}-public-{index + 1}",
        vpc_id=vpc.id,
        cidr_block=subnet_cidrs[index],
        availability_zone=az,
        map_public_ip_on_launch=False,
        tags={**tagged(f"{prefix}-public-{index + 1}"), "tier": "public"},
    )
    aws.ec2.RouteTableAssociation(f"{prefix}-public-rta-{index + 1}", subnet_id=public.id,
                                  route_table_id=public_route_table.id)
    public_subnets.append(public)

    private = aws.ec2.Subnet(
        f"{prefix}-private-{index + 1}",
        vpc_id=vpc.id,
        cidr_block=subnet_cidrs[8 + index],
        availability_zone=az,
        map_public_ip_on_launch=False,
        tags={**tagged(f"{prefix}-private-{index + 1}"), "tier": "private"},
    )
    # No default route: the private subnets reach AWS services only through the VPC endpoints.
    route_table = aws.ec2.RouteTable(f"{prefix}-private-rt-{index + 1}", vpc_id=vpc.id,
                                     tags=tagged(f"{prefix}-private-rt-{index + 1}"))
    aws.ec2.RouteTableAssociation(f"{prefix}-private-rta-{index + 1}", subnet_id=private.id,
                                  route_table_id=route_table.id)
    private_subnets.append(private)
    private_route_tables.append(route_table)

private_subnet_ids = [s.id for s in private_subnets]

# Security groups. Rules are separate resources so the ALB and task groups can reference each other.
alb_sg = aws.ec2.SecurityGroup(f"{prefix}-alb-sg", vpc_id=vpc.id, description="payment ALB: HTTPS in, tasks out",
                               tags=tagged(f"{prefix}-alb-sg"))
task_sg = aws.ec2.SecurityGroup(f"{prefix}-task-sg", vpc_id=vpc.id, description="payment tasks: from the ALB only",
                                tags=tagged(f"{prefix}-task-sg"))
rotation_sg = aws.ec2.SecurityGroup(f"{prefix}-rotation-sg", vpc_id=vpc.id,
                                    description="secret rotation function", tags=tagged(f"{prefix}-rotation-sg"))
endpoint_sg = aws.ec2.SecurityGroup(f"{prefix}-endpoint-sg", vpc_id=vpc.id,
                                    description="interface VPC endpoints: HTTPS from the VPC",
                                    tags=tagged(f"{prefix}-endpoint-sg"))


def ingress(name, group, port, description, cidr=None, source_group=None):
    aws.vpc.SecurityGroupIngressRule(
        name, security_group_id=group.id, ip_protocol="tcp", from_port=port, to_port=port,
        cidr_ipv4=cidr, referenced_security_group_id=source_group.id if source_group else None,
        description=description, tags=tagged(name))


def egress(name, group, port, description, cidr=None, dest_group=None, prefix_list=None):
    aws.vpc.SecurityGroupEgressRule(
        name, security_group_id=group.id, ip_protocol="tcp", from_port=port, to_port=port,
        cidr_ipv4=cidr, referenced_security_group_id=dest_group.id if dest_group else None,
        prefix_list_id=prefix_list, description=description, tags=tagged(name))


ingress(f"{prefix}-alb-in-https", alb_sg, 443, "HTTPS from clients", cidr=ingress_cidr)
ingress(f"{prefix}-alb-in-http", alb_sg, 80, "HTTP from clients (redirected to HTTPS)", cidr=ingress_cidr)
egress(f"{prefix}-alb-out-tasks", alb_sg, container_port, "to the payment tasks", dest_group=task_sg)
ingress(f"{prefix}-task-in-alb", task_sg, container_port, "from the ALB", source_group=alb_sg)
egress(f"{prefix}-task-out-endpoints", task_sg, 443, "to the interface endpoints", dest_group=endpoint_sg)
egress(f"{prefix}-rotation-out-endpoints", rotation_sg, 443, "to the interface endpoints", dest_group=endpoint_sg)
aws.vpc.SecurityGroupIngressRule(
    f"{prefix}-endpoint-in-vpc", security_group_id=endpoint_sg.id, ip_protocol="tcp", from_port=443, to_port=443,
    cidr_ipv4=vpc.cidr_block, description="HTTPS from the VPC", tags=tagged(f"{prefix}-endpoint-in-vpc"))

# VPC endpoints: ECR (API + registry), CloudWatch Logs and Secrets Manager as interface endpoints,
# S3 (ECR image layers) as a gateway endpoint on the private route tables.
# The service waits for them: without them no task in the private subnets can pull its image,
# ship a log line or read its secret.
endpoints = []
for endpoint_service in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"):
    endpoint_name = f"{prefix}-vpce-{endpoint_service.replace('.', '-')}"
    endpoints.append(aws.ec2.VpcEndpoint(
        endpoint_name,
        vpc_id=vpc.id,
        service_name=f"com.amazonaws.{region}.{endpoint_service}",
        vpc_endpoint_type="Interface",
        private_dns_enabled=True,
        subnet_ids=private_subnet_ids,
        security_group_ids=[endpoint_sg.id],
        tags=tagged(endpoint_name),
    ))
s3_endpoint = aws.ec2.VpcEndpoint(
    f"{prefix}-vpce-s3",
    vpc_id=vpc.id,
    service_name=f"com.amazonaws.{region}.s3",
    vpc_endpoint_type="Gateway",
    tags=tagged(f"{prefix}-vpce-s3"),
)
endpoints.append(s3_endpoint)
for index, route_table in enumerate(private_route_tables):
    endpoints.append(aws.ec2.VpcEndpointRouteTableAssociation(
        f"{prefix}-vpce-s3-rt-{index + 1}", vpc_endpoint_id=s3_endpoint.id, route_table_id=route_table.id))
egress(f"{prefix}-task-out-s3", task_sg, 443, "to S3 (ECR layers) via the gateway endpoint",
       prefix_list=s3_endpoint.prefix_list_id)

# ---------------------------------------------------------------------------------------------
# ECR: KMS-encrypted, scanned on push, immutable tags, lifecycle policy.
# ---------------------------------------------------------------------------------------------
repository = aws.ecr.Repository(
    f"{prefix}-repo",
    name=f"payment-service-{environment}",
    image_tag_mutability="IMMUTABLE",
    image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
    encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS",
                                                                              kms_key=key.arn)],
    tags=tagged(f"payment-service-{environment}"),
)
aws.ecr.LifecyclePolicy(
    f"{prefix}-repo-lifecycle",
    repository=repository.name,
    policy=json.dumps({"rules": [
        {"rulePriority": 1, "description": "expire untagged images after 14 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": 14},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "keep the 50 most recent images",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50},
         "action": {"type": "expire"}},
    ]}),
)

# ---------------------------------------------------------------------------------------------
# Secrets Manager: database credentials under the CMK, rotated every `secretRotationDays`.
# ---------------------------------------------------------------------------------------------
db_secret = aws.secretsmanager.Secret(
    f"{prefix}-db-credentials",
    name=f"payment-service/{environment}/db-credentials",
    description="payment-service database credentials",
    kms_key_id=key.arn,
    recovery_window_in_days=30,
    tags=tagged(f"payment-service/{environment}/db-credentials"),
)
aws.secretsmanager.SecretVersion(
    f"{prefix}-db-credentials-value",
    secret_id=db_secret.id,
    secret_string=pulumi.Output.json_dumps({
        "engine": "postgres",
        "username": db_username,
        "password": db_password,
        "host": db_host,
        "port": db_port,
        "dbname": db_name,
    }),
    opts=pulumi.ResourceOptions(ignore_changes=["secretString"] if generated_password else None),
)

# The rotation function (rotation/index.py) follows the four-step Secrets Manager protocol. It runs
# in the private subnets and reaches Secrets Manager through the interface endpoint. Its `set_secret`
# step is where a real deployment applies the new password to its database (see README.md).
rotation_function_name = f"payment-secret-rotation-{environment}"
rotation_log_group = log_group(f"{prefix}-rotation-logs", f"/aws/lambda/{rotation_function_name}")
rotation_role = aws.iam.Role(
    f"{prefix}-rotation-role",
    assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
    tags=tagged(f"{prefix}-rotation-role"),
)
rotation_vpc_access = aws.iam.RolePolicyAttachment(
    f"{prefix}-rotation-vpc-access",
    role=rotation_role.name,
    policy_arn=f"arn:{partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
)
rotation_policy = aws.iam.RolePolicy(
    f"{prefix}-rotation-policy",
    role=rotation_role.id,
    policy=pulumi.Output.all(db_secret.arn, key.arn).apply(lambda a: json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow",
             "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                        "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
             "Resource": a[0]},
            {"Effect": "Allow", "Action": "secretsmanager:GetRandomPassword", "Resource": "*"},
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": a[1]},
        ],
    })),
)
rotation_function = aws.lambda_.Function(
    f"{prefix}-rotation-fn",
    name=rotation_function_name,
    description="rotates the payment-service database credentials",
    role=rotation_role.arn,
    runtime="python3.12",
    handler="index.handler",
    timeout=30,
    code=pulumi.AssetArchive({"index.py": pulumi.FileAsset("rotation/index.py")}),
    vpc_config=aws.lambda_.FunctionVpcConfigArgs(subnet_ids=private_subnet_ids,
                                                 security_group_ids=[rotation_sg.id]),
    logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=rotation_log_group.name),
    tags=tagged(rotation_function_name),
    # Creating a function in a VPC needs the ENI permissions of the role first.
    opts=pulumi.ResourceOptions(depends_on=[rotation_vpc_access, rotation_policy]),
)
rotation_permission = aws.lambda_.Permission(
    f"{prefix}-rotation-invoke",
    action="lambda:InvokeFunction",
    function=rotation_function.name,
    principal="secretsmanager.amazonaws.com",
    source_arn=db_secret.arn,
)
aws.secretsmanager.SecretRotation(
    f"{prefix}-db-credentials-rotation",
    secret_id=db_secret.id,
    rotation_lambda_arn=rotation_function.arn,
    rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
        automatically_after_days=secret_rotation_days),
    # The first rotation runs on schedule, after the database has been provisioned.
    rotate_immediately=False,
    opts=pulumi.ResourceOptions(depends_on=[rotation_permission]),
)

# ---------------------------------------------------------------------------------------------
# ALB: HTTPS only (TLS 1.3 policy), HTTP redirects, access logs, deletion protection.
# ---------------------------------------------------------------------------------------------
access_logs_bucket = aws.s3.Bucket(
    f"{prefix}-alb-logs",
    bucket_prefix=f"{prefix}-alb-logs-",
    force_destroy=False,
    tags=tagged(f"{prefix}-alb-logs"),
)
aws.s3.BucketPublicAccessBlock(
    f"{prefix}-alb-logs-public-access",
    bucket=access_logs_bucket.id,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=True,
)
aws.s3.BucketOwnershipControls(
    f"{prefix}-alb-logs-ownership",
    bucket=access_logs_bucket.id,
    rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
)
# ELB access-log delivery supports SSE-S3 only (not SSE-KMS).
aws.s3.BucketServerSideEncryptionConfiguration(
    f"{prefix}-alb-logs-encryption",
    bucket=access_logs_bucket.id,
    rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=aws.s3.
        BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(sse_algorithm="AES256"))],
)
aws.s3.BucketLifecycleConfiguration(
    f"{prefix}-alb-logs-lifecycle",
    bucket=access_logs_bucket.id,
    rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="expire-access-logs",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="alb/"),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=max(log_retention_days, 365)),
    )],
)
if elb_log_principal == "service":
    log_delivery_principal = {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
else:
    log_delivery_principal = {"AWS": aws.elb.get_service_account().arn}
access_logs_policy = aws.s3.BucketPolicy(
    f"{prefix}-alb-logs-policy",
    bucket=access_logs_bucket.id,
    policy=access_logs_bucket.arn.apply(lambda arn: json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ElbLogDelivery", "Effect": "Allow", "Principal": log_delivery_principal,
             "Action": "s3:PutObject", "Resource": f"{arn}/alb/AWSLogs/{account_id}/*"},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    })),
)

alb = aws.lb.LoadBalancer(
    f"{prefix}-alb",
    name=short(f"{prefix}-alb"),
    load_balancer_type="application",
    internal=False,
    security_groups=[alb_sg.id],
    subnets=[s.id for s in public_subnets],
    drop_invalid_header_fields=True,
    enable_deletion_protection=True,
    access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=access_logs_bucket.id, prefix="alb", enabled=True),
    tags=tagged(short(f"{prefix}-alb")),
    opts=pulumi.ResourceOptions(depends_on=[access_logs_policy]),
)

certificate = aws.acm.Certificate(
    f"{prefix}-cert",
    domain_name=domain_name,
    validation_method="DNS",
    tags=tagged(domain_name),
)
certificate_arn = certificate.arn
if hosted_zone_name:
    zone = aws.route53.get_zone(name=hosted_zone_name, private_zone=False)
    validation_option = certificate.domain_validation_options[0]
    validation_record = aws.route53.Record(
        f"{prefix}-cert-validation",
        zone_id=zone.zone_id,
        name=validation_option.resource_record_name,
        type=validation_option.resource_record_type,
        records=[validation_option.resource_record_value],
        ttl=300,
        allow_overwrite=True,
    )
    certificate_arn = aws.acm.CertificateValidation(
        f"{prefix}-cert-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[validation_record.fqdn],
    ).certificate_arn


def target_group(color: str) -> aws.lb.TargetGroup:
    name = short(f"{prefix}-{color}")
    return aws.lb.TargetGroup(
        f"{prefix}-tg-{color}",
        name=name,
        port=container_port,
        protocol="HTTP",
        target_type="ip",
        vpc_id=vpc.id,
        deregistration_delay=30,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            enabled=True,
            protocol="HTTP",
            path="/health",
            matcher="200",
            interval=30,
            timeout=5,
            healthy_threshold=3,
            unhealthy_threshold=3,
        ),
        tags=tagged(name),
    )


blue_tg = target_group("blue")
green_tg = target_group("green")

aws.lb.Listener(
    f"{prefix}-http",
    load_balancer_arn=alb.arn,
    port=80,
    protocol="HTTP",
    default_actions=[aws.lb.ListenerDefaultActionArgs(
        type="redirect",
        redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
    )],
    tags=tagged(f"{prefix}-http"),
)

if deployment_mode == "ecs-blue-green":
    # ECS shifts traffic by changing the weights of the production listener rule: the listener's
    # default action answers only requests no rule matches.
    https_default_action = aws.lb.ListenerDefaultActionArgs(
        type="fixed-response",
        fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(content_type="text/plain",
                                                                     message_body="not found", status_code="404"))
else:
    https_default_action = aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=blue_tg.arn)

https_listener = aws.lb.Listener(
    f"{prefix}-https",
    load_balancer_arn=alb.arn,
    port=443,
    protocol="HTTPS",
    ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
    certificate_arn=certificate_arn,
    default_actions=[https_default_action],
    tags=tagged(f"{prefix}-https"),
    # CodeDeploy moves the default action between blue and green.
    opts=pulumi.ResourceOptions(ignore_changes=["defaultActions"] if deployment_mode == "codedeploy" else None),
)

production_rule = None
if deployment_mode == "ecs-blue-green":
    production_rule = aws.lb.ListenerRule(
        f"{prefix}-https-forward-rule",
        listener_arn=https_listener.arn,
        priority=100,
        conditions=[aws.lb.ListenerRuleConditionArgs(
            path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=["/*"]))],
        actions=[aws.lb.ListenerRuleActionArgs(
            type="forward",
            forward=aws.lb.ListenerRuleActionForwardArgs(target_groups=[
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=blue_tg.arn, weight=100),
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=green_tg.arn, weight=0),
            ]),
        )],
        tags=tagged(f"{prefix}-https-forward-rule"),
        # ECS moves the weights during a deployment.
        opts=pulumi.ResourceOptions(ignore_changes=["actions"]),
    )

# ---------------------------------------------------------------------------------------------
# ECS: cluster on FARGATE + FARGATE_SPOT, task definition, service.
# ---------------------------------------------------------------------------------------------
cluster = aws.ecs.Cluster(
    f"{prefix}-cluster",
    name=f"payment-{environment}",
    settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
    tags=tagged(f"payment-{environment}"),
)
capacity_providers = aws.ecs.ClusterCapacityProviders(
    f"{prefix}-capacity-providers",
    cluster_name=cluster.name,
    capacity_providers=["FARGATE", "FARGATE_SPOT"],
    default_capacity_provider_strategies=[
        aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(capacity_provider="FARGATE",
                                                                              base=1, weight=3),
        aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(capacity_provider="FARGATE_SPOT",
                                                                              weight=1),
    ],
)

app_log_group = log_group(f"{prefix}-app-logs", f"/ecs/payment-service-{environment}")

execution_role = aws.iam.Role(
    f"{prefix}-execution-role",
    assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", same_account_only=True),
    tags=tagged(f"{prefix}-execution-role"),
)
aws.iam.RolePolicyAttachment(
    f"{prefix}-execution-managed",
    role=execution_role.name,
    policy_arn=f"arn:{partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
)
aws.iam.RolePolicy(
    f"{prefix}-execution-secrets",
    role=execution_role.id,
    policy=pulumi.Output.all(db_secret.arn, key.arn).apply(lambda a: json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": a[0]},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": a[1]},
        ],
    })),
)
task_role = aws.iam.Role(
    f"{prefix}-task-role",
    assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", same_account_only=True),
    tags=tagged(f"{prefix}-task-role"),
)

container_name = "payment-api"
task_definition = aws.ecs.TaskDefinition(
    f"{prefix}-task",
    family=f"payment-service-{environment}",
    requires_compatibilities=["FARGATE"],
    network_mode="awsvpc",
    cpu=task_cpu,
    memory=task_memory,
    execution_role_arn=execution_role.arn,
    task_role_arn=task_role.arn,
    runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(operating_system_family="LINUX",
                                                               cpu_architecture="X86_64"),
    volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],
    container_definitions=pulumi.Output.json_dumps([{
        "name": container_name,
        "image": pulumi.Output.concat(repository.repository_url, ":", image_tag),
        "essential": True,
        "portMappings": [{"containerPort": container_port, "protocol": "tcp"}],
        "environment": [
            {"name": "APP_ENVIRONMENT", "value": environment},
            {"name": "PORT", "value": str(container_port)},
        ],
        # Credentials come from Secrets Manager at task start, never from `environment`.
        "secrets": [{"name": "DB_CREDENTIALS", "valueFrom": db_secret.arn}],
        "readonlyRootFilesystem": True,
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
        "user": "1000",
        "privileged": False,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": app_log_group.name,
                "awslogs-region": region,
                "awslogs-stream-prefix": container_name,
            },
        },
    }]),
    tags=tagged(f"payment-service-{environment}"),
)

service_args = dict(
    name=f"payment-service-{environment}",
    cluster=cluster.arn,
    task_definition=task_definition.arn,
    desired_count=desired_count,
    platform_version="LATEST",
    # No launch type: the service uses the cluster's default capacity provider strategy.
    network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
        subnets=private_subnet_ids,
        security_groups=[task_sg.id],
        assign_public_ip=False,
    ),
    health_check_grace_period_seconds=60,
    deployment_minimum_healthy_percent=100,
    deployment_maximum_percent=200,
    enable_ecs_managed_tags=True,
    propagate_tags="SERVICE",
    tags=tagged(f"payment-service-{environment}"),
)
service_depends_on = [https_listener, capacity_providers, *endpoints]
service_ignore_changes = None

if deployment_mode == "codedeploy":
    service_args.update(
        deployment_controller=aws.ecs.ServiceDeploymentControllerArgs(type="CODE_DEPLOY"),
        load_balancers=[aws.ecs.ServiceLoadBalancerArgs(target_group_arn=blue_tg.arn,
                                                        container_name=container_name,
                                                        container_port=container_port)],
    )
    # CodeDeploy owns the task definition and target group of a running service.
    service_ignore_changes = ["taskDefinition", "loadBalancers"]
elif deployment_mode == "rolling":
    service_args.update(
        deployment_controller=aws.ecs.ServiceDeploymentControllerArgs(type="ECS"),
        deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
        load_balancers=[aws.ecs.ServiceLoadBalancerArgs(target_group_arn=blue_tg.arn,
                                                        container_name=container_name,
                                                        container_port=container_port)],
    )
else:  # ecs-blue-green
    ecs_lb_role = aws.iam.Role(
        f"{prefix}-ecs-lb-role",
        assume_role_policy=assume_role_policy("ecs.amazonaws.com"),
        tags=tagged(f"{prefix}-ecs-lb-role"),
    )
    aws.iam.RolePolicyAttachment(
        f"{prefix}-ecs-lb-managed",
        role=ecs_lb_role.name,
        policy_arn=f"arn:{partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers",
    )
    service_args.update(
        deployment_controller=aws.ecs.ServiceDeploymentControllerArgs(type="ECS"),
        deployment_configuration=aws.ecs.ServiceDeploymentConfigurationArgs(strategy="BLUE_GREEN",
                                                                             bake_time_in_minutes="5"),
        deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
        load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
            target_group_arn=blue_tg.arn,
            container_name=container_name,
            container_port=container_port,
            advanced_configuration=aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
                alternate_target_group_arn=green_tg.arn,
                production_listener_rule=production_rule.arn,
                role_arn=ecs_lb_role.arn,
            ),
        )],
    )
    service_depends_on.append(production_rule)

service = aws.ecs.Service(
    f"{prefix}-service",
    **service_args,
    opts=pulumi.ResourceOptions(depends_on=service_depends_on, ignore_changes=service_ignore_changes),
)

if deployment_mode == "codedeploy":
    codedeploy_role = aws.iam.Role(
        f"{prefix}-codedeploy-role",
        assume_role_policy=assume_role_policy("codedeploy.amazonaws.com"),
        tags=tagged(f"{prefix}-codedeploy-role"),
    )
    aws.iam.RolePolicyAttachment(
        f"{prefix}-codedeploy-managed",
        role=codedeploy_role.name,
        policy_arn=f"arn:{partition}:iam::aws:policy/AWSCodeDeployRoleForECS",
    )
    codedeploy_app = aws.codedeploy.Application(
        f"{prefix}-codedeploy-app",
        name=f"payment-service-{environment}",
        compute_platform="ECS",
        tags=tagged(f"payment-service-{environment}"),
    )
    deployment_group = aws.codedeploy.DeploymentGroup(
        f"{prefix}-deployment-group",
        app_name=codedeploy_app.name,
        deployment_group_name=f"payment-service-{environment}",
        service_role_arn=codedeploy_role.arn,
        deployment_config_name="CodeDeployDefault.ECSAllAtOnce",
        deployment_style=aws.codedeploy.DeploymentGroupDeploymentStyleArgs(
            deployment_type="BLUE_GREEN", deployment_option="WITH_TRAFFIC_CONTROL"),
        blue_green_deployment_config=aws.codedeploy.DeploymentGroupBlueGreenDeploymentConfigArgs(
            deployment_ready_option=aws.codedeploy.DeploymentGroupBlueGreenDeploymentConfigDeploymentReadyOptionArgs(
                action_on_timeout="CONTINUE_DEPLOYMENT"),
            terminate_blue_instances_on_deployment_success=aws.codedeploy.
            DeploymentGroupBlueGreenDeploymentConfigTerminateBlueInstancesOnDeploymentSuccessArgs(
                action="TERMINATE", termination_wait_time_in_minutes=5),
        ),
        ecs_service=aws.codedeploy.DeploymentGroupEcsServiceArgs(cluster_name=cluster.name,
                                                                 service_name=service.name),
        load_balancer_info=aws.codedeploy.DeploymentGroupLoadBalancerInfoArgs(
            target_group_pair_info=aws.codedeploy.DeploymentGroupLoadBalancerInfoTargetGroupPairInfoArgs(
                prod_traffic_route=aws.codedeploy.DeploymentGroupLoadBalancerInfoTargetGroupPairInfoProdTrafficRouteArgs(
                    listener_arns=[https_listener.arn]),
                target_groups=[
                    aws.codedeploy.DeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroupArgs(name=blue_tg.name),
                    aws.codedeploy.DeploymentGroupLoadBalancerInfoTargetGroupPairInfoTargetGroupArgs(name=green_tg.name),
                ],
            ),
        ),
        auto_rollback_configuration=aws.codedeploy.DeploymentGroupAutoRollbackConfigurationArgs(
            enabled=True, events=["DEPLOYMENT_FAILURE"]),
        tags=tagged(f"payment-service-{environment}"),
    )
    pulumi.export("codedeployApplication", codedeploy_app.name)
    pulumi.export("codedeployDeploymentGroup", deployment_group.deployment_group_name)

# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------
pulumi.export("environment", environment)
pulumi.export("deploymentMode", deployment_mode)
pulumi.export("vpcId", vpc.id)
pulumi.export("privateSubnetIds", private_subnet_ids)
pulumi.export("albDnsName", alb.dns_name)
pulumi.export("url", f"https://{domain_name}")
pulumi.export("certificateArn", certificate.arn)
pulumi.export("certificateValidationRecords", certificate.domain_validation_options.apply(
    lambda options: [{"name": o.resource_record_name, "type": o.resource_record_type,
                      "value": o.resource_record_value} for o in (options or [])]))
pulumi.export("ecrRepositoryUrl", repository.repository_url)
pulumi.export("clusterName", cluster.name)
pulumi.export("serviceName", service.name)
pulumi.export("blueTargetGroup", blue_tg.name)
pulumi.export("greenTargetGroup", green_tg.name)
pulumi.export("dbSecretArn", db_secret.arn)
pulumi.export("kmsKeyArn", key.arn)
pulumi.export("appLogGroup", app_log_group.name)
