"""Customer sync under faults at every external call it makes, through the real DAG (dag.test).

Per fault kind, the kind is armed at the sync's AMC reads (customers, ship-tos, currencies), its
JOOR reads (price types, the per-code connection lookup, the bulk job status the deferred task
polls) and both JOOR writes (POST creates, PUT updates a bulk-connection job). PUT replays are
safe; a POST whose fate is unknown is not resent by the hook: the push task fails, and its
Airflow retry looks the codes up before sending again (``customer_jobs`` remembers the batch).
After convergence every AMC customer with a JOOR code is one JOOR connection holding the mapped
fields, and the state store names only connections JOOR has.
"""

from __future__ import annotations

import pytest
from chaos_support import CUSTOMER_SITES, KINDS, assert_customers_converged

DAG_ID = "amc_joor_customer_sync"
SETTINGS = {"customer_job_poll_seconds": 0.2, "customer_job_timeout_minutes": 2}
pytestmark = [pytest.mark.chaos, pytest.mark.timeout(180)]


@pytest.mark.parametrize("kind", KINDS)
def test_customer_sync_converges_under_faults_at_every_call(chaos, kind):
    sb = chaos.sb
    assert chaos.arm(kind, CUSTOMER_SITES)
    first = chaos.run(DAG_ID, {"mode": "initial"}, settings=SETTINGS)
    assert chaos.unfired() == [], f"armed faults that never fired: {chaos.unfired()}"
    chaos.settle()
    if kind in ("5xx_burst", "429_storm"):  # inside every retry budget: the run itself succeeds
        assert first.ok, (kind, first.task_states, (first.report or {}).get("failures"))
    # the rest: the task's own retry (an ambiguous POST) absorbs it, else one re-run converges
    chaos.converge(DAG_ID, {"mode": "initial"}, settings=SETTINGS, first=first, max_runs=2)
    assert assert_customers_converged(sb, chaos.state_url) >= 10
    # state is complete too: the next run finds nothing to send
    jobs = len(sb.joor_admin.get("/joor/bulk-jobs")["jobs"])
    again = chaos.run(DAG_ID, {}, settings=SETTINGS)
    assert again.ok, again.task_states
    assert len(sb.joor_admin.get("/joor/bulk-jobs")["jobs"]) == jobs
