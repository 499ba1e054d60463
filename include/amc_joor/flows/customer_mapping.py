"""Pure logic of the customer sync: AMC customer -> JOOR connection, validation, SLA arithmetic.

Why a separate module: everything here is deterministic and I/O-free, so it is unit-tested
without servers, and the I/O layer (:mod:`amc_joor.flows.customers`) stays a thin shell.

Contract choices (also in the DAG's doc_md):

* The match key is JOOR's ``customer_code`` = the AMC customer's ``joor_customer_code``.
  Customers without one are skipped and counted; a code used by two AMC customers is
  reported for every customer that carries it and none of them is sent.
* Billing address code = the AMC ``customer_id``; shipping address code = the AMC
  ``ship_to_id`` (``/locations``), so an order's JOOR ship-to code names the AMC ship-to.
* Currency = the ISO name of the customer's AMC currency (the Default Currency Name when the
  customer has none); price label = the name of the JOOR price type in that currency (the AMC
  price group's name breaks ties) — the catalog push's rule, so the pair always names a price
  type the styles are priced in. No price type in that currency → the customer is reported.
* Business days: weekends and the configured holidays are not business days. An SLA of N
  business days runs from the submission time to the same wall-clock time N business days
  later (a submission on a non-business day starts at 00:00 of the next business day).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pendulum

# The same rule the catalog push prices styles with, so a customer's currency / price label pair
# always names a price type its styles are priced in.
from amc_joor.flows.catalog_mapping import price_type_for
from amc_joor.models.amc import garbled_fields, garbled_reason

#: JOOR's field length limits (customer_code and customer_name are documented; the rest are
#: the sandbox's [P] limits, kept in one place).
FIELD_LIMITS: dict[str, int] = {
    "customer_code": 50,
    "customer_name": 100,
    "customer_contact_name": 100,
    "customer_contact_email": 100,
    "customer_buyer_name": 100,
    "customer_phone": 30,
    "sales_rep_code": 50,
    "currency": 3,
    "price_label": 50,
}
ADDRESS_LIMITS: dict[str, int] = {
    "code": 50,
    "name": 100,
    "address_1": 100,
    "address_2": 100,
    "city": 50,
    "state": 50,
    "postal_code": 20,
    "country": 50,
}
REQUIRED_FIELDS: tuple[str, ...] = ("customer_code", "customer_name")

#: Where in the AMC customer each optional JOOR field comes from: the first non-empty one wins.
#: AMC tenants name contact/buyer/rep fields differently, so several spellings are accepted.
AMC_SOURCES: dict[str, tuple[str, ...]] = {
    "customer_contact_name": ("contact_name", "contact", "attention"),
    "customer_buyer_name": ("buyer_name", "buyer"),
    "customer_contact_email": ("email",),
    "customer_phone": ("phone",),
    "sales_rep_code": ("sales_rep_code", "salesperson_code", "salesperson", "rep_1", "sales_rep"),
}

#: Where a merchandiser fixes each JOOR field in AMC (for failure reasons).
AMC_FIELD_NAMES: dict[str, str] = {
    "customer_code": "JOOR code",
    "customer_name": "Customer Name",
    "customer_contact_name": "Contact",
    "customer_contact_email": "Email",
    "customer_buyer_name": "Buyer",
    "customer_phone": "Phone",
    "sales_rep_code": "Sales Rep",
    "currency": "Currency",
    "price_label": "Price Group",
}

#: The Data Services upload file: one row per customer and ship-to, JOOR's connection columns.
CSV_COLUMNS: tuple[str, ...] = (
    "customer_code", "customer_name", "customer_contact_name", "customer_contact_email",
    "customer_buyer_name", "customer_phone", "sales_rep_code", "currency", "price_label",
    "billing_code", "billing_name", "billing_address_1", "billing_address_2", "billing_city",
    "billing_state", "billing_postal_code", "billing_country",
    "shipping_code", "shipping_name", "shipping_address_1", "shipping_address_2", "shipping_city",
    "shipping_state", "shipping_postal_code", "shipping_country",
)

ENTITY = "customer"
NOW_ENV = "AMC_JOOR_NOW"


def _s(value: Any) -> str:
    """AMC values are mostly strings; None/NaN become ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a DataFrame
        return ""
    return str(value).strip()


def _first(row: Mapping[str, Any], names: Iterable[str]) -> str:
    for name in names:
        value = _s(row.get(name))
        if value:
            return value
    return ""


def customer_key(row: Mapping[str, Any]) -> str:
    """The JOOR customer code of an AMC customer ('' when it has none)."""
    return _s(row.get("joor_customer_code"))


def _address(row: Mapping[str, Any], code: str) -> dict[str, str]:
    return {
        "code": code,
        "name": _s(row.get("name") or row.get("customer_name")),
        "address_1": _s(row.get("address_1")),
        "address_2": _s(row.get("address_2")),
        "city": _s(row.get("city")),
        "state": _s(row.get("state")),
        "postal_code": _s(row.get("postal_code") or row.get("zip")),
        "country": _s(row.get("country")),
    }


def map_customer(
    customer: Mapping[str, Any],
    ship_tos: list[Mapping[str, Any]],
    currency_names: Mapping[str, str],
    default_currency: str,
) -> dict[str, Any]:
    """One AMC customer (+ its ship-tos) -> one JOOR connection payload (no validation here).

    ``price_label`` is the AMC price group here; :func:`plan_customers` replaces it with the
    matching JOOR price type's name when JOOR's price types are known.
    """
    payload: dict[str, Any] = {
        "customer_code": customer_key(customer),
        "customer_name": _s(customer.get("customer_name")),
    }
    for joor_field in ("customer_contact_name", "customer_buyer_name", "customer_contact_email",
                       "customer_phone", "sales_rep_code"):
        value = _first(customer, AMC_SOURCES[joor_field])
        if value:
            payload[joor_field] = value
    currency_id = _s(customer.get("currency_id"))
    payload["currency"] = _s(currency_names.get(currency_id)) if currency_id else default_currency
    price_label = _s(customer.get("price_group"))
    if price_label:
        payload["price_label"] = price_label
    payload["billing_address"] = _address(customer, _s(customer.get("customer_id")))
    payload["shipping_addresses"] = [
        _address(loc, _s(loc.get("ship_to_id")))
        for loc in sorted(ship_tos, key=lambda r: _sort_id(_s(r.get("ship_to_id"))))
    ]
    return payload


def _sort_id(value: str) -> tuple[int, str]:
    return (0, f"{int(value):020d}") if value.isdigit() else (1, value)


def resolve_price_label(
    payload: dict[str, Any], price_types: list[Mapping[str, Any]] | None
) -> str | None:
    """Set ``price_label`` to the JOOR price type's name; return a problem when none matches."""
    if price_types is None:
        return None
    currency = _s(payload.get("currency"))
    group = _s(payload.get("price_label"))
    pt = price_type_for(price_types, currency, group) if currency else None
    if pt is None:
        offered = ", ".join(sorted({f"{_s(p.get('name'))} ({_s(p.get('currency_code'))})" for p in price_types}))
        return (f"currency {currency or '-'} / price group {group or '-'} matches no JOOR price type "
                f"(JOOR has: {offered or 'none'}); fix the customer's Currency in AMC or ask JOOR to add "
                "a price type in that currency")
    payload["price_label"] = _s(pt.get("name"))
    return None


def validate_connection(payload: Mapping[str, Any], *, currency_known: bool = True) -> list[str]:
    """Every reason JOOR would refuse this connection, each naming the field and how to fix it."""
    problems: list[str] = []
    for name in REQUIRED_FIELDS:
        if not _s(payload.get(name)):
            problems.append(f"{name} is required ({AMC_FIELD_NAMES[name]} is empty in AMC)")
    for name, limit in FIELD_LIMITS.items():
        value = _s(payload.get(name))
        if len(value) > limit:
            problems.append(
                f"{name} is {len(value)} characters, JOOR allows at most {limit} "
                f"(shorten {AMC_FIELD_NAMES.get(name, name)} in AMC)"
            )
    addresses = [("billing_address", payload.get("billing_address") or {})]
    addresses += [("shipping_address", a) for a in payload.get("shipping_addresses") or []]
    for kind, addr in addresses:
        for name, limit in ADDRESS_LIMITS.items():
            value = _s(addr.get(name))
            if len(value) > limit:
                problems.append(
                    f"{kind} {_s(addr.get('code'))} {name} is {len(value)} characters, JOOR allows at most {limit}"
                )
    if not currency_known:
        problems.append("currency: the customer's AMC currency id is not in AMC /currencies")
    return problems


def record_problems(customer: Mapping[str, Any], ship_tos: Iterable[Mapping[str, Any]] = ()) -> list[str]:
    """What is wrong with the AMC record itself (not with the JOOR payload): garbled text, a
    ``last_modified_time`` that is not a date-time (the watermark could not place it)."""
    problems: list[str] = []
    garbled = garbled_fields(dict(customer))
    for loc in ship_tos:
        garbled += [f"ship-to {_s(loc.get('ship_to_id'))} {f}" for f in garbled_fields(dict(loc))]
    if garbled:
        problems.append(garbled_reason(garbled))
    stamp = _s(customer.get("last_modified_time"))
    if stamp and not _parses(stamp):
        problems.append(f"last_modified_time {stamp!r} is not an ISO-8601 date-time (AMC sent a bad value); "
                        "not sent — edit and save the customer in AMC so it gets a new time")
    return problems


def _parses(value: str) -> bool:
    try:
        _ts(value)
    except (ValueError, TypeError):  # pendulum.ParserError is a ValueError
        return False
    return True


def content_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of what would be sent: unchanged customers are not re-sent."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class CustomerFailure:
    key: str
    reason: str
    amc_customer_id: str
    last_modified_time: str


@dataclass
class CustomerPlan:
    """The outcome of planning: what to send, and every customer that cannot be sent and why."""

    records: list[dict[str, Any]] = field(default_factory=list)  # {key, customer_id, lmt, hash, payload}
    failures: list[CustomerFailure] = field(default_factory=list)
    skipped_no_code: list[str] = field(default_factory=list)  # AMC customer ids
    duplicate_codes: dict[str, list[str]] = field(default_factory=dict)  # code -> AMC customer ids


def plan_customers(
    customers: Iterable[Mapping[str, Any]],
    locations: Iterable[Mapping[str, Any]],
    currency_names: Mapping[str, str],
    price_types: list[Mapping[str, Any]] | None,
    default_currency: str,
    only_codes: Iterable[str] | None = None,
    code_owners: Mapping[str, Iterable[str]] | None = None,
) -> CustomerPlan:
    """Map and validate AMC customers; one bad customer never affects another.

    ``only_codes`` restricts the plan to those JOOR codes (the trigger form's customer codes);
    duplicates are still detected against every customer given. ``code_owners`` (JOOR code ->
    AMC customer ids, from a wider AMC read) finds duplicates with customers *not* read this
    run — an incremental run reads only changed customers.
    """
    plan = CustomerPlan()
    customers = list(customers)
    by_customer: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for loc in locations:
        by_customer[_s(loc.get("customer_id"))].append(loc)
    by_code: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in customers:
        code = customer_key(row)
        if not code:
            plan.skipped_no_code.append(_s(row.get("customer_id")))
            continue
        by_code[code.casefold()].append(row)
    wanted = {c.strip().casefold() for c in only_codes} if only_codes else None
    for folded, rows in sorted(by_code.items()):
        if wanted is not None and folded not in wanted:
            continue
        owners = {_s(r.get("customer_id")) for r in rows}
        for other in (code_owners or {}).get(folded, ()):
            owners.add(_s(other))
        if len(owners) > 1:
            ids = sorted(owners, key=_sort_id)
            plan.duplicate_codes[customer_key(rows[0])] = ids
            for r in rows:
                others = ", ".join(i for i in ids if i != _s(r.get("customer_id")))
                plan.failures.append(CustomerFailure(
                    key=customer_key(r),
                    reason=(f"JOOR code {customer_key(r)!r} is used by AMC customers {', '.join(ids)}; "
                            f"none of them was sent — give AMC customer {_s(r.get('customer_id'))} "
                            f"or {others} its own JOOR code"),
                    amc_customer_id=_s(r.get("customer_id")),
                    last_modified_time=_s(r.get("last_modified_time")),
                ))
            continue
        row = rows[0]
        cid = _s(row.get("customer_id"))
        currency_id = _s(row.get("currency_id"))
        payload = map_customer(row, by_customer.get(cid, []), currency_names, default_currency)
        known = not currency_id or currency_id in currency_names
        problems = validate_connection(payload, currency_known=known)
        if known:
            price_problem = resolve_price_label(payload, price_types)
            if price_problem:
                problems.append(price_problem)
        problems.extend(record_problems(row, by_customer.get(cid, [])))
        if problems:
            plan.failures.append(CustomerFailure(
                key=payload["customer_code"] or f"amc:{cid}",
                reason=f"AMC customer {cid}: " + "; ".join(problems),
                amc_customer_id=cid,
                last_modified_time=_s(row.get("last_modified_time")),
            ))
            continue
        plan.records.append({
            "key": payload["customer_code"],
            "customer_id": cid,
            "last_modified_time": _s(row.get("last_modified_time")),
            "content_hash": content_hash(payload),
            "payload": payload,
        })
    if wanted is not None:
        found = set(by_code)
        for code in sorted(wanted - found):
            plan.failures.append(CustomerFailure(
                key=code, reason=f"no AMC customer has JOOR code {code!r}", amc_customer_id="",
                last_modified_time="",
            ))
    return plan


def csv_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The Data Services upload rows: one per customer and ship-to (one if it has none)."""
    out: list[dict[str, str]] = []
    for rec in records:
        p = rec["payload"]
        base = {c: _s(p.get(c)) for c in CSV_COLUMNS if not c.startswith(("billing_", "shipping_"))}
        bill = p.get("billing_address") or {}
        for k, v in bill.items():
            base[f"billing_{k}"] = _s(v)
        ships = p.get("shipping_addresses") or [{}]
        for ship in ships:
            row = dict(base)
            for k, v in ship.items():
                row[f"shipping_{k}"] = _s(v)
            out.append({c: row.get(c, "") for c in CSV_COLUMNS})
    return out


def chunk(items: list[Any], size: int) -> list[list[Any]]:
    """Split into batches of at most ``size`` (JOOR's bulk-connection limit)."""
    if size < 1:
        raise ValueError("batch size must be >= 1")
    return [items[i : i + size] for i in range(0, len(items), size)]


# --------------------------------------------------------------------------- watermark


def next_watermark(
    current: str | None,
    seen: Iterable[tuple[str, bool]],
) -> str | None:
    """The new watermark from (last_modified_time, acknowledged) of every customer read this run.

    It never moves past an unacknowledged customer: with unacknowledged ones it stops at the
    oldest of them (the AMC filter is ``>=``, so that customer is read again); otherwise it
    moves to the newest time read. It never moves backwards.
    """
    # a time that does not parse cannot place the watermark (its customer is reported instead)
    seen = [(t, ok) for t, ok in seen if t and _parses(t)]
    if not seen:
        return current
    pending = [t for t, ok in seen if not ok]
    candidate = min(pending, key=_ts) if pending else max((t for t, _ in seen), key=_ts)
    if current and _ts(candidate) <= _ts(current):
        return current
    return candidate


def _ts(value: str) -> datetime:
    return pendulum.parse(value).in_timezone("UTC")  # type: ignore[union-attr]


# --------------------------------------------------------------------------- SLA (business days)


def now_utc() -> pendulum.DateTime:
    """The one clock the SLA reads: real UTC time, or ``AMC_JOOR_NOW`` (ISO-8601) when set.

    The override exists so tests (and demos) can move time together with the sandbox's clock;
    production never sets it.
    """
    override = os.environ.get(NOW_ENV, "").strip()
    if override:
        return pendulum.parse(override).in_timezone("UTC")  # type: ignore[union-attr]
    return pendulum.now("UTC")


def _to_pendulum(moment: datetime | str, tz: str) -> pendulum.DateTime:
    if isinstance(moment, str):
        parsed = pendulum.parse(moment)
    else:
        parsed = pendulum.instance(moment if moment.tzinfo else moment.replace(tzinfo=pendulum.UTC))
    return parsed.in_timezone(tz)  # type: ignore[union-attr]


def is_business_day(day: date, holidays: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def add_business_days(
    start: datetime | str, days: int, holidays: Iterable[date] = (), tz: str = "UTC"
) -> pendulum.DateTime:
    """``start`` plus ``days`` business days (same wall-clock time), in UTC."""
    hol = {date(h.year, h.month, h.day) for h in holidays}
    moment = _to_pendulum(start, tz)
    if not is_business_day(moment.date(), hol):
        moment = moment.start_of("day")
        for _ in range(400):
            moment = moment.add(days=1)
            if is_business_day(moment.date(), hol):
                break
    remaining = days
    for _ in range(400 + days * 3):
        if remaining <= 0:
            break
        moment = moment.add(days=1)
        if is_business_day(moment.date(), hol):
            remaining -= 1
    return moment.in_timezone("UTC")


def business_days_elapsed(
    start: datetime | str, now: datetime | str, holidays: Iterable[date] = (), tz: str = "UTC", cap: int = 365
) -> int:
    """Whole business days between ``start`` and ``now`` (0 if fewer than one)."""
    hol = list(holidays)
    now_p = _to_pendulum(now, "UTC")
    n = 0
    while n < cap and add_business_days(start, n + 1, hol, tz) <= now_p:
        n += 1
    return n


@dataclass(frozen=True)
class SlaStatus:
    key: str
    submitted_at: str
    deadline: str
    business_days_pending: int
    breached: bool


def sla_status(
    key: str, submitted_at: datetime | str, now: datetime | str, sla_days: int,
    holidays: Iterable[date] = (), tz: str = "UTC",
) -> SlaStatus:
    """Where one pending customer stands against the Data Services SLA."""
    hol = list(holidays)
    deadline = add_business_days(submitted_at, sla_days, hol, tz)
    now_p = _to_pendulum(now, "UTC")
    return SlaStatus(
        key=key,
        submitted_at=_to_pendulum(submitted_at, "UTC").to_iso8601_string(),
        deadline=deadline.to_iso8601_string(),
        business_days_pending=business_days_elapsed(submitted_at, now_p, hol, tz),
        breached=now_p > deadline,
    )


def breach_reason(status: SlaStatus, sla_days: int) -> str:
    return (
        f"new customer {status.key} submitted {status.submitted_at} is still pending JOOR Data Services "
        f"after {status.business_days_pending} business day(s) (SLA {sla_days}, deadline {status.deadline}); "
        "ask JOOR Data Services about it"
    )
