"""amc_joor_catalog_push: styles, SKUs, prices, images and season linesheets to JOOR, deltas only.

Thin DAG: the logic lives in :mod:`amc_joor.flows.catalog` (I/O) and
:mod:`amc_joor.flows.catalog_mapping` (pure mapping, hashes, delta plan).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from amc_joor.assets import JOOR_CATALOG
from amc_joor.schedules import cron, default_args

DAG_ID = "amc_joor_catalog_push"

DOC_MD = """
### AMC → JOOR catalog push

JOOR is where retailers see the line. This DAG keeps JOOR's catalog equal to what AMC says:
**styles** (products), **SKUs** (every synced colour × size, UPC, Color/Size traits), **prices**
(one per SKU per AMC price group), **images** (style images, first image and swatch per colour)
and one **linesheet per AMC season**.

**What is synced.** Styles flagged *SYNC* (E-Commerce › JOOR Product Configuration); inside them
only colours flagged *SYNC* (JOOR SKU Configuration). JOOR external ids are AMC's: product =
style number, SKU = AMC SKU id. Name = JOOR Web Title, else Web Title, else Style Name;
description = JOOR Web Description, else Web Description, else Description.
Retail = style MSRP converted into each price group's currency at AMC's current rate
(`/currencies`), rounded half-up to cents; the rate used is kept per price and shown in the
report. A changed rate alone does not re-price (trigger a *full resync* to re-price everything).

**Only changes are sent.** A content hash per product / SKU / price / image set / linesheet is
kept for what JOOR acknowledged; only differing records are sent, in full bulk calls of up to
`joor_v4_bulk_max` (500) items. JOOR allows 300 credits per 5 minutes (a write costs 5): a run
with nothing changed makes **no JOOR writes at all**.

**Never destructive.** Nothing is deleted or set INACTIVE on JOOR. Styles unflagged or deleted in
AMC are listed in the report (`styles_unflagged`, `styles_deleted_in_amc`) and left as they are.
Linesheets created by hand in JOOR are never modified: only collections this integration created
(external id `amc-season-<season>`, remembered in the state store) are updated. Style images are
uploaded with `replace_all=true` only for styles whose earlier image set JOOR has *from this
integration*; a first upload never replaces.

**When it runs:** hourly (env `AMC_JOOR_CATALOG_PUSH_CRON`) and by hand. Its success publishes
the Asset `joor://catalog`, which triggers the inventory push.

**Settings** (Variable `amc_joor_settings`): `default_currency_name` (the AMC currency MSRP is
kept in), `image_sync`, `joor_v4_bulk_max`, `amc_page_size`, the JOOR credit budget keys.

**Trigger form:** `style_numbers` (only these styles; linesheets still cover every style),
`full_resync` (send everything and re-price at today's rates), `dry_run` (plan and report only),
`image_sync` (`setting` | `on` | `off`: override the setting for this run).

**Tasks:** `extract` (AMC → staged Parquet) → `plan` (map, hash, diff against state, stage
batches; JOOR's price types are read only when prices must be sent) → `<stage>_batches` (the
stage's work units) → `push_products` → `push_skus` → `push_prices` → `push_assets` (each
mapped over units of ≤ 500-item batches, at most 32 instances per stage; each batch records
state right after JOOR answers, per item) → `sync_linesheets` → `publish_catalog` (Asset
event; skipped on a dry run) and `report` (counts, FX rates used, credits spent, leftovers,
`failures.csv`).

**Operating:** a record JOOR refuses is listed with JOOR's reason in the report and
`failures.csv`; the run ends failed after everything else was sent, and the record is retried
next run. A failed batch task (JOOR down, credits exhausted) fails the run: *Clear* it (or
re-run) and only what JOOR did not acknowledge is sent again — nothing is created twice
(JOOR ids are remembered; a `DUPLICATED` answer is resolved by looking the id up).
"""


def _params() -> dict:
    return {
        "dry_run": Param(False, type="boolean", title="Dry run",
                         description="Plan and report what would be sent; send nothing to JOOR"),
        "full_resync": Param(False, type="boolean", title="Full resync",
                             description="Send every synced record, not only changes; re-price at today's FX rates"),
        "style_numbers": Param("", type="string", title="Style numbers",
                               description="Only these styles (comma-separated style numbers); empty = all"),
        "image_sync": Param("setting", type="string", enum=["setting", "on", "off"], title="Image sync",
                            description="Use the image_sync setting, or force images on/off for this run"),
    }


@dag(
    dag_id=DAG_ID,
    description="AMC styles, SKUs, prices, images and season linesheets to JOOR, changed records only",
    doc_md=DOC_MD,
    schedule=CronTriggerTimetable(cron("CATALOG_PUSH"), timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["amc-joor", "catalog"],
    params=_params(),
)
def amc_joor_catalog_push():
    @task
    def extract() -> dict:
        """Read products, colorways, SKUs and currencies from AMC into staged files."""
        from amc_joor.flows import catalog
        from amc_joor.hooks.amc import AmcHook

        ctx = get_current_context()
        manifest = catalog.extract(AmcHook(), DAG_ID, ctx["run_id"])
        return manifest

    @task
    def plan(extracted: dict) -> dict:
        """Map, hash and diff against state; stage the changed records in batches."""
        import logging

        from amc_joor.flows import catalog
        from amc_joor.flows import catalog_mapping as cm
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.params import split_list
        from amc_joor.settings import load_settings
        from amc_joor.state import get_engine

        ctx = get_current_context()
        params = ctx["params"]
        settings = load_settings()
        override = str(params.get("image_sync") or "setting")
        styles = tuple(split_list(params.get("style_numbers")))
        options = cm.PlanOptions(
            default_currency_name=settings.default_currency_name,
            image_sync=settings.image_sync if override == "setting" else override == "on",
            full_resync=bool(params.get("full_resync")),
            style_numbers=styles,
            bulk_max=settings.joor_v4_bulk_max,
        )
        dry_run = bool(params.get("dry_run"))
        joor = JoorHook()
        # batches as large as both the setting and the connection's bulk limit allow
        bulk_max = min(settings.joor_v4_bulk_max, joor.config.v4_bulk_max)
        result = catalog.make_plan(catalog.read_extract(extracted), options, get_engine(),
                                   price_types=catalog.CatalogApi(joor).price_types)
        manifest = catalog.stage_plan(result, DAG_ID, ctx["run_id"], bulk_max, dry_run=dry_run)
        logging.getLogger(__name__).info("plan: %s%s", manifest["counts"], " (dry run)" if dry_run else "")
        return {**manifest["units"], "report": manifest["report"], "collections": manifest["collections"],
                "dry_run": dry_run}

    def _push(unit: dict) -> str:
        from amc_joor import staging
        from amc_joor.flows import catalog
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.state import get_engine

        ctx = get_current_context()
        ctx["unit_label"] = unit["label"]
        report = catalog.push_unit(JoorHook(), unit, get_engine())
        report.log_summary()
        return staging.write_json(catalog.unit_report_path(DAG_ID, ctx["run_id"], unit), report.to_dict())

    @task(map_index_template="{{ unit_label }}")
    def push_products(unit: dict) -> str:
        """One mapped instance per unit of product batches (create/update, per-item state)."""
        return _push(unit)

    @task(map_index_template="{{ unit_label }}", trigger_rule="none_failed")
    def push_skus(unit: dict) -> str:
        """SKUs of styles JOOR acknowledged (their JOOR product ids come from state)."""
        return _push(unit)

    @task(map_index_template="{{ unit_label }}", trigger_rule="none_failed")
    def push_prices(unit: dict) -> str:
        """One price per SKU per AMC price group."""
        return _push(unit)

    @task(map_index_template="{{ unit_label }}", trigger_rule="none_failed")
    def push_assets(unit: dict) -> str:
        """Style images, first image and swatch per colour (changed sets only)."""
        return _push(unit)

    @task(trigger_rule="none_failed")
    def sync_linesheets(planned: dict) -> str | None:
        """Create/update the integration's own season linesheets; never touch any other."""
        from amc_joor import staging
        from amc_joor.flows import catalog
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.settings import load_settings
        from amc_joor.state import get_engine

        if planned["dry_run"]:
            return None
        run_id = get_current_context()["run_id"]
        report = catalog.sync_linesheets(JoorHook(), staging.read_json(planned["collections"]), get_engine(),
                                         load_settings().joor_v4_bulk_max)
        url = staging.stage_path(DAG_ID, run_id, "push", "linesheets.report.json")
        return staging.write_json(url, report.to_dict())

    @task(trigger_rule="none_failed", outlets=[JOOR_CATALOG])
    def publish_catalog(dry_run: bool) -> None:
        """Announce the new catalog (Asset joor://catalog): the inventory push follows."""
        from airflow.sdk.exceptions import AirflowSkipException

        if dry_run:
            raise AirflowSkipException("dry run: JOOR's catalog did not change")

    @task(trigger_rule="none_failed")
    def report(planned: dict, linesheets: str | None) -> dict:
        """Merge the plan's and every batch's report; fail the run (last) if any record failed."""
        from amc_joor.flows import catalog
        from amc_joor.reporting import finalize_report

        run_id = get_current_context()["run_id"]
        return finalize_report(catalog.merge_reports(planned, DAG_ID, run_id, linesheets), DAG_ID, run_id)

    @task
    def units(planned: dict, stage: str) -> list[dict]:
        """The stage's work units (Airflow maps only over a task's return value)."""
        return planned[stage]

    planned = plan(extract())
    products = push_products.expand(unit=units.override(task_id="products_batches")(planned, "products"))
    skus = push_skus.expand(unit=units.override(task_id="skus_batches")(planned, "skus"))
    prices = push_prices.expand(unit=units.override(task_id="prices_batches")(planned, "prices"))
    assets = push_assets.expand(unit=units.override(task_id="assets_batches")(planned, "assets"))
    linesheets = sync_linesheets(planned)
    products >> skus >> prices >> assets >> linesheets
    linesheets >> publish_catalog(planned["dry_run"])
    report(planned, linesheets)


amc_joor_catalog_push_dag = amc_joor_catalog_push()
