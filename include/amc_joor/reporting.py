"""One run report per DAG run: counts per entity and outcome, failures with their reasons.

Why one shape for all flows: users read the same summary in every DAG's last task log, in the
staged ``report.json`` / ``failures.csv``, and in ``make demo``. Record-level failures never
stop the other records; :func:`finalize_report` raises only at the very end, after every good
record was done, so the run ends visibly failed and Airflow alerting fires.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

#: Failures kept inline in the report/XCom; the staged failures.csv keeps all of them.
INLINE_FAILURES = 50


@dataclass(frozen=True)
class Failure:
    entity: str
    key: str
    reason: str

    def line(self) -> str:
        return f"{self.entity} {self.key}: {self.reason}"


@dataclass
class RunReport:
    """Counts and failures of one flow run (plain data: serialisable to XCom / JSON)."""

    flow: str
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    failures: list[Failure] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def count(self, entity: str, outcome: str, n: int = 1) -> None:
        if n:
            self.counts[entity][outcome] += n

    def fail(self, entity: str, key: str, reason: str) -> None:
        """Record one failed record; also counts it as ``failed``."""
        self.failures.append(Failure(entity, str(key), reason))
        self.count(entity, "failed")

    def note(self, key: str, value: Any) -> None:
        self.notes[key] = value

    def merge(self, other: RunReport | dict) -> RunReport:
        other = RunReport.from_dict(other) if isinstance(other, dict) else other
        for entity, outcomes in other.counts.items():
            for outcome, n in outcomes.items():
                self.count(entity, outcome, n)
        self.failures.extend(other.failures)
        self.notes.update(other.notes)
        return self

    @property
    def failed(self) -> int:
        return len(self.failures)

    def to_dict(self, inline_failures: int | None = None) -> dict[str, Any]:
        failures = self.failures if inline_failures is None else self.failures[:inline_failures]
        return {
            "flow": self.flow,
            "counts": {e: dict(sorted(o.items())) for e, o in sorted(self.counts.items())},
            "failures": [{"entity": f.entity, "key": f.key, "reason": f.reason} for f in failures],
            "failed_total": len(self.failures),
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        report = cls(flow=data.get("flow", "?"))
        for entity, outcomes in (data.get("counts") or {}).items():
            for outcome, n in outcomes.items():
                report.counts[entity][outcome] += int(n)
        report.failures = [Failure(f["entity"], f["key"], f["reason"]) for f in data.get("failures") or []]
        report.notes = dict(data.get("notes") or {})
        return report

    def summary_lines(self) -> list[str]:
        lines = [f"{self.flow}: " + ("OK" if not self.failures else f"{len(self.failures)} record(s) failed")]
        for entity, outcomes in sorted(self.counts.items()):
            parts = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
            lines.append(f"  {entity}: {parts}")
        for key, value in sorted(self.notes.items()):
            lines.append(f"  {key}: {value}")
        for failure in self.failures[:INLINE_FAILURES]:
            lines.append(f"  FAILED {failure.line()}")
        if len(self.failures) > INLINE_FAILURES:
            lines.append(f"  … and {len(self.failures) - INLINE_FAILURES} more in failures.csv")
        return lines

    def log_summary(self, logger: logging.Logger | None = None) -> None:
        logger = logger or logging.getLogger(__name__)
        for line in self.summary_lines():
            logger.info("%s", line)

    def failures_csv(self) -> bytes:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["entity", "key", "reason"])
        for f in self.failures:
            writer.writerow([f.entity, f.key, f.reason])
        return buf.getvalue().encode()


class RecordFailuresError(Exception):
    """Raised by the last task when records failed (after every good record was done)."""


def finalize_report(report: RunReport, dag_id: str, run_id: str, *, raise_on_failures: bool = True) -> dict:
    """Stage report.json + failures.csv, log the summary, and fail the run if any record failed.

    Raises Airflow's ``AirflowFailException`` (no task retry: retrying the report redoes nothing;
    the failed records are retried by the next run or a *Clear* of the work tasks).
    """
    from amc_joor import staging

    report_url = staging.stage_path(dag_id, run_id, "report", "report.json")
    failures_url = staging.stage_path(dag_id, run_id, "report", "failures.csv")
    if report.failures:
        report.note("failures_file", staging.local_path(failures_url) or failures_url)
    staging.write_json(report_url, report.to_dict())
    if report.failures:
        staging.write_bytes(failures_url, report.failures_csv())
    report.log_summary(logging.getLogger(f"amc_joor.{report.flow}"))
    summary = report.to_dict(inline_failures=INLINE_FAILURES)
    summary["report_file"] = staging.local_path(report_url) or report_url
    if report.failures and raise_on_failures:
        from airflow.sdk.exceptions import AirflowFailException

        first = "; ".join(f.line() for f in report.failures[:3])
        raise AirflowFailException(
            f"{len(report.failures)} record(s) failed in {report.flow} (first: {first}). "
            f"Everything else was done; full list: {summary.get('notes', {}).get('failures_file')}"
        )
    return summary
