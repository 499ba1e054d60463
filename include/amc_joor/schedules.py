"""DAG schedules, read at parse time from environment variables (cheap, no DB).

Override per deployment, e.g. ``AMC_JOOR_ORDER_PULL_CRON="*/5 * * * *"``.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "ORDER_PULL": "*/15 * * * *",
    "CATALOG_PUSH": "0 * * * *",
    "INVENTORY_PUSH": "*/5 * * * *",
    "CUSTOMER_SYNC": "30 * * * *",
}


def cron(flow: str) -> str:
    """The cron expression for a flow (``ORDER_PULL`` ...), from ``AMC_JOOR_<FLOW>_CRON`` or the default."""
    return os.environ.get(f"AMC_JOOR_{flow}_CRON", DEFAULTS[flow]).strip()


def default_args(**overrides) -> dict:
    """Shared task defaults: retries with exponential backoff.

    ``AMC_JOOR_RETRIES`` / ``AMC_JOOR_RETRY_DELAY_SECONDS`` tune them per deployment (tests use a
    short delay so a retried task does not wait minutes).
    """
    from datetime import timedelta

    args = {
        "owner": "amc-joor",
        "retries": int(os.environ.get("AMC_JOOR_RETRIES", "2")),
        "retry_delay": timedelta(seconds=float(os.environ.get("AMC_JOOR_RETRY_DELAY_SECONDS", "30"))),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
    }
    args.update(overrides)
    return args
