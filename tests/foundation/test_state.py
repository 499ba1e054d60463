"""The integration's state store on SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from amc_joor import state


def _stores(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("postgres_state_url")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    return _stores(request, tmp_path)


def test_synced_records_upsert_and_reload(store_url):
    engine = state.get_engine(store_url)
    state.record_synced("sku", [{"key": "1", "content_hash": "a"}, {"key": "2", "content_hash": "b"}], engine)
    state.record_synced("sku", [{"key": "1", "content_hash": "c", "joor_id": "J1", "detail": {"rate": "0.92"}}], engine)
    loaded = state.load_synced("sku", engine)
    assert loaded["1"] == {"content_hash": "c", "joor_id": "J1", "detail": {"rate": "0.92"}}
    assert loaded["2"]["content_hash"] == "b"
    assert state.load_synced("product", engine) == {}


def test_watermark_moves(store_url):
    engine = state.get_engine(store_url)
    assert state.get_watermark("customers", engine) is None
    state.set_watermark("customers", "2026-11-01T00:00:00Z", engine)
    state.set_watermark("customers", "2026-11-02T00:00:00Z", engine)
    assert state.get_watermark("customers", engine) == "2026-11-02T00:00:00Z"


def _writer(url: str, worker: int) -> None:
    engine = state.get_engine(url)
    for i in range(20):
        state.record_synced("sku", [{"key": f"{worker}-{i}", "content_hash": "h"}], engine)


def test_concurrent_processes_share_the_store(store_url):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(store_url, w)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert len(state.load_synced("sku", state.get_engine(store_url))) == 40
