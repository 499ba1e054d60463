"""Start the sandboxes as a real subprocess and drive their admin APIs (tests, benches, demos).

Why a subprocess: clients under test talk to the sandboxes over real loopback HTTP, exactly as
they would to the SaaS APIs, and a hung or crashed sandbox cannot take the test process with it.

    with start_sandbox("small", seed=1) as sb:
        sb.amc_url, sb.joor_url
        sb.amc_admin.arm_fault(kind="status", status=503, method="GET", path="/api/json/products")
        sb.amc_admin.set_stock("100001", "1", qty_inventory=5)
        sb.reset()      # both servers back to the pristine data set
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from amc_joor_sandbox.connections import AMC_TOKEN

READY_RE = re.compile(r"sandbox ready amc=(\S+) joor=(\S+)")
START_TIMEOUT = {"small": 30.0, "large": 120.0}


class SandboxError(RuntimeError):
    """The sandbox did not start, or an admin call was refused (the message says why)."""


class SandboxAdmin:
    """A small client for one server's ``/_sandbox`` admin API (shared routes of common.py)."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        # a sandbox is never behind a proxy: ignore HTTP(S)_PROXY set for the real APIs
        self.http = httpx.Client(base_url=self.base_url + "/_sandbox", timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def _check(self, resp: httpx.Response) -> Any:
        if resp.status_code >= 400:
            raise SandboxError(f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: {resp.text[:500]}")
        return resp.json() if resp.content else None

    def get(self, path: str, **params: Any) -> Any:
        """GET any admin path (``"/stats"``, ``"/amc/orders"``, the JOOR side's own routes)."""
        return self._check(self.http.get(path, params=params or None))

    def post(self, path: str, body: dict[str, Any] | list[Any] | None = None) -> Any:
        """POST any admin path with a JSON body."""
        return self._check(self.http.post(path, json=body if body is not None else {}))

    def reset(self, dataset: str | None = None, seed: int | None = None, **flags: Any) -> Any:
        """Pristine data set (the current one unless named); also clears faults and stats."""
        body: dict[str, Any] = dict(flags)
        if dataset is not None:
            body["dataset"] = dataset
        if seed is not None:
            body["seed"] = seed
        return self.post("/reset", body)

    def arm_fault(self, kind: str, **spec: Any) -> list[dict[str, Any]]:
        """Arm one fault, e.g. ``arm_fault("status", status=429, retry_after=2, path="/api/json/orders")``."""
        return self.post("/faults", {"action": "arm", "faults": [{"kind": kind, **spec}]})["armed"]

    def arm_faults(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.post("/faults", {"action": "arm", "faults": specs})["armed"]

    def random_faults(self, probability: float, **spec: Any) -> Any:
        return self.post("/faults", {"action": "random", "probability": probability, **spec})

    def clear_faults(self) -> int:
        return self.post("/faults", {"action": "clear"})["cleared"]

    def faults(self) -> Any:
        return self.get("/faults")

    def stats(self) -> dict[str, Any]:
        return self.get("/stats")

    def requests(self) -> dict[str, int]:
        """Request counts per ``"<METHOD> <route>"``."""
        return self.stats()["requests"]

    def reset_stats(self) -> Any:
        return self.post("/stats/reset")

    def config(self, **changes: Any) -> Any:
        """Read (no args) or change the server's sandbox settings."""
        return self.post("/config", changes) if changes else self.get("/config")

    def clock(self) -> dict[str, Any]:
        return self.get("/clock")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the shared sandbox clock (both servers see it)."""
        return self.post("/clock", {"advance": seconds})

    def set_clock(self, iso: str) -> dict[str, Any]:
        return self.post("/clock", {"set": iso})

    def reset_clock(self) -> dict[str, Any]:
        return self.post("/clock", {"reset": True})


class AmcAdmin(SandboxAdmin):
    """The AMC server's admin API: plus the AMC user's actions and order inspection."""

    def orders(self) -> list[dict[str, Any]]:
        """Every order created in AMC (what the order pull imported)."""
        return self.get("/amc/orders")["orders"]

    def edit(self, resource: str, record_id: str, **changes: Any) -> dict[str, Any]:
        """Edit any record as an AMC user would (a real change bumps last_modified_time)."""
        return self.post(f"/amc/{resource}/{record_id}", changes)

    def edit_style(self, product_id: str, **changes: Any) -> dict[str, Any]:
        return self.edit("products", product_id, **changes)

    def set_stock(self, sku_id: str, warehouse_id: str = "1", **qty: Any) -> dict[str, Any]:
        """Set qty fields (or ``delta_inventory``) of one SKU in one warehouse."""
        return self.post("/amc/stock", {"sku_id": sku_id, "warehouse_id": warehouse_id, **qty})

    def set_rate(self, currency_id: str, rate: str) -> dict[str, Any]:
        return self.post(f"/amc/currencies/{currency_id}/rate", {"rate": rate})

    def create_customer(self, **fields: Any) -> dict[str, Any]:
        return self.post("/amc/customers", fields)

    def edit_customer(self, customer_id: str, **changes: Any) -> dict[str, Any]:
        return self.edit("customers", customer_id, **changes)

    def add_style(self, style_number: str, colors: list[dict[str, str]], sizes: list[str], **fields: Any) -> Any:
        """Create a style with colorways × sizes (fresh UPCs, zero stock)."""
        return self.post("/amc/styles", {"style_number": style_number, "colors": colors, "sizes": sizes, **fields})

    def info(self) -> dict[str, Any]:
        return self.get("/amc/info")


@dataclass
class RunningSandbox:
    """A started sandbox subprocess: its URLs and admin clients."""

    amc_url: str
    joor_url: str
    dataset: str
    seed: int
    process: subprocess.Popen[str]
    amc_admin: AmcAdmin
    joor_admin: SandboxAdmin
    amc_token: str = AMC_TOKEN
    output: list[str] = field(default_factory=list)

    def reset(self, dataset: str | None = None, seed: int | None = None) -> None:
        """Both servers back to a pristine data set (faults, stats, settings cleared, clock reset).

        Without arguments: the data set and seed the sandbox was started with, whatever a
        previous test switched to.
        """
        dataset = dataset or self.dataset
        seed = self.seed if seed is None else seed
        self.amc_admin.reset(dataset, seed, clock=True)
        self.joor_admin.reset(dataset, seed, clock=True)

    def amc_auth(self) -> dict[str, str]:
        """Fresh ``token``/``time`` credentials for a raw AMC call."""
        now = self.amc_admin.clock().get("now")
        from amc_joor_sandbox.common import parse_when

        return {"token": self.amc_token, "time": str(int(parse_when(now).timestamp()))}


def _pump(stream: Any, sink: list[str], ready: threading.Event, found: list[str]) -> None:
    """Read the child's output (so its pipe never fills) and spot the ready line."""
    for line in iter(stream.readline, ""):
        if len(sink) < 2000:
            sink.append(line.rstrip("\n"))
        if not found and READY_RE.search(line):
            found.append(line)
            ready.set()
    ready.set()


@contextlib.contextmanager
def start_sandbox(dataset: str = "small", seed: int = 1, *, timeout: float | None = None,
                  **flags: Any) -> Iterator[RunningSandbox]:
    """Run ``python -m amc_joor_sandbox serve`` on free loopback ports until the block ends.

    ``flags`` become CLI flags (``state="/tmp/s.json"`` → ``--state /tmp/s.json``,
    ``amc_token="x"`` → ``--amc-token x``). Readiness is bounded by ``timeout`` seconds.
    """
    cmd = [sys.executable, "-m", "amc_joor_sandbox", "serve", "--amc-port", "0", "--joor-port", "0",
           "--dataset", dataset, "--seed", str(seed)]
    for name, value in flags.items():
        if value is None or value is False:
            continue
        cmd.append("--" + name.replace("_", "-"))
        if value is not True:
            cmd.append(str(value))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output: list[str] = []
    ready, found = threading.Event(), []
    reader = threading.Thread(target=_pump, args=(proc.stdout, output, ready, found), daemon=True)
    reader.start()
    running: RunningSandbox | None = None
    try:
        ready.wait(timeout or START_TIMEOUT.get(dataset, 60.0))
        if not found:
            raise SandboxError(f"sandbox did not become ready (exit={proc.poll()}); output:\n" + "\n".join(output[-40:]))
        match = READY_RE.search(found[0])
        assert match is not None
        running = RunningSandbox(
            amc_url=match.group(1), joor_url=match.group(2), dataset=dataset, seed=seed, process=proc,
            amc_admin=AmcAdmin(match.group(1)), joor_admin=SandboxAdmin(match.group(2)),
            amc_token=str(flags.get("amc_token") or AMC_TOKEN), output=output,
        )
        yield running
    finally:
        if running is not None:
            running.amc_admin.close()
            running.joor_admin.close()
        stop_process(proc)
        reader.join(timeout=5)


def stop_process(proc: subprocess.Popen[Any], grace: float = 10.0) -> int | None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; returns the exit code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until truthy or ``timeout`` (bounded waits in tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
