import pytest

from policypack import servicer


@pytest.fixture(autouse=True)
def no_internal_errors():
    """Every test also asserts that no rule hit an internal error (which the servicer swallows)."""
    before = len(servicer.INTERNAL_ERRORS)
    yield
    errors = servicer.INTERNAL_ERRORS[before:]
    assert not errors, f"rule internal errors: {errors}"
