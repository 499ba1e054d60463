"""The chaos suite's fault matrix and invariants (helpers, no tests here).

Fault matrix: every *kind* of failure a client meets (a 5xx burst, a 429 storm, a hang past the
client timeout, a dropped connection, a truncated JSON body, a write that commits but whose
reply is lost) is armed at every *site* — each distinct external call a flow makes (its AMC
reads, its JOOR reads, each JOOR write endpoint). One test per (flow, kind) arms that kind at
all of the flow's sites at once and asserts every armed fault fired, so each cell of
kinds × sites is exercised while a flow pays for one DAG run per kind, not per cell.

Invariants (after convergence), read through the sandboxes' inspection APIs:
* JOOR equals AMC's projection (catalog: products, SKUs, prices exact to the cent, images,
  season linesheets; inventory: the chosen stock field; customers: the mapped connection);
* nothing duplicated (no external id / customer code twice, no price or image twice);
* the state store is never ahead of JOOR (every ``synced_records`` row names a JOOR record
  that exists and holds what the row says) — and, for the pushes, not behind it either.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

#: Client read timeout (connection extra ``timeout``) during chaos runs: a hang outlives it.
CLIENT_TIMEOUT = 1.5
#: How long a ``hang`` fault holds a request before the server runs it (a late commit landing
#: about when the client's retry does).
HANG_SECONDS = CLIENT_TIMEOUT + 1.0
#: Retry-After of the injected 429s (seconds).
RETRY_AFTER = 1
#: JOOR's credit window, scaled down for chaos runs (sandbox and client budget alike).
CREDIT_WINDOW = 1

KINDS = ("5xx_burst", "429_storm", "hang", "drop", "malformed", "commit_then_fail")


@dataclass(frozen=True)
class Site:
    """One kind of external call a flow makes: which server, method and path."""

    server: str  # "amc" | "joor"
    method: str
    path: str | None = None  # prefix
    path_regex: str | None = None

    @property
    def write(self) -> bool:
        return self.method != "GET"

    @property
    def label(self) -> str:
        return f"{self.server.upper()} {self.method} {self.path or self.path_regex}"

    def match(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"method": self.method}
        if self.path_regex:
            spec["path_regex"] = self.path_regex
        else:
            spec["path"] = self.path
        return spec


def amc_reads(*resources: str) -> list[Site]:
    return [Site("amc", "GET", f"/api/json/{r}") for r in resources]


CATALOG_SITES = [
    *amc_reads("products", "product_attributes", "inventory", "currencies"),
    Site("joor", "GET", "/v4/price_types"),
    Site("joor", "POST", "/v4/products/bulk_create"),
    Site("joor", "POST", "/v4/skus/bulk_create"),
    Site("joor", "POST", "/v4/prices/bulk_create"),
    Site("joor", "POST", "/v4/assets/products"),
    Site("joor", "POST", "/v4/assets/sku_trait_values"),
    Site("joor", "POST", "/v4/collections/bulk_create"),
]
INVENTORY_SITES = [
    *amc_reads("warehouses", "sku_warehouse", "inventory", "product_attributes"),
    Site("joor", "POST", "/v2/bulk-inventory"),
]
CUSTOMER_SITES = [
    *amc_reads("customers", "locations", "currencies"),
    Site("joor", "GET", "/v4/price_types"),
    Site("joor", "GET", "/v2/connection/customer_code/"),
    Site("joor", "POST", path_regex=r"^/v2/bulk-connection/?$"),
    Site("joor", "PUT", path_regex=r"^/v2/bulk-connection/?$"),
    Site("joor", "GET", path_regex=r"^/v2/bulk-connection/[^/]+"),
]


def fault_specs(kind: str, site: Site, index: int = 0, storm: bool = False) -> list[dict[str, Any]]:
    """The faults of one matrix cell, in the order they fire (consecutive calls at the site).

    Each cell stays inside the hook's retry budget (6 attempts), so a run can absorb it; what
    is left to the task's own retry is only what the hook must not resend (a non-idempotent
    write whose fate is unknown).
    """
    m = site.match()
    if kind == "5xx_burst":  # a short burst (two in a row at writes), rotating 500/502/503
        first, second = ((500, 502), (502, 503), (503, 500))[index % 3]
        return [{"kind": "status", "status": s, **m} for s in ((first, second) if site.write else (first,))]
    if kind == "429_storm":  # every call of the flow is refused once; the first write site three times
        return [{"kind": "status", "status": 429, "retry_after": RETRY_AFTER, "count": 3 if storm else 1, **m}]
    if kind == "hang":  # the server holds the request past the client timeout, then runs it
        return [{"kind": "hang", "seconds": HANG_SECONDS, **m}]
    if kind == "drop":  # before: nothing ran; after (writes): the write ran, the socket died
        return [{"kind": "drop", **m}] + ([{"kind": "drop", "phase": "after", **m}] if site.write else [])
    if kind == "malformed":  # a 200 with half a JSON body (after the write ran, for writes)
        return [{"kind": "malformed", **m, **({"phase": "after"} if site.write else {})}]
    if kind == "commit_then_fail":  # the write landed, the reply is a 500
        return [{"kind": "commit_then_fail", "status": 500, **m}] if site.write else []
    raise ValueError(f"unknown fault kind {kind!r}")


def matrix(kind: str, sites: list[Site]) -> list[tuple[Site, list[dict[str, Any]]]]:
    """Every cell of one kind's row: (site, its faults); the storm hits the first write site."""
    first_write = next((i for i, s in enumerate(sites) if s.write), -1)
    return [(site, fault_specs(kind, site, i, storm=i == first_write)) for i, site in enumerate(sites)]


def armed_429s(kind: str, sites: list[Site]) -> int:
    return sum(s.get("count", 1) for _, specs in matrix(kind, sites) for s in specs if s.get("status") == 429)


@dataclass
class Chaos:
    """A ``run_dag`` runner that arms fault matrices and checks they all fired."""

    runner: Any
    armed: list[tuple[Site, dict[str, Any]]] = field(default_factory=list)
    hang_armed: bool = False

    @property
    def sb(self):
        return self.runner.sandbox

    @property
    def state_url(self) -> str:
        return self.runner.state_url

    def admin(self, server: str):
        return self.sb.amc_admin if server == "amc" else self.sb.joor_admin

    def arm(self, kind: str, sites: list[Site]) -> int:
        """Arm ``kind`` at every site; returns how many faults were armed."""
        n = 0
        for site, specs in matrix(kind, sites):
            if specs:
                self.admin(site.server).arm_faults(specs)
                self.armed += [(site, s) for s in specs]
                n += len(specs)
        self.hang_armed = self.hang_armed or kind == "hang"
        return n

    def unfired(self) -> list[dict[str, Any]]:
        """Faults still armed (a fired fault is removed once its count is used up)."""
        return [f for server in ("amc", "joor") for f in self.admin(server).faults()["faults"]]

    def settle(self) -> None:
        """Wait out late commits of hung requests, then disarm everything."""
        if self.hang_armed:
            time.sleep(HANG_SECONDS + 0.3)
        self.sb.joor_admin.clear_faults()
        self.sb.amc_admin.clear_faults()

    def run(self, dag_id: str, conf: dict | None = None, *, settings: dict | None = None):
        return self.runner(dag_id, conf, settings=settings)

    def converge(self, dag_id: str, conf: dict | None = None, *, settings: dict | None = None,
                 first=None, max_runs: int = 3) -> list:
        """Runs until one succeeds (faults already disarmed); the first result may be given."""
        results = [first] if first is not None else []
        while not results or results[-1].state != "success":
            assert len(results) < max_runs, f"{dag_id} did not converge in {max_runs} runs: " + \
                "; ".join(str(r.failed_tasks()) for r in results)
            results.append(self.run(dag_id, conf, settings=settings))
        return results


# ============================================================================ shared readers


def state_rows(state_url: str, entity: str) -> dict[str, dict[str, Any]]:
    from amc_joor.state import get_engine, load_synced

    return load_synced(entity, get_engine(state_url))


def amc_rows(resource: str) -> list[dict[str, Any]]:
    """Every row of an AMC resource as the AMC sandbox serves it now (faults must be cleared)."""
    from amc_joor.hooks.amc import AmcHook

    return list(AmcHook().iter_rows(resource))


def duplicates(values) -> list:
    return sorted(v for v, n in Counter(values).items() if n > 1)


# ============================================================================ catalog


def catalog_projection() -> dict[str, Any]:
    """What JOOR must hold for AMC's current data (issue #6's rules), from AMC's raw rows."""
    from amc_joor.flows import catalog_mapping as cm

    products = amc_rows("products")
    colorways = amc_rows("product_attributes")
    currencies = {c["id"]: c for c in amc_rows("currencies")}
    flagged = {p["product_id"]: p for p in products if p["joor_sync"] == "1"}
    colors = {(c["product_id"], c["attribute_2"]): c for c in colorways
              if c["joor_sync"] == "1" and c["product_id"] in flagged}
    skus = {s["sku_id"]: s for s in amc_rows("inventory")
            if (s["product_id"], s["attr_2"]) in colors and s.get("joor_sync") != "0"}
    names = {p["style_number"]: (p["joor_web_title"] or p["web_title"] or p["description"]) for p in flagged.values()}
    prices: dict[tuple[str, str], tuple[str, str]] = {}  # (sku_id, currency) -> (wholesale, retail)
    by_style = {p["style_number"]: p for p in flagged.values()}
    for sku_id, s in skus.items():
        style = by_style[s["style_number"]]
        for g in style["price_groups"]:
            cur = currencies[g["currency_id"]]
            retail = (Decimal(style["retail_price"]) * Decimal(cur["rate"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
            prices[(sku_id, cur["name"])] = (str(Decimal(g["price"]).quantize(Decimal("0.01"))), str(retail))
    style_images: dict[str, list[str]] = {}
    color_images: set[tuple[str, str, str]] = set()
    for pid, p in flagged.items():
        cws = [c for (cpid, _), c in colors.items() if cpid == pid]
        images = cm.image_set(p["images"], cws)
        style_images[p["style_number"]] = sorted(u.rsplit("/", 1)[-1] for u in images["style"])
        for entry in images["colors"]:
            color_images |= {(p["style_number"], entry["color"], t) for t in ("image", "swatch") if t in entry}
    seasons: dict[str, set[str]] = {}
    for p in flagged.values():
        seasons.setdefault(cm.season_external_id(p["season"]), set()).add(p["style_number"])
    return {"names": names, "skus": skus, "prices": prices, "style_images": style_images,
            "color_images": color_images, "seasons": seasons}


def assert_catalog_converged(sb, state_url: str) -> dict[str, int]:
    """JOOR's catalog == AMC's projection, nothing twice, state == JOOR. Returns counts."""
    from amc_joor.flows import catalog_mapping as cm

    exp = catalog_projection()
    cat = sb.joor_admin.get("/joor/catalog")
    ours = [p for p in cat["products"] if p.get("external_id")]
    assert not duplicates(p["external_id"] for p in ours), "a product external id exists twice on JOOR"
    products = {p["external_id"]: p for p in ours}
    assert set(products) == set(exp["names"]), "JOOR's synced styles differ from AMC's flagged styles"
    assert {k: p["name"] for k, p in products.items()} == exp["names"]
    style_of = {p["id"]: p["external_id"] for p in ours}

    skus = [s for s in cat["skus"] if s.get("external_id")]
    assert not duplicates(s["external_id"] for s in skus), "a SKU external id exists twice on JOOR"
    by_ext = {s["external_id"]: s for s in skus}
    assert set(by_ext) == set(exp["skus"]), "every synced SKU exists exactly once"
    for sku_id, amc in exp["skus"].items():
        js = by_ext[sku_id]
        assert style_of[js["product_id"]] == amc["style_number"], sku_id
        traits = {tv["trait_id"]: tv["value"] for tv in js["trait_values"]}
        assert traits == {cm.COLOR_TRAIT_ID: amc["attr_2"], cm.SIZE_TRAIT_ID: amc["size"]}, sku_id
        assert all(tv.get("status", "ACTIVE") == "ACTIVE" for tv in js["trait_values"]), sku_id

    currency_of = {pt["id"]: pt["currency_code"] for pt in sb.joor_admin.get("/joor/info")["price_types"]}
    sku_ext = {s["id"]: s["external_id"] for s in skus}
    got = [((sku_ext[p["sku_id"]], currency_of[p["price_type_id"]]), (p["wholesale_value"], p["retail_value"]))
           for p in cat["prices"]]
    assert not duplicates(k for k, _ in got), "a SKU has two prices for one price type"
    assert dict(got) == exp["prices"], "prices differ from AMC (to the cent)"

    assets: dict[str, list[str]] = {}
    for a in cat["product_assets"]:
        assets.setdefault(style_of.get(a["product_id"], "?"), []).append(a["filename"])
    assert {k: sorted(v) for k, v in assets.items()} == {k: v for k, v in exp["style_images"].items() if v}, \
        "style images differ (or were uploaded twice)"
    trait = [(style_of.get(a["product_id"], "?"), a["value"], a["type"]) for a in cat["trait_assets"]]
    assert not duplicates(trait), "a colour image was uploaded twice"
    assert set(trait) == exp["color_images"]

    colls = sb.joor_admin.get("/joor/collections")["collections"]
    owned = [c for c in colls if str(c.get("external_id") or "").startswith(cm.SEASON_PREFIX)]
    assert not duplicates(c["external_id"] for c in owned), "a season linesheet exists twice"
    assert {c["external_id"]: {style_of[i["product_id"]] for i in c["items"]} for c in owned} == exp["seasons"]
    assert all(c["modification_count"] == 0 for c in colls if c.get("created_by") == "manual")

    _assert_catalog_state(state_url, exp, ours, skus, cat, owned)
    return {"products": len(ours), "skus": len(skus), "prices": len(got)}


def _assert_catalog_state(state_url, exp, products, skus, cat, owned) -> None:
    """Every state row names a JOOR record that exists and matches; every JOOR record is in state."""
    from amc_joor.flows import catalog_mapping as cm

    p_ids = {p["id"]: p["external_id"] for p in products}
    s_ids = {s["id"]: s["external_id"] for s in skus}
    price_ids = {p["id"]: p for p in cat["prices"]}
    coll_ids = {c["id"]: c["external_id"] for c in owned}

    st = state_rows(state_url, cm.PRODUCT)
    ahead = {k: r["joor_id"] for k, r in st.items() if p_ids.get(r["joor_id"]) != k}
    assert not ahead, f"product state names JOOR products that do not exist / are another style: {ahead}"
    assert set(st) == set(exp["names"]), "product state misses styles JOOR has"

    st = state_rows(state_url, cm.SKU)
    ahead = {k: r["joor_id"] for k, r in st.items() if s_ids.get(r["joor_id"]) != k}
    assert not ahead, f"SKU state names JOOR SKUs that do not exist: {ahead}"
    assert set(st) == set(exp["skus"]), "SKU state misses SKUs JOOR has"

    st = state_rows(state_url, cm.PRICE)
    for key, row in st.items():
        price = price_ids.get(row["joor_id"])
        assert price is not None, f"price state {key} names JOOR price {row['joor_id']} that does not exist"
        assert s_ids.get(price["sku_id"]) == key.split("/", 1)[0], f"price state {key} is another SKU's price"
    assert len(st) == len(exp["prices"]), "price state misses prices JOOR has"

    st = state_rows(state_url, cm.COLLECTION)
    ahead = {k: r["joor_id"] for k, r in st.items() if coll_ids.get(r["joor_id"]) != k}
    assert not ahead, f"linesheet state names collections that do not exist: {ahead}"
    assert set(st) == set(exp["seasons"])

    have_style = {s for s, imgs in exp["style_images"].items() if imgs}
    assert set(state_rows(state_url, cm.ASSET)) == have_style
    have_color = {f"{s}/{c}" for s, c, _ in exp["color_images"]}
    assert set(state_rows(state_url, cm.COLOR_ASSET)) == have_color


# ============================================================================ inventory


def inventory_projection(column: str, warehouse_id: str, skus: set[str]) -> dict[str, int]:
    """sku_id -> the quantity JOOR must show: AMC's chosen stock field, floored, negatives as 0."""
    out = {}
    for r in amc_rows("sku_warehouse"):
        if str(r["warehouse_id"]) == warehouse_id and r["sku_id"] in skus:
            out[r["sku_id"]] = max(0, int(Decimal(str(r[column] or 0)).to_integral_value(rounding="ROUND_FLOOR")))
    return {s: out.get(s, 0) for s in skus}


def assert_inventory_converged(sb, state_url: str, column: str, *, warehouse_id: str = "1",
                               joor_warehouse: str = "Main Warehouse") -> int:
    """JOOR's stock == AMC's chosen field for every synced SKU, once each; state == JOOR."""
    on_joor = set(state_rows(state_url, "sku"))
    assert on_joor, "no catalog SKUs in state: nothing to compare"
    expected = inventory_projection(column, warehouse_id, on_joor)
    rows = [r for r in sb.joor_admin.get("/joor/inventory")["inventory"] if r["warehouse"] == joor_warehouse]
    assert not duplicates(r["external_id"] for r in rows), "a SKU has two stock rows in one warehouse"
    got = {r["external_id"]: r["inventory"] for r in rows}
    assert got == expected, {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
    assert not any(r.get("future") for r in rows), "future stock was written (immediate only)"
    assert not any(c.get("overwrite") for c in sb.joor_admin.get("/joor/inventory")["calls"]), "overwrite was sent"
    st = assert_inventory_state_not_ahead(sb, state_url, joor_warehouse)
    assert set(st) == set(expected), "inventory state misses SKUs JOOR was sent"
    return len(expected)


def assert_inventory_state_not_ahead(sb, state_url: str, joor_warehouse: str = "Main Warehouse") -> dict:
    """Every acknowledged quantity in state is the quantity JOOR shows (at any moment)."""
    rows = sb.joor_admin.get("/joor/inventory")["inventory"]
    got = {r["external_id"]: r["inventory"] for r in rows if r["warehouse"] == joor_warehouse}
    st = state_rows(state_url, "inventory")
    ahead = {k: (r["detail"], got.get(k)) for k, r in st.items()
             if r["detail"]["warehouse"] != joor_warehouse or got.get(k) != r["detail"]["qty"]}
    assert not ahead, f"inventory state claims quantities JOOR does not have: {ahead}"
    return st


def seed_catalog_skus(state_url: str, run_id: str = "chaos-seed") -> int:
    """Put AMC's synced styles and SKUs on JOOR with the catalog flow's own code (no prices,
    no images): what the inventory push needs, in ~1 s instead of a whole catalog DAG run."""
    from amc_joor.flows import catalog
    from amc_joor.flows import catalog_mapping as cm
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.state import get_engine

    engine = get_engine(state_url)
    manifest = catalog.extract(AmcHook(), "chaos_seed", run_id)
    plan = catalog.make_plan(catalog.read_extract(manifest), cm.PlanOptions(image_sync=False), engine)
    staged = catalog.stage_plan(plan, "chaos_seed", run_id, 500)
    joor = JoorHook()
    for stage in ("products", "skus"):
        for unit in staged["units"][stage]:
            report = catalog.push_unit(joor, unit, engine)
            assert not report.failures, report.failures
    return len(state_rows(state_url, cm.SKU))


# ============================================================================ customers


def customer_projection() -> dict[str, dict[str, Any]]:
    """customer code -> {payload, content_hash} JOOR must hold, by the flow's own mapping rules."""
    from amc_joor.flows import customer_mapping as cm
    from amc_joor.flows import customers
    from amc_joor.hooks.amc import AmcHook
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.settings import IntegrationSettings

    ex = customers.extract(AmcHook(), JoorHook(), since=None)
    plan = cm.plan_customers(ex.customers, ex.locations, ex.currency_names, ex.price_types,
                             IntegrationSettings().default_currency_name, code_owners=ex.code_owners)
    return {r["key"]: r for r in plan.records}


#: Connection fields JOOR documents (shared/reference/joor-api.md §5); others are not kept.
CONNECTION_FIELDS = ("customer_code", "customer_name", "customer_alias", "customer_contact_name",
                     "customer_contact_email", "customer_buyer_name", "customer_group_name", "customer_group_code",
                     "sales_rep_code", "currency", "price_label", "billing_address", "shipping_addresses")


def _documented(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k in CONNECTION_FIELDS}


def _same(joor_value: Any, want: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(joor_value, dict) and all(_same(joor_value.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(joor_value, list) and len(joor_value) == len(want) and all(
            _same(a, b) for a, b in zip(joor_value, want, strict=True))
    return (joor_value or "") == (want or "")


def assert_customers_converged(sb, state_url: str) -> int:
    """Every AMC customer with a valid code is one JOOR connection holding the mapped fields."""
    exp = customer_projection()
    assert exp, "no customers planned"
    conns = sb.joor_admin.get("/joor/connections")["connections"]
    assert not duplicates(c["customer_code"] for c in conns), "a customer code exists twice on JOOR"
    by_code = {c["customer_code"]: c for c in conns}
    for code, rec in exp.items():
        assert code in by_code, f"customer {code} is not on JOOR"
        wrong = {k: (by_code[code].get(k), v) for k, v in _documented(rec["payload"]).items()
                 if not _same(by_code[code].get(k), v)}
        assert not wrong, f"customer {code} differs on JOOR: {wrong}"
    st = state_rows(state_url, "customer")
    for code, row in st.items():
        conn = by_code.get(code)
        assert conn is not None, f"customer state {code} names a connection JOOR does not have"
        if row.get("joor_id"):
            assert conn["connection_id"] == row["joor_id"], (code, row["joor_id"], conn["connection_id"])
        if code in exp and row["content_hash"] == exp[code]["content_hash"]:
            wrong = {k for k, v in _documented(exp[code]["payload"]).items() if not _same(conn.get(k), v)}
            assert not wrong, f"state says JOOR holds {code}'s current data, but JOOR differs on {wrong}"
    assert set(st) == set(exp), "customer state misses customers JOOR holds"
    return len(exp)
