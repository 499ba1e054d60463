"""Secret scan: run all four DAGs (like ``make demo``) with distinctive credentials, DEBUG logging
and faults on the error paths, then search everything the runs left behind for every secret.

Searched: all captured output (task logs, exception texts and tracebacks of failed tries go
there under ``dag.test``), every file under the staging root (Parquet read as data, not bytes:
its pages are compressed), Airflow's metadata DB rows of these runs (XCom values, rendered
fields, run conf, triggers, the audit log), and every table of the integration's state DB.
Searched for: the four configured secrets and every v4 access / refresh token the JOOR sandbox
issued during the runs. Expected hits: zero.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import pytest

from amc_joor_sandbox.testing import start_sandbox

SECRETS = {
    "amc token": "amc-TOKEN-7f3a9c51d2e84b6f0a9e3c7d1b5f2a8e",
    "joor v2 token": "joor-V2TOKEN-4c8e2a9f7b1d3e5a6c0f8b2d4e6a1c3f",
    "joor client secret": "joor-CLIENTSECRET-9a2f4e6c8b0d1f3a5c7e9b2d4f6a8c0e",
    "joor password": "joor-PASSWORD-3e5c7a9f1b2d4f6a8c0e2b4d6f8a1c3e",
}
FLOWS = [
    ("amc_joor_customer_sync", {"mode": "initial"}),
    ("amc_joor_catalog_push", {}),
    ("amc_joor_inventory_push", {}),
    ("joor_amc_order_pull", {}),
]
#: Error paths each run goes through: transient 5xx, token refusals (401) on both APIs, a 429,
#: a write that commits and still answers 500 (the AMC body carries the token).
FAULTS = {
    "amc_joor_customer_sync": (
        [{"kind": "status", "status": 500, "method": "GET", "path": "/api/json/customers", "count": 1}],
        [{"kind": "status", "status": 401, "method": "POST", "path": "/v2/bulk-connection", "count": 1}]),
    "amc_joor_catalog_push": (
        [{"kind": "status", "status": 401, "method": "GET", "path": "/api/json/products", "count": 1}],
        [{"kind": "status", "status": 401, "method": "GET", "path": "/v4/price_types", "count": 1},
         {"kind": "status", "status": 500, "method": "POST", "path": "/v4/products/bulk_create", "count": 1}]),
    "amc_joor_inventory_push": (
        [{"kind": "status", "status": 503, "method": "GET", "path": "/api/json/sku_warehouse", "count": 2}],
        [{"kind": "status", "status": 429, "retry_after": 1, "method": "POST", "path": "/v2/bulk-inventory",
          "count": 1}]),
    "joor_amc_order_pull": (
        [{"kind": "commit_then_fail", "method": "POST", "path": "/api/json/orders", "count": 1},
         {"kind": "status", "status": 401, "method": "GET", "path": "/api/json/customers", "count": 1}],
        [{"kind": "status", "status": 401, "method": "GET", "path": "/v4/orders", "count": 1},
         {"kind": "status", "status": 500, "method": "POST", "path": "/v4/orders/bulk_update", "count": 1}]),
}

#: Airflow 3.3's IN-PROCESS test supervisor (``dag.test()`` only) DEBUG-logs every request a task
#: sends it — ``MaskSecret`` ones with the secret in clear (sdk/execution_time/supervisor.py,
#: ``InProcessSupervisorComms.send``). The real supervisor every executor uses omits the body of
#: MaskSecret messages ("Received message from task runner (body omitted)"), so production task
#: logs are not affected (bench/soak.py scans the task logs of a real scheduler run for the same
#: secrets). Only this exact Airflow line is excluded here; any other hit fails the test.
AIRFLOW_DAG_TEST_LEAK = re.compile(r"\[debug\s*\] Sending request\s+loc=supervisor\.py:\d+ msg=MaskSecret\(")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def connection_env(sb) -> dict[str, str]:
    """The sandbox connections with the distinctive credentials instead of the defaults."""
    from amc_joor_sandbox import connections as c

    amc = {**c.amc_connection(sb.amc_url), "password": SECRETS["amc token"]}
    joor = c.joor_connection(sb.joor_url)
    joor["password"] = SECRETS["joor password"]
    joor["extra"] = {**joor["extra"], "v2_token": SECRETS["joor v2 token"],
                     "client_secret": SECRETS["joor client secret"]}
    return {"AIRFLOW_CONN_AMC_DEFAULT": json.dumps(amc), "AIRFLOW_CONN_JOOR_DEFAULT": json.dumps(joor)}


def hits(text: str, needles: dict[str, str]) -> list[str]:
    return [name for name, value in needles.items() if value and value in text]


def staged_texts(root: Path):
    """(path, text) of every staged file; Parquet as its rows (compressed pages hide bytes)."""
    import pandas as pd

    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            yield path, pd.read_parquet(path).to_csv()
        else:
            yield path, path.read_bytes().decode("utf-8", "replace")


def metadata_texts(dag_ids: list[str]):
    """(table, text) of Airflow metadata rows of these DAGs (read directly: allowed in tests)."""
    import sqlalchemy as sa
    from airflow import settings

    insp = sa.inspect(settings.engine)
    wanted = ["xcom", "rendered_task_instance_fields", "dag_run", "task_instance", "log", "trigger",
              "task_instance_history", "asset_event"]
    with settings.engine.connect() as conn:
        for table in wanted:
            if not insp.has_table(table):
                continue
            cols = {c["name"] for c in insp.get_columns(table)}
            query = f"SELECT * FROM {table}"
            params: dict = {}
            if "dag_id" in cols:
                query += " WHERE dag_id IN (" + ", ".join(f":d{i}" for i in range(len(dag_ids))) + ")"
                params = {f"d{i}": d for i, d in enumerate(dag_ids)}
            for row in conn.execute(sa.text(query), params):
                yield table, repr(tuple(row))


def state_texts(url: str):
    """(table, text) of every row of every table of the integration's state DB."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for table in sa.inspect(engine).get_table_names():
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    yield table, repr(tuple(row))
    finally:
        engine.dispose()


@pytest.fixture
def debug_logging(monkeypatch):
    """Airflow's task logging at DEBUG for this test, whatever configured it before (its setup is
    cached per process), and back to the configured default afterwards."""
    from airflow.sdk import log as sdk_log

    monkeypatch.setenv("AIRFLOW__LOGGING__LOGGING_LEVEL", "DEBUG")
    for name in ("", "amc_joor", "urllib3", "requests", "airflow.task"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    sdk_log.reset_logging()
    sdk_log.configure_logging(log_level="DEBUG")
    yield
    sdk_log.reset_logging()
    sdk_log.configure_logging.cache_clear()
    monkeypatch.undo()
    sdk_log.configure_logging()


def test_no_secret_in_logs_staging_xcom_state_or_errors(tmp_path, monkeypatch, capfd, debug_logging):
    from dagrun import DagRunner

    monkeypatch.setenv("AMC_JOOR_SANDBOX_JOOR_CONFIG", json.dumps({
        "v2_token": SECRETS["joor v2 token"], "client_secret": SECRETS["joor client secret"],
        "password": SECRETS["joor password"], "rate_limit_enabled": False}))
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_LIMIT", "100000")
    # the injected 429 marks the client's credit window full until its end: keep that window short
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_WINDOW_SECONDS", "5")
    output: list[str] = []
    with start_sandbox("small", seed=1, amc_token=SECRETS["amc token"]) as sb:
        runner = DagRunner(sb, tmp_path, monkeypatch)
        for name, value in connection_env(sb).items():
            monkeypatch.setenv(name, value)
        runner.set_settings({"customer_job_poll_seconds": 0.2, "customer_job_timeout_minutes": 2,
                             "image_sync": False})
        results, durations = {}, {}
        for dag_id, conf in FLOWS:
            amc_faults, joor_faults = FAULTS[dag_id]
            sb.amc_admin.arm_faults(amc_faults)
            sb.joor_admin.arm_faults(joor_faults)
            t0 = time.monotonic()
            results[dag_id] = runner(dag_id, conf)
            durations[dag_id] = round(time.monotonic() - t0, 1)
            output.append(capfd.readouterr().out + capfd.readouterr().err)
            sb.amc_admin.clear_faults()
            sb.joor_admin.clear_faults()
        fired = {"amc": sb.amc_admin.stats()["faults_fired"], "joor": sb.joor_admin.stats()["faults_fired"]}
        tokens = sb.joor_admin.get("/joor/tokens")
    issued = {f"v4 token {i}": t for i, t in enumerate([*tokens["access_tokens"], *tokens["refresh_tokens"]])}
    needles = {**SECRETS, **issued}

    # the runs did their work (only records may fail) and the error paths really ran
    for dag_id, result in results.items():
        assert result.ok or result.only_records_failed, (dag_id, result.task_states)
    logs = "\n".join(output)
    excluded = [line for line in logs.splitlines() if AIRFLOW_DAG_TEST_LEAK.search(line)]
    print("durations", durations, "airflow dag.test MaskSecret lines excluded:", len(excluded))
    # the scan sees the task output: the excluded Airflow lines do carry the secrets it searches for
    assert {name for line in excluded for name in hits(line, needles)} >= set(SECRETS)
    assert fired["amc"].get("status") and fired["amc"].get("commit_then_fail") and fired["joor"].get("status"), fired
    assert len(tokens["access_tokens"]) >= 2, "the 401s should have made the hook mint a new token"
    assert "[debug    ]" in logs and "AMC GET /" in logs, "DEBUG logging was not on"
    assert "HTTP 401" in logs or "401" in logs

    found: list[str] = [f"captured output: {name} in line: {line[:400]}" for line in logs.splitlines()
                        if not AIRFLOW_DAG_TEST_LEAK.search(line) for name in hits(line, needles)]
    staging_root = tmp_path / "staging"
    files = list(staged_texts(staging_root))
    assert files, "nothing staged?"
    found += [f"staged {path.relative_to(tmp_path)}: {h}" for path, text in files for h in hits(text, needles)]
    meta = list(metadata_texts([d for d, _ in FLOWS]))
    assert any(t == "xcom" for t, _ in meta), "no XCom rows found for the runs"
    found += [f"metadata {table}: {h}" for table, text in meta for h in hits(text, needles)]
    state_rows = list(state_texts(runner.state_url))
    assert state_rows
    found += [f"state {table}: {h}" for table, text in state_rows for h in hits(text, needles)]
    assert not found, "secrets found:\n" + "\n".join(sorted(set(found)))
