#!/usr/bin/env python3
"""Developer entry point that needs nothing but python3.

    python3 dev.py check   # offline check of the bundled sample stack, report on stdout
    python3 dev.py test    # the whole test suite, in parallel (pytest-xdist); pytest options pass through,
                           # e.g. `python3 dev.py test -m "not slow"` for the quick inner-loop subset
    python3 dev.py bench   # the benchmark (docs/performance.md)

Creates ./venv (the virtualenv PulumiPolicy.yaml names) on first use and installs
requirements-dev.txt into it; later runs reuse it while the requirements are unchanged.
"""
import hashlib
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, "venv")
PYTHON = os.path.join(VENV, "bin", "python")
STAMP = os.path.join(VENV, ".requirements-dev.sha256")


def _digest() -> str:
    sha = hashlib.sha256()
    for name in ("requirements.txt", "requirements-dev.txt"):
        with open(os.path.join(ROOT, name), "rb") as handle:
            sha.update(handle.read())
    return sha.hexdigest()


def ensure_venv() -> None:
    digest = _digest()
    if os.path.exists(PYTHON) and os.path.exists(STAMP) and open(STAMP).read() == digest:
        return
    if not os.path.exists(PYTHON):
        print("dev.py: creating ./venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing requirements-dev.txt into ./venv", file=sys.stderr)
    subprocess.check_call([PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q",
                           "-r", os.path.join(ROOT, "requirements-dev.txt")])
    with open(STAMP, "w") as handle:
        handle.write(digest)


def _parallel(args) -> list:
    """pytest-xdist options unless the caller chose (`-n 0`, `-p no:xdist`): one worker per core; tests
    of one xdist_group (a module whose fixtures run a program) stay on one worker; scopes are taken in
    collection order, which tests/conftest.py sorts longest first."""
    if any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in args):
        return []
    return ["-n", "auto", "--dist", "loadgroup", "--no-loadscope-reorder"]


def main(argv) -> int:
    command = argv[1] if len(argv) > 1 else "help"
    rest = argv[2:]
    if command not in ("check", "test", "bench", "run"):
        print(__doc__)
        return 0 if command == "help" else 2
    ensure_venv()
    if command == "check":
        args = rest or [os.path.join(ROOT, "examples", "payment-service")]
        return subprocess.call([PYTHON, "-m", "policypack", "check", *args], cwd=ROOT)
    if command == "test":
        # The derandomized Hypothesis profile (tests/conftest.py): the same result on every run.
        env = dict(os.environ)
        env.setdefault("HYPOTHESIS_PROFILE", "ci")
        return subprocess.call([PYTHON, "-m", "pytest", *_parallel(rest), *rest], cwd=ROOT, env=env)
    if command == "bench":
        return subprocess.call([PYTHON, os.path.join(ROOT, "benchmarks", "bench.py"), *rest], cwd=ROOT)
    return subprocess.call([PYTHON, *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
