"""The cluster scenario of test_scheduler_clear_backfill.py: a real Airflow cluster, driven like a user.

Boots tests/distributed/distributed_cluster.py (CeleryExecutor, PostgreSQL, Redis, two Celery
workers) against its own sandbox and runs the steps in a thread, keeping what it saw for the
tests; the cluster stays up until :meth:`ClusterScenario.stop` (the tests also check the live
sandbox and state store). See the test module for what each step proves.
"""


from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chaos_support import state_rows

CATALOG = "amc_joor_catalog_push"
ORDERS = "joor_amc_order_pull"
#: The order pull's timetable in this cluster: 15-minute intervals on one past morning only.
DAY = datetime(2026, 11, 30, tzinfo=UTC)
CLUSTER_ENV = {
    "AMC_JOOR_CATALOG_PUSH_CRON": "0 3 1 1 *",  # once a year: only the catch-up run on unpause
    "AMC_JOOR_ORDER_PULL_CRON": "*/15 10 30 11 *",
    "AMC_JOOR_RETRIES": "1",  # a failing task fails for good after two tries (keeps the test short)
    "AMC_JOOR_JOOR_CREDIT_LIMIT": "100000",
    "AMC_JOOR_JOOR_CREDIT_RESERVE": "0",
    "AIRFLOW_VAR_AMC_JOOR_SETTINGS": "{}",
}
STEPS = ("up", "catalog_failed", "catalog_cleared", "backfilled")


class ClusterScenario:
    """Boot the cluster and act like a user, step by step; keep what was seen for the tests."""

    def __init__(self, workdir: Path, pg_admin_url: str, redis_url: str) -> None:
        self.workdir, self.pg_admin_url, self.redis_url = workdir, pg_admin_url, redis_url
        self.events = {s: threading.Event() for s in STEPS}
        self.seen: dict[str, Any] = {}
        self.error: str | None = None
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._main, name="chaos-cluster", daemon=True)
        self.c = self.sb = self.state_url = None

    # -- driving ----------------------------------------------------------------------------

    def start(self) -> ClusterScenario:
        self.thread.start()
        return self

    def wait(self, step: str, timeout: float = 540) -> None:
        if not self.events[step].wait(timeout):
            pytest.fail(f"cluster scenario: step {step!r} not reached in {timeout}s")
        if self.error:
            pytest.fail(f"cluster scenario failed before {step!r} was complete:\n{self.error}")

    def stop(self) -> None:
        """Let the thread stop the cluster and the sandbox (idempotent)."""
        self.release.set()
        if self.thread.is_alive():
            self.thread.join(timeout=120)

    def _main(self) -> None:
        from distributed_cluster import airflow_cluster

        from amc_joor_sandbox.connections import connection_env
        from amc_joor_sandbox.testing import start_sandbox

        with contextlib.ExitStack() as stack:
            try:
                self.sb = stack.enter_context(start_sandbox("small", seed=1))
                self.sb.joor_admin.config(credits_per_window=100000)
                self.conns = connection_env(self.sb.amc_url, self.sb.joor_url)
                self.c = stack.enter_context(airflow_cluster(self.workdir, self.pg_admin_url, self.redis_url,
                                                             {**self.conns, **CLUSTER_ENV}))
                self.state_url = self.c.env["AMC_JOOR_STATE_URL"]
                self.c.wait_dags_parsed([CATALOG, ORDERS])
                self.events["up"].set()
                self.fail_catalog()
                self.events["catalog_failed"].set()
                self.clear_catalog()
                self.events["catalog_cleared"].set()
                self.backfill_orders()
                self.events["backfilled"].set()
            except BaseException:  # noqa: BLE001 - reported to every waiting test
                self.error = traceback.format_exc()
                for event in self.events.values():
                    event.set()
            self.release.wait(timeout=900)

    # -- the steps --------------------------------------------------------------------------

    def fail_catalog(self) -> None:
        c, sb = self.c, self.sb
        sb.joor_admin.arm_fault("commit_then_fail", method="POST", path="/v4/skus/bulk_create", status=500,
                                count=10_000)
        # Unpausing a CronTriggerTimetable DAG (catchup=False) runs its latest past schedule at
        # once: that is the run users get, and the one this test clears. A manual run otherwise.
        c.client.patch(f"/dags/{CATALOG}", json={"is_paused": False}).raise_for_status()
        try:
            wait_until(lambda: dag_runs(c, CATALOG), 30, "no catch-up run")
        except TimeoutError:
            c.trigger(CATALOG)
        self.run_id = dag_runs(c, CATALOG)[0]["dag_run_id"]
        self.seen["first_state"] = wait_state(c, CATALOG, self.run_id, {"success", "failed"})
        self.seen["failed_tis"] = tis(c, CATALOG, self.run_id)
        self.seen["skus_on_joor"] = len([s for s in sb.joor_admin.get("/joor/catalog")["skus"] if s.get("external_id")])
        self.seen["sku_state"] = len(state_rows(self.state_url, "sku"))

    def clear_catalog(self) -> None:
        c = self.c
        self.sb.joor_admin.clear_faults()
        resp = c.client.post(f"/dags/{CATALOG}/clearTaskInstances",
                             json={"dry_run": False, "only_failed": True, "dag_run_id": self.run_id})
        resp.raise_for_status()
        self.seen["cleared"] = sorted({t["task_id"] for t in resp.json()["task_instances"]})
        self.seen["final_state"] = wait_state(c, CATALOG, self.run_id, {"success", "failed"})
        self.seen["final_tis"] = tis(c, CATALOG, self.run_id)
        self.seen["catalog_runs"] = [r["dag_run_id"] for r in dag_runs(c, CATALOG)]

    def backfill_orders(self) -> None:
        c, sb = self.c, self.sb
        # unpausing makes Airflow catch up the latest interval once (a "pending" run): let it end
        c.client.patch(f"/dags/{ORDERS}", json={"is_paused": False}).raise_for_status()
        wait_until(lambda: dag_runs(c, ORDERS) and all(r["state"] in ("success", "failed") for r in dag_runs(c, ORDERS)),
                   120, "the order pull's catch-up run did not finish")
        catch_up = {r["dag_run_id"] for r in dag_runs(c, ORDERS)}
        self.seen["imported_before"] = Counter(o.get("customer_po") for o in sb.amc_admin.orders())
        numbers: dict[str, datetime] = {}
        for minutes in (-10, 5, 20, 40):  # 09:50, 10:05, 10:20, 10:40
            moment = DAY + timedelta(hours=10, minutes=minutes)
            made = sb.joor_admin.post("/joor/orders", {"count": 1, "customer_code": "C-0001", "lines": 2,
                                                       "date_approved": moment.strftime("%Y-%m-%dT%H:%M:%SZ")})
            numbers[str(made["orders"][0]["order_number"])] = moment
        self.seen["numbers"] = numbers
        resp = c.client.post("/backfills", json={
            "dag_id": ORDERS, "from_date": (DAY + timedelta(hours=10)).isoformat(),
            "to_date": (DAY + timedelta(hours=10, minutes=15)).isoformat(), "max_active_runs": 1})
        resp.raise_for_status()
        backfill_id = resp.json()["id"]
        wait_until(lambda: c.client.get(f"/backfills/{backfill_id}").json().get("completed_at"), 240,
                   "the backfill did not complete")
        self.seen["backfill_runs"] = [r for r in dag_runs(c, ORDERS) if r["dag_run_id"] not in catch_up]


# ================================================================================ REST helpers


def tis(c, dag_id: str, run_id: str) -> dict[str, dict]:
    return {f"{t['task_id']}[{t['map_index']}]" if t["map_index"] >= 0 else t["task_id"]: t
            for t in c.task_instances(dag_id, run_id)}


def dag_runs(c, dag_id: str) -> list[dict]:
    resp = c.client.get(f"/dags/{dag_id}/dagRuns", params={"limit": 100})
    resp.raise_for_status()
    return resp.json()["dag_runs"]


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise TimeoutError(f"{what} within {timeout}s")


def wait_state(c, dag_id: str, run_id: str, wanted: set[str], timeout: float = 300) -> str:
    state: list[str] = []

    def reached() -> bool:
        state[:] = [c.client.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]]
        return state[0] in wanted

    wait_until(reached, timeout, f"{dag_id} {run_id} reaching {wanted} (last: {state})")
    return state[0]
