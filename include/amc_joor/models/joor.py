"""Pydantic models of JOOR records (v4 catalog/orders, v2 connections/inventory) and bulk results.

Why: flows compare and map these records; typing them once at the edge (money as ``Decimal``,
dates as ``date``/``datetime``) keeps the mapping code honest. Unknown fields are kept
(``extra="allow"``): JOOR adds fields without notice and the sandbox documents more than the
reference names. Ids stay strings (v4 ids are opaque base64).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from amc_joor.models.amc import parse_date, parse_datetime, parse_decimal, parse_int, parse_str

Money = Annotated[Decimal | None, BeforeValidator(parse_decimal)]
Int = Annotated[int | None, BeforeValidator(parse_int)]
Stamp = Annotated[datetime | None, BeforeValidator(parse_datetime)]
Day = Annotated[date | None, BeforeValidator(parse_date)]
Id = Annotated[str | None, BeforeValidator(parse_str)]


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "y")


Flag = Annotated[bool | None, BeforeValidator(_bool)]


class JoorRecord(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


R = TypeVar("R", bound=BaseModel)

#: Extra field in which :func:`validate_lenient` lists the values it could not read.
INVALID_FIELDS = "invalid_fields"


def validate_lenient(model: type[R], row: Mapping[str, Any]) -> R:
    """Validate one INPUT record (a JOOR order, an order line) without letting a bad value sink
    the page it came in.

    Why: ``model_validate`` raising for one order with a total ``"lots"`` or a ship date
    ``"31/12/2026"`` would fail the whole fetch, and every good order with it. Here each value
    that does not validate is set to None and described under the extra field ``invalid_fields``
    (``["total 'lots': not a decimal: 'lots'", ...]``), which survives ``model_dump``; the flow
    fails exactly that record with the reason. A record that still cannot be built re-raises.
    """
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        data: Any = copy.deepcopy(dict(row))
        problems: list[str] = []
        for err in exc.errors():
            loc = err.get("loc") or ()
            problems.append(f"{_dotted(loc)} {err.get('input')!r}: {str(err.get('msg', '')).removeprefix('Value error, ')}")
            _set_none(data, loc)
        try:
            out = model.model_validate(data)
        except ValidationError:
            raise exc from None
        if out.__pydantic_extra__ is not None:
            out.__pydantic_extra__[INVALID_FIELDS] = problems
        return out


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "record"


def _set_none(data: Any, loc: tuple[Any, ...]) -> None:
    """``data[loc[0]][loc[1]]... = None`` where the path exists (pydantic error locations)."""
    for part in loc[:-1]:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return
    if loc and isinstance(data, dict | list):
        try:
            data[loc[-1]] = None
        except (IndexError, TypeError):
            pass


# --- lookups ------------------------------------------------------------------------------------


class JoorTrait(JoorRecord):
    id: Id
    name: str | None = None


class JoorCategory(JoorRecord):
    id: Id
    name: str | None = None


class JoorPriceType(JoorRecord):
    id: Id
    name: str | None = None  # e.g. "USD-1": also the v2 "price_label"
    currency_code: str | None = None
    retail_currency_code: str | None = None


# --- catalog ------------------------------------------------------------------------------------


class JoorTraitValue(JoorRecord):
    trait_id: Id = None
    value: str | None = None
    external_id: Id = None
    order_minimum: Int = None
    status: str | None = None  # ACTIVE | INACTIVE — never set INACTIVE implicitly


class JoorIdentifier(JoorRecord):
    type: str | None = None  # upc | gtin | ean | mpn
    value: str | None = None


class JoorProduct(JoorRecord):
    id: Id
    name: str | None = None
    external_id: Id = None
    product_identifier: str | None = None
    description: str | None = None
    order_minimum: Int = None
    category_ids: list[str] = Field(default_factory=list)
    product_trait_values: list[JoorTraitValue] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class JoorSku(JoorRecord):
    id: Id
    product_id: Id = None
    external_id: Id = None
    sku_identifier: str | None = None
    trait_values: list[JoorTraitValue] = Field(default_factory=list)
    identifiers: list[JoorIdentifier] = Field(default_factory=list)

    def trait(self, trait_id: str) -> str | None:
        for tv in self.trait_values:
            if tv.trait_id == trait_id:
                return tv.value
        return None

    @property
    def upc(self) -> str | None:
        for ident in self.identifiers:
            if (ident.type or "").lower() == "upc":
                return ident.value
        return None


class JoorPrice(JoorRecord):
    id: Id
    sku_id: Id = None
    price_type_id: Id = None
    wholesale_value: Money = None
    retail_value: Money = None


class JoorSeason(JoorRecord):
    id: Id
    name: str | None = None
    year: Int = None
    external_id: Id = None


class JoorCollectionItem(JoorRecord):
    product_id: Id = None
    order_number: Int = None
    sku_ids: list[str] | None = None


class JoorCollection(JoorRecord):
    id: Id
    name: str | None = None
    external_id: Id = None
    season_id: Id = None
    delivery: dict[str, Any] | None = None
    items: list[JoorCollectionItem] = Field(default_factory=list)


class JoorAsset(JoorRecord):
    id: Id = None
    type: str | None = None
    filename: str | None = None
    source_url: str | None = None


# --- customers (v2 connections) ------------------------------------------------------------------


class JoorAddress(JoorRecord):
    code: str | None = None
    name: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class JoorConnection(JoorRecord):
    """A retailer connection (JOOR's word for a customer) keyed by the brand's ``customer_code``."""

    connection_id: Id = None
    retailer_id: Id = None
    customer_code: str | None = None
    customer_name: str | None = None
    customer_alias: str | None = None
    customer_contact_name: str | None = None
    customer_contact_email: str | None = None
    customer_buyer_name: str | None = None
    customer_group_name: str | None = None
    customer_group_code: str | None = None
    sales_rep_code: str | None = None
    currency: str | None = None
    price_label: str | None = None
    billing_address: JoorAddress | None = None
    shipping_addresses: list[JoorAddress] = Field(default_factory=list)
    status: str | None = None  # active | pending (waiting for JOOR Data Services)
    date_created: Stamp = None
    date_modified: Stamp = None


class JoorBulkJob(JoorRecord):
    """``GET /v2/bulk-connection/{job_id}``: a background connection job."""

    job_id: Id = None
    status: str | None = None  # queued | started | finished
    results: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return (self.status or "").lower() == "finished"


# --- orders (v4) --------------------------------------------------------------------------------


class JoorBuyer(JoorRecord):
    name: str | None = None
    email: str | None = None


class JoorOrder(JoorRecord):
    id: Id
    order_number: Id = None
    status: str | None = None
    retailer_id: Id = None
    customer_code: str | None = None
    po_number: str | None = None
    price_type_id: Id = None
    currency_code: str | None = None
    collection_id: Id = None
    date_created: Stamp = None
    date_approved: Stamp = None
    date_shipped: Stamp = None
    last_modified: Stamp = None
    start_ship_date: Day = None
    complete_ship_date: Day = None
    payment_method_code: str | None = None
    shipping_method_code: str | None = None
    warehouse: str | None = None
    sales_rep_code: str | None = None
    billing_address: JoorAddress | None = None
    shipping_address: JoorAddress | None = None
    buyer: JoorBuyer | None = None
    comments: str | None = None
    discount: Money = None
    total: Money = None
    export_status: str | None = None  # SUCCESS | FAILED | UNDEFINED
    export_description: str | None = None
    line_items: list[JoorLineItem] = Field(default_factory=list)  # filled by JoorHook.iter_orders


class JoorLineTrait(JoorRecord):
    trait: dict[str, Any] | None = None
    value: str | None = None
    external_id: Id = None


class JoorLineProduct(JoorRecord):
    name: str | None = None
    external_id: Id = None


class JoorLineSku(JoorRecord):
    external_id: Id = None
    sku_id: Id = None
    upc: str | None = None
    product: JoorLineProduct | None = None
    wholesale_price: Money = None
    suggested_retail_price: Money = None
    trait_values: list[JoorLineTrait] = Field(default_factory=list)


class JoorLineItem(JoorRecord):
    id: Id
    order_id: Id = None
    quantity: Int = None
    cancelled: Flag = None
    line_item_sku: JoorLineSku | None = None


JoorOrder.model_rebuild()


# --- results of writes ------------------------------------------------------------------------


class _DictLike:
    """``result.get("status")`` works too: flow code written against plain dicts keeps working."""

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None)
        if value is None:
            value = (getattr(self, "__pydantic_extra__", None) or {}).get(key)
        return default if value is None else value


class BulkItemResult(_DictLike, BaseModel):
    """The outcome of one input item of a bulk call. ``ok=False`` never raised for the batch.

    ``error_code`` is JOOR's code when it gives one (e.g. ``DUPLICATED``); ``id`` is the JOOR id
    of a created/updated record; ``index`` is the item's position in the caller's input.
    """

    model_config = ConfigDict(extra="allow")

    index: int
    ok: bool
    id: str | None = None
    external_id: str | None = None
    error_code: str | None = None
    message: str | None = None
    data: dict[str, Any] | None = None

    @property
    def duplicated(self) -> bool:
        return (self.error_code or "").upper() == "DUPLICATED"


class InventoryItemResult(_DictLike, BaseModel):
    """One ``inventory_log`` entry of ``POST /v2/bulk-inventory`` (``status`` pass|fail)."""

    model_config = ConfigDict(extra="allow")

    index: int
    sku: str | None = None
    ok: bool
    status: str = "fail"
    message: str | None = None
    inventory_log_id: str | None = None
