"""The JOOR sandbox: a FastAPI app that answers like JOOR's v2 and v4 APIs.

It implements shared/reference/joor-api.md; the rules live in ``joor_state.JoorState``, this
module maps HTTP onto them: auth (v2 ``OAuth2 <base64(token)>``, v4 Bearer tokens from
``POST /auth/``, ``?account=`` on every v4 call), both envelopes, the credit rate limit with its
headers, bulk size limits (413), and the ``/_sandbox`` admin API.

Construction (the serve CLI and the pytest fixture call this)::

    app = create_joor_app(world, clock=clock, config={"window_seconds": 3}, amc_source=lambda: amc.data)

``world`` is a ``datasets.World`` (its ``joor`` seed and ``amc`` data are used) or a ready
``JoorState``. ``clock`` is shared with the AMC sandbox. ``config`` is a ``JoorConfig`` or a dict
of its fields (rate limit, bulk limits, token lifetimes, Data Services business days…).
``amc_source`` returns the live AMC data (so admin-generated orders and a reset with another
data set follow the AMC sandbox); default: ``world.amc``. ``after_reset(body)`` is called after
``POST /_sandbox/reset``. The app exposes ``app.state.joor`` (the JoorState),
``app.state.faults`` and ``app.state.stats``.

Sandbox-only ([P]) answers, also listed in docs/sandbox.md:
* v2 requires ``Accept: application/json`` (406 otherwise; XML is not served) and, on POST/PUT,
  ``Content-Type: application/json`` (415).
* v4 bulk replies are HTTP 200 with successes in ``data`` and per-item failures in ``errors``
  (``status`` = DUPLICATED | INVALID | NOT_FOUND, ``details.index`` = the item's position);
  a body that is not a list is 400; too many items 413.
* ``page_size`` above 200 is a 400, not silently clamped.
* A pending connection is returned by the customer_code lookup with ``status: "pending"`` and
  ``retailer_id: null``; orders cannot be generated for it by the admin API unless asked.
* ``GET /v2/order`` (default ``sync=1``) lists orders not yet exported and marks them
  ``export_status: SUCCESS`` as it returns them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from amc_joor_sandbox.common import (
    FaultInjector,
    RequestStats,
    SandboxClock,
    install_sandbox_middleware,
    make_admin_router,
)
from amc_joor_sandbox.joor_state import JoorConfig, JoorError, JoorState, csv_list, public

Handler = Callable[..., Awaitable[Any]]


def make_joor_state(
    world: Any,
    clock: SandboxClock | None = None,
    config: JoorConfig | dict[str, Any] | None = None,
    amc_source: Callable[[], Any] | None = None,
) -> JoorState:
    """A JoorState from a ``datasets.World`` (or anything with ``joor``/``amc``/``dataset``/``seed``)."""
    if isinstance(world, JoorState):
        return world
    seed = world.joor if hasattr(world, "joor") else world
    if not seed:
        import random

        from amc_joor_sandbox.joor_seed import build_joor_seed  # noqa: PLC0415 - only when the world lacks it

        seed = build_joor_seed(world.amc, world.dataset, random.Random(f"joor:{world.dataset}:{world.seed}"))
    return JoorState(
        seed,
        clock or SandboxClock(),
        amc=getattr(world, "amc", None),
        amc_source=amc_source,
        dataset=getattr(world, "dataset", "small"),
        seed_number=getattr(world, "seed", 1),
        config=config,
    )


# --------------------------------------------------------------------------- envelopes


def v4_reply(data: list[Any], errors: list[Any] | None = None, meta: dict[str, Any] | None = None,
             status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"data": data, "errors": errors or []}
    if meta is not None:
        body["meta"] = meta
    return JSONResponse(body, status_code=status, headers=headers)


def v4_error(status: int, message: str, code: str | None = None, details: Any = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return v4_reply([], [{"status": code or str(status), "message": message, "details": details}],
                    status=status, headers=headers)


class V2:
    """The v2 envelope: ``response{code, comment, start_from, next_start, count, log_id}``."""

    def __init__(self, state: JoorState) -> None:
        self.state = state

    def ok(self, payload: dict[str, Any], *, start_from: int | None = None, count: int | None = None,
           next_start: int | None = None, comment: str = "OK") -> JSONResponse:
        response = {"code": 0, "comment": comment, "start_from": start_from, "next_start": next_start,
                    "count": count, "log_id": next(self.state.log_ids)}
        return JSONResponse({"response": response, **payload})

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        response = {"code": status, "comment": message, "start_from": None, "next_start": None, "count": 0,
                    "log_id": next(self.state.log_ids)}
        return JSONResponse({"response": response}, status_code=status, headers=headers)


def page_params(request: Request, state: JoorState) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", 1))
        size = int(request.query_params.get("page_size", state.config.default_page_size))
    except ValueError as exc:
        raise JoorError(400, "page and page_size must be integers") from exc
    if page < 1 or size < 1:
        raise JoorError(400, "page and page_size must be >= 1")
    if size > state.config.max_page_size:
        raise JoorError(400, f"page_size above the maximum of {state.config.max_page_size}")
    return page, size


def paged(rows: list[Any], page: int, size: int) -> JSONResponse:
    start = (page - 1) * size
    return v4_reply(rows[start:start + size], meta={"page": page, "page_size": size, "total": len(rows)})


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise JoorError(400, "request body is empty; JSON expected")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise JoorError(400, f"request body is not valid JSON: {exc}") from exc


def truthy(value: str | None) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------- the app


def create_joor_app(
    world: Any,
    *,
    clock: SandboxClock | None = None,
    config: JoorConfig | dict[str, Any] | None = None,
    amc_source: Callable[[], Any] | None = None,
    faults: FaultInjector | None = None,
    stats: RequestStats | None = None,
    after_reset: Callable[[dict[str, Any]], Any] | None = None,
) -> FastAPI:
    """The JOOR sandbox app (see the module docstring for arguments and [P] choices)."""
    clock = clock or (world.clock if isinstance(world, JoorState) else SandboxClock())
    state = make_joor_state(world, clock, config, amc_source)
    faults = faults or FaultInjector()
    stats = stats or RequestStats()
    v2 = V2(state)
    app = FastAPI(title="JOOR sandbox", description=__doc__, docs_url="/_sandbox/docs",
                  openapi_url="/_sandbox/openapi.json", redoc_url=None)
    app.state.joor = state
    app.state.faults = faults
    app.state.stats = stats
    stats.add_provider("", state.limiter.snapshot, reset=state.limiter.reset_stats)

    @app.exception_handler(JoorError)
    async def joor_error(request: Request, exc: JoorError) -> JSONResponse:
        if request.url.path.startswith("/v2"):
            return v2.error(exc.status, exc.message)
        if request.url.path.startswith("/_sandbox"):
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return v4_error(exc.status, exc.message, exc.code, exc.details)

    # ---------------------------------------------------------------- auth
    def v4_actor(request: Request) -> str:
        """Bearer token + ``?account=``; returns who is calling (``api:<client_id>``)."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise JoorError(401, "missing or malformed Authorization: Bearer <access_token>", "unauthorized")
        info = state.check_bearer(token.strip())
        account = request.query_params.get("account")
        if not account:
            raise JoorError(400, "every v4 call needs ?account=<JOOR account id>", "ACCOUNT_REQUIRED")
        if account != state.account_id:
            raise JoorError(403, f"this token has no access to account {account}", "forbidden")
        return f"api:{info['client_id']}"

    def v2_check(request: Request) -> str:
        accept = request.headers.get("accept", "")
        if "application/xml" in accept and "application/json" not in accept:
            raise JoorError(406, "the sandbox serves JSON only; send Accept: application/json")
        if "application/json" not in accept:
            raise JoorError(406, "Accept header missing: calls without the content MIME type are not processed")
        if request.method in ("POST", "PUT") and "application/json" not in request.headers.get("content-type", ""):
            raise JoorError(415, "Content-Type: application/json required: calls without the content MIME type "
                                 "are not processed")
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme != "OAuth2" or not encoded.strip():
            raise JoorError(401, "missing or malformed Authorization: OAuth2 <base64(token)>")
        try:
            token = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise JoorError(401, "Authorization token is not base64") from exc
        if token != state.config.v2_token:
            raise JoorError(401, "invalid API token")
        return "api:v2-token"

    @app.post("/auth/")
    @app.post("/auth", include_in_schema=False)
    async def auth(request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - any unparsable body is the client's error
            return JSONResponse({"error": "invalid_request", "error_description": "multipart form expected"},
                                status_code=400)
        fields_ = {k: str(v) for k, v in form.items()}
        try:
            return JSONResponse(state.issue_token(fields_))
        except JoorError as exc:
            return JSONResponse({"error": exc.code, "error_description": exc.message}, status_code=exc.status)

    # ---------------------------------------------------------------- v4 lookups
    @app.get("/v4/traits")
    async def traits(request: Request) -> Response:
        v4_actor(request)
        return v4_reply(list(state.traits.values()))

    @app.get("/v4/categories")
    async def categories(request: Request) -> Response:
        v4_actor(request)
        return v4_reply(list(state.categories.values()))

    @app.get("/v4/price_types")
    async def price_types(request: Request) -> Response:
        v4_actor(request)
        return v4_reply(list(state.price_types.values()))

    @app.get("/v4/seasons")
    async def seasons_get(request: Request) -> Response:
        v4_actor(request)
        page, size = page_params(request, state)
        rows = list(state.seasons.values())
        ext = csv_list(request.query_params.get("external_ids"))
        if ext is not None:
            rows = [s for s in rows if s.get("external_id") in ext]
        return paged([public(s) for s in rows], page, size)

    @app.post("/v4/seasons")
    async def seasons_post(request: Request) -> Response:
        actor = v4_actor(request)
        data, errors = state.seasons_create(await read_json(request), actor)
        return v4_reply(data, errors)

    # ---------------------------------------------------------------- v4 bulk writes
    bulk_routes: dict[str, Callable[[Any, str], tuple[list[Any], list[Any]]]] = {
        "/v4/products/bulk_create": state.products_bulk_create,
        "/v4/products/bulk_update": state.products_bulk_update,
        "/v4/skus/bulk_create": state.skus_bulk_create,
        "/v4/skus/bulk_update": state.skus_bulk_update,
        "/v4/prices/bulk_create": state.prices_bulk_create,
        "/v4/prices/bulk_update": state.prices_bulk_update,
        "/v4/collections/bulk_create": state.collections_bulk_create,
        "/v4/collections/bulk_update": state.collections_bulk_update,
        "/v4/orders/bulk_update": state.orders_bulk_update,
    }

    def add_bulk(path: str, method_name: str) -> None:
        async def bulk(request: Request) -> Response:
            actor = v4_actor(request)
            fn = getattr(state, method_name)
            data, errors = fn(await read_json(request), actor)
            return v4_reply(data, errors)

        bulk.__name__ = path.strip("/").replace("/", "_")
        app.post(path)(bulk)

    for path, fn in bulk_routes.items():
        add_bulk(path, fn.__name__)

    @app.post("/v4/assets/products")
    async def assets_products(request: Request) -> Response:
        actor = v4_actor(request)
        data, errors = state.product_assets_upload(await read_json(request),
                                                   truthy(request.query_params.get("replace_all")), actor)
        return v4_reply(data, errors)

    @app.post("/v4/assets/sku_trait_values")
    async def assets_trait_values(request: Request) -> Response:
        actor = v4_actor(request)
        data, errors = state.trait_assets_upload(await read_json(request),
                                                 truthy(request.query_params.get("replace_all")), actor)
        return v4_reply(data, errors)

    # ---------------------------------------------------------------- v4 reads
    @app.get("/v4/products")
    async def products_get(request: Request) -> Response:
        v4_actor(request)
        page, size = page_params(request, state)
        q = request.query_params
        return paged(state.find_products(csv_list(q.get("ids")), csv_list(q.get("external_ids"))), page, size)

    @app.get("/v4/skus")
    async def skus_get(request: Request) -> Response:
        v4_actor(request)
        page, size = page_params(request, state)
        q = request.query_params
        rows = state.find_skus(csv_list(q.get("product_ids")), csv_list(q.get("ids")), csv_list(q.get("external_ids")))
        return paged(rows, page, size)

    @app.get("/v4/prices")
    async def prices_get(request: Request) -> Response:
        v4_actor(request)
        page, size = page_params(request, state)
        q = request.query_params
        return paged(state.find_prices(csv_list(q.get("sku_ids")), csv_list(q.get("ids"))), page, size)

    @app.get("/v4/assets/products")
    async def assets_get(request: Request) -> Response:
        v4_actor(request)
        page, size = page_params(request, state)
        pids = csv_list(request.query_params.get("product_ids"))
        groups = state.product_assets.items() if pids is None else ((p, state.product_assets.get(p, [])) for p in pids)
        rows = [public(a) for _, assets in groups for a in assets]
        return paged(rows, page, size)

    @app.get("/v4/collections")
    async def collections_get(request: Request) -> Response:
        v4_actor(request)
        page, size = page_params(request, state)
        q = request.query_params
        return paged(state.find_collections(csv_list(q.get("ids")), csv_list(q.get("external_ids"))), page, size)

    @app.get("/v4/orders")
    async def orders_get(request: Request) -> Response:
        v4_actor(request)
        page, size = page_params(request, state)
        return paged(state.find_orders(dict(request.query_params)), page, size)

    @app.get("/v4/orders/sku_line_items")
    async def line_items_get(request: Request) -> Response:
        v4_actor(request)
        ids = csv_list(request.query_params.get("order_ids"))
        if not ids:
            raise JoorError(400, "order_ids is required")
        rows = state.line_items(ids)
        return v4_reply(rows, meta={"page": 1, "page_size": len(rows), "total": len(rows)})

    # ---------------------------------------------------------------- v2
    def v2_paging(request: Request) -> tuple[int, int]:
        try:
            start = int(request.query_params.get("start_from", 0))
            count = int(request.query_params.get("count", state.config.v2_default_count))
        except ValueError as exc:
            raise JoorError(400, "start_from and count must be integers") from exc
        if start < 0 or count < 1 or count > state.config.max_v2_bulk_items:
            raise JoorError(400, f"start_from >= 0 and 1 <= count <= {state.config.max_v2_bulk_items}")
        return start, count

    def v2_page(rows: list[Any], start: int, count: int, wrapper: str, item: str) -> JSONResponse:
        chunk = rows[start:start + count]
        nxt = start + len(chunk) if start + len(chunk) < len(rows) else None
        return v2.ok({wrapper: {item: chunk}, "total": len(rows)}, start_from=start, count=len(chunk), next_start=nxt)

    @app.post("/v2/bulk-inventory")
    async def bulk_inventory(request: Request) -> Response:
        v2_check(request)
        q = request.query_params
        result = state.bulk_inventory(await read_json(request), truthy(q.get("overwrite")), truthy(q.get("dec_pending")))
        return v2.ok(result, count=result["sku_count"])

    @app.get("/v2/connection/customer_code/{code}/")
    @app.get("/v2/connection/customer_code/{code}", include_in_schema=False)
    async def connection_by_code(code: str, request: Request) -> Response:
        v2_check(request)
        return v2.ok({"connection": public(state.connection_by_code(code))}, count=1)

    @app.get("/v2/connection/{connection_id}/")
    @app.get("/v2/connection/{connection_id}", include_in_schema=False)
    async def connection_by_id(connection_id: str, request: Request) -> Response:
        v2_check(request)
        return v2.ok({"connection": public(state.connection_by_id(connection_id))}, count=1)

    @app.get("/v2/connection")
    @app.get("/v2/connection/", include_in_schema=False)
    async def connections_list(request: Request) -> Response:
        v2_check(request)
        start, count = v2_paging(request)
        rows = [public(c) for c in state.list_connections(request.query_params.get("date_start"))]
        return v2_page(rows, start, count, "connections", "connection")

    @app.post("/v2/bulk-connection")
    @app.put("/v2/bulk-connection")
    async def bulk_connection(request: Request) -> Response:
        v2_check(request)
        mode = "create" if request.method == "POST" else "update"
        job = state.start_connection_job(await read_json(request), mode)
        return v2.ok(job, comment="job queued")

    @app.get("/v2/bulk-connection/{job_id}")
    @app.get("/v2/bulk-connection/{job_id}/", include_in_schema=False)
    async def bulk_connection_job(job_id: str, request: Request) -> Response:
        v2_check(request)
        return v2.ok({"job": state.read_job(job_id)})

    @app.get("/v2/order")
    @app.get("/v2/order/", include_in_schema=False)
    async def v2_orders(request: Request) -> Response:
        v2_check(request)
        start, count = v2_paging(request)
        sync = request.query_params.get("sync", "1") != "0"
        rows = state.v2_orders(sync, request.query_params.get("status"))
        chunk = rows[start:start + count]
        out = [{**public(o), "line_items": state.lines_by_order.get(o["id"], [])} for o in chunk]
        nxt = start + len(chunk) if start + len(chunk) < len(rows) else None
        if sync:
            state.mark_v2_exported(chunk)
        return v2.ok({"orders": {"order": out}, "total": len(rows)}, start_from=start, count=len(chunk), next_start=nxt)

    # ---------------------------------------------------------------- admin
    def set_config(body: dict[str, Any]) -> dict[str, Any]:
        before = (state.config.window_seconds, state.config.credits_per_window)
        state.config.update(body)
        if (state.config.window_seconds, state.config.credits_per_window) != before or "rate_limit_enabled" in body:
            state.limiter.reset_windows()
        return state.config.public()

    def on_reset(body: dict[str, Any]) -> None:
        state.reset(body)
        if after_reset is not None:
            after_reset(body)

    app.include_router(make_admin_router(clock=clock, faults=faults, stats=stats, on_reset=on_reset,
                                         get_config=state.config.public, set_config=set_config))
    admin = "/_sandbox/joor"

    async def admin_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise JoorError(400, f"admin body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise JoorError(400, "admin body must be a JSON object")
        return data

    @app.get(f"{admin}/info")
    async def admin_info() -> Any:
        return state.info()

    @app.get(f"{admin}/catalog")
    async def admin_catalog() -> Any:
        return state.catalog_dump()

    @app.get(f"{admin}/collections")
    async def admin_collections() -> Any:
        return {"collections": list(state.collections.values())}

    @app.post(f"{admin}/collections")
    async def admin_new_collection(request: Request) -> Any:
        return state.create_manual_collection(await admin_body(request))

    @app.get(f"{admin}/inventory")
    async def admin_inventory() -> Any:
        return {"inventory": state.inventory_rows(), "calls": state.inventory_calls}

    @app.get(f"{admin}/connections")
    async def admin_connections() -> Any:
        state.sweep_pending()
        return {"connections": list(state.connections.values())}

    @app.get(f"{admin}/bulk-jobs")
    async def admin_jobs() -> Any:
        return {"jobs": [{k: v for k, v in j.items() if k != "records"} for j in state.jobs.values()]}

    @app.post(f"{admin}/data-services/process")
    async def admin_process(request: Request) -> Any:
        body = await admin_body(request)
        codes = body.get("customer_codes")
        return {"activated": state.process_data_services(codes)}

    @app.get(f"{admin}/orders")
    async def admin_orders(request: Request) -> Any:
        rows = state.orders_dump(with_lines=truthy(request.query_params.get("lines", "1")))
        status = csv_list(request.query_params.get("status"))
        if status:
            rows = [o for o in rows if o["status"] in status]
        return {"orders": rows}

    @app.get(f"{admin}/orders/{{order_id}}")
    async def admin_order(order_id: str) -> Any:
        return state.order_with_lines(order_id)

    @app.post(f"{admin}/orders")
    async def admin_create_orders(request: Request) -> Any:
        return {"orders": state.admin_create_orders(await admin_body(request))}

    @app.post(f"{admin}/orders/{{order_id}}/{{action}}")
    async def admin_order_action(order_id: str, action: str, request: Request) -> Any:
        return state.admin_order_action(order_id, action, await admin_body(request))

    @app.get(f"{admin}/tokens")
    async def admin_tokens() -> Any:
        """Every v4 access and refresh token issued since the last token reset (sandbox-generated
        values, never configured credentials): secret-scan tests search logs and stores for them."""
        return {"access_tokens": list(state.tokens), "refresh_tokens": list(state.refresh_tokens)}

    @app.post(f"{admin}/tokens/expire")
    async def admin_expire_tokens() -> Any:
        return {"expired": state.expire_tokens()}

    # ---------------------------------------------------------------- credits (inside the fault middleware)
    class CreditMiddleware:
        """Charges credits for /v2 and /v4 calls; 429 + Retry-After when the window is spent."""

        def __init__(self, app_: Any) -> None:
            self.app = app_

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            path = scope.get("path", "") if scope["type"] == "http" else ""
            if not path.startswith(("/v2", "/v4")):
                await self.app(scope, receive, send)
                return
            allowed, headers = state.limiter.charge(state.account_id, scope["method"])
            raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            if not allowed:
                message = (f"rate limit: {state.config.credits_per_window} credits per "
                           f"{state.config.window_seconds:g} s window spent; retry after {headers['Retry-After']} s")
                resp = v2.error(429, message, headers) if path.startswith("/v2") else \
                    v4_error(429, message, "TOO_MANY_REQUESTS", headers=headers)
                await resp(scope, receive, send)
                return

            async def with_headers(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), *raw_headers]}
                await send(message)

            await self.app(scope, receive, with_headers)

    app.add_middleware(CreditMiddleware)
    install_sandbox_middleware(app, faults, stats)
    return app
