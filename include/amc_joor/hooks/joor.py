"""JoorHook: JOOR's v2 and v4 APIs as typed, paged, budgeted, retried Python calls.

Connection ``joor_default`` (type ``joor``): *host* = one base serving ``/v2``, ``/v4`` (the
sandbox; blank = JOOR's own hosts for the ``environment``), *login*/*password* = the v4 user,
*extra* ``{"environment": "sandbox"|"live", "v2_token", "client_id", "client_secret",
"account_id", "auth_url"?, "credit_limit"?, "credit_window_seconds"?, "credit_reserve"?,
"v4_bulk_max_items"?: 500, "v2_bulk_max_items"?: 1000, "timeout"?}``.

Every call reserves JOOR credits in the shared budget first (1 per GET, 5 per write; see
:mod:`amc_joor.budget`), then goes through the shared retry transport (:mod:`.http`). v4 calls
carry ``Authorization: Bearer`` (token minted at ``auth_url``, cached per process, renewed
before expiry and once on a 401) and ``?account=``; v2 calls carry ``OAuth2 <base64(token)>``.
Pass ``priority=True`` for the order pull: it may spend the budget's reserve.

Domain methods. Bulk writes split any input into batches of the configured maximum and return
one :class:`BulkItemResult` per input item, in input order (``ok``, ``id``, ``error_code`` such
as ``DUPLICATED`` with the existing ``id``, ``message``) — per-item failures never raise.
A bulk write is resent after a timeout/drop/5xx only when a replay cannot duplicate anything:
updates and export statuses, creates whose every item has an ``external_id`` (a replay answers
DUPLICATED with the existing id), prices (one per SKU × price type), assets only with
``replace_all=True``. Otherwise the failure raises ``JoorApiError(ambiguous=True)``: look up.

Lookups (v4)
    ``list_traits()``, ``list_categories()``, ``list_price_types()`` → models
Products / SKUs / prices (v4)
    ``iter_products(external_ids=None, ids=None)``, ``bulk_create_products(items)``,
    ``bulk_update_products(items)``
    ``iter_skus(product_ids=None, external_ids=None, ids=None)``, ``bulk_create_skus(items)``,
    ``bulk_update_skus(items)``
    ``iter_prices(sku_ids=None, ids=None)``, ``bulk_create_prices(items)``, ``bulk_update_prices(items)``
Assets (v4)
    ``upload_product_assets(items, replace_all=False)``, ``upload_sku_trait_value_assets(items,
    replace_all=False)``, ``iter_product_assets(product_ids=None)``
Seasons / collections (linesheets) (v4)
    ``iter_seasons(external_ids=None)``, ``create_seasons(items)``
    ``iter_collections(ids=None, external_ids=None)``, ``bulk_create_collections(items)``,
    ``bulk_update_collections(items)``
Inventory (v2)
    ``bulk_inventory(items)`` → ``InventoryItemResult`` per item. Never sends ``overwrite``:
    the account-wide replace that zeroes every SKU left out is deliberately not reachable.
Customers — connections (v2)
    ``get_connection_by_code(code)`` / ``get_connection_by_id(connection_id)`` → ``JoorConnection | None``
    ``iter_connections(date_start=None)``
    ``submit_bulk_connection(records, update=False)`` → job id (POST creates, PUT updates)
    ``get_bulk_connection_job(job_id)`` → ``JoorBulkJob``; ``wait_bulk_connection_job(job_id, timeout)``
Orders (v4)
    ``iter_orders(status=None, export_status=None, order_ids=None, date_approved_start=None,
    date_approved_end=None, last_modified_start=None, last_modified_end=None, with_line_items=True)``
    → ``JoorOrder`` (``.line_items`` filled); ``get_line_items(order_ids)``
    ``update_export_status(updates)`` — ``[{id, export_status: SUCCESS|FAILED, export_description}]``
    → per-item results (safe to retry: it is a set, not an increment)
Generic
    ``request_v4(method, path, params=None, body=None)``, ``request_v2(...)``, ``test_connection()``

Errors: ``JoorApiError`` (endpoint, status, JOOR's message; ``.kind``; never a credential),
``JoorAuthError`` for rejected credentials, ``kind="budget"`` when credits could not be
reserved within the budget's ``max_wait``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import requests
from airflow.providers.http.hooks.http import HttpHook
from pydantic import BaseModel

from amc_joor.budget import BudgetTimeout, CreditBudget, credit_cost
from amc_joor.hooks.http import (
    ApiError,
    RetryPolicy,
    Transport,
    decode_json,
    extract_message,
    flag,
    mask,
    redact_url,
    retype,
)
from amc_joor.hooks.paging import JoorV2Pager, JoorV4Pager
from amc_joor.models.joor import (
    BulkItemResult,
    InventoryItemResult,
    JoorAsset,
    JoorBulkJob,
    JoorCategory,
    JoorCollection,
    JoorConnection,
    JoorLineItem,
    JoorOrder,
    JoorPrice,
    JoorPriceType,
    JoorProduct,
    JoorSeason,
    JoorSku,
    JoorTrait,
    validate_lenient,
)

log = logging.getLogger("amc_joor.hooks.joor")

M = TypeVar("M", bound=BaseModel)

#: Bulk limits (JOOR's are not public; the sandbox's defaults). Settings, not magic numbers:
#: override per connection (extras ``v4_bulk_max_items`` / ``v2_bulk_max_items``) or per hook.
V4_BULK_MAX_ITEMS = 500
V2_BULK_MAX_ITEMS = 1000
V4_MAX_PAGE_SIZE = 200
V2_PAGE_COUNT = 100
LINE_ITEM_ORDER_IDS_PER_CALL = 100

LIVE_HOSTS = {
    "live": ("https://api.jooraccess.com/v2", "https://api.jooraccess.com/v4", "https://atlas.jooraccess.com/auth/"),
    "sandbox": (
        "https://apisandbox.jooraccess.com/v2",
        "https://apisandbox.jooraccess.com/v4",
        "https://atlas-sandbox.jooraccess.com/auth/",
    ),
}

EXPORT_STATUSES = ("SUCCESS", "FAILED", "UNDEFINED")


class JoorApiError(ApiError):
    """A JOOR call failed (HTTP error, an envelope error, unreadable body, budget timeout, ...)."""

    api = "JOOR"


class JoorAuthError(JoorApiError):
    """JOOR rejected the credentials (v2 token, v4 client/user) or the minted token."""


@dataclass(frozen=True)
class JoorConfig:
    """What the hook reads from its Connection (once, lazily)."""

    v2_base: str
    v4_base: str
    auth_url: str
    environment: str
    account_id: str
    # secrets (and the extras that hold some) are never printed: a logged config must not leak them
    v2_token: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    username: str
    password: str = field(repr=False)
    timeout: float
    v4_bulk_max: int
    v2_bulk_max: int
    trust_env: bool
    extra: Mapping[str, Any] = field(repr=False)

    def secrets(self) -> list[str]:
        return [s for s in (self.v2_token, self.client_secret, self.password) if s]


# --- token cache (per process, shared by every hook instance) ------------------------------------


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float  # time.time() seconds
    lifetime: float


class TokenCache:
    """v4 access tokens per (auth URL, client id, user): minted once, renewed before expiry."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._lock = threading.Lock()

    @staticmethod
    def fresh(tok: _Token | None, now: float) -> bool:
        """Valid with a safety margin: 10% of its lifetime, at least 60 s (capped at half of it)."""
        if tok is None:
            return False
        margin = min(max(60.0, 0.1 * tok.lifetime), tok.lifetime / 2)
        return now < tok.expires_at - margin

    def get(self, key: tuple[str, str, str]) -> _Token | None:
        with self._lock:
            return self._tokens.get(key)

    def put(self, key: tuple[str, str, str], tok: _Token) -> None:
        with self._lock:
            self._tokens[key] = tok

    def drop(self, key: tuple[str, str, str], value: str | None = None) -> None:
        with self._lock:
            cur = self._tokens.get(key)
            if cur is not None and (value is None or cur.value == value):
                del self._tokens[key]


TOKENS = TokenCache()


def _csv(values: Iterable[Any] | None) -> str | None:
    if values is None:
        return None
    return ",".join(str(v) for v in values)


def _day(value: date | datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def chunks(items: Sequence[Any], size: int) -> Iterator[tuple[int, Sequence[Any]]]:
    """``(offset, batch)`` pairs of at most ``size`` items."""
    if size < 1:
        raise ValueError("batch size must be >= 1")
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def map_bulk_results(items: Sequence[Any], data: Sequence[Any], errors: Sequence[Any], offset: int = 0) -> list[BulkItemResult]:
    """One result per input item from a v4 bulk reply (pure).

    JOOR answers successes in ``data`` (input order, failures skipped) and failures in
    ``errors`` (``status`` = code, ``details.index`` = position in this request). Items named
    by neither are reported failed (``NO_RESULT``), never assumed accepted.
    """
    failed: dict[int, Mapping[str, Any]] = {}
    loose: list[Mapping[str, Any]] = []
    for err in errors or []:
        details = err.get("details") if isinstance(err, Mapping) else None
        idx = details.get("index") if isinstance(details, Mapping) else None
        if isinstance(idx, int) and 0 <= idx < len(items) and idx not in failed:
            failed[idx] = err
        elif isinstance(err, Mapping):
            loose.append(err)
    ok_positions = [i for i in range(len(items)) if i not in failed]
    data = list(data or [])
    out: list[BulkItemResult] = []
    by_ext: dict[str, Mapping[str, Any]] = {}
    positional = len(data) == len(ok_positions)
    if not positional:
        for row in data:
            if isinstance(row, Mapping) and row.get("external_id") is not None:
                by_ext[str(row["external_id"])] = row
    cursor = 0
    for i, item in enumerate(items):
        ext = item.get("external_id") if isinstance(item, Mapping) else None
        ext_s = str(ext) if ext is not None else None
        if i in failed:
            err = failed[i]
            details = err.get("details") or {}
            jid = details.get("id") if isinstance(details, Mapping) else None
            out.append(
                BulkItemResult(
                    index=offset + i,
                    ok=False,
                    id=str(jid) if jid is not None else None,
                    external_id=ext_s,
                    error_code=str(err.get("status") or "ERROR"),
                    message=str(err.get("message") or ""),
                )
            )
            continue
        row: Mapping[str, Any] | None = None
        if positional:
            row = data[cursor]
            cursor += 1
        elif ext_s is not None:
            row = by_ext.get(ext_s)
        if row is None:
            msg = "; ".join(str(e.get("message")) for e in loose) or "JOOR did not report on this item"
            out.append(BulkItemResult(index=offset + i, ok=False, external_id=ext_s, error_code="NO_RESULT", message=msg))
            continue
        rid = row.get("id") if isinstance(row, Mapping) else None
        out.append(
            BulkItemResult(
                index=offset + i,
                ok=True,
                id=str(rid) if rid is not None else None,
                external_id=ext_s if ext_s is not None else (str(row.get("external_id")) if row.get("external_id") else None),
                data=dict(row),
            )
        )
    return out


class JoorHook(HttpHook):
    """JOOR hook (see the module docstring for the domain methods)."""

    conn_name_attr = "joor_conn_id"
    default_conn_name = "joor_default"
    conn_type = "joor"
    hook_name = "JOOR"

    def __init__(
        self,
        joor_conn_id: str = default_conn_name,
        *,
        budget: CreditBudget | str | None = "auto",
        priority: bool = False,
        retry_policy: RetryPolicy | None = None,
        timeout: float | None = None,
        v4_bulk_max_items: int | None = None,
        v2_bulk_max_items: int | None = None,
        v4_page_size: int = V4_MAX_PAGE_SIZE,
        v2_page_count: int = V2_PAGE_COUNT,
        max_pages: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(method="GET", http_conn_id=joor_conn_id, **kwargs)
        self.joor_conn_id = joor_conn_id
        self.priority = priority
        self._budget_arg = budget
        self._budget: CreditBudget | None = None
        self._budget_ready = False
        self._retry_policy = retry_policy
        self._timeout = timeout
        self._v4_bulk_max = v4_bulk_max_items
        self._v2_bulk_max = v2_bulk_max_items
        self.v4_page_size = min(v4_page_size, V4_MAX_PAGE_SIZE)
        self.v2_page_count = v2_page_count
        self.max_pages = max_pages
        self._cfg: JoorConfig | None = None
        self._transport: Transport | None = None
        self._auth_transport: Transport | None = None

    # -- connection (lazy) -------------------------------------------------------------------

    @property
    def config(self) -> JoorConfig:
        if self._cfg is None:
            conn = self.get_connection(self.joor_conn_id)
            extra = dict(conn.extra_dejson or {})

            def x(key: str, default: Any = None) -> Any:
                value = extra.get(key, extra.get(f"extra__joor__{key}"))
                return default if value in (None, "") else value

            env = str(x("environment", "live")).lower()
            host = (conn.host or "").strip().rstrip("/")
            if host:
                if "://" not in host:
                    host = f"{conn.schema or 'https'}://{host}"
                if conn.port and host.count(":") < 2:
                    host = f"{host}:{conn.port}"
                v2, v4, auth = f"{host}/v2", f"{host}/v4", f"{host}/auth/"
            else:
                v2, v4, auth = LIVE_HOSTS["sandbox" if env == "sandbox" else "live"]
            cfg = JoorConfig(
                v2_base=v2,
                v4_base=v4,
                auth_url=str(x("auth_url", auth)),
                environment=env,
                account_id=str(x("account_id", "")),
                v2_token=str(x("v2_token", "")),
                client_id=str(x("client_id", "")),
                client_secret=str(x("client_secret", "")),
                username=conn.login or str(x("username", "")),
                password=conn.password or "",
                timeout=float(self._timeout or x("timeout", 60)),
                v4_bulk_max=int(self._v4_bulk_max or x("v4_bulk_max_items", V4_BULK_MAX_ITEMS)),
                v2_bulk_max=int(self._v2_bulk_max or x("v2_bulk_max_items", V2_BULK_MAX_ITEMS)),
                trust_env=flag(x("trust_env"), True),
                extra=extra,
            )
            for secret in cfg.secrets():
                mask(secret)
            self._cfg = cfg
        return self._cfg

    @property
    def budget(self) -> CreditBudget | None:
        """The shared credit budget (``"auto"``: from the connection extras/env, keyed by account)."""
        if not self._budget_ready:
            arg = self._budget_arg
            if isinstance(arg, CreditBudget):
                self._budget = arg
            elif arg == "auto":
                cfg = self.config
                self._budget = CreditBudget.from_settings(cfg.account_id or cfg.client_id or "default", cfg.extra)
            else:
                self._budget = None
            self._budget_ready = True
        return self._budget

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = Transport(
                api="JOOR",
                error_cls=JoorApiError,
                trust_env=self.config.trust_env,
                policy=self._retry_policy or RetryPolicy(read_timeout=self.config.timeout),
                secrets=self._all_secrets,
                logger=log,
            )
        return self._transport

    def _all_secrets(self) -> list[str]:
        out = self.config.secrets()
        tok = TOKENS.get(self._token_key())
        if tok is not None:
            out.append(tok.value)
        return out

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None) -> requests.Session:
        """The pooled session: no Basic auth, no connection extras as headers (HttpHook traps)."""
        return self.transport.get_session()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        if self._auth_transport is not None:
            self._auth_transport.close()

    # -- v4 token ------------------------------------------------------------------------------

    def _token_key(self) -> tuple[str, str, str]:
        """Cache key: auth URL, client id, and a digest of user + secrets (a changed secret in the
        connection must not reuse a token minted with the old one; the secrets never sit in it)."""
        cfg = self.config
        digest = hashlib.sha256(
            "\x00".join((cfg.client_id, cfg.client_secret, cfg.username, cfg.password)).encode()
        ).hexdigest()
        return (cfg.auth_url, cfg.client_id, digest)

    def access_token(self, force: bool = False) -> str:
        """A valid v4 Bearer token: cached per process, minted/renewed when near expiry."""
        key = self._token_key()
        tok = TOKENS.get(key)
        now = time.time()
        if not force and TokenCache.fresh(tok, now):
            assert tok is not None
            return tok.value
        cfg = self.config
        if not (cfg.client_id and cfg.client_secret and cfg.username and cfg.password):
            raise JoorAuthError(
                "the connection lacks v4 credentials (client_id, client_secret, login, password)", kind="config"
            )
        if self._auth_transport is None:
            self._auth_transport = Transport(
                api="JOOR",
                error_cls=JoorApiError,
                trust_env=self.config.trust_env,
                policy=self._retry_policy or RetryPolicy(read_timeout=self.config.timeout),
                secrets=self._all_secrets,
                logger=log,
            )
        form = {
            "client_id": (None, cfg.client_id),
            "client_secret": (None, cfg.client_secret),
            "grant_type": (None, "password"),
            "username": (None, cfg.username),
            "password": (None, cfg.password),
        }
        try:
            body = self._auth_transport.request("POST", cfg.auth_url, files=form, safe=True)
        except JoorApiError as exc:
            if exc.status in (400, 401, 403):
                raise retype(exc, JoorAuthError) from None
            raise
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise JoorAuthError("the auth endpoint answered without an access_token", kind="auth",
                                endpoint=redact_url(cfg.auth_url), method="POST")
        value = str(body["access_token"])
        mask(value)
        lifetime = float(body.get("expires_in") or 3600)
        TOKENS.put(key, _Token(value=value, expires_at=time.time() + lifetime, lifetime=lifetime))
        log.debug("JOOR v4 token minted (expires in %.0fs)", lifetime)
        return value

    # -- wire ----------------------------------------------------------------------------------

    def _budget_hooks(self, method: str) -> dict[str, Any]:
        budget = self.budget
        if budget is None:
            return {}
        cost = credit_cost(method)

        def reserve() -> None:
            try:
                waited = budget.acquire(cost, priority=self.priority)
            except BudgetTimeout as exc:
                raise ApiError(str(exc), kind="budget") from None
            if waited > 0.5:
                log.info("JOOR credit budget: waited %.1fs for %d credits", waited, cost)

        return {
            "reserve": reserve,
            "on_response": lambda resp, sent_at, received_at: budget.sync(resp.headers, received_at, sent_at),
            "on_rate_limited": budget.exhausted,
        }

    @staticmethod
    def _parse_v4(resp: requests.Response) -> dict[str, Any]:
        body = decode_json(resp)
        if not isinstance(body, dict) or "data" not in body:
            raise ApiError("reply is not a v4 envelope", status=resp.status_code, kind="malformed", retryable=True)
        return body

    @staticmethod
    def _parse_v2(resp: requests.Response) -> dict[str, Any]:
        body = decode_json(resp)
        if not isinstance(body, dict) or not isinstance(body.get("response"), dict):
            raise ApiError("reply is not a v2 envelope", status=resp.status_code, kind="malformed", retryable=True)
        code = body["response"].get("code")
        if code not in (0, "0", None):
            raise ApiError(str(body["response"].get("comment") or f"code {code}"), status=resp.status_code,
                           kind="api_error")
        return body

    def _send(
        self,
        generation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        safe: bool = True,
    ) -> dict[str, Any]:
        cfg = self.config
        method = method.upper()
        base = cfg.v4_base if generation == "v4" else cfg.v2_base
        url = f"{base}/{path.lstrip('/')}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if generation == "v4":
            if not cfg.account_id:
                raise JoorApiError("the connection has no account_id (v4 calls need ?account=)", kind="config")
            query["account"] = cfg.account_id
        hooks = self._budget_hooks(method)

        def before_send(kw: dict[str, Any]) -> None:
            headers = kw["headers"]
            headers["Accept"] = "application/json"
            if body is not None:
                headers["Content-Type"] = "application/json"
            if generation == "v4":
                headers["Authorization"] = f"Bearer {self.access_token()}"
            else:
                if not cfg.v2_token:
                    raise JoorApiError("the connection has no v2_token", kind="config")
                headers["Authorization"] = "OAuth2 " + base64.b64encode(cfg.v2_token.encode()).decode()
            kw["params"] = query or None
            kw["json"] = body
            # Reserve last (after any token minting), so the reservation time is the send time.
            if "reserve" in hooks:
                hooks["reserve"]()

        def on_unauthorized() -> bool:
            if generation != "v4":
                return False
            TOKENS.drop(self._token_key())
            return True

        try:
            return self.transport.request(
                method,
                url,
                safe=safe,
                before_send=before_send,
                on_response=hooks.get("on_response"),
                on_rate_limited=hooks.get("on_rate_limited"),
                on_unauthorized=on_unauthorized,
                parse=self._parse_v4 if generation == "v4" else self._parse_v2,
            )
        except JoorApiError as exc:
            if exc.kind == "auth":
                raise retype(exc, JoorAuthError) from None
            raise

    def request_v4(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None,
                   safe: bool = True) -> dict[str, Any]:
        """One v4 call → the ``{"data", "errors", "meta"?}`` envelope."""
        return self._send("v4", method, path, params=params, body=body, safe=safe)

    def request_v2(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None,
                   safe: bool = True) -> dict[str, Any]:
        """One v2 call → the body (``response{code, comment, next_start, ...}`` + payload)."""
        return self._send("v2", method, path, params=params, body=body, safe=safe)

    def run(
        self,
        endpoint: str | None = None,
        data: dict[str, Any] | str | None = None,
        headers: dict[str, Any] | None = None,
        extra_options: dict[str, Any] | None = None,
        **request_kwargs: Any,
    ) -> Any:
        """HttpHook-compatible entry: ``run("v4/traits")`` / ``run("v2/connection", {...})``."""
        ep = (endpoint or "").lstrip("/")
        generation, _, path = ep.partition("/")
        if generation not in ("v2", "v4"):
            raise ValueError("JoorHook.run endpoint must start with v2/ or v4/")
        if self.method == "GET":
            return self._send(generation, "GET", path, params=data if isinstance(data, dict) else None)
        return self._send(generation, self.method, path, body=data)

    def check_response(self, response: requests.Response) -> None:
        """Raise a clean JoorApiError for non-2xx — no body logged, 429 not an AirflowException."""
        if response.status_code >= 400:
            raise JoorApiError(
                "rate limited" if response.status_code == 429 else (response.reason or "error"),
                status=response.status_code,
                kind="rate_limited" if response.status_code == 429 else "client_error",
                endpoint=redact_url(response.url),
            )

    # -- paging --------------------------------------------------------------------------------

    def iter_v4(self, path: str, model: type[M], params: Mapping[str, Any] | None = None,
                lenient: bool = False) -> Iterator[M]:
        """Every record of a paged v4 list (``page``/``page_size`` ≤ 200, ``meta.total``).

        ``lenient``: a record with a value that does not validate is yielded with that value set
        to None and listed under ``invalid_fields`` (input records: one bad order never sinks the
        page), instead of raising."""
        pager = JoorV4Pager(page_size=self.v4_page_size, max_pages=self.max_pages)
        while True:
            env = self.request_v4("GET", path, {**(params or {}), **pager.next_params()})
            rows = env.get("data") or []
            keys = [str(r.get("id")) for r in rows if isinstance(r, Mapping) and r.get("id") is not None]
            outcome = pager.advance(len(rows), env.get("meta"), keys)
            if outcome.stuck:
                log.warning("JOOR v4 %s: paging stopped, %s", path, outcome.reason)
                return
            for row in rows:
                yield validate_lenient(model, row) if lenient else model.model_validate(row)
            if not outcome.more:
                return

    def _list_v4(self, path: str, model: type[M], params: Mapping[str, Any] | None = None) -> list[M]:
        env = self.request_v4("GET", path, params)
        return [model.model_validate(r) for r in env.get("data") or []]

    def _bulk_v4(
        self,
        path: str,
        items: Sequence[Any],
        params: Mapping[str, Any] | None = None,
        safe: bool | None = None,
    ) -> list[BulkItemResult]:
        """POST ``items`` in batches; one result per item.

        Retried after a timeout/drop/5xx only when a replay cannot duplicate anything: updates
        (they re-apply), creates whose every item carries an ``external_id`` (a replay answers
        DUPLICATED with the existing id), or ``safe=True`` from the caller. Otherwise an
        ambiguous failure raises with ``ambiguous=True``.
        """
        items = [i.model_dump(exclude_none=True, mode="json") if isinstance(i, BaseModel) else i for i in items]
        if safe is None:
            safe = not path.endswith("bulk_create") or all(
                isinstance(i, Mapping) and i.get("external_id") not in (None, "") for i in items
            )
        out: list[BulkItemResult] = []
        for offset, batch in chunks(items, self.config.v4_bulk_max):
            env = self.request_v4("POST", path, params, body=list(batch), safe=safe)
            out.extend(map_bulk_results(batch, env.get("data") or [], env.get("errors") or [], offset))
        return out

    # -- lookups -------------------------------------------------------------------------------

    def list_traits(self) -> list[JoorTrait]:
        return self._list_v4("traits", JoorTrait)

    def list_categories(self) -> list[JoorCategory]:
        return self._list_v4("categories", JoorCategory)

    def list_price_types(self) -> list[JoorPriceType]:
        return self._list_v4("price_types", JoorPriceType)

    # -- products / SKUs / prices --------------------------------------------------------------

    def iter_products(self, external_ids: Iterable[str] | None = None, ids: Iterable[str] | None = None) -> Iterator[JoorProduct]:
        yield from self._iter_by_ids("products", JoorProduct, {"external_ids": external_ids, "ids": ids})

    def bulk_create_products(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        return self._bulk_v4("products/bulk_create", items)

    def bulk_update_products(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        return self._bulk_v4("products/bulk_update", items)

    def iter_skus(
        self,
        product_ids: Iterable[str] | None = None,
        external_ids: Iterable[str] | None = None,
        ids: Iterable[str] | None = None,
    ) -> Iterator[JoorSku]:
        yield from self._iter_by_ids(
            "skus", JoorSku, {"product_ids": product_ids, "external_ids": external_ids, "ids": ids}
        )

    def bulk_create_skus(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        return self._bulk_v4("skus/bulk_create", items)

    def bulk_update_skus(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        """Update SKUs. Sending a trait ``status: INACTIVE`` strips that color/size from every
        order, approved ones included: callers must never do it implicitly."""
        return self._bulk_v4("skus/bulk_update", items)

    def iter_prices(self, sku_ids: Iterable[str] | None = None, ids: Iterable[str] | None = None) -> Iterator[JoorPrice]:
        yield from self._iter_by_ids("prices", JoorPrice, {"sku_ids": sku_ids, "ids": ids})

    def bulk_create_prices(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        """``[{sku_id, price_type_id, wholesale_value: "100.00", retail_value}]`` — money as strings."""
        # One price per (SKU, price type): a replay answers DUPLICATED, so retrying is safe.
        return self._bulk_v4("prices/bulk_create", [_money_strings(i) for i in items], safe=True)

    def bulk_update_prices(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        return self._bulk_v4("prices/bulk_update", [_money_strings(i) for i in items])

    def _iter_by_ids(self, path: str, model: type[M], filters: Mapping[str, Iterable[str] | None],
                     lenient: bool = False) -> Iterator[M]:
        """A paged list, with id-list filters split so no URL grows past ~200 ids."""
        lists = {k: list(v) for k, v in filters.items() if v is not None}
        if not lists:
            yield from self.iter_v4(path, model, lenient=lenient)
            return
        (key, values), *others = lists.items()
        other_params = {k: _csv(v) for k, v in others}
        for _, batch in chunks(values, 200):
            if batch:
                yield from self.iter_v4(path, model, {key: _csv(batch), **other_params}, lenient=lenient)

    # -- assets --------------------------------------------------------------------------------

    def upload_product_assets(self, items: Sequence[Mapping[str, Any]], replace_all: bool = False) -> list[BulkItemResult]:
        """``[{product:{id}, asset:{type: image|swatch, filename, source_url}, display_order}]``.
        ``replace_all=True`` deletes the product's existing assets of the uploaded kinds first."""
        # Without replace_all a replay would attach the images twice: retried only with it.
        return self._bulk_v4("assets/products", items, {"replace_all": "true" if replace_all else None},
                             safe=replace_all)

    def upload_sku_trait_value_assets(
        self, items: Sequence[Mapping[str, Any]], replace_all: bool = False
    ) -> list[BulkItemResult]:
        """Color-level images and swatches: ``[{sku_trait_value:{product_id, trait_id, value}, asset:{…}}]``."""
        return self._bulk_v4("assets/sku_trait_values", items, {"replace_all": "true" if replace_all else None},
                             safe=replace_all)

    def iter_product_assets(self, product_ids: Iterable[str] | None = None) -> Iterator[JoorAsset]:
        yield from self._iter_by_ids("assets/products", JoorAsset, {"product_ids": product_ids})

    # -- seasons / collections -----------------------------------------------------------------

    def iter_seasons(self, external_ids: Iterable[str] | None = None) -> Iterator[JoorSeason]:
        yield from self._iter_by_ids("seasons", JoorSeason, {"external_ids": external_ids})

    def create_seasons(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        """``[{name, year, external_id}]`` → per-item results (DUPLICATED carries the existing id)."""
        return self._bulk_v4("seasons", items, safe=all(i.get("external_id") not in (None, "") for i in items))

    def iter_collections(
        self, ids: Iterable[str] | None = None, external_ids: Iterable[str] | None = None
    ) -> Iterator[JoorCollection]:
        yield from self._iter_by_ids("collections", JoorCollection, {"ids": ids, "external_ids": external_ids})

    def bulk_create_collections(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        return self._bulk_v4("collections/bulk_create", items)

    def bulk_update_collections(self, items: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        """Update linesheets by ``id`` (``name`` required). Never send collections the integration
        did not create: hand-made linesheets are the brand's."""
        return self._bulk_v4("collections/bulk_update", items)

    # -- inventory (v2) ------------------------------------------------------------------------

    def bulk_inventory(self, items: Sequence[Mapping[str, Any]]) -> list[InventoryItemResult]:
        """``POST /v2/bulk-inventory`` without ``overwrite`` (only the listed SKUs change).

        Items: ``{warehouse, upc | (style_number, color_code, size), inventory, inventory_date?}``.
        Returns one result per item in input order (``ok``, ``status`` pass|fail, ``message``).
        Safe to retry: it sets quantities, it does not add them.
        """
        out: list[InventoryItemResult] = []
        for offset, batch in chunks(list(items), self.config.v2_bulk_max):
            body = {"inventory_items": {"inventory_item": list(batch)}}
            env = self.request_v2("POST", "bulk-inventory", body=body)
            out.extend(_inventory_results(batch, env, offset))
        return out

    # -- connections (v2) ----------------------------------------------------------------------

    def get_connection_by_code(self, customer_code: str) -> JoorConnection | None:
        """The connection with this customer code (``status`` active|pending), or None."""
        return self._get_connection(f"connection/customer_code/{customer_code}/")

    def get_connection_by_id(self, connection_id: str) -> JoorConnection | None:
        return self._get_connection(f"connection/{connection_id}/")

    def _get_connection(self, path: str) -> JoorConnection | None:
        try:
            env = self.request_v2("GET", path)
        except JoorApiError as exc:
            if exc.status == 404:
                return None
            raise
        conn = env.get("connection")
        return JoorConnection.model_validate(conn) if conn else None

    def iter_connections(self, date_start: date | datetime | str | None = None) -> Iterator[JoorConnection]:
        """Every connection (optionally modified since ``date_start``), paged by ``start_from``."""
        pager = JoorV2Pager(count=self.v2_page_count, max_pages=self.max_pages)
        while True:
            params = {**pager.next_params(), "date_start": _day(date_start)}
            env = self.request_v2("GET", "connection", params)
            rows = _v2_list(env, "connections", "connection")
            for row in rows:
                yield JoorConnection.model_validate(row)
            outcome = pager.advance(len(rows), (env.get("response") or {}).get("next_start"))
            if outcome.stuck:
                log.warning("JOOR v2 connection: paging stopped, %s", outcome.reason)
            if not outcome.more:
                return

    def submit_bulk_connection(self, records: Sequence[Mapping[str, Any]], update: bool = False) -> str:
        """Start a bulk-connection job (POST creates, PUT updates by ``customer_code``) → job id.

        At most ``v2_bulk_max`` records per job: split larger inputs with :func:`chunks` and
        submit one job per batch (a job id per batch keeps retries exact).
        """
        records = list(records)
        if len(records) > self.config.v2_bulk_max:
            raise ValueError(f"{len(records)} records exceed the {self.config.v2_bulk_max} per bulk-connection job")
        body = {"connections": {"connection": records}}
        env = self.request_v2("PUT" if update else "POST", "bulk-connection", body=body, safe=update)
        job_id = env.get("job_id") or (env.get("job") or {}).get("job_id")
        if not job_id:
            raise JoorApiError("bulk-connection answered without a job_id", kind="api_error", method="POST",
                               endpoint="/v2/bulk-connection")
        return str(job_id)

    def submit_bulk_connections(self, records: Sequence[Mapping[str, Any]], update: bool = False) -> list[str]:
        """Like :meth:`submit_bulk_connection`, splitting into as many jobs as needed."""
        return [self.submit_bulk_connection(batch, update) for _, batch in chunks(list(records), self.config.v2_bulk_max)]

    def get_bulk_connection_job(self, job_id: str) -> JoorBulkJob:
        env = self.request_v2("GET", f"bulk-connection/{job_id}")
        job = env.get("job") or env
        return JoorBulkJob.model_validate(job)

    def wait_bulk_connection_job(self, job_id: str, timeout: float = 600.0, poll: float = 5.0) -> JoorBulkJob:
        """Poll until ``finished`` (each poll costs a credit) or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_bulk_connection_job(job_id)
            if job.finished:
                return job
            if time.monotonic() + poll > deadline:
                raise TimeoutError(f"JOOR bulk-connection job {job_id} still {job.status} after {timeout:.0f}s")
            time.sleep(poll)

    # -- orders (v4) ---------------------------------------------------------------------------

    def iter_orders(
        self,
        status: Iterable[str] | str | None = None,
        export_status: Iterable[str] | str | None = None,
        order_ids: Iterable[str] | None = None,
        date_approved_start: date | datetime | str | None = None,
        date_approved_end: date | datetime | str | None = None,
        last_modified_start: date | datetime | str | None = None,
        last_modified_end: date | datetime | str | None = None,
        with_line_items: bool = True,
    ) -> Iterator[JoorOrder]:
        """Orders matching the filters (comma lists), each with ``line_items`` when asked.

        Never the v2 ``GET /v2/order`` (its default ``sync=1`` marks orders exported on read).
        Line items are fetched per page of orders (one extra GET per ≤100 orders).
        """
        params = {
            "status": status if isinstance(status, str) or status is None else _csv(status),
            "export_status": export_status if isinstance(export_status, str) or export_status is None else _csv(export_status),
            "date_approved_start": _day(date_approved_start),
            "date_approved_end": _day(date_approved_end),
            "last_modified_start": _day(last_modified_start),
            "last_modified_end": _day(last_modified_end),
        }
        source: Iterator[JoorOrder]
        if order_ids is not None:
            source = self._iter_by_ids("orders", JoorOrder, {"order_ids": order_ids}, lenient=True)
            params_applied = {k: v for k, v in params.items() if v is not None}
            if params_applied:
                source = (o for o in source if _matches(o, params_applied))
        else:
            source = self.iter_v4("orders", JoorOrder, params, lenient=True)
        if not with_line_items:
            yield from source
            return
        page: list[JoorOrder] = []
        for order in source:
            page.append(order)
            if len(page) >= LINE_ITEM_ORDER_IDS_PER_CALL:
                yield from self._with_lines(page)
                page = []
        if page:
            yield from self._with_lines(page)

    def _with_lines(self, orders: list[JoorOrder]) -> list[JoorOrder]:
        lines = self.get_line_items([o.id for o in orders if o.id])
        by_order: dict[str, list[JoorLineItem]] = {}
        for li in lines:
            by_order.setdefault(str(li.order_id), []).append(li)
        for o in orders:
            o.line_items = by_order.get(str(o.id), [])
        return orders

    def get_line_items(self, order_ids: Sequence[str]) -> list[JoorLineItem]:
        """``GET /v4/orders/sku_line_items?order_ids=…`` (split into calls of ≤100 ids)."""
        out: list[JoorLineItem] = []
        for _, batch in chunks(list(order_ids), LINE_ITEM_ORDER_IDS_PER_CALL):
            env = self.request_v4("GET", "orders/sku_line_items", {"order_ids": _csv(batch)})
            out.extend(validate_lenient(JoorLineItem, r) for r in env.get("data") or [])
        return out

    def update_export_status(self, updates: Sequence[Mapping[str, Any]]) -> list[BulkItemResult]:
        """Write the Export Status back: ``[{id, export_status: SUCCESS|FAILED, export_description}]``.

        Retried like any idempotent call (setting a status twice is harmless); one result per order.
        """
        clean = []
        for u in updates:
            status = str(u.get("export_status", "")).upper()
            if status not in EXPORT_STATUSES:
                raise ValueError(f"export_status must be one of {EXPORT_STATUSES}, got {u.get('export_status')!r}")
            item = {"id": str(u["id"]), "export_status": status}
            if u.get("export_description") is not None:
                item["export_description"] = str(u["export_description"])[:1000]
            if u.get("status") is not None:
                item["status"] = str(u["status"])
            clean.append(item)
        return self._bulk_v4("orders/bulk_update", clean, safe=True)

    # -- Airflow UI ----------------------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The form's field behaviour. Airflow 3.2+ reads it from the provider info
        (:mod:`amc_joor.provider`, the single source) without calling this; kept for callers
        that ask the hook."""
        from amc_joor.provider import ui_field_behaviour

        return ui_field_behaviour("joor")

    def test_connection(self) -> tuple[bool, str]:
        """The *Test* button: mint a v4 token and read the traits (1 credit); check the v2 token
        with one connection-list read (1 credit)."""
        try:
            self.access_token(force=True)
            self.list_traits()
            if self.config.v2_token:
                self.request_v2("GET", "connection", {"start_from": "0", "count": "1"})
            return True, f"Connected to JOOR ({self.config.environment}, account {self.config.account_id}): v4 and v2 credentials accepted"
        except ApiError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - the UI needs a message, not a traceback
            return False, f"{type(exc).__name__}: {exc}"


# --- pure helpers -------------------------------------------------------------------------------


def _money_strings(item: Mapping[str, Any]) -> dict[str, Any]:
    """Money fields as decimal strings (JOOR's format), whatever numeric type the caller used."""
    out = dict(item)
    for key in ("wholesale_value", "retail_value"):
        value = out.get(key)
        if value is not None and not isinstance(value, str):
            out[key] = f"{value:.2f}" if isinstance(value, float) else str(value)
    return out


def _v2_list(env: Mapping[str, Any], wrapper: str, item: str) -> list[dict[str, Any]]:
    """v2's XML-shaped lists: ``{"connections": {"connection": [...]}}`` (one item may be a dict)."""
    inner = env.get(wrapper)
    if isinstance(inner, Mapping):
        inner = inner.get(item)
    if isinstance(inner, Mapping):
        return [dict(inner)]
    return [dict(r) for r in inner or [] if isinstance(r, Mapping)]


def _inventory_results(batch: Sequence[Mapping[str, Any]], env: Mapping[str, Any], offset: int) -> list[InventoryItemResult]:
    """Pair ``inventory_log`` entries with the items sent (one per item, in order)."""
    logs = _v2_list(env, "inventory_logs", "inventory_log")
    out: list[InventoryItemResult] = []
    for i, _item in enumerate(batch):
        if i < len(logs):
            entry = logs[i]
            status = str(entry.get("status", "")).lower()
            out.append(
                InventoryItemResult(
                    index=offset + i,
                    sku=entry.get("sku"),
                    ok=status == "pass",
                    status=status or "fail",
                    message=entry.get("message") or None,
                    inventory_log_id=str(entry.get("inventory_log_id")) if entry.get("inventory_log_id") else None,
                )
            )
        else:
            out.append(InventoryItemResult(index=offset + i, ok=False, status="fail",
                                           message="JOOR did not report on this item"))
    return out


def _matches(order: JoorOrder, params: Mapping[str, Any]) -> bool:
    """Client-side filter for the id-list path (status/export_status only)."""
    st = params.get("status")
    if st and (order.status or "").upper() not in {s.strip().upper() for s in str(st).split(",")}:
        return False
    ex = params.get("export_status")
    if ex and (order.export_status or "UNDEFINED").upper() not in {s.strip().upper() for s in str(ex).split(",")}:
        return False
    return True


__all__ = [
    "JoorApiError",
    "JoorAuthError",
    "JoorHook",
    "TOKENS",
    "chunks",
    "map_bulk_results",
    "extract_message",
]
