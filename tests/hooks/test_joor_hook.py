"""JoorHook against the JOOR sandbox over real HTTP: paging, bulk batching, tokens, faults,
the credit budget (429 storm with and without it, two processes sharing it), secrets."""

from __future__ import annotations

import base64
import inspect
import json
import logging
import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from amc_joor.budget import CreditBudget
from amc_joor.hooks.http import RetryPolicy
from amc_joor.hooks.joor import TOKENS, JoorApiError, JoorAuthError, JoorHook
from amc_joor_sandbox.connections import JOOR_CLIENT_SECRET, JOOR_V2_TOKEN, joor_connection
from amc_joor_sandbox.testing import wait_until

FAST = RetryPolicy(max_attempts=5, max_elapsed=30.0, backoff_initial=0.02, backoff_max=0.2, read_timeout=1.5,
                   rate_limit_max_wait=60.0)


def hook(conn_id: str, **kw) -> JoorHook:
    kw.setdefault("retry_policy", FAST)
    kw.setdefault("budget", None)
    return JoorHook(conn_id, **kw)


def stats(sandbox) -> dict:
    return sandbox.joor_admin.stats()


@pytest.fixture(autouse=True)
def _fresh_tokens():
    TOKENS._tokens.clear()
    yield
    TOKENS._tokens.clear()


@pytest.fixture
def budget_engine(tmp_path):
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'budget.db'}", connect_args={"timeout": 30})
    yield eng
    eng.dispose()


# --- connection, test button -------------------------------------------------------------------


def test_test_connection_true_with_good_credentials(joor_conn_id):
    ok, message = hook(joor_conn_id).test_connection()
    assert ok is True and "account 1001" in message


@pytest.mark.parametrize("broken", ["client_secret", "v2_token", "password"])
def test_test_connection_false_with_a_clear_message(fresh_sandbox, monkeypatch, broken):
    conn = joor_connection(fresh_sandbox.joor_url)
    bad = "definitely-wrong-value-42"
    if broken == "password":
        conn["password"] = bad
    else:
        conn["extra"][broken] = bad
    monkeypatch.setenv("AIRFLOW_CONN_JOOR_BAD", json.dumps(conn))
    ok, message = hook("joor_bad").test_connection()
    assert ok is False and "401" in message and bad not in message
    assert ("auth" in message) if broken != "v2_token" else ("/v2/connection" in message)


def test_connection_json_defaults_to_joor_hosts_when_host_is_blank(monkeypatch):
    for env, host in (("live", "https://api.jooraccess.com"), ("sandbox", "https://apisandbox.jooraccess.com")):
        monkeypatch.setenv("AIRFLOW_CONN_JOOR_HOSTS", json.dumps({
            "conn_type": "joor", "login": "u", "password": "p",
            "extra": {"environment": env, "account_id": "7", "v2_token": "t", "client_id": "c", "client_secret": "s"}}))
        cfg = JoorHook("joor_hosts").config
        assert (cfg.v2_base, cfg.v4_base) == (f"{host}/v2", f"{host}/v4")
        assert cfg.auth_url.startswith("https://atlas") and cfg.auth_url.endswith("/auth/")
        assert cfg.v4_bulk_max == 500 and cfg.v2_bulk_max == 1000


def test_connection_is_read_lazily():
    h = JoorHook("joor_does_not_exist_anywhere")  # no error until first use
    with pytest.raises(Exception, match="joor_does_not_exist_anywhere"):
        _ = h.config


# --- reads and paging --------------------------------------------------------------------------


def test_v4_paging_reads_every_order_once(joor_conn_id, fresh_sandbox):
    all_orders = fresh_sandbox.joor_admin.get("/joor/orders", lines="0")["orders"]
    got = list(hook(joor_conn_id, v4_page_size=3).iter_orders(with_line_items=False))
    assert len(got) == len({o.id for o in got}) == len(all_orders)


def test_orders_filtered_with_line_items(joor_conn_id, fresh_sandbox):
    h = hook(joor_conn_id, v4_page_size=2)
    approved = list(h.iter_orders(status=["APPROVED", "SHIPPED"], export_status=["UNDEFINED", "FAILED"]))
    assert approved and all(o.status in ("APPROVED", "SHIPPED") for o in approved)
    assert all(o.line_items for o in approved) and all(li.order_id == o.id for o in approved for li in o.line_items)
    ids = [o.id for o in approved[:2]]
    assert [o.id for o in h.iter_orders(order_ids=ids)] == ids


def test_v2_paging_reads_every_connection_once(joor_conn_id, fresh_sandbox):
    everyone = fresh_sandbox.joor_admin.get("/joor/connections")["connections"]
    got = list(hook(joor_conn_id, v2_page_count=2).iter_connections())
    assert len(got) == len({c.customer_code for c in got}) == len(everyone)
    h = hook(joor_conn_id)
    code = got[0].customer_code
    assert h.get_connection_by_code(code).connection_id == got[0].connection_id
    assert h.get_connection_by_id(got[0].connection_id).customer_code == code
    assert h.get_connection_by_code("NO-SUCH-CODE") is None


# --- bulk writes -------------------------------------------------------------------------------


def test_bulk_create_splits_batches_and_reports_each_item(joor_conn_id, fresh_sandbox):
    fresh_sandbox.joor_admin.config(max_v4_bulk_items=2)
    h = hook(joor_conn_id, v4_bulk_max_items=2)
    items = [{"name": f"Style {i}", "external_id": f"EXT-{i}"} for i in range(5)]
    items[3] = {"external_id": "EXT-3"}  # no name: INVALID
    first = h.bulk_create_products(items)
    assert [r.ok for r in first] == [True, True, True, False, True]
    assert first[3].error_code == "INVALID" and "name" in first[3].message
    assert stats(fresh_sandbox)["requests"]["POST /v4/products/bulk_create"] == 3
    again = h.bulk_create_products(items[:2])  # a replayed batch: DUPLICATED with the existing id
    assert [(r.ok, r.error_code, r.id) for r in again] == [(False, "DUPLICATED", first[0].id),
                                                           (False, "DUPLICATED", first[1].id)]
    assert {p.external_id for p in h.iter_products(external_ids=["EXT-0", "EXT-4"])} == {"EXT-0", "EXT-4"}


def test_a_batch_above_the_server_limit_is_a_clear_413(joor_conn_id, fresh_sandbox):
    fresh_sandbox.joor_admin.config(max_v4_bulk_items=2)
    with pytest.raises(JoorApiError) as info:
        hook(joor_conn_id, v4_bulk_max_items=3).bulk_create_products(
            [{"name": "x", "external_id": f"Z{i}"} for i in range(3)])
    assert info.value.status == 413 and "split" in str(info.value)


def test_bulk_inventory_never_overwrites(joor_conn_id, fresh_sandbox):
    assert "overwrite" not in inspect.signature(JoorHook.bulk_inventory).parameters
    h = hook(joor_conn_id, v2_bulk_max_items=2)
    res = h.bulk_inventory([
        {"warehouse": "Main Warehouse", "upc": "000000000000", "inventory": 3},
        {"warehouse": "Nowhere", "upc": "000000000001", "inventory": 3},
        {"warehouse": "Main Warehouse", "style_number": "X", "color_code": "Y", "size": "Z", "inventory": 1},
    ])
    assert [r.index for r in res] == [0, 1, 2] and not any(r.ok for r in res)
    assert res[1].message == "unknown warehouse" and res[0].get("status") == "fail"
    calls = fresh_sandbox.joor_admin.get("/joor/inventory")["calls"]
    assert len(calls) == 2 and not any(c["overwrite"] for c in calls)


def test_bulk_connection_job_round_trip(joor_conn_id):
    h = hook(joor_conn_id)
    job_id = h.submit_bulk_connection([{"customer_code": "NEW-1", "customer_name": "New Shop"},
                                       {"customer_code": "NEW-1", "customer_name": "Twice"}])
    job = h.wait_bulk_connection_job(job_id, timeout=30, poll=0.2)
    assert job.finished and [r["status"] for r in job.results] == ["success", "fail"]
    assert h.get_connection_by_code("NEW-1").status == "pending"


def test_export_status_write_back_per_order(joor_conn_id, fresh_sandbox):
    h = hook(joor_conn_id)
    order = next(h.iter_orders(status="APPROVED", with_line_items=False))
    fresh_sandbox.joor_admin.arm_fault("status", status=503, method="POST", path="/v4/orders/bulk_update")
    res = h.update_export_status([{"id": order.id, "export_status": "FAILED", "export_description": "unknown SKU"},
                                  {"id": "424242", "export_status": "SUCCESS"}])
    assert [(r.ok, r.error_code) for r in res] == [(True, None), (False, "NOT_FOUND")]
    after = fresh_sandbox.joor_admin.get(f"/joor/orders/{order.id}")
    assert after["export_status"] == "FAILED" and after["export_description"] == "unknown SKU"
    with pytest.raises(ValueError):
        h.update_export_status([{"id": order.id, "export_status": "DONE"}])


# --- tokens ------------------------------------------------------------------------------------


def test_token_is_cached_and_renewed_once_on_401(joor_conn_id, fresh_sandbox):
    hook(joor_conn_id).list_traits()
    hook(joor_conn_id).list_price_types()  # a second hook in the same process reuses the token
    assert stats(fresh_sandbox)["requests"]["POST /auth/"] == 1
    fresh_sandbox.joor_admin.post("/joor/tokens/expire")
    assert hook(joor_conn_id).list_traits()
    s = stats(fresh_sandbox)
    assert s["requests"]["POST /auth/"] == 2 and s["statuses"].get("401") == 1


def test_token_renewed_before_expiry(joor_conn_id, fresh_sandbox):
    fresh_sandbox.joor_admin.config(token_expires_in=3)
    h = hook(joor_conn_id)
    first = h.access_token()
    time.sleep(1.6)  # past the renewal margin (half of a 3 s lifetime), before expiry
    h.list_traits()
    assert h.access_token() != first and "401" not in stats(fresh_sandbox)["statuses"]


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 502, "count": 3},
        {"kind": "status", "status": 429, "retry_after": 1},
        {"kind": "hang", "seconds": 4},
        {"kind": "drop", "count": 2},
        {"kind": "malformed"},
    ],
    ids=["5xx-burst", "429-retry-after", "hang", "drop", "malformed"],
)
def test_each_fault_kind_is_survived(joor_conn_id, fresh_sandbox, fault):
    h = hook(joor_conn_id)
    h.access_token()  # faults aimed at the API, not the auth endpoint
    fresh_sandbox.joor_admin.arm_fault(method="GET", path="/v4/price_types", **fault)
    t0 = time.monotonic()
    assert len(h.list_price_types()) == 4
    if fault["kind"] == "status" and fault["status"] == 429:
        assert time.monotonic() - t0 >= 1.0


def test_persistent_4xx_raises_at_once_with_joors_message(joor_conn_id, fresh_sandbox):
    with pytest.raises(JoorApiError) as info:
        hook(joor_conn_id).request_v4("GET", "orders", {"status": "NONSENSE"})
    assert info.value.status == 400 and "unknown order status" in str(info.value)
    assert stats(fresh_sandbox)["requests"]["GET /v4/orders"] == 1


# --- the credit budget -------------------------------------------------------------------------


def storm(h: JoorHook, n: int) -> float:
    t0 = time.monotonic()
    for _ in range(n):
        h.list_traits()
    return time.monotonic() - t0


def test_429_storm_without_the_budget_is_waited_out(joor_conn_id, fresh_sandbox):
    fresh_sandbox.joor_admin.config(credits_per_window=10, window_seconds=2)
    storm(hook(joor_conn_id), 25)  # never raises: each 429 waits for Retry-After
    s = stats(fresh_sandbox)
    assert s["responses_429"] > 0 and s["max_credits_in_window"] <= 10


def test_429_storm_with_the_budget_sends_no_429(joor_conn_id, fresh_sandbox, budget_engine):
    fresh_sandbox.joor_admin.config(credits_per_window=10, window_seconds=2)
    budget = CreditBudget(account="1001", limit=10, window_seconds=2, reserve=0, engine=budget_engine)
    elapsed = storm(hook(joor_conn_id, budget=budget), 25)
    s = stats(fresh_sandbox)
    assert s["responses_429"] == 0 and s["max_credits_in_window"] <= 10 and s["credits_spent"] == 25
    assert elapsed >= 4.0  # 25 credits at 10 per 2 s window: it waited for two resets


def test_client_limit_above_the_servers_paces_to_the_server_instead_of_stalling(
        joor_conn_id, fresh_sandbox, budget_engine):
    """The connection says 300 credits (raised), the account still allows 10 per 2 s window: the
    budget follows the server's headers (no 429s) and keeps its pace (no one-call-per-window stall)."""
    fresh_sandbox.joor_admin.config(credits_per_window=10, window_seconds=2)
    budget = CreditBudget(account="1001", limit=300, window_seconds=300, reserve=30, engine=budget_engine)
    elapsed = storm(hook(joor_conn_id, budget=budget), 25)
    s = stats(fresh_sandbox)
    assert s["credits_spent"] == 25 and s["max_credits_in_window"] <= 10
    assert s["responses_429"] <= 1  # at most the very first window, before any header was seen
    assert elapsed < 12.0  # 25 credits at 9 (10 less the scaled reserve) per 2 s: ~3 windows, not ~25
    assert budget.effective_limit() == 10


def test_a_sandbox_without_rate_limit_does_not_pace_a_budgeted_client(joor_conn_id, fresh_sandbox, budget_engine):
    """Rate limit off (benches, multi-run tests): more than the sandbox's nominal 300 credits in
    one of its 300 s windows must go straight through a budget configured above that."""
    fresh_sandbox.joor_admin.config(rate_limit_enabled=False)
    budget = CreditBudget(account="1001", limit=100_000, window_seconds=300, reserve=0, engine=budget_engine,
                          max_wait=3)
    storm(hook(joor_conn_id, budget=budget), 320)  # a paced client would raise BudgetTimeout here
    assert stats(fresh_sandbox)["credits_spent"] == 320 and budget.effective_limit() == 100_000


def test_priority_lane_gets_the_reserve(joor_conn_id, fresh_sandbox, budget_engine):
    fresh_sandbox.joor_admin.config(credits_per_window=10, window_seconds=30)
    normal = CreditBudget(account="1001", limit=10, window_seconds=30, reserve=4, engine=budget_engine, max_wait=1)
    catalog = hook(joor_conn_id, budget=normal)
    for _ in range(6):
        catalog.list_traits()
    with pytest.raises(JoorApiError) as info:
        catalog.list_traits()  # the catalog push would have to wait for the next window
    assert info.value.kind == "budget"
    orders = hook(joor_conn_id, budget=normal, priority=True)
    for _ in range(4):
        orders.list_traits()  # the order pull still runs now
    assert stats(fresh_sandbox)["responses_429"] == 0


WORKER = r"""
import json, os, sys
from amc_joor.hooks.joor import JoorHook
from amc_joor.hooks.http import RetryPolicy
h = JoorHook("joor_test", retry_policy=RetryPolicy(backoff_initial=0.02, backoff_max=0.2), priority=sys.argv[1] == "1")
order_id = sys.argv[2]
for i in range(12):
    h.list_traits()
    if i % 3 == 0:
        h.update_export_status([{"id": order_id, "export_status": "FAILED", "export_description": f"w{i}"}])
print(json.dumps(h.budget.snapshot()))
"""


def test_two_processes_share_one_budget_and_never_exceed_a_window(joor_conn_id, fresh_sandbox, tmp_path):
    limit, window = 30, 2
    fresh_sandbox.joor_admin.config(credits_per_window=limit, window_seconds=window)
    order_id = next(hook(joor_conn_id).iter_orders(with_line_items=False)).id
    time.sleep(window + 0.2)  # let the window our lookup opened run out
    env = {**os.environ, "AMC_JOOR_STATE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
           "AMC_JOOR_JOOR_CREDIT_LIMIT": str(limit), "AMC_JOOR_JOOR_CREDIT_WINDOW_SECONDS": str(window),
           "AMC_JOOR_JOOR_CREDIT_RESERVE": "5"}
    fresh_sandbox.joor_admin.reset_stats()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, lane, order_id], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for lane in ("0", "1")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    s = stats(fresh_sandbox)
    spent = 2 * (12 * 1 + 4 * 5)
    assert s["credits_spent"] >= spent  # + token-less auth is free; nothing lost
    assert s["responses_429"] == 0 and s["max_credits_in_window"] <= limit and s["windows_started"] >= 3


# --- secrets -----------------------------------------------------------------------------------


def test_secrets_absent_from_logs_and_errors(fresh_sandbox, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    good = joor_connection(fresh_sandbox.joor_url)
    monkeypatch.setenv("AIRFLOW_CONN_JOOR_GOOD", json.dumps(good))
    bad = json.loads(json.dumps(good))
    bad["extra"]["v2_token"] = "wrong-v2-token-zzz"
    bad["extra"]["client_secret"] = "wrong-secret-zzz"
    monkeypatch.setenv("AIRFLOW_CONN_JOOR_WRONG", json.dumps(bad))
    h = hook("joor_good")
    h.list_traits()
    list(h.iter_connections())
    access = h.access_token()
    fresh_sandbox.joor_admin.post("/joor/tokens/expire")
    h.list_traits()
    errors = []
    for call in (lambda: hook("joor_wrong").list_traits(), lambda: hook("joor_wrong").get_connection_by_code("C-0001")):
        with pytest.raises(JoorAuthError) as info:
            call()
        errors.append(str(info.value) + repr(info.value))
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err + "".join(errors)
    assert "JOOR" in caplog.text  # request logs were captured
    for secret in (JOOR_V2_TOKEN, base64.b64encode(JOOR_V2_TOKEN.encode()).decode(), JOOR_CLIENT_SECRET, access,
                   "wrong-v2-token-zzz", "wrong-secret-zzz"):
        assert secret not in text, secret


def test_budget_enabled_by_default_from_connection_extras(fresh_sandbox, monkeypatch, tmp_path):
    monkeypatch.setenv("AMC_JOOR_STATE_URL", f"sqlite:///{tmp_path / 's.db'}")
    conn = joor_connection(fresh_sandbox.joor_url)
    conn["extra"].update(credit_limit=50, credit_window_seconds=60, credit_reserve=7)
    monkeypatch.setenv("AIRFLOW_CONN_JOOR_B", json.dumps(conn))
    h = JoorHook("joor_b")
    h.list_traits()
    b = h.budget
    assert (b.account, b.limit, b.window_seconds, b.reserve) == ("1001", 50, 60.0, 7)
    assert wait_until(lambda: b.snapshot()["used"] >= 1, timeout=2)


# --- retry safety of bulk writes, secret masker -------------------------------------------------


def test_create_without_external_ids_is_not_replayed_after_an_ambiguous_failure(joor_conn_id, fresh_sandbox):
    h = hook(joor_conn_id)
    fresh_sandbox.joor_admin.arm_fault("commit_then_fail", method="POST", path="/v4/products/bulk_create")
    with pytest.raises(JoorApiError) as info:
        h.bulk_create_products([{"name": "No external id"}])
    assert info.value.ambiguous and info.value.status == 500
    assert stats(fresh_sandbox)["requests"]["POST /v4/products/bulk_create"] == 1


def test_create_with_external_ids_is_replayed_and_reports_duplicated(joor_conn_id, fresh_sandbox):
    h = hook(joor_conn_id)
    fresh_sandbox.joor_admin.arm_fault("drop", phase="after", method="POST", path="/v4/products/bulk_create")
    res = h.bulk_create_products([{"name": "Keyed", "external_id": "KEY-1"}])
    assert [(r.ok, r.error_code) for r in res] == [(False, "DUPLICATED")] and res[0].id  # the caller keeps the id
    assert len(list(h.iter_products(external_ids=["KEY-1"]))) == 1


def test_credentials_are_registered_with_airflows_secret_masker(joor_conn_id):
    from airflow.sdk._shared.secrets_masker.secrets_masker import redact

    h = hook(joor_conn_id)
    token = h.access_token()
    for secret in (JOOR_V2_TOKEN, JOOR_CLIENT_SECRET, token):
        assert secret not in str(redact(f"value={secret}"))
