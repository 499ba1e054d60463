"""Run a real DAG end to end with ``dag.test()`` against the sandbox APIs.

Why a fixture: every flow's end-to-end test needs the same wiring — connections pointed at the
sandbox's loopback ports, a per-test state store and staging root, the settings Variable, a
short retry delay — and the same way to read the outcome (task states, the run report).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"


@dataclass
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str] = field(default_factory=dict)  # "task_id" or "task_id[i]" -> state
    report: dict | None = None
    xcoms: dict[str, Any] = field(default_factory=dict)  # task_id -> return value (unmapped tasks)

    @property
    def ok(self) -> bool:
        return self.state == "success"

    def failed_tasks(self) -> list[str]:
        return sorted(k for k, v in self.task_states.items() if v in ("failed", "upstream_failed"))


def load_dag(dag_id: str):
    """Import ``dags/<dag_id>.py`` afresh (so env set by the test applies) and return the DAG."""
    path = DAGS_DIR / f"{dag_id}.py"
    name = f"_amc_joor_test_dag_{dag_id}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    from airflow.sdk import DAG

    for value in vars(module).values():
        if isinstance(value, DAG) and value.dag_id == dag_id:
            return value
    raise LookupError(f"{path} defines no DAG {dag_id!r}")


class DagRunner:
    """Callable given to tests: ``run_dag(dag_id, conf=..., settings=...)``."""

    def __init__(self, sandbox, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from amc_joor_sandbox.connections import connection_env

        self.sandbox = sandbox
        self.workdir = workdir
        self.state_url = f"sqlite:///{workdir / 'state.db'}"
        self.staging_root = f"file://{workdir / 'staging'}"
        self._mp = monkeypatch
        for name, value in connection_env(sandbox.amc_url, sandbox.joor_url).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AMC_JOOR_STATE_URL", self.state_url)
        monkeypatch.setenv("AMC_JOOR_STAGING_ROOT", self.staging_root)
        monkeypatch.setenv("AMC_JOOR_RETRY_DELAY_SECONDS", os.environ.get("AMC_JOOR_TEST_RETRY_DELAY", "1"))
        self.set_settings({})

    def set_settings(self, settings: dict[str, Any]) -> None:
        """The ``amc_joor_settings`` Variable for the next runs (as an env Variable)."""
        self._mp.setenv("AIRFLOW_VAR_AMC_JOOR_SETTINGS", json.dumps(settings, default=str))

    def __call__(
        self,
        dag_id: str,
        conf: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
        logical_date: datetime | None = None,
    ) -> DagRunResult:
        if settings is not None:
            self.set_settings(settings)
        dag = load_dag(dag_id)
        kwargs: dict[str, Any] = {"run_conf": conf or {}}
        if logical_date is not None:
            kwargs["logical_date"] = logical_date
        dr = dag.test(**kwargs)
        result = DagRunResult(dag_id=dag_id, run_id=dr.run_id, state=str(dr.state))
        for ti in dr.get_task_instances():
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            result.task_states[key] = str(ti.state)
        result.report = self.read_report(dag_id, dr.run_id)
        return result

    def read_report(self, dag_id: str, run_id: str) -> dict | None:
        from amc_joor import staging

        url = staging.stage_path(dag_id, run_id, "report", "report.json")
        local = staging.local_path(url)
        if local and os.path.exists(local):
            return json.loads(Path(local).read_text())
        return None


@pytest.fixture
def run_dag(fresh_sandbox, tmp_path, monkeypatch) -> DagRunner:
    """Run DAGs against a freshly reset sandbox with a per-test state store and staging root."""
    return DagRunner(fresh_sandbox, tmp_path, monkeypatch)
