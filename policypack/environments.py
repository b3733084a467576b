"""Which deployment environment a stack is, and which environments a string names.

Shared by the rules that care about environments (no-cross-environment-references,
alb-deletion-protection). Matching is on whole tokens: a token is a maximal run of letters and
digits, so `_ - . / :` and spaces separate and camelCase does not ("LATEST", "delivery.logs" and
"UpdateSecretVersionStage" name no environment).
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Set

from .rule import Context

#: `stage` alone is not here: it is the generic noun of API Gateway, CodePipeline and Serverless
#: stages ("api-stage", a stack's exported stage URL), not an environment. A team whose staging
#: environment is called "stage" adds it to `environments.staging`.
DEFAULT_ENVIRONMENTS: Dict[str, List[str]] = {
    "dev": ["dev", "development"],
    "test": ["test", "qa", "uat"],
    "staging": ["staging", "stg"],
    "production": ["production", "prod", "prd"],
}

#: Config properties every environment-aware rule accepts (JSON schema, with defaults).
ENVIRONMENT_CONFIG: Dict[str, Dict[str, Any]] = {
    "environments": {
        "type": "object",
        "description": "Environment name -> the tokens that name it (lower case). Default: dev/development, "
                       "test/qa/uat, staging/stg, production/prod/prd (`stage` alone is the generic noun of API "
                       "Gateway, CodePipeline and Serverless stages; a team that names its staging environment "
                       "`stage` configures `\"staging\": [\"staging\", \"stage\", \"stg\"]`). A configured map "
                       "replaces the default one: list every environment.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": DEFAULT_ENVIRONMENTS,
    },
    "stackEnvironments": {
        "type": "object",
        "description": "Stack name glob -> environment name, checked before the stack name's own tokens "
                       "(e.g. {\"payments-eu-*\": \"production\"}).",
        "additionalProperties": {"type": "string"},
        "default": {},
    },
}

_TOKEN = re.compile(r"[A-Za-z0-9]+")


def tokens(text: str) -> List[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def alias_index(ctx: Context) -> Dict[str, str]:
    """token -> environment, from the rule's `environments` config (defaults when malformed)."""
    envs = ctx.config.get("environments")
    if not isinstance(envs, Mapping) or not envs:
        envs = DEFAULT_ENVIRONMENTS
    index: Dict[str, str] = {}
    for env, aliases in envs.items():
        if not isinstance(env, str):
            continue
        index.setdefault(env.lower(), env)
        if isinstance(aliases, (list, tuple)):
            for alias in aliases:
                if isinstance(alias, str) and alias:
                    index.setdefault(alias.lower(), env)
    return index


#: A token after one of these names the absence of an environment: "non-prod", "pre-prod".
NEGATING = frozenset(("non", "pre", "not"))


def environments_named(text: str, index: Mapping[str, str]) -> Set[str]:
    """The environments `text` names by whole tokens, except a token qualified by a preceding
    "non"/"pre"/"not" ("non-prod" is not production)."""
    found: Set[str] = set()
    previous = ""
    for token in tokens(text):
        if token in index and previous not in NEGATING:
            found.add(index[token])
        previous = token
    return found


def stack_environment(ctx: Context, stack: Optional[str] = None) -> Optional[str]:
    """The environment of the stack: the first matching `stackEnvironments` glob, else the single
    environment its name's tokens name (e.g. `payments-prod` -> production), else None."""
    stack = ctx.stack if stack is None else stack
    if not stack:
        return None
    mapping = ctx.config.get("stackEnvironments")
    if isinstance(mapping, Mapping):
        for pattern, env in mapping.items():
            if isinstance(pattern, str) and isinstance(env, str) and fnmatch.fnmatchcase(stack, pattern):
                return env
    named = environments_named(stack, alias_index(ctx))
    return next(iter(named)) if len(named) == 1 else None
