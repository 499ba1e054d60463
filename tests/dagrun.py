"""``run_dag`` fixture: run a real DAG end to end with ``dag.test()`` against the sandbox APIs.

Why a fixture: every flow's end-to-end test needs the same wiring — connections pointed at the
sandbox's loopback ports, a per-test state store and staging root, the settings Variable, a
short retry delay — and the same way to read the outcome (task states, the run report).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from amc_joor_sandbox.dagrun import DagRunResult, read_report, run_dag_test

__all__ = ["DagRunResult", "DagRunner", "run_dag"]


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
        return run_dag_test(dag_id, conf, logical_date)

    @staticmethod
    def read_report(dag_id: str, run_id: str) -> dict | None:
        return read_report(dag_id, run_id)


@pytest.fixture
def run_dag(fresh_sandbox, tmp_path, monkeypatch) -> DagRunner:
    """Run DAGs against a freshly reset sandbox with a per-test state store and staging root."""
    return DagRunner(fresh_sandbox, tmp_path, monkeypatch)
