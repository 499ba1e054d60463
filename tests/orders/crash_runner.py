"""Run one whole order pull in this process (a chaos test starts it as a subprocess and kills it).

Reads the same environment a task would: AIRFLOW_CONN_AMC_DEFAULT / AIRFLOW_CONN_JOOR_DEFAULT,
AMC_JOOR_STATE_URL, AMC_JOOR_STAGING_ROOT, AIRFLOW_VAR_AMC_JOOR_SETTINGS, plus the crash point
(AMC_JOOR_TEST_CRASH_AT / AMC_JOOR_TEST_CRASH_SENTINEL). Prints the run's counts as JSON.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    from amc_joor.flows import orders
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.settings import IntegrationSettings
    from amc_joor.state import get_engine

    settings = IntegrationSettings.from_json(os.environ.get("AIRFLOW_VAR_AMC_JOOR_SETTINGS"))
    run_id = sys.argv[1] if len(sys.argv) > 1 else "crash-test"
    report = orders.run_order_pull(AmcHook(), JoorHook(priority=True), settings, orders.RunScope("pending"),
                                   get_engine(), run_id=run_id, batch_size=3)
    print(json.dumps(report.to_dict()["counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
