"""Deterministic sandbox data sets: the AMC company data (and the JOOR seed derived from it).

``build_world(dataset, seed)`` returns the same data for the same arguments, byte for byte,
so tests, benchmarks and demos can name the data they run against. Rows are plain dicts whose
keys are exactly the AMC API field names (shared/reference/amc-api.md §2) and whose values are
string-typed the way AMC sends them: flags ``"1"``/``"0"``, decimals as strings,
``last_modified_time`` ISO-8601 UTC.

Image ``img`` values are stored as server-relative paths (``/images/<name>.png``); the AMC
sandbox app turns them into absolute URLs of itself when it serves them.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

Row = dict[str, Any]

DATASETS: dict[str, dict[str, Any]] = {
    # ~30 styles, a few hundred SKUs, ~12 customers: for tests (builds in milliseconds).
    "small": {"styles": 30, "skus_per_style": 10, "customers": 12, "seasons": 3},
    # ~5,000 styles, ~150,000 SKUs, ~2,000 customers: for benchmarks.
    "large": {"styles": 5000, "skus_per_style": 32, "customers": 2000, "seasons": 4},
}

# --- the AMC field lists (the wire contract, amc-api.md §2) -------------------------------
PRODUCT_FIELDS = (
    "product_id", "style_number", "description", "web_title", "web_description", "category",
    "season", "origin", "content", "price", "retail_price", "is_product", "last_modified_time",
    "joor_sync", "joor_web_title", "joor_web_description", "images", "price_groups",
)
PRODUCT_ATTRIBUTE_FIELDS = ("id", "product_id", "attribute_2", "color_code", "season", "joor_sync", "images")
INVENTORY_FIELDS = (
    "sku_id", "product_id", "style_number", "attr_2", "size", "size_position", "upc_display", "active",
    "joor_sync", "qty_inventory", "qty_avail_sell", "qty_avail_alloc", "qty_open_sales", "last_modified_time",
)
QTY_FIELDS = ("qty_inventory", "qty_avail_sell", "qty_avail_alloc", "qty_open_sales")
SKU_WAREHOUSE_FIELDS = ("sku_id", "warehouse_id", *QTY_FIELDS, "last_modified_time")
WAREHOUSE_FIELDS = ("id", "name", "is_default")
CURRENCY_FIELDS = ("id", "name", "is_default", "rate", "last_updated")
ADDRESS_FIELDS = ("address_1", "address_2", "city", "state", "postal_code", "country")
CUSTOMER_FIELDS = (
    "customer_id", "account_number", "customer_name", "status", "division_id", "warehouse_id", "ar_acct",
    "terms_id", "currency_id", "price_group", "email", "phone", *ADDRESS_FIELDS, "joor_customer_code",
    "last_modified_time",
)
LOCATION_FIELDS = ("customer_id", "ship_to_id", "name", *ADDRESS_FIELDS)
LOOKUP_FIELDS = ("id", "name")
ORDER_HEADER_FIELDS = (
    "customer_id", "division_id", "ar_acct", "warehouse_id", "currency_id", "date", "date_start", "date_due",
    "customer_po", "joor_id", "source", "credit_status", "ship_via", "terms_id", "notes", "ship_to_id",
    "name", *ADDRESS_FIELDS,
)
ORDER_FIELDS = ("order_id", *ORDER_HEADER_FIELDS, "qty", "amount", "order_items", "last_modified_time")
ORDER_ITEM_FIELDS = ("order_item_id", "sku_id", "style_number", "attr_2", "size", "upc_display", "qty",
                     "unit_price", "amount")

# resource -> (field names, key fields in their sort order)
RESOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "products": (PRODUCT_FIELDS, ("product_id",)),
    "product_attributes": (PRODUCT_ATTRIBUTE_FIELDS, ("id",)),
    "inventory": (INVENTORY_FIELDS, ("sku_id",)),
    "sku_warehouse": (SKU_WAREHOUSE_FIELDS, ("sku_id", "warehouse_id")),
    "warehouses": (WAREHOUSE_FIELDS, ("id",)),
    "currencies": (CURRENCY_FIELDS, ("id",)),
    "customers": (CUSTOMER_FIELDS, ("customer_id",)),
    "locations": (LOCATION_FIELDS, ("ship_to_id",)),
    "divisions": (LOOKUP_FIELDS, ("id",)),
    "terms": (LOOKUP_FIELDS, ("id",)),
    "ship_methods": (LOOKUP_FIELDS, ("id",)),
    "orders": (ORDER_FIELDS, ("order_id",)),
}

# --- vocabularies ---------------------------------------------------------------------------
SIZE_RUNS: dict[str, tuple[str, ...]] = {
    "alpha": ("XS", "S", "M", "L", "XL"),
    "alpha_ext": ("XXS", "XS", "S", "M", "L", "XL", "XXL"),
    "numeric": ("0", "2", "4", "6", "8", "10", "12", "14"),
    "denim": ("28", "29", "30", "31", "32", "33", "34", "36", "38"),
    "one": ("ONE SIZE",),
}
# category -> (style-number prefix, size runs, garments, price range USD)
CATEGORIES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[int, int]]] = {
    "Tops": ("TP", ("alpha", "alpha_ext"), ("Shirt", "Blouse", "Tee", "Tank", "Camisole", "Button-Down", "Polo"), (18, 70)),
    "Knitwear": ("KN", ("alpha",), ("Crewneck Sweater", "Cardigan", "Turtleneck", "Pullover", "Knit Vest"), (35, 120)),
    "Dresses": ("DR", ("numeric", "alpha"), ("Midi Dress", "Maxi Dress", "Slip Dress", "Wrap Dress", "Shirt Dress", "Mini Dress"), (40, 160)),
    "Skirts": ("SK", ("numeric",), ("Midi Skirt", "Mini Skirt", "Pleated Skirt", "Wrap Skirt"), (30, 95)),
    "Pants": ("PT", ("numeric", "alpha"), ("Trouser", "Wide-Leg Pant", "Jogger", "Cargo Pant", "Chino"), (30, 110)),
    "Denim": ("DN", ("denim",), ("Straight Jean", "Skinny Jean", "Barrel Jean", "Bootcut Jean", "Denim Short"), (40, 120)),
    "Outerwear": ("OW", ("alpha", "alpha_ext"), ("Trench Coat", "Puffer Jacket", "Blazer", "Bomber", "Overcoat", "Shacket"), (80, 320)),
    "Accessories": ("AC", ("one",), ("Tote Bag", "Scarf", "Beanie", "Belt", "Bucket Hat", "Crossbody Bag"), (15, 140)),
}
CATEGORY_WEIGHTS = {"Tops": 22, "Knitwear": 10, "Dresses": 16, "Skirts": 7, "Pants": 14, "Denim": 10,
                    "Outerwear": 10, "Accessories": 11}
ADJECTIVES = ("Relaxed", "Classic", "Cropped", "Oversized", "Fitted", "Tailored", "Everyday", "Vintage",
              "Boxy", "Slim", "Ribbed", "Washed", "Pleated", "Belted", "Utility", "Draped", "Organic",
              "Sculpted", "Airy", "Heritage", "Soft", "Structured", "Easy", "Weekend")
MATERIALS = ("Linen", "Cotton", "Poplin", "Silk", "Satin", "Wool", "Cashmere", "Jersey", "Twill", "Corduroy",
             "Denim", "Tencel", "Merino", "Crepe", "Velvet", "Canvas", "Seersucker", "Leather")
CONTENTS = ("100% Cotton", "100% Linen", "55% Linen 45% Cotton", "100% Silk", "70% Wool 30% Nylon",
            "100% Cashmere", "95% Cotton 5% Elastane", "98% Cotton 2% Elastane", "100% Polyester",
            "60% Tencel 40% Cotton", "100% Merino Wool", "80% Viscose 20% Linen", "100% Leather")
ORIGINS = ("China", "Portugal", "Italy", "India", "Peru", "USA", "Vietnam", "Turkey", "Bangladesh", "Mexico")
COLORS: tuple[tuple[str, str], ...] = (
    ("Black", "BLK"), ("White", "WHT"), ("Ivory", "IVR"), ("Navy", "NVY"), ("Heather Grey", "HGR"),
    ("Charcoal", "CHR"), ("Camel", "CML"), ("Olive", "OLV"), ("Sage", "SGE"), ("Rust", "RST"),
    ("Burgundy", "BRG"), ("Blush", "BLS"), ("Cobalt", "CBT"), ("Sky Blue", "SKY"), ("Forest", "FRS"),
    ("Sand", "SND"), ("Chocolate", "CHC"), ("Terracotta", "TRC"), ("Lavender", "LAV"), ("Mustard", "MUS"),
    ("Indigo", "IND"), ("Light Wash", "LTW"), ("Dark Wash", "DKW"), ("Stone", "STN"), ("Ecru", "ECR"),
    ("Coral", "CRL"), ("Emerald", "EMR"), ("Plum", "PLM"), ("Tan", "TAN"), ("Red", "RED"),
    ("Pink Stripe", "PST"), ("Navy Stripe", "NST"), ("Floral Print", "FLP"), ("Leopard", "LEO"),
    ("Khaki", "KHK"), ("Mint", "MNT"), ("Butter", "BTR"), ("Slate", "SLT"), ("Oatmeal", "OAT"),
    ("Cherry", "CHY"),
)
SEASONS = ("Spring 2026", "Fall 2026", "Spring 2027", "Resort 2027", "Fall 2027")
# (price group, ISO currency, AMC currency id, rate per 1 USD, wholesale multiplier over USD)
PRICE_GROUPS: tuple[tuple[str, str, str, str, float], ...] = (
    ("Wholesale USD", "USD", "1", "1", 1.0),
    ("Wholesale EUR", "EUR", "2", "0.92", 1.0),
    ("Wholesale GBP", "GBP", "3", "0.79", 1.05),
    ("Wholesale CAD", "CAD", "4", "1.37", 1.0),
)
WAREHOUSES = (("1", "Main Warehouse", "1"), ("2", "East Coast DC", "0"))
DIVISIONS = (("1", "Womens"), ("2", "Mens"), ("3", "Wholesale Outlet"))
TERMS = (("1", "Net 30"), ("2", "Net 60"), ("3", "Credit Card"), ("4", "Pro Forma"))
SHIP_METHODS = (("1", "UPS Ground"), ("2", "FedEx 2Day"), ("3", "Freight LTL"), ("4", "Customer Pickup"))
STORE_WORDS = ("Bloom", "Juniper", "Marlow", "Harbor", "Olive", "Sable", "Willow", "Cedar", "Ember", "Fern",
               "Hazel", "Ivy", "Linden", "Magnolia", "Nova", "Onyx", "Poppy", "Quill", "Rosewood", "Saffron",
               "Tide", "Vesper", "Wren", "Aster", "Birch", "Clover", "Dune", "Fable", "Grove", "Luna")
STORE_KINDS = ("Boutique", "& Co", "Mercantile", "Supply", "Collective", "Outfitters", "Studio", "Goods",
               "Shop", "Atelier", "Trading", "House")
CITIES = (("New York", "NY", "10012", "US"), ("Brooklyn", "NY", "11211", "US"), ("Austin", "TX", "78701", "US"),
          ("Los Angeles", "CA", "90036", "US"), ("San Francisco", "CA", "94110", "US"),
          ("Chicago", "IL", "60614", "US"), ("Seattle", "WA", "98101", "US"), ("Nashville", "TN", "37203", "US"),
          ("Denver", "CO", "80202", "US"), ("Miami", "FL", "33139", "US"), ("Boston", "MA", "02116", "US"),
          ("Toronto", "ON", "M5V 2T6", "CA"), ("Vancouver", "BC", "V6B 1A1", "CA"), ("London", "", "E1 6AN", "GB"),
          ("Manchester", "", "M1 1AE", "GB"), ("Paris", "", "75003", "FR"), ("Berlin", "", "10115", "DE"),
          ("Amsterdam", "", "1012 AB", "NL"), ("Milan", "", "20121", "IT"))
STREETS = ("Main St", "Elm St", "Market St", "Broadway", "King St", "Queen St", "Mercer St", "Oak Ave",
           "Pine St", "Bedford Ave", "Rue de Bretagne", "Torstrasse", "Via Tortona", "Spitalfields Row")
# ISO country -> price group a customer buys in
COUNTRY_GROUP = {"US": "Wholesale USD", "CA": "Wholesale CAD", "GB": "Wholesale GBP", "FR": "Wholesale EUR",
                 "DE": "Wholesale EUR", "NL": "Wholesale EUR", "IT": "Wholesale EUR"}

EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)  # data timestamps lie in [EPOCH, EPOCH + ~320 days]
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_ts(moment: datetime) -> str:
    """Render a datetime the way AMC renders ``last_modified_time`` (ISO-8601 UTC, seconds)."""
    return moment.astimezone(UTC).strftime(TS_FORMAT)


def upc_check_digit(eleven: str) -> str:
    """UPC-A check digit of an 11-digit body (odd positions weigh 3)."""
    odd = sum(int(c) for c in eleven[0::2])
    even = sum(int(c) for c in eleven[1::2])
    return str((10 - (odd * 3 + even) % 10) % 10)


def upc_is_valid(upc: str) -> bool:
    """True when ``upc`` is 12 digits with a correct UPC-A check digit."""
    return len(upc) == 12 and upc.isdigit() and upc_check_digit(upc[:11]) == upc[11]


@dataclass
class AmcData:
    """The AMC company's records, one list of wire-shaped dicts per API resource."""

    products: list[Row] = field(default_factory=list)
    product_attributes: list[Row] = field(default_factory=list)
    inventory: list[Row] = field(default_factory=list)
    sku_warehouse: list[Row] = field(default_factory=list)
    warehouses: list[Row] = field(default_factory=list)
    currencies: list[Row] = field(default_factory=list)
    customers: list[Row] = field(default_factory=list)
    locations: list[Row] = field(default_factory=list)
    divisions: list[Row] = field(default_factory=list)
    terms: list[Row] = field(default_factory=list)
    ship_methods: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)

    def resource(self, name: str) -> list[Row]:
        """The row list of one API resource by its URL name."""
        if name not in RESOURCES:
            raise KeyError(name)
        return getattr(self, name)

    def to_dict(self) -> dict[str, list[Row]]:
        """Plain JSON-able dict (shares the row objects; copy if you mutate)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, list[Row]]) -> AmcData:
        """Inverse of ``to_dict``; unknown keys are ignored, missing resources are empty."""
        return cls(**{f.name: list(data.get(f.name, [])) for f in fields(cls)})

    def copy(self) -> AmcData:
        """Deep copy, so one built world can seed several independent states."""
        return AmcData.from_dict(copy.deepcopy(self.to_dict()))


@dataclass
class World:
    """One named, seeded data set: AMC's records and the JOOR account's starting state."""

    dataset: str
    seed: int
    amc: AmcData
    joor: dict[str, Any]


class _Gen:
    """Builds one AmcData from an RNG; split out of build_world so each step reads alone."""

    def __init__(self, dataset: str, seed: int) -> None:
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(DATASETS)}")
        self.spec = DATASETS[dataset]
        self.rng = random.Random(f"amc:{dataset}:{seed}")
        self.data = AmcData()
        self.qty_str = {n: str(n) for n in range(-100, 1001)}  # shared string objects: less memory
        self.seasons = SEASONS[: self.spec["seasons"]]
        # 320 days of possible timestamps, rendered once and shared
        self.ts_pool = [format_ts(EPOCH + timedelta(minutes=37 * i)) for i in range(0, 12_400)]

    def q(self, n: int) -> str:
        return self.qty_str.get(n) or str(n)

    def ts(self) -> str:
        return self.ts_pool[self.rng.randrange(len(self.ts_pool))]

    def build(self) -> AmcData:
        self.lookups()
        self.styles()
        self.customers()
        return self.data

    def lookups(self) -> None:
        d = self.data
        d.warehouses = [{"id": i, "name": n, "is_default": dflt} for i, n, dflt in WAREHOUSES]
        d.currencies = [
            {"id": cid, "name": iso, "is_default": "1" if iso == "USD" else "0", "rate": rate,
             "last_updated": format_ts(EPOCH + timedelta(days=300))}
            for _, iso, cid, rate, _m in PRICE_GROUPS
        ]
        d.divisions = [{"id": i, "name": n} for i, n in DIVISIONS]
        d.terms = [{"id": i, "name": n} for i, n in TERMS]
        d.ship_methods = [{"id": i, "name": n} for i, n in SHIP_METHODS]

    def styles(self) -> None:
        rng, d = self.rng, self.data
        n_styles = self.spec["styles"]
        target = self.spec["skus_per_style"]
        cats = list(CATEGORY_WEIGHTS)
        weights = [CATEGORY_WEIGHTS[c] for c in cats]
        warehouses = [w["id"] for w in d.warehouses]
        upc_base = 81_234_500_000 + rng.randrange(0, 1000) * 1_000_000
        product_id, colorway_id, sku_id = 1001, 5001, 100001
        for i in range(n_styles):
            cat = rng.choices(cats, weights)[0]
            prefix, runs, garments, (lo, hi) = CATEGORIES[cat]
            sizes = SIZE_RUNS[rng.choice(runs)]
            n_colors = max(1, min(12, round(target / len(sizes) * rng.uniform(0.6, 1.4))))
            colors = rng.sample(COLORS, n_colors)
            season = rng.choice(self.seasons)
            pid = str(product_id)
            product_id += 1
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(garments)}"
            lmt = self.ts()
            price = rng.randrange(lo * 2, hi * 2 + 1) / 2  # whole or half dollars
            retail = round(price * rng.choice((2.0, 2.2, 2.4, 2.5)))
            web = rng.random()
            web_title = "" if web < 0.12 else f"The {name}"
            joor_web_title = "" if web < 0.12 or web > 0.4 else f"{name} - {season}"
            web_description = "" if web < 0.12 else (
                f"{name} in {rng.choice(CONTENTS).lower()}. {rng.choice(('Easy fit.', 'True to size.', 'Runs small; size up.', 'Designed in New York.'))}")
            has_images = rng.random() >= 0.08
            product_images: list[Row] = []
            if has_images:
                product_images.append({"img": f"/images/p{pid}-main.png"})
                if rng.random() < 0.6:
                    product_images.append({"img": f"/images/p{pid}-back.png"})
            d.products.append({
                "product_id": pid,
                "style_number": f"{prefix}{10000 + i}",
                "description": name,
                "web_title": web_title,
                "web_description": web_description,
                "category": cat,
                "season": season,
                "origin": rng.choice(ORIGINS),
                "content": rng.choice(CONTENTS),
                "price": f"{price:.2f}",
                "retail_price": f"{retail:.2f}",
                "is_product": "1",
                "last_modified_time": lmt,
                "joor_sync": "1" if rng.random() < 0.9 else "0",
                "joor_web_title": joor_web_title,
                "joor_web_description": "" if not joor_web_title else f"{web_description} JOOR exclusive.",
                "images": product_images,
                "price_groups": [
                    {"price_group": group, "currency_id": cid,
                     "price": f"{price * float(rate) * mult:.2f}" if iso != "USD" else f"{price:.2f}"}
                    for group, iso, cid, rate, mult in PRICE_GROUPS
                ],
            })
            style_number = d.products[-1]["style_number"]
            for color, code in colors:
                cw_sync = "1" if rng.random() < 0.95 else "0"
                cw_images: list[Row] = []
                if has_images:
                    color_img = f"/images/p{pid}-{code.lower()}.png"
                    swatch_img = f"/images/p{pid}-{code.lower()}-swatch.png"
                    cw_images = [{"img": color_img, "is_swatch": "0"}, {"img": swatch_img, "is_swatch": "1"}]
                    product_images.append({"img": color_img, "colorway": color, "is_swatch": "0"})
                    product_images.append({"img": swatch_img, "colorway": color, "is_swatch": "1"})
                d.product_attributes.append({
                    "id": str(colorway_id), "product_id": pid, "attribute_2": color, "color_code": code,
                    "season": season, "joor_sync": cw_sync, "images": cw_images,
                })
                colorway_id += 1
                for pos, size in enumerate(sizes, start=1):
                    sid = str(sku_id)
                    body = str(upc_base + sku_id)
                    totals = [0, 0, 0, 0]
                    for wh in warehouses:
                        main = wh == warehouses[0]
                        inv = rng.randrange(0, 240 if main else 60)
                        if rng.random() < 0.01:
                            inv = -rng.randrange(1, 6)  # oversold: AMC lets stock go negative
                        open_sales = rng.randrange(0, 30) if rng.random() < 0.5 else 0
                        alloc = min(max(inv, 0), rng.randrange(0, 10))
                        qtys = (inv, inv - open_sales, inv - alloc, open_sales)
                        d.sku_warehouse.append({
                            "sku_id": sid, "warehouse_id": wh,
                            "qty_inventory": self.q(qtys[0]), "qty_avail_sell": self.q(qtys[1]),
                            "qty_avail_alloc": self.q(qtys[2]), "qty_open_sales": self.q(qtys[3]),
                            "last_modified_time": lmt,
                        })
                        for k in range(4):
                            totals[k] += qtys[k]
                    d.inventory.append({
                        "sku_id": sid, "product_id": pid, "style_number": style_number, "attr_2": color,
                        "size": size, "size_position": self.q(pos),
                        "upc_display": body + upc_check_digit(body),
                        "active": "1" if rng.random() < 0.98 else "0", "joor_sync": cw_sync,
                        "qty_inventory": self.q(totals[0]), "qty_avail_sell": self.q(totals[1]),
                        "qty_avail_alloc": self.q(totals[2]), "qty_open_sales": self.q(totals[3]),
                        "last_modified_time": lmt,
                    })
                    sku_id += 1

    def customers(self) -> None:
        rng, d = self.rng, self.data
        n = self.spec["customers"]
        groups = {g: (cid, iso) for g, iso, cid, _r, _m in PRICE_GROUPS}
        ship_to = 1
        missing = self._customer_flaws(n)
        codes: list[str] = []
        for i in range(n):
            cust_id = str(2001 + i)
            word, kind = rng.choice(STORE_WORDS), rng.choice(STORE_KINDS)
            city, state, postal, country = rng.choice(CITIES)
            name = f"{word} {kind}" if i < len(STORE_WORDS) * 2 else f"{word} {kind} {city}"
            group = COUNTRY_GROUP[country]
            currency_id = groups[group][0]
            code = f"C-{i + 1:04d}"
            flaw = missing.get(i)
            if flaw == "no_code":
                code = ""
            elif flaw == "dup_code" and codes:
                code = rng.choice([c for c in codes if c] or [code])
            codes.append(code)
            row = {
                "customer_id": cust_id,
                "account_number": f"{word[:4].upper()}{i + 1:04d}",
                "customer_name": name,
                "status": "Active" if rng.random() < 0.95 else "Inactive",
                "division_id": "1" if rng.random() < 0.8 else "2",
                "warehouse_id": "1",
                "ar_acct": "1200",
                "terms_id": rng.choice(("1", "1", "2", "3")),
                "currency_id": currency_id,
                "price_group": group,
                "email": f"buyer{i + 1}@{word.lower()}{kind.lower().replace('& ', '').replace(' ', '')}.example",
                "phone": f"+1-555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}",
                "address_1": f"{rng.randrange(1, 999)} {rng.choice(STREETS)}",
                "address_2": "" if rng.random() < 0.7 else f"Suite {rng.randrange(100, 999)}",
                "city": city, "state": state, "postal_code": postal, "country": country,
                "joor_customer_code": code,
                "last_modified_time": self.ts(),
            }
            if flaw in ("division_id", "warehouse_id", "ar_acct", "currency_id"):
                row[flaw] = ""
            d.customers.append(row)
            for k in range(1 if rng.random() < 0.6 else 2):
                c2, s2, p2, co2 = (city, state, postal, country) if k == 0 else rng.choice(
                    [c for c in CITIES if c[3] == country])
                d.locations.append({
                    "customer_id": cust_id, "ship_to_id": str(ship_to),
                    "name": name if k == 0 else f"{name} - {c2}",
                    "address_1": row["address_1"] if k == 0 else f"{rng.randrange(1, 999)} {rng.choice(STREETS)}",
                    "address_2": row["address_2"] if k == 0 else "",
                    "city": c2, "state": s2, "postal_code": p2, "country": co2,
                })
                ship_to += 1

    def _customer_flaws(self, n: int) -> dict[int, str]:
        """Which customers are deliberately broken, and how (fixed for small, ~3% for large)."""
        if n <= 20:
            # small: the last four customers carry one flaw each (tests rely on these)
            return {n - 4: "no_code", n - 3: "division_id", n - 2: "currency_id", n - 1: "warehouse_id"}
        flaws: dict[int, str] = {}
        kinds = ("no_code", "no_code", "dup_code", "division_id", "warehouse_id", "ar_acct", "currency_id")
        for i in self.rng.sample(range(10, n), max(len(kinds), n * 3 // 100)):
            flaws[i] = self.rng.choice(kinds)
        return flaws


def _joor_seed(amc: AmcData, dataset: str, seed: int) -> dict[str, Any]:
    """The JOOR account's starting state, from the JOOR sandbox's own builder when present."""
    try:
        from amc_joor_sandbox.joor_seed import build_joor_seed
    except ImportError:
        return {}
    return build_joor_seed(amc, dataset, random.Random(f"joor:{dataset}:{seed}"))


def build_amc(dataset: str, seed: int) -> AmcData:
    """Only the AMC half of ``build_world`` (what an AMC-only reset needs)."""
    return _Gen(dataset, seed).build()


def build_world(dataset: str, seed: int) -> World:
    """Build the named data set for ``seed``: same arguments, same data."""
    amc = build_amc(dataset, seed)
    return World(dataset=dataset, seed=seed, amc=amc, joor=_joor_seed(amc, dataset, seed))
