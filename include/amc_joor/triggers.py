"""Deferrable triggers of the integration (they must live in this installed package).

Why a trigger: a JOOR v2 bulk-connection job runs in the background for seconds to hours.
Polling it from a task would hold a worker slot the whole time; a deferred task holds none —
the triggerer polls, and the task resumes only to record the job's per-record results.

Under ``dag.test()`` (Airflow 3.3) a deferral is run *inline*: the task's ``TaskDeferred`` is
caught, the trigger is rebuilt from :meth:`serialize` and its first event awaited with
``asyncio.run``, then the task resumes at ``method_name`` with ``event=<payload>`` **only** —
dag.test replaces ``defer(kwargs=...)`` with the event (measured: the kwargs arrive as None),
so the event and the state store carry what the resumed task needs, never defer kwargs.
Airflow's trigger ``timeout`` is not enforced there either, so the trigger carries its own
deadline and always ends with an event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

FINISHED = "finished"


class JoorBulkConnectionJobTrigger(BaseTrigger):
    """Poll ``GET /v2/bulk-connection/{job_id}`` until the job is finished, failed, or the deadline passes.

    Fires exactly one event: ``{"status": "finished"|"timeout"|"error", "job_id", "message"?}``.
    The per-record results are not carried in the event (they can be 1,000 records); the task
    reads them again when it resumes.
    """

    def __init__(
        self,
        job_id: str,
        joor_conn_id: str = "joor_default",
        poll_interval: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.job_id = str(job_id)
        self.joor_conn_id = joor_conn_id
        self.poll_interval = max(0.05, float(poll_interval))
        self.deadline = float(deadline) if deadline is not None else time.time() + 6 * 3600

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_id": self.job_id,
                "joor_conn_id": self.joor_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
            },
        )

    def _job_status(self) -> str:
        """One status read, synchronous (runs in a worker thread: the hook retries and budgets)."""
        from amc_joor.flows.customers import job_status
        from amc_joor.hooks.joor import JoorHook

        return job_status(JoorHook(joor_conn_id=self.joor_conn_id), self.job_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        polls = 0
        while True:
            polls += 1
            try:
                status = await asyncio.to_thread(self._job_status)
            except Exception as exc:  # the hook already retried transient failures
                yield TriggerEvent({"status": "error", "job_id": self.job_id, "polls": polls,
                                    "message": f"{type(exc).__name__}: {exc}"})
                return
            if status == FINISHED:
                yield TriggerEvent({"status": FINISHED, "job_id": self.job_id, "polls": polls})
                return
            if time.time() >= self.deadline:
                yield TriggerEvent({"status": "timeout", "job_id": self.job_id, "polls": polls,
                                    "message": f"JOOR job {self.job_id} still {status!r} at the deadline"})
                return
            # Small jobs finish in seconds: start checking soon, then back off to the poll interval
            # (each check costs a JOOR credit, so a long Data Services job is not polled hard).
            wait = min(self.poll_interval, 2.0 ** (polls - 1))
            self.log.info("JOOR bulk-connection job %s is %s; next check in %.1fs", self.job_id, status, wait)
            await asyncio.sleep(min(wait, max(0.0, self.deadline - time.time()) + 0.01))
