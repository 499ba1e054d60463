"""Pydantic models of ApparelMagic Cloud records.

Why: AMC sends nearly everything as strings — money ``"12.50"``, flags ``"1"``/``"0"``,
quantities ``"7"``, document dates ``MM/DD/YYYY`` and ``last_modified_time`` as ISO-8601.
These models turn them into ``Decimal``, ``bool``, ``int``, ``date`` and aware ``datetime``
once, at the edge, so flows never compare ``"0"`` with ``0``. Unknown fields are kept
(``extra="allow"``): tenants differ and a flow may need a field this file does not name.
Empty strings become ``None``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# --- parsing of AMC's string values (pure) ----------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


#: Commas only as thousands separators (``1,234.50``); ``12,50`` is a decimal comma, refused.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_decimal(value: Any) -> Decimal | None:
    """``"1,234.50"`` → ``Decimal("1234.50")``; blank → None. Never through float.

    A comma that is not a thousands separator (``"12,50"``) is an error, never 1250.
    """
    if _blank(value):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip().replace("$", "")
    if "," in text:
        if not _GROUPED.match(text):
            raise ValueError(f"not a decimal: {value!r} (a decimal comma? amounts use a point: 12.50)")
        text = text.replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal: {value!r}") from None


def parse_bool(value: Any) -> bool | None:
    """AMC flags: ``"1"``/``"0"``, also ``"true"``/``"false"``/``"yes"``/``"no"``; blank → None."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "t", "on"):
        return True
    if text in ("0", "false", "no", "n", "f", "off"):
        return False
    raise ValueError(f"not a flag: {value!r}")


def parse_int(value: Any) -> int | None:
    """``"7"``, ``"7.0"`` → 7; blank → None; ``"7.5"`` is an error (no silent truncation)."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    dec = parse_decimal(value)
    assert dec is not None
    if dec != dec.to_integral_value():
        raise ValueError(f"not an integer: {value!r}")
    return int(dec)


def parse_datetime(value: Any) -> datetime | None:
    """ISO-8601 (``Z`` or offset; naive = UTC), ``YYYY-MM-DD HH:MM:SS`` or ``MM/DD/YYYY`` → aware UTC."""
    if _blank(value) or (isinstance(value, str) and value.startswith("0000-00-00")):
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if "/" in text:
            dt = datetime.strptime(text.split(" ")[0], "%m/%d/%Y")
        else:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """Document dates ``MM/DD/YYYY`` (also ISO ``YYYY-MM-DD``) → ``date``; blank → None."""
    if _blank(value) or (isinstance(value, str) and value.startswith("0000-00-00")):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().split(" ")[0].split("T")[0]
    if "/" in text:
        return datetime.strptime(text, "%m/%d/%Y").date()
    return date.fromisoformat(text)


def parse_str(value: Any) -> str | None:
    """Ids and codes: numbers become strings, blank → None."""
    if _blank(value):
        return None
    return str(value).strip()


#: What a JSON reader puts where an API sent bytes that are not valid UTF-8 (``requests``
#: decodes ``application/json`` as UTF-8 with ``errors="replace"``). A record carrying it was
#: garbled on the way and must be reported, never passed on as if it were the real text.
REPLACEMENT_CHAR = "\ufffd"


def garbled_fields(record: Any, prefix: str = "") -> list[str]:
    """Dotted names of every text value in a raw API record that holds :data:`REPLACEMENT_CHAR`.

    Nested dicts and lists are walked (``billing_address.name``, ``images[0].img``). Pure.
    """
    out: list[str] = []
    if isinstance(record, str):
        if REPLACEMENT_CHAR in record:
            out.append(prefix or "value")
    elif isinstance(record, dict):
        for key, value in record.items():
            out.extend(garbled_fields(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(record, list | tuple):
        for i, value in enumerate(record):
            out.extend(garbled_fields(value, f"{prefix}[{i}]"))
    return out


def garbled_reason(fields: list[str]) -> str:
    """The failure text for :func:`garbled_fields` hits: which fields, why, what to do."""
    return (f"{', '.join(fields)} contain{'s' if len(fields) == 1 else ''} bytes that are not valid UTF-8 "
            "(the API sent corrupted text); re-type the value in the source system")


def format_amc_date(value: date) -> str:
    """A ``date`` in AMC's document format ``MM/DD/YYYY``."""
    return value.strftime("%m/%d/%Y")


def format_amc_datetime(value: datetime) -> str:
    """An aware datetime as AMC's ``last_modified_time`` filter value (ISO-8601 UTC, ``Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Money = Annotated[Decimal | None, BeforeValidator(parse_decimal)]
Flag = Annotated[bool | None, BeforeValidator(parse_bool)]
Int = Annotated[int | None, BeforeValidator(parse_int)]
Stamp = Annotated[datetime | None, BeforeValidator(parse_datetime)]
Day = Annotated[date | None, BeforeValidator(parse_date)]
Id = Annotated[str | None, BeforeValidator(parse_str)]
Text = Annotated[str | None, BeforeValidator(parse_str)]


class AmcRecord(BaseModel):
    """Base: unknown fields kept, blank strings → None, ids kept as strings (AMC ids are opaque)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)


# --- catalog ------------------------------------------------------------------------------------


class AmcImage(AmcRecord):
    img: Text = None
    colorway: Text = None  # attribute_2 / color name the image belongs to; None = all colorways
    is_swatch: Flag = None


class AmcPriceGroup(AmcRecord):
    price_group: Text = None
    currency_id: Id = None
    price: Money = None


class AmcProduct(AmcRecord):
    """``GET /products``: one style."""

    product_id: Id
    style_number: Text = None
    description: Text = None
    web_title: Text = None
    web_description: Text = None
    category: Text = None
    season: Text = None
    origin: Text = None
    content: Text = None
    price: Money = None  # Standard Price (the default price group's wholesale)
    retail_price: Money = None  # MSRP, in the default currency
    is_product: Flag = None
    joor_sync: Flag = None  # "SYNC" under E-Commerce > JOOR Product Configuration
    joor_web_title: Text = None
    joor_web_description: Text = None
    images: list[AmcImage] = Field(default_factory=list)
    price_groups: list[AmcPriceGroup] = Field(default_factory=list)
    last_modified_time: Stamp = None


class AmcColorway(AmcRecord):
    """``GET /product_attributes``: one colorway of a style."""

    id: Id
    product_id: Id = None
    attribute_2: Text = None  # the color name
    color_code: Text = None
    season: Text = None
    joor_sync: Flag = None  # SKU-level SYNC (JOOR SKU Configuration)
    images: list[AmcImage] = Field(default_factory=list)
    last_modified_time: Stamp = None


class AmcSku(AmcRecord):
    """``GET /inventory``: one SKU (style × color × size) with company-wide stock."""

    sku_id: Id
    product_id: Id = None
    style_number: Text = None
    attr_2: Text = None  # color
    size: Text = None
    size_position: Int = None
    upc_display: Text = None
    active: Flag = None
    joor_sync: Flag = None
    qty_inventory: Int = None
    qty_avail_sell: Int = None
    qty_avail_alloc: Int = None
    qty_open_sales: Int = None
    last_modified_time: Stamp = None


class AmcSkuStock(AmcRecord):
    """``GET /sku_warehouse``: stock of one SKU in one warehouse."""

    sku_id: Id
    warehouse_id: Id = None
    qty_inventory: Int = None
    qty_avail_sell: Int = None
    qty_avail_alloc: Int = None
    qty_open_sales: Int = None
    last_modified_time: Stamp = None

    def stock(self, field: str) -> int:
        """The chosen stock field (``qty_avail_sell`` …) as an int, blank → 0."""
        value = getattr(self, field)
        return int(value or 0)


#: The plugin's "Stock Field" setting → the AMC field it reads.
STOCK_FIELDS = {
    "Available to Sell": "qty_avail_sell",
    "Open Sales": "qty_open_sales",
    "Stock on Hand": "qty_inventory",
    "Available to Allocate": "qty_avail_alloc",
}


class AmcWarehouse(AmcRecord):
    id: Id
    name: Text = None
    is_default: Flag = None


class AmcCurrency(AmcRecord):
    id: Id
    name: Text = None  # ISO code
    is_default: Flag = None
    rate: Money = None  # units per 1 default currency
    last_updated: Stamp = None


# --- customers ----------------------------------------------------------------------------------


class AmcCustomer(AmcRecord):
    customer_id: Id
    account_number: Text = None
    customer_name: Text = None
    status: Text = None
    division_id: Id = None
    warehouse_id: Id = None
    ar_acct: Text = None
    terms_id: Id = None
    currency_id: Id = None
    price_group: Text = None
    email: Text = None
    phone: Text = None
    address_1: Text = None
    address_2: Text = None
    city: Text = None
    state: Text = None
    postal_code: Text = None
    country: Text = None
    joor_customer_code: Text = None  # the "JOOR code" on the customer record: the match key
    last_modified_time: Stamp = None


class AmcShipTo(AmcRecord):
    """``GET /locations``: one ship-to address of a customer."""

    customer_id: Id = None
    ship_to_id: Id = None
    name: Text = None
    address_1: Text = None
    address_2: Text = None
    city: Text = None
    state: Text = None
    postal_code: Text = None
    country: Text = None
    last_modified_time: Stamp = None


class AmcLookup(AmcRecord):
    """``/divisions``, ``/terms``, ``/ship_methods``: an id and a name (field names vary)."""

    id: Id = None
    name: Text = None
    last_modified_time: Stamp = None

    def model_post_init(self, _ctx: Any) -> None:
        extra = self.__pydantic_extra__ or {}
        if self.id is None:
            for key in ("division_id", "terms_id", "term_id", "ship_method_id", "ship_via_id"):
                if extra.get(key) not in (None, ""):
                    self.id = str(extra[key])
                    break
        if self.name is None:
            for key in ("division_name", "description", "terms", "ship_method", "ship_via", "code"):
                if extra.get(key) not in (None, ""):
                    self.name = str(extra[key])
                    break


# --- orders -------------------------------------------------------------------------------------


class AmcOrderItem(AmcRecord):
    """A line of an order, as sent (``sku_id, qty, unit_price, amount``) or read back."""

    sku_id: Id
    qty: Int = None
    unit_price: Money = None
    amount: Money = None


class AmcOrderHeader(AmcRecord):
    """The ``header`` of ``POST /orders``. Dates are ``date`` here, ``MM/DD/YYYY`` on the wire."""

    customer_id: Id
    division_id: Id = None
    ar_acct: Text = None
    warehouse_id: Id = None
    currency_id: Id = None
    date: Day = None
    date_start: Day = None
    date_due: Day = None
    customer_po: Text = None  # the JOOR order number: the idempotency key
    joor_id: Text = None
    source: Text = None
    credit_status: Text = None
    ship_via: Text = None
    terms_id: Id = None
    notes: Text = None
    ship_to_id: Id = None
    name: Text = None
    address_1: Text = None
    address_2: Text = None
    city: Text = None
    state: Text = None
    postal_code: Text = None
    country: Text = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON body's ``header``: no Nones, dates as ``MM/DD/YYYY``, money as strings."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude_none=True).items():
            if isinstance(value, date) and not isinstance(value, datetime):
                out[key] = format_amc_date(value)
            elif isinstance(value, Decimal):
                out[key] = str(value)
            else:
                out[key] = value
        return out


class AmcOrder(AmcRecord):
    """``GET /orders`` / the reply of ``POST /orders``."""

    order_id: Id
    customer_id: Id = None
    customer_po: Text = None
    joor_id: Text = None
    source: Text = None
    credit_status: Text = None
    date: Day = None
    date_start: Day = None
    date_due: Day = None
    division_id: Id = None
    warehouse_id: Id = None
    currency_id: Id = None
    amount: Money = None
    order_items: list[AmcOrderItem] = Field(default_factory=list)
    last_modified_time: Stamp = None


def order_item_wire(item: AmcOrderItem | dict[str, Any]) -> dict[str, Any]:
    """One ``items[]`` entry for ``POST /orders``: money as decimal strings, qty as int."""
    model = item if isinstance(item, AmcOrderItem) else AmcOrderItem.model_validate(item)
    out: dict[str, Any] = {"sku_id": model.sku_id, "qty": model.qty}
    if model.unit_price is not None:
        out["unit_price"] = str(model.unit_price)
    if model.amount is not None:
        out["amount"] = str(model.amount)
    elif model.unit_price is not None and model.qty is not None:
        out["amount"] = str(model.unit_price * model.qty)
    return out
