"""Benchmark: the inventory delta push on the ``large`` data set (~150k SKUs), 1% changed.

Setup (not measured): start the ``large`` sandbox with JOOR's rate limit off, put every AMC SKU
on JOOR the way the catalog push would (v4 products + SKUs, catalog state ``sku``), run one full
inventory push, then change the Available-to-Sell stock of 1% of the SKUs through the AMC
sandbox's mutation API. Measured, in a fresh process so its peak RSS is the push's own: the
delta push (plan: AMC reads + state + pandas delta; push: bulk-inventory calls + state).

Prints one JSON line:
``{"bench": "inventory_push", "skus", "changed", "write_calls", "seconds", "peak_rss_mb", ...}``.
Goals: write_calls = ceil(changed / 1000), seconds < 60, peak_rss_mb < 1024.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "inventory"))  # the seeding helper shared with the tests

BULK = "POST /v2/bulk-inventory"


def _settings():
    from amc_joor.settings import IntegrationSettings

    return IntegrationSettings(amc_page_size=1000)


def _joor_client():
    """The JoorHook without the client-side credit budget (the sandbox's rate limit is off too)."""
    from amc_joor.hooks.joor import JoorHook

    return JoorHook(budget=None)


def _push(engine, joor_url: str) -> dict:
    """One inventory push (plan + all batches), as the DAG runs it, in this process."""
    from amc_joor.flows import inventory as inv
    from amc_joor.hooks.amc import AmcHook

    t0 = time.perf_counter()
    plan = inv.plan_inventory(AmcHook(), _settings(), engine=engine)
    t_plan = time.perf_counter() - t0
    joor = _joor_client()
    report = plan.report(dry_run=False)
    for batch in inv.split_batches(plan.delta.to_send, plan.batch_size):
        report.merge(inv.push_batch(joor, batch, plan.joor_warehouse, engine=engine))
    return {
        "skus": plan.synced_skus,
        "changed": len(plan.delta.to_send),
        "failed": report.failed,
        "seconds": round(time.perf_counter() - t0, 2),
        "plan_seconds": round(t_plan, 2),
    }


def _emit(obj: dict, fd: int) -> None:
    """Write the one JSON line to the real stdout (``fd``), whatever libraries printed meanwhile."""
    os.write(fd, (json.dumps(obj) + "\n").encode())


def _stdout_to_stderr() -> int:
    """Send fd 1 to stderr (Airflow's masker/log lines), keep a dup of the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    return saved


def measure(args: argparse.Namespace) -> None:
    """Child process: the measured delta push."""
    from amc_joor.state import get_engine

    out = _stdout_to_stderr()
    result = _push(get_engine(args.state_url), args.joor_url)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    _emit(result, out)


def main() -> None:
    from inventory_seed import seed_joor_catalog

    from amc_joor.flows import inventory as inv
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.state import get_engine
    from amc_joor_sandbox.connections import connection_env
    from amc_joor_sandbox.testing import start_sandbox

    out = _stdout_to_stderr()
    with tempfile.TemporaryDirectory(prefix="bench-inventory-") as tmp, start_sandbox("large", seed=1) as sb:
        os.environ.update(connection_env(sb.amc_url, sb.joor_url))
        state_url = f"sqlite:///{tmp}/state.db"
        os.environ["AMC_JOOR_STATE_URL"] = state_url
        engine = get_engine(state_url)
        sb.joor_admin.config(rate_limit_enabled=False)

        t0 = time.perf_counter()
        identity = inv.amc_sku_identity(AmcHook(), _settings())
        seeded = seed_joor_catalog(sb.joor_url, identity, engine)
        t_seed = time.perf_counter() - t0
        full = _push(engine, sb.joor_url)  # the "already pushed" state for every SKU

        rng = random.Random(1)
        n_change = math.ceil(len(identity) * 0.01)
        for sku_id in rng.sample(list(identity["sku_id"]), n_change):
            sb.amc_admin.set_stock(sku_id, "1", qty_avail_sell=rng.randrange(1000, 2000))

        calls_before = sb.joor_admin.requests().get(BULK, 0)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", "--state-url", state_url, "--joor-url", sb.joor_url],
            capture_output=True, text=True, env=os.environ.copy(), timeout=600,
        )
        if child.returncode:
            sys.stderr.write(child.stderr[-4000:])
            raise SystemExit(child.returncode)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        write_calls = sb.joor_admin.requests().get(BULK, 0) - calls_before
        summary = {
            "bench": "inventory_push",
            "skus": result["skus"],
            "changed": result["changed"],
            "write_calls": write_calls,
            "seconds": result["seconds"],
            "peak_rss_mb": result["peak_rss_mb"],
            "expected_write_calls": math.ceil(result["changed"] / 1000),
            "changed_in_amc": n_change,
            "failed": result["failed"],
            "plan_seconds": result["plan_seconds"],
            "full_push_seconds": full["seconds"],
            "full_push_skus": full["changed"],
            "seed_seconds": round(t_seed, 1),
            "seeded_skus": seeded,
        }
        _emit(summary, out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--state-url", help=argparse.SUPPRESS)
    parser.add_argument("--joor-url", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    measure(ns) if ns.measure else main()
