"""URNs as the engine builds them (pkg/resource/deploy: resource.NewURN).

A child's type is qualified by its parent's full type chain (`parentA$parentB$type`), except
that resources parented by the root stack carry no prefix. The SDK's mock monitor only keeps the
parent's last type, so URNs of nested components differ from the engine's; this module does not.
"""
from __future__ import annotations

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def qualified_type(urn: str) -> str:
    """The `a$b$type` part of a URN ("" when it is not a URN)."""
    parts = urn.split("::")
    return parts[2] if len(parts) >= 4 else ""


def base_type(urn: str) -> str:
    return qualified_type(urn).split("$")[-1]


def name_of(urn: str) -> str:
    parts = urn.split("::")
    return "::".join(parts[3:]) if len(parts) >= 4 else ""


def make_urn(stack: str, project: str, type_: str, name: str, parent_urn: str = "") -> str:
    qualified = type_
    if parent_urn:
        parent_type = qualified_type(parent_urn)
        if parent_type and parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def default_provider_name(version: str) -> str:
    """`default_7_51_1` for version 7.51.1 (dots, dashes and pluses become underscores)."""
    if not version:
        return "default"
    for ch in ".-+":
        version = version.replace(ch, "_")
    return f"default_{version}"
