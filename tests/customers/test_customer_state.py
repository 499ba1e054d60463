"""State rules of the customer sync on a real SQLite store: results, pending, watermark.

No servers: JOOR's job reply is plain data here (its exact shape is asserted against the
sandbox in the end-to-end tests).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from amc_joor import state
from amc_joor.flows import customer_mapping as cm
from amc_joor.flows import customers


@pytest.fixture
def engine(tmp_path):
    eng = state.get_engine(f"sqlite:///{tmp_path / 'state.db'}")
    yield eng
    eng.dispose()


def rec(code: str, cid: str, lmt: str, name: str = "Store") -> dict:
    payload = {"customer_code": code, "customer_name": name}
    return {"key": code, "customer_id": cid, "last_modified_time": lmt,
            "content_hash": cm.content_hash(payload), "payload": payload}


SUBMITTED = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def test_record_results_moves_state_only_for_passed(engine):
    records = [rec("C-1", "1", "2026-03-01T00:00:00Z"), rec("C-2", "2", "2026-03-02T00:00:00Z"),
               rec("C-3", "3", "2026-03-03T00:00:00Z")]
    job = {"status": "finished", "results": [
        {"customer_code": "C-1", "status": "success", "message": "pending", "connection_id": "9"},
        {"customer_code": "C-2", "status": "fail", "message": "customer_code already exists; use PUT"},
    ]}
    report = customers.record_results(engine, records, job, method="POST", job_id="j1", submitted_at=SUBMITTED)
    d = report.to_dict()
    assert d["counts"]["customer"] == {"created": 1, "failed": 2}
    reasons = {f["key"]: f["reason"] for f in d["failures"]}
    assert "JOOR rejected it: customer_code already exists" in reasons["C-2"]
    assert "returned no result" in reasons["C-3"]
    assert set(state.load_synced("customer", engine)) == {"C-1"}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(customers.customer_pending)).mappings().all()
    assert [(r["customer_code"], r["status"], r["job_id"]) for r in rows] == [("C-1", "pending", "j1")]

    # the watermark stops at the oldest unacknowledged customer (C-2), though C-3... also failed
    seen = [{"last_modified_time": r["last_modified_time"], "key": r["key"], "content_hash": r["content_hash"]}
            for r in records]
    old, new = customers.advance_watermark(engine, seen)
    assert (old, new) == (None, "2026-03-02T00:00:00Z")

    # a re-send later passes: pending keeps its first submission time, watermark moves to the newest
    job2 = {"status": "finished", "results": [
        {"customer_code": c, "status": "success", "message": "pending", "connection_id": "x"} for c in ("C-1", "C-2", "C-3")]}
    later = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    customers.record_results(engine, records, job2, method="POST", job_id="j2", submitted_at=later)
    with engine.connect() as conn:
        first = conn.execute(sa.select(customers.customer_pending.c.submitted_at)
                             .where(customers.customer_pending.c.customer_code == "C-1")).scalar_one()
    assert customers.aware(first) == SUBMITTED
    assert customers.advance_watermark(engine, seen) == ("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")


def test_validation_failures_hold_the_watermark_and_skips_do_not(engine):
    plan = cm.plan_customers(
        [{"customer_id": "1", "customer_name": "A", "joor_customer_code": "", "last_modified_time": "2026-03-01T00:00:00Z"},
         {"customer_id": "2", "customer_name": "N" * 101, "joor_customer_code": "C-2",
          "last_modified_time": "2026-03-02T00:00:00Z"},
         {"customer_id": "3", "customer_name": "C", "joor_customer_code": "C-3",
          "last_modified_time": "2026-03-03T00:00:00Z"}],
        [], {}, None, "USD")
    seen = customers.seen_rows(plan, [])
    state.record_synced("customer", [{"key": "C-3", "content_hash": plan.records[0]["content_hash"]}], engine)
    assert customers.advance_watermark(engine, seen)[1] == "2026-03-02T00:00:00Z"


def test_submit_batch_is_idempotent_per_batch(engine):
    sent: list[tuple[str, int]] = []

    class FakeJoor:  # pure bookkeeping stand-in: what was submitted, nothing else
        def submit_bulk_connection(self, payloads, update=False):
            sent.append(("PUT" if update else "POST", len(payloads)))
            return f"job-{len(sent)}"

    records = [rec("C-1", "1", "2026-03-01T00:00:00Z")]
    first = customers.submit_batch(FakeJoor(), engine, "run1/create-0000", "POST", records)
    again = customers.submit_batch(FakeJoor(), engine, "run1/create-0000", "POST", records)
    assert first["job_id"] == again["job_id"] == "job-1" and again["resumed"] and not first["resumed"]
    assert sent == [("POST", 1)]


def test_rejected_update_forgets_what_we_believed(engine):
    r = rec("C-9", "9", "2026-03-01T00:00:00Z")
    state.record_synced("customer", [{"key": "C-9", "content_hash": "old"}], engine)
    job = {"results": [{"customer_code": "C-9", "status": "fail", "message": "no connection with this customer_code"}]}
    report = customers.record_results(engine, [r], job, method="PUT", job_id="j", submitted_at=SUBMITTED)
    assert report.failed == 1 and "no connection" in report.failures[0].reason
    assert "C-9" not in state.load_synced("customer", engine)  # next run looks it up again
