"""joor_amc_order_pull: Approved/Shipped JOOR orders into AMC, exactly once, Export Status back on JOOR.

Thin DAG: the logic lives in :mod:`amc_joor.flows.orders` (I/O, ledger) and
:mod:`amc_joor.flows.order_mapping` (pure mapping).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

from amc_joor.schedules import cron, default_args

DAG_ID = "joor_amc_order_pull"

DOC_MD = """
### JOOR → AMC order pull (the money path)

Pulls JOOR orders whose status matches the **Order Type** setting (Approved or Shipped) and that
were approved on/after the **Start Date** setting into ApparelMagic, then writes JOOR's
**Export Status**: `SUCCESS` ("Imported into ApparelMagic as order N"), or `FAILED` with a reason
a merchandiser can act on (e.g. *SKU TP10004-Navy-XL not found in AMC*, *customer code C-0042
not found in AMC*). A failed order stays on JOOR and is retried **every run** until it is fixed.
Orders are read with JOOR's v4 API only — never v2 `sync=1`, which marks orders exported the
moment they are read.

**Exactly once.** AMC has no idempotency key, so every order goes through a ledger in the
integration's state store: `importing` → look it up in AMC by the JOOR order number
(`customer_po`, `joor_id`) → create only if absent → `imported` (AMC order id) → Export Status
SUCCESS on JOOR → `exported`. A create that may or may not have happened (timeout, 5xx after
commit) is looked up again and never blindly re-sent. A crash anywhere — even a killed worker
between the AMC create and the JOOR write-back — ends, after a task retry or the next run, with
exactly one AMC order and SUCCESS on JOOR.

**Which orders a run considers (decided on purpose):**
* **Scheduled runs** (every 15 min, real data intervals; env `AMC_JOOR_ORDER_PULL_CRON`) and
  manual runs without a date range take **every pending order** — status per setting, approved
  ≥ Start Date, Export Status not SUCCESS — *regardless of the data interval*. An order approved
  while Airflow was down, or one that failed yesterday and was fixed today, is never missed.
* **Backfill runs** (`airflow backfill create --dag-id joor_amc_order_pull --from-date … --to-date …`)
  and manual runs with an **approval date range** reprocess **exactly the orders approved in
  that window** (the backfill run's data interval), whatever their Export Status: orders the
  ledger shows exported are verified and left alone, the rest go through the same exactly-once
  import. Re-running a backfill imports nothing twice.
* Manual runs with **order ids** take exactly those orders (still subject to status and Start Date;
  anything skipped is listed with its reason in the report).

**Edited after export.** An order changed in JOOR after it was exported is **not** re-imported
(that would duplicate it); the run reports it once per edit ("edited in JOOR … apply the change
to AMC order N by hand") and ends failed so alerting fires.

**Settings** (Variable `amc_joor_settings`): `order_type` (Approved | Shipped), `order_start_date`,
`division`, `credit_status`, `amc_warehouse_for_orders` (default: the customer's), `order_source`,
`joor_v4_bulk_max` (write-back batch, ≤ 500), `amc_page_size`. Customer defaults (division,
warehouse, AR account, currency) come from the AMC customer whose JOOR code (else account
number) equals the JOOR customer code. SKUs resolve by the SKU external id the catalog push set
(= AMC sku_id), else UPC, else style + color + size. JOOR's required-data rule applies: orders
missing customer code, payment/shipping method, billing/shipping address codes, warehouse or
sales rep fail with the missing field named.

**Trigger form:** `order_ids` (comma-separated JOOR order ids), `approved_from` / `approved_to`
(inclusive dates), `dry_run` (fetch and map, report what would happen; nothing is written to AMC,
JOOR or the ledger).

**Tasks:** `fetch_candidates` (JOOR reads; pending connections; edited-after-export check) →
`plan_orders` (AMC customers/SKUs read once in bulk, one mapping per order, staged batches) →
`import_orders` (mapped, one instance per batch; one outcome line per order in its log) →
`write_back` (Export Status in bulk calls ≤ 500, for this run's and any earlier crashed run's
imported orders) → `report` (summary, `failures.csv`; fails the run after all good orders were
imported and written back when any order failed).

**Operating:** fix what a failure names (in AMC or JOOR) and wait for the next run, or trigger by
hand. *Clear* re-runs only what is not yet exported: the ledger skips finished orders. The order
pull spends JOOR credits from the budget's priority reserve, so a large catalog push cannot
starve it.
"""


@dag(
    dag_id=DAG_ID,
    description="JOOR Approved/Shipped orders into AMC exactly once; Export Status back on JOOR",
    doc_md=DOC_MD,
    schedule=CronDataIntervalTimetable(cron("ORDER_PULL"), timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["amc-joor", "orders"],
    params={
        "order_ids": Param(
            "",
            type="string",
            title="JOOR order ids",
            description="Only these JOOR order ids (comma-separated); empty = per the schedule rules",
        ),
        "approved_from": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Approved from",
            description="Reprocess orders approved on/after this date (inclusive); empty = all pending orders",
        ),
        "approved_to": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Approved to",
            description="… up to and including this date; empty = no upper bound",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Fetch and map only: report what would be imported; write nothing to AMC, JOOR or the ledger",
        ),
    },
)
def joor_amc_order_pull():
    def _scope():
        from amc_joor.flows.orders import scope_from_params

        ctx = get_current_context()
        dag_run = ctx.get("dag_run")
        return scope_from_params(
            ctx["params"],
            run_type=getattr(dag_run, "run_type", None),
            interval_start=ctx.get("data_interval_start"),
            interval_end=ctx.get("data_interval_end"),
        )

    @task
    def fetch_candidates() -> dict:
        """JOOR: candidate orders (v4) + line items, pending connections, orders edited after export."""
        from airflow.sdk.exceptions import AirflowFailException

        from amc_joor.flows import orders
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.settings import load_settings
        from amc_joor.state import get_engine

        settings = load_settings()
        try:
            scope = _scope()
        except ValueError as exc:  # a bad date range in the trigger form: only new params fix it
            raise AirflowFailException(str(exc)) from None
        run_id = get_current_context()["run_id"]
        return orders.step_fetch(JoorHook(priority=True), settings, scope, get_engine(), DAG_ID, run_id)

    @task
    def plan_orders(fetched: dict) -> list[dict]:
        """AMC: customers, SKUs, ship-tos read once; map every order; stage batches."""
        from amc_joor.flows import orders
        from amc_joor.hooks.amc import AmcHook
        from amc_joor.settings import load_settings
        from amc_joor.state import get_engine

        run_id = get_current_context()["run_id"]
        return orders.step_plan(AmcHook(), load_settings(), fetched, get_engine(), DAG_ID, run_id)

    @task(map_index_template="{{ batch_label }}")
    def import_orders(batch: dict) -> str:
        """Import one batch into AMC, exactly once per order (ledger + lookup before create)."""
        from amc_joor.flows import orders
        from amc_joor.hooks.amc import AmcHook
        from amc_joor.state import get_engine

        ctx = get_current_context()
        ctx["batch_label"] = f"batch {batch['index']} ({batch['count']} orders)"
        scope = _scope()
        return orders.step_import(AmcHook(), batch, get_engine(), DAG_ID, ctx["run_id"], dry_run=scope.dry_run)

    @task(trigger_rule="all_done")
    def write_back(fetched: dict | None, imported: list[str] | None) -> dict:
        """Export Status on JOOR for every imported order (this run's and earlier crashed runs'), failures with reasons."""
        from amc_joor.flows import orders
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.settings import load_settings
        from amc_joor.state import get_engine

        run_id = get_current_context()["run_id"]
        scope = _scope()
        return orders.step_write_back(
            JoorHook(priority=True), load_settings(), get_engine(), DAG_ID, run_id, fetched, [p for p in imported or [] if p],
            dry_run=scope.dry_run,
        )

    @task(trigger_rule="all_done")
    def report(fetched: dict | None, batches: list[dict] | None, written: dict | None) -> dict:
        """Run summary + failures.csv; fails the run (after all good work) when any order or step failed."""
        from amc_joor.flows import orders
        from amc_joor.reporting import finalize_report
        from amc_joor.state import get_engine

        run_id = get_current_context()["run_id"]
        merged = orders.step_report(get_engine(), DAG_ID, run_id, fetched, written, batches)
        return finalize_report(merged, DAG_ID, run_id)

    fetched = fetch_candidates()
    batches = plan_orders(fetched)
    imported = import_orders.expand(batch=batches)
    written = write_back(fetched, imported)
    report(fetched, batches, written)


joor_amc_order_pull_dag = joor_amc_order_pull()
