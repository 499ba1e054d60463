"""Pure-logic tests of the customer mapping, validation, watermark and SLA arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from amc_joor.flows import customer_mapping as cm

CURRENCIES = {"1": "USD", "2": "EUR"}
PRICE_TYPES = [
    {"id": "pt1", "name": "USD-1", "currency_code": "USD"},
    {"id": "pt2", "name": "EUR-1", "currency_code": "EUR"},
    {"id": "pt3", "name": "Wholesale EUR", "currency_code": "EUR"},
]


def cust(cid: str, code: str, **kw) -> dict:
    row = {
        "customer_id": cid, "customer_name": f"Store {cid}", "joor_customer_code": code,
        "currency_id": "1", "price_group": "Wholesale USD", "email": f"b{cid}@x.example",
        "phone": "+1-555-100-2000", "address_1": "1 Main St", "address_2": "", "city": "Austin",
        "state": "TX", "postal_code": "78701", "country": "US",
        "last_modified_time": f"2026-03-0{int(cid) % 9 + 1}T10:00:00Z",
    }
    row.update(kw)
    return row


def loc(cid: str, ship: str, **kw) -> dict:
    row = {"customer_id": cid, "ship_to_id": ship, "name": f"Ship {ship}", "address_1": "2 Elm St",
           "address_2": "", "city": "Austin", "state": "TX", "postal_code": "78701", "country": "US"}
    row.update(kw)
    return row


def plan(customers, locations=(), price_types=PRICE_TYPES, only=None):
    return cm.plan_customers(customers, locations, CURRENCIES, price_types, "USD", only)


def test_maps_every_field_with_address_codes():
    p = plan([cust("1", "C-1", contact_name="Ann", buyer_name="Bea", sales_rep_code="R7")],
             [loc("1", "11"), loc("1", "10")])
    assert not p.failures
    (rec,) = p.records
    pay = rec["payload"]
    assert pay["customer_code"] == "C-1" and pay["customer_name"] == "Store 1"
    assert pay["customer_contact_name"] == "Ann" and pay["customer_buyer_name"] == "Bea"
    assert pay["customer_contact_email"] == "b1@x.example" and pay["customer_phone"] == "+1-555-100-2000"
    assert pay["sales_rep_code"] == "R7"
    assert (pay["currency"], pay["price_label"]) == ("USD", "USD-1")
    assert pay["billing_address"]["code"] == "1"
    assert [a["code"] for a in pay["shipping_addresses"]] == ["10", "11"]
    assert pay["shipping_addresses"][0]["postal_code"] == "78701"


def test_missing_code_skipped_and_counted():
    p = plan([cust("1", ""), cust("2", "  "), cust("3", "C-3")])
    assert p.skipped_no_code == ["1", "2"]
    assert [r["key"] for r in p.records] == ["C-3"]
    assert not p.failures


def test_duplicate_code_reported_neither_sent():
    p = plan([cust("1", "C-1"), cust("2", "c-1"), cust("3", "C-3")])
    assert [r["key"] for r in p.records] == ["C-3"]
    assert p.duplicate_codes == {"C-1": ["1", "2"]}
    assert {f.amc_customer_id for f in p.failures} == {"1", "2"}
    assert all("used by AMC customers 1, 2" in f.reason for f in p.failures)


def test_duplicate_with_customer_not_read_this_run():
    p = cm.plan_customers([cust("2", "C-1"), cust("3", "C-3")], [], CURRENCIES, PRICE_TYPES, "USD",
                          code_owners={"c-1": ["1", "2"], "c-3": ["3"]})
    assert [r["key"] for r in p.records] == ["C-3"]
    assert p.duplicate_codes == {"C-1": ["1", "2"]}
    assert [f.amc_customer_id for f in p.failures] == ["2"]


def test_length_errors_are_per_customer_and_name_the_field():
    p = plan([cust("1", "C" * 51), cust("2", "C-2", customer_name="N" * 101), cust("3", "C-3", customer_name=""),
              cust("4", "C-4")])
    reasons = {f.amc_customer_id: f.reason for f in p.failures}
    assert "customer_code is 51 characters, JOOR allows at most 50" in reasons["1"]
    assert "customer_name is 101 characters, JOOR allows at most 100" in reasons["2"]
    assert "customer_name is required" in reasons["3"]
    assert [r["key"] for r in p.records] == ["C-4"]


def test_address_length_error():
    p = plan([cust("1", "C-1")], [loc("1", "5", city="X" * 51)])
    assert "shipping_address 5 city is 51 characters" in p.failures[0].reason


def test_price_type_by_currency_group_breaks_ties_mismatch_reported():
    p = plan([cust("1", "C-1", currency_id="3"), cust("2", "C-2", currency_id="2", price_group="Wholesale EUR"),
              cust("3", "C-3", currency_id="2", price_group="Other")], )
    assert [(r["key"], r["payload"]["price_label"]) for r in p.records] == [("C-2", "Wholesale EUR"), ("C-3", "EUR-1")]
    # currency id 3 is unknown to AMC here
    assert "not in AMC /currencies" in p.failures[0].reason
    cur = dict(CURRENCIES, **{"3": "GBP"})
    p = cm.plan_customers([cust("1", "C-1", currency_id="3")], [], cur, PRICE_TYPES, "USD")
    assert "currency GBP / price group Wholesale USD matches no JOOR price type" in p.failures[0].reason
    # without price types known, no check, the group is the label
    p = plan([cust("1", "C-1", price_group="Retail")], price_types=None)
    assert p.records[0]["payload"]["price_label"] == "Retail"


def test_missing_currency_falls_back_to_default_unknown_fails():
    p = plan([cust("1", "C-1", currency_id=""), cust("2", "C-2", currency_id="99")])
    assert [r["payload"]["currency"] for r in p.records] == ["USD"]
    assert "not in AMC /currencies" in p.failures[0].reason


def test_only_codes_filter_and_unknown_code():
    p = plan([cust("1", "C-1"), cust("2", "C-2")], only=["c-2", "C-9"])
    assert [r["key"] for r in p.records] == ["C-2"]
    assert p.failures[0].key == "c-9" and "no AMC customer" in p.failures[0].reason


def test_hash_stable_and_sensitive():
    a = plan([cust("1", "C-1")]).records[0]["content_hash"]
    assert a == plan([cust("1", "C-1")]).records[0]["content_hash"]
    assert a != plan([cust("1", "C-1", email="new@x.example")]).records[0]["content_hash"]


def test_csv_rows_one_per_ship_to():
    p = plan([cust("1", "C-1"), cust("2", "C-2")], [loc("1", "10"), loc("1", "11")])
    rows = cm.csv_rows(p.records)
    assert [r["shipping_code"] for r in rows] == ["10", "11", ""]
    assert all(list(r) == list(cm.CSV_COLUMNS) for r in rows)
    assert rows[0]["billing_code"] == "1" and rows[2]["customer_code"] == "C-2"


def test_chunk():
    assert cm.chunk(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError):
        cm.chunk([1], 0)


def test_watermark_never_passes_unacknowledged():
    seen = [("2026-03-01T00:00:00Z", True), ("2026-03-02T00:00:00Z", False), ("2026-03-03T00:00:00Z", True)]
    assert cm.next_watermark(None, seen) == "2026-03-02T00:00:00Z"
    assert cm.next_watermark(None, [(t, True) for t, _ in seen]) == "2026-03-03T00:00:00Z"
    # never backwards
    assert cm.next_watermark("2026-03-05T00:00:00Z", seen) == "2026-03-05T00:00:00Z"
    assert cm.next_watermark("2026-03-05T00:00:00Z", []) == "2026-03-05T00:00:00Z"


def test_business_days_over_a_weekend_and_holiday():
    fri = "2026-12-04T10:00:00Z"  # a Friday
    assert cm.add_business_days(fri, 1).to_iso8601_string().startswith("2026-12-07T10:00")  # Monday
    assert cm.add_business_days(fri, 3).to_iso8601_string().startswith("2026-12-09T10:00")  # Wednesday
    assert cm.add_business_days(fri, 3, [date(2026, 12, 8)]).to_iso8601_string().startswith("2026-12-10")
    sat = "2026-12-05T15:00:00Z"
    assert cm.add_business_days(sat, 1).to_iso8601_string().startswith("2026-12-08T00:00")
    assert cm.business_days_elapsed(fri, "2026-12-07T09:00:00Z") == 0
    assert cm.business_days_elapsed(fri, "2026-12-07T10:00:00Z") == 1


def test_sla_status():
    fri = "2026-12-04T10:00:00Z"
    mon = cm.sla_status("C-1", fri, "2026-12-07T08:00:00Z", 3)
    assert not mon.breached and mon.business_days_pending == 0
    wed = cm.sla_status("C-1", fri, "2026-12-09T10:00:00Z", 3)
    assert not wed.breached and wed.business_days_pending == 3
    late = cm.sla_status("C-1", fri, "2026-12-09T10:00:01Z", 3)
    assert late.breached
    assert "after 3 business day(s)" in cm.breach_reason(late, 3)


def test_now_override(monkeypatch):
    monkeypatch.setenv(cm.NOW_ENV, "2026-12-07T08:00:00Z")
    assert cm.now_utc().to_iso8601_string() == "2026-12-07T08:00:00Z"
    monkeypatch.delenv(cm.NOW_ENV)
    assert cm.now_utc().year >= 2026
