"""The AMC sandbox's mutable company data and the operations on it (no HTTP here).

Why separate from the app: the query language (PHP-bracket filters, two paging styles), the
order-creation rules and the "a user edited something in AMC" mutations are pure logic, so
they can be reasoned about and unit-tested without a server; ``amc_app`` only translates HTTP.

Ordering: every resource is kept sorted by its numeric key, and new ids are allocated above
the current maximum, so appends keep the order and ``pagination[last_id]`` is a bisect.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from amc_joor_sandbox.datasets import (
    ORDER_HEADER_FIELDS,
    PRICE_GROUPS,
    QTY_FIELDS,
    RESOURCES,
    AmcData,
    Row,
    build_amc,
    format_ts,
    upc_check_digit,
)

OPERATORS = ("=", ">", ">=", "<", "<=", "contains")
TS_FIELDS = frozenset({"last_modified_time", "last_updated"})
LIST_FIELDS = frozenset({"images", "price_groups", "order_items"})
DATE_RE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
#: Filtered match lists kept for page-number paging (each holds row references, not copies).
MATCH_CACHE_SIZE = 32
# Fields a sandbox admin may not edit through the generic edit (keys, and derived totals).
READ_ONLY = {
    "products": {"product_id", "last_modified_time"},
    "product_attributes": {"id", "product_id"},
    "inventory": {"sku_id", "product_id", "last_modified_time", *QTY_FIELDS},
    "sku_warehouse": {"sku_id", "warehouse_id", "last_modified_time"},
    "customers": {"customer_id", "last_modified_time"},
    "orders": {"order_id", "order_items", "last_modified_time"},
}


class QueryError(ValueError):
    """A request the AMC API answers with HTTP 200 and a ``meta.errors`` entry."""


class NotFound(KeyError):
    """A record id that does not exist (admin mutations answer 404)."""


# --------------------------------------------------------------------------- query parsing


def parse_brackets(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """PHP-style ``a[b][c]=v`` query items into nested dicts (``a[]`` appends numbered keys)."""
    out: dict[str, Any] = {}
    for raw_key, value in items:
        head, _, rest = raw_key.partition("[")
        parts = [head] + (re.findall(r"\[([^\]]*)\]", "[" + rest) if rest else [])
        node = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "" and i > 0:
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return out


def normalize_ts(value: str) -> str:
    """A client's date or datetime as AMC's stored ``YYYY-MM-DDTHH:MM:SSZ`` (comparable as text)."""
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise QueryError(f"Invalid date value '{value}'") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_ts(moment)


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Condition:
    """One ``parameters[i]`` filter."""

    field: str
    operator: str
    value: str
    include_type: str = "AND"

    def predicate(self) -> Callable[[Row], bool]:
        """A fast row test; datetimes compare as normalized text, numbers numerically."""
        f, op = self.field, self.operator
        if op == "contains":
            needle = self.value.lower()
            return lambda r: needle in str(r.get(f, "")).lower()
        if f in TS_FIELDS:
            v = normalize_ts(self.value)
            return _compare_text(f, op, v)
        num = _number(self.value)
        if num is None:
            return _compare_text(f, op, self.value)
        return _compare_numeric(f, op, self.value, num)


def _compare_text(f: str, op: str, v: str) -> Callable[[Row], bool]:
    if op == "=":
        return lambda r: r.get(f, "") == v
    if op == ">":
        return lambda r: r.get(f, "") > v
    if op == ">=":
        return lambda r: r.get(f, "") >= v
    if op == "<":
        return lambda r: r.get(f, "") < v
    return lambda r: r.get(f, "") <= v


def _compare_numeric(f: str, op: str, text: str, v: float) -> Callable[[Row], bool]:
    def test(r: Row) -> bool:
        raw = r.get(f, "")
        if op == "=" and raw == text:
            return True
        got = _number(raw)
        if got is None:  # a non-numeric value: fall back to text order
            return {"=": raw == text, ">": raw > text, ">=": raw >= text, "<": raw < text,
                    "<=": raw <= text}[op]
        return {"=": got == v, ">": got > v, ">=": got >= v, "<": got < v, "<=": got <= v}[op]

    return test


@dataclass(frozen=True)
class Paging:
    """Either page-number paging or last-id (cursor) paging."""

    page_size: int
    page_number: int = 1
    last_id: str | None = None


def parse_query(resource: str, params: dict[str, Any], default_size: int, max_size: int,
                styles: str = "both") -> tuple[list[Condition], Paging]:
    """Filters and paging from bracket-parsed query params; raises QueryError like AMC's meta.errors."""
    fields_, _ = RESOURCES[resource]
    conditions: list[Condition] = []
    raw_params = params.get("parameters") or {}
    if not isinstance(raw_params, dict):
        raise QueryError("Invalid parameters: expected parameters[i][field]")
    for idx in sorted(raw_params, key=lambda k: (not str(k).isdigit(), int(k) if str(k).isdigit() else 0, k)):
        spec = raw_params[idx]
        if not isinstance(spec, dict) or "field" not in spec:
            raise QueryError(f"Invalid parameters[{idx}]: 'field' is required")
        fld = spec["field"]
        if fld not in fields_:
            raise QueryError(f"Invalid filter field '{fld}' for {resource}")
        if fld in LIST_FIELDS:
            raise QueryError(f"Field '{fld}' cannot be filtered")
        op = spec.get("operator", "=") or "="
        if op not in OPERATORS:
            raise QueryError(f"Invalid operator '{op}' in parameters[{idx}]")
        inc = str(spec.get("include_type", "AND") or "AND").upper()
        if inc not in ("AND", "OR"):
            raise QueryError(f"Invalid include_type '{inc}' in parameters[{idx}]")
        conditions.append(Condition(fld, op, str(spec.get("value", "")), inc))
    pag = params.get("pagination") or {}
    if not isinstance(pag, dict):
        pag = {}

    def as_int(name: str, default: int) -> int:
        raw = pag.get(name)
        if raw in (None, ""):
            return default
        if not str(raw).isdigit() or int(raw) < 1:
            raise QueryError(f"Invalid pagination[{name}] '{raw}'")
        return int(raw)

    size = min(as_int("page_size", default_size), max_size)
    if "last_id" in pag and styles in ("both", "last_id"):
        return conditions, Paging(page_size=size, last_id=str(pag["last_id"]))
    if styles == "last_id":
        return conditions, Paging(page_size=size, last_id="")
    return conditions, Paging(page_size=size, page_number=as_int("page_number", 1))


def combine(conditions: list[Condition]) -> Callable[[Row], bool] | None:
    """Left-to-right AND/OR over the conditions (``include_type`` joins a condition to the ones before)."""
    if not conditions:
        return None
    preds = [(c.include_type, c.predicate()) for c in conditions]
    first = preds[0][1]
    rest = preds[1:]

    def test(r: Row) -> bool:
        ok = first(r)
        for inc, p in rest:
            ok = (ok or p(r)) if inc == "OR" else (ok and p(r))
        return ok

    return test


# --------------------------------------------------------------------------- the state


def _key_of(keys: tuple[str, ...], row: Row) -> tuple[int, ...]:
    return tuple(int(row[k]) for k in keys)


def _cursor_key(keys: tuple[str, ...], last_id: str) -> tuple[int, ...]:
    """``"123"`` or ``"123:2"`` (composite keys) → the sort key after which a page starts."""
    if last_id in ("", "0"):
        return (-1,) * len(keys)
    parts = last_id.split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError as exc:
        raise QueryError(f"Invalid pagination[last_id] '{last_id}'") from exc
    nums += [10**18] * (len(keys) - len(nums))
    return tuple(nums[: len(keys)])


class AmcState:
    """AMC's records plus the operations the API and the admin API perform on them.

    ``now`` returns the sandbox clock's time (shared with the JOOR sandbox) so stamped
    ``last_modified_time`` values move with a moved clock.
    """

    def __init__(self, data: AmcData, now: Callable[[], datetime], dataset: str = "small", seed: int = 1) -> None:
        self.now = now
        self.lock = threading.RLock()
        # Data version: bumped by every mutation. Page-number paging over a filter keeps the
        # filtered, key-ordered match list per (resource, conditions) for the version it was
        # built on, so page N costs O(page) instead of a scan of the whole table per page
        # (151 pages of one warehouse's /sku_warehouse on `large` re-scanned 300k rows each).
        self.version = 0
        self._matches: OrderedDict[tuple[Any, ...], tuple[int, list[Row]]] = OrderedDict()
        self.config: dict[str, Any] = {
            "default_page_size": 100,
            "max_page_size": 1000,
            "paging_styles": "both",  # both | page_number | last_id (tenants disagree)
        }
        self.load(data, dataset, seed)

    # ---- loading

    def load(self, data: AmcData, dataset: str, seed: int) -> None:
        """Replace all records (reset / restore) and rebuild indexes."""
        with self.lock:
            self._mutated()
            self.dataset, self.seed = dataset, seed
            self.data = data
            self._keys: dict[str, list[tuple[int, ...]]] = {}
            self._index: dict[str, dict[str, list[Row]]] = {}
            for name, (_fields, keys) in RESOURCES.items():
                rows = data.resource(name)
                rows.sort(key=lambda r, k=keys: _key_of(k, r))
                self._keys[name] = [_key_of(keys, r) for r in rows]
                idx: dict[str, list[Row]] = {}
                for r in rows:
                    idx.setdefault(r[keys[0]], []).append(r)
                self._index[name] = idx
            self._next_id = {
                name: max((k[0] for k in self._keys[name]), default=0) + 1 for name in RESOURCES
            }
            self._next_id["orders"] = max(self._next_id["orders"], 70001)
            self._next_id["customers"] = max(self._next_id["customers"], 2001)
            self._next_order_item = 1 + max(
                (int(i["order_item_id"]) for o in data.orders for i in o.get("order_items", [])), default=900000
            )
            self._next_upc_body = 1 + max((int(r["upc_display"][:11]) for r in data.inventory), default=81234500000)
            self.sku_wh = {(r["sku_id"], r["warehouse_id"]): r for r in data.sku_warehouse}
            self.price_groups = {g: cid for g, _iso, cid, _r, _m in PRICE_GROUPS}
            self._images: set[str] | None = None

    def image_paths(self) -> set[str]:
        """Every ``/images/...`` path the records point at (what the image route serves)."""
        with self.lock:
            if self._images is None:
                found: set[str] = set()
                for rows in (self.data.products, self.data.product_attributes):
                    for r in rows:
                        for img in r.get("images") or []:
                            if isinstance(img, dict) and str(img.get("img", "")).startswith("/images/"):
                                found.add(img["img"])
                self._images = found
            return self._images

    def reset(self, dataset: str | None = None, seed: int | None = None) -> None:
        """Back to the pristine data set (the current one unless named)."""
        dataset = dataset or self.dataset
        seed = self.seed if seed is None else int(seed)
        self.load(build_amc(dataset, seed), dataset, seed)

    def stamp(self) -> str:
        return format_ts(self.now())

    def _mutated(self) -> None:
        """Call (under the lock) before any change to the records: cached match lists go stale."""
        self.version += 1
        self._matches.clear()

    def _matching(self, resource: str, conditions: list[Condition], test: Callable[[Row], bool]) -> list[Row]:
        """The rows of ``resource`` passing ``test``, in key order; cached per data version."""
        key = (resource, tuple(conditions))
        hit = self._matches.get(key)
        if hit is not None and hit[0] == self.version:
            self._matches.move_to_end(key)
            return hit[1]
        matched = [r for r in self.data.resource(resource) if test(r)]
        self._matches[key] = (self.version, matched)
        while len(self._matches) > MATCH_CACHE_SIZE:
            self._matches.popitem(last=False)
        return matched

    # ---- reads

    def get(self, resource: str, record_id: str) -> list[Row]:
        """Rows whose first key field equals ``record_id`` (AMC answers an array even for one id)."""
        return list(self._index[resource].get(record_id, []))

    def find(self, resource: str, params: dict[str, Any]) -> tuple[list[Row], dict[str, Any]]:
        """One page of ``resource`` for bracket-parsed query ``params`` → (rows, meta.pagination)."""
        conditions, paging = parse_query(
            resource, params, int(self.config["default_page_size"]), int(self.config["max_page_size"]),
            str(self.config["paging_styles"]),
        )
        test = combine(conditions)
        with self.lock:
            rows = self.data.resource(resource)
            keys = RESOURCES[resource][1]
            size = paging.page_size
            if paging.last_id is not None:
                start = bisect.bisect_right(self._keys[resource], _cursor_key(keys, paging.last_id))
                page: list[Row] = []
                tail = itertools.islice(rows, start, None)
                for r in tail if test is None else (r for r in tail if test(r)):
                    page.append(r)
                    if len(page) >= size:
                        break
                last = ":".join(page[-1][k] for k in keys) if page else paging.last_id
                return page, {"last_id": last, "page_size": size}
            matched = rows if test is None else self._matching(resource, conditions, test)
            total = len(matched)
            offset = (paging.page_number - 1) * size
            page = matched[offset: offset + size]
            return page, {
                "page_number": paging.page_number,
                "page_size": size,
                "total_pages": (total + size - 1) // size,
                "total_records": total,
            }

    # ---- orders

    def create_order(self, header: Any, items: Any) -> tuple[Row | None, list[str]]:
        """Validate and create an order; on any error nothing is created and the errors come back."""
        errors: list[str] = []
        if not isinstance(header, dict):
            return None, ["Order header is required"]
        if not isinstance(items, list) or not items:
            return None, ["Order must have at least one item"]
        with self.lock:
            cust_id = str(header.get("customer_id", "") or "")
            found = self._index["customers"].get(cust_id)
            if not found:
                return None, [f"Invalid customer_id '{cust_id}'"]
            customer = found[0]
            resolved: dict[str, str] = {}
            checks = {"division_id": ("divisions", "division"), "warehouse_id": ("warehouses", "warehouse"),
                      "ar_acct": (None, "AR account"), "currency_id": ("currencies", "currency")}
            for fld, (lookup, label) in checks.items():
                value = str(header.get(fld) or customer.get(fld) or "")
                if not value:
                    errors.append(f"Customer {cust_id} has no default {label} and the order does not set {fld}")
                elif lookup and value not in self._index[lookup]:
                    errors.append(f"Invalid {fld} '{value}'")
                resolved[fld] = value
            terms = str(header.get("terms_id") or "")
            if terms and terms not in self._index["terms"]:
                errors.append(f"Invalid terms_id '{terms}'")
            ship_to = str(header.get("ship_to_id") or "")
            location: Row | None = None
            if ship_to:
                found_loc = self._index["locations"].get(ship_to)
                if not found_loc or found_loc[0]["customer_id"] != cust_id:
                    errors.append(f"Invalid ship_to_id '{ship_to}' for customer {cust_id}")
                else:
                    location = found_loc[0]
            for fld in ("date", "date_start", "date_due"):
                value = header.get(fld)
                if value not in (None, "") and not DATE_RE.match(str(value)):
                    errors.append(f"Invalid {fld} '{value}': expected MM/DD/YYYY")
            group = customer.get("price_group", "")
            lines: list[Row] = []
            for n, item in enumerate(items, start=1):
                line, line_errors = self._order_line(n, item, group)
                errors.extend(line_errors)
                if line:
                    lines.append(line)
            if errors:
                return None, errors
            if location is not None:  # the ship-to fills the address fields the header left blank
                for fld in ("name", "address_1", "address_2", "city", "state", "postal_code", "country"):
                    resolved.setdefault(fld, str(header.get(fld) or location.get(fld, "")))
            return self._commit_order(header, customer, resolved, lines), []

    def _order_line(self, n: int, item: Any, group: str) -> tuple[Row | None, list[str]]:
        if not isinstance(item, dict):
            return None, [f"Item {n}: not an object"]
        sku_id = str(item.get("sku_id", "") or "")
        sku = self._index["inventory"].get(sku_id)
        errs: list[str] = []
        if not sku:
            errs.append(f"Item {n}: invalid sku_id '{sku_id}'")
        elif sku[0]["active"] != "1":
            errs.append(f"Item {n}: SKU {sku_id} is inactive")
        qty = _as_int(item.get("qty"))
        if qty is None or qty <= 0:
            errs.append(f"Item {n}: invalid qty '{item.get('qty')}'")
        price = _as_decimal(item.get("unit_price")) if item.get("unit_price") not in (None, "") else None
        if item.get("unit_price") not in (None, "") and (price is None or price < 0):
            errs.append(f"Item {n}: invalid unit_price '{item.get('unit_price')}'")
        if errs or sku is None or qty is None:
            return None, errs
        row = sku[0]
        if price is None:
            product = self._index["products"][row["product_id"]][0]
            by_group = {g["price_group"]: g["price"] for g in product.get("price_groups", [])}
            price = Decimal(by_group.get(group) or product["price"])
        amount = _as_decimal(item.get("amount")) if item.get("amount") not in (None, "") else None
        if amount is None:
            amount = price * qty
        return {
            "order_item_id": "", "sku_id": sku_id, "style_number": row["style_number"], "attr_2": row["attr_2"],
            "size": row["size"], "upc_display": row["upc_display"], "qty": str(qty),
            "unit_price": f"{price:.2f}", "amount": f"{amount:.2f}",
        }, []

    def _commit_order(self, header: Row, customer: Row, resolved: dict[str, str], lines: list[Row]) -> Row:
        self._mutated()
        stamp = self.stamp()
        today = self.now().strftime("%m/%d/%Y")
        order_id = str(self._next_id["orders"])
        self._next_id["orders"] += 1
        for line in lines:
            line["order_item_id"] = str(self._next_order_item)
            self._next_order_item += 1
        order: Row = {"order_id": order_id}
        for fld in ORDER_HEADER_FIELDS:
            value = header.get(fld)
            order[fld] = "" if value is None else str(value)
        order.update(resolved)
        order["date"] = order["date"] or today
        order["terms_id"] = order["terms_id"] or customer.get("terms_id", "")
        order["credit_status"] = order["credit_status"] or "Pending"
        order["qty"] = str(sum(int(li["qty"]) for li in lines))
        order["amount"] = f"{sum(Decimal(li['amount']) for li in lines):.2f}"
        order["order_items"] = lines
        order["last_modified_time"] = stamp
        self._append("orders", order)
        # an open order reserves stock in its warehouse: AMC's open sales go up, available goes down
        for line in lines:
            self._shift_stock(line["sku_id"], resolved["warehouse_id"], open_delta=int(line["qty"]), stamp=stamp)
        return order

    def _append(self, resource: str, row: Row) -> None:
        self._mutated()
        keys = RESOURCES[resource][1]
        self.data.resource(resource).append(row)
        self._keys[resource].append(_key_of(keys, row))
        self._index[resource].setdefault(row[keys[0]], []).append(row)

    def orders(self) -> list[Row]:
        """Every AMC order (admin inspection)."""
        with self.lock:
            return list(self.data.orders)

    # ---- stock

    def _shift_stock(self, sku_id: str, warehouse_id: str, open_delta: int, stamp: str) -> None:
        self._mutated()
        row = self.sku_wh.get((sku_id, warehouse_id))
        if row is None:
            row = self._new_stock_row(sku_id, warehouse_id, stamp)
        row["qty_open_sales"] = str(int(row["qty_open_sales"]) + open_delta)
        row["qty_avail_sell"] = str(int(row["qty_avail_sell"]) - open_delta)
        row["last_modified_time"] = stamp
        self._retotal(sku_id, stamp)

    def _new_stock_row(self, sku_id: str, warehouse_id: str, stamp: str) -> Row:
        row = {"sku_id": sku_id, "warehouse_id": warehouse_id, "qty_inventory": "0", "qty_avail_sell": "0",
               "qty_avail_alloc": "0", "qty_open_sales": "0", "last_modified_time": stamp}
        self._mutated()
        rows, keys = self.data.sku_warehouse, self._keys["sku_warehouse"]
        key = (int(sku_id), int(warehouse_id))
        pos = bisect.bisect_left(keys, key)
        rows.insert(pos, row)
        keys.insert(pos, key)
        self._index["sku_warehouse"].setdefault(sku_id, []).append(row)
        self.sku_wh[(sku_id, warehouse_id)] = row
        return row

    def _retotal(self, sku_id: str, stamp: str) -> None:
        self._mutated()
        inv = self._index["inventory"][sku_id][0]
        per_wh = self._index["sku_warehouse"].get(sku_id, [])
        for f in QTY_FIELDS:
            inv[f] = str(sum(int(r[f]) for r in per_wh))
        inv["last_modified_time"] = stamp

    def set_stock(self, sku_id: str, warehouse_id: str, values: dict[str, Any]) -> dict[str, Row]:
        """A user changes stock in AMC: set any of the four qty fields for one SKU in one warehouse.

        Setting only ``qty_inventory`` moves both available fields by the same delta (stock
        received or written off); ``delta_inventory`` adds instead of sets.
        """
        with self.lock:
            if sku_id not in self._index["inventory"]:
                raise NotFound(f"sku_id {sku_id}")
            if warehouse_id not in self._index["warehouses"]:
                raise NotFound(f"warehouse_id {warehouse_id}")
            unknown = set(values) - {*QTY_FIELDS, "delta_inventory"}
            if unknown:
                raise ValueError(f"unknown stock fields: {sorted(unknown)}")
            parsed = {k: _as_int(v) for k, v in values.items()}
            bad = [k for k, v in parsed.items() if v is None]
            if bad:
                raise ValueError(f"stock values must be integers: {bad}")
            self._mutated()
            stamp = self.stamp()
            row = self.sku_wh.get((sku_id, warehouse_id)) or self._new_stock_row(sku_id, warehouse_id, stamp)
            old_inv = int(row["qty_inventory"])
            if "delta_inventory" in parsed:
                parsed["qty_inventory"] = old_inv + int(parsed.pop("delta_inventory") or 0)
            if "qty_inventory" in parsed:
                delta = int(parsed["qty_inventory"] or 0) - old_inv
                for f in ("qty_avail_sell", "qty_avail_alloc"):
                    if f not in parsed:
                        parsed[f] = int(row[f]) + delta
            for f, v in parsed.items():
                row[f] = str(v)
            row["last_modified_time"] = stamp
            self._retotal(sku_id, stamp)
            return {"sku_warehouse": dict(row), "inventory": dict(self._index["inventory"][sku_id][0])}

    # ---- edits

    def update(self, resource: str, record_id: str, changes: dict[str, Any]) -> Row:
        """A user edits a record in AMC; a real change bumps ``last_modified_time``.

        Colorway and SKU edits also bump their style's ``last_modified_time`` (the style is
        what changed, as far as an incremental catalog reader can see).
        """
        if resource not in RESOURCES:
            raise NotFound(f"resource {resource}")
        fields_, keys = RESOURCES[resource]
        unknown = [f for f in changes if f not in fields_]
        if unknown:
            raise ValueError(f"unknown {resource} fields: {unknown}")
        locked = [f for f in changes if f in READ_ONLY.get(resource, set(keys))]
        if locked:
            raise ValueError(f"{resource} fields cannot be edited here: {locked}")
        with self.lock:
            found = self._index[resource].get(record_id)
            if not found or len(found) != 1:
                raise NotFound(f"{resource} {record_id}")
            row = found[0]
            self._mutated()
            changed = False
            for f, v in changes.items():
                new = v if f in LIST_FIELDS else ("" if v is None else str(v))
                if row.get(f) != new:
                    row[f] = new
                    changed = True
            if changed:
                self._images = None
                stamp = self.stamp()
                if "last_modified_time" in fields_:
                    row["last_modified_time"] = stamp
                if resource == "currencies":
                    row["last_updated"] = stamp
                if resource in ("product_attributes", "inventory"):
                    self._touch_product(row["product_id"], stamp)
                if resource == "product_attributes" and "joor_sync" in changes:
                    # the colorway's SYNC flag is what the SKUs report
                    for sku in self.data.inventory:
                        if sku["product_id"] == row["product_id"] and sku["attr_2"] == row["attribute_2"]:
                            sku["joor_sync"] = row["joor_sync"]
                            sku["last_modified_time"] = stamp
            return row

    def _touch_product(self, product_id: str, stamp: str) -> None:
        self._mutated()
        found = self._index["products"].get(product_id)
        if found:
            found[0]["last_modified_time"] = stamp

    def set_rate(self, currency_id: str, rate: Any) -> Row:
        """A user changes an exchange rate (units per 1 default currency)."""
        value = _as_decimal(rate)
        if value is None or value <= 0:
            raise ValueError(f"rate must be a positive decimal, got {rate!r}")
        return self.update("currencies", currency_id, {"rate": str(rate)})

    def create_customer(self, fields_in: dict[str, Any]) -> Row:
        """A user adds a customer in AMC (unset fields are empty strings, as AMC returns them)."""
        fields_, _ = RESOURCES["customers"]
        unknown = [f for f in fields_in if f not in fields_]
        if unknown:
            raise ValueError(f"unknown customers fields: {unknown}")
        if not fields_in.get("customer_name"):
            raise ValueError("customer_name is required")
        with self.lock:
            cid = str(self._next_id["customers"])
            self._next_id["customers"] += 1
            row: Row = {f: "" for f in fields_}
            row.update({k: "" if v is None else str(v) for k, v in fields_in.items()})
            row["customer_id"] = cid
            row["status"] = row["status"] or "Active"
            row["last_modified_time"] = self.stamp()
            self._append("customers", row)
            return row

    def add_style(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A user creates a style with colorways and a size run; SKUs get fresh valid UPCs, zero stock."""
        colors = spec.get("colors") or []
        sizes = spec.get("sizes") or []
        if not spec.get("style_number") or not colors or not sizes:
            raise ValueError("add_style needs style_number, colors [{name, code}] and sizes [..]")
        product_fields = RESOURCES["products"][0]
        extra = [k for k in spec if k not in product_fields and k not in ("colors", "sizes")]
        if extra:
            raise ValueError(f"unknown products fields: {extra}")
        with self.lock:
            if any(p["style_number"] == spec["style_number"] for p in self.data.products):
                raise ValueError(f"style_number {spec['style_number']} already exists")
            stamp = self.stamp()
            pid = str(self._next_id["products"])
            self._next_id["products"] += 1
            price = str(spec.get("price", "50.00"))
            product: Row = {f: "" for f in product_fields}
            product.update({k: v if k in LIST_FIELDS else str(v) for k, v in spec.items() if k in product_fields})
            product.update({"product_id": pid, "price": price, "is_product": "1", "last_modified_time": stamp})
            product["joor_sync"] = product["joor_sync"] or "1"
            product["retail_price"] = product["retail_price"] or f"{Decimal(price) * 2:.2f}"
            product["images"] = spec.get("images") or []
            if not spec.get("price_groups"):
                rates = {c["id"]: Decimal(c["rate"]) for c in self.data.currencies}
                product["price_groups"] = [
                    {"price_group": g, "currency_id": cid, "price": f"{Decimal(price) * rates.get(cid, Decimal(1)):.2f}"}
                    for g, cid in self.price_groups.items()
                ]
            self._append("products", product)
            self._images = None
            created: dict[str, Any] = {"product": product, "colorways": [], "skus": []}
            for color in colors:
                cw = {"id": str(self._next_id["product_attributes"]), "product_id": pid,
                      "attribute_2": str(color["name"]), "color_code": str(color.get("code", "")),
                      "season": product["season"], "joor_sync": str(color.get("joor_sync", "1")), "images": []}
                self._next_id["product_attributes"] += 1
                self._append("product_attributes", cw)
                created["colorways"].append(cw)
                for pos, size in enumerate(sizes, start=1):
                    sid = str(self._next_id["inventory"])
                    self._next_id["inventory"] += 1
                    body = str(self._next_upc_body)
                    self._next_upc_body += 1
                    sku = {"sku_id": sid, "product_id": pid, "style_number": product["style_number"],
                           "attr_2": cw["attribute_2"], "size": str(size), "size_position": str(pos),
                           "upc_display": body + upc_check_digit(body), "active": "1",
                           "joor_sync": cw["joor_sync"], "qty_inventory": "0", "qty_avail_sell": "0",
                           "qty_avail_alloc": "0", "qty_open_sales": "0", "last_modified_time": stamp}
                    self._append("inventory", sku)
                    for wh in self.data.warehouses:
                        self._new_stock_row(sid, wh["id"], stamp)
                    created["skus"].append(sku)
            return created

    # ---- persistence

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"dataset": self.dataset, "seed": self.seed, "config": dict(self.config),
                    "amc": self.data.to_dict()}

    def restore(self, saved: dict[str, Any]) -> None:
        self.config.update(saved.get("config") or {})
        self.load(AmcData.from_dict(saved["amc"]), saved.get("dataset", "small"), int(saved.get("seed", 1)))


def _as_int(value: Any) -> int | None:
    """An integral quantity from an int, an integral float, or a digit string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    return None


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None
