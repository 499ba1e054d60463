"""amc_joor_catalog_push with bad AMC styles, colorways and SKUs: each reported, the rest on JOOR.

Bad records come from admin edits (as a merchandiser would make them) and from ``rewrite`` /
``non_utf8`` faults (values AMC's own screens would not store: a SKU of a style that does not
exist, garbled text). The run must end failed only in ``report``; the report names each bad
record and field; JOOR must hold every good style, SKU and price exactly as AMC has them.
"""

from __future__ import annotations

import pytest
from badinput_helpers import amc_rows, assert_reason, failures

DAG_ID = "amc_joor_catalog_push"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_bad_catalog_records_are_reported_and_good_ones_reach_joor(run_dag):
    sb = run_dag.sandbox
    sb.joor_admin.config(rate_limit_enabled=False)
    products = amc_rows(sb, "products")
    flagged = [p for p in products if p["joor_sync"] == "1"]
    p_noname, p_long, p_comma, p_cur, p_garbled, p_msrp, p_orphan_sku, p_orphan_cw = flagged[:8]
    colorways = amc_rows(sb, "product_attributes")
    skus = amc_rows(sb, "inventory")

    # missing required: no name anywhere
    sb.amc_admin.edit_style(p_noname["product_id"], description="", web_title="", joor_web_title="")
    # oversized: a 5,000-character style name (JOOR documents no limit: it must arrive whole)
    long_name = "Relaxed Linen Shirt " * 250
    sb.amc_admin.edit_style(p_long["product_id"], joor_web_title=long_name)
    # wrong-typed money: a decimal comma in one price group's price
    groups = [dict(g) for g in p_comma["price_groups"]]
    comma_group = groups[1]["price_group"]
    groups[1]["price"] = "12,50"
    sb.amc_admin.edit_style(p_comma["product_id"], price_groups=groups)
    # unknown reference: a price group in a currency AMC does not have
    groups = [dict(g) for g in p_cur["price_groups"]]
    cur_group = groups[2]["price_group"]
    groups[2]["currency_id"] = "99"
    sb.amc_admin.edit_style(p_cur["product_id"], price_groups=groups)
    # garbled text (invalid UTF-8 bytes inside the name AMC sends)
    sb.amc_admin.edit_style(p_garbled["product_id"], joor_web_title="Garbled Wrap Dress")
    sb.amc_admin.arm_fault("non_utf8", path="/api/json/products", find="Garbled Wrap", count=50)
    # wrong-typed MSRP
    sb.amc_admin.edit_style(p_msrp["product_id"], retail_price="lots")
    # a SKU whose style does not exist in AMC
    orphan_sku = next(s for s in skus if s["product_id"] == p_orphan_sku["product_id"])
    sb.amc_admin.arm_fault("rewrite", path="/api/json/inventory", count=50,
                           find=f'"sku_id":"{orphan_sku["sku_id"]}","product_id":"{orphan_sku["product_id"]}"',
                           replace=f'"sku_id":"{orphan_sku["sku_id"]}","product_id":"999999"')
    # a colorway that points at a product AMC does not have
    orphan_cw = next(c for c in colorways if c["product_id"] == p_orphan_cw["product_id"] and c["joor_sync"] == "1")
    sb.amc_admin.arm_fault("rewrite", path="/api/json/product_attributes", count=50,
                           find=f'"id":"{orphan_cw["id"]}","product_id":"{orphan_cw["product_id"]}"',
                           replace=f'"id":"{orphan_cw["id"]}","product_id":"999998"')

    result = run_dag(DAG_ID, settings={"image_sync": False})

    assert result.state == "failed" and result.failed_tasks() == ["report"], result.task_states
    report = result.report
    assert_reason(report, p_noname["style_number"], "no name", "Web Title", "Style Name")
    assert_reason(report, f"{p_comma['style_number']}/{comma_group}", "12,50", "not a number")
    assert_reason(report, f"{p_cur['style_number']}/{cur_group}", "currency id '99'", "/currencies")
    assert_reason(report, p_garbled["style_number"], "joor_web_title", "UTF-8")
    for g in p_msrp["price_groups"]:
        assert_reason(report, f"{p_msrp['style_number']}/{g['price_group']}", "MSRP 'lots'", "retail_price")
    assert_reason(report, orphan_sku["sku_id"], "product_id 999999", "not an AMC product")
    assert_reason(report, orphan_cw["id"], "colorway", "product_id 999998", "not an AMC product")
    assert_reason(report, f"{p_orphan_cw['style_number']}/{orphan_cw['attribute_2']}", "no colorway")
    bad_styles = {p_noname["style_number"], p_garbled["style_number"]}
    expected_keys = {p_noname["style_number"], f"{p_comma['style_number']}/{comma_group}",
                     f"{p_cur['style_number']}/{cur_group}", p_garbled["style_number"], orphan_sku["sku_id"],
                     orphan_cw["id"], f"{p_orphan_cw['style_number']}/{orphan_cw['attribute_2']}",
                     *(f"{p_msrp['style_number']}/{g['price_group']}" for g in p_msrp["price_groups"])}
    assert {f["key"] for f in failures(report)} == expected_keys  # nothing else failed

    # JOOR holds every good style (the 5,000-character name whole), SKU and price, as AMC has them
    cat = sb.joor_admin.get("/joor/catalog")
    by_ext = {p["external_id"]: p for p in cat["products"] if p.get("external_id")}
    good_styles = {p["style_number"]: p for p in flagged if p["style_number"] not in bad_styles}
    assert set(by_ext) == set(good_styles)
    assert by_ext[p_long["style_number"]]["name"] == long_name.strip()
    for style, p in good_styles.items():
        if style != p_long["style_number"]:
            assert by_ext[style]["name"] == (p["joor_web_title"] or p["web_title"] or p["description"]), style
    synced_cw = {(c["product_id"], c["attribute_2"]) for c in colorways if c["joor_sync"] == "1"
                 and c["id"] != orphan_cw["id"]}
    pid_good = {p["product_id"] for p in good_styles.values()}
    good_skus = {s["sku_id"] for s in skus if s["product_id"] in pid_good and s.get("joor_sync") != "0"
                 and (s["product_id"], s["attr_2"]) in synced_cw and s["sku_id"] != orphan_sku["sku_id"]}
    joor_skus = {s["external_id"]: s for s in cat["skus"] if s.get("external_id")}
    assert set(joor_skus) == good_skus
    # prices: one per good SKU and price group, except the reported style/group pairs
    sku_of = {s["id"]: s["external_id"] for s in cat["skus"] if s.get("external_id")}
    style_of = {s["sku_id"]: s["style_number"] for s in skus}
    failed_pairs = {(p_comma["style_number"], comma_group), (p_cur["style_number"], cur_group),
                    *((p_msrp["style_number"], g["price_group"]) for g in p_msrp["price_groups"])}
    iso = {c["id"]: c["name"] for c in amc_rows(sb, "currencies")}
    types = {t["id"]: t["currency_code"] for t in sb.joor_admin.get("/joor/info")["price_types"]}
    groups_by_style = {p["style_number"]: [(g["price_group"], iso[g["currency_id"]]) for g in p["price_groups"]]
                       for p in good_styles.values()}
    want = {(sku, cur) for sku in good_skus for g, cur in groups_by_style[style_of[sku]]
            if (style_of[sku], g) not in failed_pairs}
    have = [(sku_of[pr["sku_id"]], types[pr["price_type_id"]]) for pr in cat["prices"]]
    assert len(have) == len(set(have)) and set(have) == want
    comma_skus = {s for s in good_skus if style_of[s] == p_comma["style_number"]}
    assert not any(sku in comma_skus and "1250" in str(pr["wholesale_value"])
                   for pr in cat["prices"] for sku in [sku_of[pr["sku_id"]]]), "12,50 must never become 1250"
