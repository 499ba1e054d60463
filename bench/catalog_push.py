"""Benchmark: the catalog push on the ``large`` data set (~150k SKUs), full, 1%-changed, and no-op.

Runs exactly the flow functions the DAG's tasks run (extract -> plan -> staged batches -> push
units in stage order -> linesheets), without the Airflow scheduler around them, against a
sandbox started here with its JOOR rate limit OFF (a full push needs ~7,500 credits: 2 hours at
JOOR's real 300 credits / 300 s). Credits are counted by the sandbox (``/_sandbox/stats``), not
by the client. Prints one JSON line::

    {"bench": "catalog_push", "skus": ..., "full_credits": ..., "full_min_credits": ...,
     "delta_credits": ..., "delta_min_credits": ..., "noop_write_credits": ...,
     "plan_seconds": ..., "peak_rss_mb": ...}

``*_min_credits`` = sum over entity of ceil(n / 500) x 5 for the n bulk items that had to be
sent (a record is one item, except an image set: one item per image/swatch), + the GETs that
are necessary (JOOR's price types, once, when prices are sent).
``plan_seconds`` = the slowest plan of the three runs (read staged AMC rows + state, map, hash,
diff, write batch files). ``peak_rss_mb`` = this process's peak RSS (the sandbox is a separate
process).

    .venv/bin/python bench/catalog_push.py [--dataset large] [--changed 0.01]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="large")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--changed", type=float, default=0.01, help="share of synced styles edited for the delta run")
    ap.add_argument("--keep", action="store_true", help="keep the temp state/staging directory")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="amc_joor_bench_catalog_")
    os.environ["AMC_JOOR_STATE_URL"] = f"sqlite:///{workdir}/state.db"
    os.environ["AMC_JOOR_STAGING_ROOT"] = f"file://{workdir}/staging"
    os.environ.setdefault("PYTHONWARNINGS", "ignore")

    from amc_joor_sandbox.connections import connection_env
    from amc_joor_sandbox.testing import start_sandbox

    try:
        with start_sandbox(args.dataset, seed=args.seed, timeout=300) as sb:
            os.environ.update(connection_env(sb.amc_url, sb.joor_url))
            sb.joor_admin.config(rate_limit_enabled=False)
            result = run(sb, args)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
    return 0


def push_once(run_id: str) -> dict:
    """One full catalog push as the DAG does it; returns plan time and what was planned."""
    from amc_joor.flows import catalog
    from amc_joor.flows import catalog_mapping as cm
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.settings import IntegrationSettings
    from amc_joor.state import get_engine

    settings = IntegrationSettings()
    engine = get_engine()
    extracted = catalog.extract(AmcHook(), "bench_catalog", run_id)
    # the sandbox's rate limit is off here (the bench measures credits, not JOOR's 5-minute
    # windows), so the client-side budget is off too; credits are counted server-side
    joor = JoorHook(budget=None)
    t0 = time.perf_counter()
    plan = catalog.make_plan(catalog.read_extract(extracted), cm.PlanOptions(
        default_currency_name=settings.default_currency_name, bulk_max=settings.joor_v4_bulk_max),
        engine, price_types=catalog.CatalogApi(joor).price_types)
    manifest = catalog.stage_plan(plan, "bench_catalog", run_id, settings.joor_v4_bulk_max)
    plan_seconds = time.perf_counter() - t0
    sent = {e: c["create"] + c["update"] for e, c in manifest["counts"].items()}
    # the floor counts request items: an asset record carries 1-n images, each one item
    items = {e: cm.bulk_item_count(e, plan.items.get(e)) for e in sent}
    failures = list(plan.failures)
    for stage in catalog.STAGES:
        for unit in manifest["units"][stage]:
            rep = catalog.push_unit(joor, unit, engine)
            failures.extend(rep.failures)
    rep = catalog.sync_linesheets(joor, plan.collections, engine, settings.joor_v4_bulk_max)
    failures.extend(rep.failures)
    sent[cm.COLLECTION] = items[cm.COLLECTION] = sum(1 for c in plan.collections if c["action"] != "unchanged")
    price_gets = 1 if sent.get(cm.PRICE) else 0
    return {"plan_seconds": plan_seconds, "sent": sent, "min": cm.minimum_credits(items, settings.joor_v4_bulk_max,
                                                                                    gets=price_gets),
            "failures": len(failures), "selected_skus": plan.selected.get(cm.SKU, 0)}


def joor_credits(sb) -> tuple[int, int]:
    """(credits spent, write credits) since the last stats reset, as the sandbox counted them."""
    stats = sb.joor_admin.stats()
    writes = sum(n for route, n in stats["requests"].items()
                 if route.split(" ", 1)[0] in ("POST", "PUT", "DELETE", "PATCH")
                 and route.split(" ", 1)[1].startswith(("/v4", "/v2")))
    credits = stats.get("credits_spent")
    if credits is None:
        credits = (stats.get("joor") or {}).get("credits_spent", 0)
    return int(credits), writes * 5


def run(sb, args) -> dict:
    sb.joor_admin.reset_stats()
    full = push_once("full")
    full_credits, _ = joor_credits(sb)

    # 1% of the synced styles change: a new JOOR web title and a new MSRP (product + its prices)
    from amc_joor.hooks.amc import AmcHook

    products = [p for p in AmcHook().iter_rows("products") if str(p.get("joor_sync")) == "1"]
    rng = random.Random(7)
    edited = rng.sample(products, max(1, round(len(products) * args.changed)))
    for p in edited:
        retail = f"{float(p['retail_price']) + 1:.2f}"
        sb.amc_admin.edit_style(str(p["product_id"]), joor_web_title=f"Bench {p['style_number']}",
                                retail_price=retail)

    sb.joor_admin.reset_stats()
    delta = push_once("delta")
    delta_credits, _ = joor_credits(sb)

    sb.joor_admin.reset_stats()
    noop = push_once("noop")
    _, noop_writes = joor_credits(sb)

    return {
        "bench": "catalog_push",
        "skus": full["selected_skus"],
        "full_credits": full_credits,
        "full_min_credits": full["min"],
        "delta_credits": delta_credits,
        "delta_min_credits": delta["min"],
        "noop_write_credits": noop_writes,
        "plan_seconds": round(max(full["plan_seconds"], delta["plan_seconds"], noop["plan_seconds"]), 2),
        "styles_edited": len(edited),
        "failures": full["failures"] + delta["failures"] + noop["failures"],
        "full_sent": full["sent"],
        "delta_sent": delta["sent"],
    }


if __name__ == "__main__":
    sys.exit(main())
