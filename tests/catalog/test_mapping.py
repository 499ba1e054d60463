"""Pure catalog mapping, hashing and delta planning (no servers; the sandbox's data builder only)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest

from amc_joor.flows import catalog_mapping as cm
from amc_joor_sandbox.datasets import build_world

# ----------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("msrp", "rate", "base", "expected"),
    [
        ("100", "1", "1", "100.00"),
        ("100", "0.92", "1", "92.00"),
        ("1.005", "1", "1", "1.01"),  # float would say 1.00
        ("2.675", "1", "1", "2.68"),  # float 2.675 is 2.67499...
        ("10", "0.1005", "1", "1.01"),  # exactly half a cent after conversion -> up
        ("10", "0.1004999", "1", "1.00"),
        ("0.01", "0.5", "1", "0.01"),  # 0.005 -> up
        ("0.01", "0.4999", "1", "0.00"),
        ("199.99", "15000.123456", "1", "2999874.69"),  # large rate (IDR-like): 2999874.68996544
        ("1234567.89", "1000000", "1", "1234567890000.00"),
        ("100", "1.37", "1.37", "100.00"),  # a default currency whose own rate is not 1
        ("100", "0.92", "1.25", "73.60"),
        ("99.995", "1", "1", "100.00"),
    ],
)
def test_convert_msrp_rounds_half_up_to_cents(msrp, rate, base, expected):
    assert cm.convert_msrp(msrp, rate, base) == expected


def test_convert_msrp_rounds_once_not_twice():
    # 1/3 rate path: multiply then divide at 28 digits, one rounding at the end
    assert cm.convert_msrp("10", "1", "3") == "3.33"
    assert cm.convert_msrp("0.015", "1", "1") == "0.02"


@pytest.mark.parametrize("bad", ["", None, "abc", "NaN", "inf"])
def test_convert_msrp_rejects_non_numbers(bad):
    with pytest.raises(ValueError):
        cm.convert_msrp(bad, "1")


def test_convert_msrp_rejects_zero_rate():
    with pytest.raises(ValueError, match="positive"):
        cm.convert_msrp("10", "0")


def test_money_is_decimal_string():
    assert cm.money(Decimal("5")) == "5.00"
    assert cm.money(Decimal("5.125")) == "5.13"
    assert cm.money(Decimal("-5.125")) == "-5.13"


# ----------------------------------------------------------------------------- records


def _product(**kw):
    base = {"product_id": "1", "style_number": "TP1", "description": "Style Name", "web_title": "Web",
            "joor_web_title": "Joor Web", "web_description": "web desc", "joor_web_description": "",
            "origin": "Peru", "content": "100% Cotton"}
    base.update(kw)
    return base


def test_product_name_order_joor_web_title_then_web_title_then_style_name():
    assert cm.map_product(_product())["name"] == "Joor Web"
    assert cm.map_product(_product(joor_web_title=" "))["name"] == "Web"
    assert cm.map_product(_product(joor_web_title="", web_title=""))["name"] == "Style Name"


def test_product_description_order_and_fields():
    body = cm.map_product(_product())
    assert body["description"] == "web desc"
    assert cm.map_product(_product(joor_web_description="JD"))["description"] == "JD"
    assert cm.map_product(_product(web_description=""))["description"] == "Style Name"
    assert body["external_id"] == body["product_identifier"] == "TP1"
    assert body["country_of_origin"] == "Peru"
    assert body["fabrication"] == "100% Cotton"


def test_product_without_any_name_fails_with_reason():
    row = _product(joor_web_title="", web_title="", description="")
    assert "no name" in cm.product_failure(row)


def test_sku_traits_keep_size_case_and_upc():
    body = cm.map_sku({"sku_id": "9", "attr_2": "Navy", "size": "xS", "upc_display": "012345678905",
                       "color_code": "NVY"})
    assert body["external_id"] == "9"
    assert body["trait_values"] == [
        {"trait_id": cm.COLOR_TRAIT_ID, "value": "Navy", "external_id": "NVY"},
        {"trait_id": cm.SIZE_TRAIT_ID, "value": "xS", "external_id": "xS"},
    ]
    assert body["identifiers"] == [{"type": "upc", "value": "012345678905"}]


def test_season_external_id():
    assert cm.season_external_id("Spring 2026") == "amc-season-spring-2026"
    assert cm.season_external_id("Resort '27 / Cruise") == "amc-season-resort-27-cruise"


def test_price_type_by_currency_name_breaks_ties():
    types = [{"id": "2", "name": "EUR-2", "currency_code": "EUR"}, {"id": "1", "name": "EUR-1", "currency_code": "EUR"},
             {"id": "3", "name": "Wholesale EUR", "currency_code": "EUR"}]
    assert cm.price_type_for(types, "EUR", "Wholesale EUR")["id"] == "3"
    assert cm.price_type_for(types, "EUR", "Other")["id"] == "1"
    assert cm.price_type_for(types, "JPY", "x") is None


def test_image_set_first_colour_image_and_swatch():
    product_images = [{"img": "/images/a.png"}, {"img": "/images/b.png"},
                      {"img": "/images/red2.png", "colorway": "Red", "is_swatch": "0"}]
    cws = [{"attribute_2": "Red", "images": [{"img": "/images/red1.png", "is_swatch": "0"},
                                             {"img": "/images/red9.png", "is_swatch": "0"},
                                             {"img": "/images/red-s.png", "is_swatch": "1"}]},
           {"attribute_2": "Blue", "images": json.dumps([])}]
    s = cm.image_set(product_images, cws, "http://h:1")
    assert s["style"] == ["http://h:1/images/a.png", "http://h:1/images/b.png"]
    assert s["colors"] == [{"color": "Red", "image": "http://h:1/images/red1.png",
                            "swatch": "http://h:1/images/red-s.png"}]


# ----------------------------------------------------------------------------- hashing


def test_content_hash_is_key_order_independent_and_pinned():
    a = cm.content_hash({"b": 1, "a": ["x", "é"]})
    assert a == cm.content_hash({"a": ["x", "é"], "b": 1})
    # pinned: a change here means every record would be re-sent after an upgrade
    assert a == "daf2123df77f8e672b8bc7e1f6a591ca4ce1f0a7afa5ff0cc61ab49416e44206"


def test_content_hash_same_in_another_process():
    code = "from amc_joor.flows.catalog_mapping import content_hash; print(content_hash({'b': 1, 'a': ['x', 'é']}))"
    out = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout.strip() for seed in ("1", "2")}
    assert out == {cm.content_hash({"b": 1, "a": ["x", "é"]})}


# ----------------------------------------------------------------------------- the plan


@pytest.fixture(scope="module")
def world():
    return build_world("small", 1).amc


def frames(amc):
    def df(rows, nested=()):
        out = pd.DataFrame(rows)
        for col in nested:
            out[col] = [json.dumps(v) for v in out[col]]
        return out

    return (df(amc.products, ("images", "price_groups")), df(amc.product_attributes, ("images",)),
            df(amc.inventory), amc.currencies)


PRICE_TYPES = [{"id": f"pt-{c}", "name": f"{c}-1", "currency_code": c} for c in ("USD", "EUR", "GBP", "CAD")]


def run_plan(amc, state=None, **opts):
    p, c, s, cur = frames(amc)
    return cm.plan_catalog(p, c, s, cur, state or {}, cm.PlanOptions(**opts), PRICE_TYPES)


def acked_state(plan):
    """What state would hold after JOOR acknowledged every planned item."""
    out = {}
    for entity, frame in plan.items.items():
        out[entity] = pd.DataFrame({"key": frame["key"], "content_hash": frame["hash"],
                                    "joor_id": ["j-" + k for k in frame["key"]], "detail": frame["detail"]})
    out[cm.COLLECTION] = pd.DataFrame({"key": [c["external_id"] for c in plan.collections],
                                       "content_hash": [c["hash"] for c in plan.collections],
                                       "joor_id": ["c-" + c["external_id"] for c in plan.collections]})
    return out


def test_selection_follows_sync_flags(world):
    plan = run_plan(world)
    flagged = [p for p in world.products if p["joor_sync"] == "1"]
    assert set(plan.items[cm.PRODUCT]["key"]) == {p["style_number"] for p in flagged}
    synced_cw = {(c["product_id"], c["attribute_2"]) for c in world.product_attributes if c["joor_sync"] == "1"}
    flagged_ids = {p["product_id"] for p in flagged}
    expected_skus = {s["sku_id"] for s in world.inventory
                     if s["product_id"] in flagged_ids and (s["product_id"], s["attr_2"]) in synced_cw}
    assert set(plan.items[cm.SKU]["key"]) == expected_skus
    assert set(plan.items[cm.SKU]["action"]) == {"create"}
    # one price per SKU per price group
    assert len(plan.items[cm.PRICE]) == len(expected_skus) * 4
    assert not plan.failures


def test_prices_convert_msrp_per_group_currency(world):
    plan = run_plan(world)
    prod = next(p for p in world.products if p["joor_sync"] == "1")
    sku = next(s for s in world.inventory if s["product_id"] == prod["product_id"]
               and s["sku_id"] in set(plan.items[cm.SKU]["key"]))
    prices = plan.items[cm.PRICE].set_index("key")
    eur = json.loads(prices.loc[f"{sku['sku_id']}/Wholesale EUR", "body"])
    assert eur["retail_value"] == cm.money(Decimal(prod["retail_price"]) * Decimal("0.92"))
    group = next(g for g in prod["price_groups"] if g["price_group"] == "Wholesale EUR")
    assert eur["wholesale_value"] == cm.money(Decimal(group["price"]))
    assert json.loads(prices.loc[f"{sku['sku_id']}/Wholesale EUR", "detail"])["rate"] == "0.92"
    assert plan.notes["fx_rates"]["EUR"] == "0.92"


def test_second_plan_after_ack_is_empty(world):
    first = run_plan(world)
    second = run_plan(world, acked_state(first))
    assert all(len(f) == 0 for f in second.items.values())
    assert all(c["action"] == "unchanged" for c in second.collections)
    assert second.unchanged[cm.SKU] == len(first.items[cm.SKU])


def test_fx_change_alone_does_not_reprice_unless_full_resync(world):
    state = acked_state(run_plan(world))
    amc = world.copy()
    for c in amc.currencies:
        if c["name"] == "EUR":
            c["rate"] = "0.95"
    assert len(run_plan(amc, state).items[cm.PRICE]) == 0
    full = run_plan(amc, state, full_resync=True)
    eur = full.items[cm.PRICE][full.items[cm.PRICE]["key"].str.endswith("/Wholesale EUR")]
    assert len(eur) > 0 and set(full.items[cm.PRICE]["action"]) == {"update"}
    assert json.loads(eur.iloc[0]["detail"])["rate"] == "0.95"


def test_style_edit_touches_only_that_style(world):
    state = acked_state(run_plan(world))
    amc = world.copy()
    prod = next(p for p in amc.products if p["joor_sync"] == "1")
    prod["joor_web_title"] = "Renamed"
    plan = run_plan(amc, state)
    assert list(plan.items[cm.PRODUCT]["key"]) == [prod["style_number"]]
    assert plan.items[cm.PRODUCT].iloc[0]["action"] == "update"
    assert len(plan.items[cm.SKU]) == len(plan.items[cm.PRICE]) == 0


def test_msrp_change_reprices_only_that_style(world):
    state = acked_state(run_plan(world))
    amc = world.copy()
    prod = next(p for p in amc.products if p["joor_sync"] == "1")
    prod["retail_price"] = "999.00"
    plan = run_plan(amc, state)
    parents = set(plan.items[cm.PRICE]["parent"])
    skus = {s["sku_id"] for s in amc.inventory if s["product_id"] == prod["product_id"]}
    assert parents and parents <= skus


def test_season_move_updates_both_linesheets(world):
    state = acked_state(run_plan(world))
    amc = world.copy()
    prod = next(p for p in amc.products if p["joor_sync"] == "1")
    old = prod["season"]
    new = next(s for s in {p["season"] for p in amc.products} if s != old)
    prod["season"] = new
    plan = run_plan(amc, state)
    changed = {c["external_id"]: c for c in plan.collections if c["action"] != "unchanged"}
    assert set(changed) == {cm.season_external_id(old), cm.season_external_id(new)}
    assert prod["style_number"] in changed[cm.season_external_id(new)]["styles"]
    assert prod["style_number"] not in changed[cm.season_external_id(old)]["styles"]


def test_unflagged_style_is_reported_not_dropped(world):
    state = acked_state(run_plan(world))
    amc = world.copy()
    prod = next(p for p in amc.products if p["joor_sync"] == "1")
    prod["joor_sync"] = "0"
    plan = run_plan(amc, state)
    assert plan.leftovers["styles_unflagged"] == [prod["style_number"]]
    # it stays in its linesheet: nothing changes on JOOR
    assert all(c["action"] == "unchanged" for c in plan.collections)
    assert all(len(f) == 0 for f in plan.items.values())


def test_missing_price_type_reports_group_others_proceed(world):
    p, c, s, cur = frames(world)
    plan = cm.plan_catalog(p, c, s, cur, {}, cm.PlanOptions(), [t for t in PRICE_TYPES if t["currency_code"] != "CAD"])
    assert [f.key for f in plan.failures] == ["Wholesale CAD (CAD)"]
    groups = {k.split("/", 1)[1] for k in plan.items[cm.PRICE]["key"]}
    assert groups == {"Wholesale USD", "Wholesale EUR", "Wholesale GBP"}


def test_style_filter_and_unknown_style(world):
    flagged = [p["style_number"] for p in world.products if p["joor_sync"] == "1"][:2]
    plan = run_plan(world, style_numbers=(*flagged, "NOPE1"))
    assert set(plan.items[cm.PRODUCT]["key"]) == set(flagged)
    assert [f.key for f in plan.failures] == ["NOPE1"]
    # linesheets still cover every flagged style: a filtered run never shrinks them
    assert sum(len(c["styles"]) for c in plan.collections) == sum(p["joor_sync"] == "1" for p in world.products)


def test_image_sync_off_plans_no_assets(world):
    plan = run_plan(world, image_sync=False)
    assert len(plan.items[cm.ASSET]) == len(plan.items[cm.COLOR_ASSET]) == 0
    on = run_plan(world)
    assert len(on.items[cm.ASSET]) > 0 and len(on.items[cm.COLOR_ASSET]) > 0


def test_batches_respect_bulk_max_and_minimum(world):
    plan = run_plan(world)
    batches = cm.batch_rows(plan.items[cm.PRICE], 500)
    assert all(len(b) <= 500 for _, b in batches)
    assert len(batches) == -(-len(plan.items[cm.PRICE]) // 500)
    packs = cm.batch_assets(cm.COLOR_ASSET, plan.items[cm.COLOR_ASSET], 7)
    for _, frame in packs:
        assert sum(cm.asset_weight(cm.COLOR_ASSET, json.loads(b)) for b in frame["body"]) <= 7
    assert cm.minimum_credits({"a": 1001, "b": 0}, 500, gets=2) == 17


def test_unflagged_colorway_skus_are_reported_as_unflagged_not_deleted(world):
    state = acked_state(run_plan(world))
    amc = world.copy()
    cw = next(c for c in amc.product_attributes if c["joor_sync"] == "1"
              and any(p["product_id"] == c["product_id"] and p["joor_sync"] == "1" for p in amc.products))
    cw["joor_sync"] = "0"
    for s in amc.inventory:
        if s["product_id"] == cw["product_id"] and s["attr_2"] == cw["attribute_2"]:
            s["joor_sync"] = "0"
    plan = run_plan(amc, state)
    assert plan.leftovers["skus_unflagged"]
    assert "skus_deleted_in_amc" not in plan.leftovers
    assert all(len(f) == 0 for f in plan.items.values())  # nothing sent: never set INACTIVE
