"""amc_joor_inventory_push end to end: dag.test() on the sandboxes, after the real catalog push.

JOOR's inventory is read through the sandbox's inspection API and compared with AMC's chosen
stock field; JOOR request counts come from the sandbox's own stats.
"""

from __future__ import annotations

import pytest

from amc_joor.flows import inventory as inv

DAG_ID = "amc_joor_inventory_push"
BULK = "POST /v2/bulk-inventory"
pytestmark = pytest.mark.slow


@pytest.fixture
def runner(run_dag, monkeypatch):
    """run_dag with JOOR's credit window out of the way (several runs in one test)."""
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_LIMIT", "100000")
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_RESERVE", "0")
    run_dag.sandbox.joor_admin.config(rate_limit_enabled=False)
    return run_dag


def catalog_skus(runner) -> set[str]:
    """SKUs the catalog push acknowledged (its state), i.e. the ones the inventory push may send."""
    from amc_joor.state import get_engine, load_synced

    return set(load_synced(inv.CATALOG_SKU_ENTITY, get_engine(runner.state_url)))


def push_catalog(runner) -> set[str]:
    result = runner("amc_joor_catalog_push", settings={"image_sync": False})
    assert result.ok, result.task_states
    skus = catalog_skus(runner)
    assert skus
    return skus


def amc_stock(runner, column="qty_avail_sell", warehouse_id="1") -> dict[str, int]:
    from amc_joor.hooks.amc import AmcHook

    rows = AmcHook().list_records("sku_warehouse")
    return {r["sku_id"]: max(0, int(float(r[column]))) for r in rows if r["warehouse_id"] == warehouse_id}


def joor_stock(runner, warehouse="Main Warehouse") -> dict[str, dict]:
    rows = runner.sandbox.joor_admin.get("/joor/inventory")["inventory"]
    return {r["external_id"]: r for r in rows if r["warehouse"] == warehouse}


def bulk_calls(runner) -> int:
    return runner.sandbox.joor_admin.requests().get(BULK, 0)


def test_push_then_noop_then_one_change_then_dry_run(runner):
    sb = runner.sandbox
    on_joor = push_catalog(runner)

    first = runner(DAG_ID)
    assert first.ok, first.task_states
    amc, joor = amc_stock(runner), joor_stock(runner)
    assert {k: joor[k]["inventory"] for k in on_joor} == {k: amc.get(k, 0) for k in on_joor}
    assert set(joor) == on_joor, "only SKUs the catalog push put on JOOR are stocked"
    assert first.report["counts"]["inventory"]["updated"] == len(on_joor)
    assert first.report["notes"]["write_calls"] == inv.batch_count(len(on_joor), 1000)
    assert all(c["overwrite"] is False for c in sb.joor_admin.get("/joor/inventory")["calls"])

    calls = bulk_calls(runner)
    noop = runner(DAG_ID)
    assert noop.ok and bulk_calls(runner) == calls
    assert noop.report["counts"]["inventory"]["unchanged"] == len(on_joor)

    changed, other = sorted(on_joor)[:2]
    before = joor_stock(runner)[other]
    sb.amc_admin.set_stock(changed, "1", qty_avail_sell=555)
    one = runner(DAG_ID)
    assert one.ok, one.task_states
    assert bulk_calls(runner) == calls + 1
    assert sb.joor_admin.get("/joor/inventory")["calls"][-1]["items"] == 1
    after = joor_stock(runner)
    assert after[changed]["inventory"] == 555
    assert after[other] == before, "a SKU absent from the push never changes on JOOR"

    sb.amc_admin.set_stock(changed, "1", qty_avail_sell=556)
    dry = runner(DAG_ID, conf={"dry_run": True})
    assert dry.ok, dry.task_states
    assert bulk_calls(runner) == calls + 1, "dry run sends nothing"
    assert dry.report["notes"]["dry_run"] is True and dry.report["notes"]["to_send"] == 1
    assert joor_stock(runner)[changed]["inventory"] == 555
    assert runner(DAG_ID).ok and joor_stock(runner)[changed]["inventory"] == 556


def test_bad_settings_fail_fast_with_zero_joor_requests(runner):
    sb = runner.sandbox
    sb.joor_admin.reset_stats()
    bad = runner(DAG_ID, settings={"amc_warehouse": "Backroom"})
    assert bad.state == "failed"
    assert bad.task_states["plan"] == "failed"
    assert sum(sb.joor_admin.requests().values()) == 0
    bad_field = runner(DAG_ID, settings={"stock_field": "On Order"})
    assert bad_field.task_states["plan"] == "failed"
    assert sum(sb.joor_admin.requests().values()) == 0


def test_rejected_items_fail_the_run_and_are_retried_next_run(runner):
    on_joor = push_catalog(runner)
    failed = runner(DAG_ID, settings={"joor_warehouse_name": "Nowhere DC"})
    assert failed.state == "failed" and failed.only_records_failed, failed.task_states
    assert failed.report["failed_total"] == len(on_joor)
    assert "unknown warehouse" in failed.report["failures"][0]["reason"]
    assert joor_stock(runner, "Nowhere DC") == {}

    fixed = runner(DAG_ID, settings={})
    assert fixed.ok, fixed.task_states
    assert fixed.report["counts"]["inventory"]["updated"] == len(on_joor)
    amc, joor = amc_stock(runner), joor_stock(runner)
    assert all(joor[k]["inventory"] == amc.get(k, 0) for k in on_joor)


def test_no_catalog_yet_is_a_quiet_noop(runner):
    result = runner(DAG_ID)
    assert result.ok, result.task_states
    assert bulk_calls(runner) == 0
    assert "catalog push" in result.report["notes"]["hint"]


def test_schedule_is_cron_or_catalog_asset():
    from amc_joor_sandbox.dagrun import load_dag

    dag = load_dag(DAG_ID)
    tt = dag.timetable
    assert type(tt).__name__ == "AssetOrTimeSchedule"
    assert "joor://catalog" in repr(tt.asset_condition)
    assert tt.timetable.expression == "*/5 * * * *" or tt.timetable._expression == "*/5 * * * *"
    assert set(dag.params) >= {"dry_run", "full_resync", "style_numbers"}
