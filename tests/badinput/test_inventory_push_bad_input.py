"""amc_joor_inventory_push with bad AMC stock: bad SKUs reported, JOOR keeps their quantity.

After a real catalog push, stock values are made bad the way a broken AMC answer would carry
them (``rewrite``: a quantity "lots"; ``non_utf8``: a garbled UPC), plus a negative quantity
(a rule, not an error: JOOR gets 0). The run fails only in ``report``; every other SKU on JOOR
equals AMC's stock field.
"""

from __future__ import annotations

import pytest
from badinput_helpers import amc_rows, assert_reason, failures, rewrite

DAG_ID = "amc_joor_inventory_push"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def joor_stock(sb, warehouse: str = "Main Warehouse") -> dict[str, int]:
    rows = sb.joor_admin.get("/joor/inventory")["inventory"]
    return {r["external_id"]: r["inventory"] for r in rows if r["warehouse"] == warehouse}


def test_bad_stock_values_are_reported_and_every_other_sku_is_pushed(run_dag, monkeypatch):
    sb = run_dag.sandbox
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_LIMIT", "100000")
    sb.joor_admin.config(rate_limit_enabled=False)
    assert run_dag("amc_joor_catalog_push", settings={"image_sync": False}).ok
    first = run_dag(DAG_ID)
    assert first.ok, first.task_states
    before = joor_stock(sb)
    on_joor = sorted(before)
    lots, garbled, negative, changed = on_joor[:4]

    # wrong-typed quantity: AMC answers "lots" for one SKU's stock field
    sb.amc_admin.set_stock(lots, "1", qty_inventory=7777, qty_avail_sell=7777)
    rewrite(sb.amc_admin, "/api/json/sku_warehouse", "qty_avail_sell", "7777", "lots")
    # garbled identity: invalid UTF-8 bytes inside the UPC AMC sends for a SKU whose stock changed
    sku_row = next(s for s in amc_rows(sb, "inventory") if s["sku_id"] == garbled)
    sb.amc_admin.set_stock(garbled, "1", qty_avail_sell=42)
    sb.amc_admin.arm_fault("non_utf8", path="/api/json/inventory", find=sku_row["upc_display"], count=50)
    # negative stock: a rule, not an error (JOOR gets 0)
    sb.amc_admin.set_stock(negative, "1", qty_avail_sell=-5)
    sb.amc_admin.set_stock(changed, "1", qty_avail_sell=321)

    result = run_dag(DAG_ID)

    assert result.state == "failed" and result.failed_tasks() == ["report"], result.task_states
    report = result.report
    assert_reason(report, lots, "qty_avail_sell", "'lots'", "not a number", "JOOR keeps")
    assert_reason(report, garbled, "upc", "UTF-8")
    assert {f["key"] for f in failures(report)} == {lots, garbled}
    after = joor_stock(sb)
    assert after[lots] == before[lots], "an unreadable quantity must never reach JOOR (not even as 0)"
    assert after[garbled] == before[garbled]
    assert after[negative] == 0 and after[changed] == 321
    amc = {r["sku_id"]: r for r in amc_rows(sb, "sku_warehouse") if r["warehouse_id"] == "1"}
    for sku in on_joor:
        if sku not in (lots, garbled):
            assert after[sku] == max(0, int(amc[sku]["qty_avail_sell"])), sku
    assert report["counts"]["inventory"]["updated"] == 2  # the negative and the changed SKU

    # the bad values fixed in AMC (faults gone): the next run sends exactly those two
    sb.amc_admin.clear_faults()
    fixed = run_dag(DAG_ID)
    assert fixed.ok, fixed.task_states
    final = joor_stock(sb)
    assert final[lots] == 7777 and final[garbled] == 42
