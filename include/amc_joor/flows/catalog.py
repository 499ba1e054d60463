"""Catalog push, the I/O half: extract AMC, plan against state, push batches to JOOR, linesheets.

The pure mapping/hash/delta logic is :mod:`amc_joor.flows.catalog_mapping`; this module reads
AMC through :class:`~amc_joor.hooks.amc.AmcHook`, writes JOOR through
:class:`~amc_joor.hooks.joor.JoorHook` (retries, paging, the credit budget live there) and keeps
what JOOR acknowledged in the integration's state store (``synced_records``). No Airflow here.

Rules this module keeps (issue #6):

* **State moves only after JOOR acknowledged**, per item: each batch records exactly the items
  JOOR's per-item results call ok, in one transaction, right after the call.
* **Create vs update from state**: a record with a remembered JOOR id is updated, otherwise
  created. JOOR answers ``DUPLICATED`` when an external id already exists (lost state, or a
  create that committed before its answer got lost): the pusher looks the ids up
  (``GET ... ?external_ids=`` / ``?product_ids=`` / ``?sku_ids=``) and updates instead, so a run
  with an empty state store still converges without duplicates.
* **Retry-safe batches**: a batch skips items whose state already holds the same hash
  acknowledged after this run was planned (a retried or cleared task re-sends only what JOOR did
  not acknowledge).
* **Never destructive**: nothing is deleted or set INACTIVE; styles unflagged or deleted in AMC
  are only reported. Linesheets: only collections whose JOOR id this integration remembers
  having created (state entity ``collection``) are ever updated.
* **Images and ``replace_all=true``**: JOOR's ``replace_all=true`` deletes, for each product
  (or colour) *in that request*, its existing assets of the *kinds uploaded for it*, nothing
  else. For a synced style, the style-level ``image``s and each synced colour's ``image`` and
  ``swatch`` belong to AMC (the plugin's contract: AMC images "go to the style level and
  overwrite it"), so each request carries the *complete* current set of those kinds for every
  record in it (a record's items never straddle two requests): the replace swaps exactly our
  previous set for the new one. Styles not synced, kinds we do not send for a record (e.g. a
  style-level swatch), and every other product are never touched. Why not additive uploads:
  re-sending a changed set (or any set after a lost state store) would pile up duplicates.
  A set that becomes empty in AMC is not sent (there is nothing to replace with): JOOR keeps
  the old images, nothing is deleted, and the report lists no change for it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from amc_joor import staging
from amc_joor.flows import catalog_mapping as cm
from amc_joor.reporting import RunReport
from amc_joor.state import get_engine, record_synced, synced_records

log = logging.getLogger(__name__)

DAG_ID = "amc_joor_catalog_push"
FLOW = "catalog"
#: Report entity holding JOOR call counts (``write`` / ``read``) and credits.
CALLS = "joor_calls"
#: Mapped push stages (DAG task per stage) and the entities each one carries.
STAGES: dict[str, tuple[str, ...]] = {
    "products": (cm.PRODUCT,),
    "skus": (cm.SKU,),
    "prices": (cm.PRICE,),
    "assets": (cm.ASSET, cm.COLOR_ASSET),
}
#: At most this many mapped task instances per stage; more batches share an instance.
MAX_UNITS_PER_STAGE = 32

PRODUCT_FIELDS = ("product_id", "style_number", "description", "web_title", "web_description", "season", "origin",
                  "content", "retail_price", "joor_sync", "joor_web_title", "joor_web_description", "images",
                  "price_groups")
COLORWAY_FIELDS = ("id", "product_id", "attribute_2", "color_code", "season", "joor_sync", "images")
SKU_FIELDS = ("sku_id", "product_id", "attr_2", "size", "upc_display", "active", "joor_sync")


# =========================================================================== state


def load_state_frame(entity: str, engine: sa.Engine | None = None, with_detail: bool = False):
    """All acknowledged records of one entity as a DataFrame (key, content_hash, joor_id[, detail]).

    A DataFrame rather than :func:`amc_joor.state.load_synced`'s dict of dicts: 600k price rows
    stay a few tens of MB and merge vectorised with the plan.
    """
    import pandas as pd

    engine = engine or get_engine()
    names = ["key", "content_hash", "joor_id"] + (["detail"] if with_detail else [])
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    # raw DB-API rows: 600k price rows as SQLAlchemy Row objects cost seconds and hundreds of MB
    sql = f'SELECT "key", content_hash, joor_id{", detail" if with_detail else ""} FROM synced_records WHERE entity = {mark}'
    with engine.connect() as conn:
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.execute(sql, (entity,))
            rows = cur.fetchall()
        finally:
            cur.close()
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    frame = pd.DataFrame.from_records(rows, columns=names)
    frame = frame.astype(object)
    if with_detail:  # JSON column read raw: decode it the way SQLAlchemy would have
        frame["detail"] = [json.loads(d) if isinstance(d, str) else d for d in frame["detail"]]
    return frame


def load_state(engine: sa.Engine | None = None) -> dict[str, Any]:
    """State frames of every catalog entity (product state with detail: the season)."""
    engine = engine or get_engine()
    return {e: load_state_frame(e, engine, with_detail=e == cm.PRODUCT) for e in cm.ENTITIES}


def state_rows(entity: str, keys: Iterable[str], engine: sa.Engine | None = None) -> dict[str, dict[str, Any]]:
    """key -> {content_hash, joor_id, acknowledged_at} for the given keys (chunked IN queries)."""
    engine = engine or get_engine()
    t = synced_records
    keys = list(dict.fromkeys(keys))
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for start in range(0, len(keys), 500):
            rows = conn.execute(
                sa.select(t.c.key, t.c.content_hash, t.c.joor_id, t.c.acknowledged_at).where(
                    t.c.entity == entity, t.c.key.in_(keys[start : start + 500]))
            )
            for r in rows:
                out[r.key] = {"content_hash": r.content_hash, "joor_id": r.joor_id, "acknowledged_at": r.acknowledged_at}
    return out


def joor_ids(entity: str, keys: Iterable[str], engine: sa.Engine | None = None) -> dict[str, str]:
    """key -> remembered JOOR id (only keys JOOR acknowledged with an id)."""
    return {k: v["joor_id"] for k, v in state_rows(entity, keys, engine).items() if v.get("joor_id")}


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# =========================================================================== extract


def extract(amc, dag_id: str, run_id: str) -> dict[str, Any]:
    """Read products, colorways, SKUs and currencies from AMC; stage them; return paths + counts.

    Everything is read (not only flagged styles): the linesheets and the leftover report need
    every style's flag and season, and AMC offers no filter on the JOOR SYNC flag.
    """
    import pandas as pd

    def frame(rows: Iterable[dict[str, Any]], fields: Sequence[str], nested: Sequence[str] = ()):
        data: dict[str, list] = {f: [] for f in fields}
        n = 0
        for row in rows:
            n += 1
            for f in fields:
                v = row.get(f)
                if f in nested:
                    v = json.dumps(v if v is not None else [], sort_keys=True)
                elif v is not None and not isinstance(v, str):
                    v = str(v)
                data[f].append(v)
        return pd.DataFrame(data, dtype=object), n

    products, n_products = frame(amc.iter_rows("products"), PRODUCT_FIELDS, ("images", "price_groups"))
    colorways, n_colorways = frame(amc.iter_rows("product_attributes"), COLORWAY_FIELDS, ("images",))
    skus, n_skus = frame(amc.iter_rows("inventory"), SKU_FIELDS)
    currencies = [
        {k: (str(v) if v is not None else None) for k, v in row.items()} for row in amc.iter_rows("currencies")
    ]
    out = {"counts": {"products": n_products, "colorways": n_colorways, "skus": n_skus,
                      "currencies": len(currencies)}}
    for name, f in (("products", products), ("colorways", colorways), ("skus", skus)):
        out[name] = staging.write_parquet(staging.stage_path(dag_id, run_id, "extract", f"{name}.parquet"), f)
    out["currencies"] = staging.write_json(staging.stage_path(dag_id, run_id, "extract", "currencies.json"), currencies)
    return out


def read_extract(manifest: dict[str, Any]):
    """(products, colorways, skus, currencies) from an :func:`extract` manifest."""
    return (staging.read_parquet(manifest["products"]), staging.read_parquet(manifest["colorways"]),
            staging.read_parquet(manifest["skus"]), staging.read_json(manifest["currencies"]))


# =========================================================================== plan


def make_plan(
    frames: tuple,
    options: cm.PlanOptions,
    engine: sa.Engine | None = None,
    price_types: Callable[[], list[dict[str, Any]]] | None = None,
) -> cm.CatalogPlan:
    """Plan against state. JOOR's price types are fetched (one GET) only when prices must be sent."""
    products, colorways, skus, currencies = frames
    state = load_state(engine)
    plan = cm.plan_catalog(products, colorways, skus, currencies, state, options, None)
    if price_types is not None and len(plan.items[cm.PRICE]):
        cm.apply_price_types(plan, price_types())
        plan.notes.pop("price_types", None)
    return plan


def stage_plan(plan: cm.CatalogPlan, dag_id: str, run_id: str, bulk_max: int, *, dry_run: bool = False,
               max_units: int = MAX_UNITS_PER_STAGE) -> dict[str, Any]:
    """Write the delta as batch files; return the manifest (units per stage, paths, counts).

    A *batch* is one JOOR request (<= ``bulk_max`` items). A *unit* is what one mapped task
    instance pushes: one or more batches of one stage (several only when a stage has more than
    ``max_units`` batches, to keep the number of task instances bounded).
    """
    planned_at = datetime.now(UTC).isoformat()
    units: dict[str, list[dict[str, Any]]] = {stage: [] for stage in STAGES}
    counts: dict[str, dict[str, int]] = {}
    batches_total = 0
    for stage, entities in STAGES.items():
        batches: list[dict[str, Any]] = []
        for entity in entities:
            frame = plan.items.get(entity)
            counts[entity] = {
                "selected": plan.selected.get(entity, 0),
                "unchanged": plan.unchanged.get(entity, 0),
                "create": int((frame["action"] == "create").sum()) if frame is not None and len(frame) else 0,
                "update": int((frame["action"] == "update").sum()) if frame is not None and len(frame) else 0,
            }
            if frame is None or frame.empty or dry_run:
                continue
            parts = (cm.batch_assets(entity, frame, bulk_max) if entity in (cm.ASSET, cm.COLOR_ASSET)
                     else cm.batch_rows(frame, bulk_max))
            for action, part in parts:
                i = len(batches)
                url = staging.stage_path(dag_id, run_id, "plan", f"{entity}-{i:04d}.parquet")
                staging.write_parquet(url, part.reset_index(drop=True))
                batches.append({"entity": entity, "action": action, "path": url, "count": len(part)})
        batches_total += len(batches)
        if not batches:
            continue
        n_units = min(max_units, len(batches))
        per = -(-len(batches) // n_units)
        for u, start in enumerate(range(0, len(batches), per)):
            group = batches[start : start + per]
            units[stage].append({
                "stage": stage, "index": u, "batches": group, "count": sum(b["count"] for b in group),
                "planned_at": planned_at,
                "label": f"{stage} {u + 1}: {sum(b['count'] for b in group)} items in {len(group)} call(s)",
            })
    report = plan_report(plan, counts, dry_run=dry_run)
    report_url = staging.write_json(staging.stage_path(dag_id, run_id, "plan", "report.json"), report.to_dict())
    coll_url = staging.write_json(staging.stage_path(dag_id, run_id, "plan", "collections.json"), plan.collections)
    return {"units": units, "report": report_url, "collections": coll_url, "planned_at": planned_at,
            "batches": batches_total, "counts": counts, "dry_run": dry_run}


def plan_report(plan: cm.CatalogPlan, counts: dict[str, dict[str, int]], *, dry_run: bool) -> RunReport:
    """The plan's part of the run report: unchanged counts, plan-time failures, leftovers, FX."""
    report = RunReport(FLOW)
    for entity, c in counts.items():
        report.count(entity, "unchanged", c["unchanged"])
        if dry_run:
            report.count(entity, "would_create", c["create"])
            report.count(entity, "would_update", c["update"])
    changed = [c for c in plan.collections if c["action"] != "unchanged"]
    report.count(cm.COLLECTION, "unchanged", len(plan.collections) - len(changed))
    if dry_run:
        for c in changed:
            report.count(cm.COLLECTION, f"would_{c['action']}")
    for f in plan.failures:
        report.fail(f.entity, f.key, f.reason)
    for kind, keys in plan.leftovers.items():
        entity = cm.PRODUCT if kind.startswith("styles") else cm.SKU
        report.count(entity, kind.split("_", 1)[1] + "_left_on_joor", len(keys))
        report.note(kind, _short_list(keys))
    for key, value in plan.notes.items():
        report.note(key, value)
    if dry_run:
        report.note("dry_run", "nothing was sent to JOOR")
    return report


def _short_list(keys: Sequence[str], limit: int = 20) -> str:
    head = ", ".join(keys[:limit])
    return head + (f" … (+{len(keys) - limit} more)" if len(keys) > limit else "")


# =========================================================================== JOOR access


@dataclass
class ItemResult:
    """One item's outcome, normalised from the hook's per-item results."""

    index: int
    ok: bool
    id: str | None = None
    external_id: str | None = None
    error_code: str | None = None
    message: str | None = None

    @property
    def duplicated(self) -> bool:
        return (self.error_code or "").upper() == "DUPLICATED" or "duplicat" in (self.message or "").lower()


class CatalogApi:
    """The few JOOR catalog calls this flow makes, over the hook; counts calls and credits.

    One place that knows the hook's method names, so the flow code reads in domain terms.
    """

    def __init__(self, hook, report: RunReport | None = None) -> None:
        self.hook = hook
        self.report = report or RunReport(FLOW)

    def _count(self, method: str, n: int = 1) -> None:
        kind = "write" if method != "GET" else "read"
        self.report.count(CALLS, kind, n)
        self.report.count(CALLS, "credits", n * (5 if kind == "write" else 1))

    @staticmethod
    def _norm(results: Iterable[Any]) -> list[ItemResult]:
        out = []
        for r in results:
            get = r.get if isinstance(r, dict) else (lambda k, _r=r: getattr(_r, k, None))
            out.append(ItemResult(index=int(get("index")), ok=bool(get("ok")), id=get("id"),
                                  external_id=get("external_id"), error_code=get("error_code"),
                                  message=get("message")))
        return out

    def price_types(self) -> list[dict[str, Any]]:
        self._count("GET")
        return [_plain(p) for p in self.hook.list_price_types()]

    def _calls(self, n_items: int) -> int:
        """How many requests the hook splits ``n_items`` into (its own bulk maximum)."""
        cfg = getattr(self.hook, "config", None)
        limit = int(getattr(cfg, "v4_bulk_max", 500) or 500)
        return max(1, -(-n_items // limit))

    def bulk(self, kind: str, action: str, items: list[dict[str, Any]]) -> list[ItemResult]:
        """``POST /v4/<kind>/bulk_<action>`` (kind: products|skus|prices|collections)."""
        self._count("POST", self._calls(len(items)))
        method = getattr(self.hook, f"bulk_{action}_{kind}")
        return self._norm(method(items))

    def find(self, kind: str, **filters: Sequence[str]) -> list[dict[str, Any]]:
        """``GET /v4/<kind>?<filter>=a,b,...`` across pages (the hook splits long id lists)."""
        values = [list(v) for v in filters.values()]
        if not values or not values[0]:
            return []
        rows = [_plain(r) for r in getattr(self.hook, f"iter_{kind}")(**{k: list(v) for k, v in filters.items()})]
        page = int(getattr(self.hook, "v4_page_size", 200) or 200)
        self._count("GET", max(-(-len(values[0]) // 200), -(-len(rows) // page), 1))
        return rows

    def upload_assets(self, target: str, items: list[dict[str, Any]], replace_all: bool = False) -> list[ItemResult]:
        """``POST /v4/assets/products`` (target products) or ``/v4/assets/sku_trait_values``."""
        self._count("POST", self._calls(len(items)))
        if target == "products":
            return self._norm(self.hook.upload_product_assets(items, replace_all=replace_all))
        return self._norm(self.hook.upload_sku_trait_value_assets(items, replace_all=replace_all))


def _plain(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    return dump(mode="json") if dump else dict(obj)


# =========================================================================== push


def push_unit(hook, unit: dict[str, Any], engine: sa.Engine | None = None) -> RunReport:
    """Push every batch of one mapped unit, each committing its own state after JOOR's answer."""
    engine = engine or get_engine()
    report = RunReport(FLOW)
    api = CatalogApi(hook, report)
    planned_at = datetime.fromisoformat(unit["planned_at"])
    for batch in unit["batches"]:
        frame = staging.read_parquet(batch["path"])
        push_batch(api, batch["entity"], batch["action"], frame, engine, planned_at)
    return report


def push_batch(api: CatalogApi, entity: str, action: str, frame, engine: sa.Engine, planned_at: datetime) -> None:
    """Send one batch (one JOOR request, plus reconciliation when JOOR says DUPLICATED)."""
    rows = frame.to_dict("records")
    current = state_rows(entity, (r["key"] for r in rows), engine)
    todo = []
    for r in rows:
        st = current.get(r["key"])
        acked_at = _aware(st.get("acknowledged_at")) if st else None
        if st and st.get("joor_id") and st["content_hash"] == r["hash"] and acked_at and acked_at >= planned_at:
            api.report.count(entity, "already_acknowledged")  # a retry: JOOR has it from an earlier attempt
            continue
        if st and st.get("joor_id"):
            r["joor_id"] = st["joor_id"]
            r["action"] = "update"
        todo.append(r)
    if not todo:
        return
    pusher = PUSHERS[entity]
    pusher(api, entity, todo, engine)


def _commit(entity: str, acked: list[dict[str, Any]], engine: sa.Engine) -> None:
    record_synced(entity, acked, engine)


def _detail(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return {"value": value}
    return value


def _upsert(
    api: CatalogApi,
    entity: str,
    kind: str,
    rows: list[dict[str, Any]],
    engine: sa.Engine,
    body: Callable[[dict[str, Any]], dict[str, Any] | None],
    lookup: Callable[[list[dict[str, Any]]], dict[str, str]],
) -> None:
    """Create/update ``rows`` of one entity with JOOR's bulk endpoints; reconcile DUPLICATED.

    ``body(row)`` builds the JOOR body (None = a parent is missing: the row is skipped);
    ``lookup(rows)`` finds JOOR ids of rows JOOR reported as DUPLICATED (key -> id).
    """
    report = api.report
    creates: list[tuple[dict, dict]] = []
    updates: list[tuple[dict, dict]] = []
    for r in rows:
        b = body(r)
        if b is None:
            continue
        if r.get("action") == "update" and r.get("joor_id"):
            updates.append((r, {**b, "id": r["joor_id"]}))
        else:
            creates.append((r, b))

    def send(action: str, pairs: list[tuple[dict, dict]], last: bool = False) -> tuple[list, list]:
        """One bulk call; commits the acknowledged items; returns (duplicated, not found)."""
        if not pairs:
            return [], []
        results = api.bulk(kind, action, [b for _, b in pairs])
        if os.environ.get("AMC_JOOR_TEST_CRASH_AT"):  # tests/chaos only: kill -9 after JOOR acked, before state
            from amc_joor.flows.orders import crash_point

            crash_point(f"catalog_acked_{entity}")
        by_index = {res.index: res for res in results}
        acked, dups, missing = [], [], []
        for i, (r, b) in enumerate(pairs):
            res = by_index.get(i)
            if res is not None and res.ok:
                acked.append({"key": r["key"], "content_hash": r["hash"], "joor_id": res.id or r.get("joor_id"),
                              "detail": _detail(r.get("detail"))})
                report.count(entity, "created" if action == "create" else "updated")
            elif res is not None and action == "create" and res.duplicated and not last:
                dups.append((r, res.message or "DUPLICATED"))
            elif res is not None and action == "update" and (res.error_code or "").upper() == "NOT_FOUND" \
                    and not last:
                missing.append((r, {k: v for k, v in b.items() if k != "id"}))  # gone on JOOR: create again
            else:
                why = (res.message or res.error_code) if res is not None else "no result for this item in JOOR's answer"
                report.fail(entity, r["key"], f"JOOR refused the {action}: {why}")
        _commit(entity, acked, engine)
        return dups, missing

    dups, _ = send("create", creates)
    _, missing = send("update", updates)
    if missing:
        report.count(entity, "recreated_missing_on_joor", len(missing))
        more, _ = send("create", missing)
        dups += more
    if dups:
        found = lookup([r for r, _ in dups])
        again = []
        for r, message in dups:
            jid = found.get(r["key"])
            if jid:
                r["joor_id"] = jid
                b = body(r)
                if b is not None:
                    again.append((r, {**b, "id": jid}))
            else:
                report.fail(entity, r["key"], f"JOOR refused the create ({message}) and no {entity} with this "
                                              "external id was found to update instead")
        report.count(entity, "reconciled", len(again))
        send("update", again, last=True)


def _push_products(api: CatalogApi, entity: str, rows: list[dict], engine: sa.Engine) -> None:
    def body(r: dict) -> dict:
        return json.loads(r["body"])

    def lookup(dups: list[dict]) -> dict[str, str]:
        found = api.find("products", external_ids=[r["key"] for r in dups])
        return {str(p.get("external_id")): str(p["id"]) for p in found if p.get("external_id")}

    _upsert(api, entity, "products", rows, engine, body, lookup)


def _push_skus(api: CatalogApi, entity: str, rows: list[dict], engine: sa.Engine) -> None:
    parents = joor_ids(cm.PRODUCT, {r["parent"] for r in rows}, engine)
    missing_parent = 0

    def body(r: dict) -> dict | None:
        nonlocal missing_parent
        pid = parents.get(r["parent"])
        if not pid:
            missing_parent += 1
            return None
        return {"product_id": pid, **json.loads(r["body"])}

    def lookup(dups: list[dict]) -> dict[str, str]:
        pids = sorted({parents[r["parent"]] for r in dups if r["parent"] in parents})
        found = api.find("skus", product_ids=pids)
        return {str(s.get("external_id")): str(s["id"]) for s in found if s.get("external_id")}

    _upsert(api, entity, "skus", rows, engine, body, lookup)
    if missing_parent:
        api.report.count(entity, "skipped_style_not_on_joor", missing_parent)


def _push_prices(api: CatalogApi, entity: str, rows: list[dict], engine: sa.Engine) -> None:
    skus = joor_ids(cm.SKU, {r["parent"] for r in rows}, engine)
    missing_parent = 0

    def body(r: dict) -> dict | None:
        nonlocal missing_parent
        sid = skus.get(r["parent"])
        if not sid:
            missing_parent += 1
            return None
        b = json.loads(r["body"])
        return {"sku_id": sid, "price_type_id": r["price_type_id"], "wholesale_value": b["wholesale_value"],
                "retail_value": b["retail_value"]}

    def lookup(dups: list[dict]) -> dict[str, str]:
        sku_ids = sorted({skus[r["parent"]] for r in dups if r["parent"] in skus})
        found = api.find("prices", sku_ids=sku_ids)
        by_pair = {(str(p.get("sku_id")), str(p.get("price_type_id"))): str(p["id"]) for p in found}
        return {r["key"]: by_pair[(skus[r["parent"]], r["price_type_id"])] for r in dups
                if r["parent"] in skus and (skus[r["parent"]], r["price_type_id"]) in by_pair}

    _upsert(api, entity, "prices", rows, engine, body, lookup)
    if missing_parent:
        api.report.count(entity, "skipped_sku_not_on_joor", missing_parent)


def _push_assets(api: CatalogApi, entity: str, rows: list[dict], engine: sa.Engine) -> None:
    """Upload one packed batch of asset sets (see the module docstring for ``replace_all``)."""
    products = joor_ids(cm.PRODUCT, {r["parent"] for r in rows}, engine)
    report = api.report
    sendable = []
    for r in rows:
        if r["parent"] not in products:
            report.count(entity, "skipped_style_not_on_joor")
            continue
        sendable.append(r)
    target = "products" if entity == cm.ASSET else "sku_trait_values"
    items: list[dict] = []
    owners: list[int] = []
    for n, r in enumerate(sendable):
        body = json.loads(r["body"])
        pid = products[r["parent"]]
        made = cm.style_asset_items(pid, body) if entity == cm.ASSET else cm.color_asset_items(pid, body)
        items.extend(made)
        owners.extend([n] * len(made))
    # replace_all: see the module docstring (complete sets of AMC-owned kinds, never split)
    _upload(api, entity, target, sendable, items, owners, engine, replace_all=True)


def _upload(api: CatalogApi, entity: str, target: str, rows: list[dict], items: list[dict], owners: list[int],
            engine: sa.Engine, replace_all: bool = False) -> None:
    if not items:
        return
    # one request per packed batch: a style's images never straddle two requests (replace_all
    # is per request), so a style with more images than the bulk limit travels alone
    results = api.upload_assets(target, items, replace_all=replace_all)
    failed: dict[int, str] = {}
    by_index = {res.index: res for res in results}
    for i, owner in enumerate(owners):
        res = by_index.get(i)
        if res is None or not res.ok:
            failed.setdefault(owner, (res.message or res.error_code) if res else "no result in JOOR's answer")
    acked = []
    for n, r in enumerate(rows):
        if n in failed:
            api.report.fail(entity, r["key"], f"JOOR refused an image: {failed[n]}")
        else:
            acked.append({"key": r["key"], "content_hash": r["hash"], "joor_id": r["parent"], "detail": None})
            api.report.count(entity, "replaced" if replace_all else "uploaded")
    _commit(entity, acked, engine)


PUSHERS: dict[str, Callable[[CatalogApi, str, list[dict], sa.Engine], None]] = {
    cm.PRODUCT: _push_products,
    cm.SKU: _push_skus,
    cm.PRICE: _push_prices,
    cm.ASSET: _push_assets,
    cm.COLOR_ASSET: _push_assets,
}


# =========================================================================== linesheets


def sync_linesheets(hook, collections: list[dict[str, Any]], engine: sa.Engine | None = None,
                    bulk_max: int = 500) -> RunReport:
    """Create/update the integration-owned season linesheets whose membership changed.

    Only collections whose JOOR id we remember creating (state entity ``collection``) are ever
    updated; creating one JOOR already has (DUPLICATED) adopts it only when its external id is
    ours (``amc-season-…``), which no hand-made linesheet carries.
    """
    engine = engine or get_engine()
    report = RunReport(FLOW)
    api = CatalogApi(hook, report)
    changed = [c for c in collections if c["action"] != "unchanged"]
    if not changed:
        return report
    product_ids = joor_ids(cm.PRODUCT, {s for c in changed for s in c["styles"]}, engine)
    owned = state_rows(cm.COLLECTION, [c["external_id"] for c in changed], engine)
    rows = []
    for c in changed:
        present = [s for s in c["styles"] if s in product_ids]
        st = owned.get(c["external_id"])
        rows.append({
            "key": c["external_id"],
            # the hash of what is actually sent: styles not yet on JOOR make it differ from the
            # plan's, so the next run adds them when they arrive
            "hash": cm.collection_hash(c["name"], present),
            "action": "update" if st and st.get("joor_id") else "create",
            "joor_id": st.get("joor_id") if st else None,
            "name": c["name"],
            "styles": present,
            "detail": json.dumps({"season": c["season"], "styles": len(present), "owned": True}),
        })

    def body(r: dict) -> dict:
        items = [{"product_id": product_ids[s], "order_number": n} for n, s in enumerate(r["styles"], start=1)]
        return {"name": r["name"], "external_id": r["key"], "items": items}

    def lookup(dups: list[dict]) -> dict[str, str]:
        found = api.find("collections", external_ids=[r["key"] for r in dups])
        return {str(c["external_id"]): str(c["id"]) for c in found
                if str(c.get("external_id") or "").startswith(cm.SEASON_PREFIX)}

    for start in range(0, len(rows), bulk_max):
        _upsert(api, cm.COLLECTION, "collections", rows[start : start + bulk_max], engine, body, lookup)
    return report


# =========================================================================== report


def unit_report_path(dag_id: str, run_id: str, unit: dict[str, Any]) -> str:
    """Where a mapped push unit stages its report (deterministic: a retry overwrites)."""
    return staging.stage_path(dag_id, run_id, "push", f"{unit['stage']}-{unit['index']:04d}.report.json")


def merge_reports(planned: dict[str, Any], dag_id: str, run_id: str, linesheets: str | None = None) -> RunReport:
    """The run report: the plan's, every push unit's of this plan, and the linesheets'."""
    report = RunReport.from_dict(staging.read_json(planned["report"]))
    for stage in STAGES:
        for unit in planned.get(stage) or []:
            try:
                report.merge(staging.read_json(unit_report_path(dag_id, run_id, unit)))
            except FileNotFoundError:
                report.count(CALLS, "unit_report_missing")
    if linesheets:
        report.merge(staging.read_json(linesheets))
    calls = report.counts.get(CALLS, {})
    report.note("joor_credits_spent", int(calls.get("credits", 0)))
    report.note("joor_write_calls", int(calls.get("write", 0)))
    return report
