"""Pieces both sandbox servers share: a movable clock, fault injection, request stats, admin routes.

Why: every test, benchmark and demo runs against the sandboxes, so they must be able to
misbehave on demand (5xx, 429, hangs, dropped connections, malformed bodies, a write that
commits and then answers 500), let time pass (business days, token expiry) and report what
clients did to them (request counts, credits).

Wiring, for either server::

    clock = SandboxClock()
    faults = FaultInjector()
    stats = RequestStats()
    app = FastAPI()
    install_sandbox_middleware(app, faults, stats)      # faults + stats for non-admin paths
    app.include_router(make_admin_router(clock=clock, faults=faults, stats=stats,
                                         on_reset=world.reset))

Admin API (prefix ``/_sandbox``, never subject to faults, stats or rate limits):

* ``POST /_sandbox/faults`` body ``{"action": "arm", "faults": [spec, ...]}`` (or a single spec
  with ``kind`` at top level) → ``{"armed": [...]}``; ``{"action": "list"}``;
  ``{"action": "clear"}``; ``{"action": "random", "probability": 0.05, "seed": 7,
  "kinds": [...], "method": "*", "path": "/v4"}`` (probability 0 turns random faults off).
  ``GET /_sandbox/faults`` lists, ``DELETE /_sandbox/faults`` clears.
* ``GET /_sandbox/stats`` → counts per ``"<METHOD> <route template>"``, per status, faults fired,
  plus whatever providers were registered (the JOOR credit fields). ``POST /_sandbox/stats/reset``.
* ``GET /_sandbox/clock``; ``POST /_sandbox/clock`` ``{"advance": seconds}`` |
  ``{"set": "2026-03-02T09:00:00Z"}`` | ``{"reset": true}``.
* ``POST /_sandbox/reset`` → calls ``on_reset``; also clears faults and stats unless
  ``{"faults": false}`` / ``{"stats": false}``; resets the clock only with ``{"clock": true}``
  (the clock is shared by both servers).
* ``GET/POST /_sandbox/config`` when ``get_config``/``set_config`` callbacks are given.

A fault spec::

    {"kind": "status" | "hang" | "drop" | "malformed" | "commit_then_fail" | "non_utf8" | "rewrite",
     "method": "POST" | "*",            # default "*"
     "path": "/v4/products",            # prefix match (default: every path)
     "path_regex": "^/v2/connection/\\d+/$",   # instead of path
     "count": 1,                        # the next N matching requests (default 1)
     "status": 503, "retry_after": 7,   # kind=status (default 503; Retry-After optional)
     "seconds": 30,                     # kind=hang (default 30), then the request runs normally
     "phase": "before" | "after",       # status/drop/malformed: "after" runs the real handler
                                        # first (the write commits), then answers the fault
     "find": "Atlas", "replace": "x",   # non_utf8 / rewrite (below)
     "occurrences": 0}                  # rewrite: how many matches to replace (0 = all)

Two kinds answer the REAL response, altered (bad input from an API that otherwise works):

* ``non_utf8`` — invalid UTF-8 bytes (``\\xff\\xfe``) are put inside a string value of the body:
  right after the first occurrence of ``find`` (e.g. a customer name), or, without ``find``,
  at the start of the first string value. The status and every other byte stay as they were.
* ``rewrite`` — every (or the first ``occurrences``) occurrence of ``find`` in the body text is
  replaced by ``replace``: a wrong-typed or out-of-range value where the sandbox's own admin
  API cannot store one (``"qty_avail_sell":"7777"`` → ``"qty_avail_sell":"lots"``). Bodies are
  compact JSON (``"key":"value"``, no spaces).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import random
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Match

ADMIN_PREFIX = "/_sandbox"

FAULT_KINDS = ("status", "hang", "drop", "malformed", "commit_then_fail", "non_utf8", "rewrite")
#: Kinds that run the real handler and send its response back altered.
BODY_KINDS = ("non_utf8", "rewrite")
#: What ``non_utf8`` puts into a string value: not valid UTF-8 in any position.
INVALID_UTF8 = b"\xff\xfe"

ASGIApp = Callable[..., Awaitable[None]]


# --------------------------------------------------------------------------- clock


class SandboxClock:
    """Real UTC time plus an offset, so tests can jump over weekends or past token expiry."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = float(offset_seconds)
        self._lock = threading.Lock()

    @property
    def offset_seconds(self) -> float:
        return self._offset

    def now(self) -> datetime:
        """The sandbox's current time, timezone-aware UTC."""
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def time(self) -> float:
        """The sandbox's current time as a POSIX timestamp (for windows and expiries)."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += float(seconds)
        return self.now()

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (naive values are taken as UTC); time keeps running from there."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        with self._lock:
            self._offset = (when - datetime.now(UTC)).total_seconds()
        return self.now()

    def reset(self) -> datetime:
        with self._lock:
            self._offset = 0.0
        return self.now()

    def snapshot(self) -> dict[str, Any]:
        return {"now": iso_z(self.now()), "offset_seconds": round(self._offset, 3)}


def iso_z(when: datetime) -> str:
    """ISO-8601 UTC with a trailing Z, the way both APIs print datetimes."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_when(value: str) -> datetime:
    """Parse an ISO date or datetime (``Z`` allowed); naive → UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- faults


class FaultSpecError(ValueError):
    """An admin asked for a fault the injector cannot arm; the message says which field."""


@dataclass
class Fault:
    """One armed fault: fires on the next ``remaining`` requests that match."""

    id: int
    kind: str
    method: str = "*"
    path: str | None = None
    path_regex: str | None = None
    remaining: int = 1
    status: int | None = None
    retry_after: float | None = None
    seconds: float = 30.0
    phase: str = "before"
    find: str | None = None
    replace: str | None = None
    occurrences: int = 0
    fired: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method != method:
            return False
        if self._regex is not None:
            return self._regex.search(path) is not None
        return self.path is None or path.startswith(self.path)

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("_regex", None)
        return out


def _fault_from_spec(fault_id: int, spec: dict[str, Any]) -> Fault:
    kind = spec.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"fault 'kind' must be one of {', '.join(FAULT_KINDS)}; got {kind!r}")
    method = str(spec.get("method") or "*").upper()
    count = int(spec.get("count", 1))
    if count < 1:
        raise FaultSpecError("fault 'count' must be >= 1")
    phase = spec.get("phase", "after" if kind == "commit_then_fail" else "before")
    if phase not in ("before", "after"):
        raise FaultSpecError("fault 'phase' must be 'before' or 'after'")
    status = spec.get("status")
    if kind in ("status", "commit_then_fail"):
        status = int(status or (500 if kind == "commit_then_fail" else 503))
        if not 400 <= status <= 599:
            raise FaultSpecError("fault 'status' must be a 4xx/5xx code")
    regex_text = spec.get("path_regex")
    try:
        regex = re.compile(regex_text) if regex_text else None
    except re.error as exc:
        raise FaultSpecError(f"fault 'path_regex' does not compile: {exc}") from exc
    retry_after = spec.get("retry_after")
    find, replace = spec.get("find"), spec.get("replace")
    if kind == "rewrite" and (not isinstance(find, str) or not find or not isinstance(replace, str)):
        raise FaultSpecError("fault kind 'rewrite' needs 'find' (non-empty text) and 'replace' (text)")
    if find is not None and not isinstance(find, str):
        raise FaultSpecError("fault 'find' must be text")
    occurrences = int(spec.get("occurrences", 0))
    if occurrences < 0:
        raise FaultSpecError("fault 'occurrences' must be >= 0 (0 = all)")
    return Fault(
        id=fault_id,
        kind=kind,
        method=method,
        path=spec.get("path"),
        path_regex=regex_text,
        remaining=count,
        status=status,
        retry_after=float(retry_after) if retry_after is not None else None,
        seconds=float(spec.get("seconds", 30.0)),
        phase=phase,
        find=find,
        replace=replace,
        occurrences=occurrences,
        _regex=regex,
    )


@dataclass
class RandomFaults:
    """Soak-test mode: each matching request gets a random fault with this probability."""

    probability: float = 0.0
    seed: int | None = None
    kinds: tuple[str, ...] = ("status",)
    method: str = "*"
    path: str | None = None
    statuses: tuple[int, ...] = (500, 502, 503, 429)
    hang_seconds: float = 2.0
    retry_after: float | None = 1.0


class FaultInjector:
    """Holds armed faults and decides, per request, which one (if any) fires.

    The ASGI side lives in :class:`SandboxMiddleware`; this object is the shared state the
    admin routes arm and clear.
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._random = RandomFaults()
        self._rng = random.Random()
        self._lock = threading.Lock()
        self.fired: Counter[str] = Counter()

    def arm(self, specs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        built = [_fault_from_spec(next(self._ids), dict(s)) for s in specs]
        with self._lock:
            self._faults.extend(built)
        return [f.public() for f in built]

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.public() for f in self._faults]

    def clear(self) -> int:
        with self._lock:
            n = len(self._faults)
            self._faults.clear()
            self._random = RandomFaults()
        return n

    def set_random(self, spec: dict[str, Any]) -> dict[str, Any]:
        kinds = tuple(spec.get("kinds") or ("status",))
        bad = [k for k in kinds if k not in FAULT_KINDS]
        if bad:
            raise FaultSpecError(f"random fault kinds not known: {bad}")
        prob = float(spec.get("probability", 0.0))
        if not 0.0 <= prob <= 1.0:
            raise FaultSpecError("random fault 'probability' must be within [0, 1]")
        cfg = RandomFaults(
            probability=prob,
            seed=spec.get("seed"),
            kinds=kinds,
            method=str(spec.get("method") or "*").upper(),
            path=spec.get("path"),
            statuses=tuple(int(s) for s in spec.get("statuses", (500, 502, 503, 429))),
            hang_seconds=float(spec.get("hang_seconds", 2.0)),
            retry_after=spec.get("retry_after", 1.0),
        )
        with self._lock:
            self._random = cfg
            self._rng = random.Random(cfg.seed)
        return asdict(cfg)

    def random_config(self) -> dict[str, Any]:
        return asdict(self._random)

    def take_body_faults(self, method: str, path: str, taken: Fault | None = None) -> list[Fault]:
        """Consume every further armed ``non_utf8``/``rewrite`` fault matching this request.

        Body alterations stack: a test may corrupt two fields of the same answer.
        """
        out: list[Fault] = []
        with self._lock:
            for fault in list(self._faults):
                if fault is not taken and fault.kind in BODY_KINDS and fault.matches(method, path):
                    fault.remaining -= 1
                    fault.fired += 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    self.fired[fault.kind] += 1
                    out.append(fault)
        return out

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the fault for this request, if one is armed for it."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    fault.fired += 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    self.fired[fault.kind] += 1
                    return fault
            cfg = self._random
            if cfg.probability <= 0.0:
                return None
            if cfg.method != "*" and cfg.method != method:
                return None
            if cfg.path is not None and not path.startswith(cfg.path):
                return None
            if self._rng.random() >= cfg.probability:
                return None
            kind = self._rng.choice(cfg.kinds)
            status = self._rng.choice(cfg.statuses) if kind in ("status", "commit_then_fail") else None
            if kind == "commit_then_fail":
                status = 500
            fault = Fault(
                id=0,
                kind=kind,
                status=status,
                retry_after=cfg.retry_after if status == 429 or kind == "status" else None,
                seconds=cfg.hang_seconds,
                phase="after" if kind == "commit_then_fail" else "before",
            )
            fault.fired = 1
            self.fired[f"random:{kind}"] += 1
            return fault


# --------------------------------------------------------------------------- stats


class RequestStats:
    """Counts requests per ``"<METHOD> <route template>"`` and per status code.

    ``add_provider(name, fn)`` merges ``fn()``'s dict into every snapshot under ``name`` (at the
    top level when ``name`` is ``""``) — the JOOR server registers its credit counters this way
    (``credits_spent``, ``max_credits_in_window``, ``responses_429``).
    """

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self._providers: dict[str, Callable[[], dict[str, Any]]] = {}
        self._resetters: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def record(self, method: str, template: str, status: int | None) -> None:
        with self._lock:
            self.requests[f"{method} {template}"] += 1
            self.statuses[str(status) if status is not None else "dropped"] += 1

    def add_provider(
        self, name: str, fn: Callable[[], dict[str, Any]], reset: Callable[[], None] | None = None
    ) -> None:
        self._providers[name] = fn
        if reset is not None:
            self._resetters.append(reset)

    def total(self) -> int:
        return sum(self.requests.values())

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
        for fn in self._resetters:
            fn()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {
                "total_requests": sum(self.requests.values()),
                "requests": dict(sorted(self.requests.items())),
                "statuses": dict(sorted(self.statuses.items())),
            }
        for name, fn in self._providers.items():
            if name:
                out[name] = fn()
            else:  # an unnamed provider's fields sit at the top level (the JOOR credit counters)
                out.update(fn())
        return out


# --------------------------------------------------------------------------- middleware


def _route_template(scope: dict[str, Any]) -> str:
    """The matched route's template (``/v4/items/{x}``), also for requests a fault answered."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template:
        return template
    app = scope.get("app")
    for candidate in getattr(app, "routes", ()):
        try:
            match, _ = candidate.matches(scope)
        except Exception:  # noqa: BLE001 - a route that cannot match this scope is not ours
            continue
        if match == Match.FULL:
            return getattr(candidate, "path", scope.get("path", ""))
    return scope.get("path", "")


async def _send_simple(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _drop_connection(send: Any) -> None:
    """Close the socket without one byte of response.

    uvicorn (httptools and h11 alike) marks the response started, then validates header
    values *before* writing anything; an invalid value makes it raise, and because the response
    counts as started it closes the transport instead of writing a 500. The client sees the
    connection closed with no response — what a crashed proxy or a reset looks like.
    """
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-sandbox-drop", b"\r\n")]})
    raise ConnectionAbortedError("sandbox fault: connection dropped")  # pragma: no cover


class SandboxMiddleware:
    """Pure ASGI middleware: applies armed faults and records stats for non-admin requests."""

    def __init__(
        self,
        app: ASGIApp,
        injector: FaultInjector,
        stats: RequestStats,
        admin_prefix: str = ADMIN_PREFIX,
    ) -> None:
        self.app = app
        self.injector = injector
        self.stats = stats
        self.admin_prefix = admin_prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.admin_prefix):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        fault = self.injector.take(method, scope["path"])
        status_seen: list[int] = []

        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
            await send(message)

        try:
            if fault is None:
                await self.app(scope, receive, counting_send)
            elif fault.kind == "hang":
                await asyncio.sleep(fault.seconds)
                await self.app(scope, receive, counting_send)
            elif fault.kind in BODY_KINDS:
                await self._run_altered(fault, scope, receive, counting_send)
            elif fault.phase == "after":
                await self._run_swallowed(scope, receive)
                await self._answer_fault(fault, send if fault.kind == "drop" else counting_send)
            elif fault.kind == "drop":
                await _drop_connection(send)
            else:
                await self._answer_fault(fault, counting_send)
        finally:
            self.stats.record(method, _route_template(scope), status_seen[0] if status_seen else None)

    async def _run_swallowed(self, scope: dict[str, Any], receive: Any) -> None:
        """Run the real handler (its writes commit) and throw its response away."""

        async def discard(message: dict[str, Any]) -> None:
            return None

        await self.app(scope, receive, discard)

    async def _run_altered(self, fault: Fault, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Run the real handler, then send its response with the body altered by ``fault``."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        for each in [fault, *self.injector.take_body_faults(scope["method"], scope["path"], fault)]:
            body = alter_body(body, each)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await _send_simple(send, int(start.get("status", 200)), body, headers)

    async def _answer_fault(self, fault: Fault, send: Any) -> None:
        if fault.kind == "drop":
            await _drop_connection(send)
        elif fault.kind == "malformed":
            await _send_simple(
                send, 200, b'{"data": [{"id": "1", "name": "trunc', [(b"content-type", b"application/json")]
            )
        else:  # status / commit_then_fail
            status = fault.status or 500
            headers = [(b"content-type", b"application/json"), (b"x-sandbox-fault", fault.kind.encode())]
            if fault.retry_after is not None:
                headers.append((b"retry-after", str(int(max(0, round(fault.retry_after)))).encode()))
            body = (
                b'{"errors": [{"status": "%d", "message": "sandbox injected fault", "details": "%s"}]}'
                % (status, fault.kind.encode())
            )
            await _send_simple(send, status, body, headers)


def alter_body(body: bytes, fault: Fault) -> bytes:
    """The response body as a ``non_utf8`` / ``rewrite`` fault changes it (pure; unchanged if no match)."""
    if fault.kind == "rewrite" and fault.find:
        limit = fault.occurrences or -1
        return body.replace(fault.find.encode(), (fault.replace or "").encode(), limit)
    if fault.kind == "non_utf8":
        if fault.find:
            at = body.find(fault.find.encode())
            if at < 0:
                return body
            cut = at + len(fault.find.encode())
        else:
            match = re.search(rb'":\s*"', body)
            if match is None:
                return body
            cut = match.end()
        return body[:cut] + INVALID_UTF8 + body[cut:]
    return body


def install_sandbox_middleware(app: FastAPI, injector: FaultInjector, stats: RequestStats) -> None:
    """Add the fault/stats middleware as the app's outermost user middleware.

    Add it LAST (after any rate-limit middleware) so faults fire before the app spends credits.
    """
    app.add_middleware(SandboxMiddleware, injector=injector, stats=stats)


# --------------------------------------------------------------------------- admin routes


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    import json

    data = json.loads(raw)
    if not isinstance(data, dict):
        raise FaultSpecError("admin body must be a JSON object")
    return data


def make_admin_router(
    *,
    clock: SandboxClock,
    faults: FaultInjector,
    stats: RequestStats,
    on_reset: Callable[[dict[str, Any]], Any] | Callable[[], Any] | None = None,
    get_config: Callable[[], dict[str, Any]] | None = None,
    set_config: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    prefix: str = ADMIN_PREFIX,
) -> APIRouter:
    """The shared ``/_sandbox`` admin endpoints (see the module docstring)."""
    router = APIRouter(prefix=prefix, tags=["sandbox admin"])

    def bad(message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=400)

    @router.post("/faults")
    async def faults_post(request: Request) -> Any:
        try:
            body = await _json_body(request)
            action = body.get("action", "arm")
            if action == "arm":
                specs = body.get("faults")
                if specs is None:
                    specs = [{k: v for k, v in body.items() if k != "action"}]
                return {"armed": faults.arm(specs)}
            if action == "list":
                return {"faults": faults.list(), "random": faults.random_config(), "fired": dict(faults.fired)}
            if action == "clear":
                return {"cleared": faults.clear()}
            if action == "random":
                return {"random": faults.set_random(body)}
            return bad(f"unknown action {action!r}; use arm, list, clear or random")
        except (FaultSpecError, ValueError, TypeError) as exc:
            return bad(str(exc))

    @router.get("/faults")
    async def faults_get() -> Any:
        return {"faults": faults.list(), "random": faults.random_config(), "fired": dict(faults.fired)}

    @router.delete("/faults")
    async def faults_delete() -> Any:
        return {"cleared": faults.clear()}

    @router.get("/stats")
    async def stats_get() -> Any:
        out = stats.snapshot()
        out["faults_fired"] = dict(faults.fired)
        out["clock"] = clock.snapshot()
        return out

    @router.post("/stats/reset")
    async def stats_reset() -> Any:
        stats.reset()
        faults.fired.clear()
        return {"ok": True}

    @router.get("/clock")
    async def clock_get() -> Any:
        return clock.snapshot()

    @router.post("/clock")
    async def clock_post(request: Request) -> Any:
        try:
            body = await _json_body(request)
            if body.get("reset"):
                clock.reset()
            elif "set" in body:
                clock.set(parse_when(str(body["set"])))
            elif "advance" in body:
                clock.advance(float(body["advance"]))
            else:
                return bad("clock body needs 'advance' (seconds), 'set' (ISO datetime) or 'reset'")
        except (ValueError, TypeError) as exc:
            return bad(str(exc))
        return clock.snapshot()

    @router.post("/reset")
    async def reset_post(request: Request) -> Any:
        try:
            body = await _json_body(request)
        except ValueError as exc:
            return bad(str(exc))
        if on_reset is not None:
            params = inspect.signature(on_reset).parameters
            await _maybe_await(on_reset(body) if params else on_reset())  # type: ignore[call-arg]
        if body.get("faults", True):
            faults.clear()
        if body.get("stats", True):
            stats.reset()
            faults.fired.clear()
        if body.get("clock", False):
            clock.reset()
        return {"ok": True, "clock": clock.snapshot()}

    if get_config is not None:

        @router.get("/config")
        async def config_get() -> Any:
            return get_config()

    if set_config is not None:

        @router.post("/config")
        async def config_post(request: Request) -> Any:
            try:
                body = await _json_body(request)
                return set_config(body)
            except (ValueError, TypeError, KeyError) as exc:
                return bad(str(exc))

    return router


def add_admin_routes(app: FastAPI, **kwargs: Any) -> None:
    """Convenience: ``app.include_router(make_admin_router(**kwargs))``."""
    app.include_router(make_admin_router(**kwargs))
