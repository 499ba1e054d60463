"""Pure logic of the AMC sandbox's query language (bracket params, filters, cursors)."""

from __future__ import annotations

import pytest

from amc_joor_sandbox.amc_state import (
    Condition,
    QueryError,
    combine,
    normalize_ts,
    parse_brackets,
    parse_query,
)


def test_parse_brackets_nests_php_style_keys() -> None:
    parsed = parse_brackets([
        ("token", "t"), ("pagination[page_size]", "5"), ("parameters[1][field]", "b"),
        ("parameters[0][field]", "a"), ("parameters[0][operator]", ">="), ("ids[]", "x"), ("ids[]", "y"),
    ])
    assert parsed == {"token": "t", "pagination": {"page_size": "5"},
                      "parameters": {"1": {"field": "b"}, "0": {"field": "a", "operator": ">="}},
                      "ids": {"0": "x", "1": "y"}}


@pytest.mark.parametrize("text", ["2026-11-01T00:00:00Z", "2026-11-01 00:00:00", "2026-11-01T00:00:00+00:00",
                                  "2026-11-01", "2026-10-31T19:00:00-05:00"])
def test_normalize_ts_spellings(text: str) -> None:
    assert normalize_ts(text) == "2026-11-01T00:00:00Z"


def test_normalize_ts_rejects_garbage() -> None:
    with pytest.raises(QueryError):
        normalize_ts("last tuesday")


def test_conditions_sorted_by_index_and_and_or_left_to_right() -> None:
    params = parse_brackets([
        ("parameters[10][field]", "price"), ("parameters[10][operator]", "<"), ("parameters[10][value]", "5"),
        ("parameters[10][include_type]", "OR"),
        ("parameters[2][field]", "price"), ("parameters[2][operator]", ">"), ("parameters[2][value]", "100"),
    ])
    conditions, paging = parse_query("products", params, 100, 1000)
    assert [c.value for c in conditions] == ["100", "5"]
    assert paging.page_size == 100 and paging.last_id is None
    test = combine(conditions)
    assert test({"price": "150.00"}) and test({"price": "4.50"}) and not test({"price": "50.00"})


def test_numeric_comparison_is_numeric_not_textual() -> None:
    test = Condition("price", ">", "9").predicate()
    assert test({"price": "10.00"}) and not test({"price": "8.99"})


def test_last_id_wins_and_page_size_is_capped() -> None:
    _, paging = parse_query("inventory", {"pagination": {"last_id": "100050", "page_size": "5000"}}, 100, 1000)
    assert paging.last_id == "100050" and paging.page_size == 1000
    _, paging = parse_query("inventory", {"pagination": {"last_id": "100050"}}, 100, 1000, styles="page_number")
    assert paging.last_id is None
