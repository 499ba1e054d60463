"""Invariants of the deterministic sandbox data sets (pure: no server needed)."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict

import pytest

from amc_joor_sandbox.datasets import (
    PRICE_GROUPS,
    QTY_FIELDS,
    RESOURCES,
    SIZE_RUNS,
    AmcData,
    build_amc,
    build_world,
    upc_check_digit,
    upc_is_valid,
)

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DECIMAL_RE = re.compile(r"^-?\d+\.\d{2}$")
INT_RE = re.compile(r"^-?\d+$")


@pytest.fixture(scope="module")
def small() -> AmcData:
    return build_amc("small", 1)


@pytest.fixture(scope="module")
def large_timed() -> tuple[AmcData, float]:
    started = time.perf_counter()
    world = build_world("large", 1)
    elapsed = time.perf_counter() - started
    print(f"\nlarge build_world: {elapsed:.2f}s, {len(world.amc.inventory)} SKUs, joor seed keys={sorted(world.joor)}")
    return world.amc, elapsed


def _scalars_are_strings(rows: list[dict]) -> None:
    for row in rows:
        for key, value in row.items():
            if isinstance(value, list):
                for item in value:
                    assert all(isinstance(v, str) for v in item.values()), (key, item)
            else:
                assert isinstance(value, str), (key, value)


def test_upc_check_digit_known_values() -> None:
    # 036000291452 is the textbook UPC-A example
    assert upc_check_digit("03600029145") == "2"
    assert upc_is_valid("036000291452")
    assert not upc_is_valid("036000291453")
    assert not upc_is_valid("03600029145")


def test_small_builds_fast_and_has_the_promised_shape(small: AmcData) -> None:
    started = time.perf_counter()
    build_world("small", 1)
    assert time.perf_counter() - started < 1.0
    assert 25 <= len(small.products) <= 35
    assert 150 <= len(small.inventory) <= 600
    assert 10 <= len(small.customers) <= 15
    assert len({p["season"] for p in small.products}) == 3
    assert sorted(c["name"] for c in small.currencies) == ["CAD", "EUR", "GBP", "USD"]
    assert [c for c in small.currencies if c["is_default"] == "1"] == [
        {"id": "1", "name": "USD", "is_default": "1", "rate": "1", "last_updated": small.currencies[0]["last_updated"]}
    ]
    assert len(small.warehouses) == 2
    assert small.divisions and small.terms and small.ship_methods and small.locations


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_keys_are_exactly_the_amc_field_names(small: AmcData, resource: str) -> None:
    fields, _ = RESOURCES[resource]
    for row in small.resource(resource):
        assert tuple(row) == fields


def test_values_are_string_typed_like_amc(small: AmcData) -> None:
    for name in RESOURCES:
        _scalars_are_strings(small.resource(name))
    for p in small.products:
        assert p["joor_sync"] in ("0", "1") and p["is_product"] == "1"
        assert DECIMAL_RE.match(p["price"]) and DECIMAL_RE.match(p["retail_price"])
        assert TS_RE.match(p["last_modified_time"])
    for s in small.inventory:
        assert s["active"] in ("0", "1") and s["joor_sync"] in ("0", "1")
        assert all(INT_RE.match(s[f]) for f in QTY_FIELDS)
        assert TS_RE.match(s["last_modified_time"])
    for c in small.customers:
        assert TS_RE.match(c["last_modified_time"])


def test_upcs_valid_and_unique(small: AmcData) -> None:
    upcs = [s["upc_display"] for s in small.inventory]
    assert all(upc_is_valid(u) for u in upcs)
    assert len(set(upcs)) == len(upcs)


def test_every_sku_belongs_to_its_style_colorway_and_size_run(small: AmcData) -> None:
    products = {p["product_id"]: p for p in small.products}
    colors = defaultdict(set)
    for cw in small.product_attributes:
        assert cw["product_id"] in products
        colors[cw["product_id"]].add(cw["attribute_2"])
        assert cw["color_code"] and cw["color_code"].isupper()
    sizes_by_style = defaultdict(list)
    for sku in small.inventory:
        product = products[sku["product_id"]]
        assert sku["style_number"] == product["style_number"]
        assert sku["attr_2"] in colors[sku["product_id"]]
        sizes_by_style[(sku["product_id"], sku["attr_2"])].append((int(sku["size_position"]), sku["size"]))
    runs = set(SIZE_RUNS.values())
    for (pid, _color), sized in sizes_by_style.items():
        run = tuple(size for _, size in sorted(sized))
        assert run in runs, (pid, run)
    # every colorway has SKUs, and every style's colorways share one size run
    assert {(c["product_id"], c["attribute_2"]) for c in small.product_attributes} == set(sizes_by_style)
    per_style = defaultdict(set)
    for (pid, _color), sized in sizes_by_style.items():
        per_style[pid].add(tuple(sorted(sized)))
    assert all(len(v) == 1 for v in per_style.values())


def test_stock_rows_per_sku_per_warehouse_and_totals(small: AmcData) -> None:
    warehouses = {w["id"] for w in small.warehouses}
    by_sku = defaultdict(list)
    for row in small.sku_warehouse:
        by_sku[row["sku_id"]].append(row)
    for sku in small.inventory:
        rows = by_sku[sku["sku_id"]]
        assert {r["warehouse_id"] for r in rows} == warehouses
        for f in QTY_FIELDS:
            assert int(sku[f]) == sum(int(r[f]) for r in rows)


def test_price_group_for_every_style_and_currency_references(small: AmcData) -> None:
    currency_ids = {c["id"] for c in small.currencies}
    groups = {g for g, *_ in PRICE_GROUPS}
    for p in small.products:
        assert {g["price_group"] for g in p["price_groups"]} == groups
        for g in p["price_groups"]:
            assert g["currency_id"] in currency_ids
            assert DECIMAL_RE.match(g["price"]) and float(g["price"]) > 0
        usd = next(g for g in p["price_groups"] if g["currency_id"] == "1")
        assert usd["price"] == p["price"]
    for c in small.customers:
        assert c["price_group"] in groups


def test_images_point_at_the_sandbox_image_route(small: AmcData) -> None:
    with_images = [p for p in small.products if p["images"]]
    assert with_images
    for p in with_images:
        assert all(i["img"].startswith("/images/") and i["img"].endswith(".png") for i in p["images"])
        colorway_imgs = [i for i in p["images"] if "colorway" in i]
        assert any(i["is_swatch"] == "1" for i in colorway_imgs)
    for cw in small.product_attributes:
        for i in cw["images"]:
            assert i["is_swatch"] in ("0", "1")


def test_small_customers_carry_the_deliberate_flaws(small: AmcData) -> None:
    customers = small.customers
    codes = [c["joor_customer_code"] for c in customers]
    assert all(re.match(r"^C-\d{4}$", c) for c in codes if c)
    assert codes.count("") == 1
    missing = {f for c in customers for f in ("division_id", "warehouse_id", "ar_acct", "currency_id") if not c[f]}
    assert {"division_id", "currency_id", "warehouse_id"} <= missing
    ids = {c["customer_id"] for c in customers}
    assert {loc["customer_id"] for loc in small.locations} == ids


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = build_world("small", 7), build_world("small", 7), build_world("small", 8)
    assert a.amc.to_dict() == b.amc.to_dict()
    assert a.joor == b.joor
    assert a.amc.products != c.amc.products


def test_mixed_flags_and_missing_titles_exist(small: AmcData) -> None:
    assert Counter(p["joor_sync"] for p in small.products)["1"] > len(small.products) // 2
    assert any(p["web_title"] == "" and p["joor_web_title"] == "" for p in small.products) or any(
        p["web_title"] == "" for p in build_amc("small", 2).products
    )


def test_unknown_dataset_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dataset"):
        build_amc("medium", 1)


@pytest.mark.slow
def test_large_build_time_and_shape(large_timed: tuple[AmcData, float]) -> None:
    amc, elapsed = large_timed
    assert elapsed < 20.0
    assert 4500 <= len(amc.products) <= 5500
    assert 140_000 <= len(amc.inventory) <= 160_000
    assert len(amc.sku_warehouse) == 2 * len(amc.inventory)
    assert len({p["season"] for p in amc.products}) >= 3
    assert 1900 <= len(amc.customers) <= 2100
    upcs = [s["upc_display"] for s in amc.inventory]
    assert len(set(upcs)) == len(upcs) and all(upc_is_valid(u) for u in upcs[::97])
    codes = [c["joor_customer_code"] for c in amc.customers]
    assert codes.count("") >= 5
    dupes = [code for code, n in Counter(c for c in codes if c).items() if n > 1]
    assert dupes
    assert any(not c["division_id"] or not c["warehouse_id"] or not c["currency_id"] or not c["ar_acct"]
               for c in amc.customers)
    assert any(p["joor_sync"] == "0" for p in amc.products)
    assert any(cw["joor_sync"] == "0" for cw in amc.product_attributes)
    assert any(p["web_title"] == "" and p["joor_web_title"] == "" for p in amc.products)
    assert any(int(r["qty_inventory"]) < 0 for r in amc.sku_warehouse)
    assert {s["size"] for s in amc.inventory} >= {"XS", "XL", "0", "14", "28", "38", "ONE SIZE"}
