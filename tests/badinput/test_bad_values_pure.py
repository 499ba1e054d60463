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
