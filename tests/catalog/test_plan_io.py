"""Plan staging and state frames against a real SQLite state store and file staging (no APIs)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from amc_joor import staging
from amc_joor.flows import catalog
from amc_joor.flows import catalog_mapping as cm
from amc_joor.state import get_engine, record_synced
from amc_joor_sandbox.datasets import build_world


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("AMC_JOOR_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("AMC_JOOR_STAGING_ROOT", f"file://{tmp_path / 'staging'}")
    return get_engine()


def frames():
    amc = build_world("small", 1).amc

    def df(rows, nested=()):
        out = pd.DataFrame(rows)
        for col in nested:
            out[col] = [json.dumps(v) for v in out[col]]
        return out

    return (df(amc.products, ("images", "price_groups")), df(amc.product_attributes, ("images",)),
            df(amc.inventory), amc.currencies)


TYPES = [{"id": f"pt-{c}", "name": f"{c}-1", "currency_code": c} for c in ("USD", "EUR", "GBP", "CAD")]


def test_state_frame_roundtrip_keeps_detail_json(store):
    record_synced("product", [{"key": "TP1", "content_hash": "h1", "joor_id": "j1", "detail": {"season": "S 26"}}], store)
    frame = catalog.load_state_frame("product", store, with_detail=True)
    assert frame.to_dict("records") == [{"key": "TP1", "content_hash": "h1", "joor_id": "j1",
                                         "detail": {"season": "S 26"}}]
    assert catalog.load_state_frame("sku", store).empty


def test_stage_plan_groups_batches_into_bounded_units(store):
    calls = []

    def price_types():
        calls.append(1)
        return TYPES

    plan = catalog.make_plan(frames(), cm.PlanOptions(), store, price_types=price_types)
    assert calls == [1]  # fetched once because prices must be sent
    manifest = catalog.stage_plan(plan, "dag", "run", 100, max_units=3)
    prices = manifest["units"]["prices"]
    assert len(prices) == 3
    batches = [b for u in prices for b in u["batches"]]
    assert sum(b["count"] for b in batches) == len(plan.items[cm.PRICE])
    assert all(b["count"] <= 100 for b in batches)
    staged = staging.read_parquet(batches[0]["path"])
    assert {"key", "hash", "action", "parent", "body", "price_type_id"} <= set(staged.columns)
    json.dumps(manifest)  # XCom-safe: paths and counts only


def test_noop_plan_reads_no_price_types(store):
    plan = catalog.make_plan(frames(), cm.PlanOptions(), store, price_types=lambda: TYPES)
    for entity, frame in plan.items.items():
        record_synced(entity, [{"key": k, "content_hash": h, "joor_id": "j" + k}
                               for k, h in zip(frame["key"], frame["hash"], strict=True)], store)

    def boom():
        raise AssertionError("price types read on a no-op run")

    again = catalog.make_plan(frames(), cm.PlanOptions(), store, price_types=boom)
    assert all(len(f) == 0 for f in again.items.values())
    manifest = catalog.stage_plan(again, "dag", "run2", 500)
    assert manifest["batches"] == 0
