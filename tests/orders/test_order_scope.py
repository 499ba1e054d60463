"""Pure run-scope and triage rules of the order pull."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from amc_joor.flows import orders

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def test_scheduled_run_takes_all_pending_regardless_of_interval():
    scope = orders.scope_from_params({}, run_type="scheduled", interval_start=T0, interval_end=T1)
    assert scope.mode == "pending" and scope.approved_from is None and not scope.window.is_range


def test_backfill_run_uses_its_data_interval_as_the_approval_window():
    from airflow.utils.types import DagRunType

    for run_type in ("backfill", DagRunType.BACKFILL_JOB):
        scope = orders.scope_from_params({}, run_type=run_type, interval_start=T0, interval_end=T1)
        assert (scope.mode, scope.approved_from, scope.approved_to) == ("range", T0, T1)
    manual = orders.scope_from_params({}, run_type=DagRunType.MANUAL, interval_start=T0, interval_end=T1)
    assert manual.mode == "pending"


def test_manual_range_is_inclusive_of_the_end_date():
    scope = orders.scope_from_params({"approved_from": "2026-03-01", "approved_to": "2026-03-02"}, run_type="manual")
    assert scope.approved_from == datetime(2026, 3, 1, tzinfo=UTC)
    assert scope.approved_to == datetime(2026, 3, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="before approved_from"):
        orders.scope_from_params({"approved_from": "2026-03-05", "approved_to": "2026-03-02"})


def test_order_ids_win_and_accept_commas_and_lines():
    scope = orders.scope_from_params({"order_ids": "5000001, 5000002\n5000003", "dry_run": True})
    assert scope.mode == "ids" and scope.order_ids == ("5000001", "5000002", "5000003") and scope.dry_run


def o(oid, **kw):
    base = {"id": oid, "order_number": f"N{oid}", "status": "APPROVED", "date_approved": "2026-03-02T10:00:00Z",
            "last_modified": "2026-03-02T10:00:00Z", "export_status": "UNDEFINED"}
    base.update(kw)
    return base


def test_triage_sorts_candidates_skips_edited_and_resend():
    ledger = {
        "2": {"state": "exported", "joor_last_modified": "2026-03-02T10:00:00Z", "amc_order_id": "70001"},
        "3": {"state": "exported", "joor_last_modified": "2026-03-02T10:00:00Z", "amc_order_id": "70002"},
        "4": {"state": "exported", "joor_last_modified": "2026-03-02T10:00:00Z", "amc_order_id": "70003"},
        "5": {"state": "failed"},
    }
    fetched = [
        o("1"),
        o("2", export_status="SUCCESS"),  # exported, untouched
        o("3", last_modified="2026-03-04T08:00:00Z", export_status="SUCCESS"),  # edited after export
        o("4", export_status="UNDEFINED"),  # JOOR lost our SUCCESS
        o("5", export_status="FAILED"),  # failed before: retried
        o("6", status="PENDING"),
        o("7", date_approved="2025-12-01T00:00:00Z"),
        o("1"),  # duplicate row from two filtered reads
    ]
    scope = orders.RunScope("range", approved_from=datetime(2026, 1, 1, tzinfo=UTC))
    c = orders.triage(fetched, ledger, status="APPROVED", start=date(2026, 1, 1), scope=scope)
    assert [x["id"] for x in c.orders] == ["1", "5"]
    assert c.unchanged == 1
    assert [e["joor_id"] for e in c.edited] == ["3"] and c.edited[0]["amc_order_id"] == "70002"
    assert [r["joor_id"] for r in c.resend] == ["4"]
    assert {s["joor_id"]: s["reason"].split(" ")[0] for s in c.skipped} == {"6": "status", "7": "approved"}


def test_write_back_description_is_bounded():
    long = "SKU X not found; " * 100
    assert len(orders.description(long)) <= orders.MAX_DESCRIPTION
