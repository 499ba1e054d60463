"""Soak: the order pull on the REAL scheduler every minute, orders arriving, random faults on both APIs.

Not part of CI (it runs for minutes). What it does:

* starts the sandbox (``small``) with distinctive, non-default credentials;
* starts Airflow as the deployment would, one component per process, each in its own process
  group: ``api-server``, ``dag-processor``, ``scheduler`` (LocalExecutor, SQLite metadata DB in a
  temporary AIRFLOW_HOME) — the REST helpers of ``tests/distributed/distributed_cluster.py`` are
  reused, only the executor and databases differ;
* schedules ``joor_amc_order_pull`` with ``AMC_JOOR_ORDER_PULL_CRON`` (every ``--interval``
  seconds, a whole number of minutes) and unpauses it;
* every ``--arrival-every`` seconds places ``--orders-per-arrival`` APPROVED orders through the
  JOOR sandbox admin API (valid customers, active SKUs), while random faults (5xx/429, dropped
  connections, malformed bodies, hangs, writes that commit and then answer 500) fire on both
  APIs with ``--fault-probability``;
* after ``--minutes`` of arrivals, turns faults off and lets the schedule drain (bounded);
* counts: every placed order must be in AMC exactly once (AMC orders per JOOR order number) and
  SUCCESS on JOOR; import latency = AMC order creation time - JOOR approval time (one sandbox
  clock); and it searches every task log file for the credentials and issued v4 tokens.

Prints ONE JSON line:
``{"bench": "soak", "orders": …, "lost": 0, "duplicated": 0, "p95_import_latency_s": …, …}``.

    .venv/bin/python bench/soak.py --minutes 5          # the full soak is --minutes 30 (default)
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "distributed"))

from distributed_cluster import AirflowCluster  # noqa: E402 - the cluster helpers live with the tests

DAG_ID = "joor_amc_order_pull"
#: Distinctive credentials: the soak's log scan looks for them in the real task logs.
SECRETS = {
    "amc_token": "amc-SOAKTOKEN-2b7d9f1a3c5e7b9d0f2a4c6e8b1d3f5a",
    "v2_token": "joor-SOAKV2-8d0f2b4a6c8e1f3b5d7a9c2e4f6b8d0a",
    "client_secret": "joor-SOAKSECRET-5a7c9e1b3d5f7a9c2e4b6d8f0a2c4e6b",
    "password": "joor-SOAKPASSWORD-1c3e5a7b9d2f4a6c8e0b2d4f6a8c1e3b",
}
FAULT_KINDS = ["status", "drop", "malformed", "hang", "commit_then_fail"]

log = logging.getLogger("soak")


class LocalCluster(AirflowCluster):
    """The same components as the distributed test, with LocalExecutor on SQLite (one machine)."""

    def __init__(self, workdir: Path, extra_env: dict[str, str]) -> None:
        super().__init__(workdir, "postgresql+psycopg2://unused@127.0.0.1/unused", "redis://127.0.0.1:6379/0",
                         extra_env)
        for key in [k for k in self.env if k.startswith("AIRFLOW__CELERY__")] + ["AIRFLOW__CORE__HOSTNAME_CALLABLE"]:
            self.env.pop(key, None)
        self.env.update({
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "3",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{workdir / 'airflow.db'}",
            "AMC_JOOR_STATE_URL": f"sqlite:///{workdir / 'state.db'}",
            **extra_env,
        })

    def start(self) -> None:
        with open(self.workdir / "migrate.log", "wb") as out:
            subprocess.run([self.airflow, "db", "migrate"], env=self.env, check=True, timeout=600,
                           stdout=out, stderr=subprocess.STDOUT)
        self._spawn("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port)])
        self._spawn("dag-processor", ["dag-processor"])
        self._spawn("scheduler", ["scheduler"])
        self._wait_api()

    def _drop_dbs(self) -> None:  # SQLite files die with the temporary directory
        return None

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        resp = self.client.get(f"/dags/{dag_id}/dagRuns", params={"limit": 1000, "order_by": "start_date"})
        resp.raise_for_status()
        return resp.json()["dag_runs"]


def cron_for(interval_s: int) -> str:
    minutes = max(1, round(interval_s / 60))
    return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"


def sandbox_connections(sb) -> dict[str, str]:
    from amc_joor_sandbox import connections as c

    amc = {**c.amc_connection(sb.amc_url), "password": SECRETS["amc_token"]}
    joor = c.joor_connection(sb.joor_url)
    joor["password"] = SECRETS["password"]
    joor["extra"] = {**joor["extra"], "v2_token": SECRETS["v2_token"], "client_secret": SECRETS["client_secret"]}
    return {"AIRFLOW_CONN_AMC_DEFAULT": json.dumps(amc), "AIRFLOW_CONN_JOOR_DEFAULT": json.dumps(joor)}


def good_order_material(sb) -> tuple[list[str], list[str]]:
    """Customer codes whose orders import (active connection, usable AMC customer) and active SKUs."""
    import httpx

    auth = sb.amc_auth()
    with httpx.Client(timeout=30) as http:
        customers = http.get(f"{sb.amc_url}/api/json/customers",
                             params={**auth, "pagination[page_size]": "1000"}).json()["response"]
        skus = http.get(f"{sb.amc_url}/api/json/inventory", params={**auth, "pagination[page_size]": "1000"}).json()
    active = {c["customer_code"] for c in sb.joor_admin.get("/joor/connections")["connections"]
              if c.get("status") == "active"}
    codes = sorted(c["joor_customer_code"] for c in customers
                   if c["joor_customer_code"] in active and c.get("status", "Active") == "Active"
                   and all(c.get(k) for k in ("division_id", "warehouse_id", "ar_acct", "currency_id")))
    sku_ids = [s["sku_id"] for s in skus["response"] if s.get("active") == "1"]
    return codes, sku_ids


def place_orders(sb, rng: random.Random, codes: list[str], skus: list[str], n: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        lines = [{"sku_id": s, "quantity": rng.choice((2, 6, 12))} for s in rng.sample(skus, rng.randint(1, 4))]
        body = {"count": 1, "status": "APPROVED", "customer_code": rng.choice(codes), "lines": lines}
        out.extend(sb.joor_admin.post("/joor/orders", body)["orders"])
    return out


def stamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def outcome(sb, placed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Lost / duplicated / latency of the placed orders, from the two sandboxes' own records."""
    joor = {o["order_number"]: o for o in sb.joor_admin.get("/joor/orders", lines="0")["orders"]}
    amc_orders = sb.amc_admin.orders()
    per_number = Counter(o.get("customer_po") for o in amc_orders)
    created_at = {}
    for o in amc_orders:
        created_at.setdefault(o.get("customer_po"), o.get("last_modified_time"))
    imported = [n for n in placed if per_number[n] >= 1]
    success = [n for n in placed if joor[n]["export_status"] == "SUCCESS"]
    latencies = [stamp(created_at[n]) - stamp(joor[n]["date_approved"]) for n in imported
                 if created_at.get(n) and joor[n].get("date_approved")]
    return {
        "orders": len(placed),
        "imported": len(imported),
        "success_on_joor": len(success),
        "lost": len([n for n in placed if per_number[n] == 0 or joor[n]["export_status"] != "SUCCESS"]),
        "duplicated": sum(1 for n, k in per_number.items() if n and k > 1),
        "p50_import_latency_s": percentile(latencies, 0.50),
        "p95_import_latency_s": percentile(latencies, 0.95),
        "max_import_latency_s": max(latencies) if latencies else None,
        "failed_on_joor": {n: joor[n]["export_description"][:200] for n in placed
                           if joor[n]["export_status"] == "FAILED"},
    }


def scan_task_logs(home: Path, needles: dict[str, str]) -> dict[str, int]:
    """Hits of each secret / issued token in every task log file the real supervisor wrote."""
    hits: Counter[str] = Counter()
    for path in (home / "logs").rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            for name, value in needles.items():
                if value and value in text:
                    hits[name] += text.count(value)
    return dict(hits)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="how long orders arrive (default 30)")
    ap.add_argument("--interval", type=int, default=60, help="order pull schedule in seconds, whole minutes (60)")
    ap.add_argument("--arrival-every", type=float, default=20.0, help="seconds between order arrivals (20)")
    ap.add_argument("--orders-per-arrival", type=int, default=2)
    ap.add_argument("--fault-probability", type=float, default=0.05, help="random fault chance per API request")
    ap.add_argument("--drain-minutes", type=float, default=4.0, help="max time after arrivals stop (faults off)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs) and print its path")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s soak %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from amc_joor_sandbox.testing import start_sandbox

    workdir = Path(tempfile.mkdtemp(prefix="amc_joor_soak_"))
    os.environ["AMC_JOOR_SANDBOX_JOOR_CONFIG"] = json.dumps(
        {"v2_token": SECRETS["v2_token"], "client_secret": SECRETS["client_secret"], "password": SECRETS["password"]})
    rng = random.Random(args.seed)
    started = time.monotonic()
    with start_sandbox("small", seed=1, amc_token=SECRETS["amc_token"]) as sb:
        today = sb.joor_admin.clock()["now"][:10]
        env = {
            **sandbox_connections(sb),
            # only the soak's orders are candidates (the seed's are approved before today)
            "AIRFLOW_VAR_AMC_JOOR_SETTINGS": json.dumps({"order_start_date": today}),
            "AMC_JOOR_ORDER_PULL_CRON": cron_for(args.interval),
            "AMC_JOOR_STAGING_ROOT": f"file://{workdir / 'staging'}",
            "AMC_JOOR_RETRY_DELAY_SECONDS": "5",
            # a create whose answer was lost is only looked up for this long before it may be re-sent
            "AMC_JOOR_ORDER_UNCERTAIN_GRACE_SECONDS": "60",
        }
        codes, skus = good_order_material(sb)
        cluster = LocalCluster(workdir, env)
        try:
            cluster.start()
            cluster.wait_dags_parsed([DAG_ID])
            cluster.client.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
            log.info("cluster up in %.0fs (workdir %s); orders arrive for %.1f min", time.monotonic() - started,
                     workdir, args.minutes)
            for target in (sb.amc_admin, sb.joor_admin):
                target.random_faults(args.fault_probability, seed=args.seed, kinds=FAULT_KINDS, hang_seconds=3,
                                     retry_after=1)
            placed: dict[str, dict[str, Any]] = {}
            end = time.monotonic() + args.minutes * 60
            while time.monotonic() < end:
                for o in place_orders(sb, rng, codes, skus, args.orders_per_arrival):
                    placed[o["order_number"]] = o
                time.sleep(max(0.0, min(args.arrival_every, end - time.monotonic())))
            faults_fired = {"amc": sb.amc_admin.stats()["faults_fired"], "joor": sb.joor_admin.stats()["faults_fired"]}
            for target in (sb.amc_admin, sb.joor_admin):
                target.clear_faults()
            log.info("%d orders placed; draining (faults off, up to %.1f min)", len(placed), args.drain_minutes)
            drain_end = time.monotonic() + args.drain_minutes * 60
            result = outcome(sb, placed)
            while result["lost"] and time.monotonic() < drain_end:
                time.sleep(15)
                result = outcome(sb, placed)
            runs = cluster.dag_runs(DAG_ID)
            failed_tasks: Counter[str] = Counter()  # which task ended a failed run (after its retries)
            for run in runs:
                if run["state"] == "failed":
                    for ti in cluster.task_instances(DAG_ID, run["dag_run_id"]):
                        if ti["state"] in ("failed", "upstream_failed"):
                            failed_tasks[f"{ti['task_id']}:{ti['state']}"] += 1
            tokens = sb.joor_admin.get("/joor/tokens")
            needles = {**SECRETS, **{f"v4_token_{i}": t for i, t in
                                     enumerate([*tokens["access_tokens"], *tokens["refresh_tokens"]])}}
            secret_hits = scan_task_logs(workdir / "airflow_home", needles)
            log_files = sum(1 for p in (workdir / "airflow_home" / "logs").rglob("*") if p.is_file())
        finally:
            cluster.stop()
    states = Counter(r["state"] for r in runs)
    line = {
        "bench": "soak",
        "minutes": args.minutes,
        "interval_s": args.interval,
        **{k: v for k, v in result.items() if k != "failed_on_joor"},
        "dag_runs": len(runs),
        "dag_run_states": dict(states),
        "failed_run_tasks": dict(failed_tasks),
        "faults_fired": faults_fired,
        "task_log_files_scanned": log_files,
        "secret_hits_in_task_logs": sum(secret_hits.values()),
        "wall_s": round(time.monotonic() - started, 1),
    }
    if result["failed_on_joor"]:
        line["failed_on_joor"] = result["failed_on_joor"]
    if args.keep:
        line["workdir"] = str(workdir)
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(line), flush=True)
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 and not secret_hits else 1


if __name__ == "__main__":
    sys.exit(main())
