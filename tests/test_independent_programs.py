"""An independently written program (tests/fixtures/programs/independent-fargate) run through the
offline check exactly as a user runs it (`python -m policypack check ... --format json --quiet`).

- the compliant program yields no violation at all, in update and in preview mode;
- `--config defect=<policy>` introduces one realistic mistake: the check reports that policy (on the
  resource the mistake is in), no other policy at any level, and exits 1 when the policy is
  mandatory by default, 0 when it is advisory;
- known pack bugs found with this program are strict xfails (the reason names the rule and the fix).

The defect runs are independent processes; they run two at a time in one module-scoped fixture
(about a minute in all) and each policy is still reported as its own test.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from typing import Dict, List, Tuple

import pytest


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROGRAM = os.path.join(HERE, "fixtures", "programs", "independent-fargate")

#: Default levels, from shared/catalogue.md (the contract), not from the pack's own metadata.
ADVISORY = frozenset({
    "listener-rule-no-health-header-routing", "secret-rotation", "fargate-capacity-providers", "alb-access-logs",
    "alb-deletion-protection", "task-readonly-root-filesystem", "task-non-root-user", "fargate-platform-version",
    "ecr-immutable-tags", "ecr-lifecycle-policy", "vpc-flow-logs", "kms-key-deletion-window",
})

#: defect (= the policy it must trip) -> logical names of the resources the mistake is in. For
#: required-tags the mistake is in the provider's default tags, so every taggable resource is named:
#: a few representative ones are listed and checked as a subset.
DEFECTS: Dict[str, Tuple[str, ...]] = {
    "no-external-infrastructure-ids": ("app-service",),
    "no-cross-environment-references": ("app-task",),
    "ecs-service-behind-stack-alb": ("app-service",),
    "target-group-health-check": ("edge-app",),
    "listener-rule-no-health-header-routing": ("edge-monitor",),
    "log-group-kms-encryption": ("app-logs",),
    "log-group-retention": ("app-logs",),
    "ecr-kms-encryption": ("app-images",),
    "kms-key-rotation": ("keys-ecr",),
    "secretsmanager-secret-cmk": ("signing-key",),
    "no-plaintext-secret-values": ("signing-key-initial",),
    "no-secrets-in-task-environment": ("app-task",),
    "secret-rotation": ("signing-key",),
    "vpc-endpoints-for-private-tasks": ("app-service",),
    "ecs-service-no-public-ip": ("app-service",),
    "deployment-strategy-allowed": ("app-service",),
    "blue-green-deployment-complete": ("app-service",),
    "rolling-deployment-circuit-breaker": ("app-service",),
    "fargate-capacity-providers": ("app-capacity",),
    "ecs-container-insights": ("app-cluster",),
    "required-tags": ("net-vpc", "edge-alb", "app-service", "app-task", "signing-key", "keys-logs"),
    "alb-https-only": ("edge-http",),
    "alb-modern-tls-policy": ("edge-https",),
    "alb-drop-invalid-headers": ("edge-alb",),
    "alb-access-logs": ("edge-alb",),
    "alb-deletion-protection": ("edge-alb",),
    "task-non-privileged": ("app-task",),
    "task-readonly-root-filesystem": ("app-task",),
    "task-logging-configured": ("app-task",),
    "task-non-root-user": ("app-task",),
    "fargate-platform-version": ("app-service",),
    "ecr-scan-on-push": ("app-images",),
    "ecr-immutable-tags": ("app-images",),
    "ecr-lifecycle-policy": ("app-images",),
    "vpc-flow-logs": ("net-vpc",),
    "kms-key-deletion-window": ("keys-secrets",),
    "ssm-secure-string": ("signing-key-copy",),
}
SUBSET_ONLY = {"required-tags"}

#: Known rule bugs this program exposes: defect -> xfail reason. Empty: every defect behaves.
DEFECT_XFAILS: Dict[str, str] = {}


def check(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "policypack", "check", PROGRAM, "--format", "json", "--quiet", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def report_of(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode in (0, 1), f"the check could not run (exit {result.returncode}): {result.stderr[-2000:]}"
    return json.loads(result.stdout)


def summary(report: dict) -> List[Tuple[str, str, str, str]]:
    return [(v["policyName"], v["enforcementLevel"], v["resourceName"], v["message"][:200])
            for v in report["violations"]]


# --- the catalogue and the defect table agree --------------------------------------------------
def test_every_policy_has_a_defect():
    listed = subprocess.run([sys.executable, "-m", "policypack", "list", "--format", "json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    policies = {p["name"]: p["enforcementLevel"] for p in json.loads(listed.stdout)}
    assert set(DEFECTS) == set(policies), (sorted(set(policies) - set(DEFECTS)), sorted(set(DEFECTS) - set(policies)))
    assert {name for name, level in policies.items() if level == "advisory"} == ADVISORY


def test_unknown_defect_stops_the_program():
    result = check("--config", "defect=no-such-policy")
    assert result.returncode == 2, (result.returncode, result.stdout[-1000:], result.stderr[-1000:])


# --- the compliant program ---------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["update", "preview"])
def test_compliant_program_is_clean(mode):
    report = report_of(check("--mode", mode))
    assert report["violations"] == [], summary(report)
    assert report["programFindings"] == [], report["programFindings"]
    assert report["summary"]["exitCode"] == 0 and report["mode"] == mode
    assert report["resources"] >= 75  # the whole program ran: 3 AZs, endpoints, edge, secret, service


def test_inline_lambda_source_is_not_an_environment_reference():
    report = report_of(check("--config", "inlineRotator=true"))
    assert report["violations"] == [], summary(report)


# --- one defect at a time ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def defect_reports() -> Dict[str, subprocess.CompletedProcess]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(check, "--config", f"defect={name}") for name in DEFECTS}
        return {name: future.result() for name, future in futures.items()}


def _defect_params():
    for name in DEFECTS:
        marks = [pytest.mark.xfail(strict=True, reason=DEFECT_XFAILS[name])] if name in DEFECT_XFAILS else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("policy", list(_defect_params()))
def test_defect_trips_exactly_its_policy(policy, defect_reports):
    result = defect_reports[policy]
    report = report_of(result)
    assert report["programFindings"] == [], report["programFindings"]
    fired = [v for v in report["violations"] if v["policyName"] == policy]
    others = [v for v in report["violations"] if v["policyName"] != policy]
    assert fired, f"defect {policy} was not reported; got {summary(report)}"
    expected_level = "advisory" if policy in ADVISORY else "mandatory"
    assert {v["enforcementLevel"] for v in fired} == {expected_level}, summary(report)
    # Nothing else: no other mandatory policy, and no advisory one either (none is implied here).
    assert not others, f"defect {policy} also tripped other policies: {summary({'violations': others})}"
    names = {v["resourceName"] for v in fired}
    wanted = set(DEFECTS[policy])
    if policy in SUBSET_ONLY:
        assert wanted <= names, (sorted(wanted - names), sorted(names))
    else:
        assert names == wanted, (sorted(names), sorted(wanted))
    assert result.returncode == (0 if policy in ADVISORY else 1), (result.returncode, summary(report))
    assert report["summary"]["exitCode"] == result.returncode
