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


class Example(Rule, policy="example-policy", level="advisory", concern="tagging"):
    """Everything must be
    tagged.

    Remediation:
        Set `tags`
        on it.

    Compliant example:
        aws.ecs.Cluster("c",
            tags=common_tags)
    """


def test_the_docstring_gives_description_remediation_and_example():
    assert Example.description == "Everything must be tagged."
    assert Example.remediation == "Set `tags` on it."
    assert Example.compliant_example == 'aws.ecs.Cluster("c",\n    tags=common_tags)'


def test_a_docstring_without_sections_is_the_description():
    rule = type("Plain", (Rule,), {"__doc__": "One\n    sentence."}, policy="plain", concern="tagging")
    assert (rule.description, rule.remediation, rule.compliant_example) == ("One sentence.", "", "")


def test_a_section_given_twice_is_refused():
    with pytest.raises(TypeError, match="Remediation"):
        type("Twice", (Rule,), {"__doc__": "D.\n\nRemediation:\n    a\n\nRemediation:\n    b\n"}, policy="twice",
             concern="tagging")


@pytest.mark.parametrize("attribute", ["description", "remediation", "compliant_example"])
def test_prose_declared_beside_the_docstring_is_refused(attribute):
    with pytest.raises(TypeError, match=f"{attribute} belong in the docstring"):
        type("Beside", (Rule,), {"__doc__": "D.", attribute: "text"}, policy="beside", concern="tagging")


@pytest.mark.parametrize("header", ["Remediaton:", "Compliant:", "Example:", "Compliant Example:", "REMEDIATION:",
                                    "Remediation", "Remediation: set the tags", "compliant example:"])
def test_a_misspelt_section_is_refused(header):
    with pytest.raises(TypeError, match="policy misspelt: .*the sections are"):
        type("Misspelt", (Rule,), {"__doc__": f"D.\n\n{header}\n    text\n"}, policy="misspelt", concern="tagging")


def test_a_header_with_trailing_spaces_is_still_a_section():
    rule = type("Spaced", (Rule,), {"__doc__": "D.\n\nRemediation:   \n    Fix it.\n"}, policy="spaced",
                concern="tagging")
    assert (rule.description, rule.remediation) == ("D.", "Fix it.")
