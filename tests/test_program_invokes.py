"""A program failing on an invoke the check could not answer is told which invoke and how to answer it."""
import json
import time

from offline_helpers import program
from policypack.offline.check import CheckOptions, load_project, run_program


def test_a_failure_after_an_unanswered_invoke_names_it(tmp_path):
    path = program("unanswered-invoke")
    options = CheckOptions(program=path)
    result = run_program(options, load_project(path), {"aws:region": "us-east-1"}, [], "us-east-1",
                         time.monotonic() + 120)
    error = result["error"]
    assert error["id"] == "program-error"
    assert error["unansweredInvokes"] == ["aws:rds/getEngineVersion:getEngineVersion"]
    assert "--invoke-answers" in error["message"]

    # answered, the program runs on
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"aws:rds/getEngineVersion:getEngineVersion": {"version": "16.4"}}))
    options = CheckOptions(program=path, invoke_answers=str(answers))
    result = run_program(options, load_project(path), {"aws:region": "us-east-1"}, [], "us-east-1",
                         time.monotonic() + 120)
    assert result["error"] is None
    group = next(r for r in result["resources"] if r["type"] == "aws:rds/parameterGroup:ParameterGroup")
    assert group["inputs"]["family"] == "postgres16"
