"""AmcHook against the AMC sandbox over real HTTP: paging, filters, errors, faults, orders, secrets."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest

from amc_joor.hooks.amc import AmcApiError, AmcAuthError, AmcHook, Filter
from amc_joor.hooks.http import RetryPolicy
from amc_joor.hooks.paging import PagingError
from amc_joor.models.amc import AmcOrderHeader, AmcProduct, AmcSku
from amc_joor_sandbox.connections import AMC_TOKEN

#: Real retry rules with short waits, so fault tests finish in seconds.
FAST = RetryPolicy(max_attempts=5, max_elapsed=30.0, backoff_initial=0.02, backoff_max=0.2, read_timeout=1.5,
                   rate_limit_max_wait=30.0)


def hook(conn_id: str, **kw) -> AmcHook:
    kw.setdefault("retry_policy", FAST)
    return AmcHook(conn_id, **kw)


def requests_seen(sandbox, key: str, expected: int) -> int:
    """The sandbox's request count for ``key`` (booked before each reply completes: no polling).

    ``expected`` is kept for the call sites' readability."""
    return sandbox.amc_admin.requests().get(key, 0)


def counts(sandbox) -> dict[str, int]:
    return sandbox.amc_admin.info()["counts"]


# --- paging ------------------------------------------------------------------------------------


@pytest.mark.parametrize("paging", ["page_number", "last_id", "auto"])
def test_every_sku_exactly_once_in_small_pages(amc_conn_id, fresh_sandbox, paging):
    skus = list(hook(amc_conn_id, page_size=7, paging=paging).iter_skus())
    assert all(isinstance(s, AmcSku) for s in skus)
    ids = [s.sku_id for s in skus]
    assert len(ids) == len(set(ids)) == counts(fresh_sandbox)["inventory"]


def test_composite_cursor_pages_sku_warehouse(amc_conn_id, fresh_sandbox):
    rows = list(hook(amc_conn_id, page_size=25, paging="last_id").iter_sku_stock())
    keys = {(r.sku_id, r.warehouse_id) for r in rows}
    assert len(keys) == len(rows) == counts(fresh_sandbox)["sku_warehouse"]


def test_auto_paging_follows_a_cursor_only_tenant(amc_conn_id, fresh_sandbox):
    fresh_sandbox.amc_admin.config(paging_styles="last_id")
    h = hook(amc_conn_id, page_size=9, paging="auto")
    ids = [p.product_id for p in h.iter_products()]
    assert len(ids) == len(set(ids)) == counts(fresh_sandbox)["products"]


def test_server_capping_the_page_size_is_not_a_short_page(amc_conn_id, fresh_sandbox):
    fresh_sandbox.amc_admin.config(max_page_size=10)
    ids = [s.sku_id for s in hook(amc_conn_id, page_size=50, paging="page_number").iter_skus()]
    assert len(ids) == len(set(ids)) == counts(fresh_sandbox)["inventory"]


def test_page_cap_raises_rather_than_truncating(amc_conn_id):
    with pytest.raises(PagingError, match="cap 3"):
        list(hook(amc_conn_id, page_size=5, max_pages=3).iter_skus())


def test_modified_since_filters_on_last_modified_time(amc_conn_id):
    h = hook(amc_conn_id, page_size=100)
    products = list(h.iter_products())
    stamps = sorted(p.last_modified_time for p in products)
    cut = stamps[len(stamps) // 2]
    recent = list(h.iter_products(modified_since=cut))
    assert {p.product_id for p in recent} == {p.product_id for p in products if p.last_modified_time >= cut}
    assert 0 < len(recent) < len(products)


def test_filters_and_lookups(amc_conn_id):
    h = hook(amc_conn_id)
    wh = h.list_warehouses()
    assert {w.name for w in wh} >= {"Main Warehouse"} and any(w.is_default for w in wh)
    assert all(c.rate is not None for c in h.list_currencies())
    assert h.list_divisions() and h.list_terms() and h.list_ship_methods()
    stock = list(h.iter_sku_stock(warehouse_id="1"))
    assert stock and {s.warehouse_id for s in stock} == {"1"}
    one = next(h.iter_products())
    assert [p.product_id for p in h.iter_products(style_numbers=[one.style_number])] == [one.product_id]
    rows = h.list_records("inventory", filters=[("product_id", "=", one.product_id)], fields=["sku_id", "size"])
    assert rows and all(set(r) == {"sku_id", "size"} for r in rows)
    cust = next(h.iter_customers())
    assert h.get_customer(cust.customer_id).customer_id == cust.customer_id
    assert h.get_customer("999999999") is None
    assert all(isinstance(p, AmcProduct) for p in h.iter_products(filters=[Filter("joor_sync", "=", "1")]))


# --- errors ------------------------------------------------------------------------------------


def test_meta_errors_under_http_200_raise(amc_conn_id):
    with pytest.raises(AmcApiError) as info:
        list(hook(amc_conn_id).iter_products(filters=[Filter("no_such_field", "=", "x")]))
    err = info.value
    assert err.status == 200 and err.kind == "api_error"
    assert "no_such_field" in str(err) and "/api/json/products" in str(err)
    assert AMC_TOKEN not in str(err)


def test_bad_token_is_a_clear_auth_error_without_the_token(fresh_sandbox, monkeypatch):
    import json

    from amc_joor_sandbox.connections import amc_connection

    conn = amc_connection(fresh_sandbox.amc_url)
    conn["password"] = "wrong-token-123456"
    monkeypatch.setenv("AIRFLOW_CONN_AMC_BAD", json.dumps(conn))
    h = hook("amc_bad")
    with pytest.raises(AmcAuthError) as info:
        h.list_warehouses()
    text = str(info.value)
    assert info.value.status == 401 and "HTML" in text and "wrong-token-123456" not in text
    ok, message = h.test_connection()
    assert ok is False and "401" in message and "wrong-token-123456" not in message


def test_test_connection_true_on_good_credentials(amc_conn_id):
    ok, message = hook(amc_conn_id).test_connection()
    assert ok is True, message


# --- faults ------------------------------------------------------------------------------------


def test_5xx_burst_is_retried(amc_conn_id, fresh_sandbox):
    fresh_sandbox.amc_admin.arm_fault("status", status=503, method="GET", path="/api/json/warehouses", count=3)
    assert len(hook(amc_conn_id).list_warehouses()) == 2
    assert requests_seen(fresh_sandbox, "GET /api/json/warehouses", 4) == 4


def test_persistent_5xx_gives_up_after_the_bounded_attempts(amc_conn_id, fresh_sandbox):
    fresh_sandbox.amc_admin.arm_fault("status", status=500, method="GET", path="/api/json/warehouses", count=50)
    with pytest.raises(AmcApiError) as info:
        hook(amc_conn_id).list_warehouses()
    assert info.value.status == 500 and info.value.attempts == FAST.max_attempts
    assert f"after {FAST.max_attempts} attempts" in str(info.value)
    assert requests_seen(fresh_sandbox, "GET /api/json/warehouses", FAST.max_attempts) == FAST.max_attempts


def test_429_waits_for_retry_after(amc_conn_id, fresh_sandbox):
    fresh_sandbox.amc_admin.arm_fault("status", status=429, retry_after=1, method="GET", path="/api/json/currencies")
    t0 = time.monotonic()
    assert hook(amc_conn_id).list_currencies()
    assert time.monotonic() - t0 >= 1.0


def test_429_storm_never_fails_within_the_bound(amc_conn_id, fresh_sandbox):
    # Eight 429s in a row (far more than max_attempts) still succeed: rate limiting is not a failure.
    fresh_sandbox.amc_admin.arm_fault("status", status=429, retry_after=0, method="GET", path="/api/json/terms",
                                      count=8)
    assert hook(amc_conn_id).list_terms()
    assert requests_seen(fresh_sandbox, "GET /api/json/terms", 9) == 9


def test_hang_past_the_read_timeout_is_retried(amc_conn_id, fresh_sandbox):
    fresh_sandbox.amc_admin.arm_fault("hang", seconds=4, method="GET", path="/api/json/divisions")
    t0 = time.monotonic()
    assert hook(amc_conn_id).list_divisions()
    assert 1.4 <= time.monotonic() - t0 < 4.0  # gave up on the hung request at the 1.5 s read timeout


def test_dropped_connection_is_retried(amc_conn_id, fresh_sandbox):
    fresh_sandbox.amc_admin.arm_fault("drop", method="GET", path="/api/json/warehouses", count=2)
    assert len(hook(amc_conn_id).list_warehouses()) == 2


def test_malformed_json_is_retried_as_transient(amc_conn_id, fresh_sandbox):
    fresh_sandbox.amc_admin.arm_fault("malformed", method="GET", path="/api/json/warehouses")
    assert len(hook(amc_conn_id).list_warehouses()) == 2


# --- orders ------------------------------------------------------------------------------------


def order_inputs(h: AmcHook, po: str) -> tuple[AmcOrderHeader, list[dict]]:
    cust = next(c for c in h.iter_customers() if c.division_id and c.warehouse_id and c.currency_id and c.ar_acct)
    sku = next(s for s in h.iter_skus() if s.active)
    header = AmcOrderHeader(customer_id=cust.customer_id, customer_po=po, source="JOOR",
                            date=datetime(2026, 3, 2, tzinfo=UTC).date())
    return header, [{"sku_id": sku.sku_id, "qty": 3, "unit_price": "10.50"}]


def test_create_order_and_find_it_by_joor_number(amc_conn_id):
    h = hook(amc_conn_id)
    assert h.find_order_by_joor_number("J-777001") is None
    header, items = order_inputs(h, "J-777001")
    order = h.create_order(header, items)
    assert order.order_id and order.customer_po == "J-777001"
    assert order.order_items[0].qty == 3 and str(order.order_items[0].amount) == "31.50"
    found = h.find_order_by_joor_number("J-777001")
    assert found is not None and found.order_id == order.order_id
    assert h.get_order(order.order_id).customer_po == "J-777001"
    assert [o.order_id for o in h.iter_orders(customer_po="J-777001")] == [order.order_id]


def test_create_order_validation_errors_come_back_per_message(amc_conn_id):
    h = hook(amc_conn_id)
    with pytest.raises(AmcApiError) as info:
        h.create_order({"customer_id": "424242", "customer_po": "J-1"}, [{"sku_id": "1", "qty": 1}])
    assert info.value.kind == "api_error" and "Invalid customer_id" in str(info.value)
    assert info.value.errors and not info.value.ambiguous


def test_order_create_dropped_after_commit_is_not_resent(amc_conn_id, fresh_sandbox):
    h = hook(amc_conn_id)
    header, items = order_inputs(h, "J-777002")
    fresh_sandbox.amc_admin.arm_fault("drop", phase="after", method="POST", path="/api/json/orders")
    with pytest.raises(AmcApiError) as info:
        h.create_order(header, items)
    assert info.value.ambiguous and info.value.kind == "connection"
    assert requests_seen(fresh_sandbox, "POST /api/json/orders", 1) == 1
    # the order flow's recovery: look it up instead of creating it again
    assert h.find_order_by_joor_number("J-777002") is not None
    assert sum(o.get("customer_po") == "J-777002" for o in fresh_sandbox.amc_admin.orders()) == 1


def test_order_create_5xx_after_commit_is_ambiguous(amc_conn_id, fresh_sandbox):
    h = hook(amc_conn_id)
    header, items = order_inputs(h, "J-777003")
    fresh_sandbox.amc_admin.arm_fault("commit_then_fail", method="POST", path="/api/json/orders")
    with pytest.raises(AmcApiError) as info:
        h.create_order(header, items)
    assert info.value.ambiguous and info.value.status == 500
    assert sum(o.get("customer_po") == "J-777003" for o in fresh_sandbox.amc_admin.orders()) == 1


def test_order_create_429_is_retried_even_when_unsafe(amc_conn_id, fresh_sandbox):
    h = hook(amc_conn_id)
    header, items = order_inputs(h, "J-777004")
    fresh_sandbox.amc_admin.arm_fault("status", status=429, retry_after=0, method="POST", path="/api/json/orders")
    assert h.create_order(header, items).customer_po == "J-777004"


def test_retry_unsafe_opt_in_resends_a_timed_out_write(amc_conn_id, fresh_sandbox):
    h = hook(amc_conn_id)
    header, items = order_inputs(h, "J-777005")
    fresh_sandbox.amc_admin.arm_fault("status", status=502, method="POST", path="/api/json/orders")
    assert h.create_order(header, items, retry_unsafe=True).customer_po == "J-777005"


# --- secrets and HttpHook compatibility ----------------------------------------------------------


def test_token_never_in_logs_or_errors(amc_conn_id, fresh_sandbox, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    h = hook(amc_conn_id, page_size=10)
    fresh_sandbox.amc_admin.arm_fault("status", status=503, method="GET", path="/api/json/products", count=2)
    list(h.iter_products())
    fresh_sandbox.amc_admin.arm_fault("status", status=500, method="GET", path="/api/json/terms", count=20)
    with pytest.raises(AmcApiError) as info:
        h.list_terms()
    header, items = order_inputs(h, "J-777006")
    h.create_order(header, items)
    with pytest.raises(AmcApiError) as info2:
        h.create_order({"customer_id": "x"}, [{"sku_id": "1", "qty": 1}])
    debug_lines = [r for r in caplog.records if r.levelno == logging.DEBUG and "AMC" in r.getMessage()]
    assert debug_lines, "request logs expected at DEBUG"
    out = capsys.readouterr()
    everything = caplog.text + out.out + out.err + str(info.value) + repr(info.value) + str(info2.value)
    assert AMC_TOKEN not in everything
    assert "token=***" in caplog.text  # urllib3's request line was there, redacted


def test_httphook_run_and_session_have_no_extras_as_headers(amc_conn_id):
    h = hook(amc_conn_id)
    env = h.run("warehouses", {"pagination[page_size]": "1"})
    assert len(env["response"]) == 1
    session = h.get_conn()
    assert "environment" not in {k.lower() for k in session.headers} and session.auth is None
