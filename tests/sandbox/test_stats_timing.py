"""Stats are recorded before a reply completes: a test may read them right after a response.

Why: tests count requests to prove what an integration sent. If the sandbox books a request
only after its reply went out, a stats read made at once races it (the one-off KeyError in
test_stats_count_requests_per_route). No sleeps or polling here on purpose.
"""

from __future__ import annotations

import time

import httpx
import pytest

from amc_joor_sandbox.connections import AMC_TOKEN
from sandbox.joor_client import V2_HEADERS

ROUNDS = 40


@pytest.fixture
def clients(fresh_sandbox):
    fresh_sandbox.joor_admin.config(rate_limit_enabled=False)
    with httpx.Client(base_url=fresh_sandbox.amc_url, timeout=10, trust_env=False) as amc, \
            httpx.Client(base_url=fresh_sandbox.joor_url, timeout=10, trust_env=False) as joor:
        yield amc, joor


def test_amc_request_is_counted_when_its_reply_arrives(clients, fresh_sandbox):
    amc, _ = clients
    admin = fresh_sandbox.amc_admin
    for i in range(1, ROUNDS + 1):
        ok = i % 2 == 0  # alternate 200s and the 401 path (an early return)
        params = {"token": AMC_TOKEN if ok else "wrong", "time": str(int(time.time()))}
        resp = amc.get("/api/json/warehouses", params=params)
        assert resp.status_code == (200 if ok else 401)
        assert admin.requests().get("GET /api/json/warehouses") == i, f"round {i}"


def test_joor_request_is_counted_when_its_reply_arrives(clients, fresh_sandbox):
    _, joor = clients
    admin = fresh_sandbox.joor_admin
    for i in range(1, ROUNDS + 1):
        resp = joor.get("/v2/connection", headers=V2_HEADERS)  # v2 needs no token round trip
        assert resp.status_code == 200
        assert admin.requests().get("GET /v2/connection") == i, f"round {i}"


def test_faulted_replies_are_counted_too(clients, fresh_sandbox):
    amc, _ = clients
    admin = fresh_sandbox.amc_admin
    admin.arm_fault("status", status=503, count=ROUNDS, path="/api/json/warehouses")
    for i in range(1, ROUNDS + 1):
        assert amc.get("/api/json/warehouses").status_code == 503
        assert admin.stats()["statuses"].get("503") == i, f"round {i}"
