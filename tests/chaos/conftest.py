"""Chaos suite wiring: this folder's helpers importable, and the ``chaos`` runner fixture.

Why a fixture of its own (on top of ``run_dag``): fault tests need short client timeouts (a
``hang`` must outlive the client's read timeout without costing a minute), JOOR's credit window
out of the way (several runs per test), and every fault the test armed provably fired.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from chaos_support import CLIENT_TIMEOUT, CREDIT_WINDOW, Chaos  # noqa: E402


@pytest.fixture
def chaos(run_dag, monkeypatch) -> Chaos:
    """``run_dag`` + short client timeouts + a wide credit window; faults cleared afterwards."""
    from amc_joor_sandbox.connections import amc_connection, joor_connection

    sb = run_dag.sandbox
    for name, conn in (("AIRFLOW_CONN_AMC_DEFAULT", amc_connection(sb.amc_url)),
                       ("AIRFLOW_CONN_JOOR_DEFAULT", joor_connection(sb.joor_url))):
        conn["extra"]["timeout"] = CLIENT_TIMEOUT
        monkeypatch.setenv(name, json.dumps(conn))
    # Several full pushes per test: credits are the budget suite's subject, not ours. The window
    # is scaled down too (JOOR's 300 s -> CREDIT_WINDOW): the client budget treats any 429 as
    # "window spent until its end" (see test_rate_limit_stall.py), so an injected 429 costs up
    # to one window here instead of up to five minutes.
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_LIMIT", "100000")
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_RESERVE", "0")
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_WINDOW_SECONDS", str(CREDIT_WINDOW))
    sb.joor_admin.config(credits_per_window=100000, window_seconds=CREDIT_WINDOW)
    runner = Chaos(run_dag)
    yield runner
    sb.joor_admin.clear_faults()
    sb.amc_admin.clear_faults()
