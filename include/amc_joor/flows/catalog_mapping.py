"""Catalog push, the pure half: AMC rows -> JOOR payloads, content hashes, delta plan, batches.

No I/O here (no HTTP, no DB, no Airflow): every function takes plain data and returns plain
data, so the whole mapping is unit-tested and the benchmark measures exactly what the DAG runs.
The I/O half (extract, push, state commits) is :mod:`amc_joor.flows.catalog`.

Field map (AMC -> JOOR; shared/reference/amc-api.md §3, the ApparelMagic plugin's behaviour):

* product ``name``        <- ``joor_web_title`` else ``web_title`` else ``description`` (AMC's style
                             name); the first non-blank wins, in that documented order.
* ``external_id`` and ``product_identifier`` <- ``style_number``.
* ``description``         <- ``joor_web_description`` else ``web_description`` else ``description``.
* ``country_of_origin``   <- ``origin``; ``fabrication`` <- ``content``.
* one SKU per synced colour x size (every combination explicitly), ``external_id`` <- AMC
  ``sku_id``, identifiers ``[{type: upc, value: upc_display}]``, traits Color (value = the colour
  name, external id = the AMC ``color_code``) and Size (value and external id = the AMC size,
  case kept).
* one price per SKU per AMC price group: wholesale <- the group's price; retail <- style MSRP
  (``retail_price``, kept in AMC's default currency) x the group currency's ``rate`` (units per
  1 default currency) / the default currency's rate, ``Decimal``, ROUND_HALF_UP to cents.

Content hashes: SHA-256 over canonical JSON (``sort_keys``, compact separators, ASCII) of the
AMC-side content of a record (never JOOR ids, never the FX rate). Pure stdlib, so the hash is
identical in every process, Python version and pandas version (unlike ``hash()``, which is
salted per process, or ``pd.util.hash_pandas_object``, whose output is not a promise across
pandas releases). pandas does the joins/selection; hashing is a tight list comprehension.

Why the FX rate is not in the price hash: the plugin converts MSRP "at the exchange rate current
at sync time". A price is re-sent when its own content (group, currency, wholesale, MSRP)
changes, or on a full resync; a moved rate alone does not re-price 600k rows every hour. The rate
used is stored with the price's state (``synced_records.detail``) and shown in the report.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

#: JOOR's fixed trait ids (joor-api.md §3).
COLOR_TRAIT_ID = "U0tVVHJhaXQ6U3R5bGVDb2xvcg=="
SIZE_TRAIT_ID = "U0tVVHJhaXQ6U2l6ZQ=="

#: Entities in push order; also the ``synced_records.entity`` values this flow owns.
PRODUCT, SKU, PRICE, COLLECTION = "product", "sku", "price", "collection"
#: Style-level images (key: style) and colour-level image + swatch (key: style/colour) travel to
#: two different JOOR endpoints, so they are two entities: each packs into full requests alone.
ASSET, COLOR_ASSET = "asset", "color_asset"
ENTITIES = (PRODUCT, SKU, PRICE, ASSET, COLOR_ASSET, COLLECTION)

#: Prefix of the external ids of the linesheets (collections) this integration owns.
SEASON_PREFIX = "amc-season-"

CENT = Decimal("0.01")
_SLUG = re.compile(r"[^a-z0-9]+")
#: A number whose commas are thousands separators ("1,234.50"); any other comma is refused.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
#: Text a JSON reader puts where an API sent bytes that are not valid UTF-8 (see models.amc).
_GARBLED = "\ufffd"


# --------------------------------------------------------------------------- small helpers


def canonical_json(obj: Any) -> str:
    """The one serialisation hashes are computed over (stable key order, no whitespace)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def content_hash(obj: Any) -> str:
    """SHA-256 hex of :func:`canonical_json` (process- and version-stable)."""
    return hashlib.sha256(canonical_json(obj).encode("ascii")).hexdigest()


def text(value: Any) -> str:
    """A stripped string; '' for None, NaN/NA and whitespace (AMC sends "" for unset fields).

    Called millions of times on large catalogs: the common case (a str) returns first.
    """
    if isinstance(value, str):
        return value.strip()
    if value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType":
        return ""
    return str(value).strip()


def blank(value: Any) -> bool:
    """True for None, NaN/NA and whitespace-only strings."""
    return not text(value)


def first_nonblank(*values: Any) -> str:
    """The first non-blank value, stripped; '' when all are blank."""
    for v in values:
        t = text(v)
        if t:
            return t
    return ""


def norm_column(series) -> Any:
    """A column as stripped Python strings ('' for missing), vectorised."""
    return series.astype(object).where(series.notna(), "").astype(str).str.strip().astype(object)


def season_slug(season: str) -> str:
    """'Spring 2026' -> 'spring-2026' (lower-case, runs of other characters -> '-')."""
    return _SLUG.sub("-", season.lower()).strip("-") or "none"


def season_external_id(season: str) -> str:
    """External id of the integration-owned linesheet for one AMC season."""
    return SEASON_PREFIX + season_slug(season)


def parse_decimal(value: Any, what: str) -> Decimal:
    """A Decimal from an AMC decimal string; ValueError naming ``what`` when not a number."""
    if blank(value):
        raise ValueError(f"{what} is empty")
    raw = str(value).strip()
    if "," in raw:
        # "12,50" is twelve-fifty written with a decimal comma, not 1250: never guess
        if not _GROUPED.match(raw):
            raise ValueError(f"{what} {value!r} is not a number (a decimal comma? AMC amounts use a point: 12.50)")
        raw = raw.replace(",", "")
    try:
        d = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{what} {value!r} is not a number")
    return d


def money(amount: Decimal) -> str:
    """Cents, ROUND_HALF_UP, as JOOR's decimal string ('100.00')."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def convert_msrp(msrp: Any, rate: Any, base_rate: Any = "1") -> str:
    """MSRP in the default currency -> the group currency, rounded half-up to cents.

    ``rate`` and ``base_rate`` are AMC ``/currencies`` rates (units per 1 default currency); the
    default currency's own rate is normally 1 but is divided out so a tenant whose default is not
    1.0 still converts right. Multiplication first, then division, at Decimal's 28 digits, and
    only one rounding (at the end): no double-rounding at the .005 boundaries.
    """
    m = parse_decimal(msrp, "MSRP")
    r = parse_decimal(rate, "exchange rate")
    b = parse_decimal(base_rate, "default currency rate")
    if r <= 0 or b <= 0:
        raise ValueError(f"exchange rate must be positive (rate {rate}, default rate {base_rate})")
    return money(m * r / b)


def parse_json_list(value: Any) -> list:
    """Nested AMC lists arrive as lists, or as JSON strings once staged in Parquet."""
    if isinstance(value, list):
        return value
    if blank(value):
        return []
    if isinstance(value, str):
        try:
            out = json.loads(value)
        except json.JSONDecodeError:
            return []
        return out if isinstance(out, list) else []
    try:  # numpy arrays from parquet
        return list(value)
    except TypeError:
        return []


# --------------------------------------------------------------------------- record mapping


def map_product(row: dict[str, Any]) -> dict[str, Any]:
    """The JOOR product body for one AMC product row (without the JOOR ``id``)."""
    style = text(row.get("style_number"))
    return {
        "name": first_nonblank(row.get("joor_web_title"), row.get("web_title"), row.get("description")),
        "external_id": style,
        "product_identifier": style,
        "description": first_nonblank(
            row.get("joor_web_description"), row.get("web_description"), row.get("description")
        ),
        "country_of_origin": text(row.get("origin")),
        "fabrication": text(row.get("content")),
    }


def sku_hash(style: str, sku_id: str, color: str, color_code: str, size: str, upc: str) -> str:
    """The SKU's content hash over exactly the AMC fields its JOOR body is built from."""
    return content_hash([style, sku_id, color, color_code, size, upc])


def map_sku(row: dict[str, Any]) -> dict[str, Any]:
    """The JOOR SKU body (AMC side; ``product_id`` is resolved from state at push time)."""
    upc = text(row.get("upc_display"))
    size = str(row.get("size") or "").strip()
    body: dict[str, Any] = {
        "external_id": text(row.get("sku_id")),
        "sku_identifier": text(row.get("sku_id")),
        "trait_values": [
            {"trait_id": COLOR_TRAIT_ID, "value": text(row.get("attr_2")),
             "external_id": text(row.get("color_code")) or None},
            # size names are case-sensitive on JOOR: sent exactly as AMC has them
            {"trait_id": SIZE_TRAIT_ID, "value": size, "external_id": size},
        ],
        "identifiers": [{"type": "upc", "value": upc}] if upc else [],
    }
    return body


def garbled_text(row: dict[str, Any], fields: Iterable[str] | None = None) -> list[str]:
    """Fields of a row whose text holds bytes the API sent as invalid UTF-8 (read as U+FFFD)."""
    names = fields if fields is not None else row.keys()
    return [f for f in names if isinstance(row.get(f), str) and _GARBLED in row[f]]


def garbled_reason(fields: Sequence[str]) -> str:
    return (f"{', '.join(fields)} contain{'s' if len(fields) == 1 else ''} bytes that are not valid UTF-8 "
            "(AMC sent corrupted text); re-type the value in AMC")


def product_failure(row: dict[str, Any]) -> str | None:
    """Why one AMC product cannot go to JOOR (a merchandiser-actionable reason), or None."""
    garbled = garbled_text(row)
    if garbled:
        return garbled_reason(garbled)
    if not text(row.get("style_number")):
        return f"product_id {row.get('product_id')}: style number is empty"
    if not first_nonblank(row.get("joor_web_title"), row.get("web_title"), row.get("description")):
        return "no name: JOOR Web Title, Web Title and Style Name (description) are all empty"
    return None


#: The SKU fields its JOOR body is built from (checked for garbled text).
SKU_TEXT_FIELDS = ("sku_id", "attr_2", "color_code", "size", "upc_display")


def sku_failure(row: dict[str, Any]) -> str | None:
    """Why one SKU cannot go to JOOR, or None."""
    garbled = garbled_text(row, SKU_TEXT_FIELDS)
    if garbled:
        return f"SKU {row.get('sku_id')}: " + garbled_reason(garbled)
    if not text(row.get("attr_2")):
        return f"SKU {row.get('sku_id')}: colour (attr_2) is empty"
    if not str(row.get("size") or "").strip():
        return f"SKU {row.get('sku_id')} ({text(row.get('attr_2'))}): size is empty"
    return None


# --------------------------------------------------------------------------- images


def image_set(product_images: Any, colorways: Sequence[dict[str, Any]], base_url: str = "") -> dict[str, Any]:
    """The style's asset set: style-level images, first image of each colour, swatch per colour.

    ``colorways`` are the *synced* colorways of the style (``attribute_2``, ``images``). A
    colour's image comes from its colorway record first, else from the product's images tagged
    with that colour. Relative URLs (the sandbox stores '/images/x.png') are made absolute with
    ``base_url``. Returned in a canonical order so its hash is stable.
    """
    imgs = parse_json_list(product_images)

    def url(v: Any) -> str:
        u = text(v)
        return base_url.rstrip("/") + u if u.startswith("/") and base_url else u

    style_level: list[str] = []
    tagged_by_color: dict[str, list[dict]] = {}
    for i in imgs:
        if not isinstance(i, dict) or not text(i.get("img")):
            continue
        color = text(i.get("colorway"))
        if color:
            tagged_by_color.setdefault(color, []).append(i)
        elif text(i.get("is_swatch")) != "1":
            style_level.append(url(i.get("img")))
    colors: list[dict[str, str]] = []
    for cw in colorways:
        color = text(cw.get("attribute_2"))
        own = [i for i in parse_json_list(cw.get("images")) if isinstance(i, dict) and text(i.get("img"))]
        tagged = tagged_by_color.get(color, [])
        pics = [i for i in own if text(i.get("is_swatch")) != "1"] or \
               [i for i in tagged if text(i.get("is_swatch")) != "1"]
        swatches = [i for i in own if text(i.get("is_swatch")) == "1"] or \
                   [i for i in tagged if text(i.get("is_swatch")) == "1"]
        entry = {"color": color}
        if pics:
            entry["image"] = url(pics[0].get("img"))
        if swatches:
            entry["swatch"] = url(swatches[0].get("img"))
        if len(entry) > 1:
            colors.append(entry)
    colors.sort(key=lambda e: e["color"])
    return {"style": style_level, "colors": colors}


def asset_filename(source_url: str, limit: int = 100) -> str:
    """JOOR's filename (<= 100 chars): the URL's last path segment."""
    name = source_url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "image.png"
    return name[-limit:]


def style_asset_items(product_joor_id: str, urls: Sequence[str]) -> list[dict]:
    """Items for ``POST /v4/assets/products`` for one style's style-level images."""
    return [
        {"product": {"id": product_joor_id},
         "asset": {"type": "image", "filename": asset_filename(u), "source_url": u},
         "display_order": n}
        for n, u in enumerate(urls, start=1)
    ]


def color_asset_items(product_joor_id: str, color: dict[str, Any]) -> list[dict]:
    """Items for ``POST /v4/assets/sku_trait_values`` for one colour: its image and swatch."""
    items = []
    for kind in ("image", "swatch"):
        if color.get(kind):
            items.append({
                "sku_trait_value": {"product_id": product_joor_id, "trait_id": COLOR_TRAIT_ID,
                                    "value": color["color"]},
                "asset": {"type": kind, "filename": asset_filename(color[kind]), "source_url": color[kind]},
            })
    return items


def asset_weight(entity: str, body: dict[str, Any] | list) -> int:
    """How many bulk items one asset record costs (for packing requests)."""
    if entity == ASSET:
        return max(1, len(body if isinstance(body, list) else body.get("style") or []))
    return max(1, bool(body.get("image")) + bool(body.get("swatch")))


# --------------------------------------------------------------------------- prices


@dataclass(frozen=True)
class Currency:
    id: str
    code: str
    rate: str
    is_default: bool


def currencies_by_id(rows: Iterable[dict[str, Any]]) -> dict[str, Currency]:
    return {
        text(r.get("id")): Currency(text(r.get("id")), text(r.get("name")).upper(), text(r.get("rate")) or "1",
                                    text(r.get("is_default")) == "1")
        for r in rows
    }


def default_currency(currencies: dict[str, Currency], name: str) -> Currency:
    """AMC's default currency: the configured name, else the one AMC flags default."""
    for c in currencies.values():
        if c.code == name.upper():
            return c
    for c in currencies.values():
        if c.is_default:
            return c
    raise ValueError(f"default currency {name!r} is not in AMC /currencies and none is flagged default")


def price_type_for(price_types: Sequence[dict[str, Any]], currency: str, group: str) -> dict | None:
    """The JOOR price type for an AMC price group: by currency; the group's name breaks ties."""
    matches = [p for p in price_types if text(p.get("currency_code")).upper() == currency.upper()]
    if not matches:
        return None
    named = [p for p in matches if text(p.get("name")) == group]
    return (named or sorted(matches, key=lambda p: text(p.get("id"))))[0]


# --------------------------------------------------------------------------- batching


def chunks(seq: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def pack_weighted(keys: Sequence[str], weights: Sequence[int], limit: int) -> list[list[int]]:
    """Greedy in-order packing of indices so each pack's weight stays <= ``limit``.

    Used for assets: one style's images must travel in the same request (replace_all is per
    style), and one request takes at most ``limit`` items. A style heavier than the limit gets
    a pack of its own (it is split by the pusher).
    """
    packs: list[list[int]] = []
    cur: list[int] = []
    total = 0
    for i, w in enumerate(weights):
        if cur and total + w > limit:
            packs.append(cur)
            cur, total = [], 0
        cur.append(i)
        total += w
    if cur:
        packs.append(cur)
    return packs


# --------------------------------------------------------------------------- the plan


@dataclass
class PlanOptions:
    """What one run asked for (trigger form + settings)."""

    default_currency_name: str = "USD"
    image_sync: bool = True
    full_resync: bool = False
    style_numbers: tuple[str, ...] = ()
    bulk_max: int = 500
    image_base_url: str = ""


@dataclass
class PlanFailure:
    entity: str
    key: str
    reason: str


@dataclass
class CatalogPlan:
    """The delta to send, per entity, as DataFrames with columns
    ``key, hash, action (create|update), joor_id, parent, body (JSON), detail (JSON)``."""

    items: dict[str, Any] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    failures: list[PlanFailure] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    selected: dict[str, int] = field(default_factory=dict)
    leftovers: dict[str, list[str]] = field(default_factory=dict)
    collections: list[dict[str, Any]] = field(default_factory=list)


ITEM_COLUMNS = ["key", "hash", "action", "joor_id", "parent", "body", "detail"]


def _empty_items():
    import pandas as pd

    return pd.DataFrame({c: pd.Series([], dtype=object) for c in ITEM_COLUMNS})


def _delta(frame, state, entity: str, full: bool):
    """Rows of ``frame`` (key, hash, ...) whose hash differs from state (or all when ``full``).

    ``state`` is a DataFrame (key, content_hash, joor_id). Adds ``action`` and ``joor_id``.
    Returns (changed frame, unchanged count).
    """
    import pandas as pd

    if frame.empty:
        return frame.assign(action=pd.Series([], dtype=object), joor_id=pd.Series([], dtype=object)), 0
    st = state if state is not None and len(state) else pd.DataFrame(
        {"key": pd.Series([], dtype=object), "content_hash": pd.Series([], dtype=object),
         "joor_id": pd.Series([], dtype=object)})
    merged = frame.merge(st[["key", "content_hash", "joor_id"]], on="key", how="left", sort=False)
    known = merged["joor_id"].notna() & (merged["joor_id"].astype(object) != "")
    same = merged["content_hash"].astype(object) == merged["hash"].astype(object)
    changed = ~(same & known) if not full else pd.Series(True, index=merged.index)
    import numpy as np

    out = merged.loc[changed].copy()
    k = known.loc[changed].to_numpy(dtype=bool)
    out["action"] = np.where(k, "update", "create").astype(object)
    out["joor_id"] = np.where(k, out["joor_id"].to_numpy(dtype=object), None)
    out = out.drop(columns=["content_hash"])
    return out, int((~changed).sum())


def plan_catalog(
    products,
    colorways,
    skus,
    currencies: Sequence[dict[str, Any]],
    state: dict[str, Any],
    options: PlanOptions,
    price_types: Sequence[dict[str, Any]] | None = None,
) -> CatalogPlan:
    """Select, map, hash and diff the whole catalog against state. Pure.

    ``products``/``colorways``/``skus`` are DataFrames of AMC ``/products``,
    ``/product_attributes`` and ``/inventory`` rows (string columns, nested lists as JSON strings
    or lists). ``state`` maps entity -> DataFrame(key, content_hash, joor_id[, detail]).
    ``price_types`` are JOOR's; None means "not known yet" (no price rows are failed for a missing
    type then; the pusher checks again).
    """
    import pandas as pd

    plan = CatalogPlan()
    full = options.full_resync
    wanted = {s.strip() for s in options.style_numbers if s and s.strip()}

    # ---- selection: styles flagged SYNC; within them colorways/SKUs flagged SYNC ----
    prods = products.copy()
    for col in ("product_id", "style_number", "joor_sync", "season"):
        prods[col] = norm_column(prods[col])
    flagged = prods[prods["joor_sync"] == "1"]
    if wanted:
        missing = sorted(wanted - set(flagged["style_number"]))
        for s in missing:
            why = "not flagged SYNC in AMC" if s in set(prods["style_number"]) else "not found in AMC"
            plan.failures.append(PlanFailure(PRODUCT, s, f"requested style {why}"))
    selected = flagged[flagged["style_number"].isin(wanted)] if wanted else flagged
    selected = selected.drop_duplicates("style_number", keep="first")
    plan.selected["styles_flagged"] = len(flagged)

    cws = colorways.copy()
    if "color_code" not in cws.columns:
        cws["color_code"] = ""
    for col in ("id", "product_id", "attribute_2", "joor_sync", "color_code"):
        cws[col] = norm_column(cws[col])
    sel_cws = cws[(cws["joor_sync"] == "1") & cws["product_id"].isin(selected["product_id"])]

    sk = skus.copy()
    for col in ("sku_id", "product_id", "attr_2", "upc_display"):
        sk[col] = norm_column(sk[col])
    all_skus = sk
    if "joor_sync" in sk.columns:
        sk["joor_sync"] = norm_column(sk["joor_sync"])
        sk = sk[sk["joor_sync"] != "0"]
    sel_skus = sk.merge(
        sel_cws[["product_id", "attribute_2", "color_code"]].rename(columns={"attribute_2": "attr_2"}),
        on=["product_id", "attr_2"], how="inner", sort=False,
    ).merge(selected[["product_id", "style_number"]].rename(columns={"style_number": "style"}),
            on="product_id", how="inner", sort=False)
    sel_skus = sel_skus.drop_duplicates("sku_id", keep="first")
    if not wanted:
        _unknown_references(plan, prods, cws, sk, selected, sel_skus)

    # ---- products ----
    prod_records = selected.to_dict("records")
    p_keys, p_hash, p_body, p_detail, good_styles = [], [], [], [], []
    for row in prod_records:
        reason = product_failure(row)
        if reason:
            plan.failures.append(PlanFailure(PRODUCT, row["style_number"] or row["product_id"], reason))
            continue
        body = map_product(row)
        p_keys.append(body["external_id"])
        p_hash.append(content_hash(body))
        p_body.append(canonical_json(body))
        p_detail.append(canonical_json({"season": row["season"], "product_id": row["product_id"]}))
        good_styles.append(row["style_number"])
    pframe = pd.DataFrame({"key": p_keys, "hash": p_hash, "parent": [None] * len(p_keys),
                           "body": p_body, "detail": p_detail}, dtype=object)
    plan.items[PRODUCT], plan.unchanged[PRODUCT] = _delta(pframe, state.get(PRODUCT), PRODUCT, full)
    plan.selected[PRODUCT] = len(pframe)
    good = set(good_styles)

    # ---- SKUs ----
    sel_skus = sel_skus[sel_skus["style"].isin(good)]
    for col in ("size", "color_code"):
        sel_skus[col] = norm_column(sel_skus[col])
    bad = (sel_skus["attr_2"] == "") | (sel_skus["size"] == "")
    for col in SKU_TEXT_FIELDS:
        bad = bad | sel_skus[col].astype(str).str.contains(_GARBLED, regex=False)
    for row in sel_skus[bad].to_dict("records"):
        plan.failures.append(PlanFailure(SKU, row["sku_id"], f"style {row['style']}: {sku_failure(row)}"))
    ok = sel_skus[~bad]
    cols = [ok[c].tolist() for c in ("style", "sku_id", "attr_2", "color_code", "size", "upc_display")]
    s_hash = [sku_hash(*fields) for fields in zip(*cols, strict=True)]
    sframe = pd.DataFrame({"key": cols[1], "hash": s_hash, "parent": cols[0]}, dtype=object)
    sframe["_row"] = range(len(sframe))
    changed, plan.unchanged[SKU] = _delta(sframe, state.get(SKU), SKU, full)
    # bodies only for what is sent: a no-op run on 150k SKUs builds none
    idx = changed["_row"].tolist()
    changed["body"] = [canonical_json(map_sku({"sku_id": cols[1][i], "attr_2": cols[2][i], "color_code": cols[3][i],
                                               "size": cols[4][i], "upc_display": cols[5][i]})) for i in idx]
    changed["detail"] = None
    plan.items[SKU] = changed.drop(columns=["_row"])
    plan.selected[SKU] = len(sframe)
    sku_style = pd.DataFrame({"sku": cols[1], "style": cols[0]}, dtype=object)

    # ---- prices: per style x group once, broadcast to the style's SKUs ----
    plan.items[PRICE], plan.unchanged[PRICE], plan.selected[PRICE] = _plan_prices(
        plan, selected[selected["style_number"].isin(good)], sku_style, currencies, state.get(PRICE),
        options, price_types)
    if price_types is None:
        plan.notes["price_types"] = "not resolved yet (resolved only when prices must be sent)"

    # ---- assets: one set per style ----
    if options.image_sync:
        frames = _asset_frames(selected[selected["style_number"].isin(good)], sel_cws, options)
        for entity, aframe in zip((ASSET, COLOR_ASSET), frames, strict=True):
            plan.items[entity], plan.unchanged[entity] = _delta(aframe, state.get(entity), entity, full)
            plan.selected[entity] = len(aframe)
    else:
        for entity in (ASSET, COLOR_ASSET):
            plan.items[entity], plan.unchanged[entity], plan.selected[entity] = _empty_items(), 0, 0
        plan.notes["image_sync"] = "off"

    # ---- linesheets: every flagged style in its season (independent of a style filter) ----
    plan.collections = plan_collections(flagged, prods, state.get(PRODUCT), state.get(COLLECTION), full)

    # ---- left on JOOR, reported (never deleted or set INACTIVE) ----
    plan.leftovers = _leftovers(prods, flagged, all_skus, sel_skus, state, wanted)
    return plan


def _unknown_references(plan: CatalogPlan, prods, cws, skus, selected, sel_skus) -> None:
    """Report records that point at something AMC does not have (vectorised; nothing is guessed).

    * a flagged colorway whose ``product_id`` is not an AMC product;
    * a SKU (not unflagged) whose ``product_id`` is not an AMC product;
    * SKUs of a synced style whose colour has no colorway at all on that style — without one
      they cannot be sent (their colour's SYNC flag and colour code live on the colorway).
    """
    known = set(prods["product_id"])
    for row in cws[(cws["joor_sync"] == "1") & ~cws["product_id"].isin(known)].to_dict("records"):
        plan.failures.append(PlanFailure(
            "colorway", row["id"], f"colorway {row['id']} ({row['attribute_2'] or 'no colour'}): product_id "
            f"{row['product_id'] or '(empty)'} is not an AMC product (/products); fix the colorway's style in AMC"))
    for row in skus[~skus["product_id"].isin(known)].to_dict("records"):
        plan.failures.append(PlanFailure(
            SKU, row["sku_id"], f"SKU {row['sku_id']} ({row['attr_2'] or 'no colour'}): product_id "
            f"{row['product_id'] or '(empty)'} is not an AMC product (/products); fix the SKU's style in AMC"))
    mine = skus[skus["product_id"].isin(selected["product_id"]) & ~skus["sku_id"].isin(sel_skus["sku_id"])]
    if mine.empty:
        return
    have = set(zip(cws["product_id"], cws["attribute_2"], strict=True))
    lost = mine[[(p, c) not in have for p, c in zip(mine["product_id"], mine["attr_2"], strict=True)]]
    style_of = dict(zip(selected["product_id"], selected["style_number"], strict=True))
    for (pid, color), group in lost.groupby(["product_id", "attr_2"], sort=True):
        ids = sorted(group["sku_id"])
        style = style_of.get(pid, pid)
        plan.failures.append(PlanFailure(
            SKU, f"{style}/{color}", f"style {style}: colour {color!r} has no colorway in AMC /product_attributes; "
            f"its {len(ids)} SKU(s) ({', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}) were not sent"))


def _plan_prices(plan, styles, sku_style, currencies, state, options, price_types):
    import pandas as pd

    curr = currencies_by_id(currencies)
    try:
        base = default_currency(curr, options.default_currency_name)
    except ValueError as exc:
        plan.failures.append(PlanFailure(PRICE, "*", str(exc)))
        return _empty_items(), 0, 0
    rates_used: dict[str, str] = {}
    g_style, g_group, g_cur, g_hash, g_body, g_detail = [], [], [], [], [], []
    for row in styles[["style_number", "retail_price", "price_groups"]].to_dict("records"):
        style = row["style_number"]
        seen: set[str] = set()
        for pg in parse_json_list(row["price_groups"]):
            if not isinstance(pg, dict):
                continue
            group = text(pg.get("price_group"))
            if not group or group in seen:
                continue
            seen.add(group)
            cur = curr.get(text(pg.get("currency_id")))
            key = f"{style}/{group}"
            if cur is None:
                plan.failures.append(PlanFailure(
                    PRICE, key, f"price group {group!r}: currency id {pg.get('currency_id')!r} is not in AMC /currencies"))
                continue
            try:
                wholesale = money(parse_decimal(pg.get("price"), f"wholesale price of group {group!r}"))
                retail = convert_msrp(row["retail_price"], cur.rate, base.rate)
            except ValueError as exc:
                plan.failures.append(PlanFailure(PRICE, key, str(exc) + " (style MSRP is retail_price)"))
                continue
            content = {"group": group, "currency": cur.code, "wholesale": wholesale,
                       "msrp": text(row["retail_price"]), "base": base.code}
            rates_used[cur.code] = cur.rate if base.rate in ("1", "1.0", "1.00") else f"{cur.rate}/{base.rate}"
            g_style.append(style)
            g_group.append(group)
            g_cur.append(cur.code)
            g_hash.append(content_hash(content))
            g_body.append(canonical_json({"wholesale_value": wholesale, "retail_value": retail}))
            g_detail.append(canonical_json({"rate": cur.rate, "base_rate": base.rate, "currency": cur.code,
                                            "base": base.code, "group": group}))
    plan.notes["fx_rates"] = dict(sorted(rates_used.items()))
    plan.notes["default_currency"] = base.code
    groups = pd.DataFrame({"style": g_style, "group": g_group, "currency": g_cur, "hash": g_hash, "body": g_body,
                           "detail": g_detail}, dtype=object)
    frame = sku_style.merge(groups, on="style", how="inner", sort=False)
    if frame.empty:
        return _empty_items(), 0, 0
    frame["key"] = frame["sku"] + "/" + frame["group"]
    frame = frame.rename(columns={"sku": "parent"})[["key", "hash", "parent", "body", "detail", "group", "currency"]]
    changed, unchanged = _delta(frame, state, PRICE, options.full_resync)
    selected = len(frame)
    if price_types is not None:
        changed = _resolve_price_types(plan, changed, price_types)
    return changed, unchanged, selected


def _resolve_price_types(plan: CatalogPlan, frame, price_types: Sequence[dict[str, Any]]):
    """Add ``price_type_id`` to price rows; rows of a group with no JOOR price type are dropped
    and the group is reported once (the other groups proceed)."""
    if frame.empty:
        return frame.assign(price_type_id=frame["key"].astype(object))
    pairs = frame[["group", "currency"]].drop_duplicates()
    ids: dict[tuple[str, str], str | None] = {}
    for group, cur in zip(pairs["group"], pairs["currency"], strict=True):
        pt = price_type_for(price_types, cur, group)
        ids[(group, cur)] = text(pt.get("id")) if pt else None
        if pt is None:
            n = int(((frame["group"] == group) & (frame["currency"] == cur)).sum())
            plan.failures.append(PlanFailure(
                PRICE, f"{group} ({cur})",
                f"no JOOR price type with currency {cur}: ask JOOR to create one; {n} price(s) of this group "
                "were not sent (the other groups were)"))
    frame = frame.copy()
    frame["price_type_id"] = [ids[(g, c)] for g, c in zip(frame["group"], frame["currency"], strict=True)]
    return frame[frame["price_type_id"].notna()]


def apply_price_types(plan: CatalogPlan, price_types: Sequence[dict[str, Any]]) -> None:
    """Resolve JOOR price types for a plan made with ``price_types=None`` (in place)."""
    plan.items[PRICE] = _resolve_price_types(plan, plan.items[PRICE], price_types)


def _asset_frames(styles, sel_cws, options: PlanOptions):
    """(style-level frame, colour-level frame) of asset sets, keyed style and style/colour."""
    import pandas as pd

    by_product: dict[str, list[dict]] = {}
    for cw in sel_cws[["product_id", "attribute_2", "images"]].to_dict("records"):
        by_product.setdefault(cw["product_id"], []).append(cw)
    s_rows: list[tuple] = []
    c_rows: list[tuple] = []
    for row in styles[["product_id", "style_number", "images"]].to_dict("records"):
        style = row["style_number"]
        assets = image_set(row["images"], by_product.get(row["product_id"], []), options.image_base_url)
        if assets["style"]:  # an empty set is never sent (it would not clear JOOR anyway)
            s_rows.append((style, content_hash(assets["style"]), style, canonical_json(assets["style"])))
        for entry in assets["colors"]:
            c_rows.append((f"{style}/{entry['color']}", content_hash(entry), style, canonical_json(entry)))

    def frame(rows):
        cols = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
        return pd.DataFrame({"key": list(cols[0]), "hash": list(cols[1]), "parent": list(cols[2]),
                             "body": list(cols[3]), "detail": [None] * len(rows)}, dtype=object)

    return frame(s_rows), frame(c_rows)


def plan_collections(flagged, all_products, product_state, collection_state, full: bool) -> list[dict[str, Any]]:
    """The desired membership of each integration-owned season linesheet, and whether it changed.

    Membership = every style flagged SYNC, in its AMC season; plus styles JOOR already has (in
    product state) that were unflagged since: they stay where they are (reported, never pulled).
    Returns one dict per season: external_id, name, season, styles (sorted), hash, action
    (create|update|unchanged), joor_id.
    """
    seasons: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for style, season in zip(flagged["style_number"], flagged["season"], strict=True):
        if style and season:
            seasons.setdefault(season_external_id(season), set()).add(style)
            names.setdefault(season_external_id(season), season)
    if product_state is not None and len(product_state):
        flagged_set = set(flagged["style_number"])
        amc_season = dict(zip(all_products["style_number"], all_products["season"], strict=True))
        details = product_state["detail"] if "detail" in product_state.columns else [None] * len(product_state)
        for style, detail in zip(product_state["key"], details, strict=True):
            if style in flagged_set:
                continue
            season = amc_season.get(style) or _detail(detail).get("season")
            if season:
                seasons.setdefault(season_external_id(season), set()).add(style)
                names.setdefault(season_external_id(season), season)
    st: dict[str, dict] = {}
    if collection_state is not None and len(collection_state):
        st = {k: {"hash": h, "joor_id": j} for k, h, j in zip(
            collection_state["key"], collection_state["content_hash"], collection_state["joor_id"], strict=True)}
    # seasons we own that lost all their styles are updated to empty (still ours, never deleted)
    for ext in st:
        if ext.startswith(SEASON_PREFIX) and ext not in seasons:
            seasons[ext] = set()
            names.setdefault(ext, ext[len(SEASON_PREFIX):])
    out = []
    for ext in sorted(seasons):
        styles = sorted(seasons[ext])
        h = collection_hash(names[ext], styles)
        prev = st.get(ext)
        action = "create" if not prev or not prev.get("joor_id") else (
            "update" if full or prev.get("hash") != h else "unchanged")
        out.append({"external_id": ext, "name": names[ext], "season": names[ext], "styles": styles, "hash": h,
                    "action": action, "joor_id": (prev or {}).get("joor_id")})
    return out


def collection_hash(name: str, styles: Sequence[str]) -> str:
    return content_hash({"name": name, "styles": sorted(styles)})


def _detail(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            out = json.loads(value)
            return out if isinstance(out, dict) else {}
        except json.JSONDecodeError:
            return {}
    return {}


def _leftovers(prods, flagged, all_skus, sel_skus, state, wanted) -> dict[str, list[str]]:
    """Styles/SKUs JOOR has (per state) that AMC no longer flags or has: reported only."""
    out: dict[str, list[str]] = {}
    pst = state.get(PRODUCT)
    if pst is not None and len(pst) and not wanted:
        known = set(pst["key"])
        in_amc = set(prods["style_number"])
        out["styles_unflagged"] = sorted(known & (in_amc - set(flagged["style_number"])))
        out["styles_deleted_in_amc"] = sorted(known - in_amc)
    sst = state.get(SKU)
    if sst is not None and len(sst) and not wanted:
        known = set(sst["key"])
        out["skus_unflagged"] = sorted(known & (set(all_skus["sku_id"]) - set(sel_skus["sku_id"])))
        out["skus_deleted_in_amc"] = sorted(known - set(all_skus["sku_id"]))
    return {k: v for k, v in out.items() if v}


# --------------------------------------------------------------------------- batches


def batch_rows(frame, bulk_max: int) -> list[tuple[str, Any]]:
    """Split one entity's delta into (action, frame) batches of <= ``bulk_max``, creates first."""
    out: list[tuple[str, Any]] = []
    if frame is None or frame.empty:
        return out
    for action in ("create", "update"):
        part = frame[frame["action"] == action].sort_values("key", kind="stable")
        for start in range(0, len(part), bulk_max):
            out.append((action, part.iloc[start : start + bulk_max]))
    return out


def batch_assets(entity: str, frame, bulk_max: int) -> list[tuple[str, Any]]:
    """Pack asset records so each request stays <= ``bulk_max`` items and a record never splits.

    Assets have no create/update distinction on JOOR (they are uploaded); the action says
    whether JOOR already has an earlier set of ours for that record (``update``) or not.
    """
    if frame is None or frame.empty:
        return []
    frame = frame.sort_values("key", kind="stable")
    weights = [asset_weight(entity, json.loads(b)) for b in frame["body"]]
    return [("upload", frame.iloc[idx]) for idx in pack_weighted(list(frame["key"]), weights, bulk_max)]


def bulk_item_count(entity: str, frame) -> int:
    """How many bulk items (request array entries) an entity's delta costs: rows, except for
    asset sets, whose every image/swatch is one item."""
    if frame is None or frame.empty:
        return 0
    if entity in (ASSET, COLOR_ASSET):
        return sum(asset_weight(entity, json.loads(b)) for b in frame["body"])
    return len(frame)


def minimum_credits(counts: dict[str, int], bulk_max: int = 500, gets: int = 0) -> int:
    """The floor for a push: sum over entity of ceil(n / bulk_max) x 5, plus necessary GETs."""
    return sum(-(-n // bulk_max) * 5 for n in counts.values() if n) + gets
