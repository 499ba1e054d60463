"""Fixtures for the hook contract tests: connections pointing at the session sandbox, fast retries."""

from __future__ import annotations

import json

import pytest

from amc_joor_sandbox.connections import amc_connection, joor_connection


@pytest.fixture
def amc_conn_id(fresh_sandbox, monkeypatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_AMC_TEST", json.dumps(amc_connection(fresh_sandbox.amc_url)))
    return "amc_test"


@pytest.fixture
def joor_conn_id(fresh_sandbox, monkeypatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_JOOR_TEST", json.dumps(joor_connection(fresh_sandbox.joor_url)))
    return "joor_test"


@pytest.fixture
def state_url(tmp_path, monkeypatch) -> str:
    """A private SQLite state store (budget rows) for one test."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("AMC_JOOR_STATE_URL", url)
    return url
