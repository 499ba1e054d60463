"""Every DAG file imports cleanly in a fresh AIRFLOW_HOME and follows the project's DAG rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("airflow_home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/never-used.db",
        AMC_JOOR_STATE_URL="postgresql://nobody@127.0.0.1:1/never",  # any parse-time use would fail
        PYTHONWARNINGS="ignore",
    )
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("parse_guard.py")), str(DAGS)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_dag_files_exist():
    assert DAG_FILES, "no DAG files in dags/"


def test_no_import_errors(parsed):
    assert parsed["import_errors"] == {}


def test_one_dag_per_file_named_after_it(parsed):
    by_file = {Path(d["fileloc"]).stem: dag_id for dag_id, d in parsed["dags"].items()}
    for path in DAG_FILES:
        assert by_file.get(path.stem) == path.stem, f"{path.name} must define DAG {path.stem!r}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_dag_rules(parsed, path):
    d = parsed["dags"][path.stem]
    assert "amc-joor" in d["tags"]
    assert d["owners"] == ["amc-joor"]
    assert len(d["doc_md"].strip()) > 200, "doc_md must explain the DAG to its operators"
    assert d["min_retries"] >= 2
    assert d["backoff"], "every task retries with exponential backoff"
    assert d["max_active_runs"] == 1
    assert d["catchup"] is False
    assert d["report_task"], "the last task of every flow is `report`"
    assert "dry_run" in d["params"]
