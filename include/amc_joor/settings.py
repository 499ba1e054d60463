"""IntegrationSettings: the user's knobs, from the Airflow Variable ``amc_joor_settings`` (JSON).

They mirror ApparelMagic's own JOOR plugin settings (warehouse, JOOR warehouse name, stock
field, order type, start date, division, credit status, default currency, image sync) plus
what an Airflow deployment needs (batch sizes, the JOOR credit budget, the customer SLA).
Every key has a default that fits the local sandbox, so an empty Variable works there.
A bad value fails the task before any API call, naming the key, the value and what is allowed.

Schedules are not here on purpose: a DAG's schedule is read at parse time, where Variables
(a DB read) must not be touched. They come from environment variables — see :mod:`amc_joor.schedules`.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SETTINGS_VARIABLE = "amc_joor_settings"

#: The plugin's Stock Field choices -> the AMC stock column they read.
STOCK_FIELDS: dict[str, str] = {
    "Available to Sell": "qty_avail_sell",
    "Open Sales": "qty_open_sales",
    "Stock on Hand": "qty_inventory",
    "Available to Allocate": "qty_avail_alloc",
}

#: The plugin's Order Type choices -> the JOOR order status pulled.
ORDER_TYPES: dict[str, str] = {"Approved": "APPROVED", "Shipped": "SHIPPED"}


class SettingsError(ValueError):
    """A bad settings value: the message names the key, the value and what is allowed."""


class IntegrationSettings(BaseModel):
    """Validated settings. Unknown keys are rejected so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Inventory
    amc_warehouse: str = Field(
        "Main Warehouse", description="AMC warehouse (name or id) inventory is read from"
    )
    joor_warehouse_name: str = Field(
        "Main Warehouse", description="JOOR warehouse name (must exist in JOOR's order settings)"
    )
    stock_field: Literal["Available to Sell", "Open Sales", "Stock on Hand", "Available to Allocate"] = (
        "Available to Sell"
    )
    # Orders
    order_type: Literal["Approved", "Shipped"] = "Approved"
    order_start_date: date = Field(date(2026, 1, 1), description="orders approved before it are not pulled")
    division: str | None = Field(None, description="AMC division id stamped on imported orders")
    credit_status: str | None = Field(None, description="AMC credit status stamped on imported orders")
    amc_warehouse_for_orders: str | None = Field(
        None, description="AMC warehouse id for imported orders; default: the customer's"
    )
    order_source: str = Field("JOOR", description="AMC order `source` value of imported orders")
    order_required_fields: list[str] | None = Field(
        None,
        description="JOOR order fields an import requires (dotted for nested, e.g. billing_address.code); "
        "default: JOOR's required-data list (customer code, payment/shipping method, billing/shipping "
        "codes, warehouse, sales rep)",
    )
    # Catalog
    default_currency_name: str = Field("USD", description="AMC default currency (ISO code) MSRP is kept in")
    image_sync: bool = True
    # Customers
    customer_sla_business_days: int = Field(3, ge=1, le=30)
    holidays: list[date] = Field(default_factory=list, description="non-business days for the SLA")
    customer_job_poll_seconds: float = Field(
        30, gt=0, le=3600, description="how often the triggerer checks a JOOR bulk-connection job"
    )
    customer_job_timeout_minutes: float = Field(
        360, gt=0, description="longest wait for one JOOR bulk-connection job before the task retries"
    )
    # Batching. (The JOOR credit budget belongs to the JOOR account, so it is configured on the
    # `joor` connection's extras — credit_limit, credit_window_seconds, credit_reserve — see hooks/joor.py.)
    joor_v4_bulk_max: int = Field(500, ge=1, le=500)
    joor_v2_bulk_max: int = Field(1000, ge=1, le=1000)
    amc_page_size: int = Field(500, ge=1, le=5000)

    @field_validator("amc_warehouse", "joor_warehouse_name", "default_currency_name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @property
    def stock_column(self) -> str:
        """The AMC stock column the configured Stock Field reads."""
        return STOCK_FIELDS[self.stock_field]

    @property
    def joor_order_status(self) -> str:
        return ORDER_TYPES[self.order_type]

    @classmethod
    def from_mapping(cls, raw: dict[str, Any] | None) -> IntegrationSettings:
        """Validate a plain mapping; raise :class:`SettingsError` with key, value and what is allowed."""
        try:
            return cls.model_validate(raw or {})
        except ValidationError as exc:
            raise SettingsError(_explain(exc, raw or {})) from None

    @classmethod
    def from_json(cls, text: str | None) -> IntegrationSettings:
        if text is None or not text.strip():
            return cls()
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"Variable {SETTINGS_VARIABLE!r} is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise SettingsError(f"Variable {SETTINGS_VARIABLE!r} must be a JSON object, got {type(raw).__name__}")
        return cls.from_mapping(raw)


def _allowed(field: str) -> str:
    info = IntegrationSettings.model_fields.get(field)
    if info is None:
        return "one of the known keys: " + ", ".join(sorted(IntegrationSettings.model_fields))
    ann = info.annotation
    args = getattr(ann, "__args__", None)
    if getattr(ann, "__origin__", None) is Literal or (args and all(isinstance(a, str) for a in args)):
        return "one of " + " | ".join(repr(a) for a in args)
    if info.description:
        return f"{getattr(ann, '__name__', ann)} ({info.description})"
    return str(getattr(ann, "__name__", ann))


def _explain(exc: ValidationError, raw: dict[str, Any]) -> str:
    problems = []
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else "?"
        value = raw.get(key, "<missing>")
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key {key!r}; allowed: {', '.join(sorted(IntegrationSettings.model_fields))}")
        else:
            problems.append(f"{key}={value!r}: {err['msg']}; allowed: {_allowed(key)}")
    return f"Invalid settings in Variable {SETTINGS_VARIABLE!r}: " + "; ".join(problems)


def load_settings() -> IntegrationSettings:
    """Read and validate the Variable inside a task (never at DAG parse time).

    A bad value fails the task without retries (``AirflowFailException``): only a settings
    change fixes it, so retrying would only delay the alert.
    """
    from airflow.sdk import Variable
    from airflow.sdk.exceptions import AirflowFailException

    try:
        return IntegrationSettings.from_json(Variable.get(SETTINGS_VARIABLE, default=None))
    except SettingsError as exc:
        raise AirflowFailException(str(exc)) from None
