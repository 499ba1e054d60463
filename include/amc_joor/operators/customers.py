"""JoorBulkConnectionOperator: submit one staged batch of customers, await the JOOR job deferred.

Why deferrable: a JOOR bulk-connection job can run for minutes to hours; the wait is spent in
the triggerer (:class:`amc_joor.triggers.JoorBulkConnectionJobTrigger`), not in a worker slot.
The task runs twice: ``execute`` submits (or finds the job a previous try already started) and
defers; ``execute_complete`` reads the job's per-record results and moves state only for the
records JOOR passed. Under ``dag.test()`` the trigger runs inline, so the same code path is
exercised end to end in tests.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import BaseOperator


class JoorBulkConnectionOperator(BaseOperator):
    """One batch manifest ``{name, path, method, count, label}`` → one JOOR v2 bulk-connection job.

    Returns the staged URL of the batch's run report (counts + per-record failures).
    """

    template_fields = ("batch",)
    ui_color = "#e8f1fb"

    def __init__(self, *, batch: dict[str, Any], staging_dag_id: str, joor_conn_id: str = "joor_default",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch = batch
        self.staging_dag_id = staging_dag_id
        self.joor_conn_id = joor_conn_id

    def _label(self, context: Any) -> None:
        context["batch_label"] = str(self.batch.get("label") or self.batch.get("name"))

    def execute(self, context: Any) -> Any:
        from amc_joor import staging
        from amc_joor.flows import customers
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.settings import load_settings
        from amc_joor.state import get_engine
        from amc_joor.triggers import JoorBulkConnectionJobTrigger

        self._label(context)
        settings = load_settings()
        records = staging.read_json(self.batch["path"])
        key = customers.batch_key(context["run_id"], self.batch["name"])
        started = customers.submit_batch(
            JoorHook(joor_conn_id=self.joor_conn_id), get_engine(), key, self.batch["method"], records
        )
        if started["job_id"] is None:  # an earlier, ambiguous submit had created all of them
            return self._finish(context, None)
        self.log.info(
            "%s JOOR bulk-connection job %s for %d customer(s) (%s); waiting in the triggerer",
            "resuming" if started["resumed"] else "started", started["job_id"],
            len(records) - len(started["landed"]), started["method"],
        )
        # Everything execute_complete needs is in the state store (customer_jobs) or the event:
        # dag.test() replaces defer(kwargs=...) with the event when it resumes a task.
        self.defer(
            trigger=JoorBulkConnectionJobTrigger(
                job_id=started["job_id"],
                joor_conn_id=self.joor_conn_id,
                poll_interval=settings.customer_job_poll_seconds,
                deadline=time.time() + settings.customer_job_timeout_minutes * 60,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        from airflow.sdk.exceptions import AirflowException

        from amc_joor.flows import customers
        from amc_joor.hooks.joor import JoorHook
        from amc_joor.state import get_engine

        self._label(context)
        event = event or {}
        engine = get_engine()
        key = customers.batch_key(context["run_id"], self.batch["name"])
        job_row = customers.existing_job(engine, key)
        if job_row is None or not job_row["job_id"]:
            raise AirflowException(f"batch {self.batch['name']}: no JOOR job recorded for it; it will be submitted again")
        job_id = str(job_row["job_id"])
        if event.get("status") != "finished":
            # Retry: the next try finds this batch's job in customer_jobs and waits for it again.
            raise AirflowException(
                f"JOOR bulk-connection job {job_id} did not finish ({event.get('status')}: "
                f"{event.get('message', '')}); the batch's customers are not acknowledged yet"
            )
        return self._finish(context, customers.joor_job(JoorHook(joor_conn_id=self.joor_conn_id), job_id))

    def _finish(self, context: Any, job: dict[str, Any] | None) -> str:
        """Record the job's per-record results (and any customers an earlier lost reply created)."""
        from amc_joor import staging
        from amc_joor.flows import customers
        from amc_joor.reporting import RunReport
        from amc_joor.state import get_engine

        engine = get_engine()
        key = customers.batch_key(context["run_id"], self.batch["name"])
        job_row = customers.existing_job(engine, key) or {}
        landed = set(job_row.get("landed") or [])
        records = staging.read_json(self.batch["path"])
        report = RunReport(customers.FLOW)
        if landed:
            report.count(customers.ENTITY, "created", len(landed))
            report.note(f"batch {self.batch['name']} created by an earlier lost reply", sorted(landed))
        if job is not None:
            report.merge(customers.record_results(
                engine, [r for r in records if r["key"] not in landed], job, method=str(job_row["method"]),
                job_id=str(job_row["job_id"]), submitted_at=customers.aware(job_row["submitted_at"]),
            ))
            report.note(f"job {self.batch['name']}", job_row["job_id"])
        customers.mark_recorded(engine, key)
        report.log_summary()
        return staging.write_json(self.batch["report"], report.to_dict())
