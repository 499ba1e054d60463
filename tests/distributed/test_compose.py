"""docker-compose.yaml describes the topology CI runs for real (test_celery_run), consistently.

No Docker engine here: these checks parse the file and hold it to the tested configuration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker", "airflow-init"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_every_service_of_the_topology(compose):
    services = compose["services"]
    for name in ["postgres", "redis", *AIRFLOW_SERVICES]:
        assert name in services, name
    assert services["flower"]["profiles"] == ["flower"]
    assert services["sandbox"]["profiles"] == ["sandbox"]


def test_commands(compose):
    s = compose["services"]
    assert s["airflow-apiserver"]["command"] == "api-server"
    assert s["airflow-scheduler"]["command"] == "scheduler"
    assert s["airflow-dag-processor"]["command"] == "dag-processor"
    assert s["airflow-triggerer"]["command"] == "triggerer"
    assert s["airflow-worker"]["command"] == "celery worker"
    assert "airflow db migrate" in "\n".join(s["airflow-init"]["command"])


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_common_environment(compose, service):
    env = compose["services"][service]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    # one shared JWT secret for every component, required (not defaulted)
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW__API_AUTH__JWT_SECRET:?")
    # the integration's state store on Postgres, in its own database
    assert env["AMC_JOOR_STATE_URL"].startswith("postgresql+psycopg2://") and env["AMC_JOOR_STATE_URL"].endswith("/amc_joor")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    for conn in ("AIRFLOW_CONN_AMC_DEFAULT", "AIRFLOW_CONN_JOOR_DEFAULT", "AIRFLOW_VAR_AMC_JOOR_SETTINGS"):
        assert conn in env


@pytest.mark.parametrize("service", ["airflow-apiserver", "airflow-scheduler", "airflow-worker"])
def test_dags_and_plugins_mounted(compose, service):
    volumes = compose["services"][service]["volumes"]
    assert "./dags:/opt/airflow/dags" in volumes
    assert "./plugins:/opt/airflow/plugins" in volumes


def test_image_installs_the_pinned_requirements_and_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2" in dockerfile
    assert "-r /opt/amc-joor/requirements.txt -c /opt/amc-joor/constraints.txt" in dockerfile
    requirements = (ROOT / "requirements.txt").read_text()
    assert "apache-airflow[postgres]==3.3.2" in requirements
    assert "apache-airflow-providers-celery==" in requirements


def test_sandbox_profile_serves_both_apis(compose):
    entry = compose["services"]["sandbox"]["entrypoint"]
    assert entry[:4] == ["python", "-m", "amc_joor_sandbox", "serve"]
    assert "--amc-port" in entry and "--joor-port" in entry
