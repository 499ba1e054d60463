"""The JOOR sandbox's memory and rules, without HTTP: catalog, inventory, connections, orders.

Why separate: every rule in shared/reference/joor-api.md (DUPLICATED, INACTIVE strips order
lines, ``overwrite=1`` zeroes, Data Services pending, the credit window…) is plain logic that
reads best, and is tested fastest, without a web framework around it. ``joor_app`` maps HTTP
onto these methods.

All records are plain dicts keyed by id (v4 ids are opaque strings); every bulk method is O(n)
in its input thanks to the secondary indexes kept next to each table. One uvicorn event loop
runs every handler, so no locks are needed beyond what the rate limiter shares with stats.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import random
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from amc_joor_sandbox.common import SandboxClock, iso_z, parse_when
from amc_joor_sandbox.joor_seed import (
    ACCOUNT_ID,
    COLOR_TRAIT_ID,
    SIZE_TRAIT_ID,
    build_joor_seed,
    joor_id,
)

Row = dict[str, Any]

ORDER_STATUSES = ("IN_PROGRESS", "NOTES", "PENDING", "APPROVED", "SHIPPED", "CANCELLED")
EXPORT_STATUSES = ("SUCCESS", "FAILED", "UNDEFINED")
IDENTIFIER_TYPES = ("upc", "gtin", "ean", "mpn")
ASSET_TYPES = ("image", "swatch")
ASSET_EXTENSIONS = ("jpeg", "jpg", "png", "gif")
MONEY_RE = re.compile(r"^\d{1,12}(\.\d{1,4})?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONFIG_ENV = "AMC_JOOR_SANDBOX_JOOR_CONFIG"  # JSON of JoorConfig fields, for the serve CLI


# --------------------------------------------------------------------------- config


@dataclass
class JoorConfig:
    """Every sandbox knob a test may turn (``POST /_sandbox/config``) — defaults = the contract."""

    rate_limit_enabled: bool = True
    credits_per_window: int = 300
    window_seconds: float = 300.0
    get_cost: int = 1
    write_cost: int = 5
    max_v4_bulk_items: int = 500
    max_v2_bulk_items: int = 1000
    max_page_size: int = 200
    default_page_size: int = 50
    v2_default_count: int = 50
    token_expires_in: int = 36000
    refresh_expires_in: int = 7776000
    data_services_business_days: int = 2
    job_step_seconds: float = 2.0
    max_line_item_order_ids: int = 200
    account_id: str = ACCOUNT_ID
    v2_token: str = "joor-sandbox-token"
    client_id: str = "joor-sandbox-client"
    client_secret: str = "joor-sandbox-secret"
    username: str = "sandbox@brand.example"
    # Not plain "sandbox": Airflow masks every occurrence of a password in logs and API answers,
    # and "sandbox" also appears in the environment extra and the client id.
    password: str = "joor-sandbox-password"

    SECRET_KEYS = ("v2_token", "client_secret", "password")

    def public(self) -> dict[str, Any]:
        """Settings without secrets (they never leave the process)."""
        return {k: v for k, v in asdict(self).items() if k not in self.SECRET_KEYS}

    def update(self, body: dict[str, Any]) -> None:
        """Apply known keys with their types; unknown keys are an error, not silently ignored."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(body) - set(known))
        if unknown:
            raise ValueError(f"unknown config keys: {unknown}; known: {sorted(known)}")
        for key, value in body.items():
            current = getattr(self, key)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                setattr(self, key, value)
            elif isinstance(current, int):
                setattr(self, key, int(value))
            elif isinstance(current, float):
                setattr(self, key, float(value))
            else:
                setattr(self, key, str(value))
        for key in ("credits_per_window", "max_v4_bulk_items", "max_v2_bulk_items", "max_page_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1")
        if self.window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")

    @classmethod
    def from_any(cls, value: JoorConfig | dict[str, Any] | None) -> JoorConfig:
        """From a JoorConfig, a dict of fields, or (None) the ``AMC_JOOR_SANDBOX_JOOR_CONFIG`` env JSON."""
        if isinstance(value, JoorConfig):
            return copy.deepcopy(value)
        cfg = cls()
        if value is None and os.environ.get(CONFIG_ENV):
            try:
                value = json.loads(os.environ[CONFIG_ENV])
            except ValueError as exc:
                raise ValueError(f"{CONFIG_ENV} is not valid JSON: {exc}") from exc
        if value:
            cfg.update(dict(value))
        return cfg


# --------------------------------------------------------------------------- errors


class JoorError(Exception):
    """A request-level failure: HTTP status + JOOR-style code + a message for the client."""

    def __init__(self, status: int, message: str, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or str(status)
        self.details = details


def item_error(kind: str, message: str, index: int, **details: Any) -> Row:
    """One per-item failure in a v4 bulk reply (``status`` is JOOR's error code, e.g. DUPLICATED)."""
    return {"status": kind, "message": message, "details": {"index": index, **details}}


# --------------------------------------------------------------------------- rate limiter


class CreditLimiter:
    """JOOR's credit budget: fixed windows starting at the first request, per account.

    Pure logic over a clock so tests can scale the window down (3 s) or jump it with the clock.
    """

    def __init__(self, config: JoorConfig, clock: SandboxClock) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, list[float]] = {}  # account -> [window start, credits used]
        self.reset_stats()

    def reset_stats(self) -> None:
        self.credits_spent = 0
        self.max_credits_in_window = 0
        self.responses_429 = 0
        self.windows_started = 0

    def reset_windows(self) -> None:
        with self._lock:
            self._windows.clear()

    def cost(self, method: str) -> int:
        return self.config.get_cost if method in ("GET", "HEAD", "OPTIONS") else self.config.write_cost

    def charge(self, account: str, method: str) -> tuple[bool, dict[str, str]]:
        """Spend the request's credits; ``(allowed, headers)``. Refused requests spend nothing."""
        cfg = self.config
        now = self.clock.time()
        cost = self.cost(method)
        with self._lock:
            win = self._windows.get(account)
            if win is None or now >= win[0] + cfg.window_seconds or now < win[0]:
                win = [now, 0.0]
                self._windows[account] = win
                self.windows_started += 1
            reset_in = max(0.0, win[0] + cfg.window_seconds - now)
            allowed = (not cfg.rate_limit_enabled) or win[1] + cost <= cfg.credits_per_window
            if allowed:
                win[1] += cost
                self.credits_spent += cost
                self.max_credits_in_window = max(self.max_credits_in_window, int(win[1]))
            else:
                self.responses_429 += 1
            used = int(win[1])
        headers = {"X-Throttling-Account-Id": account}
        if cfg.rate_limit_enabled:
            # only a limit that is enforced is advertised: with it off, headers saying "300 per
            # window, 0 left" would make a client's credit budget pace itself to a fiction
            headers.update({
                "X-RateLimit-Limit": str(cfg.credits_per_window),
                "X-RateLimit-Remaining": str(max(0, cfg.credits_per_window - used)),
                "X-RateLimit-Reset": str(math.ceil(reset_in)),
            })
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(reset_in)))
        return allowed, headers

    def snapshot(self) -> dict[str, Any]:
        now = self.clock.time()
        windows = {
            acct: {"used": int(w[1]), "reset_in": round(max(0.0, w[0] + self.config.window_seconds - now), 3)}
            for acct, w in self._windows.items()
        }
        return {
            "credits_spent": self.credits_spent,
            "max_credits_in_window": self.max_credits_in_window,
            "responses_429": self.responses_429,
            "windows_started": self.windows_started,
            "credit_windows": windows,
        }


# --------------------------------------------------------------------------- helpers


def add_business_days(start: datetime, days: int) -> datetime:
    """``start`` + ``days`` weekdays (Saturdays and Sundays do not count)."""
    moment = start
    added = 0
    while added < days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            added += 1
    return moment


def is_money(value: Any) -> bool:
    return isinstance(value, str) and MONEY_RE.match(value) is not None


def parse_bound(value: str, end: bool) -> datetime:
    """A filter bound: ``YYYY-MM-DD`` (an end bound covers the whole day) or an ISO datetime."""
    text = value.strip()
    if DATE_RE.match(text):
        day = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return day + timedelta(days=1) - timedelta(microseconds=1) if end else day
    return parse_when(text)


def csv_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _money(value: float) -> str:
    return f"{value:.2f}"


#: JOOR's documented v4 product fields, plus the two free-text fields the catalog push sends
#: (``country_of_origin`` <- AMC origin, ``fabrication`` <- AMC content) [P]: stored and returned.
PRODUCT_TEXT_EXTRAS = ("country_of_origin", "fabrication")
PRODUCT_FIELDS = ("name", "external_id", "product_identifier", "description", "order_minimum", "category_ids",
                  "product_trait_values", "tags", *PRODUCT_TEXT_EXTRAS)
SKU_FIELDS = ("external_id", "sku_identifier", "trait_values", "identifiers")
INTERNAL_KEYS = ("created_by", "update_count", "seed_flaw", "removed_line_items")


def public(rec: Row) -> Row:
    """A record as the API shows it (sandbox bookkeeping stripped)."""
    return {k: v for k, v in rec.items() if k not in INTERNAL_KEYS}


# --------------------------------------------------------------------------- state


class JoorState:
    """One JOOR account in memory. ``reset()`` returns to the seed (or a new data set's seed)."""

    def __init__(
        self,
        seed: Row,
        clock: SandboxClock,
        *,
        amc: Any = None,
        amc_source: Callable[[], Any] | None = None,
        dataset: str = "small",
        seed_number: int = 1,
        config: JoorConfig | dict[str, Any] | None = None,
    ) -> None:
        self.clock = clock
        self._seed = seed
        self._amc = amc
        self._amc_source = amc_source
        self.dataset = dataset
        self.seed_number = seed_number
        self.initial_config = JoorConfig.from_any(config)
        self.config = copy.deepcopy(self.initial_config)
        self.limiter = CreditLimiter(self.config, clock)
        self.tokens: dict[str, Row] = {}
        self.refresh_tokens: dict[str, Row] = {}
        self.load(seed)

    # ------------------------------------------------------------------ lifecycle
    @property
    def amc(self) -> Any:
        """The AMC data the seed and generated orders come from (live when a source is wired)."""
        return self._amc_source() if self._amc_source is not None else self._amc

    def load(self, seed: Row) -> None:
        seed = copy.deepcopy(seed)
        self._ids: dict[str, int] = {}  # last id number handed out, per kind
        self.log_ids = itertools.count(7_000_001)
        self.account_id = str(seed.get("account_id", ACCOUNT_ID))
        self.price_types = {p["id"]: p for p in seed.get("price_types", [])}
        self.traits = {t["id"]: t for t in seed.get("traits", [])}
        self.categories = {c["id"]: c for c in seed.get("categories", [])}
        self.warehouses = [w["name"] for w in seed.get("warehouses", [])]
        self.default_warehouse = next(
            (w["name"] for w in seed.get("warehouses", []) if w.get("is_default")), self.warehouses[0]
        )
        self.payment_methods = seed.get("payment_methods", [])
        self.shipping_methods = seed.get("shipping_methods", [])
        self.products: dict[str, Row] = {}
        self.prod_by_ext: dict[str, str] = {}
        self.prod_by_ident: dict[str, str] = {}  # product_identifier (the style number) -> id
        self.skus: dict[str, Row] = {}
        self.skus_by_product: dict[str, list[str]] = {}
        self.sku_by_ext: dict[str, str] = {}
        self.sku_by_upc: dict[str, str] = {}
        self.sku_by_combo: dict[tuple[str, str, str], str] = {}  # (product id, color, size)
        self.prices: dict[str, Row] = {}
        self.price_by_key: dict[tuple[str, str], str] = {}
        self.prices_by_sku: dict[str, list[str]] = {}
        self.product_assets: dict[str, list[Row]] = {}
        self.trait_assets: dict[tuple[str, str, str], list[Row]] = {}
        self.seasons: dict[str, Row] = {}
        self.season_by_ext: dict[str, str] = {}
        self.collections: dict[str, Row] = {}
        self.coll_by_ext: dict[str, str] = {}
        self.inventory: dict[tuple[str, str], Row] = {}
        self.inventory_calls: list[Row] = []
        self.connections: dict[str, Row] = {}
        self.conn_by_code: dict[str, str] = {}
        self.jobs: dict[str, Row] = {}
        self.orders: dict[str, Row] = {}
        self.lines_by_order: dict[str, list[Row]] = {}
        now = iso_z(self.clock.now())
        for p in seed.get("products", []):
            self._put_product(dict(p, date_created=p.get("date_created", now), last_modified=p.get("last_modified", now)))
        for s in seed.get("skus", []):
            self._put_sku(dict(s))
        for pr in seed.get("prices", []):
            self._put_price(dict(pr))
        for season in seed.get("seasons", []):
            self.seasons[season["id"]] = season
            if season.get("external_id"):
                self.season_by_ext[season["external_id"]] = season["id"]
        for c in seed.get("collections", []):
            self.collections[c["id"]] = c
            if c.get("external_id"):
                self.coll_by_ext[c["external_id"]] = c["id"]
        for conn in seed.get("connections", []):
            if conn.get("status") == "pending" and not conn.get("pending_since"):
                conn["pending_since"] = now
            self.connections[conn["connection_id"]] = conn
            self.conn_by_code[conn["customer_code"]] = conn["connection_id"]
        self._next_connection = 300_000 + len(self.connections) + 1_000
        self._next_retailer = 780_000
        max_order = 5_000_000
        max_number = 100_000
        max_line = 9_000_000
        for o in seed.get("orders", []):
            lines = o.pop("line_items", [])
            self.orders[o["id"]] = o
            self.lines_by_order[o["id"]] = lines
            max_order = max(max_order, int(o["id"]))
            max_number = max(max_number, int(o["order_number"]))
            for li in lines:
                max_line = max(max_line, int(li["id"]))
        self._next_order = max_order + 1
        self._next_order_number = max_number + 1
        self._next_line = max_line + 1
        self._next_job = 1
        self._next_inventory_log = 1
        self.order_start_date = seed.get("order_start_date")
        self._seed_meta = {k: seed.get(k) for k in ("account_name", "dataset", "sales_reps")}

    # ------------------------------------------------------------------ persistence (serve --state FILE)
    COUNTERS = ("_next_connection", "_next_retailer", "_next_order", "_next_order_number", "_next_line",
                "_next_job", "_next_inventory_log")

    def to_dict(self) -> Row:
        """Everything needed to come back after a restart, as JSON (tokens and secrets excluded)."""
        orders = [{**o, "line_items": self.lines_by_order.get(oid, [])} for oid, o in self.orders.items()]
        return {
            "version": 1,
            "dataset": self.dataset,
            "seed_number": self.seed_number,
            "config": self.config.public(),
            "state": {
                **self._seed_meta,
                "account_id": self.account_id,
                "price_types": list(self.price_types.values()),
                "traits": list(self.traits.values()),
                "categories": list(self.categories.values()),
                "warehouses": [{"name": w, "is_default": w == self.default_warehouse} for w in self.warehouses],
                "payment_methods": self.payment_methods,
                "shipping_methods": self.shipping_methods,
                "order_start_date": self.order_start_date,
                "products": list(self.products.values()),
                "skus": list(self.skus.values()),
                "prices": list(self.prices.values()),
                "seasons": list(self.seasons.values()),
                "collections": list(self.collections.values()),
                "connections": list(self.connections.values()),
                "orders": orders,
            },
            "product_assets": [a for v in self.product_assets.values() for a in v],
            "trait_assets": [a for v in self.trait_assets.values() for a in v],
            "inventory": [{"sku_id": sid, "warehouse": wh, **slot} for (sid, wh), slot in self.inventory.items()],
            "inventory_calls": self.inventory_calls,
            "jobs": list(self.jobs.values()),
            "ids": dict(self._ids),
            "counters": {k: getattr(self, k) for k in self.COUNTERS},
        }

    def restore(self, saved: Row) -> None:
        """Inverse of ``to_dict`` (the seed used by ``reset`` stays the data set's own)."""
        self.load(saved["state"])
        cfg = {k: v for k, v in saved.get("config", {}).items() if k in {f.name for f in fields(JoorConfig)}}
        self.config.update(cfg)
        for a in saved.get("product_assets", []):
            self.product_assets.setdefault(a["product_id"], []).append(a)
        for a in saved.get("trait_assets", []):
            self.trait_assets.setdefault((a["product_id"], a["trait_id"], a["value"]), []).append(a)
        for row in saved.get("inventory", []):
            slot = {k: v for k, v in row.items() if k not in ("sku_id", "warehouse")}
            self.inventory[(row["sku_id"], row["warehouse"])] = slot
        self.inventory_calls = list(saved.get("inventory_calls", []))
        self.jobs = {j["job_id"]: j for j in saved.get("jobs", [])}
        self._ids = {k: int(v) for k, v in saved.get("ids", {}).items()}
        for k, v in saved.get("counters", {}).items():
            if k in self.COUNTERS:
                setattr(self, k, int(v))

    def reset(self, body: Row | None = None) -> None:
        """Back to the seed; ``{"dataset", "seed"}`` re-derives it from the (reset) AMC data."""
        body = body or {}
        dataset = str(body.get("dataset") or self.dataset)
        seed_number = int(body["seed"]) if body.get("seed") is not None else self.seed_number
        if (dataset, seed_number) != (self.dataset, self.seed_number):
            self.dataset, self.seed_number = dataset, seed_number
            rng = random.Random(f"joor:{self.dataset}:{self.seed_number}")
            self._seed = build_joor_seed(self.amc, self.dataset, rng)
        self.config.__dict__.update(copy.deepcopy(self.initial_config).__dict__)
        self.limiter.reset_windows()
        self.limiter.reset_stats()
        if body.get("tokens"):
            self.tokens.clear()
            self.refresh_tokens.clear()
        self.load(self._seed)

    def now(self) -> datetime:
        return self.clock.now()

    def stamp(self) -> str:
        return iso_z(self.clock.now())

    def new_id(self, kind: str) -> str:
        """Per-kind counters (the seed's hand-made records sit at 900,000+, out of their way)."""
        n = self._ids.get(kind, 0) + 1
        self._ids[kind] = n
        return joor_id(kind, n)

    # ------------------------------------------------------------------ auth
    def issue_token(self, form: Row) -> Row:
        """OAuth password (or refresh_token) grant → a Bearer token; several may be active."""
        cfg = self.config
        grant = form.get("grant_type")
        if form.get("client_id") != cfg.client_id or form.get("client_secret") != cfg.client_secret:
            raise JoorError(401, "invalid client credentials", "invalid_client")
        if grant == "password":
            if not form.get("username") or not form.get("password"):
                raise JoorError(400, "username and password are required for grant_type=password", "invalid_request")
            if form.get("username") != cfg.username or form.get("password") != cfg.password:
                raise JoorError(401, "invalid username or password", "invalid_grant")
        elif grant == "refresh_token":
            info = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if info is None or info["expires_at"] <= self.clock.time():
                raise JoorError(401, "refresh token unknown or expired", "invalid_grant")
        else:
            raise JoorError(400, "grant_type must be 'password' or 'refresh_token'", "unsupported_grant_type")
        now = self.clock.time()
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.tokens[access] = {"client_id": cfg.client_id, "expires_at": now + cfg.token_expires_in}
        self.refresh_tokens[refresh] = {"client_id": cfg.client_id, "expires_at": now + cfg.refresh_expires_in}
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": cfg.token_expires_in,
            "refresh_token": refresh,
            "refresh_expires_in": cfg.refresh_expires_in,
        }

    def check_bearer(self, token: str) -> Row:
        info = self.tokens.get(token)
        if info is None:
            raise JoorError(401, "invalid access token", "unauthorized")
        if info["expires_at"] <= self.clock.time():
            raise JoorError(401, "access token expired", "token_expired")
        return info

    def expire_tokens(self) -> int:
        now = self.clock.time()
        for info in self.tokens.values():
            info["expires_at"] = now
        return len(self.tokens)

    # ------------------------------------------------------------------ catalog: indexes
    def _put_product(self, rec: Row) -> None:
        for key in PRODUCT_TEXT_EXTRAS:  # one shape for seeded, restored and created products
            rec.setdefault(key, None)
        self.products[rec["id"]] = rec
        if rec.get("external_id"):
            self.prod_by_ext[str(rec["external_id"])] = rec["id"]
        if rec.get("product_identifier"):
            self.prod_by_ident[str(rec["product_identifier"])] = rec["id"]
        self.skus_by_product.setdefault(rec["id"], [])

    @staticmethod
    def _trait_value(rec: Row, trait_id: str) -> Row | None:
        for tv in rec.get("trait_values", []):
            if tv.get("trait_id") == trait_id:
                return tv
        return None

    def _sku_combo(self, rec: Row) -> tuple[str, str, str]:
        color = self._trait_value(rec, COLOR_TRAIT_ID) or {}
        size = self._trait_value(rec, SIZE_TRAIT_ID) or {}
        return rec["product_id"], str(color.get("value", "")), str(size.get("value", ""))

    @staticmethod
    def _upcs(rec: Row) -> list[str]:
        return [str(i.get("value")) for i in rec.get("identifiers", []) if i.get("type") == "upc" and i.get("value")]

    def _put_sku(self, rec: Row) -> None:
        self.skus[rec["id"]] = rec
        self.skus_by_product.setdefault(rec["product_id"], []).append(rec["id"])
        self._index_sku(rec)

    def _index_sku(self, rec: Row) -> None:
        if rec.get("external_id"):
            self.sku_by_ext[str(rec["external_id"])] = rec["id"]
        for upc in self._upcs(rec):
            self.sku_by_upc[upc] = rec["id"]
        self.sku_by_combo[self._sku_combo(rec)] = rec["id"]

    def _unindex_sku(self, rec: Row) -> None:
        if rec.get("external_id") and self.sku_by_ext.get(str(rec["external_id"])) == rec["id"]:
            del self.sku_by_ext[str(rec["external_id"])]
        for upc in self._upcs(rec):
            if self.sku_by_upc.get(upc) == rec["id"]:
                del self.sku_by_upc[upc]
        combo = self._sku_combo(rec)
        if self.sku_by_combo.get(combo) == rec["id"]:
            del self.sku_by_combo[combo]

    def _put_price(self, rec: Row) -> None:
        self.prices[rec["id"]] = rec
        self.price_by_key[(rec["sku_id"], rec["price_type_id"])] = rec["id"]
        self.prices_by_sku.setdefault(rec["sku_id"], []).append(rec["id"])

    def check_bulk_size(self, items: Any, v2: bool = False) -> list[Row]:
        """A bulk body must be a list of objects within the configured size limit (else 413)."""
        if not isinstance(items, list):
            raise JoorError(400, "request body must be a JSON array of objects", "INVALID")
        limit = self.config.max_v2_bulk_items if v2 else self.config.max_v4_bulk_items
        if len(items) > limit:
            raise JoorError(
                413,
                f"bulk request carries {len(items)} items; the limit is {limit} per request — split it into batches",
                "REQUEST_TOO_LARGE",
            )
        return items

    # ------------------------------------------------------------------ products
    def _validate_product(self, item: Any, i: int, creating: bool) -> Row | None:
        if not isinstance(item, dict):
            return item_error("INVALID", "each item must be an object", i)
        if creating or "name" in item:
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                return item_error("INVALID", "name is required", i, external_id=item.get("external_id"))
        for cid in item.get("category_ids") or []:
            if cid not in self.categories:
                return item_error("INVALID", f"unknown category id {cid}", i, external_id=item.get("external_id"))
        for ptv in item.get("product_trait_values") or []:
            if not isinstance(ptv, dict) or not ptv.get("trait_id") or "value" not in ptv:
                return item_error("INVALID", "product_trait_values need trait_id and value", i,
                                  external_id=item.get("external_id"))
        for key in PRODUCT_TEXT_EXTRAS:
            if item.get(key) is not None and not isinstance(item[key], str):
                return item_error("INVALID", f"{key} must be a string or null", i, external_id=item.get("external_id"))
        return None

    def products_bulk_create(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        now = self.stamp()
        for i, item in enumerate(items):
            err = self._validate_product(item, i, creating=True)
            if err:
                errors.append(err)
                continue
            ext = item.get("external_id")
            if ext is not None and str(ext) in self.prod_by_ext:
                errors.append(item_error("DUPLICATED", f"a product with external_id {ext} already exists", i,
                                         external_id=ext, id=self.prod_by_ext[str(ext)]))
                continue
            rec = {k: copy.deepcopy(item.get(k)) for k in PRODUCT_FIELDS}
            rec["category_ids"] = rec["category_ids"] or []
            rec["product_trait_values"] = rec["product_trait_values"] or []
            rec["tags"] = rec["tags"] or []
            rec.update(id=self.new_id("Product"), date_created=now, last_modified=now, created_by=actor, update_count=0)
            self._put_product(rec)
            data.append({"id": rec["id"], "external_id": ext})
        return data, errors

    def products_bulk_update(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        now = self.stamp()
        for i, item in enumerate(items):
            err = self._validate_product(item, i, creating=False)
            if err:
                errors.append(err)
                continue
            rec = self.products.get(str(item.get("id")))
            if rec is None:
                errors.append(item_error("NOT_FOUND", f"no product with id {item.get('id')}", i, id=item.get("id")))
                continue
            ext = item.get("external_id", rec.get("external_id"))
            if ext is not None and self.prod_by_ext.get(str(ext), rec["id"]) != rec["id"]:
                errors.append(item_error("DUPLICATED", f"another product has external_id {ext}", i, external_id=ext))
                continue
            if rec.get("external_id") and str(rec["external_id"]) != str(ext):
                self.prod_by_ext.pop(str(rec["external_id"]), None)
            if rec.get("product_identifier") and self.prod_by_ident.get(str(rec["product_identifier"])) == rec["id"]:
                self.prod_by_ident.pop(str(rec["product_identifier"]))
            for k in PRODUCT_FIELDS:
                if k in item:
                    rec[k] = copy.deepcopy(item[k])
            if ext is not None:
                self.prod_by_ext[str(ext)] = rec["id"]
            if rec.get("product_identifier"):
                self.prod_by_ident[str(rec["product_identifier"])] = rec["id"]
            rec["last_modified"] = now
            rec["update_count"] = rec.get("update_count", 0) + 1
            data.append({"id": rec["id"], "external_id": rec.get("external_id")})
        return data, errors

    def find_products(self, ids: list[str] | None, external_ids: list[str] | None) -> list[Row]:
        if external_ids is not None:
            found = [self.prod_by_ext.get(e) for e in external_ids]
            return [public(self.products[p]) for p in found if p]
        if ids is not None:
            return [public(self.products[p]) for p in ids if p in self.products]
        return [public(p) for p in self.products.values()]

    # ------------------------------------------------------------------ skus
    def _validate_trait_values(self, tvs: Any, i: int, ext: Any, require_both: bool) -> Row | None:
        if not isinstance(tvs, list):
            return item_error("INVALID", "trait_values must be a list", i, external_id=ext)
        seen = set()
        for tv in tvs:
            if not isinstance(tv, dict) or tv.get("trait_id") not in self.traits:
                return item_error("INVALID", f"unknown trait_id {tv.get('trait_id') if isinstance(tv, dict) else tv}",
                                  i, external_id=ext)
            value = tv.get("value")
            if not isinstance(value, str) or not value.strip():
                return item_error("INVALID", "every trait value needs a non-empty string value", i, external_id=ext)
            if tv.get("status", "ACTIVE") not in ("ACTIVE", "INACTIVE"):
                return item_error("INVALID", "trait value status must be ACTIVE or INACTIVE", i, external_id=ext)
            seen.add(tv["trait_id"])
        if require_both and not {COLOR_TRAIT_ID, SIZE_TRAIT_ID} <= seen:
            return item_error("INVALID", "every SKU must carry both a Color and a Size trait value", i, external_id=ext)
        return None

    def _validate_identifiers(self, idents: Any, i: int, ext: Any) -> Row | None:
        if not isinstance(idents, list):
            return item_error("INVALID", "identifiers must be a list", i, external_id=ext)
        for ident in idents:
            if not isinstance(ident, dict) or ident.get("type") not in IDENTIFIER_TYPES:
                return item_error("INVALID", f"identifier type must be one of {IDENTIFIER_TYPES}", i, external_id=ext)
            value = ident.get("value")
            if not isinstance(value, str) or not value.isdigit() and ident["type"] != "mpn":
                return item_error("INVALID", f"{ident['type']} value must be a digit string", i, external_id=ext)
        return None

    def skus_bulk_create(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        now = self.stamp()
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                errors.append(item_error("INVALID", "each item must be an object", i))
                continue
            ext = item.get("external_id")
            pid = item.get("product_id")
            if not pid or str(pid) not in self.products:
                errors.append(item_error("INVALID", f"product_id {pid} does not exist", i, external_id=ext))
                continue
            err = self._validate_trait_values(item.get("trait_values", []), i, ext, require_both=True) or \
                self._validate_identifiers(item.get("identifiers", []) or [], i, ext)
            if err:
                errors.append(err)
                continue
            if ext is not None and str(ext) in self.sku_by_ext:
                errors.append(item_error("DUPLICATED", f"a SKU with external_id {ext} already exists", i,
                                         external_id=ext, id=self.sku_by_ext[str(ext)]))
                continue
            rec = {k: copy.deepcopy(item.get(k)) for k in SKU_FIELDS}
            rec["product_id"] = str(pid)
            rec["trait_values"] = [dict(tv, status=tv.get("status", "ACTIVE")) for tv in rec["trait_values"] or []]
            rec["identifiers"] = rec["identifiers"] or []
            combo = self._sku_combo(rec)
            if combo in self.sku_by_combo:
                errors.append(item_error("DUPLICATED", f"product {pid} already has a SKU {combo[1]} / {combo[2]}", i,
                                         external_id=ext, id=self.sku_by_combo[combo]))
                continue
            rec.update(id=self.new_id("SKU"), date_created=now, last_modified=now, created_by=actor, update_count=0)
            self._put_sku(rec)
            data.append({"id": rec["id"], "external_id": ext, "product_id": rec["product_id"]})
            self._apply_inactive(rec)
        return data, errors

    def skus_bulk_update(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        now = self.stamp()
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                errors.append(item_error("INVALID", "each item must be an object", i))
                continue
            rec = self.skus.get(str(item.get("id")))
            if rec is None:
                errors.append(item_error("NOT_FOUND", f"no SKU with id {item.get('id')}", i, id=item.get("id")))
                continue
            ext = item.get("external_id", rec.get("external_id"))
            err = None
            if "trait_values" in item:
                err = self._validate_trait_values(item["trait_values"], i, ext, require_both=False)
            if not err and "identifiers" in item:
                err = self._validate_identifiers(item["identifiers"] or [], i, ext)
            if not err and ext is not None and self.sku_by_ext.get(str(ext), rec["id"]) != rec["id"]:
                err = item_error("DUPLICATED", f"another SKU has external_id {ext}", i, external_id=ext)
            if err:
                errors.append(err)
                continue
            self._unindex_sku(rec)
            for k in ("external_id", "sku_identifier", "identifiers"):
                if k in item:
                    rec[k] = copy.deepcopy(item[k])
            if "trait_values" in item:  # merge by trait id: an update may send only the status change
                by_trait = {tv["trait_id"]: tv for tv in rec["trait_values"]}
                for tv in item["trait_values"]:
                    by_trait[tv["trait_id"]] = {**by_trait.get(tv["trait_id"], {}), **tv}
                rec["trait_values"] = list(by_trait.values())
            self._index_sku(rec)
            rec["last_modified"] = now
            rec["update_count"] = rec.get("update_count", 0) + 1
            data.append({"id": rec["id"], "external_id": rec.get("external_id"), "product_id": rec["product_id"]})
            self._apply_inactive(rec)
        return data, errors

    def _apply_inactive(self, sku: Row) -> None:
        """INACTIVE color/size: unshoppable for the whole style, and stripped from every order."""
        product = self.products.get(sku["product_id"], {})
        for tv in sku.get("trait_values", []):
            if tv.get("status") != "INACTIVE":
                continue
            trait_id, value = tv["trait_id"], tv["value"]
            affected_ext = set()
            for sid in self.skus_by_product.get(sku["product_id"], []):
                other = self.skus[sid]
                otv = self._trait_value(other, trait_id)
                if otv is not None and otv.get("value") == value:
                    otv["status"] = "INACTIVE"
                    if other.get("external_id"):
                        affected_ext.add(str(other["external_id"]))
            style_keys = {str(k) for k in (product.get("external_id"), product.get("product_identifier")) if k}
            self._strip_order_lines(trait_id, value, affected_ext, style_keys)

    def _strip_order_lines(self, trait_id: str, value: str, sku_exts: set[str], style_keys: set[str]) -> None:
        now = self.stamp()
        for order_id, lines in self.lines_by_order.items():
            keep, removed = [], []
            for li in lines:
                lis = li["line_item_sku"]
                hit = str(lis.get("external_id")) in sku_exts
                if not hit and str(lis.get("product", {}).get("external_id")) in style_keys:
                    hit = any(t.get("trait", {}).get("id") == trait_id and t.get("value") == value
                              for t in lis.get("trait_values", []))
                (removed if hit else keep).append(li)
            if removed:
                self.lines_by_order[order_id] = keep
                order = self.orders[order_id]
                order.setdefault("removed_line_items", []).extend(removed)
                order["total"] = self._order_total(keep)
                order["last_modified"] = now

    def find_skus(self, product_ids: list[str] | None, ids: list[str] | None,
                  external_ids: list[str] | None) -> list[Row]:
        if product_ids is not None:
            return [public(self.skus[s]) for p in product_ids for s in self.skus_by_product.get(p, [])]
        if external_ids is not None:
            return [public(self.skus[s]) for s in (self.sku_by_ext.get(e) for e in external_ids) if s]
        if ids is not None:
            return [public(self.skus[s]) for s in ids if s in self.skus]
        return [public(s) for s in self.skus.values()]

    # ------------------------------------------------------------------ prices
    def _validate_price(self, item: Any, i: int, creating: bool) -> Row | None:
        if not isinstance(item, dict):
            return item_error("INVALID", "each item must be an object", i)
        if creating:
            if str(item.get("sku_id")) not in self.skus:
                return item_error("INVALID", f"sku_id {item.get('sku_id')} does not exist", i, sku_id=item.get("sku_id"))
            if str(item.get("price_type_id")) not in self.price_types:
                return item_error("INVALID", f"price_type_id {item.get('price_type_id')} does not exist", i,
                                  sku_id=item.get("sku_id"))
            if "wholesale_value" not in item:
                return item_error("INVALID", "wholesale_value is required", i, sku_id=item.get("sku_id"))
        for key in ("wholesale_value", "retail_value"):
            if key in item and item[key] is not None and not is_money(item[key]):
                return item_error("INVALID", f"{key} must be a decimal string like \"100.00\"; got {item[key]!r}", i,
                                  sku_id=item.get("sku_id"))
        return None

    def prices_bulk_create(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        now = self.stamp()
        for i, item in enumerate(items):
            err = self._validate_price(item, i, creating=True)
            if err:
                errors.append(err)
                continue
            key = (str(item["sku_id"]), str(item["price_type_id"]))
            if key in self.price_by_key:
                errors.append(item_error("DUPLICATED", "this SKU already has a price for this price type", i,
                                         sku_id=key[0], price_type_id=key[1], id=self.price_by_key[key]))
                continue
            rec = {"id": self.new_id("Price"), "sku_id": key[0], "price_type_id": key[1],
                   "wholesale_value": item["wholesale_value"], "retail_value": item.get("retail_value"),
                   "date_created": now, "last_modified": now, "created_by": actor, "update_count": 0}
            self._put_price(rec)
            data.append({"id": rec["id"], "sku_id": rec["sku_id"], "price_type_id": rec["price_type_id"]})
        return data, errors

    def prices_bulk_update(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        now = self.stamp()
        for i, item in enumerate(items):
            err = self._validate_price(item, i, creating=False)
            if err:
                errors.append(err)
                continue
            rec = self.prices.get(str(item.get("id")))
            if rec is None:
                errors.append(item_error("NOT_FOUND", f"no price with id {item.get('id')}", i, id=item.get("id")))
                continue
            for k in ("wholesale_value", "retail_value"):
                if k in item:
                    rec[k] = item[k]
            rec["last_modified"] = now
            rec["update_count"] += 1
            data.append({"id": rec["id"], "sku_id": rec["sku_id"], "price_type_id": rec["price_type_id"]})
        return data, errors

    def find_prices(self, sku_ids: list[str] | None, ids: list[str] | None) -> list[Row]:
        if sku_ids is not None:
            return [public(self.prices[p]) for s in sku_ids for p in self.prices_by_sku.get(s, [])]
        if ids is not None:
            return [public(self.prices[p]) for p in ids if p in self.prices]
        return [public(p) for p in self.prices.values()]

    # ------------------------------------------------------------------ assets
    def _validate_asset(self, asset: Any, i: int) -> Row | None:
        if not isinstance(asset, dict):
            return item_error("INVALID", "asset must be an object", i)
        if asset.get("type") not in ASSET_TYPES:
            return item_error("INVALID", f"asset type must be one of {ASSET_TYPES}", i)
        filename = asset.get("filename")
        if not isinstance(filename, str) or not filename:
            return item_error("INVALID", "asset filename is required", i)
        if len(filename) > 100:
            return item_error("INVALID", "asset filename longer than 100 characters", i, filename=filename)
        if filename.rsplit(".", 1)[-1].lower() not in ASSET_EXTENSIONS or "." not in filename:
            return item_error("INVALID", f"asset file type must be one of {ASSET_EXTENSIONS}", i, filename=filename)
        url = asset.get("source_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return item_error("INVALID", "asset source_url must be an http(s) URL", i, filename=filename)
        size = asset.get("size_bytes")
        if size is not None and int(size) > 10 * 1024 * 1024:
            return item_error("INVALID", "asset larger than 10 MB", i, filename=filename)
        return None

    def product_assets_upload(self, items: Any, replace_all: bool, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors, valid = [], [], []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("product"), dict):
                errors.append(item_error("INVALID", "each item needs product{id} and asset{...}", i))
                continue
            pid = str(item["product"].get("id"))
            if pid not in self.products:
                errors.append(item_error("INVALID", f"product id {pid} does not exist", i, product_id=pid))
                continue
            err = self._validate_asset(item.get("asset"), i)
            if err:
                errors.append(err)
                continue
            valid.append((pid, item))
        if replace_all:
            kinds: dict[str, set[str]] = {}
            for pid, item in valid:
                kinds.setdefault(pid, set()).add(item["asset"]["type"])
            for pid, ks in kinds.items():
                self.product_assets[pid] = [a for a in self.product_assets.get(pid, []) if a["type"] not in ks]
        now = self.stamp()
        for pid, item in valid:
            asset = item["asset"]
            rec = {"id": self.new_id("Asset"), "product_id": pid, "type": asset["type"], "filename": asset["filename"],
                   "source_url": asset["source_url"], "display_order": item.get("display_order"),
                   "date_created": now, "created_by": actor}
            self.product_assets.setdefault(pid, []).append(rec)
            data.append({"id": rec["id"], "product_id": pid, "filename": rec["filename"], "type": rec["type"]})
        return data, errors

    def trait_assets_upload(self, items: Any, replace_all: bool, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors, valid = [], [], []
        for i, item in enumerate(items):
            stv = item.get("sku_trait_value") if isinstance(item, dict) else None
            if not isinstance(stv, dict):
                errors.append(item_error("INVALID", "each item needs sku_trait_value{product_id, trait_id, value}", i))
                continue
            pid, trait_id, value = str(stv.get("product_id")), stv.get("trait_id"), stv.get("value")
            if pid not in self.products:
                errors.append(item_error("INVALID", f"product id {pid} does not exist", i, product_id=pid))
                continue
            if trait_id not in self.traits:
                errors.append(item_error("INVALID", f"unknown trait_id {trait_id}", i, product_id=pid))
                continue
            has_value = any((self._trait_value(self.skus[s], trait_id) or {}).get("value") == value
                            for s in self.skus_by_product.get(pid, []))
            if not has_value:
                errors.append(item_error("INVALID", f"product {pid} has no SKU with {value!r} for that trait", i,
                                         product_id=pid, value=value))
                continue
            err = self._validate_asset(item.get("asset"), i)
            if err:
                errors.append(err)
                continue
            valid.append(((pid, trait_id, value), item))
        if replace_all:
            kinds: dict[tuple[str, str, str], set[str]] = {}
            for key, item in valid:
                kinds.setdefault(key, set()).add(item["asset"]["type"])
            for key, ks in kinds.items():
                self.trait_assets[key] = [a for a in self.trait_assets.get(key, []) if a["type"] not in ks]
        now = self.stamp()
        for key, item in valid:
            asset = item["asset"]
            rec = {"id": self.new_id("Asset"), "product_id": key[0], "trait_id": key[1], "value": key[2],
                   "type": asset["type"], "filename": asset["filename"], "source_url": asset["source_url"],
                   "display_order": item.get("display_order"), "date_created": now, "created_by": actor}
            self.trait_assets.setdefault(key, []).append(rec)
            data.append({"id": rec["id"], "product_id": key[0], "value": key[2], "filename": rec["filename"],
                         "type": rec["type"]})
        return data, errors

    # ------------------------------------------------------------------ seasons
    def seasons_create(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        if isinstance(items, dict):
            items = [items]
        items = self.check_bulk_size(items)
        data, errors = [], []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
                errors.append(item_error("INVALID", "season name is required", i))
                continue
            ext = item.get("external_id")
            if ext is not None and str(ext) in self.season_by_ext:
                errors.append(item_error("DUPLICATED", f"a season with external_id {ext} already exists", i,
                                         external_id=ext, id=self.season_by_ext[str(ext)]))
                continue
            rec = {"id": self.new_id("Season"), "name": item["name"], "year": item.get("year"), "external_id": ext,
                   "created_by": actor}
            self.seasons[rec["id"]] = rec
            if ext is not None:
                self.season_by_ext[str(ext)] = rec["id"]
            data.append({"id": rec["id"], "name": rec["name"], "external_id": ext})
        return data, errors

    # ------------------------------------------------------------------ collections
    def _validate_collection(self, item: Any, i: int, creating: bool) -> Row | None:
        if not isinstance(item, dict):
            return item_error("INVALID", "each item must be an object", i)
        ext = item.get("external_id")
        if not isinstance(item.get("name"), str) or not item["name"].strip():
            return item_error("INVALID", "collection name is required", i, external_id=ext)
        if creating and (ext is None or str(ext) == ""):
            return item_error("INVALID", "collection external_id is required", i)
        if item.get("season_id") is not None and str(item["season_id"]) not in self.seasons:
            return item_error("INVALID", f"season_id {item['season_id']} does not exist", i, external_id=ext)
        delivery = item.get("delivery") or {}
        if not isinstance(delivery, dict):
            return item_error("INVALID", "delivery must be an object", i, external_id=ext)
        for k in ("start_ship_date", "complete_ship_date", "cancel_date"):
            v = delivery.get(k)
            if v is not None and (not isinstance(v, str) or not DATE_RE.match(v)):
                return item_error("INVALID", f"delivery.{k} must be YYYY-MM-DD", i, external_id=ext)
        for it in item.get("items") or []:
            if not isinstance(it, dict) or str(it.get("product_id")) not in self.products:
                pid = it.get("product_id") if isinstance(it, dict) else it
                return item_error("INVALID", f"collection item product_id {pid} does not exist", i, external_id=ext)
            own = set(self.skus_by_product.get(str(it["product_id"]), []))
            for sid in it.get("sku_ids") or []:
                if sid not in own:
                    return item_error("INVALID", f"sku {sid} does not belong to product {it['product_id']}", i,
                                      external_id=ext)
        return None

    @staticmethod
    def _delivery(delivery: Row | None) -> Row:
        d = dict(delivery or {})
        if not any(d.get(k) for k in ("start_ship_date", "complete_ship_date")):
            d["type"] = "IMMEDIATE"
        else:
            d["type"] = "AT_ONCE_DATES" if d.get("type") is None else d["type"]
        return d

    def collections_bulk_create(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        now = self.stamp()
        for i, item in enumerate(items):
            err = self._validate_collection(item, i, creating=True)
            if err:
                errors.append(err)
                continue
            ext = str(item["external_id"])
            if ext in self.coll_by_ext:
                errors.append(item_error("DUPLICATED", f"a collection with external_id {ext} already exists", i,
                                         external_id=ext, id=self.coll_by_ext[ext]))
                continue
            rec = {"id": self.new_id("Collection"), "name": item["name"], "external_id": ext,
                   "season_id": item.get("season_id"), "delivery": self._delivery(item.get("delivery")),
                   "items": copy.deepcopy(item.get("items") or []), "created_by": actor, "created_via": "api",
                   "modification_count": 0, "last_modified_by": actor, "date_created": now, "last_modified": now}
            self.collections[rec["id"]] = rec
            self.coll_by_ext[ext] = rec["id"]
            data.append({"id": rec["id"], "external_id": ext})
        return data, errors

    def collections_bulk_update(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        now = self.stamp()
        for i, item in enumerate(items):
            err = self._validate_collection(item, i, creating=False)
            if err:
                errors.append(err)
                continue
            rec = self.collections.get(str(item.get("id")))
            if rec is None:
                errors.append(item_error("NOT_FOUND", f"no collection with id {item.get('id')}", i, id=item.get("id")))
                continue
            ext = item.get("external_id", rec.get("external_id"))
            if ext is not None and self.coll_by_ext.get(str(ext), rec["id"]) != rec["id"]:
                errors.append(item_error("DUPLICATED", f"another collection has external_id {ext}", i, external_id=ext))
                continue
            if rec.get("external_id") and str(rec["external_id"]) != str(ext):
                self.coll_by_ext.pop(str(rec["external_id"]), None)
            for k in ("name", "external_id", "season_id", "items"):
                if k in item:
                    rec[k] = copy.deepcopy(item[k])
            if "delivery" in item:
                rec["delivery"] = self._delivery(item["delivery"])
            if ext is not None:
                self.coll_by_ext[str(ext)] = rec["id"]
            rec["modification_count"] += 1
            rec["last_modified_by"] = actor
            rec["last_modified"] = now
            data.append({"id": rec["id"], "external_id": rec.get("external_id")})
        return data, errors

    def find_collections(self, ids: list[str] | None, external_ids: list[str] | None) -> list[Row]:
        if external_ids is not None:
            return [self._public_collection(self.collections[c]) for c in
                    (self.coll_by_ext.get(e) for e in external_ids) if c]
        if ids is not None:
            return [self._public_collection(self.collections[c]) for c in ids if c in self.collections]
        return [self._public_collection(c) for c in self.collections.values()]

    @staticmethod
    def _public_collection(rec: Row) -> Row:
        return {k: v for k, v in rec.items() if k not in ("created_by", "created_via", "modification_count",
                                                          "last_modified_by")}

    def create_manual_collection(self, body: Row) -> Row:
        """What a brand user does in JOOR's UI: a linesheet the integration must leave alone."""
        name = body.get("name") or "Manual linesheet"
        items = []
        for n, ref in enumerate(body.get("products") or [], start=1):
            pid = self.prod_by_ext.get(str(ref), str(ref))
            if pid not in self.products:
                raise JoorError(400, f"unknown product {ref} (give a JOOR product id or external id)")
            items.append({"product_id": pid, "order_number": n, "sku_ids": []})
        now = self.stamp()
        rec = {"id": self.new_id("Collection"), "name": name, "external_id": body.get("external_id"),
               "season_id": None, "delivery": {"type": "IMMEDIATE"}, "items": items, "created_by": "manual",
               "created_via": "joor_ui", "modification_count": 0, "date_created": now, "last_modified": now}
        self.collections[rec["id"]] = rec
        if rec["external_id"]:
            self.coll_by_ext[str(rec["external_id"])] = rec["id"]
        return rec

    # ------------------------------------------------------------------ inventory (v2)
    def _find_inventory_sku(self, item: Row) -> tuple[str | None, str]:
        """(JOOR sku id or None, the key the log reports) by UPC, else style + color + size."""
        upc = item.get("upc")
        if upc:
            return self.sku_by_upc.get(str(upc)), str(upc)
        style = item.get("style_number") or item.get("style_identifier")
        color, size = item.get("color_code"), item.get("size")
        label = f"{style}/{color}/{size}"
        if not (style and color and size):
            return None, label
        candidates = [p for p in (self.prod_by_ident.get(str(style)), self.prod_by_ext.get(str(style)),
                                  str(style) if str(style) in self.products else None) if p]
        for cand in candidates:
            for sid in self.skus_by_product.get(cand, []):
                sku = self.skus[sid]
                ctv = self._trait_value(sku, COLOR_TRAIT_ID) or {}
                stv = self._trait_value(sku, SIZE_TRAIT_ID) or {}
                if str(color) in (ctv.get("external_id"), ctv.get("value")) and stv.get("value") == str(size):
                    return sid, label
        return None, label

    def bulk_inventory(self, body: Any, overwrite: bool, dec_pending: bool) -> Row:
        if not isinstance(body, dict) or not isinstance(body.get("inventory_items"), dict):
            raise JoorError(400, 'body must be {"inventory_items": {"inventory_item": [...]}}')
        items = body["inventory_items"].get("inventory_item")
        if isinstance(items, dict):
            items = [items]
        items = self.check_bulk_size(items, v2=True)
        logs, touched, passed = [], set(), 0
        now = self.stamp()
        for item in items:
            log_id = str(self._next_inventory_log)
            self._next_inventory_log += 1
            if not isinstance(item, dict):
                logs.append({"sku": None, "inventory_log_id": log_id, "status": "fail", "message": "item must be an object"})
                continue
            sid, label = self._find_inventory_sku(item)
            warehouse = item.get("warehouse") or self.default_warehouse
            qty = item.get("inventory")
            message = ""
            if warehouse not in self.warehouses:
                message = "unknown warehouse"
            elif sid is None:
                message = "unknown SKU"
            elif isinstance(qty, bool) or not (isinstance(qty, int) or (isinstance(qty, str) and qty.isdigit())):
                message = "inventory must be a non-negative integer"
            elif int(qty) < 0:
                message = "inventory must be a non-negative integer"
            inv_date = item.get("inventory_date")
            if not message and inv_date not in (None, "") and (not isinstance(inv_date, str) or not DATE_RE.match(inv_date[:10])):
                message = "inventory_date must be YYYY-MM-DD"
            if message:
                logs.append({"sku": label, "inventory_log_id": log_id, "status": "fail", "message": message})
                continue
            assert sid is not None
            key = (sid, warehouse)
            slot = self.inventory.setdefault(key, {"inventory": 0, "future": {}, "made_to_order": False})
            if inv_date:
                slot["future"][inv_date[:10]] = int(qty)
            else:
                slot["inventory"] = int(qty)
            if "made_to_order" in item:
                slot["made_to_order"] = bool(item["made_to_order"])
            slot["last_modified"] = now
            touched.add(key)
            passed += 1
            logs.append({"sku": label, "inventory_log_id": log_id, "status": "pass", "message": ""})
        zeroed = 0
        if overwrite:
            for key, slot in self.inventory.items():
                if key not in touched and (slot["inventory"] or slot["future"]):
                    slot["inventory"] = 0
                    slot["future"] = {}
                    slot["last_modified"] = now
                    zeroed += 1
        self.inventory_calls.append({"at": now, "items": len(items), "passed": passed, "overwrite": overwrite,
                                     "dec_pending": dec_pending, "zeroed": zeroed})
        return {"inventory_logs": {"inventory_log": logs}, "sku_count": passed,
                "fail_count": len(items) - passed, "overwrite": overwrite}

    def inventory_rows(self) -> list[Row]:
        out = []
        for (sid, wh), slot in self.inventory.items():
            sku = self.skus.get(sid, {})
            upcs = self._upcs(sku)
            out.append({"sku_id": sid, "external_id": sku.get("external_id"), "upc": upcs[0] if upcs else None,
                        "warehouse": wh, **slot})
        return out

    # ------------------------------------------------------------------ connections (v2)
    def sweep_pending(self) -> int:
        """Activate pending connections whose Data Services business days have passed."""
        now = self.now()
        n = 0
        days = self.config.data_services_business_days
        for conn in self.connections.values():
            if conn.get("status") == "pending" and conn.get("pending_since"):
                if now >= add_business_days(parse_when(conn["pending_since"]), days):
                    self._activate(conn)
                    n += 1
        return n

    def _activate(self, conn: Row) -> None:
        conn["status"] = "active"
        conn["retailer_id"] = conn.get("retailer_id") or str(self._bump_retailer())
        conn["activated_at"] = self.stamp()
        conn["date_modified"] = self.stamp()

    def _bump_retailer(self) -> int:
        self._next_retailer += 1
        return self._next_retailer

    def process_data_services(self, codes: Iterable[str] | None = None) -> list[str]:
        wanted = set(codes) if codes is not None else None
        done = []
        for conn in self.connections.values():
            if conn.get("status") == "pending" and (wanted is None or conn["customer_code"] in wanted):
                self._activate(conn)
                done.append(conn["customer_code"])
        return done

    def connection_by_code(self, code: str) -> Row:
        self.sweep_pending()
        cid = self.conn_by_code.get(code)
        if cid is None:
            raise JoorError(404, f"no connection with customer_code {code}")
        return self.connections[cid]

    def connection_by_id(self, cid: str) -> Row:
        self.sweep_pending()
        if cid not in self.connections:
            raise JoorError(404, f"no connection with id {cid}")
        return self.connections[cid]

    def list_connections(self, date_start: str | None) -> list[Row]:
        self.sweep_pending()
        rows = list(self.connections.values())
        if date_start:
            bound = parse_bound(date_start, end=False)
            rows = [c for c in rows if parse_when(c["date_modified"]) >= bound]
        return rows

    @staticmethod
    def parse_connection_body(body: Any) -> list[Any]:
        """Accepts ``{"connections": {"connection": [...]}}`` (XML-shaped, like inventory), or a list."""
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            inner = body.get("connections", body.get("connection"))
            if isinstance(inner, dict):
                inner = inner.get("connection")
            if isinstance(inner, dict):
                inner = [inner]
            if isinstance(inner, list):
                return inner
        raise JoorError(400, 'body must be {"connections": {"connection": [...]}}')

    def start_connection_job(self, body: Any, mode: str) -> Row:
        records = self.check_bulk_size(self.parse_connection_body(body), v2=True)
        job_id = f"job-{self._next_job:06d}"
        self._next_job += 1
        self.jobs[job_id] = {"job_id": job_id, "mode": mode, "status": "queued", "created_at": self.clock.time(),
                             "date_created": self.stamp(), "reads": 0, "records": copy.deepcopy(records),
                             "results": None}
        return {"job_id": job_id, "status": "queued", "record_count": len(records)}

    def read_job(self, job_id: str) -> Row:
        job = self.jobs.get(job_id)
        if job is None:
            raise JoorError(404, f"no bulk-connection job {job_id}")
        if job["status"] != "finished":
            job["reads"] += 1
            by_time = int((self.clock.time() - job["created_at"]) / max(self.config.job_step_seconds, 1e-9))
            step = max(job["reads"], by_time)
            if step >= 2:
                job["results"] = self._run_job(job)
                job["status"] = "finished"
                job["date_finished"] = self.stamp()
            elif step >= 1:
                job["status"] = "started"
        out = {k: job[k] for k in ("job_id", "mode", "status", "date_created")}
        out["record_count"] = len(job["records"])
        if job["status"] == "finished":
            out["date_finished"] = job["date_finished"]
            out["results"] = job["results"]
            out["success_count"] = sum(1 for r in job["results"] if r["status"] == "success")
            out["fail_count"] = len(job["results"]) - out["success_count"]
        return out

    def _price_type_for(self, currency: Any, label: Any) -> Row | None:
        for pt in self.price_types.values():
            if (label in (None, "") or pt["name"] == label) and (currency in (None, "") or pt["currency_code"] == currency):
                return pt
        return None

    def _validate_connection(self, rec: Any, creating: bool) -> str | None:
        if not isinstance(rec, dict):
            return "record must be an object"
        code = rec.get("customer_code")
        if not isinstance(code, str) or not code.strip():
            return "customer_code is required"
        if len(code) > 50:
            return "customer_code longer than 50 characters"
        if creating or "customer_name" in rec:
            name = rec.get("customer_name")
            if not isinstance(name, str) or not name.strip():
                return "customer_name is required"
            if len(name) > 100:
                return "customer_name longer than 100 characters"
        currency, label = rec.get("currency"), rec.get("price_label")
        if (currency not in (None, "") or label not in (None, "")) and self._price_type_for(currency, label) is None:
            return f"currency {currency!r} / price_label {label!r} does not match a price type"
        return None

    CONNECTION_FIELDS = ("customer_name", "customer_alias", "customer_contact_name", "customer_contact_email",
                         "customer_buyer_name", "customer_group_name", "customer_group_code", "sales_rep_code",
                         "currency", "price_label", "billing_address", "shipping_addresses", "shipping_address")

    def _run_job(self, job: Row) -> list[Row]:
        results = []
        seen: set[str] = set()
        creating = job["mode"] == "create"
        for rec in job["records"]:
            code = rec.get("customer_code") if isinstance(rec, dict) else None
            err = self._validate_connection(rec, creating)
            if not err and code in seen:
                err = "customer_code appears twice in this job"
            if not err and creating and code in self.conn_by_code:
                err = "customer_code already exists; use PUT to update"
            if not err and not creating and code not in self.conn_by_code:
                err = "no connection with this customer_code"
            if err:
                results.append({"customer_code": code, "status": "fail", "message": err, "connection_id": None})
                continue
            seen.add(code)
            now = self.stamp()
            if creating:
                cid = str(self._next_connection)
                self._next_connection += 1
                conn = {"connection_id": cid, "retailer_id": None, "customer_code": code, "status": "pending",
                        "pending_since": now, "date_created": now, "date_modified": now, "created_by": "api"}
                for k in self.CONNECTION_FIELDS:
                    if k in rec:
                        conn[k] = copy.deepcopy(rec[k])
                self.connections[cid] = conn
                self.conn_by_code[code] = cid
            else:
                conn = self.connections[self.conn_by_code[code]]
                for k in self.CONNECTION_FIELDS:
                    if k in rec:
                        conn[k] = copy.deepcopy(rec[k])
                conn["date_modified"] = now
            results.append({"customer_code": code, "status": "success", "message": conn["status"],
                            "connection_id": conn["connection_id"]})
        return results

    # ------------------------------------------------------------------ orders (v4)
    @staticmethod
    def _order_total(lines: list[Row]) -> str:
        return _money(sum(float(li["line_item_sku"]["wholesale_price"]) * li["quantity"]
                          for li in lines if not li.get("cancelled")))

    def find_orders(self, params: Row) -> list[Row]:
        rows: Iterable[Row]
        ids = csv_list(params.get("order_ids"))
        rows = [self.orders[i] for i in ids if i in self.orders] if ids is not None else self.orders.values()
        statuses = csv_list(params.get("status"))
        if statuses is not None:
            statuses = [s.upper() for s in statuses]
            bad = [s for s in statuses if s not in ORDER_STATUSES]
            if bad:
                raise JoorError(400, f"unknown order status {bad}; known: {list(ORDER_STATUSES)}")
            wanted = set(statuses)
            rows = [o for o in rows if o["status"] in wanted]
        export = csv_list(params.get("export_status"))
        if export is not None:
            export = [e.upper() for e in export]
            bad = [e for e in export if e not in EXPORT_STATUSES]
            if bad:
                raise JoorError(400, f"unknown export_status {bad}; known: {list(EXPORT_STATUSES)}")
            rows = [o for o in rows if (o.get("export_status") or "UNDEFINED") in export]
        for field_name, start_key, end_key in (("date_approved", "date_approved_start", "date_approved_end"),
                                               ("last_modified", "last_modified_start", "last_modified_end")):
            start, end = params.get(start_key), params.get(end_key)
            try:
                lo = parse_bound(start, end=False) if start else None
                hi = parse_bound(end, end=True) if end else None
            except ValueError as exc:
                raise JoorError(400, f"{start_key}/{end_key} must be YYYY-MM-DD or ISO-8601: {exc}") from exc
            if lo or hi:
                rows = [o for o in rows if o.get(field_name) and (lo is None or parse_when(o[field_name]) >= lo)
                        and (hi is None or parse_when(o[field_name]) <= hi)]
        return [public(o) for o in rows]

    def line_items(self, order_ids: list[str]) -> list[Row]:
        if len(order_ids) > self.config.max_line_item_order_ids:
            raise JoorError(400, f"at most {self.config.max_line_item_order_ids} order_ids per call")
        return [li for oid in order_ids for li in self.lines_by_order.get(oid, [])]

    def orders_bulk_update(self, items: Any, actor: str) -> tuple[list[Row], list[Row]]:
        items = self.check_bulk_size(items)
        data, errors = [], []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                errors.append(item_error("INVALID", "each item must be an object", i))
                continue
            order = self.orders.get(str(item.get("id")))
            if order is None:
                errors.append(item_error("NOT_FOUND", f"no order with id {item.get('id')}", i, id=item.get("id")))
                continue
            export = item.get("export_status")
            if export is not None and export not in EXPORT_STATUSES:
                errors.append(item_error("INVALID", f"export_status must be one of {EXPORT_STATUSES}", i, id=order["id"]))
                continue
            status = item.get("status")
            if status is not None and status not in ORDER_STATUSES:
                errors.append(item_error("INVALID", f"status must be one of {ORDER_STATUSES}", i, id=order["id"]))
                continue
            desc = item.get("export_description")
            if desc is not None and (not isinstance(desc, str) or len(desc) > 1000):
                errors.append(item_error("INVALID", "export_description must be a string of at most 1000 characters",
                                         i, id=order["id"]))
                continue
            if status is not None:
                self._set_status(order, status)
            if export is not None:
                order["export_status"] = export
                order["export_description"] = desc or ""
                order["export_updated_by"] = actor
            elif desc is not None:
                order["export_description"] = desc
            order["last_modified"] = self.stamp()
            data.append({"id": order["id"], "status": order["status"], "export_status": order["export_status"],
                         "export_description": order["export_description"]})
        return data, errors

    def _set_status(self, order: Row, status: str) -> None:
        now = self.stamp()
        order["status"] = status
        if status in ("APPROVED", "SHIPPED") and not order.get("date_approved"):
            order["date_approved"] = now
        if status == "SHIPPED" and not order.get("date_shipped"):
            order["date_shipped"] = now
        order["last_modified"] = now

    def v2_orders(self, sync: bool, status: str | None) -> list[Row]:
        """v2 default view: orders not yet exported; ``sync=1`` marks what it returns as exported (the trap)."""
        statuses = [s.upper() for s in csv_list(status)] if status else None
        rows = [o for o in self.orders.values() if o.get("export_status") != "SUCCESS" and o["status"] != "IN_PROGRESS"
                and (statuses is None or o["status"] in statuses)]
        return rows

    def mark_v2_exported(self, rows: list[Row]) -> None:
        now = self.stamp()
        for o in rows:
            o["export_status"] = "SUCCESS"
            o["export_description"] = "exported by v2 GET /v2/order sync=1"
            o["export_updated_by"] = "v2-sync"
            o["last_modified"] = now

    # ------------------------------------------------------------------ admin: user actions on orders
    def _amc_rows(self, name: str) -> list[Row]:
        amc = self.amc
        if amc is None:
            return []
        return list(amc.get(name, [])) if isinstance(amc, dict) else list(getattr(amc, name, []) or [])

    def _line_from_amc(self, order_id: str, sku: Row, currency: str, price_type_id: str | None, qty: int,
                       products: dict[str, Row], color_codes: dict[tuple[str, str], str],
                       iso: dict[str, str]) -> Row:
        product = products.get(sku.get("product_id"), {})
        joor_sku_id = self.sku_by_ext.get(str(sku["sku_id"]))
        wholesale = retail = None
        if joor_sku_id and price_type_id:
            pid = self.price_by_key.get((joor_sku_id, price_type_id))
            if pid:
                wholesale = self.prices[pid]["wholesale_value"]
                retail = self.prices[pid].get("retail_value")
        if wholesale is None:
            for pg in product.get("price_groups", []):
                if iso.get(pg.get("currency_id")) == currency:
                    wholesale = pg.get("price")
            wholesale = wholesale or product.get("price") or "0.00"
        if retail is None:
            retail = product.get("retail_price") or "0.00"
        line_id = str(self._next_line)
        self._next_line += 1
        return {
            "id": line_id, "order_id": order_id, "quantity": qty, "cancelled": False,
            "line_item_sku": {
                "external_id": str(sku["sku_id"]),
                "sku_id": joor_sku_id or joor_id("OrderSKU", int(sku["sku_id"])) if str(sku["sku_id"]).isdigit() else joor_sku_id,
                "upc": sku.get("upc_display", ""),
                "product": {"name": product.get("description", "Unknown style"), "external_id": sku.get("style_number", "")},
                "wholesale_price": wholesale, "suggested_retail_price": retail,
                "trait_values": [
                    {"trait": {"id": COLOR_TRAIT_ID, "name": "Color"}, "value": sku.get("attr_2", ""),
                     "external_id": color_codes.get((sku.get("product_id"), sku.get("attr_2")), "")},
                    {"trait": {"id": SIZE_TRAIT_ID, "name": "Size"}, "value": sku.get("size", ""),
                     "external_id": sku.get("size", "")},
                ],
            },
        }

    def admin_create_orders(self, body: Row) -> list[Row]:
        """A buyer places orders: ``{count, status, customer_code, lines (int or [{sku_id|upc, quantity}]), seed}``."""
        count = int(body.get("count", 1))
        if not 1 <= count <= 5000:
            raise JoorError(400, "count must be within 1..5000")
        status = str(body.get("status", "APPROVED")).upper()
        if status not in ORDER_STATUSES:
            raise JoorError(400, f"status must be one of {ORDER_STATUSES}")
        rng = random.Random(body.get("seed", self._next_order))
        inventory = self._amc_rows("inventory")
        if not inventory:
            raise JoorError(409, "no AMC catalog is wired to the JOOR sandbox; orders cannot be generated")
        by_sku = {str(r["sku_id"]): r for r in inventory}
        by_upc = {str(r.get("upc_display")): r for r in inventory}
        products = {p["product_id"]: p for p in self._amc_rows("products")}
        color_codes = {(a["product_id"], a["attribute_2"]): a.get("color_code", "") for a in self._amc_rows("product_attributes")}
        iso = {c["id"]: c["name"] for c in self._amc_rows("currencies")}
        self.sweep_pending()
        code = body.get("customer_code")
        if code is not None:
            cid = self.conn_by_code.get(str(code))
            if cid is None and not body.get("allow_unknown_customer"):
                raise JoorError(400, f"no connection with customer_code {code}")
            conns = [self.connections[cid]] if cid else []
        else:
            conns = [c for c in self.connections.values() if c.get("status") == "active"]
            if not conns:
                raise JoorError(409, "no active connection to order from")
        pt_by_cur = {p["currency_code"]: p["id"] for p in self.price_types.values()}
        lines_spec = body.get("lines", 3)
        created = []
        for _ in range(count):
            conn = rng.choice(conns) if conns else {
                "customer_code": str(code), "customer_name": str(code), "currency": "USD", "retailer_id": None,
                "billing_address": {}, "shipping_addresses": [{}], "sales_rep_code": None, "customer_contact_email": ""}
            currency = body.get("currency") or conn.get("currency") or "USD"
            price_type_id = pt_by_cur.get(currency)
            order_id = str(self._next_order)
            self._next_order += 1
            lines = []
            if isinstance(lines_spec, list):
                for spec in lines_spec:
                    sku = by_sku.get(str(spec.get("sku_id"))) or by_upc.get(str(spec.get("upc")))
                    if sku is None:  # an SKU unknown to AMC: the order pull must fail it with a reason
                        sku = {"sku_id": str(spec.get("sku_id") or "999999"), "product_id": None,
                               "upc_display": str(spec.get("upc") or ""), "style_number": spec.get("style_number", ""),
                               "attr_2": spec.get("color", ""), "size": spec.get("size", "")}
                    lines.append(self._line_from_amc(order_id, sku, currency, price_type_id, int(spec.get("quantity", 1)),
                                                     products, color_codes, iso))
            else:
                for sku in rng.sample(inventory, min(int(lines_spec), len(inventory))):
                    lines.append(self._line_from_amc(order_id, sku, currency, price_type_id, rng.choice((6, 12, 24)),
                                                     products, color_codes, iso))
            now = self.stamp()
            ship = (conn.get("shipping_addresses") or [{}])[0] or {}
            start_ship = self.now().date() + timedelta(days=30)
            order = {
                "id": order_id, "order_number": str(self._next_order_number), "status": "PENDING",
                "retailer_id": conn.get("retailer_id"), "customer_code": conn["customer_code"],
                "customer_name": conn.get("customer_name"), "po_number": body.get("po_number") or f"PO-{order_id}",
                "price_type_id": price_type_id, "currency_code": currency,
                "collection_id": body.get("collection_id") or next(iter(self.collections), None),
                "date_created": now, "date_approved": None, "date_shipped": None, "last_modified": now,
                "start_ship_date": start_ship.isoformat(), "complete_ship_date": (start_ship + timedelta(days=30)).isoformat(),
                "payment_method_code": body.get("payment_method_code", self.payment_methods[0]["code"] if self.payment_methods else None),
                "shipping_method_code": body.get("shipping_method_code", self.shipping_methods[0]["code"] if self.shipping_methods else None),
                "sales_rep_code": conn.get("sales_rep_code"), "warehouse": self.default_warehouse,
                "billing_address": copy.deepcopy(conn.get("billing_address") or {}), "shipping_address": copy.deepcopy(ship),
                "buyer": {"name": "Sandbox Buyer", "email": conn.get("customer_contact_email") or "buyer@example.com"},
                "comments": body.get("comments", ""), "discount": "0.00", "total": self._order_total(lines),
                "export_status": "UNDEFINED", "export_description": "", "seed_flaw": None,
            }
            self._next_order_number += 1
            self.orders[order_id] = order
            self.lines_by_order[order_id] = lines
            if status != "PENDING":
                self._set_status(order, status)
            if body.get("date_approved") and order.get("date_approved"):
                order["date_approved"] = str(body["date_approved"])
            created.append(self.order_with_lines(order_id))
        return created

    def order_with_lines(self, order_id: str) -> Row:
        if order_id not in self.orders:
            raise JoorError(404, f"no order {order_id}")
        return {**self.orders[order_id], "line_items": self.lines_by_order.get(order_id, [])}

    def admin_order_action(self, order_id: str, action: str, body: Row) -> Row:
        if order_id not in self.orders:
            raise JoorError(404, f"no order {order_id}")
        order = self.orders[order_id]
        if action == "approve":
            self._set_status(order, "APPROVED")
        elif action == "ship":
            self._set_status(order, "SHIPPED")
        elif action == "cancel":
            self._set_status(order, "CANCELLED")
        elif action == "edit":
            self._edit_order(order, body)
        else:
            raise JoorError(400, f"unknown order action {action}; use approve, ship, cancel or edit")
        return self.order_with_lines(order_id)

    def _edit_order(self, order: Row, body: Row) -> None:
        """Buyer/brand edits: header fields, line quantities, cancelled lines, added lines."""
        lines = self.lines_by_order[order["id"]]
        by_id = {li["id"]: li for li in lines}
        for k, v in (body.get("fields") or {}).items():
            if k in ("id", "line_items"):
                continue
            order[k] = v
        for change in body.get("lines") or []:
            li = by_id.get(str(change.get("id")))
            if li is None:
                raise JoorError(400, f"order {order['id']} has no line {change.get('id')}")
            if "quantity" in change:
                li["quantity"] = int(change["quantity"])
            if "cancelled" in change:
                li["cancelled"] = bool(change["cancelled"])
        for lid in body.get("cancel_line_ids") or []:
            if str(lid) in by_id:
                by_id[str(lid)]["cancelled"] = True
        if body.get("add_lines"):
            inventory = {str(r["sku_id"]): r for r in self._amc_rows("inventory")}
            products = {p["product_id"]: p for p in self._amc_rows("products")}
            color_codes = {(a["product_id"], a["attribute_2"]): a.get("color_code", "")
                           for a in self._amc_rows("product_attributes")}
            iso = {c["id"]: c["name"] for c in self._amc_rows("currencies")}
            for spec in body["add_lines"]:
                sku = inventory.get(str(spec.get("sku_id")))
                if sku is None:
                    raise JoorError(400, f"unknown AMC sku_id {spec.get('sku_id')}")
                lines.append(self._line_from_amc(order["id"], sku, order["currency_code"], order.get("price_type_id"),
                                                 int(spec.get("quantity", 1)), products, color_codes, iso))
        order["total"] = self._order_total(lines)
        order["last_modified"] = self.stamp()

    # ------------------------------------------------------------------ admin: inspection
    def info(self) -> Row:
        self.sweep_pending()
        return {
            "account_id": self.account_id, "dataset": self.dataset, "seed": self.seed_number,
            "counts": {
                "products": len(self.products), "skus": len(self.skus), "prices": len(self.prices),
                "product_assets": sum(len(v) for v in self.product_assets.values()),
                "trait_assets": sum(len(v) for v in self.trait_assets.values()),
                "seasons": len(self.seasons), "collections": len(self.collections),
                "inventory_rows": len(self.inventory), "connections": len(self.connections),
                "pending_connections": sum(1 for c in self.connections.values() if c.get("status") == "pending"),
                "bulk_jobs": len(self.jobs), "orders": len(self.orders),
                "order_lines": sum(len(v) for v in self.lines_by_order.values()),
                "active_tokens": sum(1 for t in self.tokens.values() if t["expires_at"] > self.clock.time()),
            },
            "warehouses": self.warehouses, "default_warehouse": self.default_warehouse,
            "price_types": list(self.price_types.values()), "payment_methods": self.payment_methods,
            "shipping_methods": self.shipping_methods, "order_start_date": self.order_start_date,
        }

    def catalog_dump(self) -> Row:
        return {
            "products": list(self.products.values()),
            "skus": list(self.skus.values()),
            "prices": list(self.prices.values()),
            "product_assets": [a for v in self.product_assets.values() for a in v],
            "trait_assets": [a for v in self.trait_assets.values() for a in v],
            "seasons": list(self.seasons.values()),
        }

    def orders_dump(self, with_lines: bool = True) -> list[Row]:
        if not with_lines:
            return list(self.orders.values())
        return [self.order_with_lines(oid) for oid in self.orders]


def order_date(value: str | None) -> date | None:
    return parse_when(value).date() if value else None
