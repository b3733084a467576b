"""Run a fixture program through the whole check once, keeping both the report and what the
runner recorded (resources with their inputs and options): one program run serves every test."""
from __future__ import annotations

from typing import Any, Dict, Tuple

import pytest

from policypack.offline import check as C
from policypack.offline.reports import to_json_dict


def check_and_record(program: str, **options: Any) -> Tuple[int, Dict[str, Any], Dict[str, Any]]:
    """(exit code, JSON report, the runner's result) of `payments-guard check program`."""
    recorded: Dict[str, Any] = {}
    original = C.ProgramRun.result

    def result(self, deadline):
        recorded.update(original(self, deadline))
        return recorded

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(C.ProgramRun, "result", result)
        report = C.run_check(C.CheckOptions(program=program, **options))
    return report.exit_code, to_json_dict(report), recorded


def resource(result: Dict[str, Any], name: str, type_: str) -> Dict[str, Any]:
    matches = [r for r in result["resources"] if r["name"] == name and r["type"] == type_]
    assert len(matches) == 1, [r["urn"] for r in result["resources"]]
    return matches[0]
