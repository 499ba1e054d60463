"""The production topology for real: CeleryExecutor, PostgreSQL, Redis, two Celery workers.

Every DAG is triggered through the REST API against the sandbox APIs. Checks: every work task
succeeds (a run may end failed only through its `report` task, for records the sandbox data
makes fail on purpose), mapped tasks ran on both workers, the JOOR credit budget held across
workers, and no JOOR order was imported into AMC twice.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from distributed_cluster import airflow_cluster

from amc_joor_sandbox.connections import connection_env
from amc_joor_sandbox.testing import start_sandbox

pytestmark = [pytest.mark.distributed, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ORDER = [
    ("amc_joor_customer_sync", {"mode": "initial"}),
    ("amc_joor_catalog_push", {}),
    ("amc_joor_inventory_push", {}),
    ("joor_amc_order_pull", {}),
]


def test_all_dags_on_celery_with_two_workers(tmp_path, postgres_admin_url, redis_url):
    flows = [(d, c) for d, c in ORDER if (ROOT / "dags" / f"{d}.py").exists()]
    assert flows, "no DAGs to run"
    with start_sandbox("small", seed=7) as sandbox:
        env = {**connection_env(sandbox.amc_url, sandbox.joor_url), "AIRFLOW_VAR_AMC_JOOR_SETTINGS": "{}"}
        with airflow_cluster(tmp_path, postgres_admin_url, redis_url, env) as cluster:
            cluster.wait_dags_parsed([d for d, _ in flows])
            hosts: Counter[str] = Counter()
            mapped_hosts: set[str] = set()
            for dag_id, conf in flows:
                run_id = cluster.trigger(dag_id, conf)
                state = cluster.wait_run(dag_id, run_id, timeout=600)
                tis = cluster.task_instances(dag_id, run_id)
                broken = {f"{t['task_id']}[{t['map_index']}]": t["state"] for t in tis
                          if t["state"] not in ("success", "skipped") and t["task_id"] != "report"}
                assert not broken, (
                    f"{dag_id}: tasks did not succeed: {broken}\nscheduler:\n{cluster.tail('scheduler')}\n"
                    f"worker1:\n{cluster.tail('worker1')}")
                if state != "success":
                    report = [t for t in tis if t["task_id"] == "report"]
                    assert report and report[0]["state"] == "failed", f"{dag_id} ended {state}"
                for t in tis:
                    if t.get("hostname"):
                        hosts[t["hostname"]] += 1
                        if t["map_index"] >= 0:
                            mapped_hosts.add(t["hostname"])
            assert {"worker1", "worker2"} <= set(hosts), f"tasks ran on {dict(hosts)}"
            assert mapped_hosts, "no mapped task ran"

        stats = sandbox.joor_admin.stats()
        assert stats["max_credits_in_window"] <= 300, stats
        assert stats.get("responses_429", 0) == 0, stats
        orders = sandbox.amc_admin.orders()
        per_joor_order = Counter(o.get("customer_po") for o in orders if o.get("source") == "JOOR")
        assert per_joor_order, "no order was imported"
        assert max(per_joor_order.values()) == 1, [k for k, v in per_joor_order.items() if v > 1]
