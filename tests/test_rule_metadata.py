"""A policy's metadata is checked where the policy is declared (policypack/rule.py)."""
import pytest

from policypack.rule import Rule


@pytest.mark.parametrize("field, value", [("level", "blocking"), ("severity", "severe"), ("concern", "cost"),
                                          ("kind", "program")])
def test_a_policy_with_an_unknown_value_is_refused_when_declared(field, value):
    with pytest.raises(TypeError, match=f"{field} '{value}'"):
        type("Typo", (Rule,), {"name": "typo", "concern": "tagging", field: value})


def test_a_shared_base_without_a_name_is_not_checked():
    base = type("Base", (Rule,), {"concern": "not yet"})
    assert type("Child", (base,), {"name": "child", "concern": "tagging"}).concern == "tagging"
