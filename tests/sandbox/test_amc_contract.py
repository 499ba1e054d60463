"""The AMC sandbox over real HTTP: the contract of shared/reference/amc-api.md and the admin API."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import time
import zlib
from typing import Any

import httpx
import pytest

from amc_joor_sandbox.datasets import RESOURCES, upc_is_valid
from amc_joor_sandbox.testing import READY_RE, start_sandbox, stop_process

TOKEN = "amc-sandbox-token"
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class Amc:
    """A deliberately raw AMC client: tests see exactly what goes over the wire."""

    def __init__(self, sandbox: Any) -> None:
        self.sb = sandbox
        self.http = httpx.Client(base_url=sandbox.amc_url, timeout=30)
        self.clock_offset = 0.0

    def creds(self, **override: Any) -> dict[str, Any]:
        creds = {"token": TOKEN, "time": str(int(time.time() + self.clock_offset))}
        creds.update(override)
        return {k: v for k, v in creds.items() if v is not None}

    def get(self, path: str, params: dict[str, Any] | None = None, **creds: Any) -> httpx.Response:
        return self.http.get(f"/api/json/{path}", params={**self.creds(**creds), **(params or {})})

    def ok(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.get(path, params)
        assert resp.status_code == 200, resp.text[:300]
        body = resp.json()
        assert body["meta"]["errors"] == [], body["meta"]
        return body

    def all_rows(self, path: str, page_size: int = 1000, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in range(1, 500):
            body = self.ok(path, {"pagination[page_size]": page_size, "pagination[page_number]": page, **params})
            rows += body["response"]
            if len(body["response"]) < page_size:
                return rows
        raise AssertionError("paging did not end")

    def order(self, header: dict[str, Any], items: list[dict[str, Any]], **creds: Any) -> httpx.Response:
        return self.http.post("/api/json/orders", json={**self.creds(**creds), "header": header, "items": items})


@pytest.fixture
def amc(fresh_sandbox) -> Amc:
    client = Amc(fresh_sandbox)
    yield client
    client.http.close()


def filt(*conds: tuple[str, str, str] | tuple[str, str, str, str]) -> dict[str, str]:
    """``parameters[i][...]`` query items from (field, operator, value[, include_type])."""
    out: dict[str, str] = {}
    for i, cond in enumerate(conds):
        out[f"parameters[{i}][field]"] = cond[0]
        out[f"parameters[{i}][operator]"] = cond[1]
        out[f"parameters[{i}][value]"] = cond[2]
        if len(cond) > 3:
            out[f"parameters[{i}][include_type]"] = cond[3]
    return out


def good_customer(amc: Amc) -> dict[str, Any]:
    return amc.ok("customers/2001")["response"][0]


def active_skus(amc: Amc, n: int = 2) -> list[dict[str, Any]]:
    rows = amc.ok("inventory", filt(("active", "=", "1")))["response"]
    return rows[:n]


# --------------------------------------------------------------------------- auth


def test_bad_or_missing_token_is_401_html_without_the_token(amc: Amc) -> None:
    for creds in ({"token": "wrong-token-value"}, {"token": None}):
        resp = amc.get("products", **creds)
        assert resp.status_code == 401
        assert resp.headers["content-type"].startswith("text/html")
        assert "<html" in resp.text.lower()
        assert "wrong-token-value" not in resp.text and TOKEN not in resp.text
        with pytest.raises(json.JSONDecodeError):
            json.loads(resp.text)


def test_time_skew_over_300s_is_refused(amc: Amc) -> None:
    now = int(time.time())
    assert amc.get("warehouses", time=str(now - 250)).status_code == 200
    assert amc.get("warehouses", time=str(now + 250)).status_code == 200
    assert amc.get("warehouses", time=str(now - 400)).status_code == 401
    assert amc.get("warehouses", time=str(now + 400)).status_code == 401
    assert amc.get("warehouses", time=None).status_code == 401
    assert amc.get("warehouses", time="yesterday").status_code == 401


def test_time_follows_the_moved_sandbox_clock(amc: Amc, fresh_sandbox) -> None:
    fresh_sandbox.amc_admin.advance_clock(3600)
    assert amc.get("warehouses").status_code == 401
    amc.clock_offset = 3600
    assert amc.get("warehouses").status_code == 200


def test_write_credentials_must_be_in_the_body(amc: Amc, fresh_sandbox) -> None:
    sku = active_skus(amc, 1)[0]
    body = {"header": {"customer_id": "2001"}, "items": [{"sku_id": sku["sku_id"], "qty": 1}]}
    resp = amc.http.post("/api/json/orders", params=amc.creds(), json=body)
    assert resp.status_code == 401 and resp.headers["content-type"].startswith("text/html")
    assert fresh_sandbox.amc_admin.orders() == []
    assert amc.order({"customer_id": "2001"}, body["items"], token="nope").status_code == 401
    assert amc.order({"customer_id": "2001"}, body["items"], time=str(int(time.time()) - 1000)).status_code == 401
    assert fresh_sandbox.amc_admin.orders() == []


def test_token_is_configurable_and_reset_restores_it(amc: Amc, fresh_sandbox) -> None:
    cfg = fresh_sandbox.amc_admin.config(token="rotated-token")
    assert "rotated-token" not in json.dumps(cfg)
    assert amc.get("warehouses").status_code == 401
    assert amc.get("warehouses", token="rotated-token").status_code == 200
    fresh_sandbox.reset()
    assert amc.get("warehouses").status_code == 200


# --------------------------------------------------------------------------- envelope and values


def test_envelope_and_get_by_id_is_an_array(amc: Amc) -> None:
    body = amc.ok("products")
    assert set(body) == {"response", "meta"}
    assert set(body["meta"]) == {"pagination", "errors"}
    one = amc.ok("products/1001")
    assert isinstance(one["response"], list) and len(one["response"]) == 1
    assert one["response"][0]["product_id"] == "1001"
    assert amc.ok("products/999999")["response"] == []
    stock = amc.ok("sku_warehouse/100001")["response"]
    assert {r["warehouse_id"] for r in stock} == {"1", "2"}


@pytest.mark.parametrize("resource", sorted(set(RESOURCES) - {"orders"}))
def test_every_resource_answers_with_exact_string_typed_fields(amc: Amc, resource: str) -> None:
    rows = amc.ok(resource, {"pagination[page_size]": 20})["response"]
    assert rows, resource
    fields, _ = RESOURCES[resource]
    for row in rows:
        assert tuple(row) == fields
        for key, value in row.items():
            if isinstance(value, list):
                assert all(isinstance(v, str) for item in value for v in item.values())
            else:
                assert isinstance(value, str), (resource, key, value)
        if "last_modified_time" in row:
            assert TS_RE.match(row["last_modified_time"])


# --------------------------------------------------------------------------- paging


def test_page_number_paging_covers_everything_once(amc: Amc) -> None:
    first = amc.ok("inventory", {"pagination[page_size]": 50, "pagination[page_number]": 1})
    meta = first["meta"]["pagination"]
    total = meta["total_records"]
    assert meta["page_number"] == 1 and meta["page_size"] == 50
    assert meta["total_pages"] == (total + 49) // 50
    seen: list[str] = []
    for page in range(1, meta["total_pages"] + 1):
        rows = amc.ok("inventory", {"pagination[page_size]": 50, "pagination[page_number]": page})["response"]
        assert len(rows) == (50 if page < meta["total_pages"] else total - 50 * (page - 1))
        seen += [r["sku_id"] for r in rows]
    assert len(seen) == len(set(seen)) == total
    beyond = amc.ok("inventory", {"pagination[page_size]": 50, "pagination[page_number]": meta["total_pages"] + 1})
    assert beyond["response"] == []


def test_last_id_paging_covers_everything_once_and_stops(amc: Amc) -> None:
    everything = {r["sku_id"] for r in amc.all_rows("inventory")}
    seen: list[str] = []
    cursor = "0"
    for _ in range(100):
        body = amc.ok("inventory", {"pagination[page_size]": 40, "pagination[last_id]": cursor})
        rows = body["response"]
        new_cursor = body["meta"]["pagination"]["last_id"]
        if not rows:
            assert new_cursor == cursor  # an empty page does not move the cursor
            break
        assert new_cursor == rows[-1]["sku_id"]
        seen += [r["sku_id"] for r in rows]
        cursor = new_cursor
    assert len(seen) == len(set(seen)) and set(seen) == everything


def test_last_id_paging_on_the_composite_stock_key(amc: Amc) -> None:
    total = amc.ok("sku_warehouse", {"pagination[page_size]": 1})["meta"]["pagination"]["total_records"]
    seen: set[tuple[str, str]] = set()
    cursor = ""
    for _ in range(50):
        body = amc.ok("sku_warehouse", {"pagination[page_size]": 75, "pagination[last_id]": cursor})
        if not body["response"]:
            break
        seen |= {(r["sku_id"], r["warehouse_id"]) for r in body["response"]}
        cursor = body["meta"]["pagination"]["last_id"]
    assert len(seen) == total


def test_bad_paging_is_an_error_under_200_and_size_is_capped(amc: Amc, fresh_sandbox) -> None:
    resp = amc.get("products", {"pagination[page_size]": "-5"})
    assert resp.status_code == 200 and resp.json()["meta"]["errors"] and resp.json()["response"] == []
    fresh_sandbox.amc_admin.config(max_page_size=25)
    body = amc.ok("inventory", {"pagination[page_size]": 500})
    assert len(body["response"]) == 25 and body["meta"]["pagination"]["page_size"] == 25


# --------------------------------------------------------------------------- filters


def test_filters_equal_contains_numeric_and_or(amc: Amc) -> None:
    products = amc.all_rows("products")
    target = products[3]
    got = amc.ok("products", filt(("style_number", "=", target["style_number"])))["response"]
    assert [p["product_id"] for p in got] == [target["product_id"]]
    word = target["description"].split()[-1]
    got = amc.ok("products", filt(("description", "contains", word.upper())))["response"]
    assert {p["product_id"] for p in got} == {p["product_id"] for p in products if word.lower() in p["description"].lower()}
    got = amc.ok("products", filt(("price", ">", "60")))["response"]
    assert {p["product_id"] for p in got} == {p["product_id"] for p in products if float(p["price"]) > 60}
    got = amc.ok("products", filt(("price", ">=", "40"), ("price", "<=", "80", "AND")))["response"]
    assert {p["product_id"] for p in got} == {p["product_id"] for p in products if 40 <= float(p["price"]) <= 80}
    a, b = products[0]["style_number"], products[1]["style_number"]
    got = amc.ok("products", filt(("style_number", "=", a), ("style_number", "=", b, "OR")))["response"]
    assert {p["style_number"] for p in got} == {a, b}


def test_last_modified_time_filter_in_several_spellings(amc: Amc) -> None:
    products = amc.all_rows("products")
    cut = sorted(p["last_modified_time"] for p in products)[len(products) // 2]
    expected = {p["product_id"] for p in products if p["last_modified_time"] >= cut}
    day = cut[:10]
    for spelling in (cut, cut.replace("T", " ").rstrip("Z"), cut[:-1] + "+00:00"):
        got = amc.ok("products", filt(("last_modified_time", ">=", spelling)))["response"]
        assert {p["product_id"] for p in got} == expected, spelling
    got = amc.ok("products", filt(("last_modified_time", "<", day)))["response"]
    assert {p["product_id"] for p in got} == {p["product_id"] for p in products if p["last_modified_time"] < day}


def test_filter_errors_come_back_under_200(amc: Amc) -> None:
    for params in (filt(("no_such_field", "=", "1")), filt(("price", "~", "1")),
                   filt(("last_modified_time", ">=", "not a date"))):
        resp = amc.get("products", params)
        assert resp.status_code == 200
        body = resp.json()
        assert body["response"] == [] and body["meta"]["errors"], params


# --------------------------------------------------------------------------- orders


def test_order_create_find_and_stock_effect(amc: Amc, fresh_sandbox) -> None:
    skus = active_skus(amc, 2)
    before = amc.ok(f"sku_warehouse/{skus[0]['sku_id']}")["response"]
    before_wh1 = next(r for r in before if r["warehouse_id"] == "1")
    header = {"customer_id": "2001", "customer_po": "JOOR-5001", "joor_id": "5001", "source": "JOOR",
              "date": "12/01/2026", "date_start": "12/15/2026", "date_due": "01/15/2027", "warehouse_id": "1"}
    items = [{"sku_id": skus[0]["sku_id"], "qty": 3, "unit_price": "20.00", "amount": "60.00"},
             {"sku_id": skus[1]["sku_id"], "qty": "2", "unit_price": "15.50", "amount": "31.00"}]
    resp = amc.order(header, items)
    assert resp.status_code == 200
    body = resp.json()
    assert body["meta"]["errors"] == []
    created = body["response"][0]
    assert set(created) >= {"order_id", "credit_status", "order_items"}
    assert [i["sku_id"] for i in created["order_items"]] == [skus[0]["sku_id"], skus[1]["sku_id"]]
    assert created["amount"] == "91.00" and created["qty"] == "5"
    assert TS_RE.match(created["last_modified_time"])
    order_id = created["order_id"]
    assert amc.ok(f"orders/{order_id}")["response"][0]["customer_po"] == "JOOR-5001"
    for field, value in (("customer_po", "JOOR-5001"), ("joor_id", "5001"), ("source", "JOOR")):
        assert [o["order_id"] for o in amc.ok("orders", filt((field, "=", value)))["response"]] == [order_id]
    assert amc.ok("orders", filt(("customer_po", "=", "JOOR-404")))["response"] == []
    recent = amc.ok("orders", filt(("last_modified_time", ">=", created["last_modified_time"])))["response"]
    assert [o["order_id"] for o in recent] == [order_id]
    assert [o["order_id"] for o in fresh_sandbox.amc_admin.orders()] == [order_id]
    after_wh1 = next(r for r in amc.ok(f"sku_warehouse/{skus[0]['sku_id']}")["response"] if r["warehouse_id"] == "1")
    assert int(after_wh1["qty_open_sales"]) == int(before_wh1["qty_open_sales"]) + 3
    assert int(after_wh1["qty_avail_sell"]) == int(before_wh1["qty_avail_sell"]) - 3


def test_order_defaults_come_from_the_customer(amc: Amc) -> None:
    customer = good_customer(amc)
    sku = active_skus(amc, 1)[0]
    created = amc.order({"customer_id": "2001"}, [{"sku_id": sku["sku_id"], "qty": 1}]).json()["response"][0]
    for field in ("division_id", "warehouse_id", "ar_acct", "currency_id"):
        assert created[field] == customer[field]
    product = amc.ok(f"products/{sku['product_id']}")["response"][0]
    group_price = next(g["price"] for g in product["price_groups"] if g["price_group"] == customer["price_group"])
    assert created["order_items"][0]["unit_price"] == group_price


def _flawed_customer(amc: Amc, field: str) -> dict[str, Any]:
    return next(c for c in amc.all_rows("customers") if c[field] == "")


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("unknown_customer", "customer"),
        ("no_division", "division"),
        ("no_currency", "currency"),
        ("no_warehouse", "warehouse"),
        ("qty_zero", "qty"),
        ("qty_negative", "qty"),
        ("qty_fraction", "qty"),
        ("qty_text", "qty"),
        ("unknown_sku", "sku"),
        ("inactive_sku", "inactive"),
        ("one_bad_line", "sku"),
        ("no_items", "item"),
        ("bad_date", "date"),
        ("unknown_warehouse", "warehouse"),
        ("unknown_terms", "terms"),
        ("foreign_ship_to", "ship_to"),
    ],
)
def test_order_failures_create_nothing(amc: Amc, fresh_sandbox, case: str, expect: str) -> None:
    good = active_skus(amc, 1)[0]["sku_id"]
    header: dict[str, Any] = {"customer_id": "2001", "customer_po": f"PO-{case}"}
    items: list[dict[str, Any]] = [{"sku_id": good, "qty": 1, "unit_price": "10.00"}]
    if case == "unknown_customer":
        header["customer_id"] = "999999"
    elif case.startswith("no_") and case != "no_items":
        header["customer_id"] = _flawed_customer(amc, case[3:] + "_id")["customer_id"]
    elif case.startswith("qty_"):
        items[0]["qty"] = {"qty_zero": 0, "qty_negative": -2, "qty_fraction": 2.5, "qty_text": "two"}[case]
    elif case == "unknown_sku":
        items[0]["sku_id"] = "999999"
    elif case == "inactive_sku":
        fresh_sandbox.amc_admin.edit("inventory", good, active="0")
    elif case == "one_bad_line":
        items.append({"sku_id": "999999", "qty": 1})
    elif case == "no_items":
        items = []
    elif case == "bad_date":
        header["date"] = "2026-12-01"
    elif case == "unknown_warehouse":
        header["warehouse_id"] = "77"
    elif case == "unknown_terms":
        header["terms_id"] = "77"
    elif case == "foreign_ship_to":
        header["ship_to_id"] = next(loc["ship_to_id"] for loc in amc.all_rows("locations") if loc["customer_id"] != "2001")
    resp = amc.order(header, items)
    assert resp.status_code == 200
    body = resp.json()
    assert body["response"] == []
    assert any(expect in e.lower() for e in body["meta"]["errors"]), body["meta"]["errors"]
    assert fresh_sandbox.amc_admin.orders() == []
    assert amc.ok("orders", filt(("customer_po", "=", f"PO-{case}")))["response"] == []


def test_header_can_supply_what_the_customer_lacks(amc: Amc) -> None:
    flawed = _flawed_customer(amc, "division_id")
    sku = active_skus(amc, 1)[0]
    resp = amc.order({"customer_id": flawed["customer_id"], "division_id": "1"}, [{"sku_id": sku["sku_id"], "qty": 1}])
    assert resp.json()["meta"]["errors"] == []
    assert resp.json()["response"][0]["division_id"] == "1"


def test_ship_to_fills_the_order_address(amc: Amc) -> None:
    location = next(loc for loc in amc.all_rows("locations") if loc["customer_id"] == "2002")
    sku = active_skus(amc, 1)[0]
    resp = amc.order({"customer_id": "2002", "ship_to_id": location["ship_to_id"]}, [{"sku_id": sku["sku_id"], "qty": 1}])
    created = resp.json()["response"][0]
    assert (created["name"], created["city"], created["postal_code"]) == (
        location["name"], location["city"], location["postal_code"])


def test_unsupported_writes_answer_errors_under_200(amc: Amc) -> None:
    resp = amc.http.put("/api/json/orders/70001", json={**amc.creds(), "header": {}})
    assert resp.status_code == 200 and resp.json()["meta"]["errors"]
    resp = amc.http.post("/api/json/products", json={**amc.creds(), "style_number": "X"})
    assert resp.status_code == 200 and resp.json()["meta"]["errors"]


# --------------------------------------------------------------------------- images


def test_images_are_absolute_urls_serving_real_pngs(amc: Amc, fresh_sandbox) -> None:
    product = next(p for p in amc.all_rows("products") if p["images"])
    url = product["images"][0]["img"]
    assert url.startswith(fresh_sandbox.amc_url + "/images/")
    resp = httpx.get(url, timeout=10)
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    data = resp.content
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    width, height = struct.unpack(">II", data[16:24])
    assert kind == b"IHDR" and (width, height) == (32, 32)
    assert zlib.crc32(data[12:16 + length]) == struct.unpack(">I", data[16 + length:20 + length])[0]
    colorway = amc.ok("product_attributes", filt(("product_id", "=", product["product_id"])))["response"][0]
    assert httpx.get(colorway["images"][1]["img"], timeout=10).status_code == 200
    assert httpx.get(fresh_sandbox.amc_url + "/images/nope.png", timeout=10).status_code == 404


# --------------------------------------------------------------------------- admin: stats, faults, config


def test_stats_count_requests_per_route(amc: Amc, fresh_sandbox) -> None:
    for _ in range(3):
        amc.ok("products")
    amc.ok("products/1001")
    amc.get("inventory", token="bad")
    requests = fresh_sandbox.amc_admin.requests()
    assert requests["GET /api/json/products"] == 3
    assert requests["GET /api/json/products/{record_id}"] == 1
    assert requests["GET /api/json/inventory"] == 1
    assert fresh_sandbox.amc_admin.stats()["statuses"]["401"] == 1
    fresh_sandbox.reset()
    assert fresh_sandbox.amc_admin.requests() == {}


def test_status_faults_fire_n_times_then_clear(amc: Amc, fresh_sandbox) -> None:
    fresh_sandbox.amc_admin.arm_fault("status", status=503, count=2, method="GET", path="/api/json/products")
    assert amc.get("inventory").status_code == 200  # other paths untouched
    assert amc.get("products").status_code == 503
    assert amc.get("products").status_code == 503
    assert amc.get("products").status_code == 200
    for status in (500, 502):
        fresh_sandbox.amc_admin.arm_fault("status", status=status)
        assert amc.get("warehouses").status_code == status


def test_429_with_retry_after(amc: Amc, fresh_sandbox) -> None:
    fresh_sandbox.amc_admin.arm_fault("status", status=429, retry_after=7, path="/api/json/")
    resp = amc.get("products")
    assert resp.status_code == 429 and resp.headers["retry-after"] == "7"


def test_hang_then_answer(amc: Amc, fresh_sandbox) -> None:
    fresh_sandbox.amc_admin.arm_fault("hang", seconds=1.5, path="/api/json/warehouses")
    started = time.monotonic()
    assert amc.get("warehouses").status_code == 200
    assert time.monotonic() - started >= 1.4
    fresh_sandbox.amc_admin.arm_fault("hang", seconds=5, path="/api/json/warehouses")
    with pytest.raises(httpx.ReadTimeout):
        amc.http.get("/api/json/warehouses", params=amc.creds(), timeout=1.0)


def test_dropped_connection_and_malformed_json(amc: Amc, fresh_sandbox) -> None:
    fresh_sandbox.amc_admin.arm_fault("drop", path="/api/json/products")
    with pytest.raises(httpx.TransportError):
        amc.get("products")
    fresh_sandbox.amc_admin.arm_fault("malformed", path="/api/json/products")
    resp = amc.get("products")
    assert resp.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.text)
    assert amc.get("products").status_code == 200


def test_commit_then_fail_creates_the_order_and_answers_500(amc: Amc, fresh_sandbox) -> None:
    fresh_sandbox.amc_admin.arm_fault("commit_then_fail", method="POST", path="/api/json/orders")
    sku = active_skus(amc, 1)[0]
    resp = amc.order({"customer_id": "2001", "customer_po": "JOOR-777"}, [{"sku_id": sku["sku_id"], "qty": 1}])
    assert resp.status_code == 500
    found = amc.ok("orders", filt(("customer_po", "=", "JOOR-777")))["response"]
    assert len(found) == 1
    assert len(fresh_sandbox.amc_admin.orders()) == 1


def test_hang_fault_on_a_create_the_client_gave_up_on_creates_nothing(amc: Amc, fresh_sandbox) -> None:
    """The generic hang waits *before* the handler reads the body: once the client is gone, nothing."""
    fresh_sandbox.amc_admin.arm_fault("hang", seconds=2, method="POST", path="/api/json/orders")
    sku = active_skus(amc, 1)[0]
    with pytest.raises(httpx.ReadTimeout):
        amc.http.post("/api/json/orders", timeout=0.5, json={
            **amc.creds(), "header": {"customer_id": "2001", "customer_po": "JOOR-H0"}, "items": [
                {"sku_id": sku["sku_id"], "qty": 1}]})
    time.sleep(2.5)
    assert fresh_sandbox.amc_admin.orders() == []


@pytest.mark.parametrize("commit", ["before", "after"])
def test_orders_create_delay_commits_even_when_the_client_gave_up(amc: Amc, fresh_sandbox, commit: str) -> None:
    """``orders_create_delay``: the order is committed before (reply late) or after (AMC slow) the
    delay, whether or not the client is still waiting; it applies to ``count`` creates."""
    fresh_sandbox.amc_admin.config(orders_create_delay={"seconds": 1.5, "commit": commit})
    sku = active_skus(amc, 1)[0]
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        amc.http.post("/api/json/orders", timeout=0.5, json={
            **amc.creds(), "header": {"customer_id": "2001", "customer_po": "JOOR-D1"}, "items": [
                {"sku_id": sku["sku_id"], "qty": 1}]})
    seen_early = len(fresh_sandbox.amc_admin.orders())
    assert seen_early == (1 if commit == "before" else 0)
    deadline = time.monotonic() + 5
    while not fresh_sandbox.amc_admin.orders() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [o["customer_po"] for o in fresh_sandbox.amc_admin.orders()] == ["JOOR-D1"]
    if commit == "after":
        assert time.monotonic() - started >= 1.4
    assert fresh_sandbox.amc_admin.config()["orders_create_delay"] is None  # count 1: used up
    quick = amc.order({"customer_id": "2001", "customer_po": "JOOR-D2"}, [{"sku_id": sku["sku_id"], "qty": 1}])
    assert quick.status_code == 200 and quick.json()["response"][0]["customer_po"] == "JOOR-D2"
    for bad in ({"seconds": -1}, {"seconds": 1, "commit": "never"}, {"seconds": 1, "count": 0}, 5):
        with pytest.raises(Exception, match="orders_create_delay"):
            fresh_sandbox.amc_admin.config(orders_create_delay=bad)


def test_configured_rate_limit_answers_429(amc: Amc, fresh_sandbox) -> None:
    fresh_sandbox.amc_admin.config(rate_limit={"requests_per_second": 3, "retry_after": 2})
    statuses = [amc.get("warehouses") for _ in range(8)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and all(r.headers["retry-after"] == "2" for r in limited)
    assert statuses[0].status_code == 200
    with pytest.raises(Exception, match="unknown config keys"):
        fresh_sandbox.amc_admin.config(rate_limt=1)
    fresh_sandbox.reset()
    assert all(amc.get("warehouses").status_code == 200 for _ in range(8))


def test_paging_style_can_be_restricted(amc: Amc, fresh_sandbox) -> None:
    fresh_sandbox.amc_admin.config(paging_styles="page_number")
    body = amc.ok("inventory", {"pagination[last_id]": "100010", "pagination[page_size]": 5})
    assert "total_records" in body["meta"]["pagination"] and body["response"][0]["sku_id"] == "100001"


# --------------------------------------------------------------------------- admin: the AMC user's edits


def test_edit_style_bumps_last_modified_only_on_real_change(amc: Amc, fresh_sandbox) -> None:
    before = amc.ok("products/1002")["response"][0]
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2))
    fresh_sandbox.amc_admin.edit_style("1002", description=before["description"])
    assert amc.ok("products/1002")["response"][0]["last_modified_time"] == before["last_modified_time"]
    fresh_sandbox.amc_admin.edit_style("1002", description="Renamed Linen Shirt", web_title="")
    after = amc.ok("products/1002")["response"][0]
    assert after["description"] == "Renamed Linen Shirt" and after["web_title"] == ""
    assert after["last_modified_time"] >= started
    changed = amc.ok("products", filt(("last_modified_time", ">=", started)))["response"]
    assert [p["product_id"] for p in changed] == ["1002"]
    with pytest.raises(Exception, match="unknown products fields"):
        fresh_sandbox.amc_admin.edit_style("1002", colour="red")
    with pytest.raises(Exception, match="404"):
        fresh_sandbox.amc_admin.edit_style("999999", description="x")


def test_colorway_sync_flag_flows_to_skus_and_bumps_the_style(amc: Amc, fresh_sandbox) -> None:
    colorway = amc.ok("product_attributes", filt(("joor_sync", "=", "1")))["response"][0]
    before = amc.ok(f"products/{colorway['product_id']}")["response"][0]["last_modified_time"]
    fresh_sandbox.amc_admin.edit("product_attributes", colorway["id"], joor_sync="0")
    skus = amc.ok("inventory", filt(("product_id", "=", colorway["product_id"]),
                                    ("attr_2", "=", colorway["attribute_2"], "AND")))["response"]
    assert skus and all(s["joor_sync"] == "0" for s in skus)
    assert amc.ok(f"products/{colorway['product_id']}")["response"][0]["last_modified_time"] > before


def test_stock_change_moves_warehouse_row_and_sku_totals(amc: Amc, fresh_sandbox) -> None:
    rows = amc.ok("sku_warehouse/100003")["response"]
    wh2 = next(r for r in rows if r["warehouse_id"] == "2")
    out = fresh_sandbox.amc_admin.set_stock("100003", "2", qty_inventory=int(wh2["qty_inventory"]) + 10)
    assert out["sku_warehouse"]["qty_avail_sell"] == str(int(wh2["qty_avail_sell"]) + 10)
    rows = amc.ok("sku_warehouse/100003")["response"]
    sku = amc.ok("inventory/100003")["response"][0]
    for field in ("qty_inventory", "qty_avail_sell", "qty_avail_alloc", "qty_open_sales"):
        assert int(sku[field]) == sum(int(r[field]) for r in rows)
    fresh_sandbox.amc_admin.set_stock("100003", "1", qty_avail_sell=-4)
    assert amc.ok("sku_warehouse/100003")["response"][0]["qty_avail_sell"] == "-4"
    with pytest.raises(Exception, match="404"):
        fresh_sandbox.amc_admin.set_stock("999999", "1", qty_inventory=1)


def test_fx_rate_change(amc: Amc, fresh_sandbox) -> None:
    before = amc.ok("currencies/2")["response"][0]
    fresh_sandbox.amc_admin.set_rate("2", "0.95")
    after = amc.ok("currencies/2")["response"][0]
    assert after["rate"] == "0.95" and after["last_updated"] > before["last_updated"]
    with pytest.raises(Exception, match="rate"):
        fresh_sandbox.amc_admin.set_rate("2", "-1")


def test_create_and_edit_customer(amc: Amc, fresh_sandbox) -> None:
    created = fresh_sandbox.amc_admin.create_customer(
        customer_name="New Wave Boutique", joor_customer_code="C-9001", division_id="1", warehouse_id="1",
        ar_acct="1200", currency_id="1", price_group="Wholesale USD")
    row = amc.ok(f"customers/{created['customer_id']}")["response"][0]
    assert row["joor_customer_code"] == "C-9001" and tuple(row) == RESOURCES["customers"][0]
    fresh_sandbox.amc_admin.edit_customer(created["customer_id"], email="buyer@newwave.example")
    assert amc.ok(f"customers/{created['customer_id']}")["response"][0]["email"] == "buyer@newwave.example"
    sku = active_skus(amc, 1)[0]
    assert amc.order({"customer_id": created["customer_id"]}, [{"sku_id": sku["sku_id"], "qty": 1}]).json()["response"]


def test_add_style_creates_skus_with_valid_upcs(amc: Amc, fresh_sandbox) -> None:
    out = fresh_sandbox.amc_admin.add_style("TP99001", [{"name": "Black", "code": "BLK"}, {"name": "Sage", "code": "SGE"}],
                                            ["XS", "S", "M"], description="Easy Poplin Shirt", season="Fall 2026",
                                            price="42.00")
    pid = out["product"]["product_id"]
    skus = amc.ok("inventory", filt(("product_id", "=", pid)))["response"]
    assert len(skus) == 6 and all(upc_is_valid(s["upc_display"]) for s in skus)
    all_upcs = [s["upc_display"] for s in amc.all_rows("inventory")]
    assert len(all_upcs) == len(set(all_upcs))
    product = amc.ok(f"products/{pid}")["response"][0]
    assert tuple(product) == RESOURCES["products"][0] and len(product["price_groups"]) == 4


def test_reset_restores_data_and_can_switch_seed(amc: Amc, fresh_sandbox) -> None:
    original = amc.ok("products/1001")["response"][0]
    fresh_sandbox.amc_admin.edit_style("1001", description="Changed")
    fresh_sandbox.amc_admin.reset(seed=2)
    other = amc.ok("products/1001")["response"][0]
    assert other["style_number"] != original["style_number"] or other["description"] != original["description"]
    fresh_sandbox.reset()
    assert amc.ok("products/1001")["response"][0] == original


# --------------------------------------------------------------------------- the CLI process


def test_state_file_survives_a_restart(tmp_path) -> None:
    state = tmp_path / "sandbox-state.json"
    with start_sandbox("small", seed=3, state=str(state)) as sb:
        client = Amc(sb)
        sku = active_skus(client, 1)[0]
        created = client.order({"customer_id": "2001", "customer_po": "PERSIST-1"}, [{"sku_id": sku["sku_id"], "qty": 1}])
        order_id = created.json()["response"][0]["order_id"]
        sb.amc_admin.edit_style("1001", description="Persisted Name")
        client.http.close()
    assert sb.process.returncode == 0 and state.exists()
    with start_sandbox("small", seed=3, state=str(state)) as sb2:
        client = Amc(sb2)
        assert client.ok("orders", filt(("customer_po", "=", "PERSIST-1")))["response"][0]["order_id"] == order_id
        assert client.ok("products/1001")["response"][0]["description"] == "Persisted Name"
        client.http.close()


def test_serve_prints_ready_line_and_stops_cleanly_on_sigint() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "amc_joor_sandbox", "serve", "--amc-port", "0", "--joor-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not READY_RE.search(line):
            line = proc.stdout.readline()
        match = READY_RE.search(line)
        assert match, line
        assert match.group(1).startswith("http://127.0.0.1:") and match.group(2).startswith("http://127.0.0.1:")
        assert httpx.get(match.group(2) + "/_sandbox/stats", timeout=5).status_code == 200
        proc.send_signal(2)
        assert proc.wait(timeout=15) == 0
    finally:
        stop_process(proc)


@pytest.mark.slow
def test_large_dataset_serves_within_budget() -> None:
    started = time.monotonic()
    with start_sandbox("large", seed=1, timeout=90) as sb:
        ready = time.monotonic() - started
        client = Amc(sb)
        t0 = time.monotonic()
        page = client.ok("inventory", {"pagination[page_size]": 1000, "pagination[last_id]": "200000"})
        page_s = time.monotonic() - t0
        t0 = time.monotonic()
        filtered = client.ok("inventory", filt(("last_modified_time", ">=", "2026-11-01T00:00:00Z")))
        filter_s = time.monotonic() - t0
        print(f"\nlarge sandbox ready in {ready:.1f}s; 1000-row cursor page {page_s * 1000:.0f} ms; "
              f"lmt filter over all SKUs {filter_s * 1000:.0f} ms ({filtered['meta']['pagination']['total_records']} rows)")
        assert len(page["response"]) == 1000
        client.http.close()
    assert ready < 30
