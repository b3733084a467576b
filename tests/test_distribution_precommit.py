"""The pre-commit hook, driven by the real `pre-commit` in a temporary git repository holding a copy
of the sample program: a commit giving a service a public IP is blocked, a clean one goes through.
The hook repository is a local git repository holding this checkout's .pre-commit-hooks.yaml (as
pre-commit clones a hook repository); `payments-guard` on PATH is this checkout (the system hook)."""
import os
import shutil
import stat
import subprocess
import sys

import pytest

from offline_helpers import ROOT
from policypack.distribution import pulumi_projects


def _git(repo, *args, env=None, check=True):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args], cwd=repo,
                          env=env, check=check, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def hooked_repository(tmp_path_factory):
    base = tmp_path_factory.mktemp("precommit")
    hooks = base / "hooks"
    hooks.mkdir()
    shutil.copy2(os.path.join(ROOT, ".pre-commit-hooks.yaml"), hooks / ".pre-commit-hooks.yaml")
    _git(str(hooks), "init", "-q")
    _git(str(hooks), "add", ".")
    _git(str(hooks), "commit", "-qm", "hooks")
    rev = _git(str(hooks), "rev-parse", "HEAD").stdout.strip()

    bin_dir = base / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "payments-guard"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m policypack "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=ROOT,
               PRE_COMMIT_HOME=str(base / "cache"))

    repo = base / "repo"
    shutil.copytree(os.path.join(ROOT, "examples", "payment-service"), repo / "infra" / "payments",
                    ignore=shutil.ignore_patterns("__pycache__", "venv"))
    (repo / "docs").mkdir()
    (repo / "docs" / "notes.md").write_text("notes\n")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: payments-guard-system\n"
        "    args: [--policy-config, pci-dss, --allow-unseen, 'awsx:*', --quiet]\n")
    _git(str(repo), "init", "-q")
    _git(str(repo), "add", ".")
    _git(str(repo), "commit", "-qm", "sample", "--no-verify")
    installed = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env,
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return repo, env


def _head(repo, env):
    return _git(str(repo), "rev-parse", "HEAD", env=env).stdout.strip()


def test_a_commit_giving_a_service_a_public_ip_is_blocked(hooked_repository):
    repo, env = hooked_repository
    main = repo / "infra" / "payments" / "__main__.py"
    original = main.read_text()
    before = _head(repo, env)
    try:
        main.write_text(original.replace("assign_public_ip=False", "assign_public_ip=True"))
        _git(str(repo), "add", "-A", env=env)
        done = _git(str(repo), "commit", "-m", "public ip", env=env, check=False)
        assert done.returncode != 0, done.stdout + done.stderr
        assert "ecs-service-no-public-ip" in done.stdout + done.stderr
        assert _head(repo, env) == before
    finally:
        main.write_text(original)
        _git(str(repo), "add", "-A", env=env)


def test_a_clean_commit_passes(hooked_repository):
    repo, env = hooked_repository
    main = repo / "infra" / "payments" / "__main__.py"
    main.write_text(main.read_text() + "\n# reviewed\n")
    (repo / "docs" / "notes.md").write_text("more notes\n")  # outside any project: passed over
    _git(str(repo), "add", "-A", env=env)
    done = _git(str(repo), "commit", "-m", "comment", env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout + done.stderr


def test_projects_are_the_nearest_pulumi_yaml_above_each_file(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "Pulumi.yaml").write_text("name: a\nruntime: python\n")
    (tmp_path / "a" / "b" / "Pulumi.yml").write_text("name: b\nruntime: python\n")
    (tmp_path / "c").mkdir()
    files = ["a/__main__.py", "a/b/x/deep.py", "a/Pulumi.dev.yaml", "c/readme.md", "a/b/removed.py", "../outside.py"]
    assert pulumi_projects(files, str(tmp_path)) == ["a", os.path.join("a", "b")]


def test_projects_in_other_languages_are_passed_over(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Pulumi.yaml").write_text("name: web\nruntime: nodejs\n")
    done = subprocess.run([sys.executable, "-m", "policypack", "check-changed", "web/index.ts"], cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "nodejs" in done.stderr


def test_hook_manifest_is_valid_for_pre_commit():
    from pre_commit.clientlib import load_manifest
    hooks = {hook["id"]: hook for hook in load_manifest(os.path.join(ROOT, ".pre-commit-hooks.yaml"))}
    assert set(hooks) == {"payments-guard-system", "payments-guard"}
    # no environment to build, so it works offline (pre-commit 4.4+ names `system` `unsupported`;
    # `system` still reads in every version)
    assert hooks["payments-guard-system"]["language"] in ("system", "unsupported")
    for hook in hooks.values():
        assert hook["entry"] == "payments-guard check-changed" and hook["require_serial"]
