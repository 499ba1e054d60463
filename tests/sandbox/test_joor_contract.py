"""The JOOR sandbox over real HTTP: every [D] behaviour of shared/reference/joor-api.md, and the admin API.

Each test starts from the pristine ``small`` data set (``fresh_sandbox`` resets both servers).
Rate limiting stays ON; tests that make many calls raise the credit budget first, the rate
tests run on the documented defaults or a scaled 3-second window.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest

from amc_joor_sandbox.connections import JOOR_ACCOUNT_ID
from sandbox.joor_client import COLOR, SIZE, V2_HEADERS, Joor, auth_form


@pytest.fixture
def joor_strict(fresh_sandbox) -> Joor:
    """Documented defaults: 300 credits per 300 s window."""
    client = Joor(fresh_sandbox)
    yield client
    client.close()


@pytest.fixture
def joor(fresh_sandbox) -> Joor:
    """Same, with a credit budget large enough for a long test (the limit itself is tested apart)."""
    fresh_sandbox.joor_admin.config(credits_per_window=1_000_000)
    client = Joor(fresh_sandbox)
    yield client
    client.close()


def admin_orders(joor: Joor, **params: Any) -> list[dict[str, Any]]:
    return joor.admin.get("/joor/orders", **params)["orders"]


# --------------------------------------------------------------------------- auth


def test_v4_token_from_auth_multipart_form(joor: Joor) -> None:
    resp = joor.http.post("/auth/", files=auth_form())
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 36000 and body["refresh_expires_in"] == 7776000
    assert body["access_token"] and body["refresh_token"]


@pytest.mark.parametrize("override", [{"client_secret": "nope"}, {"password": "nope"}, {"username": "x@y"}])
def test_auth_refuses_bad_credentials_without_echoing_them(joor: Joor, override: dict[str, str]) -> None:
    resp = joor.http.post("/auth/", files=auth_form(**override))
    assert resp.status_code == 401
    assert "nope" not in resp.text and "joor-sandbox-secret" not in resp.text


def test_auth_refuses_unknown_grant(joor: Joor) -> None:
    assert joor.http.post("/auth/", files=auth_form(grant_type="client_credentials")).status_code == 400


def test_several_tokens_are_active_at_once_and_refresh_works(joor: Joor) -> None:
    first = joor.http.post("/auth/", files=auth_form()).json()
    second = joor.http.post("/auth/", files=auth_form()).json()
    assert first["access_token"] != second["access_token"]
    for tok in (first["access_token"], second["access_token"]):
        resp = joor.http.get("/v4/traits", params={"account": JOOR_ACCOUNT_ID}, headers={"Authorization": f"Bearer {tok}"})
        assert resp.status_code == 200
    refreshed = joor.http.post("/auth/", files=auth_form(grant_type="refresh_token",
                                                          refresh_token=first["refresh_token"]))
    assert refreshed.status_code == 200 and refreshed.json()["access_token"]


def test_v4_needs_bearer_and_account(joor: Joor) -> None:
    tok = joor.token()
    base = {"account": JOOR_ACCOUNT_ID}
    assert joor.http.get("/v4/traits", params=base).status_code == 401
    assert joor.http.get("/v4/traits", params=base, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert joor.http.get("/v4/traits", params=base, headers={"Authorization": f"Token {tok}"}).status_code == 401
    missing = joor.http.get("/v4/traits", headers={"Authorization": f"Bearer {tok}"})
    assert missing.status_code == 400 and "account" in missing.json()["errors"][0]["message"]
    assert joor.http.get("/v4/traits", params={"account": "999"}, headers={"Authorization": f"Bearer {tok}"}).status_code == 403
    bad = joor.http.get("/v4/traits", params=base)
    assert bad.json()["data"] == [] and bad.json()["errors"][0]["status"] == "unauthorized"


def test_token_expires_by_the_sandbox_clock(joor: Joor, fresh_sandbox) -> None:
    fresh_sandbox.joor_admin.config(token_expires_in=60)
    tok = joor.token(fresh=True)
    hdr = {"Authorization": f"Bearer {tok}"}
    assert joor.http.get("/v4/traits", params={"account": JOOR_ACCOUNT_ID}, headers=hdr).status_code == 200
    fresh_sandbox.joor_admin.advance_clock(61)
    expired = joor.http.get("/v4/traits", params={"account": JOOR_ACCOUNT_ID}, headers=hdr)
    assert expired.status_code == 401 and "expired" in expired.json()["errors"][0]["message"]
    joor.token(fresh=True)  # a new token works again
    assert joor.get("/v4/traits").status_code == 200


def test_v2_auth_is_oauth2_base64_token(joor: Joor) -> None:
    good = joor.v2_get("/v2/connection")
    assert good.status_code == 200
    raw = {"Authorization": "OAuth2 joor-sandbox-token", "Accept": "application/json"}
    assert joor.http.get("/v2/connection", headers=raw).status_code == 401
    wrong = {"Authorization": "OAuth2 " + base64.b64encode(b"other").decode(), "Accept": "application/json"}
    resp = joor.http.get("/v2/connection", headers=wrong)
    assert resp.status_code == 401 and resp.json()["response"]["code"] != 0
    assert joor.http.get("/v2/connection", headers={"Accept": "application/json"}).status_code == 401


def test_v2_requires_accept_and_content_type(joor: Joor) -> None:
    no_accept = {"Authorization": V2_HEADERS["Authorization"]}
    assert joor.http.get("/v2/connection", headers=no_accept).status_code == 406
    xml = {**no_accept, "Accept": "application/xml"}
    assert joor.http.get("/v2/connection", headers=xml).status_code == 406
    body = b'{"inventory_items": {"inventory_item": []}}'
    resp = joor.http.post("/v2/bulk-inventory", content=body, headers=V2_HEADERS)  # no Content-Type
    assert resp.status_code == 415 and "MIME" in resp.json()["response"]["comment"]
    ok = joor.http.post("/v2/bulk-inventory", content=body, headers={**V2_HEADERS, "Content-Type": "application/json"})
    assert ok.status_code == 200


# --------------------------------------------------------------------------- envelopes, paging


def test_v2_envelope_and_start_from_paging(joor: Joor) -> None:
    total = len(joor.admin.get("/joor/connections")["connections"])
    seen: list[str] = []
    start: int | None = 0
    for _ in range(20):
        body = joor.v2_get("/v2/connection", start_from=start, count=3).json()
        resp = body["response"]
        assert resp["code"] == 0 and resp["start_from"] == start and isinstance(resp["log_id"], int)
        rows = body["connections"]["connection"]
        assert resp["count"] == len(rows) <= 3
        seen += [c["customer_code"] for c in rows]
        start = resp["next_start"]
        if start is None:
            break
    assert len(seen) == total == len(set(seen))


def test_v4_paging_meta_and_max_page_size(joor: Joor) -> None:
    body = joor.ok(joor.get("/v4/orders", page=1, page_size=5))
    assert body["meta"] == {"page": 1, "page_size": 5, "total": len(admin_orders(joor, lines="0"))}
    ids = []
    for page in range(1, 10):
        chunk = joor.ok(joor.get("/v4/orders", page=page, page_size=5))["data"]
        ids += [o["id"] for o in chunk]
        if len(chunk) < 5:
            break
    assert len(ids) == body["meta"]["total"] == len(set(ids))
    assert joor.get("/v4/orders", page_size=201).status_code == 400
    assert joor.get("/v4/orders", page_size=200).status_code == 200
    assert joor.get("/v4/orders", page=0).status_code == 400


# --------------------------------------------------------------------------- rate limit


def test_rate_headers_on_every_response_and_credit_costs(joor_strict: Joor) -> None:
    j = joor_strict
    first = j.get("/v4/traits")
    h = first.headers
    assert h["X-RateLimit-Limit"] == "300" and h["X-Throttling-Account-Id"] == JOOR_ACCOUNT_ID
    assert h["X-RateLimit-Remaining"] == "299" and 295 <= int(h["X-RateLimit-Reset"]) <= 300
    post = j.post("/v4/products/bulk_create", [{"name": "x", "external_id": "rate-1"}])
    assert post.headers["X-RateLimit-Remaining"] == "294"  # POST costs 5
    v2 = j.v2_get("/v2/connection")
    assert v2.headers["X-RateLimit-Remaining"] == "293"
    unauth = j.http.get("/v4/traits", params={"account": JOOR_ACCOUNT_ID})
    assert unauth.status_code == 401 and "X-RateLimit-Remaining" in unauth.headers
    stats = j.admin.stats()
    assert stats["credits_spent"] == 8 and stats["max_credits_in_window"] == 8 and stats["responses_429"] == 0


def test_429_storm_on_a_scaled_window(joor_strict: Joor) -> None:
    j = joor_strict
    j.admin.config(credits_per_window=20, window_seconds=3)
    j.token()
    statuses = []
    first_429 = None
    for _ in range(30):
        r = j.get("/v4/traits")
        statuses.append(r.status_code)
        if r.status_code == 429 and first_429 is None:
            first_429 = r
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}
    assert first_429 is not None
    assert 1 <= int(first_429.headers["Retry-After"]) <= 3
    assert first_429.headers["X-RateLimit-Remaining"] == "0"
    assert first_429.json()["errors"][0]["status"] == "TOO_MANY_REQUESTS"
    # a write needs 5 credits: refused too, nothing created
    refused = j.post("/v4/products/bulk_create", [{"name": "x", "external_id": "storm-1"}])
    assert refused.status_code == 429
    time.sleep(int(first_429.headers["Retry-After"]) + 0.2)
    assert j.get("/v4/traits").status_code == 200
    stats = j.admin.stats()
    assert stats["responses_429"] == 11 and stats["max_credits_in_window"] == 20
    assert j.admin.get("/joor/info")["counts"]["products"] == 2  # only the two hand-made ones


def test_window_is_fixed_from_the_first_request_and_follows_the_clock(joor_strict: Joor) -> None:
    j = joor_strict
    j.admin.config(credits_per_window=10, window_seconds=300)
    j.token()
    assert [j.get("/v4/traits").status_code for _ in range(11)] == [200] * 10 + [429]
    j.admin.advance_clock(150)
    limited = j.get("/v4/traits")
    assert limited.status_code == 429 and 145 <= int(limited.headers["Retry-After"]) <= 150
    j.admin.advance_clock(151)
    fresh = j.get("/v4/traits")
    assert fresh.status_code == 200 and fresh.headers["X-RateLimit-Remaining"] == "9"


def test_v2_429_uses_the_v2_envelope_and_limits_can_be_turned_off(joor_strict: Joor) -> None:
    j = joor_strict
    j.admin.config(credits_per_window=2, window_seconds=60)
    assert j.v2_get("/v2/connection").status_code == 200
    assert j.v2_get("/v2/connection").status_code == 200
    r = j.v2_get("/v2/connection")
    assert r.status_code == 429 and r.json()["response"]["code"] == 429 and "Retry-After" in r.headers
    j.admin.config(rate_limit_enabled=False)
    off = [j.v2_get("/v2/connection") for _ in range(5)]
    assert all(r.status_code == 200 for r in off)
    # no limit enforced, none advertised: a client budget must not pace itself to a fiction
    assert not any(h in off[-1].headers for h in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"))


# --------------------------------------------------------------------------- bulk limits


def test_bulk_over_500_v4_items_is_413(joor: Joor) -> None:
    items = [{"name": f"p{i}", "external_id": f"big-{i}"} for i in range(501)]
    resp = joor.post("/v4/products/bulk_create", items)
    assert resp.status_code == 413
    assert "500" in resp.json()["errors"][0]["message"]
    assert joor.post("/v4/products/bulk_create", items[:500]).status_code == 200


def test_bulk_over_1000_v2_items_is_413_and_limits_are_configurable(joor: Joor) -> None:
    items = [{"upc": "000000000000", "inventory": 1}] * 1001
    resp = joor.v2_send("POST", "/v2/bulk-inventory", {"inventory_items": {"inventory_item": items}})
    assert resp.status_code == 413 and "1000" in resp.json()["response"]["comment"]
    conns = [{"customer_code": f"N-{i}", "customer_name": "n"} for i in range(1001)]
    assert joor.v2_send("POST", "/v2/bulk-connection", {"connections": {"connection": conns}}).status_code == 413
    joor.admin.config(max_v4_bulk_items=2)
    assert joor.post("/v4/seasons", [{"name": "a"}, {"name": "b"}, {"name": "c"}]).status_code == 413


# --------------------------------------------------------------------------- catalog


def test_lookups_traits_price_types_categories(joor: Joor) -> None:
    traits = {t["name"]: t["id"] for t in joor.ok(joor.get("/v4/traits"))["data"]}
    assert traits == {"Color": COLOR, "Size": SIZE}
    pts = joor.ok(joor.get("/v4/price_types"))["data"]
    assert {p["name"]: p["currency_code"] for p in pts} == {"USD-1": "USD", "EUR-1": "EUR", "GBP-1": "GBP",
                                                             "CAD-1": "CAD"}
    assert all(p["retail_currency_code"] == p["currency_code"] and isinstance(p["id"], str) for p in pts)
    assert {c["name"] for c in joor.ok(joor.get("/v4/categories"))["data"]} >= {"Tops", "Denim"}


def test_products_create_duplicate_lookup_update(joor: Joor) -> None:
    data, errors = joor.bulk("/v4/products/bulk_create", [
        {"name": "Linen Shirt", "external_id": "1001", "product_identifier": "TP10000", "tags": ["ss26"]},
        {"name": "Denim", "external_id": "1002"},
        {"external_id": "1003"},  # no name
        {"name": "Again", "external_id": "1001"},
    ])
    assert [d["external_id"] for d in data] == ["1001", "1002"]
    assert all(isinstance(d["id"], str) for d in data)
    assert [(e["status"], e["details"]["index"]) for e in errors] == [("INVALID", 2), ("DUPLICATED", 3)]
    again, errors = joor.bulk("/v4/products/bulk_create", [{"name": "Linen Shirt", "external_id": "1001"}])
    assert again == [] and errors[0]["status"] == "DUPLICATED" and errors[0]["details"]["id"] == data[0]["id"]
    found = joor.ok(joor.get("/v4/products", external_ids="1001,1002,nope"))["data"]
    assert [p["external_id"] for p in found] == ["1001", "1002"]
    assert found[0]["product_identifier"] == "TP10000" and found[0]["tags"] == ["ss26"]
    upd, errors = joor.bulk("/v4/products/bulk_update", [
        {"id": data[0]["id"], "name": "Linen Shirt II"}, {"id": "UHJvZHVjdDo5OTk5", "name": "x"}])
    assert errors[0]["status"] == "NOT_FOUND" and upd[0]["id"] == data[0]["id"]
    assert joor.ok(joor.get("/v4/products", ids=data[0]["id"]))["data"][0]["name"] == "Linen Shirt II"


def test_products_keep_country_of_origin_and_fabrication(joor: Joor) -> None:
    """What the catalog push sends besides JOOR's documented fields ([P]): stored and returned."""
    data, errors = joor.bulk("/v4/products/bulk_create", [
        {"name": "Poncho", "external_id": "3001", "country_of_origin": "Peru", "fabrication": "100% Alpaca"},
        {"name": "Plain", "external_id": "3002"},
        {"name": "Bad", "external_id": "3003", "fabrication": {"cotton": 100}},
    ])
    assert [d["external_id"] for d in data] == ["3001", "3002"]
    assert [(e["status"], e["details"]["index"]) for e in errors] == [("INVALID", 2)]
    assert "fabrication" in errors[0]["message"]
    got = {p["external_id"]: p for p in joor.ok(joor.get("/v4/products", external_ids="3001,3002"))["data"]}
    assert (got["3001"]["country_of_origin"], got["3001"]["fabrication"]) == ("Peru", "100% Alpaca")
    assert (got["3002"]["country_of_origin"], got["3002"]["fabrication"]) == (None, None)
    # an update changes only what it carries; null clears
    joor.bulk("/v4/products/bulk_update", [{"id": data[0]["id"], "fabrication": "80% Alpaca, 20% Wool"},
                                           {"id": data[1]["id"], "country_of_origin": "Italy"}])
    got = {p["external_id"]: p for p in joor.ok(joor.get("/v4/products", external_ids="3001,3002"))["data"]}
    assert (got["3001"]["country_of_origin"], got["3001"]["fabrication"]) == ("Peru", "80% Alpaca, 20% Wool")
    assert got["3002"]["country_of_origin"] == "Italy"
    catalog = joor.admin.get("/joor/catalog")["products"]
    assert any(p.get("country_of_origin") == "Peru" for p in catalog)


def test_skus_need_color_and_size_and_are_unique(joor: Joor) -> None:
    pid, skus = joor.create_style("2001", [("Black", "BLK"), ("Navy", "NVY")], ["S", "M"], upc_base=81234500000)
    assert len(skus) == 4 and all(s["product_id"] == pid for s in skus)
    color_only = {"product_id": pid, "external_id": "x1", "trait_values": [{"trait_id": COLOR, "value": "Red"}]}
    dup_ext = {"product_id": pid, "external_id": skus[0]["external_id"],
               "trait_values": [{"trait_id": COLOR, "value": "Red"}, {"trait_id": SIZE, "value": "S"}]}
    dup_combo = {"product_id": pid, "external_id": "x3",
                 "trait_values": [{"trait_id": COLOR, "value": "Black"}, {"trait_id": SIZE, "value": "S"}]}
    case_size = {"product_id": pid, "external_id": "x4",
                 "trait_values": [{"trait_id": COLOR, "value": "Black"}, {"trait_id": SIZE, "value": "s"}]}
    no_product = {"product_id": "UHJvZHVjdDo4ODg4", "external_id": "x5",
                  "trait_values": [{"trait_id": COLOR, "value": "Black"}, {"trait_id": SIZE, "value": "L"}]}
    data, errors = joor.bulk("/v4/skus/bulk_create", [color_only, dup_ext, dup_combo, case_size, no_product])
    assert [d["external_id"] for d in data] == ["x4"]  # sizes are case-sensitive: "s" is a new size
    assert [(e["status"], e["details"]["index"]) for e in errors] == [
        ("INVALID", 0), ("DUPLICATED", 1), ("DUPLICATED", 2), ("INVALID", 4)]
    listed = joor.ok(joor.get("/v4/skus", product_ids=pid))["data"]
    assert len(listed) == 5
    assert {tv["trait_id"] for tv in listed[0]["trait_values"]} == {COLOR, SIZE}
    assert listed[0]["identifiers"] == [{"type": "upc", "value": "081234500001"}]


def test_prices_are_decimal_strings_unique_per_price_type(joor: Joor) -> None:
    _, skus = joor.create_style("3001", [("Black", "BLK")], ["S", "M"])
    pts = {p["currency_code"]: p["id"] for p in joor.ok(joor.get("/v4/price_types"))["data"]}
    sid = skus[0]["id"]
    data, errors = joor.bulk("/v4/prices/bulk_create", [
        {"sku_id": sid, "price_type_id": pts["USD"], "wholesale_value": "100.00", "retail_value": "220.00"},
        {"sku_id": sid, "price_type_id": pts["EUR"], "wholesale_value": 92.5, "retail_value": "200.00"},
        {"sku_id": sid, "price_type_id": pts["GBP"], "wholesale_value": "1,00", "retail_value": "200.00"},
        {"sku_id": sid, "price_type_id": pts["USD"], "wholesale_value": "1.00"},
        {"sku_id": sid, "price_type_id": "nope", "wholesale_value": "1.00"},
        {"sku_id": "nope", "price_type_id": pts["USD"], "wholesale_value": "1.00"},
    ])
    assert len(data) == 1
    assert [(e["status"], e["details"]["index"]) for e in errors] == [
        ("INVALID", 1), ("INVALID", 2), ("DUPLICATED", 3), ("INVALID", 4), ("INVALID", 5)]
    upd, errors = joor.bulk("/v4/prices/bulk_update", [{"id": data[0]["id"], "wholesale_value": "105.00"},
                                                       {"id": data[0]["id"], "retail_value": 1}])
    assert len(upd) == 1 and errors[0]["status"] == "INVALID"
    got = joor.ok(joor.get("/v4/prices", sku_ids=sid))["data"]
    assert got == [{"id": data[0]["id"], "sku_id": sid, "price_type_id": pts["USD"], "wholesale_value": "105.00",
                    "retail_value": "220.00", "date_created": got[0]["date_created"],
                    "last_modified": got[0]["last_modified"]}]


def test_product_assets_replace_all_only_replaces_uploaded_kinds(joor: Joor) -> None:
    pid, _ = joor.create_style("4001", [("Black", "BLK")], ["S"])

    def asset(kind: str, name: str) -> dict[str, Any]:
        return {"product": {"id": pid}, "asset": {"type": kind, "filename": name,
                                                  "source_url": f"http://127.0.0.1/images/{name}"}, "display_order": 1}

    data, errors = joor.bulk("/v4/assets/products", [asset("image", "a.png"), asset("swatch", "s.jpg")])
    assert len(data) == 2 and errors == []
    joor.bulk("/v4/assets/products", [asset("image", "b.png")])  # no replace_all: appended
    got = joor.ok(joor.get("/v4/assets/products", product_ids=pid))["data"]
    assert sorted(a["filename"] for a in got) == ["a.png", "b.png", "s.jpg"]
    joor.bulk("/v4/assets/products", [asset("image", "c.png")], replace_all="true")
    got = joor.ok(joor.get("/v4/assets/products", product_ids=pid))["data"]
    assert sorted(a["filename"] for a in got) == ["c.png", "s.jpg"]  # swatch untouched
    _, errors = joor.bulk("/v4/assets/products", [
        asset("image", "x.tiff"), asset("video", "v.png"), asset("image", "n" * 101 + ".png"),
        {"product": {"id": "nope"}, "asset": {"type": "image", "filename": "a.png", "source_url": "http://x/a.png"}}])
    assert [e["status"] for e in errors] == ["INVALID"] * 4


def test_sku_trait_value_assets(joor: Joor) -> None:
    pid, _ = joor.create_style("4002", [("Black", "BLK")], ["S"])
    item = {"sku_trait_value": {"product_id": pid, "trait_id": COLOR, "value": "Black"},
            "asset": {"type": "swatch", "filename": "blk.png", "source_url": "http://127.0.0.1/blk.png"}}
    bad = {"sku_trait_value": {"product_id": pid, "trait_id": COLOR, "value": "Pink"}, "asset": item["asset"]}
    data, errors = joor.bulk("/v4/assets/sku_trait_values", [item, bad])
    assert len(data) == 1 and errors[0]["status"] == "INVALID"
    assert joor.admin.get("/joor/catalog")["trait_assets"][0]["value"] == "Black"


def test_seasons_create_and_list(joor: Joor) -> None:
    body = joor.ok(joor.post("/v4/seasons", {"name": "Spring 2026", "year": 2026, "external_id": "SS26"}))
    sid = body["data"][0]["id"]
    dup = joor.ok(joor.post("/v4/seasons", {"name": "Spring 2026", "external_id": "SS26"}))
    assert dup["errors"][0]["status"] == "DUPLICATED"
    listed = joor.ok(joor.get("/v4/seasons"))["data"]
    assert [(s["id"], s["name"], s["year"]) for s in listed] == [(sid, "Spring 2026", 2026)]


def test_collections_created_by_api_counted_and_manual_untouched(joor: Joor) -> None:
    pid, skus = joor.create_style("5001", [("Black", "BLK")], ["S", "M"])
    season = joor.ok(joor.post("/v4/seasons", {"name": "Fall 2026", "external_id": "FW26"}))["data"][0]["id"]
    data, errors = joor.bulk("/v4/collections/bulk_create", [
        {"name": "Fall 2026", "external_id": "FW26", "season_id": season,
         "items": [{"product_id": pid, "order_number": 1}]},
        {"name": "Dated", "external_id": "FW26-D", "delivery": {"start_ship_date": "2026-07-01",
                                                                "complete_ship_date": "2026-08-01"},
         "items": [{"product_id": pid, "order_number": 1, "sku_ids": [skus[0]["id"]]}]},
        {"name": "Again", "external_id": "FW26"},
        {"name": "no ext"},
        {"name": "bad sku", "external_id": "X", "items": [{"product_id": pid, "sku_ids": ["other"]}]},
    ])
    assert len(data) == 2
    assert [(e["status"], e["details"]["index"]) for e in errors] == [("DUPLICATED", 2), ("INVALID", 3), ("INVALID", 4)]
    listed = {c["external_id"]: c for c in joor.ok(joor.get("/v4/collections"))["data"]}
    assert listed["FW26"]["delivery"]["type"] == "IMMEDIATE"
    assert listed["FW26-D"]["delivery"]["start_ship_date"] == "2026-07-01"
    assert joor.bulk("/v4/collections/bulk_update", [{"id": data[0]["id"]}])[1][0]["status"] == "INVALID"  # name req
    joor.bulk("/v4/collections/bulk_update", [{"id": data[0]["id"], "name": "Fall 2026 (edited)"}])
    admin = {c["name"]: c for c in joor.admin.get("/joor/collections")["collections"]}
    assert admin["Fall 2026 (edited)"]["modification_count"] == 1
    assert admin["Fall 2026 (edited)"]["created_by"] == "api:joor-sandbox-client"
    assert admin["Dated"]["modification_count"] == 0
    manual = admin["Buyer Favorites (manual)"]
    assert manual["created_by"] == "manual" and manual["modification_count"] == 0 and manual["external_id"] is None


def test_admin_manual_collection(joor: Joor) -> None:
    pid, _ = joor.create_style("5002", [("Black", "BLK")], ["S"])
    rec = joor.admin.post("/joor/collections", {"name": "Showroom picks", "products": ["5002"]})
    assert rec["created_by"] == "manual" and rec["items"][0]["product_id"] == pid


# --------------------------------------------------------------------------- INACTIVE strips order lines


def test_inactive_color_strips_lines_from_approved_orders(joor: Joor) -> None:
    approved = [o for o in admin_orders(joor) if o["status"] == "APPROVED" and o["seed_flaw"] is None]
    order = approved[0]
    line = order["line_items"][0]
    lis = line["line_item_sku"]
    color = lis["trait_values"][0]["value"]
    size = lis["trait_values"][1]["value"]
    same_color_lines = [li["id"] for li in order["line_items"]
                        if li["line_item_sku"]["product"]["external_id"] == lis["product"]["external_id"]
                        and li["line_item_sku"]["trait_values"][0]["value"] == color]
    style = lis["product"]["external_id"]
    pid, skus = joor.create_style(style, [(color, "C1")], [size], sku_ext={(color, size): lis["external_id"]})
    before = joor.ok(joor.get("/v4/orders/sku_line_items", order_ids=order["id"]))["data"]
    assert line["id"] in [li["id"] for li in before]
    data, errors = joor.bulk("/v4/skus/bulk_update", [
        {"id": skus[0]["id"], "trait_values": [{"trait_id": COLOR, "value": color, "status": "INACTIVE"}]}])
    assert errors == [] and len(data) == 1
    after = joor.ok(joor.get("/v4/orders/sku_line_items", order_ids=order["id"]))["data"]
    assert {li["id"] for li in after} == {li["id"] for li in before} - set(same_color_lines)
    got = joor.ok(joor.get("/v4/orders", order_ids=order["id"]))["data"][0]
    assert got["status"] == "APPROVED" and got["total"] != order["total"]
    sku = joor.ok(joor.get("/v4/skus", product_ids=pid))["data"][0]
    assert {tv["trait_id"]: tv["status"] for tv in sku["trait_values"]}[COLOR] == "INACTIVE"


# --------------------------------------------------------------------------- inventory (v2)


def inv(joor: Joor, items: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    resp = joor.v2_send("POST", "/v2/bulk-inventory", {"inventory_items": {"inventory_item": items}}, **params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_bulk_inventory_by_upc_and_style_color_size(joor: Joor) -> None:
    _, skus = joor.create_style("6001", [("Black", "BLK"), ("Navy", "NVY")], ["S", "M"], upc_base=70000000000,
                                style_number="TP6001")
    body = inv(joor, [
        {"warehouse": "Main Warehouse", "upc": "070000000001", "inventory": 12},
        {"warehouse": "Main Warehouse", "style_number": "TP6001", "color_code": "NVY", "size": "M", "inventory": 7},
        {"style_number": "TP6001", "color_code": "Black", "size": "M", "inventory": "3"},  # default warehouse
        {"warehouse": "Nowhere", "upc": "070000000001", "inventory": 1},
        {"warehouse": "Main Warehouse", "upc": "999999999999", "inventory": 1},
        {"warehouse": "Main Warehouse", "upc": "070000000003", "inventory": -2},
        {"warehouse": "Main Warehouse", "upc": "070000000001", "inventory": 40, "inventory_date": "2026-09-01"},
    ])
    logs = body["inventory_logs"]["inventory_log"]
    assert body["response"]["code"] == 0
    assert [lg["status"] for lg in logs] == ["pass", "pass", "pass", "fail", "fail", "fail", "pass"]
    assert [lg["message"] for lg in logs][3:6] == ["unknown warehouse", "unknown SKU",
                                                   "inventory must be a non-negative integer"]
    assert all(lg["inventory_log_id"] for lg in logs) and len({lg["inventory_log_id"] for lg in logs}) == 7
    assert body["sku_count"] == 4
    rows = {(r["external_id"], r["warehouse"]): r for r in joor.admin.get("/joor/inventory")["inventory"]}
    assert rows[("6001-BLK-S", "Main Warehouse")]["inventory"] == 12
    assert rows[("6001-BLK-S", "Main Warehouse")]["future"] == {"2026-09-01": 40}  # future stock kept apart
    assert rows[("6001-NVY-M", "Main Warehouse")]["inventory"] == 7
    assert rows[("6001-BLK-M", "Main Warehouse")]["inventory"] == 3


def test_overwrite_zeroes_every_sku_left_out(joor: Joor) -> None:
    joor.create_style("6002", [("Black", "BLK")], ["S", "M", "L"], upc_base=71000000000)
    inv(joor, [{"upc": f"07100000000{i}", "inventory": 10 * i} for i in (1, 2, 3)])
    inv(joor, [{"upc": "071000000001", "inventory": 5}])  # no overwrite: others keep theirs
    stock = {r["upc"]: r["inventory"] for r in joor.admin.get("/joor/inventory")["inventory"]}
    assert stock == {"071000000001": 5, "071000000002": 20, "071000000003": 30}
    inv(joor, [{"upc": "071000000002", "inventory": 8}], overwrite=1)
    stock = {r["upc"]: r["inventory"] for r in joor.admin.get("/joor/inventory")["inventory"]}
    assert stock == {"071000000001": 0, "071000000002": 8, "071000000003": 0}
    last_call = joor.admin.get("/joor/inventory")["calls"][-1]
    assert last_call["overwrite"] is True and last_call["zeroed"] == 2


# --------------------------------------------------------------------------- connections (v2)


def seeded_connections(joor: Joor) -> dict[str, dict[str, Any]]:
    return {c["customer_code"]: c for c in joor.admin.get("/joor/connections")["connections"]}


def test_connection_lookups(joor: Joor) -> None:
    conns = seeded_connections(joor)
    active = next(c for c in conns.values() if c["status"] == "active")
    pending = next(c for c in conns.values() if c["status"] == "pending")
    body = joor.v2_get(f"/v2/connection/customer_code/{active['customer_code']}/").json()
    assert body["response"]["code"] == 0 and body["connection"]["connection_id"] == active["connection_id"]
    assert body["connection"]["retailer_id"]
    p = joor.v2_get(f"/v2/connection/customer_code/{pending['customer_code']}/").json()["connection"]
    assert p["status"] == "pending" and p["retailer_id"] is None
    by_id = joor.v2_get(f"/v2/connection/{active['connection_id']}/").json()["connection"]
    assert by_id["customer_code"] == active["customer_code"]
    missing = joor.v2_get("/v2/connection/customer_code/NOPE-1/")
    assert missing.status_code == 404 and missing.json()["response"]["code"] == 404
    assert joor.v2_get("/v2/connection/123/").status_code == 404


def test_connection_list_date_start(joor: Joor) -> None:
    joor.admin.set_clock("2026-03-02T12:00:00Z")
    before = joor.v2_get("/v2/connection", date_start="2026-03-01").json()["connections"]["connection"]
    assert before == []
    job = joor.v2_send("POST", "/v2/bulk-connection", {"connections": {"connection": [
        {"customer_code": "NEW-1", "customer_name": "New Shop"}]}}).json()["job_id"]
    for _ in range(2):
        joor.v2_get(f"/v2/bulk-connection/{job}")
    after = joor.v2_get("/v2/connection", date_start="2026-03-01").json()["connections"]["connection"]
    assert [c["customer_code"] for c in after] == ["NEW-1"]


def job_until_finished(joor: Joor, job_id: str) -> tuple[list[str], dict[str, Any]]:
    seen = []
    for _ in range(10):
        job = joor.v2_get(f"/v2/bulk-connection/{job_id}").json()["job"]
        seen.append(job["status"])
        if job["status"] == "finished":
            return seen, job
    raise AssertionError(f"job never finished: {seen}")


def test_bulk_connection_job_lifecycle_and_validation(joor: Joor) -> None:
    existing = next(iter(seeded_connections(joor)))
    records = [
        {"customer_code": "NEW-1", "customer_name": "Juniper Boutique", "currency": "USD", "price_label": "USD-1",
         "billing_address": {"code": "NEW-1-B", "city": "Austin"}},
        {"customer_code": "N" * 51, "customer_name": "Too long code"},
        {"customer_code": "NEW-3"},
        {"customer_code": "NEW-4", "customer_name": "x" * 101},
        {"customer_code": "NEW-5", "customer_name": "Mismatch", "currency": "EUR", "price_label": "USD-1"},
        {"customer_code": existing, "customer_name": "Exists"},
        {"customer_code": "NEW-1", "customer_name": "twice"},
    ]
    resp = joor.v2_send("POST", "/v2/bulk-connection", {"connections": {"connection": records}})
    assert resp.status_code == 200
    started = resp.json()
    assert started["status"] == "queued" and started["job_id"]
    seen, job = job_until_finished(joor, started["job_id"])
    assert seen == ["started", "finished"]
    results = [(r["customer_code"], r["status"]) for r in job["results"]]
    assert results == [("NEW-1", "success"), ("N" * 51, "fail"), ("NEW-3", "fail"), ("NEW-4", "fail"),
                       ("NEW-5", "fail"), (existing, "fail"), ("NEW-1", "fail")]
    assert job["success_count"] == 1 and job["fail_count"] == 6
    messages = [r["message"] for r in job["results"]]
    assert "50" in messages[1] and "customer_name" in messages[2] and "100" in messages[3]
    assert "price type" in messages[4] and "exists" in messages[5]
    new = joor.v2_get("/v2/connection/customer_code/NEW-1/").json()["connection"]
    assert new["status"] == "pending" and new["customer_name"] == "Juniper Boutique"
    # update by customer_code
    upd = joor.v2_send("PUT", "/v2/bulk-connection", {"connections": {"connection": [
        {"customer_code": "NEW-1", "customer_name": "Juniper Boutique NYC"}, {"customer_code": "GHOST-1"}]}}).json()
    _, job = job_until_finished(joor, upd["job_id"])
    assert [r["status"] for r in job["results"]] == ["success", "fail"]
    assert joor.v2_get("/v2/connection/customer_code/NEW-1/").json()["connection"]["customer_name"] == "Juniper Boutique NYC"
    assert joor.v2_get("/v2/bulk-connection/job-999999").status_code == 404


def test_bulk_connection_job_also_advances_with_time(joor: Joor) -> None:
    job_id = joor.v2_send("POST", "/v2/bulk-connection", [{"customer_code": "T-1", "customer_name": "T"}]).json()["job_id"]
    joor.admin.advance_clock(30)
    assert joor.v2_get(f"/v2/bulk-connection/{job_id}").json()["job"]["status"] == "finished"


def test_data_services_pending_until_two_business_days_over_a_weekend(joor: Joor) -> None:
    joor.admin.set_clock("2026-03-06T10:00:00Z")  # a Friday
    job_id = joor.v2_send("POST", "/v2/bulk-connection", {"connections": {"connection": [
        {"customer_code": "WKD-1", "customer_name": "Weekend Shop"}]}}).json()["job_id"]
    job_until_finished(joor, job_id)

    def status() -> str:
        return joor.v2_get("/v2/connection/customer_code/WKD-1/").json()["connection"]["status"]

    assert status() == "pending"
    joor.admin.set_clock("2026-03-08T23:00:00Z")  # Sunday: weekend days do not count
    assert status() == "pending"
    joor.admin.set_clock("2026-03-10T09:59:00Z")  # Tuesday, just before 2 business days
    assert status() == "pending"
    joor.admin.set_clock("2026-03-10T10:01:00Z")
    assert status() == "active"
    assert joor.v2_get("/v2/connection/customer_code/WKD-1/").json()["connection"]["retailer_id"]


def test_data_services_processed_through_the_admin_api(joor: Joor) -> None:
    pending = [c for c, rec in seeded_connections(joor).items() if rec["status"] == "pending"]
    assert pending
    done = joor.admin.post("/joor/data-services/process", {"customer_codes": pending[:1]})["activated"]
    assert done == pending[:1]
    assert joor.v2_get(f"/v2/connection/customer_code/{pending[0]}/").json()["connection"]["status"] == "active"


def test_business_days_are_configurable(joor: Joor) -> None:
    joor.admin.config(data_services_business_days=5)
    joor.admin.set_clock("2026-03-02T10:00:00Z")  # Monday
    job_until_finished(joor, joor.v2_send("POST", "/v2/bulk-connection", [
        {"customer_code": "SLOW-1", "customer_name": "Slow"}]).json()["job_id"])
    joor.admin.set_clock("2026-03-06T10:30:00Z")  # Friday: 4 business days
    assert joor.v2_get("/v2/connection/customer_code/SLOW-1/").json()["connection"]["status"] == "pending"
    joor.admin.set_clock("2026-03-09T10:30:00Z")  # next Monday: 5
    assert joor.v2_get("/v2/connection/customer_code/SLOW-1/").json()["connection"]["status"] == "active"


# --------------------------------------------------------------------------- orders (v4)


ORDER_FIELDS = {"id", "order_number", "status", "retailer_id", "customer_code", "po_number", "price_type_id",
                "currency_code", "collection_id", "date_created", "date_approved", "date_shipped", "last_modified",
                "start_ship_date", "complete_ship_date", "payment_method_code", "shipping_method_code",
                "billing_address", "shipping_address", "buyer", "comments", "discount", "total", "export_status",
                "export_description"}


def test_seed_has_orders_in_every_status_and_the_deliberate_flaws(joor: Joor) -> None:
    orders = admin_orders(joor)
    assert {o["status"] for o in orders} == {"IN_PROGRESS", "NOTES", "PENDING", "APPROVED", "SHIPPED", "CANCELLED"}
    flaws = {o["seed_flaw"] for o in orders}
    assert flaws >= {"unknown_sku", "unknown_customer", "pending_customer", "before_start", "cancelled_line",
                     "no_shipping_method"}
    before = next(o for o in orders if o["seed_flaw"] == "before_start")
    assert before["date_approved"] < "2026-01-01"
    assert any(li["cancelled"] for o in orders if o["seed_flaw"] == "cancelled_line" for li in o["line_items"])
    info = joor.admin.get("/joor/info")
    assert "Main Warehouse" in info["warehouses"] and info["counts"]["collections"] == 1


def test_orders_fields_and_filters(joor: Joor) -> None:
    rows = joor.ok(joor.get("/v4/orders", status="APPROVED,SHIPPED", page_size=200))["data"]
    assert rows and {o["status"] for o in rows} == {"APPROVED", "SHIPPED"}
    assert ORDER_FIELDS <= set(rows[0])
    assert all(isinstance(o["id"], str) for o in rows)
    assert "seed_flaw" not in rows[0]
    since = joor.ok(joor.get("/v4/orders", status="APPROVED", date_approved_start="2026-01-01", page_size=200))["data"]
    all_approved = joor.ok(joor.get("/v4/orders", status="APPROVED", page_size=200))["data"]
    assert 0 < len(since) == len(all_approved) - 1
    assert all(o["date_approved"] >= "2026-01-01" for o in since)
    one_day = all_approved[0]["date_approved"][:10]
    day = joor.ok(joor.get("/v4/orders", date_approved_start=one_day, date_approved_end=one_day))["data"]
    assert all_approved[0]["id"] in [o["id"] for o in day] and all(o["date_approved"][:10] == one_day for o in day)
    picked = joor.ok(joor.get("/v4/orders", order_ids=f"{rows[0]['id']},{rows[1]['id']}"))["data"]
    assert [o["id"] for o in picked] == [rows[0]["id"], rows[1]["id"]]
    assert joor.get("/v4/orders", status="APPROVED,BOGUS").status_code == 400
    assert joor.get("/v4/orders", export_status="MAYBE").status_code == 400
    assert joor.get("/v4/orders", date_approved_start="yesterday").status_code == 400
    undefined = joor.ok(joor.get("/v4/orders", export_status="UNDEFINED", page_size=200))["meta"]["total"]
    assert undefined == len(admin_orders(joor, lines="0"))


def test_sku_line_items_reference_amc_ids(joor: Joor, fresh_sandbox) -> None:
    order = next(o for o in admin_orders(joor) if o["status"] == "APPROVED" and o["seed_flaw"] is None)
    lines = joor.ok(joor.get("/v4/orders/sku_line_items", order_ids=order["id"]))["data"]
    assert [li["id"] for li in lines] == [li["id"] for li in order["line_items"]]
    li = lines[0]
    assert set(li) == {"id", "order_id", "quantity", "cancelled", "line_item_sku"}
    lis = li["line_item_sku"]
    assert set(lis) >= {"external_id", "sku_id", "upc", "product", "wholesale_price", "suggested_retail_price",
                        "trait_values"}
    assert [tv["trait"]["name"] for tv in lis["trait_values"]] == ["Color", "Size"]
    amc = httpx.get(f"{fresh_sandbox.amc_url}/api/json/inventory/{lis['external_id']}",
                    params=fresh_sandbox.amc_auth()).json()["response"][0]
    assert amc["upc_display"] == lis["upc"] and amc["style_number"] == lis["product"]["external_id"]
    assert amc["attr_2"] == lis["trait_values"][0]["value"] and amc["size"] == lis["trait_values"][1]["value"]
    assert joor.get("/v4/orders/sku_line_items").status_code == 400


def test_bulk_update_writes_back_export_status(joor: Joor) -> None:
    ids = [o["id"] for o in joor.ok(joor.get("/v4/orders", status="APPROVED"))["data"]][:2]
    data, errors = joor.bulk("/v4/orders/bulk_update", [
        {"id": ids[0], "export_status": "SUCCESS", "export_description": "AMC order 42"},
        {"id": ids[1], "export_status": "FAILED", "export_description": "unknown SKU 999999"},
        {"id": "1", "export_status": "SUCCESS"},
        {"id": ids[1], "export_status": "DONE"},
    ])
    assert [d["export_status"] for d in data] == ["SUCCESS", "FAILED"]
    assert [(e["status"], e["details"]["index"]) for e in errors] == [("NOT_FOUND", 2), ("INVALID", 3)]
    ok = joor.ok(joor.get("/v4/orders", export_status="SUCCESS"))["data"]
    assert [o["id"] for o in ok] == [ids[0]]
    failed = joor.ok(joor.get("/v4/orders", export_status="FAILED"))["data"][0]
    assert failed["id"] == ids[1] and failed["export_description"] == "unknown SKU 999999"
    pending = joor.ok(joor.get("/v4/orders", status="APPROVED", export_status="UNDEFINED,FAILED", page_size=200))["data"]
    assert ids[0] not in [o["id"] for o in pending] and ids[1] in [o["id"] for o in pending]


def test_last_modified_filter_sees_write_backs(joor: Joor) -> None:
    joor.admin.set_clock("2027-02-01T00:00:00Z")
    assert joor.ok(joor.get("/v4/orders", last_modified_start="2027-01-31"))["data"] == []
    oid = joor.ok(joor.get("/v4/orders", status="APPROVED"))["data"][0]["id"]
    joor.bulk("/v4/orders/bulk_update", [{"id": oid, "export_status": "SUCCESS", "export_description": ""}])
    got = joor.ok(joor.get("/v4/orders", last_modified_start="2027-01-31T12:00:00Z"))["data"]
    assert [o["id"] for o in got] == [oid]


def test_v2_order_sync_default_marks_orders_exported(joor: Joor) -> None:
    approved = joor.ok(joor.get("/v4/orders", status="APPROVED", export_status="UNDEFINED", page_size=200))["meta"]["total"]
    peek = joor.v2_get("/v2/order", sync=0, status="APPROVED", count=3).json()
    assert peek["response"]["code"] == 0 and len(peek["orders"]["order"]) == 3
    assert joor.ok(joor.get("/v4/orders", status="APPROVED", export_status="UNDEFINED"))["meta"]["total"] == approved
    trap = joor.v2_get("/v2/order", status="APPROVED", count=3).json()  # sync defaults to 1
    taken = [o["id"] for o in trap["orders"]["order"]]
    assert len(taken) == 3
    after = joor.ok(joor.get("/v4/orders", status="APPROVED", export_status="UNDEFINED", page_size=200))["data"]
    assert after and not set(taken) & {o["id"] for o in after}
    assert len(after) == approved - 3
    again = joor.v2_get("/v2/order", sync=0, status="APPROVED", count=100).json()["orders"]["order"]
    assert not set(taken) & {o["id"] for o in again}  # gone from the default view


# --------------------------------------------------------------------------- admin: user actions, reset, config


def test_admin_creates_orders_from_the_amc_catalog(joor: Joor) -> None:
    conn = next(c for c in seeded_connections(joor).values() if c["status"] == "active" and c["customer_code"].startswith("C-"))
    made = joor.admin.post("/joor/orders", {"count": 3, "status": "APPROVED", "customer_code": conn["customer_code"],
                                            "lines": 4, "seed": 7})["orders"]
    assert len(made) == 3 and all(o["status"] == "APPROVED" and o["date_approved"] for o in made)
    assert all(len(o["line_items"]) == 4 and o["customer_code"] == conn["customer_code"] for o in made)
    ids = ",".join(o["id"] for o in made)
    assert joor.ok(joor.get("/v4/orders", order_ids=ids))["meta"]["total"] == 3
    explicit = joor.admin.post("/joor/orders", {"status": "PENDING", "lines": [{"sku_id": "100001", "quantity": 5}]})
    order = explicit["orders"][0]
    assert order["status"] == "PENDING" and order["line_items"][0]["line_item_sku"]["external_id"] == "100001"
    assert order["line_items"][0]["quantity"] == 5


def test_admin_order_lifecycle_edit_ship_cancel(joor: Joor) -> None:
    order = joor.admin.post("/joor/orders", {"status": "PENDING", "lines": 2})["orders"][0]
    oid = order["id"]
    approved = joor.admin.post(f"/joor/orders/{oid}/approve")
    assert approved["status"] == "APPROVED" and approved["date_approved"]
    line = approved["line_items"][0]
    edited = joor.admin.post(f"/joor/orders/{oid}/edit", {"lines": [{"id": line["id"], "quantity": 99}],
                                                          "cancel_line_ids": [approved["line_items"][1]["id"]],
                                                          "add_lines": [{"sku_id": "100002", "quantity": 1}],
                                                          "fields": {"po_number": "PO-EDITED"}})
    assert edited["po_number"] == "PO-EDITED" and len(edited["line_items"]) == 3
    assert edited["line_items"][0]["quantity"] == 99 and edited["line_items"][1]["cancelled"] is True
    assert edited["last_modified"] >= approved["last_modified"]
    shipped = joor.admin.post(f"/joor/orders/{oid}/ship")
    assert shipped["status"] == "SHIPPED" and shipped["date_shipped"]
    assert joor.admin.post(f"/joor/orders/{oid}/cancel")["status"] == "CANCELLED"
    with pytest.raises(Exception, match="404"):
        joor.admin.post("/joor/orders/1/approve")


def test_reset_restores_the_seed(joor: Joor, fresh_sandbox) -> None:
    joor.create_style("7001", [("Black", "BLK")], ["S"])
    joor.admin.post("/joor/orders", {"count": 2})
    fresh_sandbox.reset()
    info = joor.admin.get("/joor/info")
    assert info["counts"]["products"] == 2 and info["counts"]["orders"] == len(admin_orders(joor, lines="0"))
    assert joor.ok(joor.get("/v4/products", external_ids="7001"))["data"] == []


def test_config_rejects_unknown_keys_and_hides_secrets(joor: Joor) -> None:
    cfg = joor.admin.config()
    assert cfg["credits_per_window"] == 1_000_000 and cfg["window_seconds"] == 300
    assert "client_secret" not in cfg and "password" not in cfg and "v2_token" not in cfg
    with pytest.raises(Exception, match="400"):
        joor.admin.config(credit_per_window=1)


def test_stats_count_per_route_template_and_admin_is_not_counted(joor: Joor) -> None:
    joor.admin.reset_stats()
    conns = seeded_connections(joor)
    for code in list(conns)[:3]:
        joor.v2_get(f"/v2/connection/customer_code/{code}/")
    joor.get("/v4/traits")
    stats = joor.admin.stats()
    assert stats["requests"]["GET /v2/connection/customer_code/{code}/"] == 3
    assert stats["requests"]["GET /v4/traits"] == 1
    assert not any(k.split(" ", 1)[1].startswith("/_sandbox") for k in stats["requests"])
    assert {"credits_spent", "max_credits_in_window", "responses_429"} <= set(stats)


# --------------------------------------------------------------------------- persistence (serve --state FILE)


def test_state_file_keeps_the_joor_side_across_a_restart(tmp_path) -> None:
    from amc_joor_sandbox.testing import start_sandbox

    path = tmp_path / "state.json"
    with start_sandbox("small", seed=1, state=str(path)) as sb:
        j = Joor(sb)
        pid, _ = j.create_style("P-1", [("Black", "BLK")], ["S"], upc_base=73000000000)
        inv(j, [{"upc": "073000000001", "inventory": 4}])
        oid = j.ok(j.get("/v4/orders", status="APPROVED"))["data"][0]["id"]
        j.bulk("/v4/orders/bulk_update", [{"id": oid, "export_status": "SUCCESS", "export_description": "AMC 1"}])
        j.close()
    saved = path.read_text()
    assert "joor-sandbox-secret" not in saved and "joor-sandbox-token" not in saved
    with start_sandbox("small", seed=1, state=str(path)) as sb:
        j = Joor(sb)
        assert j.ok(j.get("/v4/products", external_ids="P-1"))["data"][0]["id"] == pid
        assert j.ok(j.get("/v4/orders", order_ids=oid))["data"][0]["export_status"] == "SUCCESS"
        assert [r["inventory"] for r in j.admin.get("/joor/inventory")["inventory"]] == [4]
        new_pid, _ = j.create_style("P-2", [("Black", "BLK")], ["S"])
        assert new_pid != pid  # id counters survived too
        j.close()


def test_serve_cli_joor_flags_set_the_start_up_config_over_the_environment(monkeypatch) -> None:
    from amc_joor_sandbox.testing import start_sandbox

    monkeypatch.setenv("AMC_JOOR_SANDBOX_JOOR_CONFIG", '{"window_seconds": 60, "get_cost": 2}')
    with start_sandbox("small", seed=1, joor_rate_limit="off", joor_credits=4, joor_window_seconds=3) as sb:
        cfg = sb.joor_admin.config()
        assert (cfg["rate_limit_enabled"], cfg["credits_per_window"], cfg["window_seconds"]) == (False, 4, 3)
        assert cfg["get_cost"] == 2  # the env's other fields still apply; flags win where both speak
        j = Joor(sb)
        assert all(j.v2_get("/v2/connection").status_code == 200 for _ in range(5))  # 10 credits > 4: off
        sb.joor_admin.config(rate_limit_enabled=True)
        sb.joor_admin.reset()
        assert sb.joor_admin.config()["rate_limit_enabled"] is False  # reset returns to the flags
        j.close()
    with start_sandbox("small", seed=1, joor_rate_limit="on", joor_credits=2) as sb:
        j = Joor(sb)
        assert [j.v2_get("/v2/connection").status_code for _ in range(2)] == [200, 429]  # 2 credits per GET
        j.close()


def test_serve_cli_joor_flags_beat_a_restored_state_file(tmp_path) -> None:
    from amc_joor_sandbox.testing import start_sandbox

    path = tmp_path / "state.json"
    with start_sandbox("small", seed=1, state=str(path)) as sb:
        sb.joor_admin.config(credits_per_window=7)
    with start_sandbox("small", seed=1, state=str(path)) as sb:
        assert sb.joor_admin.config()["credits_per_window"] == 7  # saved config restored
    with start_sandbox("small", seed=1, state=str(path), joor_credits=9, joor_rate_limit="off") as sb:
        cfg = sb.joor_admin.config()
        assert (cfg["credits_per_window"], cfg["rate_limit_enabled"]) == (9, False)


@pytest.mark.parametrize("flags", [["--joor-rate-limit", "maybe"], ["--joor-credits", "0"],
                                   ["--joor-window-seconds", "-1"]])
def test_serve_cli_refuses_bad_joor_flags(flags: list[str]) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "amc_joor_sandbox", "serve", "--amc-port", "0", "--joor-port", "0",
                           *flags], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and flags[0] in done.stderr


def test_serve_cli_takes_joor_config_from_the_environment(monkeypatch) -> None:
    from amc_joor_sandbox.testing import start_sandbox

    monkeypatch.setenv("AMC_JOOR_SANDBOX_JOOR_CONFIG", '{"window_seconds": 3, "credits_per_window": 30}')
    with start_sandbox("small", seed=1) as sb:
        cfg = sb.joor_admin.config()
        assert cfg["window_seconds"] == 3 and cfg["credits_per_window"] == 30
        sb.joor_admin.config(credits_per_window=5)
        sb.joor_admin.reset()
        assert sb.joor_admin.config()["credits_per_window"] == 30  # reset returns to the start-up config
