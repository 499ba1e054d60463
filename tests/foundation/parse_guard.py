"""Parse every DAG file in a fresh AIRFLOW_HOME with network and DB access forbidden.

Run as a subprocess by test_dag_integrity: prints one JSON line with the DAGs' properties and
any import errors. Any socket connect or SQLAlchemy connect at parse time is an import error.
"""

import json
import socket
import sys


class ParseTimeAccess(RuntimeError):
    pass


def _forbidden(*_a, **_k):
    raise ParseTimeAccess("network or database access at DAG parse time")


socket.socket.connect = _forbidden  # type: ignore[method-assign]
socket.create_connection = _forbidden  # type: ignore[assignment]

import sqlalchemy.engine  # noqa: E402

sqlalchemy.engine.Engine.connect = _forbidden  # type: ignore[method-assign]

from airflow.dag_processing.dagbag import DagBag  # noqa: E402

bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
out = {"import_errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    tasks = dag.tasks
    out["dags"][dag_id] = {
        "fileloc": dag.fileloc,
        "tags": sorted(dag.tags),
        "owners": sorted({t.owner for t in tasks}),
        "doc_md": dag.doc_md or "",
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "min_retries": min((t.retries for t in tasks), default=0),
        "backoff": all(bool(t.retry_exponential_backoff) for t in tasks),
        "report_task": "report" in dag.task_ids,
        "n_tasks": len(tasks),
        "params": sorted(dag.params.keys()),
    }
print(json.dumps(out))
