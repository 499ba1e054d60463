"""IntegrationSettings: defaults fit the sandbox; bad values name key, value and what is allowed."""

from datetime import date

import pytest

from amc_joor.settings import STOCK_FIELDS, IntegrationSettings, SettingsError


def test_defaults_fit_the_sandbox():
    s = IntegrationSettings.from_json(None)
    assert s.stock_column == "qty_avail_sell"
    assert s.joor_order_status == "APPROVED"
    assert s.joor_v4_bulk_max == 500 and s.joor_v2_bulk_max == 1000
    assert s.customer_sla_business_days == 3


@pytest.mark.parametrize("label,column", sorted(STOCK_FIELDS.items()))
def test_every_stock_field_maps_to_a_column(label, column):
    assert IntegrationSettings.from_mapping({"stock_field": label}).stock_column == column


def test_shipped_order_type():
    s = IntegrationSettings.from_mapping({"order_type": "Shipped", "order_start_date": "2026-03-01"})
    assert s.joor_order_status == "SHIPPED"
    assert s.order_start_date == date(2026, 3, 1)


@pytest.mark.parametrize(
    "raw,needles",
    [
        ('{"stock_field": "Stock"}', ["stock_field", "'Stock'", "Available to Sell"]),
        ('{"order_type": "Pending"}', ["order_type", "'Pending'", "'Approved' | 'Shipped'"]),
        ('{"order_start_date": "2026-13-01"}', ["order_start_date", "2026-13-01"]),
        ('{"warehuse": "Main"}', ["unknown key 'warehuse'", "amc_warehouse"]),
        ('{"joor_v4_bulk_max": 900}', ["joor_v4_bulk_max", "900"]),
        ('{"joor_warehouse_name": "  "}', ["joor_warehouse_name", "blank"]),
        ("[1, 2]", ["must be a JSON object"]),
        ("{oops", ["not valid JSON"]),
    ],
)
def test_bad_values_are_named(raw, needles):
    with pytest.raises(SettingsError) as err:
        IntegrationSettings.from_json(raw)
    for needle in needles:
        assert needle in str(err.value)


def test_settings_are_immutable():
    s = IntegrationSettings()
    with pytest.raises(ValueError):
        s.stock_field = "Open Sales"  # type: ignore[misc]
