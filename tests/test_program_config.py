"""Stack config as the program sees it: encrypted values need --secret, and only then warn."""
from policypack.offline.check import CheckOptions, stack_config


def _program(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: shop\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  shop:dbPassword:\n    secure: AAABAJ0x\n  shop:apiKey:\n    secure: AAABAK1y\n")
    return str(tmp_path), {"name": "shop", "runtime": "python"}


def test_the_encrypted_config_warning_names_only_keys_not_given(tmp_path):
    program, project = _program(tmp_path)
    config, secret_keys, warnings = stack_config(program, project,
                                                 CheckOptions(program=program, secrets={"dbPassword": "hunter22"}))
    assert config["shop:dbPassword"] == "hunter22" and secret_keys == ["shop:dbPassword"]
    assert len(warnings) == 1 and "shop:apiKey" in warnings[0] and "dbPassword" not in warnings[0]


def test_no_warning_when_every_encrypted_key_is_given(tmp_path):
    program, project = _program(tmp_path)
    options = CheckOptions(program=program, secrets={"shop:dbPassword": "hunter22"}, config={"apiKey": "k"})
    assert stack_config(program, project, options)[2] == []
