"""The AMC sandbox: a FastAPI app that answers like ApparelMagic Cloud's JSON API.

It implements shared/reference/amc-api.md: ``/api/json/<resource>[/<id>]``, ``token``/``time``
auth (query string on GET, JSON body on writes), an HTML 401, the ``response``/``meta``
envelope, errors under HTTP 200, both paging styles, bracket filters, order creation with
AMC's failure rules, and product images at ``/images/<name>.png``. The ``/_sandbox`` admin
API resets data, injects faults, reports request counts and plays the AMC user who edits
styles, stock, exchange rates and customers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from amc_joor_sandbox.amc_state import AmcState, NotFound, QueryError, parse_brackets
from amc_joor_sandbox.common import (
    FaultInjector,
    RequestStats,
    SandboxClock,
    install_sandbox_middleware,
    make_admin_router,
)
from amc_joor_sandbox.datasets import RESOURCES, AmcData, Row

DEFAULT_AMC_TOKEN = "amc-sandbox-token"
API_PREFIX = "/api/json"
IMAGE_RESOURCES = ("products", "product_attributes")
WRITABLE = {"orders"}
DEFAULT_CONFIG: dict[str, Any] = {
    "max_time_skew_seconds": 300,
    "rate_limit": None,  # {"requests_per_second": 20, "retry_after": 1} → 429 above that
    "default_page_size": 100,
    "max_page_size": 1000,
    "paging_styles": "both",
    # {"seconds": T, "commit": "before"|"after", "count": N}: the next N order creates
    # answer T seconds late. "before": committed, then the wait (the reply is late or lost);
    # "after": the wait, then committed even if the client gave up meanwhile (AMC was slow).
    "orders_create_delay": None,
}


@dataclass
class AmcServer:
    """Everything the AMC app serves from: data, shared clock, faults, stats, settings."""

    amc: AmcState
    clock: SandboxClock
    token: str = DEFAULT_AMC_TOKEN
    faults: FaultInjector = field(default_factory=FaultInjector)
    stats: RequestStats = field(default_factory=RequestStats)
    config: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_CONFIG))
    default_token: str = ""
    # called after an AMC reset with the reset body (server.py wires "reset the JOOR side too")
    after_reset: Callable[[dict[str, Any]], Any] | None = None
    _window: list[float] = field(default_factory=lambda: [0.0, 0.0])  # [window start, count]

    def __post_init__(self) -> None:
        self.default_token = self.default_token or self.token
        self._push_paging_config()

    def _push_paging_config(self) -> None:
        for k in ("default_page_size", "max_page_size", "paging_styles"):
            self.amc.config[k] = self.config[k]

    def public_config(self) -> dict[str, Any]:
        """The settings, without the token itself."""
        return {**self.config, "token_is_default": self.token == self.default_token}

    def set_config(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change settings; unknown keys are an error so a typo is not silently ignored."""
        unknown = set(body) - set(DEFAULT_CONFIG) - {"token"}
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}; known: {sorted([*DEFAULT_CONFIG, 'token'])}")
        if "token" in body:
            self.token = str(body.pop("token") or self.default_token)
        rl = body.get("rate_limit", self.config["rate_limit"])
        if rl is not None and (not isinstance(rl, dict) or float(rl.get("requests_per_second", 0)) <= 0):
            raise ValueError("rate_limit must be null or {requests_per_second: >0, retry_after: seconds}")
        if body.get("paging_styles", "both") not in ("both", "page_number", "last_id"):
            raise ValueError("paging_styles must be both, page_number or last_id")
        for k in ("default_page_size", "max_page_size", "max_time_skew_seconds"):
            if k in body and int(body[k]) < 1:
                raise ValueError(f"{k} must be >= 1")
        if body.get("orders_create_delay") is not None:
            body["orders_create_delay"] = check_create_delay(body["orders_create_delay"])
        self.config.update(body)
        self._push_paging_config()
        return self.public_config()

    def reset(self, body: dict[str, Any]) -> None:
        """Pristine data (same or named data set/seed), default settings and token."""
        seed = body.get("seed")
        self.amc.reset(body.get("dataset"), int(seed) if seed is not None else None)
        self.config = dict(DEFAULT_CONFIG)
        self.token = self.default_token
        self._push_paging_config()
        self._window[:] = [0.0, 0.0]
        if self.after_reset is not None:
            self.after_reset(body)

    def take_create_delay(self) -> dict[str, Any] | None:
        """The order-create delay for this create (one use of its count), or None."""
        delay = self.config.get("orders_create_delay")
        if not delay:
            return None
        left = int(delay["count"]) - 1
        self.config["orders_create_delay"] = {**delay, "count": left} if left > 0 else None
        return delay

    def over_rate_limit(self) -> float | None:
        """Seconds to wait when this request exceeds the configured per-second limit, else None."""
        rl = self.config.get("rate_limit")
        if not rl:
            return None
        now = time.monotonic()
        if now - self._window[0] >= 1.0:
            self._window[:] = [now, 0.0]
        self._window[1] += 1
        if self._window[1] > float(rl["requests_per_second"]):
            return float(rl.get("retry_after", 1))
        return None


def check_create_delay(value: Any) -> dict[str, Any]:
    """Validate ``orders_create_delay``; defaults commit "after", count 1."""
    usage = 'orders_create_delay must be null or {"seconds": >=0, "commit": "before"|"after", "count": >=1}'
    if not isinstance(value, dict) or set(value) - {"seconds", "commit", "count"}:
        raise ValueError(usage)
    try:
        seconds, count = float(value.get("seconds", 0)), int(value.get("count", 1))
    except (TypeError, ValueError):
        raise ValueError(usage) from None
    commit = value.get("commit", "after")
    if seconds < 0 or count < 1 or commit not in ("before", "after"):
        raise ValueError(usage)
    return {"seconds": seconds, "commit": commit, "count": count}


def make_amc_server(data: AmcData, clock: SandboxClock | None = None, *, dataset: str = "small", seed: int = 1,
                    token: str = DEFAULT_AMC_TOKEN) -> AmcServer:
    """Wire an AmcServer around ``data`` (the server takes ownership of the rows)."""
    clock = clock or SandboxClock()
    return AmcServer(amc=AmcState(data, clock.now, dataset, seed), clock=clock, token=token)


# --------------------------------------------------------------------------- responses


def envelope(rows: list[Row], pagination: dict[str, Any] | None = None, errors: list[str] | None = None,
             status: int = 200) -> Response:
    body = {"response": rows, "meta": {"pagination": pagination or {}, "errors": errors or []}}
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json")


UNAUTHORIZED_HTML = (
    "<!DOCTYPE html><html><head><title>401 Unauthorized</title></head><body>"
    "<h1>Unauthorized</h1><p>{reason}</p></body></html>"
)


def unauthorized(reason: str) -> HTMLResponse:
    """AMC answers auth failures with an HTML page, never JSON (clients must cope)."""
    return HTMLResponse(UNAUTHORIZED_HTML.format(reason=reason), status_code=401)


def with_image_urls(rows: list[Row], base: str) -> list[Row]:
    """Copies of rows whose relative ``/images/..`` paths become absolute URLs of this server."""
    out = []
    for r in rows:
        imgs = r.get("images")
        if imgs:
            r = {**r, "images": [{**i, "img": base + i["img"]} if str(i.get("img", "")).startswith("/") else i
                                 for i in imgs]}
        out.append(r)
    return out


def png_bytes(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid solid-colour RGB PNG, built with zlib/struct only."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


@lru_cache(maxsize=4096)
def image_for(name: str) -> bytes:
    """Deterministic 32x32 image per name (colour from its hash)."""
    digest = hashlib.sha256(name.encode()).digest()
    return png_bytes(32, 32, (digest[0], digest[1], digest[2]))


# --------------------------------------------------------------------------- auth


def check_credentials(server: AmcServer, token: Any, sent_time: Any) -> str | None:
    """The reason a request is refused, or None. Never echoes the token."""
    if not token or str(token) != server.token:
        return "Invalid or missing API token."
    try:
        sent = float(sent_time)
    except (TypeError, ValueError):
        return "Missing or invalid time parameter."
    if abs(sent - server.clock.time()) > float(server.config["max_time_skew_seconds"]):
        return "Request time is too far from the server time."
    return None


# --------------------------------------------------------------------------- app


def create_amc_app(server: AmcServer) -> FastAPI:
    """The AMC sandbox app for one AmcServer."""
    app = FastAPI(title="AMC sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json",
                  redoc_url=None)
    app.state.server = server
    amc = server.amc

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def render(resource: str, rows: list[Row], request: Request) -> list[Row]:
        return with_image_urls(rows, base_url(request)) if resource in IMAGE_RESOURCES else rows

    def add_resource_routes(resource: str) -> None:
        async def list_rows(request: Request) -> Response:
            q = request.query_params
            refused = check_credentials(server, q.get("token"), q.get("time"))
            if refused:
                return unauthorized(refused)
            try:
                rows, pagination = amc.find(resource, parse_brackets(q.multi_items()))
            except QueryError as exc:
                return envelope([], {}, [str(exc)])
            return envelope(render(resource, rows, request), pagination)

        async def get_one(record_id: str, request: Request) -> Response:
            q = request.query_params
            refused = check_credentials(server, q.get("token"), q.get("time"))
            if refused:
                return unauthorized(refused)
            rows = amc.get(resource, record_id)
            n = len(rows)
            return envelope(render(resource, rows, request),
                            {"page_number": 1, "page_size": n, "total_pages": 1 if n else 0, "total_records": n})

        async def write(request: Request, record_id: str | None = None) -> Response:
            try:
                body = json.loads(await request.body() or b"null")
            except ValueError:
                return envelope([], {}, ["Request body is not valid JSON"], status=400)
            if not isinstance(body, dict):
                return unauthorized("Credentials must be sent in the JSON body.")
            refused = check_credentials(server, body.get("token"), body.get("time"))
            if refused:
                return unauthorized(refused)
            if resource not in WRITABLE or request.method != "POST" or record_id is not None:
                return envelope([], {}, [f"{request.method} is not supported for {resource}"])
            # the body is already read: a delayed create commits even if the client hangs up
            delay = server.take_create_delay()
            if delay and delay["commit"] == "after":
                await asyncio.sleep(delay["seconds"])
            order, errors = amc.create_order(body.get("header"), body.get("items"))
            if errors:
                return envelope([], {}, errors)
            if delay and delay["commit"] == "before":
                await asyncio.sleep(delay["seconds"])
            return envelope([order])

        path = f"{API_PREFIX}/{resource}"
        app.add_api_route(path, list_rows, methods=["GET"], name=f"list_{resource}")
        app.add_api_route(path + "/{record_id}", get_one, methods=["GET"], name=f"get_{resource}")
        app.add_api_route(path, write, methods=["POST", "PUT"], name=f"write_{resource}")
        app.add_api_route(path + "/{record_id}", write, methods=["POST", "PUT"], name=f"write_one_{resource}")

    for resource in RESOURCES:
        add_resource_routes(resource)

    @app.api_route("/images/{name}", methods=["GET", "HEAD"])
    async def image(name: str) -> Response:
        if f"/images/{name}" not in amc.image_paths():
            return Response("image not found", status_code=404, media_type="text/plain")
        return Response(image_for(name), media_type="image/png")

    # ---- admin: shared routes (faults, stats, clock, reset, config) + AMC user actions
    app.include_router(make_admin_router(clock=server.clock, faults=server.faults, stats=server.stats,
                                         on_reset=server.reset, get_config=server.public_config,
                                         set_config=server.set_config))

    def admin_error(exc: Exception) -> JSONResponse:
        status = 404 if isinstance(exc, NotFound) else 400
        return JSONResponse({"error": str(exc).strip("'\"")}, status_code=status)

    async def json_object(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    @app.get("/_sandbox/amc/orders")
    async def admin_orders() -> Any:
        return {"orders": amc.orders()}

    @app.post("/_sandbox/amc/stock")
    async def admin_stock(request: Request) -> Any:
        try:
            body = await json_object(request)
            sku_id, wh = str(body.pop("sku_id", "")), str(body.pop("warehouse_id", "1"))
            return amc.set_stock(sku_id, wh, body)
        except (ValueError, NotFound) as exc:
            return admin_error(exc)

    @app.post("/_sandbox/amc/currencies/{currency_id}/rate")
    async def admin_rate(currency_id: str, request: Request) -> Any:
        try:
            return amc.set_rate(currency_id, (await json_object(request)).get("rate"))
        except (ValueError, NotFound) as exc:
            return admin_error(exc)

    @app.post("/_sandbox/amc/customers")
    async def admin_new_customer(request: Request) -> Any:
        try:
            return amc.create_customer(await json_object(request))
        except (ValueError, NotFound) as exc:
            return admin_error(exc)

    @app.post("/_sandbox/amc/styles")
    async def admin_new_style(request: Request) -> Any:
        try:
            return amc.add_style(await json_object(request))
        except (ValueError, NotFound, KeyError, ArithmeticError) as exc:
            return admin_error(exc)

    @app.api_route("/_sandbox/amc/{resource}/{record_id}", methods=["POST", "PATCH", "PUT"])
    async def admin_edit(resource: str, record_id: str, request: Request) -> Any:
        try:
            return amc.update(resource, record_id, await json_object(request))
        except (ValueError, NotFound) as exc:
            return admin_error(exc)

    @app.get("/_sandbox/amc/info")
    async def admin_info() -> Any:
        return {"dataset": amc.dataset, "seed": amc.seed,
                "counts": {name: len(amc.data.resource(name)) for name in RESOURCES}}

    # Rate limiting sits inside the fault middleware: a fault fires before the limiter counts.
    # Pure ASGI (not @app.middleware("http")): BaseHTTPMiddleware streams the reply through a
    # task group, so the stats middleware around it booked the request only after the client
    # already had the whole reply.
    class RateLimitMiddleware:
        def __init__(self, app_: Any) -> None:
            self.app = app_

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
                wait = server.over_rate_limit()
                if wait is not None:
                    resp = envelope([], {}, ["Too many requests"], status=429)
                    resp.headers["Retry-After"] = str(max(1, round(wait)))
                    await resp(scope, receive, send)
                    return
            await self.app(scope, receive, send)

    app.add_middleware(RateLimitMiddleware)
    install_sandbox_middleware(app, server.faults, server.stats)
    return app
