"""Run one DAG of this project with ``dag.test()`` and read its outcome.

Shared by ``make demo`` and the end-to-end tests, so both exercise the DAGs the same way:
real Airflow task execution against whatever the ``AIRFLOW_CONN_*`` / state / staging env says.
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

DAGS_DIR = Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER") or Path(__file__).resolve().parents[2] / "dags")


@dataclass
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str] = field(default_factory=dict)  # "task_id" or "task_id[i]" -> state
    report: dict | None = None

    @property
    def ok(self) -> bool:
        return self.state == "success"

    def failed_tasks(self) -> list[str]:
        return sorted(k for k, v in self.task_states.items() if v in ("failed", "upstream_failed"))

    @property
    def only_records_failed(self) -> bool:
        """The run failed only because records failed (the work tasks all succeeded)."""
        return self.failed_tasks() == ["report"]


def load_dag(dag_id: str, dags_dir: Path = DAGS_DIR):
    """Import ``dags/<dag_id>.py`` afresh (so the current env applies) and return its DAG."""
    path = dags_dir / f"{dag_id}.py"
    name = f"_amc_joor_dag_{dag_id}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LookupError(f"no DAG file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    from airflow.sdk import DAG

    for value in vars(module).values():
        if isinstance(value, DAG) and value.dag_id == dag_id:
            return value
    raise LookupError(f"{path} defines no DAG {dag_id!r}")


def read_report(dag_id: str, run_id: str) -> dict | None:
    """The run's staged report.json (written by the DAG's `report` task), if any."""
    from amc_joor import staging

    local = staging.local_path(staging.stage_path(dag_id, run_id, "report", "report.json"))
    if local and os.path.exists(local):
        return json.loads(Path(local).read_text())
    return None


def run_dag_test(
    dag_id: str, conf: dict[str, Any] | None = None, logical_date: datetime | None = None
) -> DagRunResult:
    dag = load_dag(dag_id)
    kwargs: dict[str, Any] = {"run_conf": conf or {}}
    if logical_date is not None:
        kwargs["logical_date"] = logical_date
    dr = dag.test(**kwargs)
    result = DagRunResult(dag_id=dag_id, run_id=dr.run_id, state=str(dr.state))
    for ti in dr.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        result.task_states[key] = str(ti.state)
    result.report = read_report(dag_id, dr.run_id)
    return result
