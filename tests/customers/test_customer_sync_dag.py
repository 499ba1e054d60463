"""amc_joor_customer_sync end to end: dag.test() against the sandbox APIs over real HTTP.

Covers: the initial load (upload CSV columns, ≤ joor_v2_bulk_max per job, the JOOR job awaited
through a deferral that dag.test runs inline), incremental updates, duplicate and missing JOOR
codes, length errors holding the watermark, and the Data Services wait across a weekend with
the sandbox's movable clock (SLA inside → fine; past → check_sla fails).

The SLA clock: the DAG reads ``AMC_JOOR_NOW`` (one place: customer_mapping.now_utc); tests
move it together with the sandbox clock, so "now" is the same moment on both sides.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from amc_joor import staging, state
from amc_joor.flows import customer_mapping as cm
from amc_joor.flows import customers
from amc_joor_sandbox.datasets import build_world

DAG_ID = "amc_joor_customer_sync"
FAST = {"customer_job_poll_seconds": 0.2, "customer_job_timeout_minutes": 2}

pytestmark = pytest.mark.timeout(300)


def amc_customers() -> list[dict]:
    return build_world("small", 1).amc.customers


def joor_connections(sb) -> dict[str, dict]:
    return {c["customer_code"]: c for c in sb.joor_admin.get("/joor/connections")["connections"]}


def bulk_jobs(sb) -> list[dict]:
    return sb.joor_admin.get("/joor/bulk-jobs")["jobs"]


def engine(run_dag):
    return state.get_engine(run_dag.state_url)


def move_clock(sb, monkeypatch, iso: str) -> None:
    """One 'now' for both sides: the sandbox clock (JOOR + AMC) and the DAG's SLA clock."""
    sb.joor_admin.set_clock(iso)
    monkeypatch.setenv(cm.NOW_ENV, iso)


@pytest.fixture
def sb(run_dag):
    sandbox = run_dag.sandbox
    sandbox.amc_admin.config(max_time_skew_seconds=10**9)  # the tests move the clock by days
    return sandbox


def test_initial_dry_run_stages_the_upload_csv_and_sends_nothing(run_dag, sb):
    result = run_dag(DAG_ID, {"mode": "initial", "dry_run": True}, settings=FAST)
    assert result.ok, result.task_states
    coded = sorted(c["joor_customer_code"] for c in amc_customers() if c["joor_customer_code"])
    url = staging.stage_path(DAG_ID, result.run_id, "plan", "upload.csv")
    rows = list(csv.DictReader(io.StringIO(staging.read_bytes(url).decode())))
    assert list(rows[0]) == list(cm.CSV_COLUMNS)
    assert sorted({r["customer_code"] for r in rows}) == coded
    assert all(r["customer_name"] and r["currency"] and r["price_label"].endswith("-1") for r in rows)
    counts = result.report["counts"]["customer"]
    assert counts["skipped_no_code"] == 1 and counts["would_create"] + counts["would_update"] == len(coded)
    assert bulk_jobs(sb) == []
    assert state.get_watermark(customers.WATERMARK, engine(run_dag)) is None


def test_initial_load_submits_jobs_awaits_them_deferred_and_tracks_new_customers(run_dag, sb):
    before = joor_connections(sb)
    result = run_dag(DAG_ID, {"mode": "initial"}, settings={**FAST, "joor_v2_bulk_max": 4})
    assert result.ok, result.task_states
    pushes = {k: v for k, v in result.task_states.items() if k.startswith("push[")}
    assert len(pushes) >= 3 and set(pushes.values()) == {"success"}
    jobs = bulk_jobs(sb)
    assert len(jobs) == len(pushes) and all(len(j["results"]) <= 4 for j in jobs)
    # the deferral really waited: every job was read until finished (the sandbox needs >= 2 reads)
    assert all(j["status"] == "finished" and j["reads"] >= 2 for j in jobs)

    after = joor_connections(sb)
    coded = {c["joor_customer_code"]: c for c in amc_customers() if c["joor_customer_code"]}
    assert set(coded) <= set(after)
    new = sorted(set(coded) - set(before))
    assert new and all(after[c]["status"] == "pending" for c in new)
    counts = result.report["counts"]["customer"]
    assert counts["created"] == len(new) and counts["updated"] == len(coded) - len(new)
    assert after["C-0002"]["shipping_addresses"][0]["code"].isdigit()  # AMC ship-to id

    eng = engine(run_dag)
    with eng.connect() as conn:
        pending = {r.customer_code for r in conn.execute(customers.customer_pending.select())}
    assert pending == set(new)
    assert result.report["notes"]["waiting_for_data_services"] == len(new)
    newest = max(c["last_modified_time"] for c in amc_customers())
    assert state.get_watermark(customers.WATERMARK, eng) == newest

    # nothing changed: the next incremental run sends nothing
    again = run_dag(DAG_ID, {}, settings=FAST)
    assert again.ok, again.task_states
    assert len(bulk_jobs(sb)) == len(jobs)


def test_incremental_updates_existing_and_creates_new(run_dag, sb):
    assert run_dag(DAG_ID, {"mode": "initial"}, settings=FAST).ok
    jobs_before = len(bulk_jobs(sb))
    sb.amc_admin.edit_customer("2001", email="new-buyer@bloom.example")
    sb.amc_admin.create_customer(customer_name="Fresh Boutique", joor_customer_code="N-0001", currency_id="2",
                                 price_group="Wholesale EUR", city="Paris", country="FR")
    result = run_dag(DAG_ID, {}, settings=FAST)
    assert result.ok, result.task_states
    counts = result.report["counts"]["customer"]
    assert counts.get("updated") == 1 and counts.get("created") == 1
    conns = joor_connections(sb)
    assert conns["N-0001"]["status"] == "pending" and conns["N-0001"]["price_label"] == "EUR-1"
    assert conns["C-0001"]["customer_contact_email"] == "new-buyer@bloom.example"
    methods = sorted(j["mode"] for j in bulk_jobs(sb)[jobs_before:])
    assert len(methods) == 2 and methods[0] != methods[1]


def test_duplicate_and_missing_codes_reported_neither_sent(run_dag, sb):
    before = joor_connections(sb)
    sb.amc_admin.edit_customer("2002", joor_customer_code="C-0001")
    result = run_dag(DAG_ID, {}, settings=FAST)
    assert result.state == "failed" and result.only_records_failed, result.task_states
    dup = [f for f in result.report["failures"] if f["key"] == "C-0001"]
    assert len(dup) == 2 and all("2001, 2002" in f["reason"] for f in dup)
    assert result.report["counts"]["customer"]["skipped_no_code"] == 1
    assert result.report["notes"]["duplicate_codes"] == {"C-0001": ["2001", "2002"]}
    assert joor_connections(sb)["C-0001"]["date_modified"] == before["C-0001"]["date_modified"]
    assert "C-0002" not in state.load_synced("customer", engine(run_dag))


def test_incremental_catches_a_duplicate_with_an_unchanged_customer(run_dag, sb):
    assert run_dag(DAG_ID, {"mode": "initial"}, settings=FAST).ok
    before = joor_connections(sb)
    sb.joor_admin.advance_clock(60)
    sb.amc_admin.edit_customer("2002", joor_customer_code="C-0001")  # 2001 (unchanged) holds C-0001
    result = run_dag(DAG_ID, {}, settings=FAST)
    assert result.state == "failed" and result.only_records_failed, result.task_states
    # only the changed customer (and the one at the watermark itself: the filter is >=) was read
    assert result.report["counts"]["customer"]["read"] <= 2
    assert result.report["notes"]["duplicate_codes"] == {"C-0001": ["2001", "2002"]}
    assert joor_connections(sb)["C-0001"] == before["C-0001"]


def test_length_error_is_per_customer_and_holds_the_watermark(run_dag, sb):
    assert run_dag(DAG_ID, {"mode": "initial"}, settings=FAST).ok
    eng = engine(run_dag)
    sb.joor_admin.advance_clock(3600)
    sb.amc_admin.edit_customer("2003", customer_name="N" * 101)
    sb.joor_admin.advance_clock(60)
    sb.amc_admin.edit_customer("2004", email="later@x.example")
    bad_lmt = next(c for c in _amc_rows(sb) if c["customer_id"] == "2003")["last_modified_time"]

    result = run_dag(DAG_ID, {}, settings=FAST)
    assert result.state == "failed" and result.only_records_failed, result.task_states
    (failure,) = result.report["failures"]
    assert failure["key"] == "C-0003" and "customer_name is 101 characters, JOOR allows at most 100" in failure["reason"]
    assert result.report["counts"]["customer"]["updated"] == 1  # the good customer still went
    assert joor_connections(sb)["C-0004"]["customer_contact_email"] == "later@x.example"
    assert state.get_watermark(customers.WATERMARK, eng) == bad_lmt  # not past the failed one

    sb.joor_admin.advance_clock(60)
    sb.amc_admin.edit_customer("2003", customer_name="Fixed Name")
    fixed = run_dag(DAG_ID, {}, settings=FAST)
    assert fixed.ok, fixed.task_states
    assert joor_connections(sb)["C-0003"]["customer_name"] == "Fixed Name"
    assert state.get_watermark(customers.WATERMARK, eng) > bad_lmt


def _try_number(run_id: str, task_id: str) -> int:
    """The task's try number from Airflow's metadata DB (tests may read it; tasks never do)."""
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = session.query(TaskInstance).filter_by(dag_id=DAG_ID, run_id=run_id, task_id=task_id).one()
        return ti.try_number


def _amc_rows(sb) -> list[dict]:
    import httpx

    resp = httpx.get(f"{sb.amc_url}/api/json/customers", params={**sb.amc_auth(), "pagination[page_size]": 500})
    return resp.json()["response"]


def test_data_services_wait_across_a_weekend(run_dag, sb, monkeypatch):
    sb.joor_admin.config(data_services_business_days=30)  # Data Services is slow this time
    friday = "2026-12-11T10:00:00Z"
    assert datetime.fromisoformat(friday.replace("Z", "+00:00")).weekday() == 4
    move_clock(sb, monkeypatch, friday)
    sb.amc_admin.create_customer(customer_name="Weekend Boutique", joor_customer_code="N-0100", currency_id="1",
                                 price_group="Wholesale USD", city="Austin", country="US")
    only = {"customer_codes": "N-0100"}
    first = run_dag(DAG_ID, only, settings=FAST)
    assert first.ok, first.task_states
    assert joor_connections(sb)["N-0100"]["status"] == "pending"

    # Monday morning: one weekend later, zero business days have passed -> within the SLA
    move_clock(sb, monkeypatch, "2026-12-14T08:00:00Z")
    monday = run_dag(DAG_ID, only, settings=FAST)
    assert monday.ok, monday.task_states
    assert monday.task_states["check_sla"] == "success"
    assert monday.report["counts"]["customer"]["pending"] >= 1
    assert monday.report["notes"]["sla_breaches"] == []

    # Wednesday 10:00:01 UTC: past Friday + 3 business days -> breach; check_sla fails
    move_clock(sb, monkeypatch, "2026-12-16T10:00:01Z")
    late = run_dag(DAG_ID, only, settings=FAST)
    assert late.state == "failed"
    assert late.task_states["check_sla"] == "failed"
    (breach,) = [b for b in late.report["notes"]["sla_breaches"] if b["customer_code"] == "N-0100"]
    assert breach["business_days_pending"] == 3 and breach["deadline"].startswith("2026-12-16T10:00:00")
    assert late.report["counts"]["customer"]["sla_breach"] >= 1

    # a holiday moves the deadline: with Dec 15 a holiday, the same moment is within the SLA
    holiday = run_dag(DAG_ID, only, settings={**FAST, "holidays": ["2026-12-15"]})
    assert holiday.task_states["check_sla"] == "success", holiday.task_states

    # Data Services finishes: the next run sees the customer active and the breach is over
    sb.joor_admin.post("/joor/data-services/process", {"customer_codes": ["N-0100"]})
    done = run_dag(DAG_ID, only, settings=FAST)
    assert done.task_states["check_sla"] == "success", done.task_states
    assert done.report["counts"]["customer"]["activated"] >= 1
    with engine(run_dag).connect() as conn:
        row = conn.execute(customers.customer_pending.select().where(
            customers.customer_pending.c.customer_code == "N-0100")).mappings().one()
    assert row["status"] == "active" and row["breached_at"] is not None


def test_job_wait_timeout_retries_and_resumes_the_same_job(run_dag, sb):
    """The trigger gives up at its deadline; the retried task awaits the job it started, never a second one."""
    sb.amc_admin.create_customer(customer_name="Retry Boutique", joor_customer_code="N-0200", currency_id="1",
                                 price_group="Wholesale USD", city="Austin", country="US")
    sb.joor_admin.config(job_step_seconds=3600)  # the job finishes only after its second read
    result = run_dag(DAG_ID, {"customer_codes": "N-0200"},
                     settings={"customer_job_poll_seconds": 0.2, "customer_job_timeout_minutes": 1e-6})
    assert result.ok, result.task_states
    assert _try_number(result.run_id, "push") == 2  # first wait timed out, the retry resumed it
    jobs = bulk_jobs(sb)
    assert len(jobs) == 1 and jobs[0]["status"] == "finished" and jobs[0]["reads"] >= 2
    with engine(run_dag).connect() as conn:
        (row,) = conn.execute(customers.customer_jobs.select()).mappings().all()
    assert row["job_id"] == jobs[0]["job_id"] and row["status"] == "recorded"
    assert joor_connections(sb)["N-0200"]["status"] == "pending"


def test_failed_batch_reports_its_customers_and_holds_the_watermark(run_dag, sb):
    assert run_dag(DAG_ID, {"mode": "initial"}, settings=FAST).ok
    eng = engine(run_dag)
    mark = state.get_watermark(customers.WATERMARK, eng)
    sb.joor_admin.advance_clock(60)
    sb.amc_admin.create_customer(customer_name="Unlucky Boutique", joor_customer_code="N-0300", currency_id="1",
                                 price_group="Wholesale USD", city="Austin", country="US")
    sb.joor_admin.advance_clock(60)
    sb.amc_admin.edit_customer("2001", email="fine@bloom.example")
    # every create is refused outright (a 400 is not retried by the hook); updates go through
    sb.joor_admin.arm_fault("status", status=400, method="POST", path="/v2/bulk-connection", count=10)
    result = run_dag(DAG_ID, {}, settings=FAST)
    assert result.state == "failed"
    assert result.task_states["push[0]"] == "success" or result.task_states["push[1]"] == "success"
    assert "failed" in {result.task_states["push[0]"], result.task_states["push[1]"]}
    (failure,) = result.report["failures"]
    assert failure["key"] == "N-0300" and "did not complete" in failure["reason"]
    assert joor_connections(sb)["C-0001"]["customer_contact_email"] == "fine@bloom.example"
    new_lmt = next(c for c in _amc_rows(sb) if c["customer_id"] != "2001" and c["joor_customer_code"] == "N-0300")[
        "last_modified_time"]
    assert mark < state.get_watermark(customers.WATERMARK, eng) == new_lmt  # held at the unsent customer

    sb.joor_admin.clear_faults()
    again = run_dag(DAG_ID, {}, settings=FAST)
    assert again.ok, again.task_states
    assert again.report["counts"]["customer"]["created"] == 1
    assert state.get_watermark(customers.WATERMARK, eng) > new_lmt
