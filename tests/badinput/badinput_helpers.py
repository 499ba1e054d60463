"""Helpers of the bad-input tests: raw AMC reads, body-rewrite faults, report assertions.

Why raw reads: a rewrite fault needs the exact bytes the sandbox sends (compact JSON,
``"key":"value"``), and expectations are computed from what AMC/JOOR really hold, never from
the integration's own code.
"""

from __future__ import annotations

import json
from typing import Any

import httpx


def amc_rows(sb: Any, resource: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of an AMC resource as the sandbox serves it (one big page, real HTTP)."""
    query = {**sb.amc_auth(), "pagination[page_size]": "1000", **params}
    with httpx.Client(timeout=30) as client:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = client.get(f"{sb.amc_url}/api/json/{resource}",
                              params={**query, "pagination[page_number]": str(page)}).json()
            batch = body["response"]
            rows.extend(batch)
            meta = body["meta"]["pagination"]
            if not batch or page >= int(meta.get("total_pages") or 1):
                return rows
            page += 1


def wire(key: str, value: Any) -> str:
    """How a ``"key": value`` pair looks in the sandboxes' compact JSON bodies."""
    return json.dumps({key: value}, separators=(",", ":"), ensure_ascii=False)[1:-1]


def rewrite(admin: Any, path: str, key: str, old: Any, new: Any, *, count: int = 50, method: str = "GET") -> None:
    """Arm a ``rewrite`` fault: in ``path``'s responses, ``"key":old`` reads ``"key":new``."""
    admin.arm_fault("rewrite", method=method, path=path, count=count, find=wire(key, old), replace=wire(key, new))


def failures(report: dict | None) -> list[dict[str, str]]:
    assert report is not None, "the run staged no report"
    return list(report.get("failures") or [])


def failure_for(report: dict | None, key: str) -> dict[str, str]:
    """The one failure whose key is ``key`` (exactly), with a readable assertion otherwise."""
    found = [f for f in failures(report) if f["key"] == key]
    assert found, f"no failure for {key!r}; failures: {json.dumps(failures(report), indent=1)[:3000]}"
    return found[0]


def assert_reason(report: dict | None, key: str, *words: str) -> str:
    """The failure of ``key`` exists and its reason names every one of ``words`` (case-insensitive)."""
    reason = failure_for(report, key)["reason"]
    missing = [w for w in words if w.lower() not in reason.lower()]
    assert not missing, f"reason for {key!r} lacks {missing}: {reason!r}"
    return reason
