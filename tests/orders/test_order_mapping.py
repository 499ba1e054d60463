"""Pure mapping rules of the order pull (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from amc_joor.flows import order_mapping as om

CUSTOMERS = [
    {"customer_id": "2001", "account_number": "BLOO0001", "customer_name": "Bloom Boutique", "status": "Active",
     "division_id": "1", "warehouse_id": "1", "ar_acct": "1200", "terms_id": "1", "currency_id": "1",
     "joor_customer_code": "C-0001"},
    {"customer_id": "2002", "account_number": "IVY0002", "customer_name": "Ivy Shop", "status": "Active",
     "division_id": "", "warehouse_id": "1", "ar_acct": "1200", "terms_id": "1", "currency_id": "1",
     "joor_customer_code": "C-0002"},
    {"customer_id": "2003", "account_number": "DUNE0003", "customer_name": "Dune Co", "status": "Inactive",
     "division_id": "1", "warehouse_id": "1", "ar_acct": "1200", "terms_id": "1", "currency_id": "1",
     "joor_customer_code": "C-0003"},
    {"customer_id": "2004", "account_number": "X1", "customer_name": "Dup A", "status": "Active",
     "division_id": "1", "warehouse_id": "1", "ar_acct": "1200", "currency_id": "1", "joor_customer_code": "C-DUP"},
    {"customer_id": "2005", "account_number": "X2", "customer_name": "Dup B", "status": "Active",
     "division_id": "1", "warehouse_id": "1", "ar_acct": "1200", "currency_id": "1", "joor_customer_code": "C-DUP"},
]
SKUS = [
    {"sku_id": "100001", "style_number": "TP10000", "attr_2": "Navy", "size": "XL", "upc_display": "812345100001",
     "active": "1"},
    {"sku_id": "100002", "style_number": "TP10000", "attr_2": "Navy", "size": "S", "upc_display": "812345100002",
     "active": "1"},
    {"sku_id": "100003", "style_number": "TP10000", "attr_2": "Black", "size": "S", "upc_display": "812345100003",
     "active": "0"},
]
CURRENCIES = [{"id": "1", "name": "USD"}, {"id": "2", "name": "EUR"}]
LOCATIONS = [{"customer_id": "2001", "ship_to_id": "7", "name": "Bloom Boutique", "address_1": "9 Elm St",
              "postal_code": "10013", "country": "US"}]


@pytest.fixture
def lookups() -> om.Lookups:
    return om.Lookups.build(customers=CUSTOMERS, skus=SKUS, currencies=CURRENCIES, locations=LOCATIONS,
                            ship_methods=[{"id": "1", "name": "UPS Ground"}, {"id": "3", "name": "Freight LTL"}],
                            terms=[{"id": "1", "name": "Net 30"}, {"id": "2", "name": "Net 60"},
                                   {"id": "3", "name": "Credit Card"}])


def order(**kw) -> dict:
    base = {"id": "900001", "order_number": "J-1001", "status": "APPROVED", "customer_code": "C-0001",
            "currency_code": "USD", "date_approved": "2026-03-02T10:00:00Z", "start_ship_date": "2026-04-01",
            "complete_ship_date": "2026-04-30", "po_number": "PO-77", "shipping_method_code": "UPS_GROUND",
            "payment_method_code": "NET60", "last_modified": "2026-03-02T10:00:00Z", "warehouse": "Main Warehouse",
            "sales_rep_code": "REP-01", "billing_address": {"code": "C-0001-B"},
            "shipping_address": {"code": "C-0001-S99", "name": "Bloom NYC", "address_1": "1 Main St",
                                 "city": "New York", "state": "NY", "postal_code": "10012", "country": "US"}}
    base.update(kw)
    return base


def line(ext="100001", upc="", style="TP10000", color="Navy", size="XL", qty=3, cancelled=0, price="25.50"):
    return {"id": "l1", "order_id": "900001", "quantity": qty, "cancelled": cancelled,
            "line_item_sku": {"external_id": ext, "upc": upc, "wholesale_price": price,
                              "product": {"name": "Tee", "external_id": style},
                              "trait_values": [{"trait": {"id": om.COLOR_TRAIT_ID, "name": "Color"}, "value": color},
                                               {"trait": {"id": om.SIZE_TRAIT_ID, "name": "Size"}, "value": size}]}}


MS = om.MappingSettings()


def test_happy_path_maps_header_and_lines(lookups):
    plan = om.plan_order(order(), [line(qty=3), line(ext="100002", size="S", qty=2, price="10")], lookups, MS)
    assert plan.ok, plan.reasons
    h = plan.payload["header"]
    assert h["customer_po"] == "J-1001" and h["joor_id"] == "900001"
    assert h["customer_id"] == "2001" and h["division_id"] == "1" and h["warehouse_id"] == "1"
    assert h["ar_acct"] == "1200" and h["currency_id"] == "1" and h["source"] == "JOOR"
    assert h["date"] == "03/02/2026" and h["date_start"] == "04/01/2026" and h["date_due"] == "04/30/2026"
    assert h["ship_via"] == "1" and h["terms_id"] == "2"
    assert "Ship via UPS_GROUND" in h["notes"]
    assert h["city"] == "New York" and h["name"] == "Bloom NYC"
    assert "PO-77" in h["notes"]
    assert plan.payload["items"] == [
        {"sku_id": "100001", "qty": "3", "unit_price": "25.50", "amount": "76.50"},
        {"sku_id": "100002", "qty": "2", "unit_price": "10.00", "amount": "20.00"},
    ]


def test_settings_stamp_division_credit_status_and_warehouse(lookups):
    ms = om.MappingSettings(division="3", credit_status="Approved", warehouse="2")
    plan = om.plan_order(order(customer_code="C-0002"), [line()], lookups, ms)  # C-0002 has no division
    assert plan.ok, plan.reasons
    h = plan.payload["header"]
    assert (h["division_id"], h["credit_status"], h["warehouse_id"]) == ("3", "Approved", "2")


def test_sku_resolution_order_external_id_then_upc_then_style_color_size(lookups):
    by_upc = om.plan_order(order(), [line(ext="nope", upc="812345100002")], lookups, MS)
    assert by_upc.payload["items"][0]["sku_id"] == "100002"
    by_traits = om.plan_order(order(), [line(ext="", upc="", color="navy", size="S")], lookups, MS)
    assert by_traits.payload["items"][0]["sku_id"] == "100002"


def test_unknown_sku_reason_names_style_color_size(lookups):
    plan = om.plan_order(order(), [line(), line(ext="999", upc="", size="XXL")], lookups, MS)
    assert not plan.ok and plan.payload is None
    assert plan.reason.startswith("SKU TP10000-Navy-XXL not found in AMC")
    assert "external id 999" in plan.reason


def test_inactive_sku_fails(lookups):
    plan = om.plan_order(order(), [line(ext="100003", color="Black", size="S")], lookups, MS)
    assert "inactive in AMC" in plan.reason


def test_unknown_customer(lookups):
    plan = om.plan_order(order(customer_code="C-0042"), [line()], lookups, MS)
    assert plan.reason == "customer code C-0042 not found in AMC; set it as the JOOR code of the AMC customer"


@pytest.mark.parametrize(
    ("code", "expect"),
    [("C-0002", "has no default division"), ("C-0003", "is Inactive, not Active"), ("C-DUP", "matches 2 AMC customers")],
)
def test_customer_problems(lookups, code, expect):
    plan = om.plan_order(order(customer_code=code), [line()], lookups, MS)
    assert not plan.ok and expect in plan.reason


def test_account_number_fallback(lookups):
    plan = om.plan_order(order(customer_code="bloo0001"), [line()], lookups, MS)
    assert plan.ok and plan.payload["header"]["customer_id"] == "2001"


def test_cancelled_lines_and_quantities_are_left_out(lookups):
    plan = om.plan_order(order(), [line(qty=5, cancelled=2), line(ext="100002", size="S", cancelled=True)], lookups, MS)
    assert plan.ok
    assert [i["qty"] for i in plan.payload["items"]] == ["3"]
    assert plan.skipped_lines == 1
    none_open = om.plan_order(order(), [line(qty=2, cancelled=2)], lookups, MS)
    assert "no open lines" in none_open.reason


def test_required_fields_fail_with_reason_not_guess(lookups):
    plan = om.plan_order(order(billing_address={"code": ""}, shipping_method_code=None), [line()], lookups, MS)
    assert "missing shipping_method_code, billing_address.code on the JOOR order" in plan.reason
    no_code = om.plan_order(order(customer_code=""), [line()], lookups, MS)
    assert "missing customer_code" in no_code.reason


def test_unknown_currency(lookups):
    plan = om.plan_order(order(currency_code="JPY"), [line()], lookups, MS)
    assert "currency JPY is not set up in AMC" in plan.reason


def test_ship_to_location_by_code_or_address(lookups):
    plan = om.plan_order(order(shipping_address={"code": "7"}), [line()], lookups, MS)
    assert plan.payload["header"]["ship_to_id"] == "7"
    same = {"code": "C-0001-S7", "address_1": "9 elm st", "postal_code": "10013", "country": "US"}
    plan = om.plan_order(order(shipping_address=same), [line()], lookups, MS)
    assert plan.payload["header"]["ship_to_id"] == "7" and "address_1" not in plan.payload["header"]


def test_match_code_is_tolerant_but_never_ambiguous(lookups):
    assert om.match_code("UPS_GROUND", lookups.ship_methods) == "1"
    assert om.match_code("LTL", lookups.ship_methods) == "3"
    assert om.match_code("NET30", lookups.terms) == "1"
    assert om.match_code("CC", lookups.terms) == "3"
    assert om.match_code("NET", lookups.terms) is None  # Net 30 and Net 60: ambiguous
    assert om.match_code("PICKUP", lookups.ship_methods) is None


def test_amc_date_formats():
    assert om.amc_date("2026-12-31") == "12/31/2026"
    assert om.amc_date("2026-01-02T23:30:00Z") == "01/02/2026"
    assert om.amc_date(None) == ""


def test_candidate_rules():
    start = date(2026, 2, 1)
    w = om.Window()
    assert om.candidate_skip_reason(order(), "APPROVED", start, w) is None
    assert "not SHIPPED" in om.candidate_skip_reason(order(), "SHIPPED", start, w)
    assert "before the Start Date" in om.candidate_skip_reason(order(date_approved="2026-01-31T23:59:59Z"),
                                                                "APPROVED", start, w)
    rng = om.Window(approved_from=datetime(2026, 3, 2, 10, tzinfo=UTC), approved_to=datetime(2026, 3, 2, 11, tzinfo=UTC))
    assert om.candidate_skip_reason(order(), "APPROVED", start, rng) is None
    assert om.candidate_skip_reason(order(date_approved="2026-03-02T11:00:00Z"), "APPROVED", start, rng)


def test_edited_after_export():
    row = {"state": "exported", "joor_last_modified": "2026-03-02T10:00:00Z"}
    assert not om.edited_after_export(order(), row)
    assert om.edited_after_export(order(last_modified="2026-03-03T08:00:00Z"), row)
    assert not om.edited_after_export(order(last_modified="2026-03-03T08:00:00Z"), {"state": "imported"})


def test_required_fields_setting_narrows_the_list(lookups):
    from amc_joor.settings import IntegrationSettings

    ms = om.MappingSettings.from_settings(IntegrationSettings(order_required_fields=["order_number", "customer_code"]))
    assert om.plan_order(order(sales_rep_code=None, warehouse=None), [line()], lookups, ms).ok
    assert not om.plan_order(order(sales_rep_code=None), [line()], lookups, MS).ok
