"""Bad answers as a whole (malformed JSON): retried when passing, a clear task failure when not.

A half-written body cannot be pinned on one record, so it is a response-level problem: the
transport retries it like a 5xx; an endpoint that keeps answering garbage fails the task with a
message saying so — and nothing is half-sent.
"""

from __future__ import annotations

from collections import Counter

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_passing_malformed_answers_are_retried_and_the_order_pull_is_unaffected(run_dag):
    sb = run_dag.sandbox
    sb.joor_admin.arm_faults([
        {"kind": "malformed", "method": "GET", "path": "/v4/orders", "count": 2},
    ])
    sb.amc_admin.arm_faults([
        {"kind": "malformed", "method": "GET", "path": "/api/json/inventory", "count": 2},
        {"kind": "malformed", "method": "GET", "path": "/api/json/orders", "count": 1},
    ])
    result = run_dag("joor_amc_order_pull")
    assert result.failed_tasks() == ["report"], result.task_states  # only the seed's flawed orders
    fired = Counter(sb.amc_admin.stats()["faults_fired"]) + Counter(sb.joor_admin.stats()["faults_fired"])
    assert fired["malformed"] == 5
    joor = sb.joor_admin.get("/joor/orders", lines="0")["orders"]
    in_amc = Counter(o.get("customer_po") for o in sb.amc_admin.orders())
    success = [o["order_number"] for o in joor if o["export_status"] == "SUCCESS"]
    assert success and all(in_amc[n] == 1 for n in success) and sum(in_amc.values()) == len(success)


def test_an_endpoint_that_keeps_answering_garbage_fails_the_plan_and_sends_nothing(run_dag, monkeypatch):
    monkeypatch.setenv("AMC_JOOR_RETRY_DELAY_SECONDS", "0")
    sb = run_dag.sandbox
    sb.amc_admin.arm_fault("malformed", method="GET", path="/api/json/customers", count=10_000)
    result = run_dag("amc_joor_customer_sync", {"mode": "initial"},
                     settings={"customer_job_poll_seconds": 0.2, "customer_job_timeout_minutes": 1})
    assert result.state == "failed" and result.task_states["plan"] == "failed", result.task_states
    assert sb.joor_admin.get("/joor/bulk-jobs")["jobs"] == []
    assert result.report is not None and any("plan" in f["key"] for f in result.report["failures"])
