"""amc_joor_customer_sync with bad AMC customers: each one reported, every other one on JOOR.

Bad records are put into the sandbox the way a user (admin edits) or a broken API (rewrite /
non_utf8 faults) would; the run must end failed only in ``report``, with one failure per bad
customer naming the record and the field, and every good customer must be on JOOR as AMC has it.
"""

from __future__ import annotations

import pytest
from badinput_helpers import amc_rows, assert_reason, failures, rewrite

DAG_ID = "amc_joor_customer_sync"
FAST = {"customer_job_poll_seconds": 0.2, "customer_job_timeout_minutes": 2}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def joor_connections(sb) -> dict[str, dict]:
    return {c["customer_code"]: c for c in sb.joor_admin.get("/joor/connections")["connections"]}


def test_bad_customers_are_reported_one_by_one_and_good_ones_reach_joor(run_dag):
    sb = run_dag.sandbox
    customers = {c["customer_id"]: c for c in amc_rows(sb, "customers")}
    code = {cid: c["joor_customer_code"] for cid, c in customers.items()}
    sb.amc_admin.edit_customer("2001", customer_name="")  # missing required field
    sb.amc_admin.edit_customer("2002", customer_name="Grand" * 1000)  # 5,000 characters
    sb.amc_admin.edit_customer("2003", currency_id="99")  # a currency AMC does not have
    sb.amc_admin.edit_customer("2004", customer_name="Maison Zoë")
    sb.amc_admin.arm_fault("non_utf8", path="/api/json/customers", find="Maison Zo", count=50)
    stamp = amc_rows(sb, "customers", **{"parameters[0][field]": "customer_id", "parameters[0][operator]": "=",
                                          "parameters[0][value]": "2005"})[0]["last_modified_time"]
    rewrite(sb.amc_admin, "/api/json/customers", "last_modified_time", stamp, "19/11/2026 25:61")  # not ISO
    sb.amc_admin.edit("currencies", "3", rate="lots")  # unreadable rate: not used here, must not sink the sync
    bad = {"2001", "2002", "2003", "2004", "2005"}

    result = run_dag(DAG_ID, {"mode": "initial"}, settings=FAST)

    assert result.state == "failed" and result.failed_tasks() == ["report"], result.task_states
    report = result.report
    assert_reason(report, code["2001"], "AMC customer 2001", "customer_name", "required")
    assert_reason(report, code["2002"], "AMC customer 2002", "customer_name", "5000", "100")
    assert_reason(report, code["2003"], "AMC customer 2003", "currency")
    assert_reason(report, code["2004"], "AMC customer 2004", "customer_name", "UTF-8")
    assert_reason(report, code["2005"], "AMC customer 2005", "last_modified_time", "19/11/2026 25:61")
    # the customers that are flawed in the data set itself are reported as before, nothing else
    keys = {f["key"] for f in failures(report)}
    assert keys - {code[c] for c in bad} <= {code[c] for c in customers if customers[c]["joor_customer_code"]
                                              and not (customers[c]["division_id"] and customers[c]["currency_id"]
                                                       and customers[c]["warehouse_id"])}

    on_joor = joor_connections(sb)
    for cid, row in customers.items():
        if cid in bad or not row["joor_customer_code"] or row["joor_customer_code"] in keys:
            continue
        conn = on_joor.get(row["joor_customer_code"])
        assert conn is not None, f"good customer {cid} ({row['joor_customer_code']}) is not on JOOR"
        assert conn["customer_name"] == row["customer_name"], cid
    # nothing corrupted reached JOOR under a bad customer's code
    for cid in ("2001", "2002", "2004"):
        conn = on_joor.get(code[cid])
        assert conn is None or conn["customer_name"] == customers[cid]["customer_name"], cid
