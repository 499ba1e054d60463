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
from chaos_support import CUSTOMER_SITES, KINDS, assert_customers_converged, customer_projection, state_rows

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


def test_lost_reply_create_that_joor_processed_is_adopted_not_resent(chaos):
    """The POST creating customers lands, its reply is lost, and JOOR's job runs meanwhile: the
    retried submit finds the codes on JOOR, acknowledges them from the first submission and
    sends nothing again (a second create job would be refused code by code: 'use PUT')."""
    from amc_joor.flows import customers
    from amc_joor.hooks.http import ApiError
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.state import get_engine

    sb, engine = chaos.sb, get_engine(chaos.state_url)
    on_joor = {c["customer_code"] for c in sb.joor_admin.get("/joor/connections")["connections"]}
    creates = [r for code, r in sorted(customer_projection().items()) if code not in on_joor]
    assert len(creates) >= 3
    key = customers.batch_key("lost-reply", "create-0000")
    sb.joor_admin.arm_fault("commit_then_fail", method="POST", path="/v2/bulk-connection", status=500)
    with pytest.raises(ApiError) as lost:
        customers.submit_batch(JoorHook(), engine, key, "POST", creates)
    assert lost.value.ambiguous  # the hook did not resend a create whose fate it cannot know
    (job,) = sb.joor_admin.get("/joor/bulk-jobs")["jobs"]
    assert customers.existing_job(engine, key)["job_id"] is None  # we never learnt the job id
    joor = JoorHook()
    for _ in range(3):  # JOOR's own worker finishes the job in the background
        if joor.get_bulk_connection_job(job["job_id"]).finished:
            break

    retried = customers.submit_batch(JoorHook(), engine, key, "POST", creates)  # the task's retry
    assert retried["job_id"] is None and sorted(retried["landed"]) == sorted(r["key"] for r in creates)
    assert len(sb.joor_admin.get("/joor/bulk-jobs")["jobs"]) == 1, "the create was sent twice"
    assert set(state_rows(chaos.state_url, "customer")) == {r["key"] for r in creates}

    # the DAG then finishes the job: updates the known customers, leaves the adopted ones alone
    done = chaos.run(DAG_ID, {"mode": "initial"}, settings=SETTINGS)
    assert done.ok, done.task_states
    assert "created" not in done.report["counts"]["customer"]
    assert_customers_converged(sb, chaos.state_url)

