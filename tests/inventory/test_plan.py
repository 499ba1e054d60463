"""Pure planning logic of the inventory push (no I/O): settings checks, stock frame, delta, items."""

from __future__ import annotations

import pandas as pd
import pytest

from amc_joor.flows import inventory as inv
from amc_joor.settings import SettingsError

WAREHOUSES = [{"id": "1", "name": "Main", "is_default": "1"}, {"id": "2", "name": "Outlet"}]


def test_resolve_warehouse_by_id_and_name():
    assert inv.resolve_warehouse("2", WAREHOUSES) == inv.Warehouse("2", "Outlet")
    assert inv.resolve_warehouse(" main ", WAREHOUSES) == inv.Warehouse("1", "Main")


def test_resolve_warehouse_unknown_names_setting_and_lists_valid():
    with pytest.raises(SettingsError) as err:
        inv.resolve_warehouse("Backroom", WAREHOUSES)
    msg = str(err.value)
    assert "amc_warehouse='Backroom'" in msg and "'Main' (id 1)" in msg and "'Outlet' (id 2)" in msg


def test_resolve_warehouse_ambiguous_name():
    with pytest.raises(SettingsError, match="several"):
        inv.resolve_warehouse("Main", WAREHOUSES + [{"id": "9", "name": "MAIN"}])


def test_stock_column_for_unknown_field():
    assert inv.stock_column_for("Stock on Hand") == "qty_inventory"
    with pytest.raises(SettingsError) as err:
        inv.stock_column_for("On Order")
    assert "stock_field='On Order'" in str(err.value) and "'Available to Sell'" in str(err.value)


def test_clean_quantity_clamps_floors_and_blanks():
    got = inv.clean_quantity(pd.Series(["12.000", "-3", "", None, "4.9", "abc"]))
    assert got.tolist() == [12, 0, 0, 0, 4, 0]


def _skus():
    return pd.DataFrame(
        {
            "sku_id": ["10", "11", "12", "13"],
            "upc": ["0001", "", "", "0004"],
            "style_number": ["S1", "S1", "S2", "S2"],
            "color_code": ["BLK", "WHT", "", "RED"],
            "size": ["M", "L", "S", "M"],
        }
    )


def test_current_stock_uses_configured_column_and_zero_for_missing_rows():
    stock = pd.DataFrame(
        {"sku_id": ["10", "11", "99"], "qty_avail_sell": ["5", "-2", "7"], "qty_inventory": ["50", "60", "70"]}
    )
    cur = inv.current_stock(stock, _skus(), "qty_avail_sell")
    assert dict(zip(cur.sku_id, cur.qty, strict=True)) == {"10": 5, "11": 0, "12": 0, "13": 0}
    cur2 = inv.current_stock(stock, _skus(), "qty_inventory")
    assert dict(zip(cur2.sku_id, cur2.qty, strict=True))["10"] == 50


def test_current_stock_missing_column_is_a_settings_error():
    stock = pd.DataFrame({"sku_id": ["10"], "qty_inventory": ["1"]})
    with pytest.raises(SettingsError, match="stock_field"):
        inv.current_stock(stock, _skus(), "qty_avail_sell")


def test_keys_upc_else_style_color_size_else_unkeyed():
    cur = inv.current_stock(pd.DataFrame({"sku_id": [], "qty_avail_sell": []}), _skus(), "qty_avail_sell")
    keys = inv.joor_keys(cur).tolist()
    assert keys == ["upc:0001", "ssc:S1|WHT|L", "", "upc:0004"]


def _ack_from(delta: inv.Delta) -> pd.DataFrame:
    return delta.to_send[["sku_id", "content_hash"]]


def test_delta_sends_only_changes_and_nothing_when_unchanged():
    stock = pd.DataFrame({"sku_id": ["10", "11", "13"], "qty_avail_sell": ["5", "6", "7"]})
    cur = inv.current_stock(stock, _skus(), "qty_avail_sell")
    first = inv.plan_delta(cur, pd.DataFrame(columns=["sku_id", "content_hash"]), "Main Warehouse")
    assert sorted(first.to_send.sku_id) == ["10", "11", "13"]
    assert first.unkeyed.sku_id.tolist() == ["12"]
    ack = _ack_from(first)
    again = inv.plan_delta(cur, ack, "Main Warehouse")
    assert again.to_send.empty and again.unchanged == 3
    stock.loc[stock.sku_id == "11", "qty_avail_sell"] = "9"
    changed = inv.plan_delta(inv.current_stock(stock, _skus(), "qty_avail_sell"), ack, "Main Warehouse")
    assert changed.to_send.sku_id.tolist() == ["11"] and changed.to_send.qty.tolist() == [9]
    # a different JOOR warehouse name re-sends everything
    moved = inv.plan_delta(cur, ack, "Other")
    assert len(moved.to_send) == 3


def test_delta_full_resync_and_style_filter():
    stock = pd.DataFrame({"sku_id": ["10", "11", "13"], "qty_avail_sell": ["5", "6", "7"]})
    cur = inv.current_stock(stock, _skus(), "qty_avail_sell")
    ack = _ack_from(inv.plan_delta(cur, pd.DataFrame(columns=["sku_id", "content_hash"]), "W"))
    assert len(inv.plan_delta(cur, ack, "W", full_resync=True).to_send) == 3
    only_s2 = inv.plan_delta(cur, ack, "W", full_resync=True, style_numbers=["s2"])
    assert only_s2.to_send.sku_id.tolist() == ["13"] and only_s2.considered == 2


def test_items_never_carry_inventory_date_and_use_fallback_key():
    stock = pd.DataFrame({"sku_id": ["10", "11"], "qty_avail_sell": ["5", "6"]})
    cur = inv.current_stock(stock, _skus(), "qty_avail_sell")
    delta = inv.plan_delta(cur, pd.DataFrame(columns=["sku_id", "content_hash"]), "Main Warehouse")
    items = {i.get("upc") or i.get("style_number") + i.get("color_code"): i
             for i in inv.inventory_items(delta.to_send, "Main Warehouse")}
    assert items["0001"] == {"warehouse": "Main Warehouse", "upc": "0001", "inventory": 5}
    assert items["S1WHT"] == {
        "warehouse": "Main Warehouse", "style_number": "S1", "color_code": "WHT", "size": "L", "inventory": 6,
    }
    assert all("inventory_date" not in i for i in items.values())


def test_match_results_by_position_and_by_sku():
    items = [{"upc": "1", "inventory": 1}, {"upc": "2", "inventory": 2}]
    logs = [{"sku": "1", "status": "pass"}, {"sku": "2", "status": "fail", "message": "unknown warehouse"}]
    assert inv.match_results(items, logs) == [(True, "pass"), (False, "unknown warehouse")]
    assert inv.match_results(items, [logs[1]]) == [(False, "JOOR did not report on this item"),
                                                   (False, "unknown warehouse")]


def test_acknowledged_records_only_for_passed():
    batch = pd.DataFrame({"sku_id": ["1", "2"], "joor_key": ["upc:1", "upc:2"], "qty": [3, 4],
                          "content_hash": ["h1", "h2"]})
    recs = inv.acknowledged_records(batch, [(True, ""), (False, "x")], "W")
    assert recs == [{"key": "1", "content_hash": "h1", "detail": {"qty": 3, "warehouse": "W", "joor_key": "upc:1"}}]


def test_split_batches_respects_limit():
    frame = pd.DataFrame({"a": range(2500)})
    sizes = [len(b) for b in inv.split_batches(frame, 1000)]
    assert sizes == [1000, 1000, 500] and inv.batch_count(2500, 1000) == 3 and inv.batch_count(0, 1000) == 0


def test_item_outcomes_from_hook_results_by_index():
    class R:
        def __init__(self, index, ok, message=None, status="pass"):
            self.index, self.ok, self.message, self.status = index, ok, message, status

    items = [{"upc": "1"}, {"upc": "2"}, {"upc": "3"}]
    got = inv.item_outcomes(items, [R(0, True), R(2, False, "unknown SKU", "fail")])
    assert got == [(True, "pass"), (False, "JOOR did not report on this item"), (False, "unknown SKU")]
    raw = inv.item_outcomes(items[:1], [{"sku": "1", "status": "pass", "message": ""}])
    assert raw == [(True, "pass")]
