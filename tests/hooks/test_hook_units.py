"""Pure-logic unit tests: AMC/JOOR model parsing, paging state machines, retry helpers, bulk mapping."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from amc_joor.hooks.amc import Filter, encode_filters, modified_since_filter
from amc_joor.hooks.http import (
    RedactQueryFilter,
    RetryPolicy,
    backoff_delay,
    redact,
    redact_text,
    redact_url,
    retry_after_seconds,
    scrub,
)
from amc_joor.hooks.joor import chunks, map_bulk_results
from amc_joor.hooks.paging import AmcPager, JoorV2Pager, JoorV4Pager, PagingError
from amc_joor.models.amc import (
    AmcCurrency,
    AmcCustomer,
    AmcLookup,
    AmcOrderHeader,
    AmcProduct,
    AmcSku,
    AmcSkuStock,
    order_item_wire,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
)
from amc_joor.models.joor import JoorOrder, JoorSku

# --- AMC models: strings become proper types --------------------------------------------------


def test_amc_product_parses_string_values():
    p = AmcProduct.model_validate({
        "product_id": 1001, "style_number": "ST-1", "price": "51.00", "retail_price": "1,120.50",
        "is_product": "1", "joor_sync": "0", "last_modified_time": "2026-03-20T15:10:00Z",
        "images": [{"img": "/a.png", "colorway": "", "is_swatch": "1"}],
        "price_groups": [{"price_group": "Wholesale EUR", "currency_id": "2", "price": "46.92"}],
        "brand_new_field": "kept",
    })
    assert p.product_id == "1001" and p.price == Decimal("51.00") and p.retail_price == Decimal("1120.50")
    assert p.is_product is True and p.joor_sync is False
    assert p.last_modified_time == datetime(2026, 3, 20, 15, 10, tzinfo=UTC)
    assert p.images[0].colorway is None and p.images[0].is_swatch is True
    assert p.price_groups[0].price == Decimal("46.92")
    assert p.model_extra == {"brand_new_field": "kept"}


def test_amc_blank_strings_become_none_and_quantities_ints():
    sku = AmcSku.model_validate({"sku_id": "100001", "qty_inventory": "12", "qty_avail_sell": "",
                                 "size_position": "3", "active": "1", "upc_display": ""})
    assert sku.qty_inventory == 12 and sku.qty_avail_sell is None and sku.upc_display is None
    stock = AmcSkuStock.model_validate({"sku_id": "1", "warehouse_id": "1", "qty_avail_sell": "-2"})
    assert stock.stock("qty_avail_sell") == -2 and stock.stock("qty_inventory") == 0


def test_amc_parsers_reject_garbage_instead_of_guessing():
    with pytest.raises(ValueError):
        parse_int("7.5")
    with pytest.raises(ValueError):
        parse_bool("maybe")
    with pytest.raises(ValueError):
        parse_decimal("12,3x")
    assert parse_int("7.0") == 7 and parse_bool("true") is True and parse_bool(" 0 ") is False
    assert parse_decimal(0.1) == Decimal("0.1")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-01T09:00:00Z", datetime(2026, 11, 1, 9, tzinfo=UTC)),
        ("2026-11-01T10:00:00+01:00", datetime(2026, 11, 1, 9, tzinfo=UTC)),
        ("2026-11-01 09:00:00", datetime(2026, 11, 1, 9, tzinfo=UTC)),
        ("11/01/2026", datetime(2026, 11, 1, tzinfo=UTC)),
        ("0000-00-00 00:00:00", None),
        ("", None),
    ],
)
def test_amc_datetimes(raw, expected):
    assert parse_datetime(raw) == expected


def test_amc_document_dates_and_order_wire_format():
    assert parse_date("03/02/2026") == date(2026, 3, 2) and parse_date("2026-03-02") == date(2026, 3, 2)
    header = AmcOrderHeader(customer_id=2001, customer_po="100001", date="03/02/2026", date_due=date(2026, 4, 1))
    wire = header.to_wire()
    assert wire == {"customer_id": "2001", "customer_po": "100001", "date": "03/02/2026", "date_due": "04/01/2026"}
    assert order_item_wire({"sku_id": 5, "qty": "2", "unit_price": "10.25"}) == {
        "sku_id": "5", "qty": 2, "unit_price": "10.25", "amount": "20.50"}


def test_amc_lookups_and_customers():
    assert AmcLookup.model_validate({"division_id": "3", "division_name": "Mens"}).model_dump(
        include={"id", "name"}) == {"id": "3", "name": "Mens"}
    cur = AmcCurrency.model_validate({"id": "2", "name": "EUR", "is_default": "0", "rate": "0.92",
                                      "last_updated": "2026-11-01T09:00:00Z"})
    assert cur.rate == Decimal("0.92") and cur.is_default is False
    c = AmcCustomer.model_validate({"customer_id": "2001", "joor_customer_code": "C-0001", "terms_id": ""})
    assert c.joor_customer_code == "C-0001" and c.terms_id is None


def test_joor_models():
    order = JoorOrder.model_validate({"id": "5001", "order_number": 100001, "total": "150.70",
                                      "date_approved": "2026-01-02T10:00:00Z", "start_ship_date": "2026-02-01",
                                      "export_status": None, "custom": 1})
    assert order.order_number == "100001" and order.total == Decimal("150.70")
    assert order.start_ship_date == date(2026, 2, 1) and order.line_items == [] and order.model_extra == {"custom": 1}
    sku = JoorSku.model_validate({"id": "x", "trait_values": [{"trait_id": "C", "value": "Red"}],
                                  "identifiers": [{"type": "upc", "value": "0123"}]})
    assert sku.trait("C") == "Red" and sku.upc == "0123"


# --- AMC filters and paging -------------------------------------------------------------------


def test_filters_encode_php_brackets():
    since = datetime(2026, 11, 1, tzinfo=UTC)
    enc = encode_filters([*modified_since_filter(since), Filter("customer_po", "=", "J-1", "OR")])
    assert enc == {
        "parameters[0][field]": "last_modified_time", "parameters[0][operator]": ">=",
        "parameters[0][value]": "2026-11-01T00:00:00Z",
        "parameters[1][field]": "customer_po", "parameters[1][operator]": "=", "parameters[1][value]": "J-1",
        "parameters[1][include_type]": "OR",
    }
    with pytest.raises(ValueError):
        Filter("x", "LIKE", "y")


def rows(*ids):
    return [{"id": str(i)} for i in ids]


def key(r):
    return r["id"]


def test_amc_pager_page_numbers_stop_on_short_page_and_total_pages():
    p = AmcPager(page_size=2, style="page_number", key=key)
    assert p.next_params() == {"pagination[page_size]": "2", "pagination[page_number]": "1"}
    assert p.advance(rows(1, 2), {"page_number": 1, "total_pages": 3}).more
    assert p.next_params()["pagination[page_number]"] == "2"
    assert p.advance(rows(3, 4), {"page_number": 2, "total_pages": 2}).more is False  # last page
    q = AmcPager(page_size=2, style="page_number", key=key)
    assert q.advance(rows(1), {}).reason == "short page"
    assert AmcPager(page_size=2, key=key).advance([], {}).reason == "empty page"


def test_amc_pager_uses_the_page_size_the_server_says_it_used():
    p = AmcPager(page_size=50, style="page_number", key=key)
    assert p.advance(rows(*range(10)), {"page_number": 1, "page_size": 10, "total_pages": 3}).more


def test_amc_pager_stuck_page_number_and_repeated_records():
    p = AmcPager(page_size=2, style="page_number", key=key)
    p.advance(rows(1, 2), {"page_number": 1, "total_pages": 5})
    out = p.advance(rows(1, 2), {"page_number": 1, "total_pages": 5})  # server ignored page 2
    assert out.stuck and not out.more and out.records == []
    q = AmcPager(page_size=2, style="page_number", key=key)
    q.advance(rows(1, 2), {})
    out = q.advance(rows(2, 3), {})  # one repeat, one new: keep going, never yield 2 twice
    assert [r["id"] for r in out.records] == ["3"] and out.more


def test_amc_pager_cursor_stuck_and_auto_switch():
    p = AmcPager(page_size=2, style="last_id", key=key)
    assert p.next_params()["pagination[last_id]"] == "0"
    assert p.advance(rows(1, 2), {"last_id": "2"}).more
    assert p.next_params()["pagination[last_id]"] == "2"
    out = p.advance(rows(3, 4), {"last_id": "2"})  # cursor did not move
    assert out.stuck and [r["id"] for r in out.records] == ["3", "4"] and not out.more
    a = AmcPager(page_size=2, style="auto", key=key)
    assert "pagination[page_number]" in a.next_params()
    assert a.advance(rows(1, 2), {"last_id": "2", "page_size": 2}).more
    assert a.next_params()["pagination[last_id]"] == "2"


def test_amc_pager_cap_raises():
    p = AmcPager(page_size=1, style="page_number", max_pages=2, key=key)
    for i in (1, 2):
        p.next_params()
        p.advance(rows(i), {"total_pages": 9})
    with pytest.raises(PagingError):
        p.next_params()


def test_joor_pagers():
    v2 = JoorV2Pager(count=2)
    assert v2.next_params() == {"start_from": "0", "count": "2"}
    assert v2.advance(2, 2).more and v2.start_from == 2
    assert not v2.advance(2, None).more
    assert JoorV2Pager(start_from=4).advance(2, 4).stuck
    v4 = JoorV4Pager(page_size=2)
    assert v4.advance(2, {"total": 5}, ["a", "b"]).more and v4.page == 2
    assert v4.advance(2, {"total": 5}, ["a", "b"]).stuck  # same records again
    assert not JoorV4Pager(page_size=2).advance(2, {"total": 2}).more
    with pytest.raises(ValueError):
        JoorV4Pager(page_size=500)


# --- retry / redaction helpers ----------------------------------------------------------------


def test_backoff_is_exponential_jittered_and_capped():
    policy = RetryPolicy(backoff_initial=1.0, backoff_max=8.0)
    for attempt, cap in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)):
        delays = [backoff_delay(attempt, policy) for _ in range(50)]
        assert all(cap / 2 <= d <= cap for d in delays) and len(set(delays)) > 1


def test_retry_after_parsing():
    assert retry_after_seconds({"Retry-After": "7"}, 5) == 7
    assert retry_after_seconds({"X-RateLimit-Reset": "3"}, 5) == 3
    assert retry_after_seconds({}, 5) == 5
    assert 0 <= retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 5) <= 0.001


def test_redaction():
    assert redact_url("http://h/api/json/products?token=abc&time=1") == "/api/json/products"
    assert redact({"token": "abc", "nested": [{"client_secret": "s", "ok": "v"}]}) == {
        "token": "***", "nested": [{"client_secret": "***", "ok": "v"}]}
    assert scrub("bad token abcdef given", ["abcdef"]) == "bad token *** given"
    assert redact_text('"GET /x?pagination%5Bn%5D=1&token=abc-123&time=9 HTTP/1.1"') == (
        '"GET /x?pagination%5Bn%5D=1&token=***&time=9 HTTP/1.1"')
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, "f", 1, '%s "%s"', ("h", "GET /?token=zz"),
                               None)
    RedactQueryFilter().filter(record)
    assert "zz" not in record.getMessage()


# --- JOOR bulk mapping -----------------------------------------------------------------------


def test_bulk_results_map_back_to_every_input_item():
    items = [{"external_id": "A"}, {"external_id": "B"}, {"external_id": "C"}, {"external_id": "D"}]
    data = [{"id": "1", "external_id": "A"}, {"id": "3", "external_id": "C"}]
    errors = [
        {"status": "DUPLICATED", "message": "exists", "details": {"index": 1, "external_id": "B", "id": "9"}},
        {"status": "INVALID", "message": "name is required", "details": {"index": 3}},
    ]
    res = map_bulk_results(items, data, errors, offset=500)
    assert [(r.index, r.ok, r.id, r.error_code) for r in res] == [
        (500, True, "1", None), (501, False, "9", "DUPLICATED"), (502, True, "3", None), (503, False, None, "INVALID")]
    assert res[1].duplicated and res[1].get("error_code") == "DUPLICATED"


def test_bulk_results_never_assume_success():
    res = map_bulk_results([{"external_id": "A"}, {"external_id": "B"}], [{"id": "1", "external_id": "B"}], [])
    assert [(r.ok, r.error_code) for r in res] == [(False, "NO_RESULT"), (True, None)]


def test_chunks():
    assert [(o, list(b)) for o, b in chunks(list(range(5)), 2)] == [(0, [0, 1]), (2, [2, 3]), (4, [4])]
