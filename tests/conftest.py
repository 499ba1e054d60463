"""Shared pytest wiring. Fixture modules: services (PostgreSQL/Redis), dagrun (run_dag)."""

pytest_plugins = ["services", "dagrun"]

# --- sandbox fixtures (sandbox helper) ---------------------------------------------------------

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def sandbox():
    """Both sandbox APIs (``small`` data set, seed 1) in a subprocess for the whole session."""
    from amc_joor_sandbox.testing import start_sandbox

    with start_sandbox("small", seed=1) as running:
        yield running


@pytest.fixture
def fresh_sandbox(sandbox):
    """The session sandbox, reset to pristine data (faults, stats, settings and clock cleared)."""
    sandbox.reset()
    return sandbox


# --- end sandbox fixtures ----------------------------------------------------------------------
