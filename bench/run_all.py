"""``make bench``: run every bench/*.py, then one table of each figure beside its goal.

Each bench prints one JSON line; goals are stated here once (from the issues) and compared.
A bench that fails is shown as such; the table is printed either way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SKIP_BY_DEFAULT = {"soak"}  # long-running; run it by hand: python bench/soak.py

# bench -> figure -> (op, goal) ; op in <=, >=, ==
GOALS: dict[str, dict[str, tuple[str, float | str]]] = {
    "parse_time": {"max_ms": ("<=", 50)},
    "joor_budget": {"utilization": (">=", 0.95), "responses_429": ("==", 0),
                    "max_credits_in_window": ("<=", "limit")},
    "order_pull": {"seconds": ("<=", 120), "joor_credits": ("<=", "credits_goal"), "duplicates_in_amc": ("==", 0)},
    "catalog_push": {"noop_write_credits": ("==", 0), "plan_seconds": ("<=", 20), "peak_rss_mb": ("<=", 1536),
                     "full_credits": ("<=", "1.05*full_min_credits"),
                     "delta_credits": ("<=", "1.05*delta_min_credits")},
    "inventory_push": {"write_calls": ("==", "ceil(changed/1000)"), "seconds": ("<=", 60),
                       "peak_rss_mb": ("<=", 1024)},
    "customer_sync": {},
}


def _goal_value(goal, figures: dict):
    if not isinstance(goal, str):
        return goal
    import math

    env = {"ceil": math.ceil, **{k: v for k, v in figures.items() if isinstance(v, int | float)}}
    if goal == "limit":
        return figures.get("limit", 300)
    return eval(goal, {"__builtins__": {}}, env)  # noqa: S307 - goals above are ours


def _check(op: str, value, goal) -> bool:
    return {"<=": value <= goal, ">=": value >= goal, "==": value == goal}[op]


def main() -> int:
    only = set(sys.argv[1:])
    rows: list[tuple[str, str, str, str, str]] = []
    bad = 0
    for path in sorted(ROOT.glob("*.py")):
        name = path.stem
        if name == "run_all" or (only and name not in only) or (not only and name in SKIP_BY_DEFAULT):
            continue
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=3600)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            rows.append((name, "-", "FAILED", "-", (proc.stderr.strip().splitlines() or ["?"])[-1][:60]))
            bad += 1
            continue
        figures = json.loads(lines[-1])
        goals = GOALS.get(figures.get("bench", name), {})
        for key, value in figures.items():
            if key == "bench" or isinstance(value, dict | list):
                continue
            verdict, goal_text = "", ""
            if key in goals:
                op, goal = goals[key]
                goal_v = _goal_value(goal, figures)
                ok = _check(op, value, goal_v)
                verdict, goal_text = ("ok" if ok else "MISSED"), f"{op} {goal_v:g}" if isinstance(goal_v, int | float) else f"{op} {goal_v}"
                bad += 0 if ok else 1
            rows.append((name, key, f"{value:g}" if isinstance(value, float) else str(value), goal_text, verdict))
        rows.append((name, "(wall s)", f"{time.monotonic() - t0:.1f}", "", ""))
    widths = [max(len(r[i]) for r in rows + [("bench", "figure", "value", "goal", "")]) for i in range(5)]
    header = ("bench", "figure", "value", "goal", "")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
