"""The bulk-connection job trigger on its own: serialisation and its events against the sandbox.

The trigger runs here under plain ``asyncio.run`` (as the triggerer's event loop would), its
sync hook call in a worker thread, over real HTTP to the JOOR sandbox.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from amc_joor.hooks.joor import JoorHook
from amc_joor.triggers import JoorBulkConnectionJobTrigger
from amc_joor_sandbox.connections import connection_env


def first_event(trigger: JoorBulkConnectionJobTrigger) -> dict:
    async def run() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("trigger ended without an event")

    return asyncio.run(asyncio.wait_for(run(), timeout=60))


@pytest.fixture
def joor(fresh_sandbox, monkeypatch, tmp_path):
    for name, value in connection_env(fresh_sandbox.amc_url, fresh_sandbox.joor_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AMC_JOOR_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    return JoorHook()


def test_serialize_round_trip():
    trig = JoorBulkConnectionJobTrigger("job-1", poll_interval=2, deadline=123.0)
    path, kwargs = trig.serialize()
    assert path == "amc_joor.triggers.JoorBulkConnectionJobTrigger"
    again = JoorBulkConnectionJobTrigger(**kwargs)
    assert again.serialize() == (path, kwargs)


def test_fires_finished_after_polling(joor, fresh_sandbox):
    job_id = joor.submit_bulk_connection([{"customer_code": "T-1", "customer_name": "Trigger Test"}])
    event = first_event(JoorBulkConnectionJobTrigger(job_id, poll_interval=0.1, deadline=time.time() + 30))
    assert event["status"] == "finished" and event["job_id"] == job_id and event["polls"] >= 2


def test_fires_timeout_at_its_deadline(joor, fresh_sandbox):
    fresh_sandbox.joor_admin.config(job_step_seconds=3600)
    job_id = joor.submit_bulk_connection([{"customer_code": "T-2", "customer_name": "Trigger Test"}])
    event = first_event(JoorBulkConnectionJobTrigger(job_id, poll_interval=0.1, deadline=time.time()))
    assert event["status"] == "timeout" and "still 'started'" in event["message"]


def test_fires_error_for_an_unknown_job(joor):
    event = first_event(JoorBulkConnectionJobTrigger("job-999999", poll_interval=0.1, deadline=time.time() + 5))
    assert event["status"] == "error" and "job-999999" in event["message"]
