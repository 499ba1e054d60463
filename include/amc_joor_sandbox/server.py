"""Run both sandbox APIs in one process: two uvicorn servers in one asyncio loop, one World.

Why one process: the JOOR sandbox's admin API generates orders from AMC's SKUs and customers,
and both servers share one movable clock, so they share memory rather than talk over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from amc_joor_sandbox.amc_app import DEFAULT_AMC_TOKEN, AmcServer, create_amc_app, make_amc_server
from amc_joor_sandbox.common import FaultInjector, RequestStats, SandboxClock, make_admin_router
from amc_joor_sandbox.datasets import World, build_world

READY_PREFIX = "sandbox ready"


@dataclass
class Sandbox:
    """Both sandboxes' state and apps, built from one World and one clock."""

    world: World
    clock: SandboxClock
    amc: AmcServer
    amc_app: FastAPI
    joor: Any  # the JOOR helper's state object (None while joor_app is absent)
    joor_app: FastAPI


def _optional_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _placeholder_joor_app(clock: SandboxClock) -> FastAPI:
    """Used only while the JOOR sandbox module is missing: admin routes, no API."""
    app = FastAPI(title="JOOR sandbox (not built yet)")
    app.include_router(make_admin_router(clock=clock, faults=FaultInjector(), stats=RequestStats()))
    return app


class BookkeepingBeforeReply:
    """Outermost ASGI wrapper: holds a reply's last body chunk until the app stack returned.

    Why: the stats/fault middleware (common.py) books a request in a ``finally`` after the
    handler returns, i.e. after the reply was handed to the server. A client could therefore
    read ``/_sandbox/stats`` before its own previous request was counted and tests had to poll.
    Holding the final chunk until everything inside (stats included) has finished makes a
    complete reply imply a booked request. Costs nothing measurable: the chunk is already built.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []

        async def hold_last(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                held.append(message)
                return
            await send(message)

        try:
            await self.app(scope, receive, hold_last)
        finally:
            for message in held:
                await send(message)


def build_sandbox(dataset: str = "small", seed: int = 1, *, amc_token: str | None = None,
                  joor_config: dict[str, Any] | None = None) -> Sandbox:
    """Build the World, the AMC server state and app, and the JOOR state and app.

    ``joor_config``: the JOOR start-up config (JoorConfig fields; None = env
    ``AMC_JOOR_SANDBOX_JOOR_CONFIG`` or the defaults); a JOOR reset returns to it.
    """
    world = build_world(dataset, seed)
    clock = SandboxClock()
    amc = make_amc_server(world.amc, clock, dataset=dataset, seed=seed, token=amc_token or DEFAULT_AMC_TOKEN)
    amc_app = create_amc_app(amc)
    joor_mod = _optional_module("amc_joor_sandbox.joor_app")
    joor: Any = None
    if joor_mod is not None and hasattr(joor_mod, "create_joor_app"):
        # The JOOR side reads AMC's *current* records (after resets and edits) through amc_source.
        joor_app = joor_mod.create_joor_app(world, clock=clock, config=joor_config, amc_source=lambda: amc.amc.data)
        joor = getattr(joor_app.state, "joor", None)
    else:
        joor_app = _placeholder_joor_app(clock)
    for app in (amc_app, joor_app):
        app.add_middleware(BookkeepingBeforeReply)  # added last = outermost
    return Sandbox(world=world, clock=clock, amc=amc, amc_app=amc_app, joor=joor, joor_app=joor_app)


# --------------------------------------------------------------------------- persistence


def save_state(sandbox: Sandbox, path: Path) -> None:
    """Write both sandboxes' state as JSON (atomically: a crash never leaves half a file)."""
    out: dict[str, Any] = {"version": 1, "clock_offset_seconds": sandbox.clock.offset_seconds,
                           "amc": sandbox.amc.amc.to_dict()}
    if sandbox.joor is not None and hasattr(sandbox.joor, "to_dict"):
        out["joor"] = sandbox.joor.to_dict()
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(out, separators=(",", ":")))
    os.replace(tmp, path)


def restore_state(sandbox: Sandbox, path: Path) -> None:
    """Load what ``save_state`` wrote; the JOOR half only if the JOOR state can restore itself."""
    saved = json.loads(path.read_text())
    sandbox.amc.amc.restore(saved["amc"])
    sandbox.clock.advance(float(saved.get("clock_offset_seconds", 0.0)) - sandbox.clock.offset_seconds)
    if "joor" in saved and sandbox.joor is not None:
        for name in ("restore", "load_dict", "from_saved"):
            fn = getattr(sandbox.joor, name, None)
            if callable(fn):
                fn(saved["joor"])
                break


# --------------------------------------------------------------------------- serving


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us (two servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose listening
    # socket says so; without it every small kept-alive request waits ~40 ms for delayed ACKs.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                         socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


async def serve(dataset: str, seed: int, amc_port: int, joor_port: int, host: str = "127.0.0.1",
                state_file: str | None = None, amc_token: str | None = None, log_level: str = "warning",
                joor_config: dict[str, Any] | None = None) -> int:
    """Serve both APIs until SIGTERM/SIGINT; port 0 picks a free port (the ready line says which)."""
    started = time.monotonic()
    amc_sock, joor_sock = _listen(host, amc_port), _listen(host, joor_port)
    sandbox = build_sandbox(dataset, seed, amc_token=amc_token, joor_config=joor_config)
    path = Path(state_file) if state_file else None
    if path is not None and path.exists():
        restore_state(sandbox, path)
        if joor_config and sandbox.joor is not None:
            sandbox.joor.config.update(dict(joor_config))  # explicit start-up flags beat the saved config
        print(f"sandbox state restored from {path}", file=sys.stderr, flush=True)
    servers = []
    for app in (sandbox.amc_app, sandbox.joor_app):
        config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2)
        servers.append(_QuietServer(config))
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for s in servers:
            s.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(servers[0].serve(sockets=[amc_sock])),
             asyncio.create_task(servers[1].serve(sockets=[joor_sock]))]
    deadline = time.monotonic() + 60
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks) or time.monotonic() > deadline:
            stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            print("sandbox failed to start", file=sys.stderr, flush=True)
            return 1
        await asyncio.sleep(0.02)
    print(f"{READY_PREFIX} amc={_url(host, amc_sock)} joor={_url(host, joor_sock)} "
          f"dataset={dataset} seed={seed} startup_s={time.monotonic() - started:.2f}", flush=True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    if path is not None:
        save_state(sandbox, path)
        print(f"sandbox state saved to {path}", file=sys.stderr, flush=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    return 1 if errors else 0
