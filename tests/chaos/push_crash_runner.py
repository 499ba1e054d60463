"""Run one catalog or inventory push in this process; the kill -9 tests start it and kill it.

``python push_crash_runner.py catalog|inventory RUN_ID`` reads what a task reads
(AIRFLOW_CONN_AMC_DEFAULT / AIRFLOW_CONN_JOOR_DEFAULT, AMC_JOOR_STATE_URL, AMC_JOOR_STAGING_ROOT,
AIRFLOW_VAR_AMC_JOOR_SETTINGS) and runs the flow's own steps in the DAG's order, with small
batches so a run has several. The crash point (AMC_JOOR_TEST_CRASH_AT, _SENTINEL, _WAIT) is the
flow module's: right after JOOR acknowledged a batch, before state is recorded. Prints counts.
"""

from __future__ import annotations

import json
import os
import sys

BATCH = {"catalog": 60, "inventory": 100}


def run_catalog(run_id: str) -> dict:
    from amc_joor import staging
    from amc_joor.flows import catalog
    from amc_joor.flows import catalog_mapping as cm
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.reporting import RunReport
    from amc_joor.state import get_engine

    engine, joor, dag_id = get_engine(), JoorHook(), catalog.DAG_ID
    extracted = catalog.extract(AmcHook(), dag_id, run_id)
    plan = catalog.make_plan(catalog.read_extract(extracted), cm.PlanOptions(), engine,
                             price_types=catalog.CatalogApi(joor).price_types)
    staged = catalog.stage_plan(plan, dag_id, run_id, BATCH["catalog"])
    report = RunReport(catalog.FLOW)
    for stage in catalog.STAGES:
        for unit in staged["units"][stage]:
            report.merge(catalog.push_unit(joor, unit, engine).to_dict())
    report.merge(catalog.sync_linesheets(joor, staging.read_json(staged["collections"]), engine).to_dict())
    return report.to_dict()["counts"]


def run_inventory(run_id: str) -> dict:
    from amc_joor.flows import inventory
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.reporting import RunReport
    from amc_joor.settings import IntegrationSettings
    from amc_joor.state import get_engine

    engine, joor = get_engine(), JoorHook()
    settings = IntegrationSettings.from_json(os.environ.get("AIRFLOW_VAR_AMC_JOOR_SETTINGS"))
    plan = inventory.plan_inventory(AmcHook(), settings, engine=engine)
    report = RunReport(inventory.FLOW)
    for frame in inventory.split_batches(plan.delta.to_send, BATCH["inventory"]):
        report.merge(inventory.push_batch(joor, frame, plan.joor_warehouse, engine=engine, run_id=run_id).to_dict())
    return report.to_dict()["counts"]


def main() -> int:
    flow, run_id = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "crash-test"
    counts = run_catalog(run_id) if flow == "catalog" else run_inventory(run_id)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
