"""AMC commits an order create after the order pull stopped waiting for it, then the next run.

The sandbox's ``orders_create_delay`` (AMC ``/_sandbox/config``) makes one create slow *and*
committed regardless of the client: ``commit: "after"`` — AMC commits only after our read
timeout and after our immediate look-ups (the order pull must not re-create it and must find
it next run); ``commit: "before"`` — committed at once, the reply arrives after our timeout
(the immediate look-up must find it). The generic ``hang`` fault cannot show either: it waits
before the handler reads the body, so a create the client gave up on is never committed.
"""

from __future__ import annotations

import json

import pytest

from amc_joor_sandbox.testing import wait_until
from orders.test_order_pull_dag import DAG_ID, amc_po_counts, check_consistent, joor_orders

pytestmark = pytest.mark.chaos


@pytest.fixture
def impatient_amc(run_dag, fresh_sandbox, monkeypatch):
    """run_dag with an AMC connection that gives up on a reply after 1 s."""
    from amc_joor_sandbox.connections import amc_connection

    conn = amc_connection(fresh_sandbox.amc_url)
    conn["extra"]["timeout"] = 1
    monkeypatch.setenv("AIRFLOW_CONN_AMC_DEFAULT", json.dumps(conn))
    return run_dag


def test_amc_commits_after_our_timeout_next_run_finds_it_once(impatient_amc, fresh_sandbox):
    sb = fresh_sandbox
    # committed ~4 s after the POST: after the 1 s timeout and the look-ups ~1 s apart
    sb.amc_admin.config(orders_create_delay={"seconds": 4, "commit": "after", "count": 1})
    first = impatient_amc(DAG_ID)
    hung = [f for f in first.report["failures"] if "did not confirm" in f["reason"]]
    assert len(hung) == 1, first.report["failures"]
    number = hung[0]["key"]
    assert joor_orders(sb)[number]["export_status"] == "FAILED"  # reported, not lost
    assert wait_until(lambda: amc_po_counts(sb)[number] == 1, timeout=15)  # AMC committed late

    second = impatient_amc(DAG_ID)
    assert amc_po_counts(sb)[number] == 1  # found, not created again
    assert joor_orders(sb)[number]["export_status"] == "SUCCESS"
    assert not [f for f in second.report["failures"] if f["key"] == number], second.report["failures"]
    check_consistent(sb, "APPROVED")


def test_amc_reply_after_our_timeout_is_found_in_the_same_run(impatient_amc, fresh_sandbox):
    sb = fresh_sandbox
    sb.amc_admin.config(orders_create_delay={"seconds": 3, "commit": "before", "count": 1})
    first = impatient_amc(DAG_ID)
    assert sb.amc_admin.config()["orders_create_delay"] is None  # one create did time out on us
    assert not [f for f in first.report["failures"] if "did not confirm" in f["reason"]], first.report["failures"]
    joor = check_consistent(sb, "APPROVED")  # every SUCCESS has exactly one AMC order
    assert sum(1 for o in joor.values() if o["export_status"] == "SUCCESS") >= 3
    again = impatient_amc(DAG_ID)
    assert "created" not in again.report["counts"]["order"]
    check_consistent(sb, "APPROVED")
