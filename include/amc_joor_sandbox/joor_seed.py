"""The JOOR account's starting state, derived from the AMC world.

Why: the integration is tested against a JOOR account that looks like a real brand's on day
one: JOOR-configured price types, traits and warehouses; a hand-made linesheet the integration
must never touch; retailers already connected (and one still pending with Data Services); and
orders in every status — including the broken ones an order pull must fail with a reason
(unknown SKU, unknown or pending customer, approved before the start date, cancelled lines,
missing shipping method).

Order line items reference AMC data directly (JOOR external ids = AMC ids):
``line_item_sku.external_id`` = AMC ``sku_id``, ``product.external_id`` = ``style_number``,
Color ``external_id`` = AMC ``color_code``, Size ``external_id`` = the size name.

The returned dict is plain JSON (strings, lists, dicts); ``joor_state.JoorState`` loads it.
Ids follow JOOR's v4 style: opaque base64 strings for catalog objects (``b64("Product:7")``),
numeric strings for orders, retailers and connections.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

ACCOUNT_ID = "1001"
COLOR_TRAIT_ID = "U0tVVHJhaXQ6U3R5bGVDb2xvcg=="  # base64("SKUTrait:StyleColor")
SIZE_TRAIT_ID = "U0tVVHJhaXQ6U2l6ZQ=="  # base64("SKUTrait:Size")
DEFAULT_WAREHOUSE = "Main Warehouse"
WAREHOUSES = (DEFAULT_WAREHOUSE, "East Coast DC")
MANUAL_COLLECTION_NAME = "Buyer Favorites (manual)"
ORDER_START_DATE = date(2026, 1, 1)  # the integration's default start date; some orders predate it
UNKNOWN_SKU_EXTERNAL_ID = "999999"
UNKNOWN_CUSTOMER_CODE = "X-9001"  # a retailer connected in JOOR but unknown to AMC
CURRENCIES = ("USD", "EUR", "GBP", "CAD")
# JOOR-side codes; names equal AMC's terms / ship methods so an integration can map by name
PAYMENT_METHODS = (("NET30", "Net 30"), ("NET60", "Net 60"), ("CC", "Credit Card"), ("PROFORMA", "Pro Forma"))
SHIPPING_METHODS = (("UPS_GROUND", "UPS Ground"), ("FEDEX_2DAY", "FedEx 2Day"), ("LTL", "Freight LTL"),
                    ("PICKUP", "Customer Pickup"))
SALES_REPS = ("REP-01", "REP-02", "REP-03")
ORDER_STATUSES = ("IN_PROGRESS", "NOTES", "PENDING", "APPROVED", "SHIPPED", "CANCELLED")
FX = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CAD": 1.37}
SEED_TIME = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)  # "today" of the seed: fixed, not the wall clock


def joor_id(kind: str, n: int) -> str:
    """JOOR v4-style opaque id: base64 of ``"<Kind>:<n>"`` (the traits ids follow the same scheme)."""
    return base64.b64encode(f"{kind}:{n}".encode()).decode()


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rows(amc: Any, name: str) -> list[dict[str, Any]]:
    """A resource's rows from an AmcData (attributes) or a plain dict of lists."""
    if isinstance(amc, dict):
        return list(amc.get(name, []))
    return list(getattr(amc, name, []) or [])


def _money(value: float) -> str:
    return f"{value:.2f}"


class _SeedBuilder:
    def __init__(self, amc: Any, dataset: str, rng: random.Random) -> None:
        self.amc = amc
        self.dataset = dataset
        self.rng = rng
        self.large = dataset != "small"
        self.products = {p["product_id"]: p for p in _rows(amc, "products")}
        self.inventory = _rows(amc, "inventory")
        self.color_codes = {
            (a["product_id"], a["attribute_2"]): a.get("color_code", "") for a in _rows(amc, "product_attributes")
        }
        self.currency_iso = {c["id"]: c["name"] for c in _rows(amc, "currencies")}
        self.customers = _rows(amc, "customers")
        self.locations: dict[str, list[dict[str, Any]]] = {}
        for loc in _rows(amc, "locations"):
            self.locations.setdefault(loc["customer_id"], []).append(loc)
        self.line_seq = 1

    # ------------------------------------------------------------------ static account setup
    def price_types(self) -> list[dict[str, Any]]:
        return [
            {"id": joor_id("PriceType", i), "name": f"{cur}-1", "currency_code": cur, "retail_currency_code": cur}
            for i, cur in enumerate(CURRENCIES, start=1)
        ]

    def categories(self) -> list[dict[str, Any]]:
        names = sorted({p.get("category", "") for p in self.products.values() if p.get("category")})
        return [{"id": joor_id("Category", i), "name": n} for i, n in enumerate(names, start=1)]

    def manual_catalog(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        """Two hand-made JOOR styles (no AMC external id) and the manual linesheet holding them."""
        products, skus, items = [], [], []
        for n, (name, colors, sizes) in enumerate(
            (("Showroom Sample Tote", ("Natural",), ("ONE SIZE",)), ("Lookbook Scarf", ("Red", "Navy"), ("ONE SIZE",))),
            start=1,
        ):
            pid = joor_id("Product", 900_000 + n)
            products.append({
                "id": pid, "name": name, "external_id": None, "product_identifier": f"MAN-{n:03d}",
                "description": "created by hand in JOOR", "order_minimum": None, "category_ids": [],
                "product_trait_values": [], "tags": ["manual"], "created_by": "manual",
            })
            sku_ids = []
            for c in colors:
                for s in sizes:
                    sid = joor_id("SKU", 900_000 + len(skus) + 1)
                    sku_ids.append(sid)
                    skus.append({
                        "id": sid, "product_id": pid, "external_id": None, "sku_identifier": None,
                        "trait_values": [
                            {"trait_id": COLOR_TRAIT_ID, "value": c, "external_id": None, "status": "ACTIVE"},
                            {"trait_id": SIZE_TRAIT_ID, "value": s, "external_id": None, "status": "ACTIVE"},
                        ],
                        "identifiers": [], "created_by": "manual",
                    })
            items.append({"product_id": pid, "order_number": n, "sku_ids": sku_ids})
        collection = {
            "id": joor_id("Collection", 900_001), "name": MANUAL_COLLECTION_NAME, "external_id": None,
            "season_id": None, "delivery": {"type": "IMMEDIATE"}, "items": items,
            "created_by": "manual", "created_via": "joor_ui", "modification_count": 0,
            "date_created": _ts(SEED_TIME - timedelta(days=40)), "last_modified": _ts(SEED_TIME - timedelta(days=40)),
        }
        return products, skus, collection

    # ------------------------------------------------------------------ connections
    def connections(self) -> list[dict[str, Any]]:
        """About half of the AMC customers with a code are connected; a few are still pending."""
        coded = [c for c in self.customers if c.get("joor_customer_code")]
        seen: set[str] = set()
        unique = []
        for c in coded:  # AMC may carry duplicate codes (a data flaw); JOOR holds a code once
            if c["joor_customer_code"] not in seen:
                seen.add(c["joor_customer_code"])
                unique.append(c)
        if self.large:
            chosen = [c for c in unique if self.rng.random() < 0.5]
        else:
            chosen = unique[: max(1, len(unique) // 2 + 1)]
        n_pending = 1 if not self.large else max(2, len(chosen) // 50)
        pending_idx = set(range(len(chosen) - n_pending, len(chosen)))
        out = []
        for i, cust in enumerate(chosen):
            out.append(self._connection(i + 1, cust, "pending" if i in pending_idx else "active"))
        joor_only = {
            "customer_id": "", "customer_name": "Atlas Department Store", "joor_customer_code": UNKNOWN_CUSTOMER_CODE,
            "email": "buying@atlas-dept.example", "price_group": "Wholesale USD", "currency_id": "1",
            "address_1": "1 Atlas Plaza", "address_2": "", "city": "New York", "state": "NY",
            "postal_code": "10001", "country": "US",
        }
        out.append(self._connection(len(out) + 1, joor_only, "active"))
        return out

    def _connection(self, n: int, cust: dict[str, Any], status: str) -> dict[str, Any]:
        iso = self.currency_iso.get(cust.get("currency_id", ""), "USD") or "USD"
        addr = {
            "code": f"{cust['joor_customer_code']}-B", "name": cust["customer_name"],
            "address_1": cust.get("address_1", ""), "address_2": cust.get("address_2", ""),
            "city": cust.get("city", ""), "state": cust.get("state", ""),
            "postal_code": cust.get("postal_code", ""), "country": cust.get("country", ""),
        }
        locs = self.locations.get(cust.get("customer_id", ""), [])
        ship = dict(addr, code=f"{cust['joor_customer_code']}-S1")
        if locs:
            loc = locs[0]
            ship = {"code": f"{cust['joor_customer_code']}-S{loc['ship_to_id']}", "name": loc["name"],
                    **{k: loc.get(k, "") for k in ("address_1", "address_2", "city", "state", "postal_code", "country")}}
        created = SEED_TIME - timedelta(days=60 - (n % 50), minutes=n)
        return {
            "connection_id": str(300_000 + n),
            "retailer_id": str(700_000 + n) if status == "active" else None,
            "customer_code": cust["joor_customer_code"],
            "customer_name": cust["customer_name"][:100],
            "customer_alias": "",
            "customer_contact_name": "",
            "customer_contact_email": cust.get("email", ""),
            "customer_buyer_name": "",
            "customer_group_name": "",
            "customer_group_code": "",
            "sales_rep_code": SALES_REPS[n % len(SALES_REPS)],
            "currency": iso,
            "price_label": f"{iso}-1",
            "billing_address": addr,
            "shipping_addresses": [ship],
            "status": status,
            "pending_since": None,  # the state stamps it with the sandbox clock when it loads
            "date_created": _ts(created),
            "date_modified": _ts(created),
            "created_by": "manual",
        }

    # ------------------------------------------------------------------ orders
    def line_item(self, order_id: str, sku: dict[str, Any], currency: str, qty: int,
                  cancelled: bool = False) -> dict[str, Any]:
        product = self.products.get(sku["product_id"], {})
        wholesale = None
        for pg in product.get("price_groups", []):
            if self.currency_iso.get(pg.get("currency_id")) == currency:
                wholesale = pg.get("price")
        if wholesale is None:
            wholesale = _money(float(product.get("price", "0") or 0) * FX.get(currency, 1.0))
        retail = _money(float(product.get("retail_price", "0") or 0) * FX.get(currency, 1.0))
        color_code = self.color_codes.get((sku["product_id"], sku["attr_2"]), "")
        line_id = str(9_000_000 + self.line_seq)
        self.line_seq += 1
        return {
            "id": line_id,
            "order_id": order_id,
            "quantity": qty,
            "cancelled": cancelled,
            "line_item_sku": {
                "external_id": sku["sku_id"],
                "sku_id": joor_id("OrderSKU", int(sku["sku_id"])) if sku["sku_id"].isdigit() else None,
                "upc": sku.get("upc_display", ""),
                "product": {"name": product.get("description", "Unknown style"),
                            "external_id": sku.get("style_number", "")},
                "wholesale_price": wholesale,
                "suggested_retail_price": retail,
                "trait_values": [
                    {"trait": {"id": COLOR_TRAIT_ID, "name": "Color"}, "value": sku["attr_2"], "external_id": color_code},
                    {"trait": {"id": SIZE_TRAIT_ID, "name": "Size"}, "value": sku["size"], "external_id": sku["size"]},
                ],
            },
        }

    def orders(self, connections: list[dict[str, Any]], price_types: list[dict[str, Any]],
               collection_id: str) -> list[dict[str, Any]]:
        active = [c for c in connections if c["status"] == "active" and c["customer_code"] != UNKNOWN_CUSTOMER_CODE]
        pending = [c for c in connections if c["status"] == "pending"]
        joor_only = [c for c in connections if c["customer_code"] == UNKNOWN_CUSTOMER_CODE]
        skus = [s for s in self.inventory if s.get("active", "1") == "1"] or self.inventory
        pt_by_cur = {p["currency_code"]: p["id"] for p in price_types}
        if not active or not skus:
            return []
        # (status, flaw) plan: small is a fixed, readable list; large is ~1,000 drawn by weight
        if not self.large:
            plan = [("APPROVED", None)] * 4 + [("SHIPPED", None)] * 2 + [
                ("PENDING", None), ("IN_PROGRESS", None), ("NOTES", None), ("CANCELLED", None),
                ("APPROVED", "unknown_sku"), ("APPROVED", "unknown_customer"), ("APPROVED", "pending_customer"),
                ("APPROVED", "before_start"), ("APPROVED", "cancelled_line"), ("APPROVED", "no_shipping_method"),
                ("SHIPPED", "cancelled_line"),
            ]
        else:
            statuses = ("APPROVED", "SHIPPED", "PENDING", "IN_PROGRESS", "NOTES", "CANCELLED")
            weights = (55, 15, 8, 5, 4, 8)
            flaws = (None,) * 90 + ("unknown_sku", "unknown_customer", "pending_customer", "before_start",
                                    "cancelled_line", "cancelled_line", "cancelled_line", "no_shipping_method",
                                    "unknown_sku", "before_start")
            plan = []
            for _ in range(1000):
                st = self.rng.choices(statuses, weights)[0]
                plan.append((st, self.rng.choice(flaws) if st in ("APPROVED", "SHIPPED") else None))
        out = []
        for i, (status, flaw) in enumerate(plan):
            order_id = str(5_000_001 + i)
            if flaw == "unknown_customer":
                conn = joor_only[0]
            elif flaw == "pending_customer" and pending:
                conn = pending[i % len(pending)]
            else:
                conn = active[i % len(active)] if not self.large else self.rng.choice(active)
            currency = conn["currency"]
            created = SEED_TIME + timedelta(days=i % 300 if self.large else i * 3, hours=self.rng.randrange(0, 9))
            approved = None
            if status in ("APPROVED", "SHIPPED"):
                approved = created + timedelta(hours=self.rng.randrange(1, 48))
            if flaw == "before_start":
                created = datetime(2025, 12, 10, 15, 0, tzinfo=UTC) + timedelta(hours=i % 48)
                approved = created + timedelta(days=2)
            shipped = approved + timedelta(days=self.rng.randrange(3, 20)) if status == "SHIPPED" and approved else None
            n_lines = self.rng.randrange(2, 9) if not self.large else self.rng.randrange(1, 16)
            lines = []
            for k, sku in enumerate(self.rng.sample(skus, min(n_lines, len(skus)))):
                cancelled = flaw == "cancelled_line" and k == 0
                lines.append(self.line_item(order_id, sku, currency, self.rng.choice((6, 12, 12, 18, 24, 36)), cancelled))
            if flaw == "unknown_sku":
                ghost = dict(skus[0], sku_id=UNKNOWN_SKU_EXTERNAL_ID, upc_display="000000000000", style_number="ZZ99999")
                lines.append(self.line_item(order_id, ghost, currency, 12))
                lines[-1]["line_item_sku"]["sku_id"] = joor_id("OrderSKU", int(UNKNOWN_SKU_EXTERNAL_ID))
            total = sum(float(li["line_item_sku"]["wholesale_price"]) * li["quantity"] for li in lines if not li["cancelled"])
            last = shipped or approved or created
            ship_addr = conn["shipping_addresses"][0]
            start_ship = (created + timedelta(days=30)).date()
            out.append({
                "id": order_id,
                "order_number": str(100_001 + i),
                "status": status,
                "retailer_id": conn["retailer_id"] or str(700_000 + int(conn["connection_id"]) % 1000),
                "customer_code": conn["customer_code"],
                "customer_name": conn["customer_name"],
                "po_number": f"PO-{20_000 + i}",
                "price_type_id": pt_by_cur.get(currency, pt_by_cur.get("USD")),
                "currency_code": currency,
                "collection_id": collection_id,
                "date_created": _ts(created),
                "date_approved": _ts(approved) if approved else None,
                "date_shipped": _ts(shipped) if shipped else None,
                "last_modified": _ts(last),
                "start_ship_date": start_ship.isoformat(),
                "complete_ship_date": (start_ship + timedelta(days=30)).isoformat(),
                "payment_method_code": PAYMENT_METHODS[i % len(PAYMENT_METHODS)][0],
                "shipping_method_code": None if flaw == "no_shipping_method" else SHIPPING_METHODS[i % 3][0],
                "sales_rep_code": conn["sales_rep_code"],
                "warehouse": DEFAULT_WAREHOUSE,
                "billing_address": dict(conn["billing_address"]),
                "shipping_address": dict(ship_addr),
                "buyer": {"name": f"Buyer {i + 1}", "email": conn["customer_contact_email"] or f"buyer{i + 1}@example.com"},
                "comments": "" if flaw is None else f"sandbox seed: {flaw}",
                "discount": "0.00",
                "total": _money(total),
                "export_status": "UNDEFINED",
                "export_description": "",
                "line_items": lines,
                "seed_flaw": flaw,
            })
        return out

    def build(self) -> dict[str, Any]:
        price_types = self.price_types()
        products, skus, collection = self.manual_catalog()
        connections = self.connections()
        return {
            "account_id": ACCOUNT_ID,
            "account_name": "Sandbox Brand",
            "dataset": self.dataset,
            "price_types": price_types,
            "traits": [
                {"id": COLOR_TRAIT_ID, "name": "Color", "type": "SKU"},
                {"id": SIZE_TRAIT_ID, "name": "Size", "type": "SKU"},
            ],
            "categories": self.categories(),
            "warehouses": [{"name": n, "is_default": n == DEFAULT_WAREHOUSE} for n in WAREHOUSES],
            "payment_methods": [{"code": c, "name": n} for c, n in PAYMENT_METHODS],
            "shipping_methods": [{"code": c, "name": n} for c, n in SHIPPING_METHODS],
            "sales_reps": list(SALES_REPS),
            "order_start_date": ORDER_START_DATE.isoformat(),
            "seasons": [],
            "products": products,
            "skus": skus,
            "prices": [],
            "collections": [collection],
            "connections": connections,
            "orders": self.orders(connections, price_types, collection["id"]),
        }


def build_joor_seed(amc: Any, dataset: str, rng: random.Random) -> dict[str, Any]:
    """The JOOR account's initial state for ``dataset``, deterministic for a given ``rng`` seed."""
    return _SeedBuilder(amc, dataset, rng).build()
