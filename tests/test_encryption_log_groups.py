"""log-group-kms-encryption and log-group-retention."""
import pytest

from harness import Harness, UNKNOWN, assert_violation, policies_of, secret

LG = "aws:cloudwatch/logGroup:LogGroup"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def h():
    return Harness(["log-group-kms-encryption", "log-group-retention"])


def test_compliant(h):
    assert h.analyze(LG, {"kmsKeyId": KEY_ARN, "retentionInDays": 365.0}) == []


def test_unknown_values_at_preview_count_as_set(h):
    assert h.analyze(LG, {"kmsKeyId": UNKNOWN, "retentionInDays": UNKNOWN}) == []
    assert h.not_applicable(LG, {"kmsKeyId": UNKNOWN}) == []


def test_secret_key_id_is_read(h):
    assert h.analyze(LG, {"kmsKeyId": secret(KEY_ARN), "retentionInDays": secret(400.0)}) == []


@pytest.mark.parametrize("props", [{}, {"kmsKeyId": ""}, {"kmsKeyId": None}, {"kmsKeyId": "  "}])
def test_missing_key(h, props):
    diags = h.analyze(LG, {**props, "retentionInDays": 365.0}, name="payments-logs")
    assert_violation(diags, "log-group-kms-encryption", name="payments-logs", path="kmsKeyId", level="mandatory",
                     only=True)


def test_missing_key_message_proposes_the_fix(h):
    """The wording test of log-group-kms-encryption: the argument to set."""
    message = h.analyze(LG, {"retentionInDays": 365.0}, name="payments-logs")[0].message
    assert "payments-logs" in message and "kms_key_id" in message


@pytest.mark.parametrize("days, fires", [(None, True), (0.0, True), (7.0, True), (364.0, True),
                                         (365.0, False), (3653.0, False), ("400", False), ("x", True)])
def test_retention(h, days, fires):
    props = {"kmsKeyId": KEY_ARN}
    if days is not None:
        props["retentionInDays"] = days
    diags = h.analyze(LG, props)
    assert policies_of(diags) == (["log-group-retention"] if fires else [])
    if fires:
        assert_violation(diags, "log-group-retention", path="retentionInDays", level="mandatory")


def test_retention_minimum_is_configurable():
    h = Harness(["log-group-retention"], config={"log-group-retention": {"minRetentionDays": 30}})
    assert h.analyze(LG, {"retentionInDays": 30.0}) == []
    assert policies_of(h.analyze(LG, {"retentionInDays": 14.0})) == ["log-group-retention"]


@pytest.mark.parametrize("props", [{"kmsKeyId": 5.0}, {"kmsKeyId": ["a"]}, {"kmsKeyId": {"x": 1}},
                                   {"retentionInDays": [1]}, {"retentionInDays": {"a": None}}])
def test_malformed_input_never_raises(h, props):
    diags = h.analyze(LG, props)
    assert all(d.policy in ("log-group-kms-encryption", "log-group-retention") for d in diags)


def test_other_types_ignored(h):
    assert h.analyze("aws:s3/bucket:Bucket", {}) == []


def test_levels_follow_config():
    h = Harness(["log-group-kms-encryption"], config={"log-group-kms-encryption": "advisory"})
    assert [d.level for d in h.analyze(LG, {})] == ["advisory"]
    h.configure({"log-group-kms-encryption": "disabled"})
    assert h.analyze(LG, {}) == []
