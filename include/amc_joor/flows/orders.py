"""Order pull, JOOR -> AMC: the money path, exactly once.

Why this shape: AMC's ``POST /orders`` has no idempotency key and JOOR's v2 ``sync=1`` read
marks orders exported the moment they are read, so peers either lose orders on a crash or
import them twice on retry. This module never reads with ``sync=1`` (v4 ``GET /v4/orders``
only) and keeps an **order ledger** in the integration's state store. Per order:

1. ledger ``importing`` (attempts + 1) — written *before* anything is sent to AMC;
2. look the order up in AMC by the JOOR order number (``customer_po``, then ``joor_id``);
3. create it only if absent. A create that may or may not have happened (timeout, dropped
   connection, 5xx after commit) is looked up again; if still not visible the ledger keeps
   ``uncertain_since`` and the order is **not** created again within a grace period (a hung
   request may still commit) — later attempts only look it up;
4. ledger ``imported`` with the AMC order id;
5. Export Status ``SUCCESS`` written back on JOOR (``bulk_update``, <= 500 per call) for every
   ledger row still ``imported`` — from this run or any earlier crashed one — then ledger
   ``exported``. Failures are written back ``FAILED`` with a reason a merchandiser can act on,
   so the order stays on JOOR and is retried every run until fixed.

A crash anywhere leaves the ledger at a state from which the next attempt converges: before
the create -> the lookup finds nothing and it is created; after the create -> the lookup finds
it; after ``imported`` -> only the write-back is redone (setting SUCCESS twice is harmless).

Layout: pure helpers (run scope, candidate triage) are at the top, the ledger next, then the
I/O functions that take a hook. The mapping rules live in :mod:`amc_joor.flows.order_mapping`.
No Airflow imports here; ``dags/joor_amc_order_pull.py`` wires these into tasks.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from amc_joor.flows import order_mapping as om
from amc_joor.params import split_list
from amc_joor.state import metadata, utcnow

log = logging.getLogger("amc_joor.orders")

FLOW = "order_pull"
ENTITY = "order"

# ledger states
IMPORTING = "importing"
IMPORTED = "imported"
EXPORTED = "exported"
FAILED = "failed"

#: How long an order whose AMC create was ambiguous is only looked up, never re-created
#: (env ``AMC_JOOR_ORDER_UNCERTAIN_GRACE_SECONDS``): a hung request may still commit meanwhile.
UNCERTAIN_GRACE_SECONDS = 900.0


def uncertain_grace_seconds() -> float:
    return float(os.environ.get("AMC_JOOR_ORDER_UNCERTAIN_GRACE_SECONDS", UNCERTAIN_GRACE_SECONDS))
#: JOOR's export_description is shown in its order page; keep reasons readable there.
MAX_DESCRIPTION = 480

# --------------------------------------------------------------------------- tables

#: The order ledger: one row per JOOR order this integration ever tried to import.
order_ledger = sa.Table(
    "order_ledger",
    metadata,
    sa.Column("joor_order_id", sa.String(64), primary_key=True),
    sa.Column("order_number", sa.String(100), nullable=False, index=True),
    sa.Column("state", sa.String(20), nullable=False),  # importing | imported | exported | failed
    sa.Column("amc_order_id", sa.String(64)),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("uncertain_since", sa.DateTime(timezone=True)),  # an AMC create may have happened
    sa.Column("joor_last_modified", sa.String(40)),  # JOOR last_modified when exported
    sa.Column("review_last_modified", sa.String(40)),  # last edit-after-export already reported
    sa.Column("last_run_id", sa.String(250)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True)),
    sa.Column("exported_at", sa.DateTime(timezone=True)),
)

#: JOOR connection status by customer code, as last read (pending connections cannot be imported).
order_connection_status = sa.Table(
    "order_connection_status",
    metadata,
    sa.Column("customer_code", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
)


# --------------------------------------------------------------------------- run scope (pure)


@dataclass(frozen=True)
class RunScope:
    """Which JOOR orders a run considers.

    * ``pending`` (scheduled and plain manual runs): every order with the configured status,
      approved on/after the Start Date, export status not SUCCESS — regardless of the data
      interval, so an order approved while the scheduler was down is never missed.
    * ``range`` (backfill runs; manual runs with an approval date range): exactly the orders
      approved inside the range, whatever their export status; already-exported ones are
      verified against the ledger and left alone (idempotent reprocessing).
    * ``ids`` (manual runs with order ids): exactly those orders.
    """

    mode: str
    approved_from: datetime | None = None
    approved_to: datetime | None = None
    order_ids: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def window(self) -> om.Window:
        return om.Window(self.approved_from, self.approved_to, self.order_ids)

    def describe(self) -> str:
        if self.mode == "ids":
            return f"order ids {', '.join(self.order_ids)}"
        if self.mode == "range":
            return f"orders approved in [{_iso(self.approved_from)}, {_iso(self.approved_to)})"
        return "all pending orders (export status not SUCCESS)"


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else "…"


def _day_start(value: Any) -> datetime | None:
    d = om.parse_date(value)
    return datetime(d.year, d.month, d.day, tzinfo=UTC) if d else None


def scope_from_params(
    params: Mapping[str, Any] | None,
    *,
    run_type: Any = None,
    interval_start: datetime | None = None,
    interval_end: datetime | None = None,
) -> RunScope:
    """The run's scope from its trigger-form params and run type (see :class:`RunScope`).

    ``approved_to`` in params is an inclusive *date* (the form's date picker); it becomes the
    exclusive start of the following day.
    """
    params = params or {}
    dry = bool(params.get("dry_run"))
    ids = tuple(split_list(params.get("order_ids")))
    if ids:
        return RunScope("ids", order_ids=ids, dry_run=dry)
    start = _day_start(params.get("approved_from"))
    end = _day_start(params.get("approved_to"))
    if start or end:
        if end is not None:
            end = end + timedelta(days=1)
        if start and end and end <= start:
            raise ValueError(f"approved_to ({params.get('approved_to')}) is before approved_from ({params.get('approved_from')})")
        return RunScope("range", approved_from=start, approved_to=end, dry_run=dry)
    kind = str(getattr(run_type, "value", run_type) or "").lower()
    if kind in ("backfill", "backfill_job") and interval_start and interval_end and interval_end > interval_start:
        return RunScope("range", approved_from=interval_start, approved_to=interval_end, dry_run=dry)
    return RunScope("pending", dry_run=dry)


# --------------------------------------------------------------------------- ledger


def ledger_load(ids: Iterable[str], engine: Engine) -> dict[str, dict[str, Any]]:
    """Ledger rows for the given JOOR order ids (missing ids are absent)."""
    ids = list(dict.fromkeys(str(i) for i in ids))
    t = order_ledger
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in conn.execute(sa.select(t).where(t.c.joor_order_id.in_(chunk))):
                out[row.joor_order_id] = dict(row._mapping)
    return out


def ledger_rows(engine: Engine, state: str | None = None) -> list[dict[str, Any]]:
    t = order_ledger
    q = sa.select(t).order_by(t.c.joor_order_id)
    if state:
        q = q.where(t.c.state == state)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def ledger_begin(joor_id: str, number: str, run_id: str, engine: Engine) -> dict[str, Any]:
    """Mark an order ``importing`` before anything is sent to AMC; returns the row as it now is.

    Never downgrades ``imported``/``exported``: those orders exist in AMC already.
    """
    t = order_ledger
    now = utcnow()
    with engine.begin() as conn:
        row = conn.execute(sa.select(t).where(t.c.joor_order_id == joor_id)).first()
        if row is None:
            conn.execute(t.insert().values(
                joor_order_id=joor_id, order_number=number, state=IMPORTING, attempts=1,
                last_run_id=run_id, created_at=now, updated_at=now,
            ))
        elif row.state in (IMPORTING, FAILED):
            conn.execute(t.update().where(t.c.joor_order_id == joor_id).values(
                state=IMPORTING, attempts=(row.attempts or 0) + 1, order_number=number,
                last_run_id=run_id, updated_at=now,
            ))
        out = conn.execute(sa.select(t).where(t.c.joor_order_id == joor_id)).first()
    return dict(out._mapping)


def ledger_imported(joor_id: str, amc_order_id: str, engine: Engine) -> None:
    t = order_ledger
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            t.update()
            .where(t.c.joor_order_id == joor_id, t.c.state.in_((IMPORTING, FAILED, IMPORTED)))
            .values(state=IMPORTED, amc_order_id=str(amc_order_id), last_error=None, uncertain_since=None,
                    imported_at=now, updated_at=now)
        )


def ledger_failed(joor_id: str, reason: str, engine: Engine, *, uncertain: bool = False) -> None:
    """Record a failed attempt. ``uncertain``: AMC may hold the order (state stays ``importing``)."""
    t = order_ledger
    now = utcnow()
    with engine.begin() as conn:
        row = conn.execute(sa.select(t.c.state, t.c.uncertain_since).where(t.c.joor_order_id == joor_id)).first()
        if row is None or row.state in (IMPORTED, EXPORTED):
            return
        values: dict[str, Any] = {"last_error": reason[:2000], "updated_at": now}
        if uncertain:
            values.update(state=IMPORTING, uncertain_since=row.uncertain_since or now)
        else:
            values.update(state=FAILED)
        conn.execute(t.update().where(t.c.joor_order_id == joor_id).values(**values))


def ledger_record_failure(joor_id: str, number: str, reason: str, run_id: str, engine: Engine) -> None:
    """An order that failed before reaching AMC (mapping): ``failed`` with its reason, attempts + 1."""
    t = order_ledger
    now = utcnow()
    with engine.begin() as conn:
        row = conn.execute(sa.select(t.c.state, t.c.attempts).where(t.c.joor_order_id == joor_id)).first()
        if row is None:
            conn.execute(t.insert().values(
                joor_order_id=joor_id, order_number=number, state=FAILED, attempts=1, last_error=reason[:2000],
                last_run_id=run_id, created_at=now, updated_at=now,
            ))
        elif row.state == FAILED:
            conn.execute(t.update().where(t.c.joor_order_id == joor_id).values(
                attempts=(row.attempts or 0) + 1, last_error=reason[:2000], last_run_id=run_id, updated_at=now,
            ))


def ledger_exported(entries: Sequence[tuple[str, str | None]], engine: Engine) -> int:
    """Mark orders ``exported`` after JOOR acknowledged SUCCESS; entries are (joor id, JOOR last_modified)."""
    t = order_ledger
    now = utcnow()
    n = 0
    with engine.begin() as conn:
        for joor_id, last_modified in entries:
            n += conn.execute(
                t.update()
                .where(t.c.joor_order_id == joor_id, t.c.state.in_((IMPORTED, EXPORTED)))
                .values(state=EXPORTED, joor_last_modified=last_modified, exported_at=now, updated_at=now)
            ).rowcount
    return n


def ledger_reviewed(joor_id: str, last_modified: str, engine: Engine) -> None:
    t = order_ledger
    with engine.begin() as conn:
        conn.execute(t.update().where(t.c.joor_order_id == joor_id).values(review_last_modified=last_modified))


def ledger_adopt(joor_id: str, number: str, amc_order_id: str, engine: Engine) -> None:
    """An order found in AMC that the ledger never saw (e.g. state store lost): record it imported."""
    t = order_ledger
    now = utcnow()
    with engine.begin() as conn:
        row = conn.execute(sa.select(t.c.state).where(t.c.joor_order_id == joor_id)).first()
        if row is None:
            conn.execute(t.insert().values(
                joor_order_id=joor_id, order_number=number, state=IMPORTED, amc_order_id=str(amc_order_id),
                attempts=0, created_at=now, updated_at=now, imported_at=now,
            ))
        elif row.state != EXPORTED:
            conn.execute(t.update().where(t.c.joor_order_id == joor_id).values(
                state=IMPORTED, amc_order_id=str(amc_order_id), last_error=None, uncertain_since=None,
                imported_at=now, updated_at=now,
            ))


# --------------------------------------------------------------------------- test crash points


def crash_point(name: str) -> None:
    """Let a chaos test kill this process with SIGKILL at a named point (never set in production).

    ``AMC_JOOR_TEST_CRASH_AT=<name>`` arms it; the process writes its pid to
    ``AMC_JOOR_TEST_CRASH_SENTINEL`` and waits (bounded) for the test to ``kill -9`` it,
    killing itself if nobody does.
    """
    if os.environ.get("AMC_JOOR_TEST_CRASH_AT") != name:
        return
    sentinel = os.environ.get("AMC_JOOR_TEST_CRASH_SENTINEL")
    if sentinel:
        with open(sentinel, "w") as fh:
            fh.write(str(os.getpid()))
    deadline = time.monotonic() + float(os.environ.get("AMC_JOOR_TEST_CRASH_WAIT", "30"))
    while time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)


# --------------------------------------------------------------------------- JOOR reads


def _dump(obj: Any) -> dict[str, Any]:
    """A pydantic model or mapping as a plain JSON-able dict."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", exclude_none=False)
    return dict(obj)


@dataclass
class Candidates:
    """What the fetch step found: orders to plan, plus what needs no import."""

    orders: list[dict[str, Any]] = field(default_factory=list)  # each with "line_items"
    skipped: list[dict[str, str]] = field(default_factory=list)  # {joor_id, order_number, reason}
    edited: list[dict[str, str]] = field(default_factory=list)  # exported, then edited in JOOR
    resend: list[dict[str, str]] = field(default_factory=list)  # exported per ledger, JOOR lost SUCCESS
    unchanged: int = 0  # range runs: already exported and untouched
    pages: int = 0


def _joor_list_orders(joor: Any, **filters: Any) -> Iterator[dict[str, Any]]:
    """JOOR v4 orders (never v2 sync=1) as plain dicts, without line items."""
    for order in joor.iter_orders(with_line_items=False, **filters):
        row = _dump(order)
        row.pop("line_items", None)
        yield row


def _joor_line_items(joor: Any, order_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {str(i): [] for i in order_ids}
    for item in joor.get_line_items(list(order_ids)):
        row = _dump(item)
        out.setdefault(str(row.get("order_id")), []).append(row)
    return out


def triage(
    orders: Iterable[Mapping[str, Any]],
    ledger: Mapping[str, Mapping[str, Any]],
    *,
    status: str,
    start: date,
    scope: RunScope,
) -> Candidates:
    """Sort fetched JOOR orders into: to plan, skipped (with reason), edited after export, resend SUCCESS.

    Pure. An order the ledger says was exported is never imported again: if JOOR shows it
    edited since, a human is told; if JOOR merely lost the SUCCESS status, it is written again.
    """
    out = Candidates()
    seen: set[str] = set()
    for order in orders:
        joor_id, number = om.order_key(order)
        if not joor_id or joor_id in seen:
            continue
        seen.add(joor_id)
        reason = om.candidate_skip_reason(order, status, start, scope.window)
        if reason:
            out.skipped.append({"joor_id": joor_id, "order_number": number, "reason": reason})
            continue
        row = ledger.get(joor_id)
        if row and row.get("state") == EXPORTED:
            if om.edited_after_export(order, row):
                out.edited.append({
                    "joor_id": joor_id, "order_number": number, "amc_order_id": om.text(row.get("amc_order_id")),
                    "last_modified": om.text(order.get("last_modified")),
                    "already_reported": str(om.text(row.get("review_last_modified")) == om.text(order.get("last_modified"))),
                })
            elif om.text(order.get("export_status")).upper() != "SUCCESS":
                out.resend.append({"joor_id": joor_id, "order_number": number,
                                   "amc_order_id": om.text(row.get("amc_order_id")),
                                   "last_modified": om.text(order.get("last_modified"))})
            else:
                out.unchanged += 1
            continue
        out.orders.append(dict(order))
    return out


def fetch_candidates(joor: Any, settings: Any, scope: RunScope, engine: Engine) -> Candidates:
    """Read candidate orders from JOOR (v4, never v2 sync=1) and triage them against the ledger."""
    status = settings.joor_order_status
    start: date = settings.order_start_date
    filters: dict[str, Any] = {"status": [status]}
    if scope.mode == "ids":
        filters["order_ids"] = list(scope.order_ids)
    else:
        lo = start
        if scope.approved_from is not None:
            lo = max(lo, scope.approved_from.date())
        filters["date_approved_start"] = lo
        if scope.approved_to is not None:
            filters["date_approved_end"] = scope.approved_to.date()
    if scope.mode == "pending":
        filters["export_status"] = ["UNDEFINED", "FAILED"]
    fetched = list(_joor_list_orders(joor, **filters))
    ledger = ledger_load((om.text(o.get("id")) for o in fetched), engine)
    cands = triage(fetched, ledger, status=status, start=start, scope=scope)
    if scope.mode == "ids":
        found = {om.text(o.get("id")) for o in fetched}
        for oid in scope.order_ids:
            if oid not in found:
                cands.skipped.append({"joor_id": oid, "order_number": oid,
                                      "reason": f"not found in JOOR with status {status}"})
    if cands.orders:
        lines = _joor_line_items(joor, [om.text(o.get("id")) for o in cands.orders])
        for o in cands.orders:
            o["line_items"] = lines.get(om.text(o.get("id")), [])
    return cands


def find_edited_after_export(joor: Any, settings: Any, engine: Engine, since: date) -> list[dict[str, str]]:
    """Exported orders JOOR shows modified after our export (JOOR keeps export status SUCCESS on edits)."""
    rows = list(_joor_list_orders(
        joor, status=[settings.joor_order_status], export_status=["SUCCESS"], last_modified_start=since,
    ))
    ledger = ledger_load((om.text(o.get("id")) for o in rows), engine)
    out = []
    for order in rows:
        joor_id, number = om.order_key(order)
        row = ledger.get(joor_id)
        if row and row.get("state") == EXPORTED and not row.get("joor_last_modified"):
            ledger_exported([(joor_id, om.text(order.get("last_modified")) or None)], engine)  # calibrate
            continue
        if row and om.edited_after_export(order, row):
            out.append({
                "joor_id": joor_id, "order_number": number, "amc_order_id": om.text(row.get("amc_order_id")),
                "last_modified": om.text(order.get("last_modified")),
                "already_reported": str(om.text(row.get("review_last_modified")) == om.text(order.get("last_modified"))),
            })
    return out


def pending_connection_codes(joor: Any, codes: Iterable[str], engine: Engine) -> set[str]:
    """Customer codes whose JOOR connection is still pending with Data Services.

    Active codes are remembered (a connection does not go back to pending), so each code costs
    at most one JOOR read until it is active.
    """
    codes = sorted({om.text(c) for c in codes if om.text(c)})
    if not codes:
        return set()
    t = order_connection_status
    with engine.connect() as conn:
        known_active = {
            r.customer_code
            for r in conn.execute(sa.select(t.c.customer_code).where(t.c.status == "active", t.c.customer_code.in_(codes)))
        }
    unknown = [c for c in codes if c not in known_active]
    if not unknown:
        return set()
    statuses = _connection_statuses(joor, unknown)
    now = utcnow()
    with engine.begin() as conn:
        for code, st in statuses.items():
            if not st:
                continue
            conn.execute(t.delete().where(t.c.customer_code == code))
            conn.execute(t.insert().values(customer_code=code, status=str(st).lower(), checked_at=now))
    return {c for c, st in statuses.items() if st and str(st).lower() == "pending"}


#: Up to this many unknown codes are read one by one (1 credit each); more -> one paged list read.
CONNECTION_LOOKUP_ONE_BY_ONE = 5


def _connection_statuses(joor: Any, codes: Sequence[str]) -> dict[str, str | None]:
    """JOOR connection status (active | pending | None = no connection) per customer code."""
    if len(codes) <= CONNECTION_LOOKUP_ONE_BY_ONE:
        out: dict[str, str | None] = {}
        for code in codes:
            conn = joor.get_connection_by_code(code)
            out[code] = (conn.status or "active") if conn is not None else None
        return out
    wanted = set(codes)
    out = dict.fromkeys(codes)
    for conn in joor.iter_connections():
        code = om.text(conn.customer_code)
        if code in wanted:
            out[code] = conn.status or "active"
    return out


# --------------------------------------------------------------------------- AMC reads + planning


def load_lookups(amc: Any, page_size: int | None = None) -> om.Lookups:
    """Every AMC record the mapping needs, read once per run in bulk (no per-line calls)."""
    t0 = time.monotonic()
    customers = list(amc.iter_rows("customers", page_size=page_size))
    skus = list(amc.iter_rows("inventory", page_size=page_size))
    locations = list(amc.iter_rows("locations", page_size=page_size))
    lookups = om.Lookups.build(
        customers=customers,
        skus=skus,
        # raw rows: only id and name are needed, and a bad rate on one currency must not sink the pull
        currencies=list(amc.iter_rows("currencies", page_size=page_size)),
        locations=locations,
        ship_methods=[_dump(s) for s in amc.list_ship_methods()],
        terms=[_dump(s) for s in amc.list_terms()],
    )
    log.info("AMC lookups: %d customers, %d SKUs, %d ship-tos in %.1fs",
             len(customers), len(skus), len(locations), time.monotonic() - t0)
    return lookups


def plan_orders(
    orders: Sequence[Mapping[str, Any]],
    lookups: om.Lookups,
    ms: om.MappingSettings,
    pending_codes: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[om.OrderPlan]:
    """Plan every candidate (pure): an AMC payload or the reasons it cannot be imported."""
    plans = []
    for order in orders:
        plan = om.plan_order(order, order.get("line_items") or [], lookups, ms)
        code = om.text(order.get("customer_code"))
        if code in pending_codes:
            plan.reasons.insert(0, f"customer code {code} is still pending with JOOR Data Services "
                                   "(connection not yet matched); the order imports once JOOR activates it")
            plan.payload = None
        plans.append(plan)
    return plans


# --------------------------------------------------------------------------- import


@dataclass
class ImportOutcome:
    joor_id: str
    order_number: str
    outcome: str  # created | existing | already | failed | uncertain | dry_run
    amc_order_id: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("created", "existing", "already", "dry_run")

    def line(self) -> str:
        """The one log line per order."""
        tag = f"JOOR order {self.order_number} (id {self.joor_id})"
        if self.outcome == "created":
            return f"{tag}: created AMC order {self.amc_order_id}"
        if self.outcome == "existing":
            return f"{tag}: already in AMC as order {self.amc_order_id} (not created again)"
        if self.outcome == "already":
            return f"{tag}: imported earlier as AMC order {self.amc_order_id}; export status pending"
        if self.outcome == "dry_run":
            return f"{tag}: would be created in AMC (dry run)"
        return f"{tag}: FAILED - {self.reason}"


def _is_ambiguous(exc: Exception) -> bool:
    if getattr(exc, "ambiguous", False):
        return True
    return getattr(exc, "kind", None) in ("timeout", "connection", "server_error", "malformed")


def _amc_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None) or []
    msgs = [e if isinstance(e, str) else str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors]
    return "; ".join(msgs) or getattr(exc, "message", None) or str(exc)


def import_order(
    amc: Any,
    plan: Mapping[str, Any],
    engine: Engine,
    run_id: str,
    *,
    grace_seconds: float | None = None,
    lookup_retry_delay: float = 1.0,
) -> ImportOutcome:
    """Import one planned order exactly once (see the module docstring for the sequence).

    Record-level problems come back as a failed outcome; infrastructure failures that leave
    the outcome unknown (AMC unreachable for the lookup) raise, so the task retries.
    """
    joor_id, number = str(plan["joor_id"]), str(plan["order_number"])
    if not plan.get("payload"):
        return _unmappable(amc, plan, engine, run_id)
    row = ledger_begin(joor_id, number, run_id, engine)
    if row["state"] in (IMPORTED, EXPORTED) and row.get("amc_order_id"):
        return ImportOutcome(joor_id, number, "already", row["amc_order_id"])
    found = amc.find_order_by_joor_number(number)
    if found is not None:
        ledger_imported(joor_id, found.order_id, engine)
        return ImportOutcome(joor_id, number, "existing", str(found.order_id))
    grace_seconds = uncertain_grace_seconds() if grace_seconds is None else grace_seconds
    since = row.get("uncertain_since")
    if since is not None:
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        waited = (utcnow() - since).total_seconds()
        if waited < grace_seconds:
            reason = (f"an earlier attempt to create it in AMC got no answer {int(waited)}s ago and AMC does not "
                      f"show it yet; it is looked up again on the next run and re-created only if still absent "
                      f"after {int(grace_seconds // 60)} minutes")
            ledger_failed(joor_id, reason, engine, uncertain=True)
            return ImportOutcome(joor_id, number, "uncertain", reason=reason)
    payload = plan["payload"]
    try:
        created = amc.create_order(payload["header"], payload["items"])
    except Exception as exc:  # noqa: BLE001 - classified below; unknown errors re-raise
        if not hasattr(exc, "kind"):
            raise
        if _is_ambiguous(exc):
            for attempt in range(2):
                if attempt:
                    time.sleep(lookup_retry_delay)
                found = amc.find_order_by_joor_number(number)
                if found is not None:
                    crash_point("after_amc_create")
                    ledger_imported(joor_id, found.order_id, engine)
                    return ImportOutcome(joor_id, number, "created", str(found.order_id))
            reason = (f"AMC did not confirm the create ({getattr(exc, 'kind', 'error')}); not re-sent to avoid a "
                      "duplicate - it is looked up again on the next run")
            ledger_failed(joor_id, reason, engine, uncertain=True)
            return ImportOutcome(joor_id, number, "uncertain", reason=reason)
        reason = f"AMC rejected the order: {_amc_message(exc)}"
        ledger_failed(joor_id, reason, engine)
        return ImportOutcome(joor_id, number, "failed", reason=reason)
    crash_point("after_amc_create")
    ledger_imported(joor_id, created.order_id, engine)
    return ImportOutcome(joor_id, number, "created", str(created.order_id))


def _unmappable(amc: Any, plan: Mapping[str, Any], engine: Engine, run_id: str) -> ImportOutcome:
    """An order that cannot be mapped: failed — unless an earlier attempt may have created it in AMC."""
    joor_id, number = str(plan["joor_id"]), str(plan["order_number"])
    reason = plan.get("reason") or "the order could not be mapped"
    row = ledger_load([joor_id], engine).get(joor_id)
    if row and (row["state"] in (IMPORTING, IMPORTED, EXPORTED)):
        if row.get("amc_order_id") and row["state"] in (IMPORTED, EXPORTED):
            return ImportOutcome(joor_id, number, "already", row["amc_order_id"])
        found = amc.find_order_by_joor_number(number)
        if found is not None:
            ledger_imported(joor_id, found.order_id, engine)
            return ImportOutcome(joor_id, number, "existing", str(found.order_id))
    ledger_record_failure(joor_id, number, reason, run_id, engine)
    return ImportOutcome(joor_id, number, "failed", reason=reason)


def import_plans(
    amc: Any, plans: Sequence[Mapping[str, Any]], engine: Engine, run_id: str, *, dry_run: bool = False
) -> list[ImportOutcome]:
    """Import a batch of planned orders; one bad order never stops the others."""
    outcomes = []
    for plan in plans:
        if dry_run:
            if plan.get("payload"):
                out = ImportOutcome(str(plan["joor_id"]), str(plan["order_number"]), "dry_run")
            else:
                out = ImportOutcome(str(plan["joor_id"]), str(plan["order_number"]), "failed",
                                    reason=plan.get("reason"))
        else:
            out = import_order(amc, plan, engine, run_id)
        log.info("%s", out.line())
        outcomes.append(out)
    return outcomes


# --------------------------------------------------------------------------- write-back


@dataclass
class WriteBackResult:
    success: list[str] = field(default_factory=list)  # JOOR order ids now SUCCESS (ledger exported)
    failed_written: list[str] = field(default_factory=list)  # FAILED + reason written
    unchanged_failed: list[str] = field(default_factory=list)  # FAILED with the same reason already shown
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (id, number, why JOOR refused)
    errors: list[str] = field(default_factory=list)  # whole batches that failed after retries
    calls: int = 0


def description(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= MAX_DESCRIPTION else reason[: MAX_DESCRIPTION - 1] + "…"


def write_back(
    joor: Any,
    successes: Sequence[Mapping[str, Any]],
    failures: Sequence[Mapping[str, Any]],
    engine: Engine,
    *,
    batch_size: int = 500,
) -> WriteBackResult:
    """Write Export Status back on JOOR in bulk batches; the ledger moves only after JOOR acks.

    ``successes``: {joor_id, order_number, amc_order_id, last_modified}; ``failures``:
    {joor_id, order_number, reason, export_status?, export_description?} (a FAILED status JOOR
    already shows with the same text is not re-sent: no credits for no change).
    """
    res = WriteBackResult()
    items: list[dict[str, Any]] = []
    meta: dict[str, Mapping[str, Any]] = {}
    for s in successes:
        jid = str(s["joor_id"])
        amc_id = om.text(s.get("amc_order_id"))
        items.append({"id": jid, "export_status": "SUCCESS",
                      "export_description": f"Imported into ApparelMagic as order {amc_id}" if amc_id else "Imported into ApparelMagic"})
        meta[jid] = s
    for f in failures:
        jid = str(f["joor_id"])
        if jid in meta:
            continue
        desc = description(str(f.get("reason") or "import failed"))
        if om.text(f.get("export_status")).upper() == "FAILED" and om.text(f.get("export_description")) == desc:
            res.unchanged_failed.append(jid)
            continue
        items.append({"id": jid, "export_status": "FAILED", "export_description": desc})
        meta[jid] = f
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        try:
            res.calls += 1
            results = joor.update_export_status(batch)
        except Exception as exc:  # noqa: BLE001 - keep going; the ledger keeps these 'imported'
            if not hasattr(exc, "kind"):
                raise
            res.errors.append(f"export status of {len(batch)} order(s) not written: {exc}")
            continue
        refused = {batch[r.index]["id"]: (r.message or r.error_code or "refused")
                   for r in results if not r.ok and 0 <= r.index < len(batch)}
        acked: list[str] = []
        for item in batch:
            jid = item["id"]
            m = meta[jid]
            if jid in refused:
                res.rejected.append((jid, om.text(m.get("order_number")), refused[jid]))
                continue
            if item["export_status"] == "SUCCESS":
                acked.append(jid)
                res.success.append(jid)
            else:
                res.failed_written.append(jid)
        if acked:
            # JOOR stamps last_modified when it stores the export status: remember the stamp *after*
            # our write, so only a later edit counts as "edited after export". Unknown (re-read
            # failed) -> None: the first later sighting calibrates it instead of raising a false alarm.
            stamps = _last_modified_now(joor, acked)
            ledger_exported([(jid, stamps.get(jid)) for jid in acked], engine)
    return res


def _last_modified_now(joor: Any, joor_ids: Sequence[str], page: int = 200) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        for start in range(0, len(joor_ids), page):
            for order in _joor_list_orders(joor, order_ids=list(joor_ids[start : start + page])):
                out[om.text(order.get("id"))] = om.text(order.get("last_modified"))
    except Exception as exc:  # noqa: BLE001 - the export itself is acknowledged; only the stamp is missing
        if not hasattr(exc, "kind"):
            raise
        log.warning("could not re-read JOOR last_modified after the write-back (%s); calibrating next run", exc)
    return out


def outcome_dicts(outcomes: Iterable[ImportOutcome]) -> list[dict[str, Any]]:
    return [asdict(o) for o in outcomes]


def plan_dict(plan: om.OrderPlan, order: Mapping[str, Any]) -> dict[str, Any]:
    """A plan as staged JSON, with what the write-back needs to know about the JOOR side."""
    return {
        "joor_id": plan.joor_id,
        "order_number": plan.order_number,
        "payload": plan.payload if plan.ok else None,
        "reason": plan.reason or None,
        "skipped_lines": plan.skipped_lines,
        "last_modified": om.text(order.get("last_modified")),
        "export_status": om.text(order.get("export_status")),
        "export_description": om.text(order.get("export_description")),
    }


# --------------------------------------------------------------------------- run steps
# Each step reads/writes run-scoped staged files and returns small manifests (paths + counts),
# so the DAG's tasks are one call each and a benchmark or test can run the same steps directly.

DEFAULT_BATCH_SIZE = int(os.environ.get("AMC_JOOR_ORDER_BATCH_SIZE", "250"))
EDIT_WATERMARK = "order_pull.edit_check"


def _report(flow: str = FLOW):
    from amc_joor.reporting import RunReport

    return RunReport(flow)


def step_fetch(
    joor: Any, settings: Any, scope: RunScope, engine: Engine, dag_id: str, run_id: str
) -> dict[str, Any]:
    """JOOR side of planning: candidates (+ lines), pending connections, exported-then-edited orders."""
    from amc_joor import staging

    t0 = time.monotonic()
    cands = fetch_candidates(joor, settings, scope, engine)
    pending = sorted(pending_connection_codes(joor, (o.get("customer_code") for o in cands.orders), engine)) \
        if cands.orders else []
    edited = list(cands.edited)
    if scope.mode == "pending":
        # JOOR keeps SUCCESS on an edited order: look at SUCCESS orders modified since the last check
        last = om.parse_date(_get_watermark(engine)) or settings.order_start_date
        check_started = utcnow()
        seen = {e["joor_id"] for e in edited}
        edited.extend(e for e in find_edited_after_export(joor, settings, engine, last) if e["joor_id"] not in seen)
        if not scope.dry_run:
            # JOOR filters by whole days: the check's own date (10 min of clock-skew margin) is enough
            _set_watermark(engine, (check_started - timedelta(minutes=10)).date().isoformat())
    for s in cands.skipped:
        log.info("JOOR order %s (id %s): skipped - %s", s["order_number"], s["joor_id"], s["reason"])
    for e in edited:
        log.info("JOOR order %s (id %s): edited in JOOR after its export to AMC order %s - not re-imported; "
                 "review by hand", e["order_number"], e["joor_id"], e["amc_order_id"])
    url = staging.stage_path(dag_id, run_id, "fetch", "candidates.json")
    staging.write_json(url, {
        "scope": asdict(scope) | {"description": scope.describe()},
        "orders": cands.orders,
        "pending_codes": pending,
        "skipped": cands.skipped,
        "edited": edited,
        "resend": cands.resend,
        "unchanged": cands.unchanged,
    })
    log.info("%s: %d candidate(s), %d skipped, %d exported and unchanged, %d to re-mark SUCCESS, "
             "%d edited after export, %d pending connection(s) (%.1fs)", scope.describe(), len(cands.orders),
             len(cands.skipped), cands.unchanged, len(cands.resend), len(edited), len(pending), time.monotonic() - t0)
    return {"path": url, "candidates": len(cands.orders), "edited": len(edited), "resend": len(cands.resend)}


def _get_watermark(engine: Engine) -> str | None:
    from amc_joor.state import get_watermark

    return get_watermark(EDIT_WATERMARK, engine)


def _set_watermark(engine: Engine, value: str) -> None:
    from amc_joor.state import set_watermark

    set_watermark(EDIT_WATERMARK, value, engine)


def step_plan(
    amc: Any, settings: Any, fetch_manifest: Mapping[str, Any], engine: Engine, dag_id: str, run_id: str,
    *, batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[dict[str, Any]]:
    """AMC side of planning: bulk lookups, one plan per order, staged in batches for the import."""
    from amc_joor import staging

    data = staging.read_json(fetch_manifest["path"])
    orders = data["orders"]
    batches: list[dict[str, Any]] = []
    if not orders:
        return batches
    lookups = load_lookups(amc, page_size=getattr(settings, "amc_page_size", None))
    ms = om.MappingSettings.from_settings(settings)
    plans = plan_orders(orders, lookups, ms, set(data.get("pending_codes") or ()))
    by_id = {om.text(o.get("id")): o for o in orders}
    rows = [plan_dict(p, by_id[p.joor_id]) for p in plans]
    for i in range(0, len(rows), batch_size):
        chunk = rows[i : i + batch_size]
        url = staging.stage_path(dag_id, run_id, "plan", f"batch-{i // batch_size:04d}.json")
        staging.write_json(url, chunk)
        batches.append({"index": i // batch_size, "path": url, "count": len(chunk),
                        "mappable": sum(1 for r in chunk if r["payload"])})
    log.info("planned %d order(s): %d mappable, %d with problems, in %d batch(es)", len(rows),
             sum(b["mappable"] for b in batches), len(rows) - sum(b["mappable"] for b in batches), len(batches))
    return batches


def step_import(
    amc: Any, batch: Mapping[str, Any], engine: Engine, dag_id: str, run_id: str, *, dry_run: bool = False
) -> str:
    """Import one staged batch (exactly once per order); stage the outcomes for the write-back."""
    from amc_joor import staging

    plans = staging.read_json(batch["path"])
    by_id = {p["joor_id"]: p for p in plans}
    outcomes = import_plans(amc, plans, engine, run_id, dry_run=dry_run)
    rows = []
    for o in outcomes:
        p = by_id[o.joor_id]
        rows.append(asdict(o) | {"last_modified": p.get("last_modified"), "export_status": p.get("export_status"),
                                 "export_description": p.get("export_description")})
    url = staging.stage_path(dag_id, run_id, "import", f"batch-{int(batch['index']):04d}.json")
    return staging.write_json(url, rows)


def step_write_back(
    joor: Any, settings: Any, engine: Engine, dag_id: str, run_id: str, fetch_manifest: Mapping[str, Any] | None,
    import_paths: Sequence[str], *, dry_run: bool = False,
) -> dict[str, Any]:
    """Write Export Status on JOOR: SUCCESS for every ledger row still 'imported' (this run's and any
    earlier crashed run's), FAILED + reason for this run's failures. Stages this step's report.

    Raises (after writing everything it could) when a whole JOOR call failed, so the task retries.
    """
    from amc_joor import staging

    report = _report()
    outcomes: list[dict[str, Any]] = []
    for url in import_paths or []:
        outcomes.extend(staging.read_json(url))
    fetched = staging.read_json(fetch_manifest["path"]) if fetch_manifest else {}
    by_id = {o["joor_id"]: o for o in outcomes}
    for o in outcomes:
        if o["outcome"] in ("failed", "uncertain"):
            report.fail(ENTITY, o["order_number"], o.get("reason") or "failed")  # counts it as failed
            if o["outcome"] == "uncertain":
                report.count(ENTITY, "uncertain")
        else:
            report.count(ENTITY, o["outcome"])
    for s in fetched.get("skipped") or []:
        report.count(ENTITY, "skipped")
        if fetched.get("scope", {}).get("mode") == "ids":
            report.note(f"skipped {s['order_number']}", s["reason"])
    report.count(ENTITY, "unchanged", int(fetched.get("unchanged") or 0))
    if dry_run:
        report.note("dry_run", "nothing was written to AMC or JOOR")
        url = staging.stage_path(dag_id, run_id, "write_back", "report.json")
        staging.write_json(url, report.to_dict())
        return {"report": url, "success": 0, "failed": 0, "imports_received": len(import_paths or [])}

    imported = ledger_rows(engine, IMPORTED)
    successes = []
    for row in imported:
        o = by_id.get(row["joor_order_id"], {})
        successes.append({"joor_id": row["joor_order_id"], "order_number": row["order_number"],
                          "amc_order_id": row["amc_order_id"], "last_modified": o.get("last_modified")})
    for r in fetched.get("resend") or []:
        if r["joor_id"] not in {s["joor_id"] for s in successes}:
            successes.append(r)
    failures = [o for o in outcomes if o["outcome"] in ("failed", "uncertain")]
    res = write_back(joor, successes, failures, engine, batch_size=int(getattr(settings, "joor_v4_bulk_max", 500)))
    report.count(ENTITY, "export_success_written", len(res.success))
    report.count(ENTITY, "export_failed_written", len(res.failed_written))
    report.count(ENTITY, "export_failed_unchanged", len(res.unchanged_failed))
    earlier = [s for s in successes if s["joor_id"] in set(res.success) and s["joor_id"] not in by_id]
    if earlier:
        report.note("export_status_completed_from_earlier_runs", len(earlier))
    numbers = {s["joor_id"]: s["order_number"] for s in successes}
    for jid in res.success:
        log.info("JOOR order %s (id %s): Export Status SUCCESS written", numbers.get(jid, jid), jid)
    for _jid, number, why in res.rejected:
        report.fail(ENTITY, number, f"JOOR refused the export status: {why}")
    report.note("joor_write_calls", res.calls)
    url = staging.stage_path(dag_id, run_id, "write_back", "report.json")
    staging.write_json(url, report.to_dict())
    if res.errors:
        raise RuntimeError("; ".join(res.errors) + " - the imported orders keep their ledger state and are "
                           "written back on retry")
    return {"report": url, "success": len(res.success), "failed": len(res.failed_written),
            "imports_received": len(import_paths or [])}


INCOMPLETE = "the order ledger keeps every order's state: nothing is lost, the next run (or Clear) finishes it"


def step_report(engine: Engine, dag_id: str, run_id: str, fetch_manifest: Mapping[str, Any] | None,
                write_back_manifest: Mapping[str, Any] | None, batches: Sequence[Any] | None = (),
                *, steps_ran: bool = True):
    """The run's RunReport: write-back report + edited-after-export orders (each edit reported once).

    A step that did not complete (an upstream task failed after its retries) is a failure of the
    run itself, so the last task — and with it the run — ends failed even though it ran.
    """
    from amc_joor import staging
    from amc_joor.reporting import RunReport

    report = _report()
    if steps_ran:
        missing = []
        if fetch_manifest is None:
            missing.append("fetch_candidates (JOOR read)")
        elif batches is None:
            missing.append("plan_orders (AMC lookups)")
        elif write_back_manifest is not None and int(write_back_manifest.get("imports_received", 0)) < len(batches):
            n = len(batches) - int(write_back_manifest.get("imports_received", 0))
            missing.append(f"{n} of {len(batches)} import_orders batch(es)")
        if write_back_manifest is None:
            missing.append("write_back (JOOR Export Status)")
        for step in missing:
            report.fail("run", step, f"did not complete (see that task's log); {INCOMPLETE}")
    if write_back_manifest and write_back_manifest.get("report"):
        report.merge(RunReport.from_dict(staging.read_json(write_back_manifest["report"])))
    fetched = staging.read_json(fetch_manifest["path"]) if fetch_manifest else {}
    if fetched:
        report.note("scope", fetched.get("scope", {}).get("description"))
    for e in fetched.get("edited") or []:
        if e.get("already_reported") == "True":
            report.count(ENTITY, "edited_after_export_known")
            continue
        report.fail(ENTITY, e["order_number"], (
            f"edited in JOOR ({e['last_modified']}) after it was imported as AMC order {e['amc_order_id']}; "
            "not re-imported - apply the change to the AMC order by hand"))
        if not (fetched.get("scope") or {}).get("dry_run"):
            ledger_reviewed(e["joor_id"], e["last_modified"], engine)
    return report


def run_order_pull(
    amc: Any, joor: Any, settings: Any, scope: RunScope, engine: Engine, *, dag_id: str = "joor_amc_order_pull",
    run_id: str = "manual", batch_size: int = DEFAULT_BATCH_SIZE,
):
    """The whole pull in one process (benchmarks, crash tests): fetch -> plan -> import -> write back -> report."""
    marks = [("start", time.monotonic())]
    fetch = step_fetch(joor, settings, scope, engine, dag_id, run_id)
    marks.append(("fetch", time.monotonic()))
    batches = step_plan(amc, settings, fetch, engine, dag_id, run_id, batch_size=batch_size)
    marks.append(("plan", time.monotonic()))
    paths = [step_import(amc, b, engine, dag_id, run_id, dry_run=scope.dry_run) for b in batches]
    marks.append(("import", time.monotonic()))
    crash_point("before_write_back")
    wb = step_write_back(joor, settings, engine, dag_id, run_id, fetch, paths, dry_run=scope.dry_run)
    marks.append(("write_back", time.monotonic()))
    report = step_report(engine, dag_id, run_id, fetch, wb, batches)
    report.note("step_seconds", {b[0]: round(b[1] - a[1], 2) for a, b in zip(marks, marks[1:], strict=False)})
    return report
