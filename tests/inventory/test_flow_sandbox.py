"""Inventory flow against the AMC and JOOR sandboxes over real HTTP (flow level, no Airflow).

The JOOR catalog is seeded through JOOR's v4 API plus the catalog state (``sku``), as the
catalog push would leave it; a few SKUs are deliberately left off JOOR.
"""

from __future__ import annotations

import pytest
from inventory_seed import seed_joor_catalog

from amc_joor.flows import inventory as inv
from amc_joor.reporting import RunReport
from amc_joor.settings import IntegrationSettings, SettingsError
from amc_joor.state import get_engine, load_synced
from amc_joor_sandbox.connections import connection_env

NOT_ON_JOOR = 5  # the last SKUs are never pushed by the "catalog"
BULK = "POST /v2/bulk-inventory"


@pytest.fixture
def env(fresh_sandbox, tmp_path, monkeypatch):
    """AMC hook + JOOR client on the sandbox, a per-test state store, JOOR's catalog seeded."""
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.joor import JoorHook

    for name, value in connection_env(fresh_sandbox.amc_url, fresh_sandbox.joor_url).items():
        monkeypatch.setenv(name, value)
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("AMC_JOOR_STATE_URL", state_url)  # the JOOR credit budget lives there too
    engine = get_engine(state_url)
    amc = AmcHook()
    identity = inv.amc_sku_identity(amc, IntegrationSettings())
    seeded = identity.iloc[: len(identity) - NOT_ON_JOOR]
    assert seed_joor_catalog(fresh_sandbox.joor_url, seeded, engine) == len(seeded)
    fresh_sandbox.joor_admin.reset_stats()

    class Env:
        sb = fresh_sandbox
        def __init__(self):
            self.amc, self.engine, self.identity = amc, engine, identity
            self.joor = JoorHook()
            self.on_joor = list(seeded["sku_id"])
            self.off_joor = list(identity["sku_id"].iloc[len(seeded):])

        def run(self, settings=None, **kw) -> tuple[inv.InventoryPlan, RunReport]:
            settings = settings or IntegrationSettings()
            plan = inv.plan_inventory(self.amc, settings, engine=self.engine, **kw)
            report = plan.report(dry_run=False)
            for batch in inv.split_batches(plan.delta.to_send, plan.batch_size):
                report.merge(inv.push_batch(self.joor, batch, plan.joor_warehouse, engine=self.engine))
            return plan, report

        def bulk_calls(self) -> int:
            return self.sb.joor_admin.requests().get(BULK, 0)

        def joor_stock(self, warehouse="Main Warehouse") -> dict[str, int]:
            rows = self.sb.joor_admin.get("/joor/inventory")["inventory"]
            return {r["external_id"]: r["inventory"] for r in rows if r["warehouse"] == warehouse}

        def amc_stock(self, column="qty_avail_sell", warehouse_id="1") -> dict[str, int]:
            rows = self.amc.list_records("sku_warehouse", filters=[("warehouse_id", "=", warehouse_id)])
            return {r["sku_id"]: max(0, int(float(r[column]))) for r in rows}

    yield Env()


def test_first_run_makes_joor_equal_amc_for_every_synced_sku(env):
    plan, report = env.run()
    assert report.failures == []
    assert len(plan.delta.to_send) == len(env.on_joor)
    assert env.bulk_calls() == inv.batch_count(len(env.on_joor), 1000)
    amc = env.amc_stock()
    joor = env.joor_stock()
    assert {k: amc.get(k, 0) for k in env.on_joor} == {k: joor[k] for k in env.on_joor}
    assert not set(env.off_joor) & set(joor), "SKUs the catalog push never sent must not be stocked"
    assert any(v == 0 for v in joor.values())  # the data set has negative stock: clamped to 0
    acked = load_synced(inv.INVENTORY_ENTITY, env.engine)
    assert set(acked) == set(env.on_joor) and all("qty" in r["detail"] for r in acked.values())


def test_nothing_changed_means_zero_writes(env):
    env.run()
    before = env.bulk_calls()
    plan, report = env.run()
    assert plan.delta.to_send.empty and plan.delta.unchanged == len(env.on_joor)
    assert env.bulk_calls() == before
    assert report.counts["inventory"]["unchanged"] == len(env.on_joor)


def test_a_stock_change_sends_only_that_sku_and_others_never_change(env):
    env.run()
    changed, other = env.on_joor[3], env.on_joor[4]
    before = {r["external_id"]: r for r in env.sb.joor_admin.get("/joor/inventory")["inventory"]}
    env.sb.amc_admin.set_stock(changed, "1", qty_avail_sell=777)
    env.sb.amc_admin.set_stock(changed, "2", qty_avail_sell=5)  # another warehouse: not ours
    calls = env.bulk_calls()
    plan, report = env.run()
    assert plan.delta.to_send["sku_id"].tolist() == [changed]
    assert env.bulk_calls() == calls + 1
    after = {r["external_id"]: r for r in env.sb.joor_admin.get("/joor/inventory")["inventory"]}
    assert after[changed]["inventory"] == 777
    assert after[other] == before[other], "a SKU absent from the push must not change on JOOR"
    assert env.sb.joor_admin.get("/joor/inventory")["calls"][-1]["overwrite"] is False


def test_stock_field_and_warehouse_by_id(env):
    settings = IntegrationSettings(stock_field="Stock on Hand", amc_warehouse="2",
                                   joor_warehouse_name="East Coast DC")
    plan, report = env.run(settings)
    assert report.failures == [] and plan.stock_column == "qty_inventory" and plan.warehouse.name == "East Coast DC"
    amc = env.amc_stock("qty_inventory", "2")
    joor = env.joor_stock("East Coast DC")
    assert all(joor[k] == amc.get(k, 0) for k in env.on_joor)


def test_unknown_amc_warehouse_fails_before_any_joor_request(env):
    with pytest.raises(SettingsError) as err:
        env.run(IntegrationSettings(amc_warehouse="Backroom"))
    msg = str(err.value)
    assert "amc_warehouse='Backroom'" in msg and "'Main Warehouse' (id 1)" in msg and "'East Coast DC' (id 2)" in msg
    assert sum(env.sb.joor_admin.requests().values()) == 0


def test_unknown_stock_field_is_rejected_with_valid_values():
    with pytest.raises(SettingsError) as err:
        IntegrationSettings.from_mapping({"stock_field": "On Order"})
    assert "stock_field" in str(err.value) and "Available to Sell" in str(err.value)


def test_rejected_items_are_reported_and_retried_next_run(env):
    _, report = env.run(IntegrationSettings(joor_warehouse_name="Nowhere DC"))
    assert report.failed == len(env.on_joor)
    first = report.failures[0]
    assert "unknown warehouse" in first.reason and "joor_warehouse_name='Nowhere DC'" in first.reason
    assert load_synced(inv.INVENTORY_ENTITY, env.engine) == {}, "state moves only for items JOOR passed"
    plan, report = env.run()  # setting fixed: everything is retried and passes
    assert report.failures == [] and len(plan.delta.to_send) == len(env.on_joor)


def test_sku_without_upc_uses_style_color_size(env):
    env.run()
    sku = env.on_joor[0]
    env.sb.amc_admin.edit("inventory", sku, upc_display="")
    env.sb.amc_admin.set_stock(sku, "1", qty_avail_sell=42)
    plan, report = env.run()
    assert report.failures == []
    row = plan.delta.to_send.set_index("sku_id").loc[sku]
    assert row["joor_key"].startswith("ssc:")
    assert env.joor_stock()[sku] == 42


def test_style_numbers_and_full_resync(env):
    env.run()
    style = env.identity.set_index("sku_id").loc[env.on_joor[0], "style_number"]
    calls = env.bulk_calls()
    plan, _ = env.run(full_resync=True, style_numbers=[style])
    expected = set(env.identity[env.identity["style_number"] == style]["sku_id"]) & set(env.on_joor)
    assert set(plan.delta.to_send["sku_id"]) == expected
    assert env.bulk_calls() == calls + 1


def test_a_failed_batch_fails_only_its_items_and_is_retried_next_run(env):
    from amc_joor.hooks.http import RetryPolicy
    from amc_joor.hooks.joor import JoorHook

    env.joor = JoorHook(retry_policy=RetryPolicy(max_attempts=2, backoff_initial=0.05, backoff_max=0.1))
    env.sb.joor_admin.arm_fault("status", status=500, method="POST", path="/v2/bulk-inventory", count=2)
    small_batches = IntegrationSettings(joor_v2_bulk_max=100)
    plan, report = env.run(small_batches)
    assert plan.write_calls == 4
    assert report.failed == 100, "only the first batch (both attempts hit the 500) fails"
    assert "JOOR bulk-inventory call failed" in report.failures[0].reason
    assert len(load_synced(inv.INVENTORY_ENTITY, env.engine)) == len(env.on_joor) - 100
    plan, report = env.run(small_batches)
    assert report.failures == [] and len(plan.delta.to_send) == 100 and plan.write_calls == 1
    amc = env.amc_stock()
    assert all(env.joor_stock()[k] == amc.get(k, 0) for k in env.on_joor)


def test_stock_read_whole_table_or_server_filtered_gives_the_same_rows(env):
    wh = inv.Warehouse("2", "East Coast DC")
    s = IntegrationSettings()
    scanned = inv.amc_warehouse_stock(env.amc, wh, "qty_open_sales", s, server_filter=False)
    filtered = inv.amc_warehouse_stock(env.amc, wh, "qty_open_sales", s, server_filter=True)
    assert len(scanned) == len(env.identity)
    assert scanned.reset_index(drop=True).equals(filtered.reset_index(drop=True))


def test_sku_recreated_on_joor_by_the_catalog_push_is_resent(env):
    from amc_joor.state import record_synced

    env.run()
    sku = env.on_joor[7]
    old = load_synced(inv.CATALOG_SKU_ENTITY, env.engine)[sku]
    record_synced(inv.CATALOG_SKU_ENTITY, [{"key": sku, "content_hash": old["content_hash"], "joor_id": "NEW-ID"}],
                  engine=env.engine)
    plan, _ = env.run()
    assert plan.delta.to_send["sku_id"].tolist() == [sku]


def test_a_refused_joor_warehouse_stops_the_runs_later_batches(env):
    settings = IntegrationSettings(joor_warehouse_name="Nowhere DC", joor_v2_bulk_max=100)
    plan = inv.plan_inventory(env.amc, settings, engine=env.engine)
    calls = env.bulk_calls()
    report = RunReport(inv.FLOW)
    for batch in inv.split_batches(plan.delta.to_send, plan.batch_size):
        report.merge(inv.push_batch(env.joor, batch, plan.joor_warehouse, engine=env.engine, run_id="run-1"))
    assert env.bulk_calls() == calls + 1, "after JOOR refused the warehouse, the run stops sending"
    assert report.failed == len(env.on_joor)
    assert "not sent" in report.failures[-1].reason and "joor_warehouse_name" in report.failures[-1].reason
    # a new run tries again (JOOR may have been fixed meanwhile)
    batch = inv.split_batches(plan.delta.to_send, plan.batch_size)[0]
    inv.push_batch(env.joor, batch, plan.joor_warehouse, engine=env.engine, run_id="run-2")
    assert env.bulk_calls() == calls + 2
