"""Import time of each DAG file on top of a warm ``import airflow`` (the dag-processor's cost).

Each file is imported in a fresh interpreter that has already imported airflow and airflow.sdk
(and made one Asset, which loads the providers manager once per process); best of 3. Prints one JSON line. Goal: <= 50 ms per file (no heavy imports at top level).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 50.0
PROBE = """
import sys, time, importlib.util
import airflow, airflow.sdk
from airflow.sdk import dag, task, Param, Asset  # what every DAG file imports anyway
# The first Asset() of a process loads Airflow's providers manager (URI scheme handlers, ~30 ms);
# a dag-processor has it loaded already, so it is warmed here, not billed to one DAG file.
Asset("bench://warmup")
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("bench_dag", path)
mod = importlib.util.module_from_spec(spec)
t0 = time.perf_counter()
spec.loader.exec_module(mod)
print((time.perf_counter() - t0) * 1000)
"""


def measure(path: Path, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                             timeout=120, check=True)
        best = min(best, float(out.stdout.strip().splitlines()[-1]))
    return round(best, 1)


def main() -> None:
    files = sorted(p for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
    per_file = {p.stem: measure(p) for p in files}
    print(json.dumps({"bench": "parse_time", "max_ms": max(per_file.values(), default=0.0),
                      "goal_ms": GOAL_MS, "per_file": per_file}))


if __name__ == "__main__":
    main()
