"""The sandbox's body-altering fault kinds (``non_utf8``, ``rewrite``), seen from a real client.

The bad-input tests rely on them to put values into API answers that the sandbox's admin API
cannot store (a quantity "lots", bytes that are not UTF-8), so they are pinned down here.
"""

from __future__ import annotations

import httpx
import pytest
from badinput_helpers import wire

from amc_joor_sandbox.common import INVALID_UTF8, Fault, alter_body
from amc_joor_sandbox.testing import SandboxError


def test_alter_body_rewrite_and_non_utf8_pure() -> None:
    body = b'{"response":[{"a":"7777","b":"Atlas"},{"a":"7777"}]}'
    rw = Fault(id=1, kind="rewrite", find='"a":"7777"', replace='"a":"lots"')
    assert alter_body(body, rw) == b'{"response":[{"a":"lots","b":"Atlas"},{"a":"lots"}]}'
    first = Fault(id=1, kind="rewrite", find='"a":"7777"', replace='"a":"x"', occurrences=1)
    assert alter_body(body, first).count(b'"a":"x"') == 1
    bad = alter_body(body, Fault(id=1, kind="non_utf8", find="Atl"))
    assert bad == body.replace(b"Atl", b"Atl" + INVALID_UTF8)
    with pytest.raises(UnicodeDecodeError):
        bad.decode("utf-8")
    anywhere = alter_body(body, Fault(id=1, kind="non_utf8"))
    assert anywhere.startswith(b'{"response":[{"a":"' + INVALID_UTF8 + b"7777")
    assert alter_body(body, Fault(id=1, kind="non_utf8", find="nowhere")) == body


def test_rewrite_fault_changes_the_real_answer_count_times(fresh_sandbox) -> None:
    sb = fresh_sandbox
    sb.amc_admin.set_stock("100001", "1", qty_inventory=7777, qty_avail_sell=7777)
    sb.amc_admin.arm_fault("rewrite", path="/api/json/sku_warehouse", count=1,
                           find=wire("qty_avail_sell", "7777"), replace=wire("qty_avail_sell", "lots"))
    url = f"{sb.amc_url}/api/json/sku_warehouse/100001"
    first = httpx.get(url, params=sb.amc_auth())
    assert first.status_code == 200 and int(first.headers["content-length"]) == len(first.content)
    rows = {r["warehouse_id"]: r for r in first.json()["response"]}
    assert rows["1"]["qty_avail_sell"] == "lots" and rows["1"]["qty_inventory"] == "7777"
    second = httpx.get(url, params=sb.amc_auth()).json()["response"]
    assert {r["warehouse_id"]: r for r in second}["1"]["qty_avail_sell"] == "7777"
    assert sb.amc_admin.stats()["faults_fired"] == {"rewrite": 1}


def test_non_utf8_fault_puts_invalid_bytes_inside_a_string_value(fresh_sandbox) -> None:
    sb = fresh_sandbox
    sb.amc_admin.edit("customers", "2001", customer_name="Relaxed Boutique")
    sb.amc_admin.arm_fault("non_utf8", path="/api/json/customers", find="Relaxed")
    resp = httpx.get(f"{sb.amc_url}/api/json/customers/2001", params=sb.amc_auth())
    assert resp.status_code == 200
    assert b"Relaxed" + INVALID_UTF8 + b" Boutique" in resp.content
    with pytest.raises(UnicodeDecodeError):
        resp.content.decode("utf-8")


def test_rewrite_needs_find_and_replace(fresh_sandbox) -> None:
    with pytest.raises(SandboxError, match="rewrite"):
        fresh_sandbox.amc_admin.arm_fault("rewrite", path="/api/json/products")


def test_body_faults_on_one_path_stack(fresh_sandbox) -> None:
    sb = fresh_sandbox
    sb.amc_admin.edit("customers", "2001", customer_name="Relaxed Boutique")
    sb.amc_admin.arm_fault("non_utf8", path="/api/json/customers", find="Relaxed", count=2)
    sb.amc_admin.arm_fault("rewrite", path="/api/json/customers", find='"customer_id":"2001"',
                           replace='"customer_id":"X2001"', count=2)
    resp = httpx.get(f"{sb.amc_url}/api/json/customers/2001", params=sb.amc_auth())
    assert b"Relaxed" + INVALID_UTF8 in resp.content and b'"customer_id":"X2001"' in resp.content
    assert sb.amc_admin.stats()["faults_fired"] == {"non_utf8": 1, "rewrite": 1}
