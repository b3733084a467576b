"""ecr-kms-encryption, kms-key-rotation, kms-key-deletion-window, secretsmanager-secret-cmk."""
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from harness import Harness, UNKNOWN, assert_violation, policies_of, secret
from policypack.pack import Pack, select_rules
from policypack.rules import CATALOGUE

REPO = "aws:ecr/repository:Repository"
KEY = "aws:kms/key:Key"
SEC = "aws:secretsmanager/secret:Secret"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MINE = ("ecr-kms-encryption", "kms-key-rotation", "kms-key-deletion-window", "secretsmanager-secret-cmk")


@pytest.fixture(scope="module")
def h():
    return Harness(list(MINE))


def kms(key=KEY_ARN, kind="KMS"):
    entry = {}
    if kind is not None:
        entry["encryptionType"] = kind
    if key is not None:
        entry["kmsKey"] = key
    return {"encryptionConfigurations": [entry]}


# --- metadata --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, level, seeds, fsbp_controls", [
    ("ecr-kms-encryption", "resource", "mandatory", (6, 12), ()),
    ("kms-key-rotation", "resource", "mandatory", (6,), ("KMS.4",)),
    ("kms-key-deletion-window", "resource", "advisory", (6,), ("KMS.3",)),
    ("secretsmanager-secret-cmk", "resource", "mandatory", (6, 8), ()),
])
def test_metadata(name, kind, level, seeds, fsbp_controls):
    [rule] = select_rules(names=[name])
    assert name in CATALOGUE
    assert (rule.kind, rule.level, rule.seeds, rule.concern) == (kind, level, seeds, "encryption")
    assert rule.severity in ("low", "medium", "high", "critical")
    pci = [fw for fw in rule.frameworks if fw.name == "PCI DSS"]
    assert pci and pci[0].version == "4.0" and all(c[0].isdigit() for c in pci[0].controls)
    fsbp = [c for fw in rule.frameworks if fw.name.startswith("AWS Foundational") for c in fw.controls]
    assert tuple(fsbp) == fsbp_controls
    assert rule.description and rule.remediation and rule.compliant_example
    for key, spec in rule.config_properties.items():
        assert "default" in spec and "description" in spec and key[0].islower()
    Pack([rule])  # the SDK accepts the metadata and the config schema


def test_config_schemas_are_valid_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    for rule in select_rules(names=list(MINE)):
        schema = {"type": "object", "properties": rule.config_schema()}
        jsonschema.Draft7Validator.check_schema(schema)
        jsonschema.validate(rule.config_defaults(), schema)


# --- ecr-kms-encryption ----------------------------------------------------------------------------

@pytest.mark.parametrize("props", [
    kms(), kms(key=None), kms(kind="KMS_DSSE"), kms(kind="kms"),
    {"encryptionConfigurations": {"encryptionType": "KMS", "kmsKey": KEY_ARN}},  # a max-1 block as an object
    {"encryptionConfigurations": secret([{"encryptionType": "KMS", "kmsKey": KEY_ARN}])},
])
def test_ecr_compliant(h, props):
    assert h.analyze(REPO, props) == []


@pytest.mark.parametrize("props, path", [
    ({}, "encryptionConfigurations"), ({"encryptionConfigurations": []}, "encryptionConfigurations"),
    ({"encryptionConfigurations": None}, "encryptionConfigurations"),
    (kms(kind="AES256", key=None), "encryptionConfigurations[0].encryptionType"),
    (kms(kind="aes256", key=None), "encryptionConfigurations[0].encryptionType"),
    (kms(kind=None, key=None), "encryptionConfigurations[0].encryptionType"),
])
def test_ecr_aes256_default_or_explicit_fires(h, props, path):
    diags = h.analyze(REPO, props, name="payments-repo")
    assert_violation(diags, "ecr-kms-encryption", name="payments-repo", path=path, level="mandatory", only=True)


def test_ecr_message_proposes_the_fix(h):
    """The wording test of ecr-kms-encryption: the arguments that switch the repository to KMS."""
    message = h.analyze(REPO, {}, name="payments-repo")[0].message
    assert "payments-repo" in message
    assert "encryption_configurations" in message and 'encryption_type="KMS"' in message


def test_ecr_seed_12_shape_fires(h):
    """Seed 12's fix removed the (non-existent) singular argument: the repository is left on AES256."""
    props = {"name": "payment-processor-dev", "imageScanningConfiguration": {"scanOnPush": True},
             "imageTagMutability": "MUTABLE"}
    assert policies_of(h.analyze(REPO, props)) == ["ecr-kms-encryption"]


def test_ecr_allow_aes256():
    h = Harness(["ecr-kms-encryption"], config={"ecr-kms-encryption": {"allowAes256": True}})
    assert h.analyze(REPO, {}) == []
    assert h.analyze(REPO, kms(kind="AES256", key=None)) == []
    assert h.analyze(REPO, kms()) == []
    assert policies_of(h.analyze(REPO, kms(kind="DES", key=None))) == ["ecr-kms-encryption"]


def test_ecr_require_customer_managed_key():
    h = Harness(["ecr-kms-encryption"], config={"ecr-kms-encryption": {"requireCustomerManagedKey": True}})
    assert h.analyze(REPO, kms()) == []
    assert h.analyze(REPO, kms(key=UNKNOWN)) == []
    for props in (kms(key=None), kms(key=""), kms(key="alias/aws/ecr"),
                  kms(key="arn:aws:kms:us-east-1:123456789012:alias/aws/ecr")):
        assert_violation(h.analyze(REPO, props), "ecr-kms-encryption", path="encryptionConfigurations[0].kmsKey",
                         only=True)


@pytest.mark.parametrize("props", [
    {"encryptionConfigurations": UNKNOWN}, {"encryptionConfigurations": [UNKNOWN]},
    kms(kind=UNKNOWN, key=UNKNOWN),
])
def test_ecr_unknown_is_silent(h, props):
    assert h.analyze(REPO, props) == []
    assert h.not_applicable(REPO, props) == []


@pytest.mark.parametrize("props", [
    {"encryptionConfigurations": "KMS"}, {"encryptionConfigurations": 5.0}, {"encryptionConfigurations": [5.0]},
    {"encryptionConfigurations": ["KMS"]}, kms(kind=5.0), kms(kind=["KMS"]), kms(kind="DES"),
])
def test_ecr_malformed_fires_without_raising(h, props):
    assert policies_of(h.analyze(REPO, props)) == ["ecr-kms-encryption"]


def test_ecr_unsupported_type_not_echoed_when_secret(h):
    diags = h.analyze(REPO, {"encryptionConfigurations": secret([{"encryptionType": "S3CR3TY"}])})
    assert_violation(diags, "ecr-kms-encryption", path="encryptionConfigurations[0].encryptionType", only=True)
    assert "S3CR3TY" not in diags[0].message


# --- kms-key-rotation ------------------------------------------------------------------------------

@pytest.mark.parametrize("props", [
    {"enableKeyRotation": True}, {"enableKeyRotation": "true"}, {"enableKeyRotation": secret(True)},
    {"enableKeyRotation": True, "rotationPeriodInDays": 365.0}, {"enableKeyRotation": True, "rotationPeriodInDays": 90.0},
    {"enableKeyRotation": True, "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "deletionWindowInDays": 30.0},
    {"enableKeyRotation": UNKNOWN}, {"enableKeyRotation": True, "rotationPeriodInDays": UNKNOWN},
])
def test_rotation_compliant(h, props):
    assert h.analyze(KEY, props) == []


@pytest.mark.parametrize("props", [
    {}, {"enableKeyRotation": False}, {"enableKeyRotation": None}, {"enableKeyRotation": "false"},
    {"enableKeyRotation": False, "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT"},
    {"enableKeyRotation": 1.0}, {"enableKeyRotation": "yes"}, {"enableKeyRotation": [True]},
    {"customerMasterKeySpec": 5.0}, {"customKeyStoreId": ""},
])
def test_rotation_missing_fires(h, props):
    diags = h.analyze(KEY, props, name="payments-key")
    assert_violation(diags, "kms-key-rotation", name="payments-key", path="enableKeyRotation", level="mandatory",
                     only=True)


@pytest.mark.parametrize("props", [
    {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"},
    {"customerMasterKeySpec": "ECC_NIST_P256"}, {"customerMasterKeySpec": "HMAC_256", "keyUsage": "GENERATE_VERIFY_MAC"},
    {"keyUsage": "SIGN_VERIFY"}, {"customKeyStoreId": "cks-1234567890abcdef0"}, {"customKeyStoreId": UNKNOWN},
    {"xksKeyId": "ext-key-1"}, {"customerMasterKeySpec": UNKNOWN}, {"keyUsage": UNKNOWN},
])
def test_rotation_not_applicable_to_keys_that_cannot_rotate(h, props):
    props = {**props, "enableKeyRotation": False}
    assert h.analyze(KEY, props) == []
    assert h.not_applicable(KEY, props) == ["kms-key-rotation"]


def test_rotation_period(h):
    # by default any enabled rotation passes (the catalogue asks for enableKeyRotation only)
    assert h.analyze(KEY, {"enableKeyRotation": True, "rotationPeriodInDays": 730.0}) == []
    h1 = Harness(["kms-key-rotation"], config={"kms-key-rotation": {"maxRotationPeriodDays": 365}})
    diags = h1.analyze(KEY, {"enableKeyRotation": True, "rotationPeriodInDays": 730.0})
    assert_violation(diags, "kms-key-rotation", path="rotationPeriodInDays", only=True)
    h2 = Harness(["kms-key-rotation"], config={"kms-key-rotation": {"maxRotationPeriodDays": 180}})
    assert policies_of(h2.analyze(KEY, {"enableKeyRotation": True, "rotationPeriodInDays": 365.0})) == ["kms-key-rotation"]
    assert h2.analyze(KEY, {"enableKeyRotation": True, "rotationPeriodInDays": 180.0}) == []
    assert h2.analyze(KEY, {"enableKeyRotation": True}) == []  # KMS default (yearly) is not judged against the knob
    assert h.analyze(KEY, {"enableKeyRotation": True, "rotationPeriodInDays": "junk"}) == []


# --- kms-key-deletion-window -----------------------------------------------------------------------

@pytest.mark.parametrize("days, fires", [
    (None, False), (30.0, False), ("30", False), (UNKNOWN, False), (secret(30.0), False),
    (7.0, True), (29.0, True), ("7", True), ("junk", True), ([30], True),
])
def test_deletion_window(h, days, fires):
    props = {"enableKeyRotation": True}
    if days is not None:
        props["deletionWindowInDays"] = days
    diags = h.analyze(KEY, props, name="payments-key")
    assert policies_of(diags) == (["kms-key-deletion-window"] if fires else [])
    if fires:
        assert_violation(diags, "kms-key-deletion-window", name="payments-key", path="deletionWindowInDays",
                         level="advisory", only=True)


def test_deletion_window_minimum_is_configurable():
    h = Harness(["kms-key-deletion-window"], config={"kms-key-deletion-window": {"minDeletionWindowDays": 14}})
    assert h.analyze(KEY, {"deletionWindowInDays": 14.0}) == []
    assert policies_of(h.analyze(KEY, {"deletionWindowInDays": 10.0})) == ["kms-key-deletion-window"]
    h.configure({"kms-key-deletion-window": {"enforcementLevel": "mandatory", "minDeletionWindowDays": "bad"}})
    assert [d.level for d in h.analyze(KEY, {"deletionWindowInDays": 10.0})] == ["mandatory"]  # falls back to 30


# --- secretsmanager-secret-cmk ---------------------------------------------------------------------

@pytest.mark.parametrize("props", [
    {"kmsKeyId": KEY_ARN}, {"kmsKeyId": UNKNOWN}, {"kmsKeyId": secret(KEY_ARN)}, {"kmsKeyId": "alias/payments-secrets"},
    {"kmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
    {"kmsKeyId": KEY_ARN, "replicas": [{"region": "eu-west-1", "kmsKeyId": KEY_ARN}]},
    {"kmsKeyId": KEY_ARN, "replicas": [{"region": "eu-west-1", "kmsKeyId": UNKNOWN}]},
    {"kmsKeyId": KEY_ARN, "replicas": UNKNOWN},
])
def test_cmk_compliant(h, props):
    assert h.analyze(SEC, props) == []


@pytest.mark.parametrize("props", [
    {}, {"kmsKeyId": ""}, {"kmsKeyId": None}, {"kmsKeyId": "   "}, {"kmsKeyId": "alias/aws/secretsmanager"},
    {"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager"}, {"kmsKeyId": 5.0},
    {"kmsKeyId": ["x"]}, {"kmsKeyId": {"a": 1}},
])
def test_cmk_missing_fires(h, props):
    diags = h.analyze(SEC, {**props, "name": "payments/db"}, name="db-secret")
    assert_violation(diags, "secretsmanager-secret-cmk", name="db-secret", path="kmsKeyId", level="mandatory", only=True)


def test_cmk_replicas(h):
    diags = h.analyze(SEC, {"kmsKeyId": KEY_ARN, "replicas": [{"region": "eu-west-1"},
                                                               {"region": "us-west-2", "kmsKeyId": KEY_ARN}]})
    assert_violation(diags, "secretsmanager-secret-cmk", path="replicas[0].kmsKeyId", only=True)
    # malformed replicas never raise
    for replicas in ("x", [5.0], [None], {"region": "eu-west-1"}):
        h.analyze(SEC, {"kmsKeyId": KEY_ARN, "replicas": replicas})


def test_other_types_ignored(h):
    assert h.analyze("aws:s3/bucket:Bucket", {}) == []
    assert h.analyze("aws:secretsmanager/secretVersion:SecretVersion", {}) == []


def test_levels_follow_config():
    h = Harness(list(MINE), config={"kms-key-rotation": "advisory", "ecr-kms-encryption": "disabled"})
    assert [(d.policy, d.level) for d in h.analyze(KEY, {})] == [("kms-key-rotation", "advisory")]
    assert h.analyze(REPO, {}) == []


# --- fuzz: never raise -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from([UNKNOWN, "KMS", "AES256", "alias/aws/ecr", KEY_ARN, "RSA_2048", "SYMMETRIC_DEFAULT"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
prop_names = st.sampled_from(["encryptionConfigurations", "enableKeyRotation", "customerMasterKeySpec", "keyUsage",
                              "customKeyStoreId", "rotationPeriodInDays", "deletionWindowInDays", "kmsKeyId",
                              "replicas", "xksKeyId"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(type_=st.sampled_from([REPO, KEY, SEC]), props=st.dictionaries(prop_names, json_values, max_size=5))
def test_fuzz_never_raises(h, type_, props):
    json.dumps(props)  # wire-representable
    for diag in h.analyze(type_, props):
        assert diag.policy in MINE
