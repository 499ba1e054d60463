"""amc_joor_inventory_push: stock from one AMC warehouse and stock field to JOOR, deltas only.

Thin DAG: the logic lives in :mod:`amc_joor.flows.inventory`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, get_current_context, task

from amc_joor.assets import JOOR_CATALOG
from amc_joor.schedules import cron, default_args

DAG_ID = "amc_joor_inventory_push"

DOC_MD = """
### AMC → JOOR inventory push

Retailers order what JOOR says is in stock. This DAG sends JOOR the stock of every SKU the
catalog push has put on JOOR, read from **one AMC warehouse** and **one stock field**
(immediate stock only, negative stock sent as 0), through JOOR's v2 bulk-inventory API —
**never with `overwrite`**, so SKUs not in a call keep their JOOR stock.

**Only changes are sent.** The quantity JOOR acknowledged per SKU is kept in the integration's
state store; a run sends only SKUs whose quantity (or UPC, or JOOR warehouse) differs, in calls
of up to `joor_v2_bulk_max` (1,000) items. Nothing changed → no JOOR writes at all.
Items JOOR rejects are listed with JOOR's reason in the report and retried by the next run.

**When it runs:** every 5 minutes (env `AMC_JOOR_INVENTORY_PUSH_CRON`), after every catalog
push (Asset `joor://catalog`), and by hand.

**Settings** (Variable `amc_joor_settings`):
`amc_warehouse` (AMC warehouse name or id), `joor_warehouse_name` (must exist in JOOR's order
settings), `stock_field` (Available to Sell | Open Sales | Stock on Hand | Available to
Allocate), `joor_v2_bulk_max`, `amc_page_size`. A bad `amc_warehouse` or `stock_field` fails the
`plan` task before any JOOR call, and the error lists the valid values.

**Trigger form:** `dry_run` (plan and report only, send nothing), `full_resync` (send every SKU
on JOOR regardless of what JOOR acknowledged before), `style_numbers` (only these styles,
comma-separated).

**Tasks:** `plan` (read AMC + state, stage batches) → `push` (one mapped instance per batch of
≤ 1,000 SKUs; each records state for the items JOOR passed) → `report` (counts, failures file;
fails the run, after all good items were sent, when any item failed).

**Operating:** a failed item stays "not acknowledged" and is re-sent next run; fix the reason
shown (e.g. a JOOR warehouse name JOOR does not know, a SKU without UPC) and wait, or trigger by
hand. When JOOR refuses the warehouse for a whole batch, the run's remaining batches are not
sent (no credits burnt on calls JOOR will refuse). Clearing a `push` instance re-sends only that
batch (setting an absolute quantity twice is harmless). Only SKUs the catalog push has put on
JOOR are sent: run `amc_joor_catalog_push` first (its success triggers this DAG).
"""


@dag(
    dag_id=DAG_ID,
    description="AMC stock (one warehouse, one stock field) to JOOR, changed SKUs only",
    doc_md=DOC_MD,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(cron("INVENTORY_PUSH"), timezone="UTC"),
        assets=[JOOR_CATALOG],
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["amc-joor", "inventory"],
    params={
        "dry_run": Param(
            False, type="boolean", title="Dry run", description="Plan and report what would be sent; send nothing"
        ),
        "full_resync": Param(
            False,
            type="boolean",
            title="Full resync",
            description="Send every SKU on JOOR, not only the ones whose stock changed",
        ),
        "style_numbers": Param(
            "",
            type="string",
            title="Style numbers",
            description="Only these styles (comma-separated style numbers); empty = all",
        ),
    },
)
def amc_joor_inventory_push():
    @task
    def plan() -> list[dict]:
        """Check settings against AMC, read stock + state, stage the changed SKUs in batches."""
        import logging

        from airflow.sdk.exceptions import AirflowFailException

        from amc_joor import staging
        from amc_joor.flows import inventory
        from amc_joor.hooks.amc import AmcHook
        from amc_joor.params import split_list
        from amc_joor.settings import SettingsError, load_settings
        from amc_joor.state import get_engine

        ctx = get_current_context()
        params = ctx["params"]
        run_id = ctx["run_id"]
        dry_run = bool(params.get("dry_run"))
        styles = split_list(params.get("style_numbers"))
        settings = load_settings()
        try:  # the settings are valid JSON but may not match AMC (e.g. an unknown warehouse)
            result = inventory.plan_inventory(
                AmcHook(),
                settings,
                engine=get_engine(),
                full_resync=bool(params.get("full_resync")),
                style_numbers=styles or None,
            )
        except SettingsError as exc:  # no retry: only a settings change fixes it
            raise AirflowFailException(str(exc)) from None

        report = result.report(dry_run=dry_run)
        if styles:
            report.note("style_numbers", ", ".join(styles))
        if result.synced_skus == 0:
            report.note("hint", "no SKUs on JOOR yet: the catalog push has not acknowledged any")
        staging.write_json(staging.stage_path(DAG_ID, run_id, "plan", "report.json"), report.to_dict())
        batches: list[dict] = []
        if not dry_run:
            for i, frame in enumerate(inventory.split_batches(result.delta.to_send, result.batch_size)):
                url = staging.stage_path(DAG_ID, run_id, "plan", f"batch-{i:04d}.parquet")
                staging.write_parquet(url, frame)
                batches.append(
                    {"index": i, "path": url, "count": len(frame), "joor_warehouse": result.joor_warehouse}
                )
        logging.getLogger(__name__).info(
            "%d SKUs on JOOR, %d in scope, %d to send in %d call(s), %d unchanged%s",
            result.synced_skus, result.delta.considered, len(result.delta.to_send), result.write_calls,
            result.delta.unchanged, " (dry run: nothing sent)" if dry_run else "",
        )
        return batches

    @task(map_index_template="{{ batch_label }}")
    def push(batch: dict) -> str:
        """Send one batch to JOOR (no overwrite); state moves only for items JOOR passed."""
        from amc_joor import staging
        from amc_joor.flows import inventory
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.state import get_engine

        ctx = get_current_context()
        ctx["batch_label"] = f"batch {batch['index']} ({batch['count']} SKUs)"
        frame = staging.read_parquet(batch["path"])
        report = inventory.push_batch(
            JoorHook(), frame, batch["joor_warehouse"], engine=get_engine(), run_id=ctx["run_id"]
        )
        report.log_summary()
        url = staging.stage_path(DAG_ID, ctx["run_id"], "push", f"batch-{batch['index']:04d}.report.json")
        return staging.write_json(url, report.to_dict())

    @task(trigger_rule="none_failed_min_one_success")
    def report(batches: list[dict], batch_reports: list[str] | None = None) -> dict:
        """Merge plan and batch reports; fail the run (after all good work) if any item failed."""
        from amc_joor import staging
        from amc_joor.flows import inventory
        from amc_joor.reporting import RunReport, finalize_report

        run_id = get_current_context()["run_id"]
        merged = RunReport.from_dict(staging.read_json(staging.stage_path(DAG_ID, run_id, "plan", "report.json")))
        for url in batch_reports or []:
            merged.merge(staging.read_json(url))
        merged.note("write_calls", merged.counts.get(inventory.CALLS_ENTITY, {}).get("sent", 0))
        return finalize_report(merged, DAG_ID, run_id)

    planned = plan()
    report(planned, push.expand(batch=planned))


amc_joor_inventory_push_dag = amc_joor_inventory_push()
