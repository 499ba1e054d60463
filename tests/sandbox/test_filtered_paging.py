"""Filtered page-number paging: O(page) per page (cached match list) and never stale.

Why: AMC clients page filtered reads by page number (``/sku_warehouse`` for one warehouse);
re-running the filter over the whole table per page made one warehouse of ``large`` take
~20 s for 151 pages. The match list is cached per (resource, filter) and data version.
"""

from __future__ import annotations

import time

import httpx
import pytest

from amc_joor_sandbox import amc_state
from amc_joor_sandbox.amc_state import AmcState, parse_brackets
from amc_joor_sandbox.connections import AMC_TOKEN
from amc_joor_sandbox.datasets import build_amc

WH1 = {"parameters[0][field]": "warehouse_id", "parameters[0][operator]": "=", "parameters[0][value]": "1"}


def query(page: int, size: int, **extra: str) -> dict:
    items = {**WH1, "pagination[page_size]": str(size), "pagination[page_number]": str(page), **extra}
    return parse_brackets(list(items.items()))


def test_pages_after_the_first_do_not_rescan_the_table(monkeypatch) -> None:
    calls = {"n": 0}
    real = amc_state.combine

    def counting(conditions):
        test = real(conditions)
        if test is None:
            return None

        def counted(row):
            calls["n"] += 1
            return test(row)

        return counted

    monkeypatch.setattr(amc_state, "combine", counting)
    state = AmcState(build_amc("small", 1), lambda: __import__("datetime").datetime.now(amc_state.UTC))
    table = len(state.data.sku_warehouse)
    first, meta = state.find("sku_warehouse", query(1, 10))
    assert calls["n"] == table and meta["total_records"] > 10  # the first page filters once
    second, meta2 = state.find("sku_warehouse", query(2, 10))
    assert calls["n"] == table  # later pages: no row tested again
    assert meta2["total_records"] == meta["total_records"] and first[-1] is not second[0]
    assert all(r["warehouse_id"] == "1" for r in first + second)
    # any mutation invalidates: the next page filters again, over the changed data
    state.set_stock(second[0]["sku_id"], "1", {"qty_inventory": 3})
    state.find("sku_warehouse", query(3, 10))
    assert calls["n"] == 2 * table


@pytest.fixture
def amc(fresh_sandbox):
    with httpx.Client(base_url=fresh_sandbox.amc_url, timeout=30, trust_env=False) as http:
        yield http


def page(http: httpx.Client, number: int, size: int, params: dict[str, str]) -> dict:
    q = {"token": AMC_TOKEN, "time": str(int(time.time())), "pagination[page_size]": size,
         "pagination[page_number]": number, **params}
    body = http.get("/api/json/sku_warehouse", params=q).json()
    assert body["meta"]["errors"] == [], body["meta"]
    return body


def test_filtered_pages_see_changes_made_between_pages(amc, fresh_sandbox) -> None:
    low = {"parameters[0][field]": "qty_inventory", "parameters[0][operator]": "<", "parameters[0][value]": "5"}
    first = page(amc, 1, 5, low)
    total = first["meta"]["pagination"]["total_records"]
    all_before = [r for n in range(1, first["meta"]["pagination"]["total_pages"] + 1)
                  for r in page(amc, n, 5, low)["response"]]
    assert len(all_before) == total and all(int(r["qty_inventory"]) < 5 for r in all_before)
    # a user receives stock for the first matching row: it leaves the filter
    gone = all_before[0]
    fresh_sandbox.amc_admin.set_stock(gone["sku_id"], gone["warehouse_id"], qty_inventory=50)
    # and a new style adds zero-stock rows (they join it)
    added = fresh_sandbox.amc_admin.add_style(style_number="ZZ-PAGING", colors=[{"name": "Black", "code": "BLK"}],
                                              sizes=["S", "M"])
    after_first = page(amc, 1, 5, low)
    n_wh = len(amc.get("/api/json/warehouses", params={"token": AMC_TOKEN, "time": str(int(time.time()))}
                       ).json()["response"])
    assert after_first["meta"]["pagination"]["total_records"] == total - 1 + len(added["skus"]) * n_wh
    all_after = [r for n in range(1, after_first["meta"]["pagination"]["total_pages"] + 1)
                 for r in page(amc, n, 5, low)["response"]]
    keys = [(r["sku_id"], r["warehouse_id"]) for r in all_after]
    assert (gone["sku_id"], gone["warehouse_id"]) not in keys and len(keys) == len(set(keys))
    assert keys == sorted(keys, key=lambda k: (int(k[0]), int(k[1])))
