"""joor_amc_order_pull end to end: dag.test() against the sandboxes over real HTTP.

Expectations come from the sandbox's own seed flaws (``seed_flaw`` on each JOOR order), and
duplicates are counted in AMC per JOOR order number through the sandbox's inspection API.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

DAG_ID = "joor_amc_order_pull"
REASONS = {
    "unknown_sku": "not found in AMC",
    "unknown_customer": "customer code X-9001 not found in AMC",
    "pending_customer": "still pending with JOOR Data Services",
    "no_shipping_method": "missing shipping_method_code",
}


def joor_orders(sandbox) -> dict[str, dict]:
    """Every JOOR order by order number, as the sandbox holds it."""
    rows = sandbox.joor_admin.get("/joor/orders", lines="0")["orders"]
    return {str(o["order_number"]): o for o in rows}


def amc_po_counts(sandbox) -> Counter:
    return Counter(o.get("customer_po") for o in sandbox.amc_admin.orders())


def check_consistent(sandbox, status: str) -> dict[str, dict]:
    """Every pulled order of ``status``: SUCCESS <=> exactly one AMC order; FAILED <=> none, with a reason."""
    joor = joor_orders(sandbox)
    counts = amc_po_counts(sandbox)
    assert all(n == 1 for n in counts.values()), f"duplicates in AMC: {counts}"
    for number, o in joor.items():
        if o["status"] != status or o.get("seed_flaw") == "before_start":
            assert counts[number] == 0 and o["export_status"] == "UNDEFINED", number
            continue
        if o["export_status"] == "SUCCESS":
            assert counts[number] == 1, number
            assert o["export_description"].startswith("Imported into ApparelMagic as order")
        else:
            assert o["export_status"] == "FAILED" and counts[number] == 0, (number, o["export_status"])
            assert o["export_description"], number
    return joor


def test_approved_setting_imports_good_orders_fails_bad_ones_and_reruns_import_nothing_twice(run_dag, fresh_sandbox):
    result = run_dag(DAG_ID, settings={"order_type": "Approved"})
    # the run fails (alerting) only in the last task: every other task did its work
    assert result.state == "failed" and result.failed_tasks() == ["report"], result.task_states
    joor = check_consistent(fresh_sandbox, "APPROVED")
    approved = {n: o for n, o in joor.items() if o["status"] == "APPROVED" and o.get("seed_flaw") != "before_start"}
    for number, o in approved.items():
        flaw = o.get("seed_flaw")
        if flaw in REASONS:
            assert o["export_status"] == "FAILED" and REASONS[flaw] in o["export_description"], (number, o)
        elif flaw == "cancelled_line":
            assert o["export_status"] == "SUCCESS"
    success = [n for n, o in approved.items() if o["export_status"] == "SUCCESS"]
    assert len(success) >= 3
    # AMC orders carry the JOOR keys and the mapped header
    amc = {o["customer_po"]: o for o in fresh_sandbox.amc_admin.orders()}
    first = approved[success[0]]
    assert amc[success[0]]["joor_id"] == first["id"] and amc[success[0]]["source"] == "JOOR"
    y, m, d = first["start_ship_date"].split("-")
    assert amc[success[0]]["date_start"] == f"{m}/{d}/{y}"
    # one failure line per failed order, with the reason, in the report
    report = result.report
    failed_numbers = {f["key"] for f in report["failures"]}
    assert failed_numbers == {n for n, o in approved.items() if o["export_status"] == "FAILED"}
    assert report["counts"]["order"]["created"] == len(success)

    again = run_dag(DAG_ID)
    assert "created" not in again.report["counts"]["order"]
    assert again.report["counts"]["order"].get("export_failed_unchanged") == len(failed_numbers)
    assert amc_po_counts(fresh_sandbox) == Counter({n: 1 for n in success})
    check_consistent(fresh_sandbox, "APPROVED")


def test_shipped_setting_pulls_only_shipped_orders(run_dag, fresh_sandbox):
    result = run_dag(DAG_ID, settings={"order_type": "Shipped"})
    joor = check_consistent(fresh_sandbox, "SHIPPED")
    shipped = [n for n, o in joor.items() if o["status"] == "SHIPPED"]
    assert shipped and all(joor[n]["export_status"] in ("SUCCESS", "FAILED") for n in shipped)
    assert all(o["export_status"] == "UNDEFINED" for o in joor.values() if o["status"] == "APPROVED")
    assert result.report["counts"]["order"]["created"] >= 2


def test_start_date_setting_leaves_older_orders_alone(run_dag, fresh_sandbox):
    before = joor_orders(fresh_sandbox)
    approved = sorted((o["date_approved"], n) for n, o in before.items() if o["status"] == "APPROVED"
                      and o.get("seed_flaw") is None)
    cutoff = approved[len(approved) // 2][0][:10]
    run_dag(DAG_ID, settings={"order_type": "Approved", "order_start_date": cutoff})
    after = joor_orders(fresh_sandbox)
    for _approved_at, number in approved:
        o = after[number]
        if o["date_approved"][:10] < cutoff:
            assert o["export_status"] == "UNDEFINED" and amc_po_counts(fresh_sandbox)[number] == 0
        else:
            assert o["export_status"] in ("SUCCESS", "FAILED")


def test_a_fixed_failure_imports_on_the_next_run(run_dag, fresh_sandbox):
    run_dag(DAG_ID)
    joor = joor_orders(fresh_sandbox)
    number = next(n for n, o in joor.items() if o.get("seed_flaw") == "unknown_customer")
    assert joor[number]["export_status"] == "FAILED"
    # the merchandiser creates the customer in AMC with the JOOR code
    fresh_sandbox.amc_admin.create_customer(
        customer_name="Atlas Department Store", joor_customer_code="X-9001", account_number="ATLAS1",
        status="Active", division_id="1", warehouse_id="1", ar_acct="1200", currency_id="1", terms_id="1")
    second = run_dag(DAG_ID)
    assert joor_orders(fresh_sandbox)[number]["export_status"] == "SUCCESS"
    assert amc_po_counts(fresh_sandbox)[number] == 1
    assert second.report["counts"]["order"]["created"] == 1


def test_order_edited_after_export_is_reported_once_and_not_reimported(run_dag, fresh_sandbox):
    run_dag(DAG_ID)
    joor = joor_orders(fresh_sandbox)
    number, order = next((n, o) for n, o in joor.items() if o["export_status"] == "SUCCESS")
    time.sleep(1.1)  # JOOR stamps last_modified to the second: an edit in the write-back's second is invisible
    fresh_sandbox.joor_admin.post(f"/joor/orders/{order['id']}/edit", {"fields": {"comments": "add 6 more please"}})
    second = run_dag(DAG_ID)
    edited = [f for f in second.report["failures"] if f["key"] == number]
    assert len(edited) == 1 and "edited in JOOR" in edited[0]["reason"] and "by hand" in edited[0]["reason"]
    assert amc_po_counts(fresh_sandbox)[number] == 1
    third = run_dag(DAG_ID)
    assert not [f for f in third.report["failures"] if f["key"] == number]
    assert third.report["counts"]["order"].get("edited_after_export_known", 0) >= 1


def test_approval_range_reprocesses_exactly_that_window_idempotently(run_dag, fresh_sandbox):
    joor = joor_orders(fresh_sandbox)
    good = sorted((o["date_approved"][:10], n) for n, o in joor.items()
                  if o["status"] == "APPROVED" and o.get("seed_flaw") is None)
    day, number = good[0]
    conf = {"approved_from": day, "approved_to": day}
    first = run_dag(DAG_ID, conf)
    after = joor_orders(fresh_sandbox)
    in_window = {n for n, o in after.items() if o["status"] == "APPROVED" and (o["date_approved"] or "")[:10] == day}
    assert number in in_window
    touched = {n for n, o in after.items() if o["export_status"] != "UNDEFINED"}
    assert touched == in_window
    assert first.report["notes"]["scope"].startswith("orders approved in")
    again = run_dag(DAG_ID, conf)
    counts = again.report["counts"]["order"]
    assert "created" not in counts and counts.get("unchanged", 0) >= 1
    assert max(amc_po_counts(fresh_sandbox).values()) == 1


def test_dry_run_writes_nothing(run_dag, fresh_sandbox):
    result = run_dag(DAG_ID, {"dry_run": True})
    assert not fresh_sandbox.amc_admin.orders()
    assert all(o["export_status"] == "UNDEFINED" for o in joor_orders(fresh_sandbox).values())
    assert result.report["counts"]["order"]["dry_run"] >= 3


@pytest.mark.chaos
def test_amc_commit_then_fail_gives_exactly_one_order_and_success(run_dag, fresh_sandbox):
    fresh_sandbox.amc_admin.arm_fault("commit_then_fail", method="POST", path="/api/json/orders", count=2)
    run_dag(DAG_ID)
    joor = check_consistent(fresh_sandbox, "APPROVED")
    assert sum(1 for o in joor.values() if o["export_status"] == "SUCCESS") >= 3
    assert fresh_sandbox.amc_admin.stats()["faults_fired"]


@pytest.mark.chaos
def test_joor_500_after_bulk_update_committed_still_ends_exported(run_dag, fresh_sandbox):
    fresh_sandbox.joor_admin.arm_fault("commit_then_fail", method="POST", path="/v4/orders/bulk_update")
    result = run_dag(DAG_ID)
    assert result.task_states["write_back"] == "success"
    joor = check_consistent(fresh_sandbox, "APPROVED")
    assert sum(1 for o in joor.values() if o["export_status"] == "SUCCESS") >= 3


@pytest.mark.chaos
def test_amc_hang_past_timeout_never_duplicates(run_dag, fresh_sandbox, monkeypatch):
    import json

    from amc_joor_sandbox.connections import amc_connection

    conn = amc_connection(fresh_sandbox.amc_url)
    conn["extra"]["timeout"] = 1  # the AMC hook gives up on a reply after 1 s
    monkeypatch.setenv("AIRFLOW_CONN_AMC_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("AMC_JOOR_ORDER_UNCERTAIN_GRACE_SECONDS", "6")
    fresh_sandbox.amc_admin.arm_fault("hang", method="POST", path="/api/json/orders", seconds=3)
    first = run_dag(DAG_ID)
    hung = [f for f in first.report["failures"] if "did not confirm" in f["reason"]]
    assert len(hung) == 1, first.report["failures"]
    number = hung[0]["key"]
    assert joor_orders(fresh_sandbox)[number]["export_status"] == "FAILED"
    second = run_dag(DAG_ID)  # within the grace period: looked up, never re-sent
    assert amc_po_counts(fresh_sandbox)[number] <= 1
    if amc_po_counts(fresh_sandbox)[number] == 0:
        assert any(f["key"] == number and "earlier attempt" in f["reason"] for f in second.report["failures"])
    time.sleep(6)
    run_dag(DAG_ID)
    assert amc_po_counts(fresh_sandbox)[number] == 1
    assert joor_orders(fresh_sandbox)[number]["export_status"] == "SUCCESS"
    check_consistent(fresh_sandbox, "APPROVED")


@pytest.mark.chaos
def test_amc_outage_fails_the_import_loses_nothing_and_the_next_run_recovers(run_dag, fresh_sandbox, monkeypatch):
    monkeypatch.setenv("AMC_JOOR_RETRIES", "0")  # no Airflow task retries: see the failed run itself
    fresh_sandbox.amc_admin.arm_fault("status", status=500, method="GET", path="/api/json/orders", count=1000)
    down = run_dag(DAG_ID)
    assert down.state == "failed"
    assert down.task_states["import_orders[0]"] == "failed"
    assert down.task_states["write_back"] == "success" and down.task_states["report"] == "failed"
    assert any(f["entity"] == "run" and "import_orders" in f["key"] for f in down.report["failures"])
    assert not fresh_sandbox.amc_admin.orders()
    assert all(o["export_status"] != "SUCCESS" for o in joor_orders(fresh_sandbox).values())
    fresh_sandbox.amc_admin.clear_faults()
    up = run_dag(DAG_ID)
    assert up.task_states["import_orders[0]"] == "success"
    joor = check_consistent(fresh_sandbox, "APPROVED")
    assert sum(1 for o in joor.values() if o["export_status"] == "SUCCESS") >= 3
