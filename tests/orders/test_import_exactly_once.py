"""Exactly-once import into AMC against the sandbox, over real HTTP, with injected faults.

Each test counts AMC orders per JOOR order number through the sandbox's inspection API.
"""

from __future__ import annotations

import time

import pytest

from amc_joor.flows import order_mapping as om
from amc_joor.flows import orders


@pytest.fixture
def env(fresh_sandbox, tmp_path, monkeypatch):
    from amc_joor_sandbox.connections import connection_env

    for k, v in connection_env(fresh_sandbox.amc_url, fresh_sandbox.joor_url).items():
        monkeypatch.setenv(k, v)
    from amc_joor.state import get_engine

    return fresh_sandbox, get_engine(f"sqlite:///{tmp_path / 'state.db'}")


def amc_hook(timeout: float | None = None):
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.http import RetryPolicy

    return AmcHook(retry_policy=RetryPolicy(max_attempts=3, backoff_initial=0.05, backoff_max=0.2,
                                            read_timeout=timeout or 30.0))


def make_plan(amc, number: str) -> dict:
    """A mappable plan for a real AMC customer and SKU of the small data set."""
    lookups = orders.load_lookups(amc)
    cust = next(c for rows in lookups.customers.by_code.values() for c in rows
                if c.get("status") == "Active" and all(c.get(k) for k in ("division_id", "warehouse_id", "ar_acct",
                                                                         "currency_id")) and len(rows) == 1)
    sku = next(s for s in lookups.skus.by_id.values() if om.flag(s.get("active")))
    order = {"id": f"9{number}", "order_number": number, "status": "APPROVED",
             "customer_code": cust["joor_customer_code"], "date_approved": "2026-03-02T10:00:00Z",
             "start_ship_date": "2026-04-01", "complete_ship_date": "2026-04-30", "payment_method_code": "NET30",
             "shipping_method_code": "UPS_GROUND", "warehouse": "Main Warehouse", "sales_rep_code": "REP-01",
             "billing_address": {"code": "B"}, "shipping_address": {"code": "S", "address_1": "1 Main St"}}
    line = {"id": "1", "quantity": 6, "cancelled": False,
            "line_item_sku": {"external_id": sku["sku_id"], "wholesale_price": "12.50"}}
    plan = om.plan_order(order, [line], lookups, om.MappingSettings())
    assert plan.ok, plan.reasons
    return orders.plan_dict(plan, order)


def amc_count(sandbox, number: str) -> int:
    return sum(1 for o in sandbox.amc_admin.orders() if o.get("customer_po") == number)


def test_create_then_rerun_imports_nothing_twice(env):
    sandbox, engine = env
    amc = amc_hook()
    plan = make_plan(amc, "J-1")
    first = orders.import_order(amc, plan, engine, "r1")
    assert first.outcome == "created" and first.amc_order_id
    again = orders.import_order(amc, plan, engine, "r2")
    assert again.outcome == "already" and again.amc_order_id == first.amc_order_id
    # state store lost: the AMC lookup still prevents a second order
    with engine.begin() as conn:
        conn.execute(orders.order_ledger.delete())
    lost = orders.import_order(amc, plan, engine, "r3")
    assert lost.outcome == "existing" and lost.amc_order_id == first.amc_order_id
    assert amc_count(sandbox, "J-1") == 1
    row = orders.ledger_load([plan["joor_id"]], engine)[plan["joor_id"]]
    assert row["state"] == orders.IMPORTED and row["amc_order_id"] == first.amc_order_id


@pytest.mark.chaos
def test_commit_then_fail_on_create_gives_exactly_one_order(env):
    sandbox, engine = env
    amc = amc_hook()
    plan = make_plan(amc, "J-2")
    sandbox.amc_admin.arm_fault("commit_then_fail", method="POST", path="/api/json/orders")
    out = orders.import_order(amc, plan, engine, "r1")
    assert out.outcome == "created", out.reason  # found by the lookup after the ambiguous 500
    assert amc_count(sandbox, "J-2") == 1
    assert orders.import_order(amc, plan, engine, "r2").outcome == "already"
    assert amc_count(sandbox, "J-2") == 1


@pytest.mark.chaos
def test_amc_hang_past_timeout_is_never_recreated(env):
    sandbox, engine = env
    amc = amc_hook(timeout=1.0)
    plan = make_plan(amc, "J-3")
    # the create hangs 3 s; the client gives up after 1 s (whether AMC then commits or not)
    sandbox.amc_admin.arm_fault("hang", method="POST", path="/api/json/orders", seconds=3)
    out = orders.import_order(amc, plan, engine, "r1", lookup_retry_delay=0.2)
    assert out.outcome == "uncertain"
    row = orders.ledger_load([plan["joor_id"]], engine)[plan["joor_id"]]
    assert row["state"] == orders.IMPORTING and row["uncertain_since"] is not None
    # a task retry right away must not create it again while AMC may still be committing
    retry = orders.import_order(amc, plan, engine, "r1-retry")
    assert retry.outcome in ("uncertain", "existing")
    time.sleep(3.5)  # the hung request has finished, one way or the other
    committed = amc_count(sandbox, "J-3")
    assert committed <= 1
    # the next run after the grace period: found if AMC committed it, created once if not
    later = orders.import_order(amc, plan, engine, "r2", grace_seconds=0)
    assert later.outcome == ("existing" if committed else "created")
    assert orders.import_order(amc, plan, engine, "r3", grace_seconds=0).outcome == "already"
    assert amc_count(sandbox, "J-3") == 1


@pytest.mark.chaos
def test_uncertain_create_is_recreated_only_after_the_grace_period(env):
    sandbox, engine = env
    amc = amc_hook()
    plan = make_plan(amc, "J-4")
    # a drop before AMC processed anything: ambiguous to the client, nothing created
    sandbox.amc_admin.arm_fault("drop", method="POST", path="/api/json/orders")
    out = orders.import_order(amc, plan, engine, "r1", lookup_retry_delay=0.05)
    assert out.outcome == "uncertain" and amc_count(sandbox, "J-4") == 0
    assert orders.import_order(amc, plan, engine, "r2").outcome == "uncertain"
    done = orders.import_order(amc, plan, engine, "r3", grace_seconds=0)
    assert done.outcome == "created" and amc_count(sandbox, "J-4") == 1


def test_amc_rejection_is_a_failed_order_with_amcs_reason(env):
    sandbox, engine = env
    amc = amc_hook()
    plan = make_plan(amc, "J-5")
    plan["payload"]["items"][0]["sku_id"] = "424242"  # passed mapping, then deleted in AMC
    out = orders.import_order(amc, plan, engine, "r1")
    assert out.outcome == "failed" and "424242" in out.reason and out.reason.startswith("AMC rejected the order")
    assert orders.ledger_load([plan["joor_id"]], engine)[plan["joor_id"]]["state"] == orders.FAILED
    assert amc_count(sandbox, "J-5") == 0
