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
