"""no-plaintext-secret-values, no-secrets-in-task-environment, secret-rotation, ssm-secure-string."""
import base64
import json
import random
import re
import string

import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from harness import Harness, UNKNOWN, assert_violation, policies_of, resource, secret
from policypack.pack import Pack, select_rules
from policypack.rules import CATALOGUE
from policypack.rules.secrets import NameClassifier, name_tokens
from policypack.rule import Context

SV = "aws:secretsmanager/secretVersion:SecretVersion"
SEC = "aws:secretsmanager/secret:Secret"
SR = "aws:secretsmanager/secretRotation:SecretRotation"
TD = "aws:ecs/taskDefinition:TaskDefinition"
SSM = "aws:ssm/parameter:Parameter"
MINE = ("no-plaintext-secret-values", "no-secrets-in-task-environment", "secret-rotation", "ssm-secure-string")
SEED_DOC = """{
    "username": "payment_user",
    "password": "CHANGEME_IN_PRODUCTION",
    "host": "db.example.com",
    "port": "5432",
    "database": "payments"
}"""
STRONG = "vG7#qLz2!Rw9@kPx4$Tn"


@pytest.fixture(scope="module")
def h():
    return Harness(list(MINE))


def strong_passwords(n=60, seed=20240601):
    rnd = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "!#%&*+-=?@^_~"
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(12, 40))) for _ in range(n)]


def _template_words():
    """Every word of the rules' own message texts (string literals of the module): a value's fragment that is
    one of them may appear in a message because the template says it, not because the value was repeated."""
    import ast
    import policypack.rules.secrets as module
    words = set()
    for node in ast.walk(ast.parse(open(module.__file__).read())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words.update(w.lower() for w in re.findall(r"[A-Za-z0-9]+", node.value))
    return words


TEMPLATE_WORDS = _template_words()


def _templated(text):
    lowered = text.lower()
    return any(lowered in word for word in TEMPLATE_WORDS)


def fragments(value):
    """The parts of a value a message must not repeat: the value, and its word-like pieces (except words the
    message templates themselves contain: a secret that is literally `password` cannot forbid that word)."""
    parts = {value} if len(value.strip()) >= 3 and not _templated(value) else set()
    parts.update(t for t in re.findall(r"[A-Za-z0-9]+", value) if len(t) >= 4 and not _templated(t))
    return parts


def assert_no_leak(diags, *values, allowed=()):
    assert diags, "expected a violation"
    for diag in diags:
        text = diag.message.lower()
        for value in values:
            for part in fragments(value):
                if part.lower() in {a.lower() for a in allowed}:
                    continue
                assert part.lower() not in text, f"message repeats {part!r} of the value: {diag.message}"


def sv(value, field="secretString"):
    return {"secretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", field: secret(value)}


def td(*containers):
    return {"family": "payments", "containerDefinitions": json.dumps(list(containers))}


def container(name="app", env=None, secrets=None):
    c = {"name": name, "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"}
    if env is not None:
        c["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    if secrets is not None:
        c["secrets"] = [{"name": k, "valueFrom": v} for k, v in secrets.items()]
    return c


# --- metadata --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, level, fsbp_controls", [
    ("no-plaintext-secret-values", "resource", "mandatory", ()),
    ("no-secrets-in-task-environment", "resource", "mandatory", ("ECS.8",)),
    ("secret-rotation", "stack", "advisory", ("SecretsManager.1", "SecretsManager.4")),
    ("ssm-secure-string", "resource", "mandatory", ()),
])
def test_metadata(name, kind, level, fsbp_controls):
    [rule] = select_rules(names=[name])
    assert name in CATALOGUE
    assert (rule.kind, rule.level, rule.seeds, rule.concern) == (kind, level, (8,), "secrets")
    pci = [fw for fw in rule.frameworks if fw.name == "PCI DSS"]
    assert pci and pci[0].version == "4.0"
    assert tuple(c for fw in rule.frameworks if fw.name.startswith("AWS Foundational") for c in fw.controls) == fsbp_controls
    assert rule.description and rule.remediation and rule.compliant_example
    for spec in rule.config_properties.values():
        assert "default" in spec and "description" in spec
    Pack([rule])


def test_config_schemas_are_valid_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    for rule in select_rules(names=list(MINE)):
        schema = {"type": "object", "properties": rule.config_schema()}
        jsonschema.Draft7Validator.check_schema(schema)
        jsonschema.validate(rule.config_defaults(), schema)


# --- credential-like names ------------------------------------------------------------------------

CREDENTIAL_NAMES = ["DB_PASSWORD", "PASSWORD", "DB_PASS", "DB_PASSWD", "DB_PWD", "JWT_SECRET", "API_KEY", "APIKEY",
                    "STRIPE_API_KEY", "STRIPE_SECRET_KEY", "PRIVATE_KEY", "SSH_PRIVATE_KEY", "DB_CREDENTIALS",
                    "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "GITHUB_TOKEN", "AWS_SESSION_TOKEN", "dbPassword",
                    "apiKey", "SECRET_KEY_BASE", "CLIENT_SECRET", "OAUTH_CLIENT_SECRET", "DBPASSWORD", "AUTHTOKEN",
                    "WEBHOOK_SECRET", "PASSPHRASE", "BASIC_AUTH", "CONNECTION_STRING", "secrets"]
REFERENCE_NAMES = ["SECRET_ARN", "DB_PASSWORD_SECRET_ARN", "DB_SECRET_ID", "SECRET_NAME", "DB_PASSWORD_PATH",
                   "SECRETS_MANAGER_ENDPOINT", "PASSWORD_FILE", "TOKEN_URL", "TOKEN_ENDPOINT", "TOKEN_TTL",
                   "PASSWORD_MIN_LENGTH", "API_KEY_ID", "KMS_KEY_ID", "KMS_KEY_ARN", "ACCESS_KEY_ID", "LOG_LEVEL",
                   "DB_HOST", "DB_USER", "DB_USERNAME", "PORT", "CACHE_KEY_PREFIX", "SORT_KEY", "BYPASS_CACHE",
                   "TOKENIZER_MODEL", "PASSWORD_POLICY", "SECRET_ROTATION_DAYS", "PASSPORT_ENABLED", "", "DATABASE_URL"]


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_credential_names(name):
    assert NameClassifier(Context(config={})).is_credential(name)


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_reference_and_plain_names(name):
    assert not NameClassifier(Context(config={})).is_credential(name)


def test_name_tokens():
    assert name_tokens("dbPasswordARN") == ["db", "password", "arn"]
    assert name_tokens("/payments/dev/db-password") == ["payments", "dev", "db", "password"]
    assert name_tokens("APIKey") == ["api", "key"]


# --- no-plaintext-secret-values --------------------------------------------------------------------

def test_seed_secret_fires_naming_keys_never_values(h):
    diags = h.analyze(SV, sv(SEED_DOC), name="db-credentials")
    assert_violation(diags, "no-plaintext-secret-values", name="db-credentials", path="secretString", level="mandatory",
                     only=True)
    assert_no_leak(diags, "CHANGEME_IN_PRODUCTION", "db.example.com", "payment_user", "5432", "payments",
                   "CHANGEME", "example.com", "example")


def test_seed_secret_without_secret_wrapper(h):
    assert policies_of(h.analyze(SV, {"secretId": "x", "secretString": SEED_DOC})) == ["no-plaintext-secret-values"]


WEAK_VALUES = [
    "CHANGEME", "changeme", "change-me-please", "Change_Me!", "REPLACE_ME", "replace with real value", "TODO", "todo: set",
    "FIXME", "TBD", "placeholder", "dummy", "xxxxxxxx", "XXXX-XXXX-XXXX", "<db-password>", "<YOUR_API_KEY>",
    "${DB_PASSWORD}", "{{ db_password }}", "your-password-here", "password_goes_here", "password", "Password123",
    "password123", "P@ssw0rd!", "Passw0rd", "admin", "Admin@123", "administrator", "root", "secret", "Secret2024!",
    "letmein", "letmein!", "123456", "12345678", "123456789", "qwerty", "qwertyuiop", "welcome1", "Summer2024!",
    "changeit", "hunter2", "abc123", "aaaaaaaaaaaa", "************", "abcdefgh", "abcdef123456", "98765432",
    "abababababab", "zyxwvuts", "", "   ", "short", "aaaabbbb", "mail.example.org", "https://api.example.net/v1",
    "ops@example.com", "db.payments.invalid", "postgres://app:password@db.internal:5432/payments",
]


@pytest.mark.parametrize("value", WEAK_VALUES)
def test_weak_raw_values_fire_and_never_leak(h, value):
    diags = h.analyze(SV, sv(value), name="db-credentials")
    assert_violation(diags, "no-plaintext-secret-values", name="db-credentials", path="secretString", level="mandatory",
                     only=True)
    assert_no_leak(diags, value)


@pytest.mark.parametrize("value", WEAK_VALUES)
def test_weak_values_inside_json_fire_and_never_leak(h, value):
    doc = json.dumps({"username": "payments_app", "password": value, "host": "db.internal.payments"})
    diags = h.analyze(SV, sv(doc))
    assert_violation(diags, "no-plaintext-secret-values", path="secretString", level="mandatory", only=True)
    assert_no_leak(diags, value, allowed=("password",))


@pytest.mark.parametrize("doc, keys", [
    ({"db": {"password": "CHANGEME", "user": "app"}}, ["db.password"]),
    ({"apiKey": "TODO", "endpoint": "https://api.stripe.com"}, ["apiKey"]),
    ({"accounts": [{"token": "xxxx"}, {"token": STRONG}]}, ["accounts[0].token"]),
    ({"password": 123456}, ["password"]),
    ({"username": "svc_payments_rw", "password": "svc_payments_rw"}, ["password"]),
    ({"url": "https://hooks.example.com/T000"}, ["url"]),
    ({"dsn": "postgres://app:changeme@db:5432/x"}, ["dsn"]),
    ({"host": "<db host>", "password": STRONG}, ["host"]),
    ({"weird key with spaces!": "CHANGEME"}, ["<key>"]),
    (json.loads(SEED_DOC), ["password", "host"]),
])
def test_json_findings_name_keys(h, doc, keys):
    """The wording test of no-plaintext-secret-values: the property is the whole document, so the
    message is where the keys to fix are named (and the only place; never their values)."""
    diags = h.analyze(SV, sv(json.dumps(doc)))
    assert_violation(diags, "no-plaintext-secret-values", path="secretString", only=True)
    named = set(re.findall(r"`([^`]*)`", diags[0].message))
    assert set(keys) <= named
    assert not {"username", "port", "database", "user", "endpoint"} & named  # the harmless keys are not blamed
    leaves = [v for v in re.findall(r'"([^"]*)"', json.dumps(list(_values(doc))))]
    assert_no_leak(diags, *leaves, allowed=("password", "token", "apikey", "host", "accounts", "url", "dsn"))


def _values(doc):
    if isinstance(doc, dict):
        for v in doc.values():
            yield from _values(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _values(v)
    else:
        yield str(doc)


@pytest.mark.parametrize("value", strong_passwords())
def test_strong_passwords_pass(h, value):
    assert h.analyze(SV, sv(value)) == [], value
    doc = json.dumps({"username": "admin", "password": value, "host": "payments-db.cluster-abc.us-east-1.rds.amazonaws.com",
                      "port": 5432, "engine": "postgres", "dbname": "payments"})
    assert h.analyze(SV, sv(doc)) == [], value


@pytest.mark.parametrize("value", [
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n",
    "sk_live_51H8b2cKzYq9Wm3xTtV7pL0aR", "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF/aB3dE5gH7jK9mN1pQ3sT",
    json.dumps({"username": "payment_user", "password": STRONG, "host": "db.internal", "port": "5432",
                "database": "payments"}),
    json.dumps({"engine": "postgres", "note": "rotated by lambda", "empty": ""}), "{}", "[]",
])
def test_realistic_secrets_pass(h, value):
    assert h.analyze(SV, sv(value)) == []


def test_config_secret_value_passes_and_weak_one_fires(h):
    """pulumi-aws marks secretString secret itself: provenance is invisible, only the value is judged."""
    assert h.analyze(SV, sv(STRONG)) == []
    assert policies_of(h.analyze(SV, sv("letmein123"))) == ["no-plaintext-secret-values"]


def test_unknown_value_is_not_applicable(h):
    props = {"secretId": UNKNOWN, "secretString": UNKNOWN}
    assert h.analyze(SV, props) == []
    assert h.not_applicable(SV, props) == ["no-plaintext-secret-values"]
    assert h.not_applicable(SV, {"secretId": "x", "secretString": secret(UNKNOWN)}) == ["no-plaintext-secret-values"]
    # nothing to judge: neither a finding nor not-applicable
    assert h.analyze(SV, {"secretId": "x"}) == [] and h.not_applicable(SV, {"secretId": "x"}) == []


def test_secret_binary(h):
    weak = base64.b64encode(b"password123").decode()
    diags = h.analyze(SV, sv(weak, "secretBinary"))
    assert_violation(diags, "no-plaintext-secret-values", path="secretBinary", only=True)
    assert_no_leak(diags, weak, "password123")
    assert h.analyze(SV, sv(base64.b64encode(bytes(range(256))).decode(), "secretBinary")) == []
    assert h.analyze(SV, sv(base64.b64encode(STRONG.encode()).decode(), "secretBinary")) == []
    assert policies_of(h.analyze(SV, sv("CHANGEME!", "secretBinary"))) == ["no-plaintext-secret-values"]  # not base64
    seed = base64.b64encode(SEED_DOC.encode()).decode()
    assert policies_of(h.analyze(SV, sv(seed, "secretBinary"))) == ["no-plaintext-secret-values"]


def test_write_only_secret_string(h):
    diags = h.analyze(SV, {"secretId": "x", "secretStringWo": secret("CHANGEME"), "secretStringWoVersion": 1.0})
    assert_violation(diags, "no-plaintext-secret-values", path="secretStringWo", only=True)


@pytest.mark.parametrize("props, fires", [
    ({"name": "/payments/dev/db/password", "type": "SecureString", "value": secret("CHANGEME")}, True),
    ({"name": "/payments/dev/api/config", "type": "SecureString", "value": secret("TODO")}, True),
    ({"name": "/payments/dev/db/password", "type": "SecureString", "value": secret(STRONG)}, False),
    ({"name": "/payments/dev/db/password", "type": "SecureString", "valueWo": secret("admin")}, True),
    ({"name": "/payments/dev/db/password", "type": "String", "insecureValue": "password123"}, True),
    ({"name": "/payments/dev/log-level", "type": "String", "value": secret("TODO")}, False),
    ({"name": "/payments/dev/log-level", "type": "String", "insecureValue": "debug"}, False),
    ({"name": "/payments/dev/log-level", "type": UNKNOWN, "value": secret("TODO")}, False),
    ({"name": "/payments/dev/db/password", "type": "SecureString", "value": UNKNOWN}, False),
])
def test_ssm_values(h, props, fires):
    diags = [d for d in h.analyze(SSM, props) if d.policy == "no-plaintext-secret-values"]
    assert bool(diags) == fires
    if fires:
        for field in ("value", "valueWo", "insecureValue"):
            if field in props:
                raw = props[field]["value"] if isinstance(props[field], dict) else props[field]
                assert_no_leak(diags, raw)


def test_ssm_logical_name_counts(h):
    diags = h.analyze(SSM, {"type": "String", "insecureValue": "letmein"}, name="db-password-param")
    assert "no-plaintext-secret-values" in policies_of(diags)


def test_no_plaintext_config_knobs():
    h = Harness(["no-plaintext-secret-values"], config={"no-plaintext-secret-values": {
        "minSecretLength": 24, "extraWeakValues": ["Tr0ub4dor&3xyz"], "extraPlaceholderPatterns": ["^ACME-DEFAULT-"]}})
    assert policies_of(h.analyze(SV, sv(STRONG))) == ["no-plaintext-secret-values"]  # 20 < 24
    assert policies_of(h.analyze(SV, sv("tr0ub4dor&3XYZ"))) == ["no-plaintext-secret-values"]
    diags = h.analyze(SV, sv("ACME-DEFAULT-" + STRONG + "zzzz"))
    assert policies_of(diags) == ["no-plaintext-secret-values"]
    assert_no_leak(diags, "ACME-DEFAULT-" + STRONG + "zzzz", STRONG)
    assert h.analyze(SV, sv(STRONG + "k9Qw")) == []


def test_no_plaintext_malformed_config_falls_back():
    h = Harness(["no-plaintext-secret-values"], config={"no-plaintext-secret-values": {
        "minSecretLength": "long", "extraWeakValues": "nope", "extraPlaceholderPatterns": ["(", 5, None],
        "nonCredentialSuffixes": "x", "allowedNames": [3]}})
    assert h.analyze(SV, sv(STRONG)) == []
    assert policies_of(h.analyze(SV, sv(SEED_DOC))) == ["no-plaintext-secret-values"]


@pytest.mark.parametrize("value", [
    5.0, 123456.0, True, None, ["CHANGEME"], {"password": "CHANGEME"}, "{not json", "[1, 2", "\x00\x01\x02",
    "[" * 5000 + "]" * 5000, json.dumps({"a": [[[[[[[[{"password": "x"}]]]]]]]]}), "\ud7ff" * 20,
])
def test_no_plaintext_malformed_values_never_raise(h, value):
    for field in ("secretString", "secretBinary"):
        for diag in h.analyze(SV, {"secretId": "x", field: value}):
            assert diag.policy == "no-plaintext-secret-values"


def test_deep_json_secret_is_bounded(h):
    deep = {"password": "CHANGEME"}
    for _ in range(200):
        deep = {"nested": deep}
    h.analyze(SV, sv(json.dumps(deep)))  # no RecursionError, no internal error


# --- no-secrets-in-task-environment ----------------------------------------------------------------

def test_task_env_compliant(h):
    props = td(container(env={"LOG_LEVEL": "info", "DB_HOST": "db.internal", "SECRET_ARN": "arn:x",
                              "SECRETS_MANAGER_ENDPOINT": "https://secretsmanager.us-east-1.amazonaws.com",
                              "PASSWORD_FILE": "/run/secrets/db", "TOKEN_URL": "https://auth/token",
                              "DB_USER": "payments", "PORT": "8080",
                              "DATABASE_URL": "postgres://app@db.internal:5432/payments"},
                         secrets={"DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}))
    assert h.analyze(TD, props) == []


@pytest.mark.parametrize("var", CREDENTIAL_NAMES)
def test_task_env_credential_names_fire(h, var):
    value = "s3cr3t-" + var.lower() + "-Vq8"
    diags = h.analyze(TD, td(container("payments-api", env={var: value, "LOG_LEVEL": "info"})), name="payments-td")
    assert_violation(diags, "no-secrets-in-task-environment", name="payments-td",
                     path="containerDefinitions[0].environment[0]", level="mandatory", only=True)
    assert value not in diags[0].message and "s3cr3t" not in diags[0].message


def test_task_env_message_proposes_the_fix(h):
    """The wording test of no-secrets-in-task-environment: the container, the variable, and the fix
    (`secrets` with `valueFrom`)."""
    diags = h.analyze(TD, td(container("payments-api", env={"DB_PASSWORD": "s3cr3t-Vq8"})), name="payments-td")
    message = diags[0].message
    assert "payments-api" in message and "`DB_PASSWORD`" in message and "secrets" in message and "valueFrom" in message


@pytest.mark.parametrize("value, kind", [  # (kind: what the value is recognised as)
    ("AKIAIOSFODNN7EXAMPLE", "AWS access key"), ("ASIAQWERTYUIOPASDFGH", "AWS access key"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "private key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "private key"),
    ("xoxb-1234567890-abcdefghijkl", "Slack"), ("ghp_" + "a1B2c3D4e5" * 4, "GitHub"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Stripe"), ("AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"[:35], "Google"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "JSON Web Token"),
    ("postgres://app:Sup3rS3cret@db.internal:5432/payments", "URL with an embedded password"),
    ("Server=db;Database=pay;User Id=app;Password=Sup3rS3cret;", "connection string"),
])
def test_task_env_credential_values_fire(h, value, kind):
    diags = h.analyze(TD, td(container("worker", env={"SETTING": value})))
    assert_violation(diags, "no-secrets-in-task-environment", path="containerDefinitions[0].environment[0]",
                     level="mandatory", only=True)
    assert_no_leak(diags, value, allowed=("begin", "private", "end", "server", "database", "password", "payments"))


def test_task_env_reference_valued_credential_name_passes(h):
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    assert h.analyze(TD, td(container(env={"DB_PASSWORD": arn}))) == []


def test_task_env_every_offender_reported(h):
    props = td(container("api", env={"DB_PASSWORD": "x", "OK": "1"}),
               {"image": "busybox", "environment": [{"name": "API_KEY", "value": "y"}]})
    diags = h.analyze(TD, props)
    assert [d.path for d in diags] == ["containerDefinitions[0].environment[0]", "containerDefinitions[1].environment[0]"]


def test_task_env_malformed_entries_keep_the_offenders_position(h):
    props = td({"name": "app", "image": "busybox", "environment": ["junk", None, {"name": "API_KEY", "value": "y"}]})
    assert_violation(h.analyze(TD, props), "no-secrets-in-task-environment",
                     path="containerDefinitions[0].environment[2]", level="mandatory", only=True)
    assert h.analyze(TD, td({"name": "app", "image": "busybox", "environment": "API_KEY=y"})) == []


def test_task_env_unknown_is_not_applicable(h):
    assert h.analyze(TD, {"containerDefinitions": UNKNOWN}) == []
    assert h.not_applicable(TD, {"containerDefinitions": UNKNOWN}) == ["no-secrets-in-task-environment"]


@pytest.mark.parametrize("raw", ["not json", "{\"name\": \"app\"}", "[1, 2]", "[{\"name\": \"app\"}, \"x\"]", "",
                                 "[" * 3000])
def test_task_env_invalid_json_is_not_applicable(h, raw):
    assert h.analyze(TD, {"containerDefinitions": raw}) == []
    assert h.not_applicable(TD, {"containerDefinitions": raw}) == ["no-secrets-in-task-environment"]


def test_task_env_missing_is_silent(h):
    assert h.analyze(TD, {"family": "x"}) == [] and h.not_applicable(TD, {"family": "x"}) == []


def test_task_env_secret_wrapped_definitions_are_read(h):
    props = {"containerDefinitions": secret(json.dumps([container(env={"DB_PASSWORD": "hunter2hunter2"})]))}
    diags = h.analyze(TD, props)
    assert policies_of(diags) == ["no-secrets-in-task-environment"]
    assert_no_leak(diags, "hunter2hunter2", allowed=("password",))


@pytest.mark.parametrize("definitions", [
    [{"name": "app", "environment": "DB_PASSWORD=x"}], [{"name": "app", "environment": [5, None, "x"]}],
    [{"name": "app", "environment": [{"name": 5, "value": "AKIAIOSFODNN7EXAMPLE"}]}],
    [{"name": "app", "environment": [{"value": "x"}]}], [{"name": 7, "environment": [{"name": "DB_PASSWORD"}]}],
    [{"name": "app", "environment": [{"name": "DB_PASSWORD", "value": 12345}]}],
    [{"name": "app", "environment": {"name": "DB_PASSWORD", "value": "x"}}],
    [{"name": "a" * 500, "environment": [{"name": "P`ASSWORD'\n", "value": "x"}]}],
])
def test_task_env_malformed_never_raises(h, definitions):
    for diag in h.analyze(TD, {"containerDefinitions": json.dumps(definitions)}):
        assert diag.policy == "no-secrets-in-task-environment"
        assert "AKIAIOSFODNN7EXAMPLE" not in diag.message


def test_task_env_structured_definitions_with_unknowns(h):
    """containerDefinitions as a structure (not the usual string) with unknown pieces never raises."""
    definitions = [{"name": "app", "environment": [{"name": "DB_PASSWORD", "value": UNKNOWN},
                                                   {"name": UNKNOWN, "value": "x"}]}]
    assert policies_of(h.analyze(TD, {"containerDefinitions": definitions})) == ["no-secrets-in-task-environment"]


def test_task_env_config_knobs():
    h = Harness(["no-secrets-in-task-environment"], config={"no-secrets-in-task-environment": {
        "allowedNames": ["LEGACY_*"], "extraCredentialNamePatterns": ["^PIN$", "("],
        "extraCredentialValuePatterns": ["^acme_[0-9a-f]{8}$"]}})
    assert h.analyze(TD, td(container(env={"LEGACY_DB_PASSWORD": "x"}))) == []
    assert policies_of(h.analyze(TD, td(container(env={"PIN": "1234"})))) == ["no-secrets-in-task-environment"]
    diags = h.analyze(TD, td(container(env={"X": "acme_deadbeef"})))
    assert policies_of(diags) == ["no-secrets-in-task-environment"] and "deadbeef" not in diags[0].message
    h.configure({"no-secrets-in-task-environment": {"nonCredentialSuffixes": ["arn", "salt"]}})
    assert h.analyze(TD, td(container(env={"PASSWORD_SALT": "x"}))) == []
    assert policies_of(h.analyze(TD, td(container(env={"TOKEN_URL": "x"})))) == ["no-secrets-in-task-environment"]


# --- ssm-secure-string -----------------------------------------------------------------------------

@pytest.mark.parametrize("props, name, fires", [
    ({"name": "/payments/dev/db/password", "type": "String", "value": secret(STRONG)}, "p", True),
    ({"name": "/payments/dev/db/password", "type": "StringList", "value": secret(STRONG)}, "p", True),
    ({"name": "/payments/dev/db/password", "type": "SecureString", "value": secret(STRONG)}, "p", False),
    ({"name": "/payments/dev/stripe/api-key", "type": "String", "value": secret(STRONG)}, "p", True),
    ({"name": "/payments/dev/db/password-arn", "type": "String", "value": secret("arn:x")}, "p", False),
    ({"name": "/payments/dev/db/host", "type": "String", "value": secret("db.internal")}, "p", False),
    ({"type": "String", "value": secret(STRONG)}, "db-password-param", True),
    ({"type": "String", "value": secret(STRONG)}, "dbPasswordParameter", True),
    ({"type": "String", "value": secret(STRONG)}, "log-level-param", False),
    ({"name": "/payments/dev/db/password", "type": UNKNOWN}, "p", False),
    ({"name": "/payments/dev/db/password"}, "p", True),
    ({"name": "/payments/dev/db/password", "type": 5.0}, "p", True),
    ({"name": UNKNOWN, "type": "String", "value": secret(STRONG)}, "app-config", False),
    ({"name": "/payments/dev/ci", "type": "String", "value": secret("AKIAIOSFODNN7EXAMPLE")}, "p", True),
    ({"name": "/payments/dev/ci", "type": "String", "insecureValue": "ghp_" + "a1B2c3D4e5" * 4}, "p", True),
    ({"name": 5.0, "type": "String"}, "p", False),
])
def test_ssm_secure_string(h, props, name, fires):
    diags = [d for d in h.analyze(SSM, props, name=name) if d.policy == "ssm-secure-string"]
    assert bool(diags) == fires, diags
    if fires:
        assert_violation(diags, "ssm-secure-string", name=name, path="type", level="mandatory", only=True)
        assert_no_leak(diags, STRONG, "AKIAIOSFODNN7EXAMPLE", "a1B2c3D4e5")


def test_ssm_secret_name_not_shown(h):
    diags = [d for d in h.analyze(SSM, {"name": secret("/payments/hidden-ns/db/password"), "type": "String"},
                                  name="db-pw") if d.policy == "ssm-secure-string"]
    assert_violation(diags, "ssm-secure-string", name="db-pw", path="type", only=True)
    assert "hidden-ns" not in diags[0].message


def test_ssm_allowed_names():
    h = Harness(["ssm-secure-string"], config={"ssm-secure-string": {"allowedNames": ["/public/*"]}})
    assert h.analyze(SSM, {"name": "/public/oauth/token", "type": "String"}, name="x") == []
    assert policies_of(h.analyze(SSM, {"name": "/private/oauth/token", "type": "String"}, name="x")) == \
        ["ssm-secure-string"]


# --- secret-rotation -------------------------------------------------------------------------------

def sec(name="db", **props):
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
    return resource(SEC, name, {"arn": arn, "id": arn, "name": f"payments/{name}", "kmsKeyId": "k", **props})


def rot(name, secret_res, rules=None, link="deps", **props):
    values = {"rotationLambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:rotator", **props}
    if rules is not None:
        values["rotationRules"] = rules
    links = {}
    if link == "deps":
        values["secretId"] = secret_res["props"]["arn"]
        links["propertyDependencies"] = {"secretId": [secret_res["urn"]]}
        links["dependencies"] = [secret_res["urn"]]
    elif link == "arn":
        values["secretId"] = secret_res["props"]["arn"]
    elif link == "name":
        values["secretId"] = secret_res["props"]["name"]
    elif link == "unknown":
        values["secretId"] = UNKNOWN
    return resource(SR, name, values, **links)


def rotation_diags(h, resources):
    return [d for d in h.analyze_stack(resources) if d.policy == "secret-rotation"]


@pytest.mark.parametrize("rules", [
    {"automaticallyAfterDays": 30.0}, {"automaticallyAfterDays": 90.0}, {"automaticallyAfterDays": "30"},
    {"scheduleExpression": "rate(30 days)"}, {"scheduleExpression": "rate(1 day)"},
    {"scheduleExpression": "rate(4 hours)"}, {"scheduleExpression": "cron(0 16 1,15 * ? *)", "duration": "3h"},
    [{"automaticallyAfterDays": 30.0}], UNKNOWN, {"automaticallyAfterDays": UNKNOWN},
])
def test_rotation_compliant(h, rules):
    s = sec()
    assert rotation_diags(h, [s, rot("db-rotation", s, rules)]) == []


@pytest.mark.parametrize("link", ["arn", "name"])
def test_rotation_linked_without_dependencies(h, link):
    s = sec()
    assert rotation_diags(h, [s, rot("db-rotation", s, {"automaticallyAfterDays": 30.0}, link=link)]) == []


def test_rotation_missing(h):
    s, other = sec("db"), sec("api")
    diags = rotation_diags(h, [s, other, rot("db-rotation", s, {"automaticallyAfterDays": 30.0})])
    # the secret as a whole is at fault (it lacks a SecretRotation): no property path
    assert_violation(diags, "secret-rotation", urn=other["urn"], path="", level="advisory", only=True)


def test_rotation_message_proposes_the_fix(h):
    """The wording test of secret-rotation: the resource to add and the interval it needs."""
    s = sec("api")
    message = rotation_diags(h, [s])[0].message
    assert "'api'" in message and "aws.secretsmanager.SecretRotation" in message and "90 days" in message


@pytest.mark.parametrize("rules, extra, path", [
    ({"automaticallyAfterDays": 120.0}, {}, "rotationRules.automaticallyAfterDays"),
    ({"scheduleExpression": "rate(180 days)"}, {}, "rotationRules.scheduleExpression"),
    ({"scheduleExpression": "every month"}, {}, "rotationRules.scheduleExpression"),
    ({}, {}, "rotationRules"),
    ({"automaticallyAfterDays": 0.0}, {}, "rotationRules"),
    ({"automaticallyAfterDays": "junk"}, {}, "rotationRules"),
    (None, {}, "rotationRules"),
    ("rate(30 days)", {}, "rotationRules"),
    ({"automaticallyAfterDays": 30.0}, {"rotationEnabled": False}, "rotationEnabled"),
])
def test_rotation_too_slow_or_broken(h, rules, extra, path):
    s = sec()
    r = rot("db-rotation", s, rules, **extra)
    assert_violation(rotation_diags(h, [s, r]), "secret-rotation", urn=r["urn"], path=path, level="advisory",
                     only=True)


def test_rotation_any_compliant_rotation_suffices(h):
    s = sec()
    assert rotation_diags(h, [s, rot("slow", s, {"automaticallyAfterDays": 365.0}),
                              rot("fast", s, {"automaticallyAfterDays": 30.0})]) == []


def test_rotation_max_days_config():
    h = Harness(["secret-rotation"], config={"secret-rotation": {"maxRotationDays": 180}})
    s = sec()
    assert rotation_diags(h, [s, rot("r", s, {"automaticallyAfterDays": 120.0})]) == []
    assert len(rotation_diags(h, [s, rot("r", s, {"automaticallyAfterDays": 200.0})])) == 1


def test_rotation_exempt_secrets():
    h = Harness(["secret-rotation"], config={"secret-rotation": {"exemptSecrets": ["payments/partner-*", "legacy"]}})
    assert rotation_diags(h, [sec("partner-key"), sec("legacy")]) == []
    assert len(rotation_diags(h, [sec("db")])) == 1


def test_rotation_unknown_secret_id_stays_quiet(h):
    """A rotation whose target cannot be resolved yet may be this secret's: no missing-rotation noise."""
    s = sec()
    assert rotation_diags(h, [s, rot("r", s, {"automaticallyAfterDays": 30.0}, link="unknown")]) == []


def test_rotation_external_secret_id_is_ignored(h):
    s = sec()
    r = resource(SR, "ext", {"secretId": "arn:aws:secretsmanager:us-east-1:999999999999:secret:other-AbCdEf",
                             "rotationRules": {"automaticallyAfterDays": 30.0}})
    assert len(rotation_diags(h, [s, r])) == 1


def test_rotation_preview_shapes(h):
    """At preview the secret's arn/id are unknown: the property dependency still links them."""
    s = resource(SEC, "db", {"arn": UNKNOWN, "id": UNKNOWN, "name": UNKNOWN, "kmsKeyId": UNKNOWN})
    r = resource(SR, "r", {"secretId": UNKNOWN, "rotationRules": {"automaticallyAfterDays": 30.0}},
                 propertyDependencies={"secretId": [s["urn"]]})
    assert rotation_diags(h, [s, r]) == []
    assert len(rotation_diags(h, [s])) == 1


def test_rotation_no_secrets(h):
    assert rotation_diags(h, []) == []
    assert rotation_diags(h, [resource("aws:s3/bucket:Bucket", "b", {})]) == []


@pytest.mark.parametrize("props", [{"secretId": 5.0}, {"secretId": ["x"]}, {"rotationRules": [1, 2]},
                                   {"rotationEnabled": "maybe", "rotationRules": {"scheduleExpression": 5.0}}])
def test_rotation_malformed_never_raises(h, props):
    s = sec()
    rotation_diags(h, [s, resource(SR, "r", props, propertyDependencies={"secretId": [s["urn"]]}),
                       resource(SEC, "odd", {"name": 5.0})])


# --- property tests: a planted secret never appears in any message --------------------------------

planted = st.text(alphabet=string.ascii_letters + string.digits + "!#%&*+-=?@^_~", min_size=12, max_size=40)


def _shapes(value):
    upper = re.sub(r"[^A-Z0-9]", "Q", value.upper())[:16].ljust(16, "Z")
    wrapped_doc = json.dumps({"username": "svc", "password": value, "host": "db." + value + ".example.com",
                              "apiKey": "CHANGEME-" + value, "nested": {"token": value[:3]}})
    return [
        (SV, {"secretId": "x", "secretString": secret(value)}),
        (SV, {"secretId": "x", "secretString": secret(wrapped_doc)}),
        (SV, {"secretId": "x", "secretString": "TODO " + value}),
        (SV, {"secretId": "x", "secretString": "<" + value + ">"}),
        (SV, {"secretId": "x", "secretBinary": secret(base64.b64encode(("changeme" + value).encode()).decode())}),
        (SSM, {"name": "/payments/db/password", "type": "String", "value": secret("password" + value),
               "insecureValue": "CHANGEME" + value}),
        (SSM, {"name": "/payments/ci/config", "type": "String", "insecureValue": "AKIA" + upper}),
        (TD, {"containerDefinitions": json.dumps([{"name": "app", "environment": [
            {"name": "DB_PASSWORD", "value": value}, {"name": "X", "value": "AKIA" + upper},
            {"name": "DATABASE_URL", "value": "postgres://u:" + value + "@db/x"},
            {"name": "Y", "value": "sk_live_" + value}]}])}),
        (TD, {"containerDefinitions": secret(json.dumps([{"name": "app", "environment": [
            {"name": "API_TOKEN", "value": value}]}]))}),
    ]


# A planted value proves nothing when the pack's own text contains it whatever the secret is (a
# "secret" spelled `secretBinary` is in every message that names that property): the claim is that
# the message never carries the value, so the value must be one that cannot be there by chance.
CONTROL = "Kq7!vXp2#Lm9^Rt4"


def _pack_text(h, shapes):
    return "\n".join(d.message for type_, props in shapes for d in h.analyze(type_, props, name="res"))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=planted)
@example(value="secretBinary")
def test_planted_secret_never_in_any_message(h, value):
    assume(not value.isdigit())
    assume(value not in _pack_text(h, _shapes(CONTROL)))
    upper = re.sub(r"[^A-Z0-9]", "Q", value.upper())[:16].ljust(16, "Z")
    diags = [(type_, d) for type_, props in _shapes(value) for d in h.analyze(type_, props, name="res")]
    assert diags, "the shapes are meant to be reported"
    for type_, diag in diags:
        assert value not in diag.message, (type_, diag.message)
        assert ("AKIA" + upper) not in diag.message


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=planted, key=st.sampled_from(["password", "secret", "apiKey", "token", "db_password", "value", "host"]))
@example(value="secretString", key="password")
def test_planted_secret_in_json_never_in_message(h, value, key):
    def shape(v):
        return SV, {"secretId": "x", "secretString": secret(json.dumps({key: v, "user": "app"}))}
    weaks = (value, "CHANGEME" + value, value + "@example.com", "${" + value.replace("-", "_") + "}")
    assume(value not in _pack_text(h, [shape(w.replace(value, CONTROL)) for w in weaks]))
    for weak in weaks:
        diags = h.analyze(*shape(weak))
        for diag in diags:
            assert weak not in diag.message and value not in diag.message


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=16)
    | st.sampled_from([UNKNOWN, "CHANGEME", "SecureString", "String", "DB_PASSWORD", "AKIAIOSFODNN7EXAMPLE"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "value", "environment", "password", "type", "x"]) | st.text(max_size=6),
        children, max_size=4),
    max_leaves=14)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(type_=st.sampled_from([SV, SSM, TD]), props=st.dictionaries(
    st.sampled_from(["secretString", "secretBinary", "secretStringWo", "value", "insecureValue", "valueWo", "type",
                     "name", "containerDefinitions"]), json_values, max_size=4),
    as_json=st.booleans())
def test_fuzz_resource_rules_never_raise(h, type_, props, as_json):
    if as_json and "containerDefinitions" in props:
        props["containerDefinitions"] = json.dumps(props["containerDefinitions"])
    for diag in h.analyze(type_, props):
        assert diag.policy in MINE


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret_props=st.dictionaries(st.sampled_from(["arn", "id", "name"]), json_values, max_size=3),
       rotation_props=st.dictionaries(st.sampled_from(["secretId", "rotationRules", "rotationEnabled"]), json_values,
                                      max_size=3))
def test_fuzz_rotation_never_raises(h, secret_props, rotation_props):
    s = resource(SEC, "s", secret_props)
    r = resource(SR, "r", rotation_props, propertyDependencies={"secretId": [s["urn"]]})
    h.analyze_stack([s, r])


# --- adversarial sizes: every check stays linear ---------------------------------------------------

ADVERSARIAL = [
    "a." * 32768, "a" * 65536, "!" * 65535 + "a", "ab1-" * 16384, "{{ " * 21845, "-----BEGIN " * 5957,
    "eyJ" + "a" * 65533, "your" + "!" * 65532, "x://" * 16384, "password=" * 7281, "<a" * 32768, "a:" * 32768,
    "postgres://" + "u" * 65000 + ":", "1" * 65536, "change" + "_" * 65530, "${" + "a" * 65534,
]


@pytest.mark.parametrize("index", range(len(ADVERSARIAL)))
def test_adversarial_values_stay_fast(h, index):
    import time
    value = ADVERSARIAL[index]
    # CPU time of this process, not wall time: other processes on a loaded machine (or parallel test
    # workers) cannot make it fail; a super-linear pattern still does
    started = time.process_time()
    h.analyze(SV, sv(value))
    h.analyze(SV, sv(json.dumps({"password": value, "host": value})))
    h.analyze(TD, td(container(env={"X": value, value[:200]: "y"})))
    h.analyze(SSM, {"name": value, "type": "String", "insecureValue": value})
    assert time.process_time() - started < 2.0


def test_secure_string_settings_are_not_judged_as_passwords():
    from harness import Harness
    h = Harness(["no-plaintext-secret-values"])
    for name, value in (("/payments/dev/db/port", "5432"), ("/payments/dev/db/username", "postgres"),
                        ("/payments/dev/db/name", "payments")):
        assert h.analyze("aws:ssm/parameter:Parameter", {"name": name, "type": "SecureString", "value": value}) == []
    diags = h.analyze("aws:ssm/parameter:Parameter", {"name": "/payments/dev/db/password", "type": "SecureString",
                                                      "value": "postgres"})
    assert [d.policy for d in diags] == ["no-plaintext-secret-values"]


def test_configuration_names_mentioning_credentials_are_not_credentials():
    import json
    from harness import Harness
    h = Harness(["no-secrets-in-task-environment"])
    env = [{"name": n, "value": v} for n, v in (("TOKEN_BUCKET_CAPACITY", "100"), ("USE_SECRETS_MANAGER", "true"),
                                                 ("PASS_THROUGH_HEADERS", "x-request-id"), ("SECRET_STORE", "vault"))]
    props = {"containerDefinitions": json.dumps([{"name": "app", "image": "x", "environment": env}])}
    assert h.analyze("aws:ecs/taskDefinition:TaskDefinition", props) == []
