"""amc_joor_customer_sync: AMC customers to JOOR connections, and the Data Services wait.

Thin DAG: the logic lives in :mod:`amc_joor.flows.customers` (I/O) and
:mod:`amc_joor.flows.customer_mapping` (pure); the JOOR job wait in
:mod:`amc_joor.operators.customers` + :mod:`amc_joor.triggers`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from amc_joor.operators.customers import JoorBulkConnectionOperator
from amc_joor.schedules import cron, default_args

DAG_ID = "amc_joor_customer_sync"

DOC_MD = """
### AMC → JOOR customer sync

Keeps JOOR's customers (*connections*) in step with AMC. The match key is JOOR's
**customer code** = the **JOOR code** on the AMC customer record (`joor_customer_code`).

**Modes** (trigger form `mode`):
* `incremental` (the hourly default): customers modified in AMC since the last acknowledged
  watermark (`last_modified_time >=`). Customers JOOR already knows are **updated** (PUT
  bulk-connection); new ones are **created** (POST) and then wait for JOOR's **Data Services**
  team (typically 2–3 business days) — they are tracked as *pending* from their submission
  time until JOOR shows them active.
* `initial`: every AMC customer with a JOOR code. Stages the **upload file Data Services works
  from** (`upload.csv`, JOOR's connection columns, one row per ship-to) and, unless dry run,
  submits them as bulk-connection jobs (≤ `joor_v2_bulk_max` = 1,000 per job).

Each JOOR job is awaited **deferred** (the triggerer polls it every
`customer_job_poll_seconds`; no worker slot is held), then its per-record results move state.

**SLA:** every run checks the pending customers; one pending longer than
`customer_sla_business_days` (default 3; weekends and `holidays` excluded) is an **SLA breach**:
an ERROR log line `CUSTOMER SLA BREACH`, an entry in the report (`notes.sla_breaches`), and the
`check_sla` task fails so alerting fires. Ask JOOR Data Services about those customers.

**Mapping:** name, contact, buyer, email, phone, sales rep, currency (AMC currency's ISO code)
and price label (the JOOR price type in that currency — the catalog push's rule), billing
address (code = AMC customer id) and ship-tos from AMC `/locations` (code = AMC ship-to id).
JOOR's length limits are enforced per customer (customer_code ≤ 50, customer_name required
≤ 100, …). Customers without a JOOR code are skipped and counted; a JOOR code used by two AMC
customers is reported for both and neither is sent; a currency with no JOOR price type is
reported.

**Watermark:** moves only as far as JOOR acknowledged: a failed customer holds it (the next run
reads it again), so nothing is ever skipped. Runs limited to customer codes never move it.

**Settings** (Variable `amc_joor_settings`): `customer_sla_business_days`, `holidays`,
`joor_v2_bulk_max`, `amc_page_size`, `default_currency_name`, `customer_job_poll_seconds`,
`customer_job_timeout_minutes`. Schedule: env `AMC_JOOR_CUSTOMER_SYNC_CRON` (default hourly).

**Trigger form:** `mode` (incremental | initial), `customer_codes` (only these JOOR codes,
comma-separated; ignores the watermark), `dry_run` (plan, stage the CSV and report; send nothing).

**Tasks:** `plan` and `check_pending` → `push` (one deferred instance per batch) →
`advance_watermark` → `report` (fails, after all good work, when any customer failed);
`check_sla` (fails on SLA breaches).

**Which clock decides the SLA:** the integration's own, real UTC time — both the submission
time (recorded when the job is started) and "now" at each check are read from one function
(`customer_mapping.now_utc`), so they can never disagree. JOOR's data is not used: its
connection records carry no reliable "submitted to Data Services" time. `AMC_JOOR_NOW`
(ISO-8601) overrides that clock — for tests and demos only, moved together with the
sandbox's `/_sandbox/clock`; never set it in production.

**Operating:** fix a reported customer in AMC (its last-modified time moves) and the next run
sends it. Clearing a `push` instance awaits the job it already started rather than starting
another; a create whose reply was lost is found on JOOR and not created twice. Customers that
became pending outside this integration (e.g. Data Services' own upload) are not SLA-tracked.
"""


@dag(
    dag_id=DAG_ID,
    description="AMC customers to JOOR (match by JOOR customer code); new ones tracked through Data Services",
    doc_md=DOC_MD,
    schedule=CronTriggerTimetable(cron("CUSTOMER_SYNC"), timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["amc-joor", "customers"],
    params={
        "mode": Param(
            "incremental",
            type="string",
            enum=["incremental", "initial"],
            title="Mode",
            description="incremental: customers changed since the watermark; initial: every customer with a JOOR code",
        ),
        "customer_codes": Param(
            "",
            type="string",
            title="Customer codes",
            description="Only these JOOR customer codes (comma-separated); empty = all in scope",
        ),
        "dry_run": Param(
            False, type="boolean", title="Dry run", description="Plan, stage the upload CSV and report; send nothing"
        ),
    },
)
def amc_joor_customer_sync():
    @task
    def plan() -> list[dict]:
        """Read AMC + JOOR price types, map and validate, stage the upload CSV and the batches."""
        from amc_joor.flows import customers
        from amc_joor.hooks.amc import AmcHook
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.params import split_list
        from amc_joor.settings import load_settings
        from amc_joor.state import get_engine

        ctx = get_current_context()
        params = ctx["params"]
        settings = load_settings()
        planned = customers.plan_run(
            AmcHook(), JoorHook(), get_engine(), settings,
            dag_id=DAG_ID, run_id=ctx["run_id"], mode=str(params.get("mode") or "incremental"),
            codes=split_list(params.get("customer_codes")), dry_run=bool(params.get("dry_run")),
        )
        return planned["batches"]  # the manifest is staged at a path derived from the run

    @task
    def check_pending() -> dict:
        """Mark customers JOOR now shows as active; find those past the Data Services SLA."""
        from amc_joor import staging
        from amc_joor.flows import customers
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.settings import load_settings
        from amc_joor.state import get_engine

        settings = load_settings()
        result = customers.check_pending(
            JoorHook(), get_engine(), sla_days=settings.customer_sla_business_days, holidays=settings.holidays
        )
        url = staging.stage_path(DAG_ID, get_current_context()["run_id"], "pending", "report.json")
        staging.write_json(url, result.report.to_dict())
        return {"report": url, "breaches": len(result.breaches), "activated": len(result.activated)}

    @task
    def check_sla(pending: dict) -> None:
        """Fail (so alerting fires) when any new customer is past the Data Services SLA."""
        from airflow.sdk.exceptions import AirflowFailException

        from amc_joor import staging

        if pending["breaches"]:
            breaches = staging.read_json(pending["report"])["notes"].get("sla_breaches", [])
            codes = ", ".join(b["customer_code"] for b in breaches[:20])
            raise AirflowFailException(
                f"{pending['breaches']} new customer(s) pending with JOOR Data Services past the SLA: {codes}"
            )

    @task(trigger_rule="all_done")
    def advance_watermark() -> dict:
        """Move the watermark as far as JOOR acknowledged (never past a failed customer)."""
        from amc_joor.flows import customers
        from amc_joor.state import get_engine

        return customers.finish_watermark(get_engine(), DAG_ID, get_current_context()["run_id"])

    @task(trigger_rule="all_done")
    def report() -> dict:
        """Merge plan, batch and pending reports; fail the run (after all good work) if any customer failed."""
        from amc_joor.flows import customers
        from amc_joor.reporting import finalize_report
        from amc_joor.state import get_engine

        run_id = get_current_context()["run_id"]
        return finalize_report(customers.merge_reports(DAG_ID, run_id, get_engine()), DAG_ID, run_id)

    planned = plan()
    pending = check_pending()
    pushed = JoorBulkConnectionOperator.partial(
        task_id="push", staging_dag_id=DAG_ID, map_index_template="{{ batch_label }}"
    ).expand(batch=planned)
    moved = advance_watermark()
    pushed >> moved
    check_sla(pending)
    [moved, pending] >> report()


amc_joor_customer_sync_dag = amc_joor_customer_sync()
