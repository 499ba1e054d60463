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

#: The module whose tests need the real cluster (run last; booted in the background).
CLUSTER_MODULE = "test_scheduler_clear_backfill.py"


def pytest_collection_modifyitems(config, items):
    """The cluster tests go right after this folder's other tests: their scenario runs in the
    background meanwhile (see below), and the cluster stops when they are done."""
    cluster = [i for i in items if i.path.name == CLUSTER_MODULE]
    if not cluster:
        return
    rest = [i for i in items if i.path.name != CLUSTER_MODULE]
    here = Path(__file__).resolve().parent
    ours = [n for n, i in enumerate(rest) if here in i.path.resolve().parents]
    at = ours[-1] + 1 if ours else len(rest)
    items[:] = rest[:at] + cluster + rest[at:]


@pytest.fixture(scope="session", autouse=True)
def _cluster_in_background(request, tmp_path_factory):
    """Start the cluster scenario when the session's first chaos test starts, if it will be needed.

    Why: the cluster scenario is ~2 minutes of waiting on a scheduler, the fault tests are
    mostly sleeps (backoffs, timeouts, Retry-After); overlapping them keeps this folder's wall
    time near the longer of the two. Only when the cluster tests are selected and PostgreSQL
    and Redis answer: otherwise the cluster tests' own fixtures skip (or fail, in CI) them.
    """
    from services import PG_HOST, PG_PORT, REDIS_HOST, REDIS_PORT, _reachable

    wanted = any(item.path.name == CLUSTER_MODULE for item in request.session.items)
    if not wanted or not (_reachable(PG_HOST, PG_PORT) and _reachable(REDIS_HOST, REDIS_PORT)):
        yield None
        return
    from chaos_cluster import ClusterScenario

    scenario = ClusterScenario(tmp_path_factory.mktemp("cluster"), request.getfixturevalue("postgres_admin_url"),
                               request.getfixturevalue("redis_url")).start()
    request.config._chaos_cluster = scenario
    yield scenario
    scenario.stop()
    request.config._chaos_cluster = None


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
    before = sb.joor_admin.config()
    sb.joor_admin.config(credits_per_window=100000, window_seconds=CREDIT_WINDOW)
    runner = Chaos(run_dag)
    yield runner
    sb.joor_admin.clear_faults()
    sb.amc_admin.clear_faults()
    # the session sandbox is shared: leave JOOR's credit window as it was
    sb.joor_admin.config(credits_per_window=before["credits_per_window"], window_seconds=before["window_seconds"])
