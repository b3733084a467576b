"""A report lists its findings in one order, whatever order the engine produced them in: the same
input gives the same report, byte for byte, in every format."""
import copy

from hypothesis import given, settings, strategies as st

from policypack.offline.findings import fingerprint
from policypack.offline.pipeline import Batch, Report
from policypack.offline.reports import FORMATS, render, render_batch

STACK = "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"
BUCKET = "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::assets"
QUEUE = "urn:pulumi:dev::shop::aws:sqs/queue:Queue::orders"


def _violation(policy: str, level: str, urn: str, prop: str = "", message: str = "found") -> dict:
    return {"fingerprint": fingerprint(policy, urn, prop), "property": prop, "baselined": False,
            "policyName": policy, "policyPackName": "payments-guard", "enforcementLevel": level, "severity": "high",
            "urn": urn, "resourceType": urn.split("::")[2] if urn else "",
            "resourceName": urn.split("::")[-1] if urn else "", "description": policy, "message": message,
            "source": {"file": "__main__.py", "line": 3} if urn else None}


# In the order a reader finds them in: mandatory first, then by policy, resource, property, message.
VIOLATIONS = [
    _violation("required-tags", "mandatory", "", message="the stack as a whole"),
    _violation("required-tags", "mandatory", BUCKET, "tags"),
    _violation("required-tags", "mandatory", QUEUE, "tags"),
    _violation("sqs-encryption", "mandatory", QUEUE, "kmsMasterKeyId"),
    _violation("sqs-encryption", "mandatory", QUEUE, "kmsMasterKeyId", "the second message"),
    _violation("sqs-encryption", "mandatory", QUEUE, "kmsMasterKeyId", "the third message"),
    _violation("log-retention", "advisory", BUCKET, "lifecycle[0].days"),
    _violation("log-retention", "advisory", BUCKET, "lifecycle[1].days"),
    _violation("secret-rotation", "advisory", QUEUE),
]
FINDINGS = [
    {"id": "program-error", "level": "error", "urn": "", "message": "the program failed"},
    {"id": "program-stack-reference", "level": "mandatory", "urn": "urn:a", "message": "reads acme/net/prod"},
    {"id": "program-stack-reference", "level": "mandatory", "urn": "urn:b", "message": "reads acme/net/staging"},
    {"id": "program-resource-read", "level": "advisory", "urn": "urn:c", "message": "reads a VPC"},
]
REMEDIATIONS = [
    {"policyName": "required-tags", "urn": BUCKET, "resourceType": "aws:s3/bucket:Bucket", "resourceName": "assets",
     "changes": {"tags": {"added": {"team": "x"}, "changed": []}}},
    {"policyName": "required-tags", "urn": QUEUE, "resourceType": "aws:sqs/queue:Queue", "resourceName": "orders",
     "changes": {"tags": {"added": {"team": "x"}, "changed": []}}},
]
NOT_APPLICABLE = [{"policyName": "log-retention", "urn": QUEUE, "reason": "not a log"},
                  {"policyName": "sqs-encryption", "urn": BUCKET, "reason": "not a queue"}]
WARNINGS = ["config aws:region is not set", "policy config: no policy named 'x'; entry ignored"]
POLICIES = [{"name": name, "description": name, "enforcementLevel": "mandatory", "severity": "high", "url": "",
             "kind": "resource"} for name in ("required-tags", "sqs-encryption", "log-retention", "secret-rotation")]


def _report(violations, findings, remediations, not_applicable, warnings) -> Report:
    report = Report(pack={"name": "payments-guard", "version": "1.0.0"}, project="shop", stack="dev",
                    mode="update", program="examples/shop", resources=3, policies=copy.deepcopy(POLICIES),
                    violations=copy.deepcopy(list(violations)), program_findings=copy.deepcopy(list(findings)),
                    remediations=copy.deepcopy(list(remediations)),
                    not_applicable=copy.deepcopy(list(not_applicable)), warnings=list(warnings),
                    duration_seconds=1.5)
    report.put_in_order()
    return report


EXPECTED = _report(VIOLATIONS, FINDINGS, REMEDIATIONS, NOT_APPLICABLE, WARNINGS)


def test_the_order_is_the_readers():
    assert EXPECTED.violations == VIOLATIONS
    assert EXPECTED.program_findings == FINDINGS
    assert EXPECTED.remediations == REMEDIATIONS and EXPECTED.not_applicable == NOT_APPLICABLE


@settings(derandomize=True, max_examples=25, deadline=None)
@given(st.permutations(VIOLATIONS), st.permutations(FINDINGS), st.permutations(REMEDIATIONS),
       st.permutations(NOT_APPLICABLE), st.permutations(WARNINGS))
def test_every_format_is_the_same_whatever_order_the_findings_came_in(violations, findings, remediations,
                                                                       not_applicable, warnings):
    report = _report(violations, findings, remediations, not_applicable, warnings)
    for fmt in FORMATS:
        assert render(report, fmt) == render(EXPECTED, fmt), fmt
    shuffled = Batch(inputs=["a", "b"], reports=[report, EXPECTED], duration_seconds=2.0)
    ordered = Batch(inputs=["a", "b"], reports=[EXPECTED, EXPECTED], duration_seconds=2.0)
    for fmt in FORMATS:
        assert render_batch(shuffled, fmt) == render_batch(ordered, fmt), fmt
