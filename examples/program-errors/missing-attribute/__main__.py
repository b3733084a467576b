"""Seed failures 13 and 14: the service's deployment settings as the analysis's program wrote them.

Deliberately broken. Python evaluates keyword-argument values before the call, so with the
installed pulumi-aws 7 the first error is failure 14's:
    AttributeError: module 'pulumi_aws.ecs' has no attribute
                    'ServiceDeploymentConfigurationDeploymentCircuitBreakerArgs'
Replacing only that class would reveal failure 13's
    TypeError: ServiceDeploymentConfigurationArgs.__init__() got an unexpected keyword argument 'maximum_percent'
(in pulumi-aws 7 `ServiceDeploymentConfigurationArgs` holds the ECS-native strategy, bake time and
hooks). Fix: flat `deployment_maximum_percent=200`, `deployment_minimum_healthy_percent=100` and
`deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True)`
on the Service.
"""
import pulumi_aws as aws

cluster = aws.ecs.Cluster(
    "payment-processor-cluster",
    settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
)

aws.ecs.Service(
    "payment-processor-service",
    cluster=cluster.arn,
    desired_count=2,
    launch_type="FARGATE",
    deployment_configuration=aws.ecs.ServiceDeploymentConfigurationArgs(
        maximum_percent=200,
        minimum_healthy_percent=100,
        deployment_circuit_breaker=aws.ecs.ServiceDeploymentConfigurationDeploymentCircuitBreakerArgs(
            enable=True,
            rollback=True,
        ),
    ),
)
