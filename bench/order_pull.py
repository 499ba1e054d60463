"""Benchmark: the order pull on the ``large`` data set, 1,000 approved orders in one run.

Setup (not measured): start the ``large`` sandbox, place 1,000 orders through the JOOR
sandbox's admin API (a buyer placing and the brand approving them), with the Start Date setting
at today so only these orders are candidates. Measured: one whole pull — fetch (JOOR), plan (AMC
customers/SKUs read once in bulk), import (ledger + lookup + create per order), write-back
(bulk Export Status), report — called through the flow's step functions, in this process.

Two passes on fresh data: rate limiting **off** (speed), then **on** (JOOR credits).

Prints one JSON line:
``{"bench": "order_pull", "orders", "seconds", "orders_per_s", "amc_calls_per_order", "joor_credits", ...}``.
Goals: 1,000 orders in < 120 s with rate limiting off; with it on, JOOR credits <= 1 per page
read + 5 per 500 write-backs (``credits_goal``).
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections import Counter

ORDERS = int(os.environ.get("BENCH_ORDER_PULL_ORDERS", "1000"))
LINES = int(os.environ.get("BENCH_ORDER_PULL_LINES", "6"))


def _stats_total(stats: dict, prefix: str = "") -> int:
    return sum(n for k, n in (stats.get("requests") or {}).items() if k.startswith(prefix))


def one_pass(sb, tmp: str, name: str, rate_limited: bool) -> dict:
    from amc_joor.flows import orders
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.settings import IntegrationSettings
    from amc_joor.state import get_engine

    sb.reset()
    sb.joor_admin.config(rate_limit_enabled=rate_limited)
    today = sb.joor_admin.clock()["now"][:10]
    t0 = time.perf_counter()
    made = sb.joor_admin.post("/joor/orders", {"count": ORDERS, "status": "APPROVED", "lines": LINES, "seed": 7})
    setup_s = time.perf_counter() - t0
    assert len(made["orders"]) == ORDERS

    state_url = f"sqlite:///{tmp}/{name}.db"
    os.environ["AMC_JOOR_STATE_URL"] = state_url
    os.environ["AMC_JOOR_STAGING_ROOT"] = f"file://{tmp}/staging-{name}"
    engine = get_engine(state_url)
    settings = IntegrationSettings(order_type="Approved", order_start_date=today, amc_page_size=1000)
    sb.amc_admin.reset_stats()
    sb.joor_admin.reset_stats()

    t0 = time.perf_counter()
    report = orders.run_order_pull(AmcHook(), JoorHook(priority=True), settings, orders.RunScope("pending"),
                                   engine, run_id=f"bench-{name}")
    seconds = time.perf_counter() - t0

    amc_stats, joor_stats = sb.amc_admin.stats(), sb.joor_admin.stats()
    joor_req = joor_stats.get("requests") or {}
    gets = sum(n for k, n in joor_req.items() if k.startswith("GET /v"))
    writes = sum(n for k, n in joor_req.items() if k.startswith(("POST /v", "PUT /v")))
    counts = report.to_dict()["counts"].get("order", {})
    written = counts.get("export_success_written", 0) + counts.get("export_failed_written", 0)
    amc_orders = Counter(o.get("customer_po") for o in sb.amc_admin.orders())
    return {
        "seconds": round(seconds, 2),
        "setup_seconds": round(setup_s, 2),
        "counts": counts, "steps": report.notes.get("step_seconds"),
        "failures": Counter(f.reason.split(" (")[0].split(";")[0][:60] for f in report.failures).most_common(5),
        "amc_calls": _stats_total(amc_stats),
        "amc_requests": {k: v for k, v in sorted((amc_stats.get("requests") or {}).items())},
        "joor_credits": joor_stats.get("credits_spent"),
        "joor_gets": gets,
        "joor_writes": writes,
        "joor_write_backs": written,
        "joor_429": joor_stats.get("responses_429"),
        "credits_goal": gets + 5 * math.ceil(written / 500),
        "duplicates_in_amc": sum(1 for n in amc_orders.values() if n > 1),
    }


def main() -> None:
    from amc_joor_sandbox.connections import connection_env
    from amc_joor_sandbox.testing import start_sandbox

    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp, start_sandbox("large", seed=1) as sb:
        os.environ.update(connection_env(sb.amc_url, sb.joor_url))
        os.environ.setdefault("AIRFLOW_VAR_AMC_JOOR_SETTINGS", "{}")
        fast = one_pass(sb, tmp, "ratelimit-off", rate_limited=False)
        print(json.dumps({"pass": "rate limiting off", **fast}), file=sys.stderr)
        budget = one_pass(sb, tmp, "ratelimit-on", rate_limited=True)
        print(json.dumps({"pass": "rate limiting on", **budget}), file=sys.stderr)
        created = fast["counts"].get("created", 0)
        out = {
            "bench": "order_pull",
            "orders": ORDERS,
            "seconds": fast["seconds"],
            "orders_per_s": round(ORDERS / fast["seconds"], 1),
            "amc_calls_per_order": round(fast["amc_calls"] / ORDERS, 2),
            "joor_credits": budget["joor_credits"],
            "credits_goal": budget["credits_goal"],
            "joor_gets": budget["joor_gets"],
            "joor_writes": budget["joor_writes"],
            "seconds_rate_limited": budget["seconds"],
            "created": created,
            "failed": fast["counts"].get("failed", 0),
            "duplicates_in_amc": fast["duplicates_in_amc"] + budget["duplicates_in_amc"],
            "lines_per_order": LINES,
        }
        print(json.dumps(out))


if __name__ == "__main__":
    main()
