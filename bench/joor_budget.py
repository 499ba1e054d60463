"""Bench: two processes share one JOOR credit budget against the rate-limited sandbox.

Why: the budget must let queued work use (almost) every credit of every window, without one
429 and without ever spending more than the window allows — across processes, through the
state store, exactly as tasks on several Airflow workers would.

Setup: the JOOR sandbox with a scaled window (default 60 credits / 3 s), a fresh SQLite state
store, two worker processes started at the same instant: a *normal* lane (a catalog push: may
not touch the 10% reserve) and a *priority* lane (an order pull: may). Each keeps a queue of
mixed work, ~30% writes (5 credits: an export-status write-back) and ~70% GETs (1 credit:
traits); when a write does not fit the room left in the window, it sends a GET first
(work-conserving). Every call goes through ``JoorHook`` with the shared ``CreditBudget``.

Figures (from the sandbox's own counters):
* ``utilization`` = credits spent / (credits the API offered while work was queued), where the
  offered credits are ``limit × (end of the last window − first request) / window``: idle gaps
  between windows count as loss;
* ``window_fill`` = credits spent / (windows started × limit);
* ``responses_429``, ``max_credits_in_window`` (must stay ≤ ``limit``).

Run: ``.venv/bin/python bench/joor_budget.py [--windows 8] [--limit 60] [--window 3]``;
prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(args: argparse.Namespace) -> int:
    """One lane: mixed queued work until the deadline; prints its own counts as JSON."""
    from amc_joor.hooks.http import RetryPolicy
    from amc_joor.hooks.joor import JoorHook

    priority = args.lane == "priority"
    hook = JoorHook("joor_bench", priority=priority, retry_policy=RetryPolicy(backoff_initial=0.05))
    hook.access_token()  # mint the v4 token before the clock starts (auth costs no credits)
    budget = hook.budget
    assert budget is not None
    rng = random.Random(f"{args.lane}-{args.seed}")
    counts = {"get": 0, "write": 0, "get_instead_of_write": 0}
    # Handshake: say we are ready (Airflow imported, token minted), wait for the common start.
    sync_dir = Path(args.sync_dir)
    (sync_dir / f"ready-{args.lane}").write_text("1")
    go = sync_dir / "go"
    limit_wait = time.time() + 300
    while not go.exists() and time.time() < limit_wait:
        time.sleep(0.01)
    start, deadline = (float(x) for x in go.read_text().split())
    time.sleep(max(0.0, start - time.time()))
    args.deadline = deadline
    while time.time() < args.deadline:
        want = "write" if rng.random() < 0.3 else "get"
        if want == "write":
            room = budget.available(priority)
            if 1 <= room < 5:
                want = "get"
                counts["get_instead_of_write"] += 1
        if want == "write":
            hook.update_export_status([{"id": args.order_id, "export_status": "FAILED",
                                        "export_description": f"bench {args.lane} {counts['write']}"}])
        else:
            hook.list_traits()
        counts[want] += 1
    print(json.dumps({"lane": args.lane, **counts, "budget_waits": budget.snapshot().get("waits_total")}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=8, help="how many windows of queued work")
    parser.add_argument("--limit", type=int, default=60, help="credits per window (sandbox and budget)")
    parser.add_argument("--window", type=float, default=3.0, help="window seconds (sandbox and budget)")
    parser.add_argument("--reserve", type=int, default=6, help="credits only the priority lane may use")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--lane", default="normal", help=argparse.SUPPRESS)
    parser.add_argument("--sync-dir", default="", help=argparse.SUPPRESS)
    parser.add_argument("--order-id", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    from amc_joor_sandbox.connections import joor_connection
    from amc_joor_sandbox.testing import start_sandbox

    with tempfile.TemporaryDirectory(prefix="joor_budget_") as tmp, start_sandbox("small", seed=args.seed) as sb:
        sb.joor_admin.config(credits_per_window=args.limit, window_seconds=args.window)
        order_id = sb.joor_admin.get("/joor/orders", lines="0")["orders"][0]["id"]  # admin reads are free
        env = {
            **os.environ,
            "PYTHONWARNINGS": "ignore",
            "AIRFLOW_CONN_JOOR_BENCH": json.dumps(joor_connection(sb.joor_url)),
            "AMC_JOOR_STATE_URL": f"sqlite:///{tmp}/state.db",
            "AMC_JOOR_JOOR_CREDIT_LIMIT": str(args.limit),
            "AMC_JOOR_JOOR_CREDIT_WINDOW_SECONDS": str(args.window),
            "AMC_JOOR_JOOR_CREDIT_RESERVE": str(args.reserve),
        }
        sb.joor_admin.reset_stats()
        lanes = ("normal", "priority")
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", "--lane", lane, "--sync-dir", tmp, "--order-id", order_id,
                 "--seed", str(args.seed)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            )
            for lane in lanes
        ]
        ready_by = time.time() + 300
        while not all((Path(tmp) / f"ready-{lane}").exists() for lane in lanes):
            if time.time() > ready_by or any(p.poll() not in (None, 0) for p in procs):
                for p in procs:
                    p.kill()
                sys.stderr.write("bench workers did not get ready\n" + "".join(p.communicate()[1][-2000:] for p in procs))
                return 1
            time.sleep(0.05)
        start = time.time() + 0.5
        deadline = start + args.windows * args.window - 0.2 * args.window
        (Path(tmp) / "go").write_text(f"{start!r} {deadline!r}")
        time.sleep(max(0.0, deadline - time.time()))
        snap_at = time.time()
        stats = sb.joor_admin.stats()
        outs = []
        for p in procs:
            try:
                out, err = p.communicate(timeout=args.window * 3 + 30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            if p.returncode != 0:
                sys.stderr.write(err[-3000:])
                return 1
            outs.append(json.loads(out.strip().splitlines()[-1]))
    window_state = next(iter(stats.get("credit_windows", {}).values()), {"reset_in": 0.0})
    offered_seconds = snap_at + float(window_state.get("reset_in", 0.0)) - start
    spent = int(stats["credits_spent"])
    result = {
        "bench": "joor_budget",
        "utilization": round(spent / (args.limit * offered_seconds / args.window), 4),
        "responses_429": int(stats["responses_429"]),
        "max_credits_in_window": int(stats["max_credits_in_window"]),
        "limit": args.limit,
        "window_seconds": args.window,
        "windows_started": int(stats["windows_started"]),
        "window_fill": round(spent / (max(1, int(stats["windows_started"])) * args.limit), 4),
        "credits_spent": spent,
        "requests": sum(v for k, v in stats["requests"].items() if k.startswith(("GET /v", "POST /v"))),
        "lanes": outs,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
