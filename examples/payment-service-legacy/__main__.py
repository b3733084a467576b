"""ECS Fargate payment processor — the flawed MODEL_RESPONSE of seed-failure-analysis.md, made to run.

DELIBERATELY NON-COMPLIANT: this program is the pack's negative sample. It reproduces the defects
of the analysis (failures 1-11) so that payments-guard reports them; see README.md for the policy
each defect triggers. Only the three TypeErrors of failures 12-14 were removed, so the program
runs against pulumi-aws 7.x (examples/program-errors/ keeps them as separate programs).
Do not deploy it.
"""
import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()

# Failure 11: required config without a default (set in Pulumi.dev.yaml so that the program runs).
environment_suffix = config.require("environmentSuffix")
legacy_stack_name = config.get("legacyStackName") or "legacy-infrastructure"
# Failure 4: defaults to the production stack whatever the current environment is.
stack_env = config.get("legacyStackEnv") or "production"
container_image_tag = config.get("containerImageTag") or "latest"
desired_count = config.get_int("desiredCount") or 3

# Failure 10: incomplete tags (no application, compliance or backup).
common_tags = {
    "environment": environment_suffix,
    "team": "payments",
    "cost-center": "payments-processing",
}

# Failure 1: import existing infrastructure from a legacy stack that need not exist.
legacy_stack = pulumi.StackReference(f"organization/{legacy_stack_name}/{stack_env}")

vpc_id = legacy_stack.get_output("vpcId")
private_subnet_ids = legacy_stack.get_output("privateSubnetIds")
public_subnet_ids = legacy_stack.get_output("publicSubnetIds")
alb_security_group_id = legacy_stack.get_output("albSecurityGroupId")
app_security_group_id = legacy_stack.get_output("appSecurityGroupId")

# Security group of the shared payment-gateway services, hard-coded as a fallback.
shared_services_sg_id = config.get("sharedServicesSecurityGroupId") or "sg-0123456789abcdef0"

# ECR repository for the payment processor image.
# (Failure 12 removed: `encryption_configuration=aws.ecr.RepositoryEncryptionConfigurationArgs(
#  encryption_type="AES256")` raised a TypeError; the repository falls back to AES256.)
ecr_repository = aws.ecr.Repository(
    f"payment-processor-ecr-{environment_suffix}",
    name=f"payment-processor-{environment_suffix}",
    image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
        scan_on_push=True,
    ),
    image_tag_mutability="MUTABLE",
    tags=common_tags,
)

# CloudWatch log group for the ECS tasks.
log_group = aws.cloudwatch.LogGroup(
    f"payment-processor-logs-{environment_suffix}",
    name=f"/ecs/payment-processor-{environment_suffix}",
    retention_in_days=30,
    kms_key_id=None,  # Using AWS managed encryption by default  (failure 6: it means no CMK at all)
    tags=common_tags,
)

# Failure 9: no capacity providers.
ecs_cluster = aws.ecs.Cluster(
    f"payment-processor-cluster-{environment_suffix}",
    name=f"payment-processor-{environment_suffix}",
    settings=[aws.ecs.ClusterSettingArgs(
        name="containerInsights",
        value="enabled",
    )],
    tags=common_tags,
)

# IAM roles.
task_execution_role = aws.iam.Role(
    f"payment-processor-execution-role-{environment_suffix}",
    assume_role_policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    }),
    tags=common_tags,
)
aws.iam.RolePolicyAttachment(
    f"payment-processor-execution-policy-{environment_suffix}",
    role=task_execution_role.name,
    policy_arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
)
task_role = aws.iam.Role(
    f"payment-processor-task-role-{environment_suffix}",
    assume_role_policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    }),
    tags=common_tags,
)

# Database credentials. Failure 8: placeholder credentials in code, no CMK, no rotation.
db_secret = aws.secretsmanager.Secret(
    f"payment-processor-db-secret-{environment_suffix}",
    name=f"payment-processor/db-credentials-{environment_suffix}",
    description="Database credentials for the payment processor",
    tags=common_tags,
)
db_secret_version = aws.secretsmanager.SecretVersion(
    f"payment-processor-db-secret-version-{environment_suffix}",
    secret_id=db_secret.id,
    secret_string=pulumi.Output.all().apply(lambda _: """{
    "username": "payment_user",
    "password": "CHANGEME_IN_PRODUCTION",
    "host": "db.example.com",
    "port": "5432",
    "database": "payments"
}"""),
)
aws.iam.RolePolicy(
    f"payment-processor-secrets-policy-{environment_suffix}",
    role=task_execution_role.id,
    policy=db_secret.arn.apply(lambda arn: json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": arn}],
    })),
)

task_definition = aws.ecs.TaskDefinition(
    f"payment-processor-task-{environment_suffix}",
    family=f"payment-processor-{environment_suffix}",
    cpu="1024",
    memory="2048",
    network_mode="awsvpc",
    requires_compatibilities=["FARGATE"],
    execution_role_arn=task_execution_role.arn,
    task_role_arn=task_role.arn,
    container_definitions=pulumi.Output.all(ecr_repository.repository_url, log_group.name, db_secret.arn).apply(
        lambda args: json.dumps([{
            "name": "payment-processor",
            "image": f"{args[0]}:{container_image_tag}",
            "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [
                {"name": "ENVIRONMENT", "value": environment_suffix},
                {"name": "PORT", "value": "8080"},
            ],
            "secrets": [{"name": "DB_CREDENTIALS", "valueFrom": args[2]}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": args[1],
                    "awslogs-region": aws.get_region().region,
                    "awslogs-stream-prefix": "payment-processor",
                },
            },
        }])),
    tags=common_tags,
)

# Target group in the legacy VPC. Health check without an explicit matcher.
target_group = aws.lb.TargetGroup(
    f"payment-processor-tg-{environment_suffix}",
    name=f"payment-tg-{environment_suffix}",
    port=8080,
    protocol="HTTP",
    target_type="ip",
    vpc_id=vpc_id,
    health_check=aws.lb.TargetGroupHealthCheckArgs(
        enabled=True,
        path="/health",
        interval=30,
        timeout=5,
        healthy_threshold=2,
        unhealthy_threshold=3,
    ),
    tags=common_tags,
)

# Failure 2: the ALB and its listener come from the legacy stack; none is created here.
alb_arn = legacy_stack.get_output("albArn")
alb_listener_arn = legacy_stack.get_output("albListenerArn")

# Failure 3: routing on a health-check header (ALB health checks cannot send custom headers).
listener_rule = aws.lb.ListenerRule(
    f"payment-processor-listener-rule-{environment_suffix}",
    listener_arn=alb_listener_arn,
    priority=100,
    actions=[aws.lb.ListenerRuleActionArgs(
        type="forward",
        target_group_arn=target_group.arn,
    )],
    conditions=[
        aws.lb.ListenerRuleConditionArgs(
            http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                http_header_name="X-Health-Check",
                values=["true"],
            )
        )
    ],
    tags=common_tags,
)

# Failure 5: tasks in private subnets, but no VPC endpoints for ECR, S3, Logs or Secrets Manager.
# (Failures 13 and 14 removed: the nested `deployment_configuration=ServiceDeploymentConfigurationArgs(
#  maximum_percent=..., deployment_circuit_breaker=...)` raised a TypeError; the flat arguments
#  remain and the circuit breaker was dropped.)
ecs_service = aws.ecs.Service(
    f"payment-processor-service-{environment_suffix}",
    name=f"payment-processor-{environment_suffix}",
    cluster=ecs_cluster.arn,
    task_definition=task_definition.arn,
    desired_count=desired_count,
    launch_type="FARGATE",
    platform_version="LATEST",
    network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
        subnets=private_subnet_ids,
        security_groups=[app_security_group_id, shared_services_sg_id],
        assign_public_ip=False,
    ),
    load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
        target_group_arn=target_group.arn,
        container_name="payment-processor",
        container_port=8080,
    )],
    deployment_maximum_percent=200,
    deployment_minimum_healthy_percent=100,
    # Failure 7: blue/green and rolling updates are both supported through CodeDeploy.
    # (They are not: this is the ECS rolling controller and no CodeDeploy resource exists.)
    deployment_controller=aws.ecs.ServiceDeploymentControllerArgs(
        type="ECS",
    ),
    health_check_grace_period_seconds=60,
    tags=common_tags,
    opts=pulumi.ResourceOptions(depends_on=[listener_rule]),
)

# Auto scaling between 3 and 10 tasks on CPU.
scaling_target = aws.appautoscaling.Target(
    f"payment-processor-scaling-target-{environment_suffix}",
    max_capacity=10,
    min_capacity=3,
    resource_id=pulumi.Output.concat("service/", ecs_cluster.name, "/", ecs_service.name),
    scalable_dimension="ecs:service:DesiredCount",
    service_namespace="ecs",
    tags=common_tags,
)
aws.appautoscaling.Policy(
    f"payment-processor-cpu-scaling-{environment_suffix}",
    policy_type="TargetTrackingScaling",
    resource_id=scaling_target.resource_id,
    scalable_dimension=scaling_target.scalable_dimension,
    service_namespace=scaling_target.service_namespace,
    target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
        predefined_metric_specification=aws.appautoscaling.
        PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
            predefined_metric_type="ECSServiceAverageCPUUtilization",
        ),
        target_value=70.0,
        scale_in_cooldown=300,
        scale_out_cooldown=60,
    ),
)

pulumi.export("ecrRepositoryUrl", ecr_repository.repository_url)
pulumi.export("clusterName", ecs_cluster.name)
pulumi.export("serviceName", ecs_service.name)
pulumi.export("targetGroupArn", target_group.arn)
pulumi.export("albArn", alb_arn)
pulumi.export("logGroupName", log_group.name)
