"""The integration's state store on SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

import subprocess
import sys

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


WRITER = """
import sys
from amc_joor import state
engine = state.get_engine(sys.argv[1])
for i in range(20):
    state.record_synced("sku", [{"key": f"{sys.argv[2]}-{i}", "content_hash": "h"}], engine)
"""


def test_concurrent_processes_share_the_store(store_url):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, store_url, str(w)]) for w in range(2)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    assert len(state.load_synced("sku", state.get_engine(store_url))) == 40
