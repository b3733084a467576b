"""Suite-wide fixtures and the Hypothesis profiles.

Hypothesis profiles (chosen before any test module is imported, so every `@settings(...)` in the
suite inherits from the chosen one):

- `ci` (when `CI` is set, and under `python3 dev.py test`): derandomized, no example database.
  The same code gives the same examples on every run, so CI never rejects unchanged code.
- `dev` (plain `pytest`): a fresh random seed each run, to find new examples. A failure prints the
  seed and a reproduction blob; keep what it found as an `@example`.

Another seed, locally: `pytest --hypothesis-seed=N` (switches to `dev` unless a profile is named),
or `HYPOTHESIS_PROFILE=dev python3 dev.py test`.
"""
import os

import pytest
from hypothesis import settings

from policypack import servicer

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
# (`dev` keeps the local example database: a failure found once is replayed first next time.)
settings.register_profile("dev", derandomize=False, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_configure(config):
    # A derandomized profile ignores --hypothesis-seed; asking for a seed means asking for `dev`.
    if config.getoption("--hypothesis-seed", None) is not None and not config.getoption("--hypothesis-profile", None):
        settings.load_profile("dev")


# Test modules that run Pulumi programs (the offline check, the runner), a browser or pip: all their
# tests are `slow`. `dev.py test` runs with `--dist loadfile`, so each module runs on one worker and its
# module and session fixtures (the program runs) happen once; tests that look for leftover processes of
# a fixture program never see another test's. (`--dist loadgroup` with xdist_group marks would allow
# finer groups, but pytest-xdist 3.8 cannot rename node ids under pytest 9, so it degrades to `load`.)
# A new module that runs programs belongs here.
SLOW_MODULES = {
    "test_scale.py", "test_offline_check.py", "test_samples.py", "test_independent_programs.py", "test_offline_runner.py",
    "test_audit.py", "test_composition.py", "test_state_analysis.py", "test_program_components.py",
    "test_program_environments.py", "test_program_transforms.py", "test_program_config.py",
    "test_html_report.py", "test_distribution.py", "test_distribution_action.py",
    "test_distribution_precommit.py", "test_distribution_wheel.py",
}
# The longest modules, scheduled before all others in this order: the 20,000-resource check, then the
# 37 defect runs of the independent program (each module stays on one worker: --dist loadfile).
LONGEST_MODULES = ("test_scale.py", "test_independent_programs.py")


def pytest_collection_modifyitems(config, items):
    """Marks the slow modules (above), then sorts: the longest module first, other slow tests next.
    `dev.py test` hands modules to workers in this order, so each long one starts at once instead of
    ending the run on one worker while the other idles."""
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)

    def rank(item):
        if item.path.name in LONGEST_MODULES:
            return LONGEST_MODULES.index(item.path.name)
        return len(LONGEST_MODULES) + (0 if item.get_closest_marker("slow") is not None else 1)
    items.sort(key=rank)  # stable: collection order within each rank


@pytest.fixture(autouse=True)
def no_internal_errors():
    """Every test also asserts that no rule hit an internal error (which the servicer swallows)."""
    before = len(servicer.INTERNAL_ERRORS)
    yield
    errors = servicer.INTERNAL_ERRORS[before:]
    assert not errors, f"rule internal errors: {errors}"
