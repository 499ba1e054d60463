"""``make demo``: the main job on the embedded default, end to end, in one command.

Starts both sandbox APIs on loopback, points the connections at them, runs every DAG that
exists once with ``dag.test()`` in the natural order (customers -> catalog -> inventory ->
orders) against a fresh local state store, and prints what moved. Airflow's own task logs go to
``var/demo/<dag_id>.log``. Exit 0 when every run did its work (records failing with a reason —
the sandbox data holds bad orders on purpose — are reported, not fatal); 1 when a task broke.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("AMC_JOOR_ROOT") or Path(__file__).resolve().parents[2])

#: (dag_id, conf) in the natural order of a first sync.
FLOWS: list[tuple[str, dict]] = [
    ("amc_joor_customer_sync", {"mode": "initial"}),
    ("amc_joor_catalog_push", {}),
    ("amc_joor_inventory_push", {}),
    ("joor_amc_order_pull", {}),
]


@contextlib.contextmanager
def _output_to(path: Path):
    """Send fd 1 and 2 (Airflow's task logs) to a file for the duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def main() -> int:
    from amc_joor_sandbox.connections import connection_env
    from amc_joor_sandbox.testing import start_sandbox

    workdir = ROOT / "var" / "demo"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    os.environ["AMC_JOOR_STATE_URL"] = f"sqlite:///{workdir / 'state.db'}"
    os.environ["AMC_JOOR_STAGING_ROOT"] = f"file://{workdir / 'staging'}"
    os.environ.setdefault("AMC_JOOR_RETRY_DELAY_SECONDS", "2")
    os.environ.setdefault("AIRFLOW_VAR_AMC_JOOR_SETTINGS", "{}")

    present = [(d, c) for d, c in FLOWS if (ROOT / "dags" / f"{d}.py").exists()]
    print(f"amc-joor demo: {len(present)} DAG(s) against the local sandbox APIs (dataset 'small')")
    broken: list[str] = []
    started = time.monotonic()
    with start_sandbox(dataset="small", seed=1) as sandbox:
        os.environ.update(connection_env(sandbox.amc_url, sandbox.joor_url))
        print(f"  sandbox AMC {sandbox.amc_url}   JOOR {sandbox.joor_url}")
        from amc_joor_sandbox.dagrun import run_dag_test

        for dag_id, conf in present:
            log = workdir / f"{dag_id}.log"
            t0 = time.monotonic()
            with _output_to(log):
                result = run_dag_test(dag_id, conf)
            took = time.monotonic() - t0
            verdict = "ok" if result.ok else ("records failed" if result.only_records_failed else "BROKEN")
            print(f"\n== {dag_id}: {verdict} ({took:.1f}s)  log: {log.relative_to(ROOT)}")
            if result.report:
                from amc_joor.reporting import RunReport

                for line in RunReport.from_dict(result.report).summary_lines()[1:]:
                    print(line)
            if not (result.ok or result.only_records_failed):
                broken.append(dag_id)
                print(f"  failed tasks: {', '.join(result.failed_tasks()) or '?'} (see the log)")
    print(f"\ndemo finished in {time.monotonic() - started:.0f}s: "
          + ("every DAG did its work" if not broken else f"BROKEN: {', '.join(broken)}"))
    return 1 if broken or not present else 0


if __name__ == "__main__":
    sys.exit(main())
