"""Inventory push under faults at every external call it makes, through the real DAG (dag.test).

The catalog's SKUs are put on JOOR first with the catalog flow's own code (styles + SKUs, the
inventory push's precondition). Per fault kind, the kind is armed at the push's AMC reads
(warehouses, stock rows, SKUs, colorways) and at JOOR's bulk-inventory write; the stock field
is a non-default one ("Stock on Hand") and batches are small, so several mapped push tasks run.
bulk-inventory *sets* quantities, so the hook may resend it: every kind is absorbed by the run.
A fault outlasting the hook's retry budget fails only that batch's SKUs (reported, state
untouched) and the next run sends them.
"""

from __future__ import annotations

import pytest
from chaos_support import (
    INVENTORY_SITES,
    KINDS,
    assert_inventory_converged,
    assert_inventory_state_not_ahead,
    seed_catalog_skus,
)

DAG_ID = "amc_joor_inventory_push"
SETTINGS = {"stock_field": "Stock on Hand", "joor_v2_bulk_max": 100}
COLUMN = "qty_inventory"
pytestmark = [pytest.mark.chaos, pytest.mark.timeout(180)]


@pytest.fixture
def seeded(chaos):
    assert seed_catalog_skus(chaos.state_url) > 250
    chaos.sb.joor_admin.reset_stats()
    return chaos


@pytest.mark.parametrize("kind", KINDS)
def test_inventory_push_converges_under_faults_at_every_call(seeded, kind):
    chaos = seeded
    assert chaos.arm(kind, INVENTORY_SITES)
    first = chaos.run(DAG_ID, settings=SETTINGS)
    assert chaos.unfired() == [], f"armed faults that never fired: {chaos.unfired()}"
    chaos.settle()
    assert first.ok, (kind, first.task_states)
    assert sum(1 for t in first.task_states if t.startswith("push[")) >= 3  # several batches, mapped
    assert assert_inventory_converged(chaos.sb, chaos.state_url, COLUMN) > 250


def test_batch_failing_past_the_retry_budget_is_reported_and_resent_next_run(seeded):
    chaos = seeded
    sb = chaos.sb
    # more 503s than the hook's 6 attempts: the first batch's call fails for good
    sb.joor_admin.arm_fault("status", status=503, method="POST", path="/v2/bulk-inventory", count=6)
    first = chaos.run(DAG_ID, settings=SETTINGS)
    assert first.state == "failed" and first.only_records_failed, first.task_states
    failed = {f["key"] for f in first.report["failures"]}
    # exactly one batch (whichever mapped instance ran first) failed, with the reason
    assert 0 < len(failed) <= 100 and all("bulk-inventory call failed" in f["reason"] for f in first.report["failures"])
    st = assert_inventory_state_not_ahead(sb, chaos.state_url)
    assert not failed & set(st), "state recorded SKUs whose quantities JOOR never acknowledged"
    sb.joor_admin.reset_stats()
    again = chaos.run(DAG_ID, settings=SETTINGS)
    assert again.ok, again.task_states
    assert again.report["counts"]["inventory"]["updated"] == len(failed)  # exactly the failed batch, once
    assert sb.joor_admin.requests().get("POST /v2/bulk-inventory") == 1
    assert_inventory_converged(sb, chaos.state_url, COLUMN)
