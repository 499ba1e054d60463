"""A real ``kill -9`` of a push process right after JOOR acknowledged a batch and before the
state store recorded it (the widest window a crash can hit), then a re-run through the DAG.

The push runs as a subprocess (push_crash_runner.py) with the flow module's test-only crash
point armed (AMC_JOOR_TEST_CRASH_AT): at that point it writes its pid to a sentinel file and
waits; the test SIGKILLs it from outside. Then: JOOR holds the batch, the state store does not
(never ahead), and the re-run — the real DAG under dag.test, same state store — converges with
nothing created twice (the catalog's creates come back DUPLICATED and are adopted by lookup;
inventory quantities are simply set again).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from chaos_support import (
    assert_catalog_converged,
    assert_inventory_converged,
    assert_inventory_state_not_ahead,
    seed_catalog_skus,
    state_rows,
)

from crash_kill import kill_at_crash_point

RUNNER = Path(__file__).with_name("push_crash_runner.py")
pytestmark = [pytest.mark.chaos, pytest.mark.timeout(180)]


def kill_at(flow: str, point: str, sentinel: Path, timeout: float = 90) -> int:
    """Start a push, wait until it reaches ``point``, SIGKILL it; returns its exit code."""
    return kill_at_crash_point([sys.executable, str(RUNNER), flow, "crashing"], dict(os.environ), point,
                               sentinel, timeout)


def test_catalog_push_killed_after_joor_acked_skus_then_rerun_converges(chaos, tmp_path):
    sb = chaos.sb
    assert kill_at("catalog", "catalog_acked_sku", tmp_path / "sentinel") == -signal.SIGKILL
    on_joor = {s["external_id"] for s in sb.joor_admin.get("/joor/catalog")["skus"] if s.get("external_id")}
    in_state = set(state_rows(chaos.state_url, "sku"))
    assert len(on_joor) == 60, "killed right after JOOR acknowledged the first SKU batch"
    assert not in_state, "state recorded SKUs before the kill: it must move only after the ack is processed"
    assert len(state_rows(chaos.state_url, "product")) > 20  # the products stage had finished

    rerun = chaos.run("amc_joor_catalog_push")
    assert rerun.ok, rerun.task_states
    assert rerun.report["counts"]["sku"]["reconciled"] == 60  # found on JOOR, adopted, not created twice
    assert_catalog_converged(sb, chaos.state_url)


def test_inventory_push_killed_after_joor_acked_a_batch_then_rerun_converges(chaos, tmp_path):
    sb = chaos.sb
    settings = {"stock_field": "Stock on Hand", "joor_v2_bulk_max": 100}
    chaos.runner.set_settings(settings)
    assert seed_catalog_skus(chaos.state_url) > 250
    assert kill_at("inventory", "inventory_acked", tmp_path / "sentinel") == -signal.SIGKILL
    rows = [r for r in sb.joor_admin.get("/joor/inventory")["inventory"] if r["warehouse"] == "Main Warehouse"]
    assert len(rows) == 100, "killed right after JOOR acknowledged the first batch"
    assert assert_inventory_state_not_ahead(sb, chaos.state_url) == {}  # nothing recorded: the kill came first

    rerun = chaos.run("amc_joor_inventory_push", settings=settings)
    assert rerun.ok, rerun.task_states
    assert_inventory_converged(sb, chaos.state_url, "qty_inventory")
