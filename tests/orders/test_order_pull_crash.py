"""A real process kill (SIGKILL) in the middle of an order pull, then a re-run: zero lost, zero duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from crash_kill import kill_at_crash_point

RUNNER = Path(__file__).with_name("crash_runner.py")

pytestmark = pytest.mark.chaos


@pytest.fixture
def pull_env(fresh_sandbox, tmp_path):
    from amc_joor_sandbox.connections import connection_env

    env = dict(os.environ)
    env.update(connection_env(fresh_sandbox.amc_url, fresh_sandbox.joor_url))
    env["AMC_JOOR_STATE_URL"] = f"sqlite:///{tmp_path / 'state.db'}"
    env["AMC_JOOR_STAGING_ROOT"] = f"file://{tmp_path / 'staging'}"
    env["AIRFLOW_VAR_AMC_JOOR_SETTINGS"] = json.dumps({"order_type": "Approved"})
    env.pop("AMC_JOOR_TEST_CRASH_AT", None)
    return fresh_sandbox, env, tmp_path


def run_pull(env: dict, run_id: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUNNER), run_id], env=env, capture_output=True, text=True,
                          timeout=timeout)


def start_and_kill_at(env: dict, point: str, sentinel: Path, timeout: float = 60) -> int:
    """Start a pull, wait until it reaches ``point``, SIGKILL it from here; returns its exit code."""
    return kill_at_crash_point([sys.executable, str(RUNNER), "crashing"], env, point, sentinel, timeout)


def joor_orders(sandbox) -> dict[str, dict]:
    return {str(o["order_number"]): o for o in sandbox.joor_admin.get("/joor/orders", lines="0")["orders"]}


def amc_counts(sandbox) -> Counter:
    return Counter(o.get("customer_po") for o in sandbox.amc_admin.orders())


def assert_converged(sandbox) -> None:
    joor = joor_orders(sandbox)
    counts = amc_counts(sandbox)
    assert all(n == 1 for n in counts.values()), f"duplicated: {counts}"
    for number, o in joor.items():
        if counts[number]:
            assert o["export_status"] == "SUCCESS", (number, o["export_status"])  # nothing lost
        elif o["export_status"] == "SUCCESS":
            pytest.fail(f"{number} SUCCESS on JOOR but not in AMC")


def test_kill_between_amc_create_and_ledger_then_rerun(pull_env):
    sandbox, env, tmp = pull_env
    rc = start_and_kill_at(env, "after_amc_create", tmp / "sentinel")
    assert rc == -signal.SIGKILL
    created = amc_counts(sandbox)
    assert sum(created.values()) == 1  # killed right after the first AMC create
    (number,) = created
    assert joor_orders(sandbox)[number]["export_status"] == "UNDEFINED"  # write-back never happened
    done = run_pull(env, "rerun")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert_converged(sandbox)
    assert amc_counts(sandbox)[number] == 1 and joor_orders(sandbox)[number]["export_status"] == "SUCCESS"


def test_kill_after_all_imports_before_write_back_then_rerun(pull_env):
    sandbox, env, tmp = pull_env
    rc = start_and_kill_at(env, "before_write_back", tmp / "sentinel")
    assert rc == -signal.SIGKILL
    imported = amc_counts(sandbox)
    assert len(imported) >= 3
    assert all(joor_orders(sandbox)[n]["export_status"] == "UNDEFINED" for n in imported)
    done = run_pull(env, "rerun")
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])["order"]
    assert "created" not in counts  # every order was found in AMC, none created twice
    assert counts["export_success_written"] == len(imported)
    assert_converged(sandbox)
    assert amc_counts(sandbox) == imported


def test_write_back_failing_after_commit_is_completed_by_the_next_run(pull_env, monkeypatch):
    """JOOR stores the Export Status but every reply is a 500: the run fails; the next one finishes it."""
    from amc_joor.flows import orders
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.http import RetryPolicy
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.settings import IntegrationSettings
    from amc_joor.state import get_engine

    sandbox, env, tmp = pull_env
    for key in ("AIRFLOW_CONN_AMC_DEFAULT", "AIRFLOW_CONN_JOOR_DEFAULT", "AMC_JOOR_STAGING_ROOT"):
        monkeypatch.setenv(key, env[key])
    engine = get_engine(env["AMC_JOOR_STATE_URL"])
    settings = IntegrationSettings()
    quick = RetryPolicy(max_attempts=2, backoff_initial=0.05, backoff_max=0.1)
    sandbox.joor_admin.arm_fault("commit_then_fail", method="POST", path="/v4/orders/bulk_update", count=4)
    with pytest.raises(RuntimeError, match="not written"):
        orders.run_order_pull(AmcHook(), JoorHook(priority=True, retry_policy=quick), settings,
                              orders.RunScope("pending"), engine, run_id="r1")
    imported = orders.ledger_rows(engine, orders.IMPORTED)
    assert len(imported) >= 3  # in AMC, JOOR says SUCCESS (committed), the ledger not yet 'exported'
    numbers = {r["order_number"] for r in imported}
    assert all(joor_orders(sandbox)[n]["export_status"] == "SUCCESS" for n in numbers)
    sandbox.joor_admin.clear_faults()
    report = orders.run_order_pull(AmcHook(), JoorHook(priority=True), settings, orders.RunScope("pending"), engine,
                                   run_id="r2")
    counts = report.to_dict()["counts"]["order"]
    assert "created" not in counts  # those orders are no longer candidates: finished from the ledger
    assert report.notes["export_status_completed_from_earlier_runs"] == len(imported)
    assert not orders.ledger_rows(engine, orders.IMPORTED)
    assert_converged(sandbox)
