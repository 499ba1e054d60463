"""Proxy environment: loopback (the sandboxes) never goes through a proxy; remote hosts still do.

Why: the hooks honour HTTP(S)_PROXY so a worker behind a corporate proxy reaches JOOR/AMC, but a
proxy env without NO_PROXY covering 127.0.0.1 must not break calls to the local sandboxes.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from amc_joor.hooks.amc import AmcHook
from amc_joor.hooks.http import RetryPolicy, Transport, bypasses_proxy
from amc_joor.hooks.joor import JoorHook
from amc_joor_sandbox.testing import SandboxAdmin

FAST = RetryPolicy(max_attempts=2, max_elapsed=5.0, backoff_initial=0.02, backoff_max=0.1, read_timeout=5.0)
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def set_proxy_env(monkeypatch, proxy: str) -> None:
    for var in PROXY_VARS:
        monkeypatch.setenv(var, proxy)
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def bogus_proxy(monkeypatch) -> str:
    """A proxy env pointing at a closed port: anything sent through it fails to connect."""
    proxy = "http://127.0.0.1:9"
    set_proxy_env(monkeypatch, proxy)
    return proxy


def test_sandbox_calls_bypass_a_bogus_proxy_env(amc_conn_id, joor_conn_id, fresh_sandbox, bogus_proxy):
    amc = AmcHook(amc_conn_id, retry_policy=FAST)
    ok, message = amc.test_connection()
    assert ok, message
    assert amc.list_records("warehouses")
    joor = JoorHook(joor_conn_id, retry_policy=FAST, budget=None)
    assert joor.list_traits() is not None  # v4 token (auth URL) + a v4 GET
    assert next(joor.iter_connections(), None) is not None  # v2
    admin = SandboxAdmin(fresh_sandbox.joor_url)  # the test helpers' own client, built under the env
    try:
        assert admin.stats()["requests"]["GET /v4/traits"] == 1
    finally:
        admin.close()


@pytest.mark.parametrize("url, bypass", [
    ("http://127.0.0.1:8080/api/json", True), ("http://127.9.9.9/x", True), ("http://localhost:1/x", True),
    ("http://[::1]:80/x", True), ("https://api.jooraccess.com/v4", False), ("http://10.0.0.5/x", False),
    ("http://localhost.example.com/x", False),
])
def test_bypasses_proxy(url, bypass):
    assert bypasses_proxy(url) is bypass


class _RecordingProxy(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen.append(self.path)
        body = json.dumps({"via": "proxy"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_remote_hosts_still_use_the_proxy_env(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        set_proxy_env(monkeypatch, f"http://127.0.0.1:{server.server_address[1]}")
        t = Transport(api="TEST", policy=FAST)
        # never resolved or contacted: the proxy answers for it
        assert t.request("GET", "http://amc.example.invalid/api/json/ping") == {"via": "proxy"}
        assert _RecordingProxy.seen[-1] == "http://amc.example.invalid/api/json/ping"
        t.close()
    finally:
        server.shutdown()
        server.server_close()
