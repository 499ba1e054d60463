"""Fault injection, stats and the clock (common.py), observed from real HTTP clients.

Each fault kind is seen the way an integration would see it: a 5xx, a 429 with Retry-After, a
hang past the client's timeout, a dropped connection (a transport error, no response), a 200
whose body is not JSON, and a write that commits and still answers 500.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import requests

from sandbox.joor_client import Joor

pytestmark = pytest.mark.chaos


@pytest.fixture
def joor(fresh_sandbox) -> Joor:
    fresh_sandbox.joor_admin.config(credits_per_window=1_000_000)
    client = Joor(fresh_sandbox)
    client.token()  # get the token before any fault is armed
    yield client
    client.close()


def arm(joor: Joor, **spec: Any) -> dict[str, Any]:
    return joor.admin.arm_fault(**spec)[0]


def test_status_fault_fires_count_times_then_clears(joor: Joor) -> None:
    arm(joor, kind="status", status=503, method="GET", path="/v4/traits", count=2)
    assert [joor.get("/v4/traits").status_code for _ in range(3)] == [503, 503, 200]
    assert joor.admin.faults()["faults"] == []
    assert joor.admin.stats()["faults_fired"] == {"status": 2}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_each_5xx_status(joor: Joor, status: int) -> None:
    arm(joor, kind="status", status=status, path="/v4/orders")
    resp = joor.get("/v4/orders")
    assert resp.status_code == status and resp.headers["x-sandbox-fault"] == "status"
    assert joor.get("/v4/orders").status_code == 200


def test_429_fault_with_retry_after(joor: Joor) -> None:
    arm(joor, kind="status", status=429, retry_after=7, path="/v2/bulk-inventory")
    resp = joor.v2_send("POST", "/v2/bulk-inventory", {"inventory_items": {"inventory_item": []}})
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"


def test_method_and_regex_matching(joor: Joor) -> None:
    arm(joor, kind="status", status=500, method="POST", path="/v4/products")
    assert joor.get("/v4/products").status_code == 200  # GET does not match a POST fault
    assert joor.post("/v4/products/bulk_create", [{"name": "a", "external_id": "m-1"}]).status_code == 500
    joor.admin.clear_faults()
    arm(joor, kind="status", status=502, path_regex=r"^/v2/connection/customer_code/C-000[12]/$", count=5)
    assert joor.v2_get("/v2/connection/customer_code/C-0003/").status_code == 200
    assert joor.v2_get("/v2/connection/customer_code/C-0001/").status_code == 502
    assert joor.v2_get("/v2/connection/customer_code/C-0002/").status_code == 502


def test_hang_delays_and_times_out_a_client(joor: Joor) -> None:
    arm(joor, kind="hang", seconds=1.5, path="/v4/traits")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        joor.http.get("/v4/traits", params={"account": "1001"}, headers=joor.v4_headers(), timeout=0.4)
    assert time.monotonic() - started < 1.4
    arm(joor, kind="hang", seconds=1.0, path="/v4/traits")
    started = time.monotonic()
    assert joor.get("/v4/traits").status_code == 200  # after the hang the request is answered
    assert time.monotonic() - started >= 1.0


def test_drop_closes_the_connection_without_a_response(joor: Joor) -> None:
    arm(joor, kind="drop", path="/v4/orders", count=2)
    with pytest.raises(httpx.RemoteProtocolError):
        joor.get("/v4/orders")
    # the other common client library sees a connection error too
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{joor.url}/v4/orders", params={"account": "1001"}, headers=joor.v4_headers(), timeout=10)
    assert joor.get("/v4/orders").status_code == 200
    assert joor.admin.stats()["statuses"].get("dropped") == 2


def test_malformed_body_is_200_with_invalid_json(joor: Joor) -> None:
    arm(joor, kind="malformed", path="/v4/price_types")
    resp = joor.get("/v4/price_types")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.text)


def test_commit_then_fail_commits_the_write(joor: Joor) -> None:
    arm(joor, kind="commit_then_fail", method="POST", path="/v4/products/bulk_create")
    resp = joor.post("/v4/products/bulk_create", [{"name": "Committed", "external_id": "ctf-1"}])
    assert resp.status_code == 500
    found = joor.ok(joor.get("/v4/products", external_ids="ctf-1"))["data"]
    assert [p["name"] for p in found] == ["Committed"]  # the write happened
    retry = joor.ok(joor.post("/v4/products/bulk_create", [{"name": "Committed", "external_id": "ctf-1"}]))
    assert retry["errors"][0]["status"] == "DUPLICATED"  # a blind retry is not idempotent


def test_commit_then_fail_on_v2_inventory(joor: Joor) -> None:
    joor.create_style("ctf-2", [("Black", "BLK")], ["S"], upc_base=72000000000)
    arm(joor, kind="commit_then_fail", status=502, path="/v2/bulk-inventory")
    resp = joor.v2_send("POST", "/v2/bulk-inventory", {"inventory_items": {"inventory_item": [
        {"upc": "072000000001", "inventory": 9}]}})
    assert resp.status_code == 502
    assert [r["inventory"] for r in joor.admin.get("/joor/inventory")["inventory"]] == [9]


def test_drop_after_commit_phase(joor: Joor) -> None:
    arm(joor, kind="drop", phase="after", method="POST", path="/v4/seasons")
    with pytest.raises(httpx.RemoteProtocolError):
        joor.post("/v4/seasons", {"name": "Dropped but saved", "external_id": "DROP-1"})
    assert [s["external_id"] for s in joor.ok(joor.get("/v4/seasons"))["data"]] == ["DROP-1"]


def test_admin_routes_are_never_faulted_and_faults_can_be_listed_and_cleared(joor: Joor) -> None:
    armed = joor.admin.arm_faults([{"kind": "status", "status": 500, "count": 100},
                                   {"kind": "drop", "path": "/v4", "count": 3}])
    assert [f["kind"] for f in armed] == ["status", "drop"]
    assert joor.admin.stats()["total_requests"] >= 0  # admin answered despite the catch-all fault
    assert joor.admin.get("/joor/info")["account_id"] == "1001"
    listed = joor.admin.post("/faults", {"action": "list"})["faults"]
    assert [(f["kind"], f["remaining"]) for f in listed] == [("status", 100), ("drop", 3)]
    assert joor.admin.clear_faults() == 2
    assert joor.get("/v4/traits").status_code == 200


def test_bad_fault_specs_are_refused(joor: Joor) -> None:
    for spec in ({"kind": "explode"}, {"kind": "status", "status": 200}, {"kind": "status", "count": 0},
                 {"kind": "status", "path_regex": "("}):
        with pytest.raises(Exception, match="400"):
            joor.admin.post("/faults", {"action": "arm", "faults": [spec]})


def test_random_faults_are_seeded_and_can_be_turned_off(joor: Joor) -> None:
    def run() -> list[int]:
        joor.admin.random_faults(0.5, seed=42, kinds=["status"], statuses=[503], path="/v4/traits")
        return [joor.get("/v4/traits").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second  # same seed, same sequence
    assert 503 in first and 200 in first
    joor.admin.random_faults(0.0)
    assert all(joor.get("/v4/traits").status_code == 200 for _ in range(10))
    assert joor.admin.stats()["faults_fired"]["random:status"] == 2 * first.count(503)


def test_faults_fire_before_credits_are_spent(joor: Joor, fresh_sandbox) -> None:
    fresh_sandbox.joor_admin.reset_stats()
    arm(joor, kind="status", status=503, path="/v4/traits", count=3)
    for _ in range(3):
        joor.get("/v4/traits")
    stats = joor.admin.stats()
    assert stats["credits_spent"] == 0 and stats["requests"]["GET /v4/traits"] == 3
    assert stats["statuses"] == {"503": 3}


def test_clock_advance_set_reset(joor: Joor) -> None:
    before = joor.admin.clock()
    moved = joor.admin.advance_clock(86_400)
    assert moved["offset_seconds"] >= 86_399 and moved["now"] > before["now"]
    assert joor.admin.set_clock("2030-01-01T00:00:00Z")["now"].startswith("2030-01-01T00:00")
    assert abs(joor.admin.reset_clock()["offset_seconds"]) < 1
    with pytest.raises(Exception, match="400"):
        joor.admin.post("/clock", {"set": "not a date"})


def test_reset_clears_faults_and_stats(joor: Joor, fresh_sandbox) -> None:
    arm(joor, kind="status", status=500, path="/v4/orders", count=5)
    joor.get("/v4/traits")
    fresh_sandbox.joor_admin.reset()
    assert joor.admin.faults()["faults"] == []
    assert joor.admin.stats()["total_requests"] == 0
    assert joor.get("/v4/orders").status_code == 200
