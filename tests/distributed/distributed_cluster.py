"""A real Airflow cluster on this machine: the docker-compose topology, without Docker.

CeleryExecutor + PostgreSQL metadata DB + Redis broker, two Celery workers, scheduler,
dag-processor, triggerer, api-server; the integration's state store on PostgreSQL. Every
process runs in its own process group and is stopped by PID at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowCluster:
    def __init__(self, workdir: Path, pg_admin_url: str, redis_url: str, extra_env: dict[str, str]) -> None:
        self.workdir = workdir
        self.pg_admin_url = pg_admin_url
        self.suffix = uuid.uuid4().hex[:8]
        self.meta_db = f"amc_joor_af_{self.suffix}"
        self.state_db = f"amc_joor_st_{self.suffix}"
        base = pg_admin_url.rsplit("/", 1)[0]
        self.api_port = free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.procs: dict[str, subprocess.Popen] = {}
        home = workdir / "airflow_home"
        home.mkdir(parents=True, exist_ok=True)
        redis_db = int(self.suffix, 16) % 14 + 1
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api}/execution/",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_identity.hostname",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{base}/{self.meta_db}",
            "AIRFLOW__CELERY__BROKER_URL": f"{redis_url.rsplit('/', 1)[0]}/{redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{base.replace('+psycopg2', '')}/{self.meta_db}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex * 2,
            "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AMC_JOOR_STATE_URL": f"{base}/{self.state_db}",
            "AMC_JOOR_STAGING_ROOT": f"file://{workdir / 'staging'}",
            "AMC_JOOR_RETRY_DELAY_SECONDS": "2",
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
            "PYTHONWARNINGS": "ignore",
            **extra_env,
        }
        self.airflow = str(Path(sys.executable).with_name("airflow"))

    # --- lifecycle ---------------------------------------------------------------------------
    def _create_dbs(self) -> None:
        admin = sa.create_engine(self.pg_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in (self.meta_db, self.state_db):
                conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
        admin.dispose()

    def _drop_dbs(self) -> None:
        admin = sa.create_engine(self.pg_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in (self.meta_db, self.state_db):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()

    def _spawn(self, name: str, args: list[str], **env: str) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(
            [self.airflow, *args], env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.workdir,
        )

    def start(self) -> None:
        self._create_dbs()
        subprocess.run([self.airflow, "db", "migrate"], env=self.env, check=True, timeout=600,
                       stdout=open(self.workdir / "migrate.log", "wb"), stderr=subprocess.STDOUT)
        self._spawn("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port)])
        self._spawn("dag-processor", ["dag-processor"])
        self._spawn("scheduler", ["scheduler"])
        self._spawn("triggerer", ["triggerer"])
        for worker in ("worker1", "worker2"):
            self._spawn(worker, ["celery", "worker", "--concurrency", "2", "--celery-hostname",
                                 f"{worker}@amc-joor-test"], AMC_JOOR_WORKER_NAME=worker)
        self._wait_api()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self._drop_dbs()

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # --- REST API ----------------------------------------------------------------------------
    def _wait_api(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited early:\n{self.tail(name)}")
            try:
                if httpx.get(f"{self.api}/api/v2/monitor/health", timeout=2).status_code == 200:
                    token = httpx.get(f"{self.api}/auth/token", timeout=5).json()["access_token"]
                    self.client = httpx.Client(base_url=f"{self.api}/api/v2", timeout=30,
                                               headers={"Authorization": f"Bearer {token}"})
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise TimeoutError(f"api-server not up after {timeout}s:\n{self.tail('api-server')}")

    def wait_dags_parsed(self, dag_ids: list[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {d["dag_id"] for d in self.client.get("/dags", params={"limit": 100}).json().get("dags", [])}
            if set(dag_ids) <= found:
                return
            time.sleep(2)
        errors = self.client.get("/importErrors").json()
        raise TimeoutError(f"DAGs not parsed: {set(dag_ids) - found}; import errors: {errors}")

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        self.client.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        resp = self.client.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        resp.raise_for_status()
        return resp.json()["dag_run_id"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.client.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(2)
        raise TimeoutError(f"{dag_id} {run_id} still running after {timeout}s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        resp = self.client.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        resp.raise_for_status()
        return resp.json()["task_instances"]


@contextmanager
def airflow_cluster(workdir: Path, pg_admin_url: str, redis_url: str, extra_env: dict[str, str]) -> Iterator[AirflowCluster]:
    cluster = AirflowCluster(workdir, pg_admin_url, redis_url, extra_env)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
