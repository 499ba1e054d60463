"""AmcHook: the ApparelMagic Cloud API as typed, paged, retried Python calls.

Connection ``amc_default`` (type ``amc``): *host* = the company URL
(``https://<company>.app.apparelmagic.com``; the sandbox ``http://127.0.0.1:8781``),
*password* = the API token, *extra* ``{"environment": "sandbox"|"live", "paging":
"auto"|"page_number"|"last_id", "page_size": 500, "timeout": 60}``.
Every request goes to ``<host>/api/json/<resource>`` with ``token`` + ``time`` in the query
(GET) or the JSON body (POST), through the shared retry transport (:mod:`.http`).

Domain methods (iterators page internally and never yield a record twice):

Catalog
    ``iter_products(modified_since=None, style_numbers=None, filters=())`` → ``AmcProduct``
    ``iter_colorways(modified_since=None, product_id=None, filters=())`` → ``AmcColorway``
        (``/product_attributes``)
    ``iter_skus(modified_since=None, product_id=None, filters=())`` → ``AmcSku`` (``/inventory``)
    ``iter_sku_stock(warehouse_id=None, modified_since=None, filters=())`` → ``AmcSkuStock``
        (``/sku_warehouse``; ``.stock("qty_avail_sell")``)
Lookups (lists)
    ``list_warehouses()``, ``list_currencies()``, ``list_divisions()``, ``list_terms()``,
    ``list_ship_methods()``
Customers
    ``iter_customers(modified_since=None, filters=())`` → ``AmcCustomer``
    ``get_customer(customer_id)`` → ``AmcCustomer | None``
    ``iter_ship_tos(customer_id=None)`` → ``AmcShipTo`` (``/locations``)
Orders
    ``iter_orders(modified_since=None, customer_po=None, joor_id=None, source=None, filters=())``
    ``get_order(order_id)`` → ``AmcOrder | None``
    ``find_order_by_joor_number(order_number)`` → ``AmcOrder | None`` (``customer_po``, then ``joor_id``)
    ``create_order(header, items, retry_unsafe=False)`` → ``AmcOrder``. Not idempotent: a timeout
        or drop raises ``AmcApiError(ambiguous=True)``; look the order up, never blindly resend.
Generic
    ``iter_resource(resource, model, filters=(), page_size=None)`` → models,
    ``iter_rows(resource, filters=(), page_size=None)`` → raw dicts,
    ``list_records(resource, filters=[(field, op, value)], fields=None, page_size=None)`` → dicts,
    ``get_records(resource, id)``,
    ``Filter(field, operator, value, include_type="AND")`` for ``parameters[i]``.

Errors: ``AmcApiError`` (endpoint, status, AMC's message; ``.kind``, ``.ambiguous``, ``.errors``),
``AmcAuthError`` for the 401 HTML page. AMC's ``meta.errors`` under HTTP 200 raise too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import requests
from airflow.providers.http.hooks.http import HttpHook
from pydantic import BaseModel

from amc_joor.hooks.http import (
    ApiError,
    RetryPolicy,
    Transport,
    decode_json,
    extract_message,
    flag,
    mask,
    redact,
    redact_url,
    retype,
)
from amc_joor.hooks.paging import AmcPager
from amc_joor.models.amc import (
    AmcColorway,
    AmcCurrency,
    AmcCustomer,
    AmcLookup,
    AmcOrder,
    AmcOrderHeader,
    AmcOrderItem,
    AmcProduct,
    AmcShipTo,
    AmcSku,
    AmcSkuStock,
    AmcWarehouse,
    format_amc_datetime,
    order_item_wire,
)

M = TypeVar("M", bound=BaseModel)

#: Stdlib logger: Airflow routes it into task logs; the redaction filter and caplog see it.
log = logging.getLogger("amc_joor.hooks.amc")

#: The record key of each resource: paging dedupe and lookups.
RESOURCE_KEYS: dict[str, tuple[str, ...]] = {
    "products": ("product_id",),
    "product_attributes": ("id",),
    "inventory": ("sku_id",),
    "sku_warehouse": ("sku_id", "warehouse_id"),
    "warehouses": ("id",),
    "currencies": ("id",),
    "customers": ("customer_id",),
    "locations": ("ship_to_id",),
    "divisions": ("id",),
    "terms": ("id",),
    "ship_methods": ("id",),
    "orders": ("order_id",),
}

DEFAULT_PAGE_SIZE = 500
OPERATORS = ("=", ">", ">=", "<", "<=", "contains")


class AmcApiError(ApiError):
    """An AMC call failed (HTTP error, ``meta.errors`` under HTTP 200, unreadable body, ...)."""

    api = "AMC"


class AmcAuthError(AmcApiError):
    """AMC rejected the token (it answers 401 with an HTML page, not JSON)."""


@dataclass(frozen=True)
class Filter:
    """One AMC ``parameters[i]`` condition; ``include_type`` joins it to the ones before."""

    field: str
    operator: str
    value: Any
    include_type: str = "AND"

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"AMC filter operator must be one of {OPERATORS}, got {self.operator!r}")


def encode_filters(filters: Sequence[Filter]) -> dict[str, str]:
    """PHP-bracket query items: ``parameters[0][field]=…&parameters[0][operator]=>=&…``."""
    out: dict[str, str] = {}
    for i, f in enumerate(filters):
        value = f.value
        if isinstance(value, datetime):
            value = format_amc_datetime(value)
        elif isinstance(value, date):
            value = value.isoformat()
        out[f"parameters[{i}][field]"] = f.field
        out[f"parameters[{i}][operator]"] = f.operator
        out[f"parameters[{i}][value]"] = str(value)
        if i > 0 or f.include_type.upper() != "AND":
            out[f"parameters[{i}][include_type]"] = f.include_type.upper()
    return out


def modified_since_filter(since: datetime | str | None) -> list[Filter]:
    """``last_modified_time >= since`` (the incremental-read filter), or nothing."""
    if since is None:
        return []
    return [Filter("last_modified_time", ">=", since)]


def record_key(resource: str, row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(k, "")) for k in RESOURCE_KEYS.get(resource, ("id",)))


@dataclass(frozen=True)
class AmcConfig:
    """What the hook reads from its Connection (once, lazily)."""

    base_url: str  # …/api/json
    token: str = field(repr=False)  # never printed: a logged config must not leak it
    environment: str
    paging: str
    page_size: int
    timeout: float
    trust_env: bool


class AmcHook(HttpHook):
    """ApparelMagic Cloud hook (see the module docstring for the domain methods)."""

    conn_name_attr = "amc_conn_id"
    default_conn_name = "amc_default"
    conn_type = "amc"
    hook_name = "ApparelMagic Cloud"

    def __init__(
        self,
        amc_conn_id: str = default_conn_name,
        *,
        retry_policy: RetryPolicy | None = None,
        page_size: int | None = None,
        paging: str | None = None,
        max_pages: int = 10_000,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(method="GET", http_conn_id=amc_conn_id, **kwargs)
        self.amc_conn_id = amc_conn_id
        self._page_size = page_size
        self._paging = paging
        self._timeout = timeout
        self.max_pages = max_pages
        self._retry_policy = retry_policy
        self._cfg: AmcConfig | None = None
        self._transport: Transport | None = None

    # -- connection (lazy) -------------------------------------------------------------------

    @property
    def config(self) -> AmcConfig:
        """Read the Connection on first use, register the token with the secret masker."""
        if self._cfg is None:
            conn = self.get_connection(self.amc_conn_id)
            extra = conn.extra_dejson or {}

            def x(key: str, default: Any = None) -> Any:
                return extra.get(key, extra.get(f"extra__amc__{key}", default))

            host = (conn.host or "").strip().rstrip("/")
            if not host:
                raise AmcApiError(f"connection {self.amc_conn_id!r} has no host (the company URL)", kind="config")
            if "://" not in host:
                host = f"{conn.schema or 'https'}://{host}"
            if conn.port and host.count(":") < 2:
                host = f"{host}:{conn.port}"
            base = host if host.endswith("/api/json") else f"{host}/api/json"
            token = conn.password or x("token") or ""
            if not token:
                raise AmcApiError(f"connection {self.amc_conn_id!r} has no API token (password)", kind="config")
            mask(token)
            self._cfg = AmcConfig(
                base_url=base,
                token=token,
                environment=str(x("environment", "live")),
                paging=str(self._paging or x("paging", "auto")),
                page_size=int(self._page_size or x("page_size", DEFAULT_PAGE_SIZE)),
                timeout=float(self._timeout or x("timeout", 60)),
                trust_env=flag(x("trust_env"), True),
            )
        return self._cfg

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            policy = self._retry_policy or RetryPolicy(read_timeout=self.config.timeout)
            self._transport = Transport(
                api="AMC",
                error_cls=AmcApiError,
                trust_env=self.config.trust_env,
                policy=policy,
                secrets=lambda: [self.config.token],
                logger=log,
            )
        return self._transport

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> requests.Session:
        """The pooled session: no Basic auth, no connection extras sent as headers (HttpHook traps)."""
        return self.transport.get_session()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # -- wire ----------------------------------------------------------------------------------

    def _parse(self, resp: requests.Response) -> dict[str, Any]:
        """AMC's envelope; ``meta.errors`` under HTTP 200 is an error."""
        if "html" in resp.headers.get("Content-Type", "").lower():
            raise ApiError("an HTML page instead of JSON (login page?)", status=resp.status_code, kind="malformed",
                           retryable=True)
        body = decode_json(resp)
        if not isinstance(body, dict):
            raise ApiError("reply is not an AMC envelope", status=resp.status_code, kind="malformed", retryable=True)
        meta = body.get("meta") or {}
        errors = meta.get("errors") if isinstance(meta, dict) else None
        if errors:
            errs = errors if isinstance(errors, list) else [errors]
            msg = "; ".join(e if isinstance(e, str) else (extract_message(e) or str(e)) for e in errs)
            raise ApiError(msg or "meta.errors", status=resp.status_code, kind="api_error", errors=errs)
        if "response" not in body:
            raise ApiError("reply has no 'response'", status=resp.status_code, kind="malformed", retryable=True)
        return body

    def _url(self, resource: str) -> str:
        return f"{self.config.base_url}/{resource.strip('/')}"

    def request(
        self,
        method: str,
        resource: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        retry_unsafe: bool = True,
    ) -> dict[str, Any]:
        """One AMC call → the parsed envelope. Writes carry token/time in the body, reads in the query.

        ``retry_unsafe=False`` marks a non-idempotent write: not resent after a timeout/drop.
        """
        method = method.upper()
        cfg = self.config
        if method == "GET":
            query = dict(params or {})
            json_body = None
        else:
            query = dict(params or {})
            json_body = dict(body or {})

        def before_send(kw: dict[str, Any]) -> None:
            now = str(int(time.time()))  # fresh per attempt: AMC rejects a stale `time`
            if method == "GET":
                kw["params"] = {**query, "token": cfg.token, "time": now}
            else:
                kw["params"] = query or None
                kw["json"] = {**json_body, "time": now, "token": cfg.token}  # type: ignore[dict-item]
            kw["headers"].setdefault("Accept", "application/json")
            if log.isEnabledFor(logging.DEBUG):
                log.debug("AMC %s /%s params=%s", method, resource, redact(kw["params"] or {}))

        try:
            return self.transport.request(
                method,
                self._url(resource),
                safe=method == "GET" or retry_unsafe,
                before_send=before_send,
                parse=self._parse,
            )
        except AmcApiError as exc:
            if exc.kind == "auth":
                raise retype(exc, AmcAuthError) from None
            raise

    def run(
        self,
        endpoint: str | None = None,
        data: dict[str, Any] | str | None = None,
        headers: dict[str, Any] | None = None,
        extra_options: dict[str, Any] | None = None,
        **request_kwargs: Any,
    ) -> Any:
        """HttpHook-compatible entry: ``run("products", {"pagination[page_size]": 5})`` → envelope."""
        if self.method == "GET":
            return self.request("GET", endpoint or "", params=data if isinstance(data, dict) else None)
        return self.request(self.method, endpoint or "", body=data if isinstance(data, dict) else None)

    def check_response(self, response: requests.Response) -> None:
        """Raise a clean AmcApiError for non-2xx — no body logged, 429 not turned into AirflowException."""
        if response.status_code >= 400:
            raise AmcApiError(
                "rate limited" if response.status_code == 429 else (response.reason or "error"),
                status=response.status_code,
                kind="rate_limited" if response.status_code == 429 else "client_error",
                endpoint=_path(response.url),
            )

    # -- paging --------------------------------------------------------------------------------

    def iter_rows(
        self, resource: str, filters: Sequence[Filter] = (), page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Raw rows of a resource across all pages (dedupe by record key, stuck-cursor safe)."""
        pager = AmcPager(
            page_size=page_size or self.config.page_size,
            style=self.config.paging,
            max_pages=self.max_pages,
            key=lambda r: record_key(resource, r),
        )
        base = encode_filters(filters)
        while True:
            env = self.request("GET", resource, params={**base, **pager.next_params()})
            rows = env.get("response") or []
            if not isinstance(rows, list):
                rows = [rows]
            meta = env.get("meta") or {}
            outcome = pager.advance(rows, (meta.get("pagination") if isinstance(meta, dict) else None) or {})
            yield from outcome.records
            if outcome.stuck:
                log.warning(
                    "AMC /%s: paging stopped, %s (after %d pages)", resource, outcome.reason, pager.pages
                )
            if not outcome.more:
                return

    def list_records(
        self,
        resource: str,
        filters: Sequence[Filter | tuple[str, str, Any]] = (),
        fields: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """All raw rows of a resource as plain dicts (for DataFrame building).

        ``filters`` may be :class:`Filter` objects or ``(field, operator, value)`` tuples;
        ``fields`` keeps only those keys of each row (less memory on large tenants).
        """
        conds = [f if isinstance(f, Filter) else Filter(*f) for f in filters]
        if fields is None:
            return list(self.iter_rows(resource, conds, page_size))
        keep = list(fields)
        return [{k: row.get(k) for k in keep} for row in self.iter_rows(resource, conds, page_size)]

    def iter_resource(
        self, resource: str, model: type[M], filters: Sequence[Filter] = (), page_size: int | None = None
    ) -> Iterator[M]:
        """Typed records of a resource across all pages."""
        for row in self.iter_rows(resource, filters, page_size):
            yield model.model_validate(row)

    def get_records(self, resource: str, record_id: str) -> list[dict[str, Any]]:
        """``GET /<resource>/<id>`` → rows (AMC answers an array even for one id)."""
        env = self.request("GET", f"{resource}/{record_id}")
        rows = env.get("response") or []
        return rows if isinstance(rows, list) else [rows]

    # -- catalog -------------------------------------------------------------------------------

    def iter_products(
        self,
        modified_since: datetime | str | None = None,
        style_numbers: Iterable[str] | None = None,
        filters: Sequence[Filter] = (),
    ) -> Iterator[AmcProduct]:
        """Styles, optionally only those changed since a moment or with given style numbers."""
        base = [*modified_since_filter(modified_since), *filters]
        if style_numbers is None:
            yield from self.iter_resource("products", AmcProduct, base)
            return
        for style in dict.fromkeys(style_numbers):
            yield from self.iter_resource("products", AmcProduct, [*base, Filter("style_number", "=", style)])

    def iter_colorways(
        self, modified_since: datetime | str | None = None, product_id: str | None = None, filters: Sequence[Filter] = ()
    ) -> Iterator[AmcColorway]:
        extra = [Filter("product_id", "=", product_id)] if product_id else []
        yield from self.iter_resource(
            "product_attributes", AmcColorway, [*modified_since_filter(modified_since), *extra, *filters]
        )

    def iter_skus(
        self, modified_since: datetime | str | None = None, product_id: str | None = None, filters: Sequence[Filter] = ()
    ) -> Iterator[AmcSku]:
        extra = [Filter("product_id", "=", product_id)] if product_id else []
        yield from self.iter_resource("inventory", AmcSku, [*modified_since_filter(modified_since), *extra, *filters])

    def iter_sku_stock(
        self, warehouse_id: str | None = None, modified_since: datetime | str | None = None, filters: Sequence[Filter] = ()
    ) -> Iterator[AmcSkuStock]:
        extra = [Filter("warehouse_id", "=", warehouse_id)] if warehouse_id else []
        yield from self.iter_resource(
            "sku_warehouse", AmcSkuStock, [*modified_since_filter(modified_since), *extra, *filters]
        )

    # -- lookups -------------------------------------------------------------------------------

    def list_warehouses(self) -> list[AmcWarehouse]:
        return list(self.iter_resource("warehouses", AmcWarehouse))

    def list_currencies(self) -> list[AmcCurrency]:
        return list(self.iter_resource("currencies", AmcCurrency))

    def list_divisions(self) -> list[AmcLookup]:
        return list(self.iter_resource("divisions", AmcLookup))

    def list_terms(self) -> list[AmcLookup]:
        return list(self.iter_resource("terms", AmcLookup))

    def list_ship_methods(self) -> list[AmcLookup]:
        return list(self.iter_resource("ship_methods", AmcLookup))

    # -- customers -----------------------------------------------------------------------------

    def iter_customers(
        self, modified_since: datetime | str | None = None, filters: Sequence[Filter] = ()
    ) -> Iterator[AmcCustomer]:
        yield from self.iter_resource("customers", AmcCustomer, [*modified_since_filter(modified_since), *filters])

    def get_customer(self, customer_id: str) -> AmcCustomer | None:
        rows = self.get_records("customers", str(customer_id))
        return AmcCustomer.model_validate(rows[0]) if rows else None

    def iter_ship_tos(self, customer_id: str | None = None) -> Iterator[AmcShipTo]:
        filters = [Filter("customer_id", "=", customer_id)] if customer_id else []
        yield from self.iter_resource("locations", AmcShipTo, filters)

    # -- orders --------------------------------------------------------------------------------

    def iter_orders(
        self,
        modified_since: datetime | str | None = None,
        customer_po: str | None = None,
        joor_id: str | None = None,
        source: str | None = None,
        filters: Sequence[Filter] = (),
    ) -> Iterator[AmcOrder]:
        extra = [*modified_since_filter(modified_since)]
        for name, value in (("customer_po", customer_po), ("joor_id", joor_id), ("source", source)):
            if value is not None:
                extra.append(Filter(name, "=", value))
        yield from self.iter_resource("orders", AmcOrder, [*extra, *filters])

    def get_order(self, order_id: str) -> AmcOrder | None:
        rows = self.get_records("orders", str(order_id))
        return AmcOrder.model_validate(rows[0]) if rows else None

    def find_order_by_joor_number(self, order_number: str) -> AmcOrder | None:
        """The AMC order carrying this JOOR order number (``customer_po``, else ``joor_id``), if any.

        Two plain queries rather than one OR filter: tenants differ in how they treat
        ``include_type``, and a missed match here would import an order twice.
        """
        for field_name in ("customer_po", "joor_id"):
            for order in self.iter_resource("orders", AmcOrder, [Filter(field_name, "=", str(order_number))]):
                return order
        return None

    def create_order(
        self,
        header: AmcOrderHeader | Mapping[str, Any],
        items: Sequence[AmcOrderItem | Mapping[str, Any]],
        *,
        retry_unsafe: bool = False,
    ) -> AmcOrder:
        """``POST /orders``. AMC has no idempotency key: by default a timeout, a dropped connection
        or an ambiguous 5xx is NOT resent but raised with ``ambiguous=True`` — look the order up
        with :meth:`find_order_by_joor_number` first. Validation failures (``meta.errors``) raise
        ``AmcApiError(kind="api_error")`` with AMC's messages in ``.errors``.
        """
        head = header if isinstance(header, AmcOrderHeader) else AmcOrderHeader.model_validate(dict(header))
        body = {"header": head.to_wire(), "items": [order_item_wire(i) for i in items]}
        env = self.request("POST", "orders", body=body, retry_unsafe=retry_unsafe)
        rows = env.get("response") or []
        if isinstance(rows, dict):
            rows = [rows]
        if not rows:
            raise AmcApiError("order create answered without an order", kind="api_error", status=200,
                              method="POST", endpoint=_path(self._url("orders")))
        return AmcOrder.model_validate(rows[0])

    # -- Airflow UI ----------------------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The form's field behaviour. Airflow 3.2+ reads it from the provider info
        (:mod:`amc_joor.provider`, the single source) without calling this; kept for callers
        that ask the hook."""
        from amc_joor.provider import ui_field_behaviour

        return ui_field_behaviour("amc")

    def test_connection(self) -> tuple[bool, str]:
        """The UI *Test* button: one cheap authenticated read (``/warehouses``, one page)."""
        try:
            self.request("GET", "warehouses", params={"pagination[page_size]": "1"})
            return True, f"Connected to ApparelMagic Cloud ({self.config.environment}); token accepted"
        except ApiError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - the UI needs a message, not a traceback
            return False, f"{type(exc).__name__}: {exc}"


def _path(url: str) -> str:
    return redact_url(url)
