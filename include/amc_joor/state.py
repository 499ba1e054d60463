"""The integration's own memory: a SQLAlchemy Core store, never Airflow's metadata DB.

Why its own store: tasks may not touch Airflow's metadata DB in Airflow 3, and the state that
makes the flows idempotent (what JOOR acknowledged, the order ledger, watermarks, the shared
JOOR credit budget) must outlive any one run and be shared by every worker.

SQLite by default (``var/amc_joor_state.db`` under the repo), Postgres in production: set
``AMC_JOOR_STATE_URL`` (e.g. ``postgresql+psycopg2://airflow@postgres/amc_joor``).
Each mechanism defines its tables on :data:`metadata` in its own module; :func:`ensure_schema`
creates whatever is missing.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_schema_ready: set[str] = set()


def state_url() -> str:
    """The configured state-store URL (env ``AMC_JOOR_STATE_URL``), SQLite under the repo by default."""
    url = os.environ.get("AMC_JOOR_STATE_URL")
    if url:
        return url
    root = os.environ.get("AMC_JOOR_ROOT", os.getcwd())
    os.makedirs(os.path.join(root, "var"), exist_ok=True)
    return f"sqlite:///{os.path.join(root, 'var', 'amc_joor_state.db')}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL + a busy timeout: several task processes write concurrently under LocalExecutor.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def get_engine(url: str | None = None) -> Engine:
    """One pooled engine per URL per process, with the schema created on first use."""
    url = url or state_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = sa.create_engine(url, connect_args={"timeout": 30})
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
            _engines[url] = engine
    ensure_schema(engine)
    return engine


def ensure_schema(engine: Engine) -> None:
    """Create missing tables (idempotent; safe when several processes race)."""
    key = str(engine.url)
    if key in _schema_ready:
        return
    _import_table_modules()
    for attempt in range(1, 11):
        try:
            metadata.create_all(engine, checkfirst=True)
            break
        except (sa.exc.OperationalError, sa.exc.IntegrityError, sa.exc.ProgrammingError):
            # Another process created a table between our check and our CREATE ("already
            # exists"): check again, a bounded number of times, while it finishes.
            if attempt == 10:
                raise
            time.sleep(0.1 * attempt)
    _schema_ready.add(key)


def _import_table_modules() -> None:
    """Import every module that defines tables, so create_all sees them all."""
    import importlib

    for name in ("amc_joor.budget", "amc_joor.flows.orders", "amc_joor.flows.catalog",
                 "amc_joor.flows.inventory", "amc_joor.flows.customers"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- generic tables shared by the flows -------------------------------------------------------

#: What JOOR has acknowledged, per flow entity and key: the content hash sent, the JOOR id.
synced_records = sa.Table(
    "synced_records",
    metadata,
    sa.Column("entity", sa.String(40), primary_key=True),  # product | sku | price | asset | ...
    sa.Column("key", sa.String(200), primary_key=True),  # the AMC-side key (style number, sku id, ...)
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("joor_id", sa.String(100)),
    sa.Column("detail", sa.JSON),  # small per-record facts (e.g. the FX rate used)
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
)

#: Watermarks (e.g. the customer sync's last acknowledged last_modified_time).
watermarks = sa.Table(
    "watermarks",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(100), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def get_watermark(name: str, engine: Engine | None = None) -> str | None:
    engine = engine or get_engine()
    with engine.connect() as conn:
        return conn.execute(sa.select(watermarks.c.value).where(watermarks.c.name == name)).scalar()


def set_watermark(name: str, value: str, engine: Engine | None = None) -> None:
    engine = engine or get_engine()
    with engine.begin() as conn:
        updated = conn.execute(
            watermarks.update().where(watermarks.c.name == name).values(value=value, updated_at=utcnow())
        ).rowcount
        if not updated:
            conn.execute(watermarks.insert().values(name=name, value=value, updated_at=utcnow()))


def load_synced(entity: str, engine: Engine | None = None) -> dict[str, dict]:
    """Every acknowledged record of one entity: key -> {content_hash, joor_id, detail}."""
    engine = engine or get_engine()
    t = synced_records
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.key, t.c.content_hash, t.c.joor_id, t.c.detail).where(t.c.entity == entity)
        )
        return {r.key: {"content_hash": r.content_hash, "joor_id": r.joor_id, "detail": r.detail} for r in rows}


def record_synced(entity: str, records: list[dict], engine: Engine | None = None) -> int:
    """Upsert acknowledged records (each: key, content_hash, joor_id?, detail?) in one transaction.

    Called only after JOOR acknowledged them: state never runs ahead of the far side.
    """
    if not records:
        return 0
    engine = engine or get_engine()
    t = synced_records
    now = utcnow()
    keys = [r["key"] for r in records]
    with engine.begin() as conn:
        for start in range(0, len(keys), 500):
            conn.execute(t.delete().where(t.c.entity == entity, t.c.key.in_(keys[start : start + 500])))
        conn.execute(
            t.insert(),
            [
                {
                    "entity": entity,
                    "key": r["key"],
                    "content_hash": r["content_hash"],
                    "joor_id": r.get("joor_id"),
                    "detail": r.get("detail"),
                    "acknowledged_at": now,
                }
                for r in records
            ],
        )
    return len(records)
