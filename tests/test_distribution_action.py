"""The GitHub Action's script gates a repository: a temporary git repository holding a copy of the
sample program, checked clean, then with a service given a public IP (annotation on the diff's file
and line, SARIF for code scanning, exit code as the step output)."""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace
from unittest import mock

import pytest
import yaml

from distribution_helpers import sarif_schema_errors, wheelhouse_requirements
from offline_helpers import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import github_action  # noqa: E402

SCRIPT = os.path.join(ROOT, "scripts", "github_action.py")


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args], cwd=repo, check=True,
                   capture_output=True)


def sample_repository(path):
    """A git repository with the sample program twice: infra/payments and infra/payments-eu."""
    os.makedirs(path)
    for name in ("payments", "payments-eu"):
        shutil.copytree(os.path.join(ROOT, "examples", "payment-service"), os.path.join(path, "infra", name),
                        ignore=shutil.ignore_patterns("__pycache__", "venv"))
    _git(path, "init", "-q")
    _git(path, "add", ".")
    _git(path, "commit", "-qm", "payments")
    return path


def give_the_service_a_public_ip(repo):
    main = os.path.join(repo, "infra", "payments", "__main__.py")
    text = open(main).read()
    assert text.count("assign_public_ip=False") == 1
    with open(main, "w") as handle:
        handle.write(text.replace("assign_public_ip=False", "assign_public_ip=True"))
    return text[:text.index("aws.ecs.Service(")].count("\n") + 1  # where the service is registered


def run_action(repo, *args):
    outputs = os.path.join(repo, "..", f"outputs-{len(os.listdir(os.path.dirname(repo)))}.txt")
    env = dict(os.environ, PYTHONPATH=ROOT, GITHUB_OUTPUT=outputs)
    done = subprocess.run([sys.executable, SCRIPT, *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=300)
    values = dict(line.split("=", 1) for line in open(outputs).read().splitlines()) if os.path.exists(outputs) else {}
    return done, values


def run_action_in_process(repo, *args):
    """The script's run() here, every command it starts recorded: (result, outputs, commands)."""
    outputs = os.path.join(repo, "..", "outputs-in-process.txt")
    commands, real_run = [], subprocess.run

    def recording_run(argv, *a, **kw):
        commands.append(list(argv))
        return real_run(argv, *a, **kw)

    saved_env, saved_cwd, stdout = dict(os.environ), os.getcwd(), io.StringIO()
    os.environ.update(PYTHONPATH=ROOT, GITHUB_OUTPUT=outputs)
    os.chdir(repo)
    try:
        with mock.patch.object(github_action.subprocess, "run", recording_run), contextlib.redirect_stdout(stdout):
            code = github_action.run(list(args))
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    values = dict(line.split("=", 1) for line in open(outputs).read().splitlines())
    return SimpleNamespace(returncode=code, stdout=stdout.getvalue()), values, commands


@pytest.fixture(scope="module")
def action_runs(tmp_path_factory):
    repo = sample_repository(str(tmp_path_factory.mktemp("action") / "repo"))
    clean = run_action(repo, "--programs", "infra/*", "--policy-config", "pci-dss", "--sarif-dir", "sarif-clean")
    line = give_the_service_a_public_ip(repo)
    _git(repo, "commit", "-qam", "public ip")
    done, outputs, commands = run_action_in_process(
        repo, "--programs", "infra/payments", "--policy-config", "pci-dss", "--allow-unseen", "awsx:* eks:*",
        "--sarif-dir", "sarif-public")
    return {"repo": repo, "clean": clean, "public": (done, outputs), "public-commands": commands, "line": line}


def _sarif_runs(repo, directory):
    files = sorted(os.listdir(os.path.join(repo, directory)))
    assert len(files) == 1 and files[0].endswith(".sarif")
    document = json.load(open(os.path.join(repo, directory, files[0])))
    assert sarif_schema_errors(document) == []  # what the upload step sends to code scanning
    return document["runs"]


def test_a_clean_program_passes(action_runs):
    done, outputs = action_runs["clean"]
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert outputs["exit-code"] == "0"
    assert "::error" not in done.stdout
    runs = _sarif_runs(action_runs["repo"], "sarif-clean")
    assert len(runs) == 2  # both programs, a run each
    assert len({run["automationDetails"]["id"] for run in runs}) == 2
    assert not [r for run in runs for r in run["results"] if r["level"] == "error"]


def test_a_public_ip_fails_with_an_annotation_on_the_line_and_a_sarif_result(action_runs):
    done, outputs = action_runs["public"]
    assert done.returncode == 1 and outputs["exit-code"] == "1"
    assert outputs["sarif-dir"] == os.path.join(action_runs["repo"], "sarif-public")
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    flagged = [line for line in errors if "ecs-service-no-public-ip" in line]
    assert flagged and flagged[0].startswith("::error file=infra/payments/__main__.py,line=")
    assert int(flagged[0].split("line=")[1].split(",")[0]) == action_runs["line"]
    (run,) = _sarif_runs(action_runs["repo"], "sarif-public")
    results = [r for r in run["results"] if r["ruleId"] == "ecs-service-no-public-ip"]
    assert results and results[0]["level"] == "error"
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "infra/payments/__main__.py"


def test_every_program_is_checked_once_and_annotations_agree_with_the_sarif(action_runs):
    checks = [argv for argv in action_runs["public-commands"] if "check" in argv]
    assert len(checks) == 1  # one run of the program; both formats rendered from its report
    done, _ = action_runs["public"]
    annotated = {(line.split("file=")[1].split(",")[0], int(line.split("line=")[1].split(",")[0]),
                  line.split("title=")[1].split(" (")[0])
                 for line in done.stdout.splitlines() if line.startswith("::error file=")}
    (run,) = _sarif_runs(action_runs["repo"], "sarif-public")
    in_sarif = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                 r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"])
                for r in run["results"] if r["level"] == "error" and "physicalLocation" in r["locations"][0]}
    assert annotated and annotated == in_sarif


def test_a_hostile_program_path_and_tool_error_stay_inside_one_annotation(tmp_path):
    repo = tmp_path / "repo"
    program = repo / "infra" / "evil\x1b]8;;evil.example\x07[link](evil.example)\n::error::injected"  # no "/"
    program.mkdir(parents=True)
    (program / "Pulumi.yaml").write_text(yaml.safe_dump(
        {"name": "p", "runtime": {"name": "python", "options": {"virtualenv": "venv"}}}))
    (program / "requirements.txt").write_text("./no-such-package-\x1b[31mhere\n")  # pip fails, offline
    done, outputs = run_action(str(repo), "--programs", "infra/evil*")
    assert done.returncode == 2 and outputs["exit-code"] == "2"
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    commands = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert [line.split("::")[1].split(" ")[0] for line in commands] == ["group", "endgroup", "error"], commands
    assert "::error::injected" in commands[-1]  # shown, on the one line it belongs to
    assert not any(line.startswith("::error::injected") for line in done.stdout.splitlines())


def test_no_matching_program_is_a_one_line_error(tmp_path):
    repo = str(tmp_path / "empty")
    os.makedirs(repo)
    done, outputs = run_action(repo, "--programs", "infra/*")
    assert done.returncode == 2 and outputs["exit-code"] == "2"
    assert done.stdout.startswith("::error ")


def test_environment_is_created_with_the_programs_own_toolchain(tmp_path):
    program = tmp_path / "venv-program"
    program.mkdir()
    (program / "Pulumi.yaml").write_text(yaml.safe_dump(
        {"name": "p", "runtime": {"name": "python", "options": {"virtualenv": "venv"}}}))
    (program / "requirements.txt").write_text(wheelhouse_requirements("pyyaml"))  # the local wheelhouse only
    assert github_action.create_environment(str(program)) is None
    python = str(program / "venv" / "bin" / "python")
    found = subprocess.run([python, "-c", "import yaml, sys; print(sys.prefix)"], capture_output=True, text=True)
    assert found.stdout.strip() == str(program / "venv")  # the requirements are in the program's own venv
    assert github_action.environment_commands(str(program)) == []  # there already: nothing to do
    poetry = tmp_path / "poetry-program"
    poetry.mkdir()
    (poetry / "Pulumi.yaml").write_text(yaml.safe_dump(
        {"name": "p", "runtime": {"name": "python", "options": {"toolchain": "poetry"}}}))
    assert github_action.environment_commands(str(poetry)) == [["poetry", "install", "--no-interaction"]]
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    assert github_action.environment_commands(str(bare)) == []


def test_action_is_composite_and_passes_every_input_to_the_script():
    action = yaml.safe_load(open(os.path.join(ROOT, "action.yml")))
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"programs", "stack", "policy-config", "baseline", "create-environments",
                                     "allow-unseen", "upload-sarif", "python-version"}
    assert action["inputs"]["create-environments"]["default"] == "true"
    steps = action["runs"]["steps"]
    install = next(step for step in steps if "pip" in step.get("run", ""))
    assert '"$ACTION_PATH[check]"' in install["run"] and install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    check = next(step for step in steps if step.get("id") == "check")
    passed = {value for value in check["env"].values()}
    for name in ("programs", "stack", "policy-config", "baseline", "create-environments", "allow-unseen"):
        assert "${{ inputs.%s }}" % name in passed, name
    upload = next(step for step in steps if "upload-sarif" in step.get("uses", ""))
    assert "inputs.upload-sarif == 'true'" in upload["if"]
    workflow = yaml.safe_load(open(os.path.join(ROOT, ".github", "workflows", "offline-check.yml")))
    assert any(step.get("uses") == "./" for job in workflow["jobs"].values() for step in job["steps"])
