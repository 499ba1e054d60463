"""Customer sync benchmark: the ``large`` initial load (~2,000 AMC customers) through dag.test().

Starts the sandboxes with the ``large`` data set, points a fresh state store and staging root at
them, runs ``amc_joor_customer_sync`` with ``mode=initial`` end to end (plan, bulk-connection
jobs of ≤ 1,000 awaited through the deferral, watermark, report) and prints one JSON line:
``{"bench": "customer_sync", "customers": …, "seconds": …, "joor_credits": …, …}``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "amc_joor_customer_sync"


def main() -> None:
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    from amc_joor_sandbox.connections import connection_env
    from amc_joor_sandbox.testing import start_sandbox

    work = Path(tempfile.mkdtemp(prefix="bench_customer_sync_"))
    with start_sandbox("large", seed=1) as sb:
        os.environ.update(connection_env(sb.amc_url, sb.joor_url))
        os.environ["AMC_JOOR_STATE_URL"] = f"sqlite:///{work / 'state.db'}"
        os.environ["AMC_JOOR_STAGING_ROOT"] = f"file://{work / 'staging'}"
        os.environ["AMC_JOOR_RETRY_DELAY_SECONDS"] = "1"
        os.environ["AIRFLOW_VAR_AMC_JOOR_SETTINGS"] = json.dumps({"customer_job_poll_seconds": 1})
        from amc_joor_sandbox.dagrun import run_dag_test

        sb.joor_admin.reset_stats()
        sb.amc_admin.reset_stats()
        saved = os.dup(1)
        os.dup2(2, 1)  # Airflow's task logs go to stderr: stdout carries only the JSON line
        try:
            t0 = time.perf_counter()
            result = run_dag_test(DAG_ID, {"mode": "initial"})
            seconds = time.perf_counter() - t0
            joor = sb.joor_admin.stats()
            amc = sb.amc_admin.stats()
            jobs = sb.joor_admin.get("/joor/bulk-jobs")["jobs"]
            # the steady state: the next hourly run with nothing changed (checks the pending ones)
            sb.joor_admin.reset_stats()
            t1 = time.perf_counter()
            noop = run_dag_test(DAG_ID, {})
            noop_seconds = time.perf_counter() - t1
            noop_joor = sb.joor_admin.stats()
            noop_jobs = len(sb.joor_admin.get("/joor/bulk-jobs")["jobs"]) - len(jobs)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
    counts = (result.report or {}).get("counts", {}).get("customer", {})
    figures = {
        "bench": "customer_sync",
        "customers": counts.get("read", 0),
        "seconds": round(seconds, 2),
        "joor_credits": joor.get("credits_spent"),
        "joor_requests": sum(joor.get("requests", {}).values()),
        "amc_requests": sum(amc.get("requests", {}).values()),
        "jobs": len(jobs),
        "max_job_records": max((len(j.get("results") or []) for j in jobs), default=0),
        "created": counts.get("created", 0),
        "updated": counts.get("updated", 0),
        "failed": counts.get("failed", 0),
        "skipped_no_code": counts.get("skipped_no_code", 0),
        "responses_429": joor.get("responses_429"),
        "noop_seconds": round(noop_seconds, 2),
        "noop_joor_credits": noop_joor.get("credits_spent"),
        "noop_jobs": noop_jobs,
        "noop_state": noop.state,
        "run_state": result.state,
        "failed_tasks": result.failed_tasks(),
    }
    print(json.dumps(figures))
    return 0 if result.state in ("success", "failed") and not set(result.failed_tasks()) - {"report"} else 1


if __name__ == "__main__":
    sys.exit(main())
