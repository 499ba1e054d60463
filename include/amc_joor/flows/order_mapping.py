"""Pure planning for the order pull: JOOR order + lines + AMC lookups -> an AMC order, or a reason.

No I/O here (no hooks, no DB, no Airflow): every function takes plain data and returns plain
data, so the mapping rules can be unit-tested in milliseconds and read in one place.

The rules (joor-api.md §6, amc-api.md §2-3):

* customer: the JOOR ``customer_code`` is the AMC customer's ``joor_customer_code`` ("JOOR
  code"), else its ``account_number``. It must be unique, Active, and carry a default division
  (unless the Division setting stamps one), warehouse (unless the orders-warehouse setting
  does), AR account and currency.
* lines: each JOOR SKU line resolves to an AMC ``sku_id`` by the SKU external id the catalog
  push set (= AMC sku_id), else the UPC, else style number + color + size. Cancelled lines and
  cancelled quantities are left out; an order whose every line is cancelled fails.
* header: ``customer_po`` = the JOOR order number (the lookup key that makes the import
  idempotent), ``joor_id`` = the JOOR order id, ship window dates as MM/DD/YYYY, currency from
  the order's currency code, division / credit status / warehouse from the settings when set.
* JOOR's required-data rule: an order missing a field an ERP import needs fails with a reason
  naming the field, never a guess.

Every failure reason names the record, the field and what to do, e.g.
``SKU TP10007-Navy-XL not found in AMC (no SKU with external id 100245, UPC 812345100245 or
style/color/size TP10007/Navy/XL)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from amc_joor.models.amc import garbled_fields

Row = Mapping[str, Any]

#: JOOR order fields an ERP import needs (JOOR's own validation list, joor-api.md §6: customer
#: code, payment method code, shipping method code, billing/shipping codes, warehouse code, sales
#: rep code). Dotted names reach into nested objects. An order missing one fails with a reason.
DEFAULT_REQUIRED_FIELDS: tuple[str, ...] = (
    "order_number",
    "customer_code",
    "payment_method_code",
    "shipping_method_code",
    "billing_address.code",
    "shipping_address.code",
    "warehouse",
    "sales_rep_code",
)

COLOR_TRAIT_NAMES = frozenset({"color", "colour", "style color", "stylecolor"})
SIZE_TRAIT_NAMES = frozenset({"size"})
COLOR_TRAIT_ID = "U0tVVHJhaXQ6U3R5bGVDb2xvcg=="
SIZE_TRAIT_ID = "U0tVVHJhaXQ6U2l6ZQ=="

CENT = Decimal("0.01")


# --------------------------------------------------------------------------- small parsers


def text(value: Any) -> str:
    """A stripped string ('' for None)."""
    if value is None:
        return ""
    return str(value).strip()


def get_path(row: Any, dotted: str) -> Any:
    """``row["a"]["b"]`` for ``"a.b"`` (dicts or attribute objects); None when any step is missing."""
    cur = row
    for part in dotted.split("."):
        if cur is None:
            return None
        if isinstance(cur, Mapping):
            cur = cur.get(part)
        else:
            cur = getattr(cur, part, None)
    return cur


def parse_datetime(value: Any) -> datetime | None:
    """ISO date or datetime (``Z`` allowed, naive = UTC) -> aware UTC datetime; None if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    s = str(value).strip()
    if not s:
        return None
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    parsed = datetime.fromisoformat(s)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_date(value: Any) -> date | None:
    dt = parse_datetime(value)
    return dt.date() if dt else None


def amc_date(value: Any) -> str:
    """A JOOR date/datetime -> AMC's document date format ``MM/DD/YYYY`` ('' when empty)."""
    d = parse_date(value)
    return d.strftime("%m/%d/%Y") if d else ""


def money(value: Any) -> Decimal | None:
    """A decimal string/number -> Decimal, None when empty or not a number."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def money_str(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def flag(value: Any) -> bool:
    """AMC/JOOR booleans come as bools, "1"/"0", "true"/"false"."""
    if isinstance(value, bool):
        return value
    return text(value).lower() in ("1", "true", "yes", "y")


# --------------------------------------------------------------------------- AMC indexes


@dataclass
class CustomerIndex:
    """AMC customers by JOOR code (``joor_customer_code``), falling back to ``account_number``."""

    by_code: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    by_account: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    ship_tos: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, customers: Iterable[Row], locations: Iterable[Row] = ()) -> CustomerIndex:
        idx = cls()
        for c in customers:
            code = text(c.get("joor_customer_code"))
            if code:
                idx.by_code[code.upper()].append(c)
            acct = text(c.get("account_number"))
            if acct:
                idx.by_account[acct.upper()].append(c)
        for loc in locations:
            idx.ship_tos[text(loc.get("customer_id"))].append(loc)
        return idx

    def lookup(self, code: str) -> list[Row]:
        key = text(code).upper()
        return list(self.by_code.get(key) or self.by_account.get(key) or [])


@dataclass
class SkuIndex:
    """AMC SKUs (``GET /inventory`` rows) by sku_id, UPC and (style, color, size)."""

    by_id: dict[str, Row] = field(default_factory=dict)
    by_upc: dict[str, Row] = field(default_factory=dict)
    by_style_color_size: dict[tuple[str, str, str], Row] = field(default_factory=dict)

    @classmethod
    def build(cls, skus: Iterable[Row]) -> SkuIndex:
        idx = cls()
        for s in skus:
            sid = text(s.get("sku_id"))
            if not sid:
                continue
            idx.by_id[sid] = s
            upc = text(s.get("upc_display") or s.get("upc"))
            if upc:
                idx.by_upc[upc] = s
            key = style_color_size_key(s.get("style_number"), s.get("attr_2"), s.get("size"))
            if all(key):
                idx.by_style_color_size[key] = s
        return idx


def style_color_size_key(style: Any, color: Any, size: Any) -> tuple[str, str, str]:
    """Case-insensitive style/color key; sizes stay case-sensitive (JOOR treats them so)."""
    return (text(style).upper(), text(color).upper(), text(size))


@dataclass
class Lookups:
    """Everything the mapping needs from AMC, read once per run in bulk."""

    customers: CustomerIndex
    skus: SkuIndex
    currencies: dict[str, str]  # ISO code (upper) -> AMC currency id
    currency_names: dict[str, str]  # AMC currency id -> ISO code
    ship_methods: dict[str, str] = field(default_factory=dict)  # id or name (upper) -> id
    terms: dict[str, str] = field(default_factory=dict)  # id or name (upper) -> id

    @classmethod
    def build(
        cls,
        *,
        customers: Iterable[Row],
        skus: Iterable[Row],
        currencies: Iterable[Row],
        locations: Iterable[Row] = (),
        ship_methods: Iterable[Row] = (),
        terms: Iterable[Row] = (),
    ) -> Lookups:
        cur = list(currencies)
        return cls(
            customers=CustomerIndex.build(customers, locations),
            skus=SkuIndex.build(skus),
            currencies={text(c.get("name")).upper(): text(c.get("id")) for c in cur if text(c.get("name"))},
            currency_names={text(c.get("id")): text(c.get("name")).upper() for c in cur},
            ship_methods=_lookup_index(ship_methods),
            terms=_lookup_index(terms),
        )


def _lookup_index(rows: Iterable[Row]) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in rows:
        rid = text(r.get("id"))
        if not rid:
            continue
        out[rid.upper()] = rid
        name = text(r.get("name"))
        if name:
            out.setdefault(name.upper(), rid)
    return out


def _norm(value: Any) -> str:
    return "".join(ch for ch in text(value).upper() if ch.isalnum())


def match_code(code: Any, index: Mapping[str, str]) -> str | None:
    """An AMC lookup id (terms, ship method) for a JOOR code such as ``UPS_GROUND`` or ``NET30``.

    JOOR codes and AMC names are typed by different people, so the match is tolerant but never
    ambiguous: exact id/name, then the same letters and digits (``NET30`` = ``Net 30``), then a
    unique name containing the code (``LTL`` -> ``Freight LTL``), then unique initials
    (``CC`` -> ``Credit Card``). No match -> None (the code goes into the order notes).
    """
    raw = text(code)
    if not raw:
        return None
    if raw.upper() in index:
        return index[raw.upper()]
    key = _norm(raw)
    names = {name: rid for name, rid in index.items() if not name.isdigit()}
    exact = {rid for name, rid in names.items() if _norm(name) == key}
    if len(exact) == 1:
        return exact.pop()
    contains = {rid for name, rid in names.items() if key and key in _norm(name)}
    if len(contains) == 1:
        return contains.pop()
    initials = {rid for name, rid in names.items() if "".join(w[0] for w in name.split() if w) == key}
    if len(initials) == 1:
        return initials.pop()
    return None


# --------------------------------------------------------------------------- line items


def line_traits(line: Row) -> tuple[str, str]:
    """(color, size) of a JOOR SKU line from its trait values."""
    sku = line.get("line_item_sku") or {}
    color = size = ""
    for tv in sku.get("trait_values") or []:
        trait = tv.get("trait") or {}
        tid = text(trait.get("id"))
        tname = text(trait.get("name")).lower()
        if tid == COLOR_TRAIT_ID or tname in COLOR_TRAIT_NAMES:
            color = text(tv.get("value"))
        elif tid == SIZE_TRAIT_ID or tname in SIZE_TRAIT_NAMES:
            size = text(tv.get("value"))
    return color, size


def line_style(line: Row) -> str:
    sku = line.get("line_item_sku") or {}
    product = sku.get("product") or {}
    return text(product.get("external_id") or product.get("product_identifier") or product.get("style_number"))


def line_label(line: Row) -> str:
    """How a merchandiser names a SKU: style-color-size (falls back to the UPC or the JOOR SKU id)."""
    color, size = line_traits(line)
    style = line_style(line)
    if style and (color or size):
        return "-".join(p for p in (style, color, size) if p)
    sku = line.get("line_item_sku") or {}
    return text(sku.get("upc")) or text(sku.get("external_id")) or text(sku.get("sku_id")) or "?"


def open_quantity(line: Row) -> int:
    """Ordered minus cancelled units; a line flagged cancelled (boolean) has none open."""
    qty = _int(line.get("quantity"))
    cancelled = line.get("cancelled")
    if isinstance(cancelled, bool):
        return 0 if cancelled else qty
    if isinstance(cancelled, str) and cancelled.strip().lower() in ("true", "false"):
        return 0 if cancelled.strip().lower() == "true" else qty
    return max(qty - _int(cancelled), 0)


def _int(value: Any) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return 0


def resolve_sku(line: Row, skus: SkuIndex) -> Row | None:
    """The AMC SKU row for a JOOR line: external id (= AMC sku_id), else UPC, else style/color/size."""
    sku = line.get("line_item_sku") or {}
    ext = text(sku.get("external_id"))
    if ext and ext in skus.by_id:
        return skus.by_id[ext]
    upc = text(sku.get("upc"))
    if upc and upc in skus.by_upc:
        return skus.by_upc[upc]
    color, size = line_traits(line)
    key = style_color_size_key(line_style(line), color, size)
    if all(key):
        return skus.by_style_color_size.get(key)
    return None


def _sku_not_found(line: Row) -> str:
    sku = line.get("line_item_sku") or {}
    tried = []
    if text(sku.get("external_id")):
        tried.append(f"external id {text(sku.get('external_id'))}")
    if text(sku.get("upc")):
        tried.append(f"UPC {text(sku.get('upc'))}")
    color, size = line_traits(line)
    style = line_style(line)
    if style and color and size:
        tried.append(f"style/color/size {style}/{color}/{size}")
    how = f" (no AMC SKU with {' or '.join(tried)})" if tried else " (the JOOR line has no SKU id, UPC or style/color/size)"
    return f"SKU {line_label(line)} not found in AMC{how}"


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class MappingSettings:
    """The settings the mapping reads (a plain copy of the IntegrationSettings fields)."""

    division: str | None = None
    credit_status: str | None = None
    warehouse: str | None = None
    source: str = "JOOR"
    default_currency: str = "USD"
    required_fields: tuple[str, ...] = DEFAULT_REQUIRED_FIELDS

    @classmethod
    def from_settings(cls, s: Any) -> MappingSettings:
        return cls(
            division=getattr(s, "division", None),
            credit_status=getattr(s, "credit_status", None),
            warehouse=getattr(s, "amc_warehouse_for_orders", None),
            source=getattr(s, "order_source", "JOOR") or "JOOR",
            default_currency=getattr(s, "default_currency_name", "USD") or "USD",
            required_fields=tuple(getattr(s, "order_required_fields", None) or DEFAULT_REQUIRED_FIELDS),
        )


@dataclass
class OrderPlan:
    """One JOOR order's outcome of planning: an AMC payload, or the reasons it cannot be imported."""

    joor_id: str
    order_number: str
    payload: dict[str, Any] | None = None
    reasons: list[str] = field(default_factory=list)
    skipped_lines: int = 0

    @property
    def ok(self) -> bool:
        return self.payload is not None and not self.reasons

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def order_key(order: Row) -> tuple[str, str]:
    """(JOOR order id, JOOR order number) as strings."""
    return text(order.get("id")), text(order.get("order_number")) or text(order.get("id"))


def missing_required(order: Row, required: Iterable[str]) -> list[str]:
    return [f for f in required if not text(get_path(order, f))]


def resolve_customer(code: str, lookups: Lookups, ms: MappingSettings) -> tuple[Row | None, list[str]]:
    """The single usable AMC customer for a JOOR customer code, or the reasons there is none."""
    if not code:
        return None, ["the JOOR order has no customer code; set the customer code on the JOOR connection"]
    matches = lookups.customers.lookup(code)
    if not matches:
        return None, [f"customer code {code} not found in AMC; set it as the JOOR code of the AMC customer"]
    if len(matches) > 1:
        ids = ", ".join(sorted(text(m.get("customer_id")) for m in matches))
        return None, [f"customer code {code} matches {len(matches)} AMC customers ({ids}); make it unique in AMC"]
    cust = matches[0]
    label = f"AMC customer {text(cust.get('customer_name')) or '?'} ({code})"
    reasons = []
    status = text(cust.get("status"))
    if status and status.lower() not in ("active", "1"):
        reasons.append(f"{label} is {status}, not Active; activate it in AMC")
    needs = [("ar_acct", "AR account"), ("currency_id", "currency")]
    if not ms.division:
        needs.insert(0, ("division_id", "division"))
    if not ms.warehouse:
        needs.insert(1, ("warehouse_id", "warehouse"))
    for key, name in needs:
        if not text(cust.get(key)):
            reasons.append(f"{label} has no default {name}; set it on the customer record in AMC")
    return (cust if not reasons else None), reasons


ADDRESS_KEYS = ("address_1", "address_2", "city", "state", "postal_code", "country")


def _address(addr: Mapping[str, Any]) -> dict[str, str]:
    out = {
        "address_1": text(addr.get("address_1") or addr.get("address1") or addr.get("line_1")),
        "address_2": text(addr.get("address_2") or addr.get("address2") or addr.get("line_2")),
        "city": text(addr.get("city")),
        "state": text(addr.get("state") or addr.get("province")),
        "postal_code": text(addr.get("postal_code") or addr.get("zip") or addr.get("zip_code")),
        "country": text(addr.get("country") or addr.get("country_code")),
    }
    return out


def _ship_to(order: Row, customer: Row, lookups: Lookups) -> dict[str, str]:
    """Ship-to: the customer's AMC location when the JOOR address is one of them, else the address itself.

    A location matches by id (the JOOR address code equals the AMC ship_to_id) or by the same
    street line, postal code and country.
    """
    addr = order.get("shipping_address") or {}
    if not isinstance(addr, Mapping):
        addr = {}
    locs = lookups.customers.ship_tos.get(text(customer.get("customer_id")), [])
    code = text(addr.get("code"))
    mine = _address(addr)
    for loc in locs:
        if code and text(loc.get("ship_to_id")) == code:
            return {"ship_to_id": code}
    for loc in locs:
        theirs = _address(loc)
        if mine["address_1"] and all(
            _norm(mine[k]) == _norm(theirs[k]) for k in ("address_1", "postal_code", "country")
        ):
            return {"ship_to_id": text(loc.get("ship_to_id"))}
    out = {"name": text(addr.get("name") or addr.get("company_name") or customer.get("customer_name")), **mine}
    return {k: v for k, v in out.items() if v}


def _notes(order: Row) -> str:
    parts = [f"JOOR order {text(order.get('order_number')) or text(order.get('id'))}"]
    if text(order.get("po_number")):
        parts.append(f"Retailer PO {text(order.get('po_number'))}")
    buyer = order.get("buyer") or {}
    if isinstance(buyer, Mapping) and text(buyer.get("name")):
        parts.append(f"Buyer {text(buyer.get('name'))}")
    for label, key in (("Ship via", "shipping_method_code"), ("Payment", "payment_method_code"),
                       ("Sales rep", "sales_rep_code")):
        if text(order.get(key)):
            parts.append(f"{label} {text(order.get(key))}")
    if text(order.get("comments")):
        parts.append(text(order.get("comments")))
    return " | ".join(parts)[:2000]


def plan_order(order: Row, lines: Iterable[Row], lookups: Lookups, ms: MappingSettings) -> OrderPlan:
    """Map one JOOR order and its SKU lines to an AMC ``POST /orders`` body, or to its failure reasons.

    All reasons are collected (a merchandiser fixes them in one go), not just the first.
    """
    joor_id, number = order_key(order)
    plan = OrderPlan(joor_id=joor_id, order_number=number)
    lines = list(lines)
    plan.reasons.extend(unreadable_values(order, lines))
    missing = missing_required(order, ms.required_fields)
    if missing:
        plan.reasons.append(
            "missing " + ", ".join(missing) + " on the JOOR order (required to import into AMC); complete it in JOOR"
        )
    code = text(order.get("customer_code"))
    customer, creasons = resolve_customer(code, lookups, ms) if code else (None, [])
    if code:
        plan.reasons.extend(creasons)

    # currency: the order's own currency (prices are in it), else the customer's, else the default
    cur_code = text(order.get("currency_code")).upper()
    currency_id = ""
    if cur_code:
        currency_id = lookups.currencies.get(cur_code, "")
        if not currency_id:
            plan.reasons.append(f"currency {cur_code} is not set up in AMC; add it under currencies")
    elif customer is not None:
        currency_id = text(customer.get("currency_id"))
        if currency_id and currency_id not in set(lookups.currencies.values()):
            plan.reasons.append(f"AMC customer {text(customer.get('customer_name')) or '?'} ({code}) has currency id "
                                f"{currency_id}, which is not in AMC /currencies; fix the customer's currency in AMC")
    else:
        currency_id = lookups.currencies.get(ms.default_currency.upper(), "")

    items: list[dict[str, Any]] = []
    not_found: list[str] = []
    unreadable = 0
    for line in lines:
        if line.get(INVALID_FIELDS) or _int(line.get("quantity")) < 0:
            unreadable += 1
            continue  # reported by unreadable_values: the order fails, never imported without the line
        qty = open_quantity(line)
        if qty <= 0:
            plan.skipped_lines += 1
            continue
        sku_row = resolve_sku(line, lookups.skus)
        if sku_row is None:
            not_found.append(_sku_not_found(line))
            continue
        if sku_row.get("active") not in (None, "") and not flag(sku_row.get("active")):
            not_found.append(f"SKU {line_label(line)} (AMC sku {text(sku_row.get('sku_id'))}) is inactive in AMC; activate it in AMC or remove the line in JOOR")
            continue
        sku = line.get("line_item_sku") or {}
        price = money(sku.get("wholesale_price") if sku.get("wholesale_price") is not None else line.get("price"))
        if price is None or price < 0:
            not_found.append(f"SKU {line_label(line)} has no wholesale price on the JOOR order")
            continue
        items.append({
            "sku_id": text(sku_row.get("sku_id")),
            "qty": str(qty),
            "unit_price": money_str(price),
            "amount": money_str(price * qty),
        })
    if len(not_found) > 5:
        not_found = [*not_found[:5], f"and {len(not_found) - 5} more SKU problems on this order"]
    plan.reasons.extend(not_found)
    if not items and not not_found and not unreadable:
        plan.reasons.append("no open lines on the JOOR order (every line or quantity is cancelled)")

    if plan.reasons or customer is None:
        if customer is None and not plan.reasons:
            plan.reasons.append("the JOOR order has no customer code; set it on the JOOR connection")
        return plan

    header: dict[str, Any] = {
        "customer_id": text(customer.get("customer_id")),
        "division_id": text(ms.division) or text(customer.get("division_id")),
        "ar_acct": text(customer.get("ar_acct")),
        "warehouse_id": text(ms.warehouse) or text(customer.get("warehouse_id")),
        "currency_id": currency_id,
        "date": amc_date(order.get("date_approved") or order.get("date_created")),
        "date_start": amc_date(order.get("start_ship_date")),
        "date_due": amc_date(order.get("complete_ship_date")),
        "customer_po": number,
        "joor_id": joor_id,
        "source": ms.source,
        "notes": _notes(order),
    }
    if ms.credit_status:
        header["credit_status"] = text(ms.credit_status)
    ship_via = match_code(order.get("shipping_method_code"), lookups.ship_methods)
    if ship_via:
        header["ship_via"] = ship_via
    terms = match_code(order.get("payment_method_code"), lookups.terms) or text(customer.get("terms_id"))
    if terms:
        header["terms_id"] = terms
    header.update(_ship_to(order, customer, lookups))
    plan.payload = {"header": {k: v for k, v in header.items() if v != ""}, "items": items}
    return plan


#: Where the JOOR hook's lenient validation lists values it could not read (models.joor).
INVALID_FIELDS = "invalid_fields"


def unreadable_values(order: Row, lines: Iterable[Row]) -> list[str]:
    """Reasons an order cannot be imported as JOOR sent it: values that are not what they must be
    (a total "lots", a ship date "31/12/2026", a line quantity "lots" or below zero, a price
    "12,50") and text that arrived as invalid UTF-8. Each names the field and, for lines, the SKU.

    Never guessed around: a negative quantity is not dropped as if cancelled, a garbled comment
    is not imported into AMC's notes.
    """
    reasons: list[str] = []
    bad = [str(x) for x in order.get(INVALID_FIELDS) or []]
    header = {k: v for k, v in order.items() if k not in ("line_items", INVALID_FIELDS)}
    garbled = garbled_fields(header)
    if bad:
        reasons.append("unreadable value(s) on the JOOR order: " + "; ".join(bad) + "; correct the order in JOOR")
    if garbled:
        reasons.append(f"{', '.join(garbled)} on the JOOR order contain bytes that are not valid UTF-8 "
                       "(JOOR sent corrupted text); re-save the order in JOOR")
    for line in lines:
        label = line_label(line)
        bad_line = [str(x) for x in line.get(INVALID_FIELDS) or []]
        if bad_line:
            reasons.append(f"line {label}: unreadable value(s): " + "; ".join(bad_line) + "; correct the line in JOOR")
            continue
        qty = _int(line.get("quantity"))
        if qty < 0:
            reasons.append(f"line {label}: quantity {qty} is negative; correct the quantity in JOOR")
        garbled = garbled_fields({k: v for k, v in line.items() if k != INVALID_FIELDS})
        if garbled:
            reasons.append(f"line {label}: {', '.join(garbled)} contain bytes that are not valid UTF-8 "
                           "(JOOR sent corrupted text)")
    return reasons


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class Window:
    """Which JOOR orders a run considers: all pending ones, or exactly those approved in a range."""

    approved_from: datetime | None = None  # inclusive
    approved_to: datetime | None = None  # exclusive
    order_ids: tuple[str, ...] = ()

    @property
    def is_range(self) -> bool:
        return self.approved_from is not None or self.approved_to is not None or bool(self.order_ids)


def candidate_skip_reason(order: Row, status: str, start: date, window: Window) -> str | None:
    """Why a JOOR order is not a candidate of this run (None = it is).

    Status must match the Order Type setting and the order must be approved on/after the Start
    Date; a range run also keeps only orders approved inside its window.
    """
    st = text(order.get("status")).upper()
    if st != status.upper():
        return f"status {st or 'unknown'}, not {status.upper()} (Order Type setting)"
    approved = parse_datetime(order.get("date_approved"))
    if approved is None:
        return "no approval date on the JOOR order"
    if approved.date() < start:
        return f"approved {approved.date()} before the Start Date setting {start}"
    if window.approved_from is not None and approved < window.approved_from:
        return f"approved {approved.isoformat()} before this run's window"
    if window.approved_to is not None and approved >= window.approved_to:
        return f"approved {approved.isoformat()} after this run's window"
    return None


def edited_after_export(order: Row, ledger_row: Row | None) -> bool:
    """True when JOOR's last_modified is later than what the ledger saw when it exported the order."""
    if not ledger_row or text(ledger_row.get("state")) != "exported":
        return False
    modified = parse_datetime(order.get("last_modified"))
    seen = parse_datetime(ledger_row.get("joor_last_modified"))
    if modified is None or seen is None:
        return False
    return modified > seen
