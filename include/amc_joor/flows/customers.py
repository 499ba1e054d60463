"""Customer sync I/O: AMC customers -> JOOR connections, the Data Services wait, the SLA.

Why it is shaped like this:

* **Read** AMC customers (all of them in ``initial`` mode, else those modified since the
  watermark: ``last_modified_time >=``), their ship-tos and currencies, and JOOR's price types.
* **Plan** with the pure functions of :mod:`.customer_mapping`; skip customers JOOR already
  acknowledged with the same content (hash in ``synced_records``); split the rest into
  *update* (JOOR knows the customer code: we synced it before, it is pending, or JOOR answers
  the code lookup) and *create*; stage batches of ≤ ``joor_v2_bulk_max`` and the Data
  Services upload CSV.
* **Submit** each batch as one v2 bulk-connection job (POST create / PUT update), recorded in
  ``customer_jobs`` *before* and *after* sending so a retried or cleared task awaits the job it
  already started instead of starting another; the job is awaited by a trigger (no worker slot).
* **Record** per-record results: passed records move ``synced_records``; passed creates
  become ``customer_pending`` rows with their submission time. State never runs ahead of JOOR.
* **Check pending** every run: customers JOOR now shows as active are marked active; those
  pending longer than ``customer_sla_business_days`` are SLA breaches.
* **Watermark**: moves to the newest ``last_modified_time`` read, but never past a customer
  that was not acknowledged (failed, or in a batch whose job never finished).

The SLA clock is :func:`.customer_mapping.now_utc` (real time, or ``AMC_JOOR_NOW`` in tests).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from amc_joor import state
from amc_joor.flows import customer_mapping as cm
from amc_joor.reporting import RunReport

log = logging.getLogger(__name__)

FLOW = "customers"
ENTITY = cm.ENTITY
WATERMARK = "customer_sync.last_modified_time"
#: Above this many codes to look up, one paged listing of JOOR's connections is cheaper.
LOOKUP_LIST_THRESHOLD = 25

# --------------------------------------------------------------------------- state tables

#: New customers JOOR accepted and Data Services has not yet made visible (and their history).
customer_pending = sa.Table(
    "customer_pending",
    state.metadata,
    sa.Column("customer_code", sa.String(100), primary_key=True),
    sa.Column("amc_customer_id", sa.String(50)),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("job_id", sa.String(100)),
    sa.Column("status", sa.String(20), nullable=False),  # pending | active
    sa.Column("activated_at", sa.DateTime(timezone=True)),
    sa.Column("last_checked_at", sa.DateTime(timezone=True)),
    sa.Column("breached_at", sa.DateTime(timezone=True)),  # first run that saw it past the SLA
)

#: One row per staged batch: the JOOR job it started (so a retry never starts a second one).
customer_jobs = sa.Table(
    "customer_jobs",
    state.metadata,
    sa.Column("batch_key", sa.String(300), primary_key=True),  # <run_id>/<batch name>
    sa.Column("method", sa.String(10), nullable=False),  # POST (create) | PUT (update)
    sa.Column("job_id", sa.String(100)),  # NULL while the submit is in flight / ambiguous
    sa.Column("status", sa.String(20), nullable=False),  # sending | submitted | recorded
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    # codes an earlier, ambiguous submit of this batch already created (acknowledged without a job)
    sa.Column("landed", sa.JSON),
)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they are UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- JOOR adapters
# The only place that knows the JoorHook's method names and reply shapes.


def _plain(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return dict(obj)
    dump = getattr(obj, "model_dump", None)
    return dump(mode="json") if dump else dict(vars(obj))


def joor_price_types(joor) -> list[dict[str, Any]]:
    return [_plain(p) for p in joor.list_price_types()]


def joor_connection(joor, code: str) -> dict[str, Any] | None:
    found = joor.get_connection_by_code(code)
    return _plain(found) if found is not None else None


def joor_connections(joor) -> Iterable[dict[str, Any]]:
    for c in joor.iter_connections():
        yield _plain(c)


def joor_submit(joor, method: str, payloads: list[dict[str, Any]]) -> str:
    return str(joor.submit_bulk_connection(payloads, update=(method == "PUT")))


def joor_job(joor, job_id: str) -> dict[str, Any]:
    return _plain(joor.get_bulk_connection_job(job_id))


def job_status(joor, job_id: str) -> str:
    """``queued`` | ``started`` | ``finished`` (used by the trigger)."""
    return str(joor_job(joor, job_id).get("status") or "").lower()


def is_active(connection: Mapping[str, Any] | None) -> bool:
    return bool(connection) and str(connection.get("status") or "active").lower() == "active"


# --------------------------------------------------------------------------- extract + plan


#: Up to this many changed customers, their ship-tos and code owners are read per customer.
TARGETED_READ_MAX = 20


@dataclass
class Extract:
    customers: list[dict[str, Any]]
    locations: list[dict[str, Any]]
    currency_names: dict[str, str]
    price_types: list[dict[str, Any]] | None
    code_owners: dict[str, list[str]]  # folded JOOR code -> every AMC customer id holding it
    since: str | None


def extract(amc, joor, *, since: str | None, page_size: int | None = None) -> Extract:
    """Read AMC customers (changed since ``since``, or all), their ship-tos, currencies; JOOR price types.

    An incremental read also learns, for each changed customer's JOOR code, every AMC customer
    holding that code — a duplicate with an unchanged customer must still be caught.
    """
    from amc_joor.hooks.amc import Filter, modified_since_filter

    customers = list(amc.iter_rows("customers", modified_since_filter(since), page_size))
    wanted = {str(c.get("customer_id")) for c in customers}
    if since is not None and len(customers) <= TARGETED_READ_MAX:
        locations = [r for cid in sorted(wanted) for r in amc.iter_rows(
            "locations", [Filter("customer_id", "=", cid)], page_size)]
        owners_rows: list[Mapping[str, Any]] = list(customers)
        for code in sorted({cm.customer_key(c) for c in customers} - {""}):
            owners_rows += list(amc.iter_rows("customers", [Filter("joor_customer_code", "=", code)], page_size))
    else:
        locations = [r for r in amc.iter_rows("locations", (), page_size) if str(r.get("customer_id")) in wanted]
        owners_rows = customers if since is None else list(amc.iter_rows("customers", (), page_size))
    code_owners: dict[str, set[str]] = {}
    for row in owners_rows:
        code = cm.customer_key(row)
        if code:
            code_owners.setdefault(code.casefold(), set()).add(str(row.get("customer_id")))
    # raw rows: only id and name are needed, and a bad rate on one currency must not sink the sync
    currency_names = {str(c.get("id") or "").strip(): str(c.get("name") or "").strip().upper()
                      for c in amc.iter_rows("currencies", (), page_size)}
    # No fallback: without JOOR's price types the price label cannot be chosen; the task retries.
    price_types: list[dict[str, Any]] | None = joor_price_types(joor) if joor is not None else None
    return Extract(customers, locations, currency_names, price_types,
                   {k: sorted(v) for k, v in code_owners.items()}, since)


@dataclass
class SyncPlan:
    """What one run will do, with the per-customer facts the watermark needs."""

    plan: cm.CustomerPlan
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    lookup_calls: int = 0


def known_codes(engine: Engine) -> tuple[dict[str, dict], set[str]]:
    """(acknowledged customers by code, codes pending with Data Services)."""
    synced = state.load_synced(ENTITY, engine)
    with engine.connect() as conn:
        pending = set(conn.execute(sa.select(customer_pending.c.customer_code)).scalars())
    return synced, pending


def classify(
    plan: cm.CustomerPlan, joor, engine: Engine, *, force: bool = False
) -> SyncPlan:
    """Split planned customers into unchanged / update / create (JOOR looked up only when unknown)."""
    out = SyncPlan(plan=plan)
    synced, pending = known_codes(engine)
    unknown: list[dict[str, Any]] = []
    for rec in plan.records:
        prior = synced.get(rec["key"])
        if prior and prior["content_hash"] == rec["content_hash"] and not force:
            out.unchanged.append(rec)
        elif prior or rec["key"] in pending:
            out.updates.append(rec)
        else:
            unknown.append(rec)
    if unknown and joor is not None:
        exists, calls = lookup_existing([r["key"] for r in unknown], joor)
        out.lookup_calls = calls
        for rec in unknown:
            (out.updates if rec["key"] in exists else out.creates).append(rec)
    else:
        out.creates.extend(unknown)
    return out


def lookup_existing(codes: list[str], joor) -> tuple[set[str], int]:
    """Which customer codes JOOR already holds: per-code GETs, or one listing when that is cheaper."""
    if len(codes) <= LOOKUP_LIST_THRESHOLD:
        found = {code for code in codes if joor_connection(joor, code) is not None}
        return found, len(codes)
    wanted = set(codes)
    found = {c["customer_code"] for c in joor_connections(joor) if c.get("customer_code") in wanted}
    return found, -1  # listing: the hook pages; the call count is in the budget stats


# --------------------------------------------------------------------------- submit + record


def batch_key(run_id: str, name: str) -> str:
    return f"{run_id}/{name}"[:300]


def existing_job(engine: Engine, key: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(customer_jobs).where(customer_jobs.c.batch_key == key)).mappings().first()
    return dict(row) if row else None


def submit_batch(joor, engine: Engine, key: str, method: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Start the JOOR job for one batch, once: ``{job_id, submitted_at, resumed, method, landed}``.

    A batch whose job was already started (a retry, a cleared task) returns that job. A create
    batch whose earlier submit ended ambiguously (sent, but no job id came back) is checked
    against JOOR first: a job is accepted or refused as a whole, so codes JOOR now holds were
    created by that lost job — they are acknowledged (and tracked pending from the first
    submission) and only the rest is sent. ``job_id`` is None when nothing was left to send.
    """
    prior = existing_job(engine, key)
    if prior and prior["job_id"]:
        return {"job_id": prior["job_id"], "submitted_at": aware(prior["submitted_at"]), "resumed": True,
                "method": prior["method"], "landed": list(prior["landed"] or [])}
    now = cm.now_utc()
    landed: list[str] = list((prior or {}).get("landed") or [])
    if prior and method == "POST":
        exists, _ = lookup_existing([r["key"] for r in records if r["key"] not in landed], joor)
        fresh = [r for r in records if r["key"] in exists]
        if fresh:
            log.warning("batch %s: %d customer(s) were created by an earlier submit whose reply was lost; "
                        "acknowledging them, sending the rest", key, len(fresh))
            acknowledge_created(engine, fresh, aware(prior["submitted_at"]) or now, "lost-reply")
            landed += [r["key"] for r in fresh]
    to_send = [r for r in records if r["key"] not in set(landed)]
    values = {"method": method, "job_id": None, "status": "sending" if to_send else "recorded",
              "submitted_at": now if not prior else aware(prior["submitted_at"]), "records": len(records),
              "landed": landed}
    with engine.begin() as conn:
        if prior:
            conn.execute(customer_jobs.update().where(customer_jobs.c.batch_key == key).values(**values))
        else:
            conn.execute(customer_jobs.insert().values(batch_key=key, **values))
    if not to_send:
        return {"job_id": None, "submitted_at": values["submitted_at"], "resumed": False, "method": method,
                "landed": landed}
    job_id = joor_submit(joor, method, [r["payload"] for r in to_send])
    with engine.begin() as conn:
        conn.execute(customer_jobs.update().where(customer_jobs.c.batch_key == key).values(
            job_id=job_id, status="submitted", submitted_at=now))
    return {"job_id": job_id, "submitted_at": now, "resumed": False, "method": method, "landed": landed}


def acknowledge_created(engine: Engine, records: list[dict[str, Any]], submitted_at: datetime, job_id: str) -> None:
    """Customers JOOR holds from a create: acknowledged, and pending with Data Services."""
    state.record_synced(ENTITY, [
        {"key": r["key"], "content_hash": r["content_hash"],
         "detail": {"amc_customer_id": r["customer_id"], "job_id": job_id}} for r in records
    ], engine)
    add_pending(engine, [{"customer_code": r["key"], "amc_customer_id": r["customer_id"]} for r in records],
                submitted_at, job_id)


def _result_items(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    for name in ("results", "records", "items", "connections"):
        items = job.get(name)
        if isinstance(items, list):
            return [_plain(i) for i in items]
    return []


def record_results(
    engine: Engine,
    records: list[dict[str, Any]],
    job: Mapping[str, Any],
    *,
    method: str,
    job_id: str,
    submitted_at: datetime,
) -> RunReport:
    """Move state for every record JOOR passed; report every record it did not, with JOOR's reason."""
    report = RunReport(FLOW)
    results = {str(i.get("customer_code") or ""): i for i in _result_items(job)}
    acked: list[dict[str, Any]] = []
    new_pending: list[dict[str, Any]] = []
    rejected_updates: list[str] = []
    for rec in records:
        res = results.get(rec["key"])
        status = str((res or {}).get("status") or "").lower()
        if res is None:
            report.fail(ENTITY, rec["key"], f"AMC customer {rec['customer_id']}: JOOR job {job_id} returned "
                        "no result for this customer; it will be sent again next run")
            continue
        if status not in ("pass", "ok", "success", "created", "updated", "pending", "active"):
            message = str(res.get("message") or res.get("error") or status or "rejected")
            report.fail(ENTITY, rec["key"], f"AMC customer {rec['customer_id']}: JOOR rejected it: {message}")
            if method == "PUT":
                rejected_updates.append(rec["key"])
            continue
        acked.append({"key": rec["key"], "content_hash": rec["content_hash"],
                      "joor_id": str(res.get("connection_id") or "") or None,
                      "detail": {"amc_customer_id": rec["customer_id"], "job_id": job_id}})
        if method == "POST":
            new_pending.append({"customer_code": rec["key"], "amc_customer_id": rec["customer_id"]})
            report.count(ENTITY, "created")
        else:
            report.count(ENTITY, "updated")
    if new_pending:
        add_pending(engine, new_pending, submitted_at, job_id)
    state.record_synced(ENTITY, acked, engine)
    if rejected_updates:
        # What we believed JOOR holds may be stale (e.g. removed on JOOR): the next run looks
        # these codes up again instead of trusting the memory.
        forget_synced(engine, rejected_updates)
    return report


def forget_synced(engine: Engine, keys: list[str]) -> None:
    t = state.synced_records
    with engine.begin() as conn:
        conn.execute(t.delete().where(t.c.entity == ENTITY, t.c.key.in_(keys)))


def add_pending(engine: Engine, rows: list[dict[str, Any]], submitted_at: datetime, job_id: str) -> None:
    """Track new customers from their submission time (an existing row keeps its first submission)."""
    codes = [r["customer_code"] for r in rows]
    with engine.begin() as conn:
        have = set(conn.execute(sa.select(customer_pending.c.customer_code)
                                .where(customer_pending.c.customer_code.in_(codes))).scalars())
        fresh = [r for r in rows if r["customer_code"] not in have]
        if fresh:
            conn.execute(customer_pending.insert(), [
                {"customer_code": r["customer_code"], "amc_customer_id": r["amc_customer_id"],
                 "submitted_at": submitted_at, "job_id": job_id, "status": "pending"}
                for r in fresh
            ])


def mark_recorded(engine: Engine, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(customer_jobs.update().where(customer_jobs.c.batch_key == key).values(status="recorded"))


# --------------------------------------------------------------------------- pending + SLA


@dataclass
class PendingCheck:
    report: RunReport
    breaches: list[cm.SlaStatus]
    activated: list[str]
    still_pending: list[cm.SlaStatus]


def check_pending(
    joor,
    engine: Engine,
    *,
    sla_days: int,
    holidays: Iterable[date] = (),
    now: datetime | None = None,
) -> PendingCheck:
    """Ask JOOR about every pending customer; mark the visible ones active; find SLA breaches."""
    now = now or cm.now_utc()
    hol = list(holidays)
    report = RunReport(FLOW)
    with engine.connect() as conn:
        rows = list(conn.execute(sa.select(customer_pending).where(customer_pending.c.status == "pending")).mappings())
    if not rows:
        return PendingCheck(report, [], [], [])
    codes = [r["customer_code"] for r in rows]
    if len(codes) <= LOOKUP_LIST_THRESHOLD:
        seen = {code: joor_connection(joor, code) for code in codes}
    else:
        wanted = set(codes)
        seen = {c["customer_code"]: c for c in joor_connections(joor) if c.get("customer_code") in wanted}
    activated: list[str] = []
    breaches: list[cm.SlaStatus] = []
    waiting: list[cm.SlaStatus] = []
    first_breach: list[str] = []
    for row in rows:
        code = row["customer_code"]
        if is_active(seen.get(code)):
            activated.append(code)
            continue
        st = cm.sla_status(code, aware(row["submitted_at"]), now, sla_days, hol)
        if st.breached:
            breaches.append(st)
            if row["breached_at"] is None:
                first_breach.append(code)
        else:
            waiting.append(st)
    with engine.begin() as conn:
        if activated:
            conn.execute(customer_pending.update().where(customer_pending.c.customer_code.in_(activated))
                         .values(status="active", activated_at=now, last_checked_at=now))
        still = [s.key for s in waiting + breaches]
        if still:
            conn.execute(customer_pending.update().where(customer_pending.c.customer_code.in_(still))
                         .values(last_checked_at=now))
        if first_breach:
            conn.execute(customer_pending.update().where(customer_pending.c.customer_code.in_(first_breach))
                         .values(breached_at=now))
    report.count(ENTITY, "activated", len(activated))
    report.count(ENTITY, "pending", len(waiting))
    report.count(ENTITY, "sla_breach", len(breaches))
    for st in breaches:
        log.error("CUSTOMER SLA BREACH: %s", cm.breach_reason(st, sla_days))
    for st in waiting:
        log.info("customer %s pending with JOOR Data Services for %d business day(s) (deadline %s)",
                 st.key, st.business_days_pending, st.deadline)
    report.note("sla_breaches", [
        {"customer_code": s.key, "submitted_at": s.submitted_at, "deadline": s.deadline,
         "business_days_pending": s.business_days_pending} for s in breaches
    ])
    report.note("pending_customers", len(waiting) + len(breaches))
    return PendingCheck(report, breaches, activated, waiting)


# --------------------------------------------------------------------------- watermark


def acknowledged(engine: Engine, seen: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """(last_modified_time, acknowledged) per customer read: acknowledged = nothing left to send.

    ``seen`` rows: ``{last_modified_time, key, content_hash}``; ``content_hash`` None means the
    customer needs nothing from JOOR (no JOOR code), ``key`` None with a hash of "" means it
    failed before sending (validation, duplicate code) and is not acknowledged.
    """
    synced = state.load_synced(ENTITY, engine)
    out: list[tuple[str, bool]] = []
    for row in seen:
        if row.get("content_hash") is None:
            out.append((row["last_modified_time"], True))
            continue
        prior = synced.get(row.get("key") or "")
        out.append((row["last_modified_time"], bool(prior and prior["content_hash"] == row["content_hash"])))
    return out


def seen_rows(plan: cm.CustomerPlan, customers: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every customer read this run with what acknowledging it means (input to the watermark)."""
    by_id = {str(c.get("customer_id")): c for c in customers}
    rows: list[dict[str, Any]] = []
    for cid in plan.skipped_no_code:
        rows.append({"last_modified_time": str(by_id.get(cid, {}).get("last_modified_time") or ""),
                     "key": None, "content_hash": None})
    for rec in plan.records:
        rows.append({"last_modified_time": rec["last_modified_time"], "key": rec["key"],
                     "content_hash": rec["content_hash"]})
    for f in plan.failures:
        if f.amc_customer_id:
            rows.append({"last_modified_time": f.last_modified_time, "key": None, "content_hash": ""})
    return rows


def advance_watermark(engine: Engine, seen: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """Move the watermark as far as the acknowledged customers allow: (old, new)."""
    old = state.get_watermark(WATERMARK, engine)
    new = cm.next_watermark(old, acknowledged(engine, seen))
    if new and new != old:
        state.set_watermark(WATERMARK, new, engine)
    return old, new


# --------------------------------------------------------------------------- run orchestration
# Called by the DAG's tasks; every hand-over between tasks is a staged file at a path derived
# from (dag_id, run_id), so a task whose upstream failed still finds what exists.


def manifest_url(dag_id: str, run_id: str) -> str:
    from amc_joor import staging

    return staging.stage_path(dag_id, run_id, "plan", "manifest.json")


def plan_run(
    amc, joor, engine: Engine, settings, *, dag_id: str, run_id: str, mode: str, codes: list[str],
    dry_run: bool,
) -> dict[str, Any]:
    """Read, plan, classify, stage; returns ``{"batches": [...], "manifest": url}`` (paths and counts only)."""
    import pandas as pd

    from amc_joor import staging

    if mode not in ("incremental", "initial"):
        raise ValueError(f"mode must be 'incremental' or 'initial', got {mode!r}")
    watermark = state.get_watermark(WATERMARK, engine)
    since = watermark if (mode == "incremental" and not codes) else None
    ex = extract(amc, joor, since=since, page_size=settings.amc_page_size)
    plan = cm.plan_customers(
        ex.customers, ex.locations, ex.currency_names, ex.price_types, settings.default_currency_name,
        only_codes=codes or None, code_owners=ex.code_owners,
    )
    sp = classify(plan, joor, engine)

    report = RunReport(FLOW)
    report.note("mode", mode + (" (dry run)" if dry_run else ""))
    report.note("watermark_before", watermark or "none")
    if codes:
        report.note("customer_codes", ", ".join(codes))
    report.count(ENTITY, "read", len(ex.customers))
    report.count(ENTITY, "skipped_no_code", 0 if codes else len(plan.skipped_no_code))
    report.count(ENTITY, "unchanged", len(sp.unchanged))
    if dry_run:
        report.count(ENTITY, "would_create", len(sp.creates))
        report.count(ENTITY, "would_update", len(sp.updates))
    for f in plan.failures:
        report.fail(ENTITY, f.key, f.reason)
    if plan.duplicate_codes:
        report.note("duplicate_codes", plan.duplicate_codes)
    if plan.skipped_no_code and not codes:
        report.note("amc_customer_ids_without_joor_code", ", ".join(plan.skipped_no_code[:50])
                    + (" …" if len(plan.skipped_no_code) > 50 else ""))

    # The upload file Data Services works from: every customer (initial) or the new ones.
    upload = plan.records if mode == "initial" else sp.creates
    csv_url = staging.stage_path(dag_id, run_id, "plan", "upload.csv")
    staging.write_csv(csv_url, pd.DataFrame(cm.csv_rows(upload), columns=list(cm.CSV_COLUMNS)))
    report.note("upload_csv", staging.local_path(csv_url) or csv_url)
    report.note("upload_csv_customers", len(upload))

    batches: list[dict[str, Any]] = []
    size = settings.joor_v2_bulk_max
    for method, verb, recs in (("PUT", "update", sp.updates), ("POST", "create", sp.creates)):
        parts = cm.chunk(recs, size) if recs else []
        for i, part in enumerate(parts):
            name = f"{verb}-{i:04d}"
            url = staging.write_json(staging.stage_path(dag_id, run_id, "plan", f"batch-{name}.json"), part)
            batches.append({
                "name": name, "path": url, "method": method, "count": len(part),
                "label": f"{verb} {i + 1}/{len(parts)} ({len(part)} customers)",
                "report": staging.stage_path(dag_id, run_id, "push", f"{name}.report.json"),
            })
    plan_report = staging.write_json(staging.stage_path(dag_id, run_id, "plan", "report.json"), report.to_dict())
    seen = staging.write_json(staging.stage_path(dag_id, run_id, "plan", "seen.json"),
                              seen_rows(plan, ex.customers))
    sent = [] if dry_run else batches
    manifest = {
        "mode": mode, "dry_run": dry_run, "codes": codes, "plan_report": plan_report, "seen": seen,
        "batches": sent, "watermark_allowed": not dry_run and not codes, "upload_csv": csv_url,
    }
    url = staging.write_json(manifest_url(dag_id, run_id), manifest)
    log.info(
        "customers read %d: %d to create, %d to update, %d unchanged, %d failed, %d without JOOR code; "
        "%d batch(es)%s", len(ex.customers), len(sp.creates), len(sp.updates), len(sp.unchanged),
        len(plan.failures), len(plan.skipped_no_code), len(batches), " (dry run: nothing sent)" if dry_run else "",
    )
    return {"batches": sent, "manifest": url}


def finish_watermark(engine: Engine, dag_id: str, run_id: str) -> dict[str, Any]:
    """After every batch ended (however): move the watermark as far as JOOR acknowledged."""
    from amc_joor import staging

    try:
        manifest = staging.read_json(manifest_url(dag_id, run_id))
    except FileNotFoundError:
        return {"moved": False, "reason": "plan did not finish"}
    if not manifest["watermark_allowed"]:
        return {"moved": False, "reason": "dry run or customer codes given: the watermark stays"}
    old, new = advance_watermark(engine, staging.read_json(manifest["seen"]))
    log.info("customer watermark %s -> %s", old or "none", new or "none")
    result = {"moved": new != old, "old": old, "new": new}
    staging.write_json(staging.stage_path(dag_id, run_id, "watermark", "result.json"), result)
    return result


def waiting_for_data_services(engine: Engine) -> int:
    """How many customers JOOR's Data Services has not matched yet (after this run's submissions)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(customer_pending)
                                .where(customer_pending.c.status == "pending")).scalar() or 0)


def merge_reports(dag_id: str, run_id: str, engine: Engine | None = None) -> RunReport:
    """One run report from the staged pieces; a batch without its report counts its customers failed."""
    from amc_joor import staging

    merged = RunReport(FLOW)
    if engine is not None:
        merged.note("waiting_for_data_services", waiting_for_data_services(engine))
    try:
        manifest = staging.read_json(manifest_url(dag_id, run_id))
    except FileNotFoundError:
        manifest = None
        merged.fail("run", "plan", "the plan task did not finish: nothing was sent (see the plan task log)")
    if manifest:
        merged.merge(staging.read_json(manifest["plan_report"]))
        for batch in manifest["batches"]:
            try:
                merged.merge(staging.read_json(batch["report"]))
            except FileNotFoundError:
                for rec in staging.read_json(batch["path"]):
                    merged.fail(ENTITY, rec["key"], (
                        f"AMC customer {rec['customer_id']}: batch {batch['name']} did not complete "
                        "(see the push task log); not acknowledged, sent again next run"))
    for step, name in (("pending", "report.json"), ("watermark", "result.json")):
        try:
            piece = staging.read_json(staging.stage_path(dag_id, run_id, step, name))
        except FileNotFoundError:
            continue
        if step == "pending":
            merged.merge(piece)
        else:
            merged.note("watermark_after", piece.get("new") or "none")
    return merged
