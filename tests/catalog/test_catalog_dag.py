"""amc_joor_catalog_push end to end: dag.test() against the sandboxes over real HTTP.

JOOR's state is read through the sandbox's inspection API and compared with the projection of
AMC's data the integration promises (issue #6); credits come from the sandbox's own stats.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest

from amc_joor.flows import catalog_mapping as cm

DAG_ID = "amc_joor_catalog_push"
pytestmark = pytest.mark.slow


# ----------------------------------------------------------------------------- helpers


def amc_rows(sb, resource: str) -> list[dict]:
    """Every row of an AMC resource as the AMC sandbox serves it now (real HTTP, raw rows)."""
    from amc_joor.hooks.amc import AmcHook

    return list(AmcHook().iter_rows(resource))


def joor_catalog(sb) -> dict:
    return sb.joor_admin.get("/joor/catalog")


def joor_collections(sb) -> list[dict]:
    return sb.joor_admin.get("/joor/collections")["collections"]


def writes(sb) -> dict[str, int]:
    """POST/PUT requests JOOR served since the last stats reset, per route."""
    return {r: n for r, n in sb.joor_admin.requests().items()
            if r.split(" ", 1)[0] in ("POST", "PUT", "DELETE", "PATCH") and " /v" in r}


def expected_projection(sb) -> dict:
    """What JOOR must hold for AMC's current data (issue #6 §2-§6)."""
    products = amc_rows(sb, "products")
    colorways = amc_rows(sb, "product_attributes")
    inventory = amc_rows(sb, "inventory")
    currencies = {c["id"]: c for c in amc_rows(sb, "currencies")}
    flagged = {p["product_id"]: p for p in products if p["joor_sync"] == "1"}
    synced_colors = {(c["product_id"], c["attribute_2"]): c for c in colorways
                     if c["joor_sync"] == "1" and c["product_id"] in flagged}
    skus = {s["sku_id"]: s for s in inventory if (s["product_id"], s["attr_2"]) in synced_colors
            and s.get("joor_sync") != "0"}
    names = {p["style_number"]: (p["joor_web_title"] or p["web_title"] or p["description"]) for p in flagged.values()}
    seasons: dict[str, set[str]] = {}
    for p in flagged.values():
        seasons.setdefault(cm.season_external_id(p["season"]), set()).add(p["style_number"])
    return {"flagged": flagged, "skus": skus, "names": names, "seasons": seasons, "currencies": currencies,
            "colors": synced_colors}


def assert_joor_matches_amc(sb) -> None:
    exp = expected_projection(sb)
    cat = joor_catalog(sb)
    ours = [p for p in cat["products"] if p.get("external_id")]
    by_ext = {p["external_id"]: p for p in ours}
    assert len(ours) == len(by_ext), "a product external id exists twice on JOOR"
    assert set(by_ext) == set(exp["names"])
    for style, name in exp["names"].items():
        assert by_ext[style]["name"] == name
        assert by_ext[style]["product_identifier"] == style
    pid_to_style = {p["id"]: p["external_id"] for p in ours}

    skus = [s for s in cat["skus"] if s.get("external_id")]
    sku_by_ext = {s["external_id"]: s for s in skus}
    assert len(skus) == len(sku_by_ext), "a SKU external id exists twice on JOOR"
    assert set(sku_by_ext) == set(exp["skus"])
    for sku_id, amc in exp["skus"].items():
        js = sku_by_ext[sku_id]
        assert pid_to_style[js["product_id"]] == amc["style_number"]
        traits = {tv["trait_id"]: tv["value"] for tv in js["trait_values"]}
        assert traits == {cm.COLOR_TRAIT_ID: amc["attr_2"], cm.SIZE_TRAIT_ID: amc["size"]}
        assert all(tv.get("status", "ACTIVE") == "ACTIVE" for tv in js["trait_values"])
        assert js["identifiers"] == [{"type": "upc", "value": amc["upc_display"]}]

    # one price per SKU per price group; retail = MSRP x rate, half-up to cents
    price_types = {pt["id"]: pt for pt in sb.joor_admin.get("/joor/info")["price_types"]}
    sku_id_to_ext = {s["id"]: s["external_id"] for s in skus}
    pairs = [(p["sku_id"], p["price_type_id"]) for p in cat["prices"]]
    assert len(pairs) == len(set(pairs)), "a SKU has two prices for one price type"
    product_by_style = {p["style_number"]: p for p in exp["flagged"].values()}
    seen = 0
    for price in cat["prices"]:
        amc_sku = exp["skus"][sku_id_to_ext[price["sku_id"]]]
        style = product_by_style[amc_sku["style_number"]]
        currency = price_types[price["price_type_id"]]["currency_code"]
        group = next(g for g in style["price_groups"] if exp["currencies"][g["currency_id"]]["name"] == currency)
        rate = Decimal(exp["currencies"][group["currency_id"]]["rate"])
        assert price["wholesale_value"] == str(Decimal(group["price"]).quantize(Decimal("0.01")))
        assert price["retail_value"] == str((Decimal(style["retail_price"]) * rate).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP))
        seen += 1
    assert seen == len(exp["skus"]) * 4

    # images: style-level images per synced style, first image + swatch per synced colour
    assets = {}
    for a in cat["product_assets"]:
        assets.setdefault(pid_to_style.get(a["product_id"]), []).append(a["filename"])
    for p in exp["flagged"].values():
        got = by_ext[p["style_number"]]  # origin and fabrication (AMC content) reach JOOR
        assert (got["country_of_origin"], got["fabrication"]) == (cm.text(p["origin"]), cm.text(p["content"]))
        style_imgs = [i["img"].rsplit("/", 1)[-1] for i in p["images"] if not i.get("colorway")]
        assert sorted(assets.get(p["style_number"], [])) == sorted(style_imgs)
    trait_assets = {(pid_to_style[a["product_id"]], a["value"], a["type"]) for a in cat["trait_assets"]}
    assert len(trait_assets) == len(cat["trait_assets"]), "an image was uploaded twice"
    expected_trait = {(exp["flagged"][pid]["style_number"], color, t) for (pid, color), cw in exp["colors"].items()
                      for t in ("image", "swatch") if any(str(i.get("is_swatch")) == ("1" if t == "swatch" else "0")
                                                          for i in cw["images"])}
    assert trait_assets == expected_trait

    # one owned linesheet per season holding exactly that season's synced styles
    colls = joor_collections(sb)
    owned = {c["external_id"]: c for c in colls if str(c.get("external_id") or "").startswith(cm.SEASON_PREFIX)}
    assert set(owned) == set(exp["seasons"])
    for ext, styles in exp["seasons"].items():
        assert {pid_to_style[i["product_id"]] for i in owned[ext]["items"]} == styles


def manual_collection(sb) -> dict:
    return next(c for c in joor_collections(sb) if c.get("created_via") == "joor_ui")


@pytest.fixture
def catalog_env(run_dag, monkeypatch):
    # one test's runs stay far inside JOOR's window, but the client budget need not wait either
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_LIMIT", "100000")
    monkeypatch.setenv("AMC_JOOR_JOOR_CREDIT_RESERVE", "0")
    return run_dag


# ----------------------------------------------------------------------------- tests


def test_full_push_then_noop_then_one_style(catalog_env, fresh_sandbox):
    sb = fresh_sandbox
    manual_before = manual_collection(sb)

    first = catalog_env(DAG_ID)
    assert first.ok, first.task_states
    assert_joor_matches_amc(sb)
    counts = first.report["counts"]
    assert counts["product"]["created"] == len(expected_projection(sb)["names"])
    assert first.report["notes"]["fx_rates"]["EUR"] == "0.92"
    assert first.report["notes"]["joor_credits_spent"] > 0

    # second run, AMC unchanged: zero write credits
    sb.joor_admin.reset_stats()
    second = catalog_env(DAG_ID)
    assert second.ok, second.task_states
    assert writes(sb) == {}
    assert second.report["notes"]["joor_write_calls"] == 0

    # one style edited in AMC: only that style's product is sent (one call)
    style = next(iter(expected_projection(sb)["flagged"].values()))
    sb.amc_admin.edit_style(style["product_id"], joor_web_title="Renamed For JOOR")
    sb.joor_admin.reset_stats()
    third = catalog_env(DAG_ID)
    assert third.ok, third.task_states
    assert writes(sb) == {"POST /v4/products/bulk_update": 1}
    assert third.report["counts"]["product"]["updated"] == 1
    assert_joor_matches_amc(sb)

    # the manual linesheet was never modified
    manual_after = manual_collection(sb)
    assert manual_after["modification_count"] == manual_before["modification_count"] == 0
    assert manual_after["items"] == manual_before["items"]


def test_fx_rate_change_alone_does_not_reprice_until_full_resync(catalog_env, fresh_sandbox):
    sb = fresh_sandbox
    assert catalog_env(DAG_ID).ok
    eur = next(c for c in amc_rows(sb, "currencies") if c["name"] == "EUR")
    sb.amc_admin.set_rate(eur["id"], "0.95")
    sb.joor_admin.reset_stats()
    again = catalog_env(DAG_ID)
    assert again.ok and writes(sb) == {}

    sb.joor_admin.reset_stats()
    full = catalog_env(DAG_ID, conf={"full_resync": True})
    assert full.ok, full.task_states
    assert full.report["notes"]["fx_rates"]["EUR"] == "0.95"
    assert "POST /v4/prices/bulk_update" in writes(sb)
    assert not any(r.endswith("bulk_create") for r in writes(sb))  # nothing created twice
    assert_joor_matches_amc(sb)


def test_failed_batch_fails_the_run_and_a_rerun_converges(catalog_env, fresh_sandbox):
    sb = fresh_sandbox
    # the SKU create commits on JOOR but the answer is lost, on every attempt of the task
    sb.joor_admin.arm_fault("commit_then_fail", method="POST", path="/v4/skus/bulk_create", status=500,
                            phase="after", count=20)
    broken = catalog_env(DAG_ID)
    assert broken.state == "failed"
    assert any(t.startswith("push_skus") for t in broken.failed_tasks())
    sb.joor_admin.clear_faults()

    rerun = catalog_env(DAG_ID)
    assert rerun.ok, rerun.task_states
    assert rerun.report["counts"]["sku"].get("reconciled", 0) > 0  # DUPLICATED -> looked up -> updated
    assert_joor_matches_amc(sb)


def test_lost_state_converges_without_duplicates(catalog_env, fresh_sandbox, tmp_path, monkeypatch):
    sb = fresh_sandbox
    assert catalog_env(DAG_ID).ok
    before = sb.joor_admin.get("/joor/info")["counts"]
    monkeypatch.setenv("AMC_JOOR_STATE_URL", f"sqlite:///{tmp_path / 'lost.db'}")
    again = catalog_env(DAG_ID)
    assert again.ok, again.task_states
    after = sb.joor_admin.get("/joor/info")["counts"]
    for key in ("products", "skus", "prices", "product_assets", "trait_assets", "collections"):
        assert after[key] == before[key], key
    assert_joor_matches_amc(sb)


def test_unflagged_style_is_reported_not_removed_and_season_move(catalog_env, fresh_sandbox):
    sb = fresh_sandbox
    assert catalog_env(DAG_ID).ok
    flagged = list(expected_projection(sb)["flagged"].values())
    gone, moved = flagged[0], flagged[1]
    new_season = next(p["season"] for p in flagged if p["season"] != moved["season"])
    sb.amc_admin.edit_style(gone["product_id"], joor_sync="0")
    sb.amc_admin.edit_style(moved["product_id"], season=new_season)
    run = catalog_env(DAG_ID)
    assert run.ok, run.task_states
    assert gone["style_number"] in run.report["notes"]["styles_unflagged"]
    cat = joor_catalog(sb)
    assert gone["style_number"] in {p.get("external_id") for p in cat["products"]}
    owned = {c["external_id"]: c for c in joor_collections(sb) if c.get("external_id")}
    pid = next(p["id"] for p in cat["products"] if p.get("external_id") == moved["style_number"])
    assert pid in {i["product_id"] for i in owned[cm.season_external_id(new_season)]["items"]}
    assert pid not in {i["product_id"] for i in owned[cm.season_external_id(moved["season"])]["items"]}
    # the unflagged style stays in its linesheet, active
    gone_pid = next(p["id"] for p in cat["products"] if p.get("external_id") == gone["style_number"])
    assert gone_pid in {i["product_id"] for i in owned[cm.season_external_id(gone["season"])]["items"]}
    assert manual_collection(sb)["modification_count"] == 0


def test_dry_run_and_image_override(catalog_env, fresh_sandbox):
    sb = fresh_sandbox
    sb.joor_admin.reset_stats()
    dry = catalog_env(DAG_ID, conf={"dry_run": True})
    assert dry.ok, dry.task_states
    assert writes(sb) == {}
    assert dry.report["counts"]["product"]["would_create"] > 0
    assert dry.task_states.get("publish_catalog") == "skipped"

    off = catalog_env(DAG_ID, conf={"image_sync": "off"})
    assert off.ok, off.task_states
    info = sb.joor_admin.get("/joor/info")["counts"]
    assert info["product_assets"] == 0 and info["trait_assets"] == 0
    assert off.report["notes"]["image_sync"] == "off"


def test_rejected_record_is_reported_others_proceed(catalog_env, fresh_sandbox):
    sb = fresh_sandbox
    style = next(iter(expected_projection(sb)["flagged"].values()))
    # a name JOOR cannot take: every name source blank (the plan reports it with the reason)
    sb.amc_admin.edit_style(style["product_id"], joor_web_title="", web_title="", description="")
    run = catalog_env(DAG_ID)
    assert run.state == "failed" and run.only_records_failed, run.task_states
    failure = next(f for f in run.report["failures"] if f["key"] == style["style_number"])
    assert "no name" in failure["reason"]
    names = {p.get("external_id") for p in joor_catalog(sb)["products"]}
    assert style["style_number"] not in names
    assert len(names - {None}) == len(expected_projection(sb)["names"]) - 1
    json.dumps(run.report)  # the report is plain JSON


def test_missing_price_type_reports_the_group_others_proceed(catalog_env, fresh_sandbox):
    sb = fresh_sandbox
    cad = next(c for c in amc_rows(sb, "currencies") if c["name"] == "CAD")
    sb.amc_admin.edit("currencies", cad["id"], name="JPY")  # JOOR has no JPY price type
    run = catalog_env(DAG_ID)
    assert run.state == "failed" and run.only_records_failed, run.task_states
    failure = next(f for f in run.report["failures"] if f["entity"] == "price")
    assert failure["key"] == "Wholesale CAD (JPY)" and "no JOOR price type" in failure["reason"]
    info = sb.joor_admin.get("/joor/info")
    n_skus = len(expected_projection(sb)["skus"])
    assert info["counts"]["prices"] == n_skus * 3  # USD, EUR, GBP went through
    assert info["counts"]["products"] - 2 == len(expected_projection(sb)["names"])  # 2 hand-made styles


def test_colorway_unflagged_is_reported_new_style_is_created(catalog_env, fresh_sandbox):
    sb = fresh_sandbox
    assert catalog_env(DAG_ID).ok
    exp = expected_projection(sb)
    (pid, color), cw = next(iter(exp["colors"].items()))
    sb.amc_admin.edit("product_attributes", cw["id"], joor_sync="0")
    sb.amc_admin.add_style("ZZ900", [{"name": "Black", "code": "BLK"}, {"name": "Ecru", "code": "ECR"}], ["S", "m"],
                           joor_sync="1", season=exp["flagged"][pid]["season"], description="New Tee")
    sb.joor_admin.reset_stats()
    run = catalog_env(DAG_ID)
    assert run.ok, run.task_states
    w = writes(sb)
    assert w.get("POST /v4/products/bulk_create") == 1 and w.get("POST /v4/skus/bulk_create") == 1
    assert "POST /v4/skus/bulk_update" not in w  # nothing set INACTIVE, nothing touched
    assert run.report["counts"]["sku"]["unflagged_left_on_joor"] > 0
    skus = {s["external_id"]: s for s in joor_catalog(sb)["skus"] if s.get("external_id")}
    new = [s for s in skus.values() if s["product_id"] == next(
        p["id"] for p in joor_catalog(sb)["products"] if p.get("external_id") == "ZZ900")]
    assert sorted(tv["value"] for s in new for tv in s["trait_values"] if tv["trait_id"] == cm.SIZE_TRAIT_ID) == \
        ["S", "S", "m", "m"]  # sizes exactly as AMC spells them (case-sensitive)
