"""Pure checks of the bad-value rules the end-to-end bad-input tests rely on (no servers)."""

from __future__ import annotations

from amc_joor.flows import customer_mapping as cm
from amc_joor.models.amc import REPLACEMENT_CHAR, garbled_fields, garbled_reason


def test_garbled_fields_walks_nested_records() -> None:
    record = {"name": "Caf" + REPLACEMENT_CHAR, "ok": "fine", "n": 3,
              "addr": {"city": REPLACEMENT_CHAR}, "lines": [{"sku": "1"}, {"sku": "x" + REPLACEMENT_CHAR}]}
    assert garbled_fields(record) == ["name", "addr.city", "lines[1].sku"]
    assert garbled_fields({"name": "Café"}) == []
    assert "name" in garbled_reason(["name"]) and "UTF-8" in garbled_reason(["name"])


def test_customer_watermark_ignores_a_time_that_does_not_parse() -> None:
    # before the fix: pendulum's ParserError escaped and the advance_watermark task failed
    seen = [("2026-11-01T00:00:00Z", True), ("19/11/2026 25:61", True)]
    assert cm.next_watermark(None, seen) == "2026-11-01T00:00:00Z"
    assert cm.next_watermark(None, [("garbage", False), ("2026-11-02T00:00:00Z", True)]) == "2026-11-02T00:00:00Z"


def test_customer_record_problems_name_the_field() -> None:
    problems = cm.record_problems({"customer_id": "7", "customer_name": "A" + REPLACEMENT_CHAR,
                                   "last_modified_time": "yesterday"},
                                  [{"ship_to_id": "3", "city": REPLACEMENT_CHAR}])
    assert "customer_name" in problems[0] and "ship-to 3 city" in problems[0]
    assert "last_modified_time 'yesterday'" in problems[1]
    assert cm.record_problems({"customer_name": "Zoë", "last_modified_time": "2026-11-01T00:00:00Z"}) == []


def test_decimal_comma_is_refused_never_read_as_thousands() -> None:
    import pytest

    from amc_joor.flows import catalog_mapping as catm
    from amc_joor.models.amc import parse_decimal

    assert str(parse_decimal("1,234.50")) == "1234.50" and str(catm.parse_decimal("1,234", "p")) == "1234"
    for bad in ("12,50", "1,2345", "12,5"):
        with pytest.raises(ValueError, match="decimal comma"):
            parse_decimal(bad)
        with pytest.raises(ValueError, match="decimal comma"):
            catm.parse_decimal(bad, "wholesale price")


def test_inventory_unreadable_quantity_is_rejected_not_zeroed() -> None:
    import pandas as pd

    from amc_joor.flows import inventory as inv

    values = pd.Series(["12.000", "-3", "", None, "1,200", "lots", "12,5"])
    assert inv.clean_quantity(values).tolist() == [12, 0, 0, 0, 1200, 0, 0]
    assert inv.unreadable_quantity(values).tolist() == [False, False, False, False, False, True, True]
    stock = pd.DataFrame({"sku_id": ["1", "2"], "qty_avail_sell": ["5", "lots"]})
    skus = pd.DataFrame({"sku_id": ["1", "2"], "upc": ["0001", "0002"], "style_number": ["S", "S"],
                         "color_code": ["B", "B"], "size": ["M", "L"]})
    delta = inv.plan_delta(inv.current_stock(stock, skus, "qty_avail_sell"),
                           pd.DataFrame({"sku_id": [], "content_hash": []}), "Main Warehouse")
    assert delta.to_send["sku_id"].tolist() == ["1"]
    assert delta.rejected.to_dict("records") == [{"sku_id": "2", "reason": "the stock value 'lots' is not a number"}]


def test_lenient_validation_keeps_the_record_and_names_the_bad_values() -> None:
    import pytest
    from pydantic import ValidationError

    from amc_joor.models.joor import INVALID_FIELDS, JoorLineItem, JoorOrder, validate_lenient

    order = validate_lenient(JoorOrder, {"id": "7", "order_number": "100", "discount": "lots",
                                         "start_ship_date": "31/12/2026", "status": "APPROVED"})
    assert order.id == "7" and order.status == "APPROVED" and order.discount is None
    bad = order.model_dump(mode="json")[INVALID_FIELDS]
    assert any(b.startswith("discount 'lots'") for b in bad) and any("start_ship_date '31/12/2026'" in b for b in bad)
    line = validate_lenient(JoorLineItem, {"id": "1", "quantity": "3", "line_item_sku": {"wholesale_price": "12,50"}})
    assert line.quantity == 3 and "line_item_sku.wholesale_price '12,50'" in line.model_dump()[INVALID_FIELDS][0]
    assert INVALID_FIELDS not in validate_lenient(JoorOrder, {"id": "8"}).model_dump()
    with pytest.raises(ValidationError):  # strict validation is unchanged for everything else
        JoorOrder.model_validate({"id": "7", "discount": "lots"})


def test_order_plan_fails_negative_and_unreadable_lines_instead_of_dropping_them() -> None:
    from amc_joor.flows import order_mapping as om

    lines = [{"id": "1", "quantity": -3, "line_item_sku": {"external_id": "100001"}},
             {"id": "2", "quantity": None, "invalid_fields": ["quantity 'lots': not a decimal"],
              "line_item_sku": {"external_id": "100002"}}]
    reasons = om.unreadable_values({"id": "9", "comments": "ok"}, lines)
    assert any("quantity -3 is negative" in r for r in reasons)
    assert any("quantity 'lots'" in r for r in reasons)
    assert om.unreadable_values({"id": "9", "comments": "Zo\ufffd"}, [])[0].startswith("comments on the JOOR order")
