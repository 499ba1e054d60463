"""What users do under a real scheduler: *Clear* a failed task, and *backfill* a date range.

A real Airflow cluster (tests/distributed/distributed_cluster.py: CeleryExecutor, PostgreSQL
metadata DB and state store, Redis, two Celery workers, scheduler, dag-processor, triggerer,
api-server), driven only through its REST API:

* Catalog push: JOOR's SKU create commits but every reply is lost (``commit_then_fail``), so the
  SKU push task fails all its tries and the run fails — with the SKUs on JOOR and none in the
  state store. Disarm, clear the failed task instances (``POST /api/v2/dags/{dag_id}/
  clearTaskInstances``, ``only_failed``) and the same run finishes: JOOR == AMC's projection,
  nothing created twice (the re-sent creates come back DUPLICATED and are adopted).
* Order pull: a real backfill (``POST /api/v2/backfills``) over a past window processes exactly
  the JOOR orders approved inside the backfill runs' data intervals, each once.

Schedules are pinned to past, once-a-year times (env crons): unpausing a DAG makes Airflow run
its latest past schedule once (catchup=False) and nothing else is scheduled. The catalog's
catch-up run is the one that fails and is cleared; the order pull's is awaited before the test's
orders exist, so the backfill is the only run that can import them.

Why a background scenario (chaos_cluster.py): the cluster needs ~2 minutes of mostly waiting
on the scheduler, and this folder's fault tests mostly sleep (backoffs, timeouts, Retry-After);
so the chaos conftest starts :class:`ClusterScenario` in a thread when the session begins, and
these tests, ordered last, assert what it observed and check the live sandbox and state store
(the cluster stays up until the session ends). Run alone, the scenario starts with the module.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from chaos_cluster import ClusterScenario
from chaos_support import assert_catalog_converged

pytestmark = [pytest.mark.chaos, pytest.mark.distributed, pytest.mark.timeout(600)]


# ================================================================================ tests


@pytest.fixture(scope="module")
def scenario(request, tmp_path_factory, postgres_admin_url, redis_url):
    """The session's background scenario (see conftest.py), or one run here when there is none."""
    running = getattr(request.config, "_chaos_cluster", None)
    if running is None:
        running = ClusterScenario(tmp_path_factory.mktemp("cluster"), postgres_admin_url, redis_url).start()
    request.addfinalizer(running.stop)  # the cluster is not needed past this module
    running.wait("up")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in running.conns.items():  # this process reads AMC/JOOR too (the invariants)
            mp.setenv(name, value)
        yield running


def test_clear_failed_sku_push_via_rest_converges(scenario):
    scenario.wait("catalog_cleared")
    seen, sb = scenario.seen, scenario.sb
    states = {k: t["state"] for k, t in seen["failed_tis"].items()}
    assert seen["first_state"] == "failed", states
    failed = {k for k, s in states.items() if s == "failed"}
    assert failed and all(k.startswith("push_skus") for k in failed), states
    assert all(seen["failed_tis"][k]["try_number"] == 2 for k in failed), "both tries should have failed"
    assert states["report"] == "upstream_failed"
    assert seen["skus_on_joor"] > 0 and seen["sku_state"] == 0, "state must not move before JOOR's answer arrives"

    assert "push_skus" in seen["cleared"] and "report" in seen["cleared"], seen["cleared"]
    after = seen["final_tis"]
    assert seen["final_state"] == "success", {k: t["state"] for k, t in after.items()}
    assert all(after[k]["state"] == "success" and after[k]["try_number"] == 3 for k in failed)
    untouched = {k: (t["state"], t["try_number"]) for k, t in after.items()
                 if k.startswith(("extract", "plan", "push_products"))}
    assert untouched and all(n == 1 for _, n in untouched.values()), f"only what failed ran again: {untouched}"
    assert seen["catalog_runs"] == [scenario.run_id], "one catalog run only: the cleared one"
    counts = assert_catalog_converged(sb, scenario.state_url)
    assert counts["skus"] == seen["skus_on_joor"], "the SKUs the lost replies created were adopted, not re-created"


def test_backfill_processes_exactly_the_orders_approved_in_its_intervals(scenario):
    scenario.wait("backfilled")
    seen, sb = scenario.seen, scenario.sb
    runs, numbers = seen["backfill_runs"], seen["numbers"]
    assert runs and all(r["run_type"] == "backfill" and r["state"] == "success" for r in runs), runs
    intervals = [(datetime.fromisoformat(r["data_interval_start"]), datetime.fromisoformat(r["data_interval_end"]))
                 for r in runs]
    inside = {n for n, t in numbers.items() if any(lo <= t < hi for lo, hi in intervals)}
    assert inside and inside != set(numbers), (intervals, numbers)  # the window splits the four orders

    amc = Counter(o.get("customer_po") for o in sb.amc_admin.orders())
    assert max(amc.values()) == 1, "an order was imported twice"
    assert set(amc) - set(seen["imported_before"]) == inside, "the backfill imported other orders than its range"
    joor = {str(o["order_number"]): o for o in sb.joor_admin.get("/joor/orders", lines="0")["orders"]}
    assert all(joor[n]["export_status"] == "SUCCESS" for n in inside)
    assert all(joor[n]["export_status"] == "UNDEFINED" for n in set(numbers) - inside)
