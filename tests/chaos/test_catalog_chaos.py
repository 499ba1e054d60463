"""Catalog push under faults at every external call it makes, through the real DAG (dag.test).

Per fault kind, the kind is armed at all of the push's sites at once (AMC's four reads, JOOR's
price types read, and each JOOR write endpoint: products, SKUs, prices, style images, colour
images, linesheets). Every armed fault must fire; the run must still succeed (every catalog
write carries external ids or replaces a whole set, so the hook may resend it: a lost reply
comes back DUPLICATED and is reconciled by lookup); afterwards JOOR equals AMC's projection,
nothing exists twice and the state store names only what JOOR holds.
"""

from __future__ import annotations

import time

import pytest
from chaos_support import CATALOG_SITES, KINDS, RETRY_AFTER, armed_429s, assert_catalog_converged

DAG_ID = "amc_joor_catalog_push"
pytestmark = [pytest.mark.chaos, pytest.mark.timeout(240)]


@pytest.mark.parametrize("kind", KINDS)
def test_catalog_push_converges_under_faults_at_every_call(chaos, kind):
    sb = chaos.sb
    armed = chaos.arm(kind, CATALOG_SITES)
    assert armed
    started = time.monotonic()
    first = chaos.run(DAG_ID)
    elapsed = time.monotonic() - started
    assert chaos.unfired() == [], f"armed faults that never fired: {chaos.unfired()}"
    chaos.settle()
    # everything the catalog writes is replay-safe: the hook's own retries absorb every kind
    assert first.ok, (kind, first.task_states)
    if kind == "429_storm":
        statuses = sb.joor_admin.stats()["statuses"]
        amc_statuses = sb.amc_admin.stats()["statuses"]
        n429 = int(statuses.get("429", 0)) + int(amc_statuses.get("429", 0))
        assert n429 == armed_429s(kind, CATALOG_SITES)
        assert elapsed >= n429 * RETRY_AFTER, "the run did not wait out Retry-After"
    if kind in ("commit_then_fail", "malformed", "drop"):
        # lost replies of creates came back DUPLICATED and were reconciled, never re-created
        assert first.report["counts"].get("product", {}).get("reconciled", 0) >= 1, first.report["counts"]
    counts = assert_catalog_converged(sb, chaos.state_url)
    assert counts["skus"] > 100
