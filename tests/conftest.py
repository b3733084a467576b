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


# Test modules that run Pulumi programs (the offline check, the runner), a browser or pip, with their xdist
# group. All their tests are `slow`. Under pytest-xdist the tests of one group run on one worker, so a
# module's or session's program runs (fixtures) happen once, and tests that look for leftover processes
# of a fixture program never see another test's. A new module that runs programs belongs here.
SLOW_MODULES = {
    "test_offline_check.py": "offline-check",
    "test_samples.py": "samples",
    "test_independent_programs.py": "independent-programs",
    "test_offline_runner.py": "offline-runner",
    "test_audit.py": "audit",
    "test_composition.py": "composition",
    "test_state_analysis.py": "state-analysis",
    "test_program_components.py": "program-components",
    "test_program_environments.py": "program-environments",
    "test_program_transforms.py": "program-transforms",
    "test_program_config.py": "program-config",
    "test_html_report.py": "html-report",
    "test_distribution.py": "distribution",
    "test_distribution_action.py": "distribution-action",
    "test_distribution_precommit.py": "distribution-precommit",
    "test_distribution_wheel.py": "distribution-wheel",
}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """Marks the slow modules (above), then sorts slow tests first, the longest of all first of them:
    under pytest-xdist (`dev.py test` schedules in this order) a worker starts each long test at once
    instead of ending the run on it."""
    for item in items:
        group = SLOW_MODULES.get(item.path.name)
        if group is not None:
            item.add_marker(pytest.mark.slow)
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(group))

    def rank(item):
        if item.get_closest_marker("slow") is None:
            return 2
        group = item.get_closest_marker("xdist_group")
        return 0 if group is not None and group.args == ("large-program",) else 1
    items.sort(key=rank)  # stable: collection order within each rank


@pytest.fixture(autouse=True)
def no_internal_errors():
    """Every test also asserts that no rule hit an internal error (which the servicer swallows)."""
    before = len(servicer.INTERNAL_ERRORS)
    yield
    errors = servicer.INTERNAL_ERRORS[before:]
    assert not errors, f"rule internal errors: {errors}"
