"""Every rule of the pack, one module per concern, in the catalogue's order.

The names are a contract (users write them into policy configs, CI gates and exemptions):
they come from shared/catalogue.md and never change once shipped.
"""
from __future__ import annotations

from typing import List, Type

from ..rule import Rule
from . import (capacity, containers, deployment, encryption, load_balancing, networking, registry, secrets,
               self_sufficiency, tagging)

CORE = (
    "no-external-infrastructure-ids", "no-cross-environment-references", "ecs-service-behind-stack-alb",
    "target-group-health-check", "listener-rule-no-health-header-routing", "log-group-kms-encryption",
    "log-group-retention", "ecr-kms-encryption", "kms-key-rotation", "secretsmanager-secret-cmk",
    "no-plaintext-secret-values", "no-secrets-in-task-environment", "secret-rotation",
    "vpc-endpoints-for-private-tasks", "ecs-service-no-public-ip", "deployment-strategy-allowed",
    "blue-green-deployment-complete", "rolling-deployment-circuit-breaker", "fargate-capacity-providers",
    "ecs-container-insights", "required-tags",
)
EXTENDED = (
    "alb-https-only", "alb-modern-tls-policy", "alb-drop-invalid-headers", "alb-access-logs",
    "alb-deletion-protection", "task-non-privileged", "task-readonly-root-filesystem",
    "task-logging-configured", "task-non-root-user", "fargate-platform-version", "ecr-scan-on-push",
    "ecr-immutable-tags", "ecr-lifecycle-policy", "vpc-flow-logs", "kms-key-deletion-window",
    "ssm-secure-string",
)
CATALOGUE = CORE + EXTENDED

_MODULES = (self_sufficiency, load_balancing, encryption, secrets, networking, deployment, capacity,
            tagging, containers, registry)


def _collect() -> List[Type[Rule]]:
    by_name = {}
    for module in _MODULES:
        for rule in module.RULES:
            if rule.name in by_name:
                raise RuntimeError(f"policy {rule.name} is defined twice")
            if rule.name not in CATALOGUE:
                raise RuntimeError(f"policy {rule.name} is not in the catalogue")
            by_name[rule.name] = rule
    return [by_name[name] for name in CATALOGUE if name in by_name]


ALL_RULES: List[Type[Rule]] = _collect()
