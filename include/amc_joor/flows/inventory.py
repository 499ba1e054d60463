"""Inventory push: stock by SKU from one AMC warehouse and one stock field to JOOR, deltas only.

Why it looks like this:

* Retailers order what JOOR says is in stock, so JOOR must carry AMC's configured Stock Field
  (``settings.stock_column``) for the configured AMC warehouse, immediate stock only
  (``inventory_date`` never set), negatives clamped to 0.
* Only SKUs the catalog push has put on JOOR are sent (catalog state: ``synced_records`` entity
  ``"sku"``, key = AMC ``sku_id``): JOOR cannot stock a SKU it does not have.
* JOOR's v2 ``bulk-inventory`` is always called **without** ``overwrite`` (which would zero every
  SKU left out). Items are keyed by UPC, else style number + color code + size; a SKU with
  neither is reported, not guessed.
* Delta only: the quantity JOOR acknowledged is remembered per SKU (``synced_records`` entity
  ``"inventory"``: ``content_hash`` = hash of JOOR warehouse + UPC/fallback key + qty + the
  catalog's JOOR SKU id, ``detail`` =
  ``{"qty", "warehouse", "joor_key"}``) and only SKUs whose hash differs are sent. Nothing
  changed → zero JOOR writes. State moves only for items JOOR answered ``pass``; a failed item
  keeps its old state and is therefore retried by the next run.
* Bad settings (an AMC warehouse AMC does not have, an unknown stock field) fail before any
  JOOR request, naming the setting and the valid values.
* Large tenants: the delta is a vectorised pandas compare of hashes (150k SKUs, 1% changed:
  2 JOOR calls, ~8 s, ~500 MB on the large sandbox — ``bench/inventory_push.py``).

Layout: pure functions (pandas, no I/O) first, then the I/O functions that take hooks and the
state engine. No Airflow imports here; the DAG file ``dags/amc_joor_inventory_push.py`` wires it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amc_joor.settings import STOCK_FIELDS, SettingsError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from sqlalchemy.engine import Engine

    from amc_joor.reporting import RunReport
    from amc_joor.settings import IntegrationSettings


log = logging.getLogger(__name__)

FLOW = "inventory"
#: synced_records entity the catalog push writes per SKU acknowledged by JOOR (key = AMC sku_id).
CATALOG_SKU_ENTITY = "sku"
#: synced_records entity this flow writes per SKU whose quantity JOOR acknowledged.
INVENTORY_ENTITY = "inventory"
#: Report entity name.
REPORT_ENTITY = "inventory"
#: Report entity counting JOOR bulk-inventory calls (outcomes ``sent`` / ``errored``).
CALLS_ENTITY = "joor_bulk_inventory_calls"

#: Columns of the planned frame (one row per SKU to consider).
PLAN_COLUMNS = ["sku_id", "qty", "upc", "style_number", "color_code", "size", "joor_key", "content_hash"]


# --- pure: settings checks -------------------------------------------------------------------


@dataclass(frozen=True)
class Warehouse:
    """The AMC warehouse inventory is read from."""

    id: str
    name: str


def resolve_warehouse(setting: str, warehouses: Iterable[Mapping[str, Any]]) -> Warehouse:
    """Resolve ``amc_warehouse`` (an id or a name, names case-insensitive) against AMC's list.

    Raises :class:`SettingsError` naming the setting and every warehouse AMC has, so the user
    can fix the Variable without opening AMC.
    """
    rows = [Warehouse(str(w.get("id", "")).strip(), str(w.get("name") or "").strip()) for w in warehouses]
    wanted = str(setting).strip()
    for w in rows:  # an exact id wins over a name that happens to look like an id
        if w.id == wanted:
            return w
    by_name = [w for w in rows if w.name.casefold() == wanted.casefold()]
    if len(by_name) == 1:
        return by_name[0]
    valid = ", ".join(f"{w.name!r} (id {w.id})" for w in rows) or "none (AMC returned no warehouses)"
    if len(by_name) > 1:
        ids = ", ".join(w.id for w in by_name)
        raise SettingsError(
            f"Setting amc_warehouse={setting!r} matches several AMC warehouses (ids {ids}); "
            f"set it to the warehouse id instead. AMC warehouses: {valid}"
        )
    raise SettingsError(f"Setting amc_warehouse={setting!r} is not an AMC warehouse; valid values: {valid}")


def stock_column_for(stock_field: str) -> str:
    """The AMC column a Stock Field reads; a clear error names the valid Stock Field values."""
    try:
        return STOCK_FIELDS[stock_field]
    except KeyError:
        valid = " | ".join(repr(k) for k in STOCK_FIELDS)
        raise SettingsError(f"Setting stock_field={stock_field!r} is not a Stock Field; valid values: {valid}") from None


# --- pure: stock frame, keys, hashes, delta ----------------------------------------------------


#: Thousands separators AMC may send in quantities ("1,200.000").
_GROUPED = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"


def _ungroup(values: pd.Series) -> pd.Series:
    """Stripped text with thousands separators removed ("1,200" -> "1200"; "12,5" stays)."""
    text = values.astype("string").fillna("").str.strip()
    grouped = text.str.match(_GROUPED)
    if grouped.any():
        text = text.where(~grouped, text.str.replace(",", "", regex=False))
    return text


def clean_quantity(values: pd.Series) -> pd.Series:
    """AMC quantities (strings like ``"12.000"``, blanks, negatives) -> non-negative ints.

    Fractions are floored (never promise stock that is not there); blanks count as 0. Text that
    is not a number also reads 0 here: :func:`unreadable_quantity` finds it first, and
    :func:`current_stock` keeps such SKUs out of the push (reported, JOOR keeps its quantity).
    """
    import numpy as np
    import pandas as pd

    qty = pd.to_numeric(_ungroup(values).replace("", None), errors="coerce").astype("float64").fillna(0.0)
    return np.floor(qty.clip(lower=0)).astype("int64")


def unreadable_quantity(values: pd.Series) -> pd.Series:
    """True where AMC sent a quantity that is neither blank nor a number (``"lots"``, ``"12,5"``)."""
    import pandas as pd

    text = _ungroup(values)
    number = pd.to_numeric(text.replace("", None), errors="coerce")
    return ((text != "") & number.isna()).astype(bool)


def _text(series: pd.Series) -> pd.Series:
    """Strings, stripped, with None/NaN as ''."""
    return series.astype("string").fillna("").str.strip().astype(object)


def current_stock(
    stock_rows: pd.DataFrame,
    skus: pd.DataFrame,
    stock_column: str,
) -> pd.DataFrame:
    """Join one warehouse's stock rows onto the SKUs on JOOR; a SKU with no stock row has 0.

    ``stock_rows``: AMC ``/sku_warehouse`` rows of the configured warehouse (``sku_id`` and the
    stock column). ``skus``: the SKUs to consider — the catalog-synced ones — with ``sku_id``,
    ``upc``, ``style_number``, ``color_code``, ``size`` (missing identity columns are ''.)
    Returns one row per SKU: ``sku_id, qty, upc, style_number, color_code, size, joor_sku_id``
    (``joor_sku_id``: the catalog's JOOR SKU id when ``skus`` carries it, else '').
    """
    import pandas as pd

    if stock_column not in stock_rows.columns and len(stock_rows):
        raise SettingsError(
            f"Setting stock_field reads AMC column {stock_column!r}, which /sku_warehouse does not return; "
            f"columns present: {', '.join(sorted(map(str, stock_rows.columns)))}"
        )
    raw = stock_rows[stock_column] if len(stock_rows) else pd.Series([], dtype=object)
    stock = pd.DataFrame(
        {
            "sku_id": _text(stock_rows["sku_id"]) if len(stock_rows) else pd.Series([], dtype=object),
            "qty": clean_quantity(raw) if len(stock_rows) else pd.Series([], dtype="int64"),
            # the value AMC sent when it is not a number ('' when it is): such a SKU is not sent
            "bad_qty": _text(raw).where(unreadable_quantity(raw), "") if len(stock_rows) else pd.Series([], dtype=object),
        }
    )
    # One warehouse should give one row per SKU; if AMC repeats one, its rows add up.
    stock = stock.groupby("sku_id", as_index=False, sort=False).agg(qty=("qty", "sum"), bad_qty=("bad_qty", "max"))
    out = pd.DataFrame({"sku_id": _text(skus["sku_id"])})
    for col in ("upc", "style_number", "color_code", "size", "joor_sku_id"):
        out[col] = _text(skus[col]) if col in skus.columns else ""
    out = out.drop_duplicates("sku_id", keep="last")
    out = out.merge(stock, on="sku_id", how="left")
    out["qty"] = out["qty"].fillna(0).astype("int64")
    out["bad_qty"] = out["bad_qty"].fillna("").astype(object)
    return out[["sku_id", "qty", "upc", "style_number", "color_code", "size", "joor_sku_id", "bad_qty"]].reset_index(
        drop=True)


def joor_keys(frame: pd.DataFrame) -> pd.Series:
    """The JOOR item key per SKU: ``upc:<upc>``, else ``ssc:<style>|<color code>|<size>``, else ''.

    '' means the SKU cannot be addressed on JOOR and is reported instead of sent.
    """
    import numpy as np
    import pandas as pd

    upc = frame["upc"].astype(str)
    ssc = "ssc:" + frame["style_number"].astype(str) + "|" + frame["color_code"].astype(str) + "|" + frame[
        "size"
    ].astype(str)
    has_ssc = (frame["style_number"] != "") & (frame["color_code"] != "") & (frame["size"] != "")
    keys = np.where(upc != "", "upc:" + upc, np.where(has_ssc, ssc, ""))
    return pd.Series(keys, index=frame.index, dtype=object)


def content_hashes(frame: pd.DataFrame, joor_warehouse: str) -> pd.Series:
    """Hash of what JOOR would hold for a SKU: warehouse, key, quantity and the JOOR SKU id.

    A change to any of them (a new quantity, a new UPC, a different JOOR warehouse setting, a
    SKU the catalog push re-created on JOOR under a new id) makes the SKU differ from its
    acknowledged state and so gets it sent.
    """
    import pandas as pd

    text = joor_warehouse + "\x1f" + frame["joor_key"].astype(str) + "\x1f" + frame["qty"].astype(str)
    if "joor_sku_id" in frame.columns:
        text = text + "\x1f" + frame["joor_sku_id"].astype(str)
    return pd.Series(
        [hashlib.sha1(t.encode()).hexdigest() for t in text.tolist()], index=frame.index, dtype=object
    )


@dataclass
class Delta:
    """What a run will send and what it will not."""

    to_send: pd.DataFrame  # PLAN_COLUMNS, only SKUs to push
    unchanged: int  # SKUs whose acknowledged state equals AMC's now
    unkeyed: pd.DataFrame  # SKUs with neither UPC nor style/color/size: reported
    considered: int  # SKUs in scope (synced to JOOR, filtered by style numbers)
    rejected: pd.DataFrame | None = None  # sku_id, reason: bad values from AMC, reported, not sent


def plan_delta(
    current: pd.DataFrame,
    acknowledged: pd.DataFrame,
    joor_warehouse: str,
    *,
    full_resync: bool = False,
    style_numbers: Sequence[str] | None = None,
) -> Delta:
    """Vectorised delta: the SKUs whose (warehouse, key, qty) hash differs from the acknowledged one.

    ``current``: :func:`current_stock` output. ``acknowledged``: ``sku_id, content_hash`` of
    the inventory state. ``full_resync`` sends every SKU in scope regardless of state;
    ``style_numbers`` limits the scope to those styles.
    """
    frame = current
    if style_numbers:
        wanted = {s.strip().casefold() for s in style_numbers if s and s.strip()}
        frame = frame[frame["style_number"].str.casefold().isin(wanted)]
    frame = frame.copy()
    frame["joor_key"] = joor_keys(frame) if len(frame) else []
    considered = len(frame)
    rejected = rejected_rows(frame)
    frame = frame[~frame["sku_id"].isin(rejected["sku_id"])]
    unkeyed = frame[frame["joor_key"] == ""]
    frame = frame[frame["joor_key"] != ""].copy()
    frame["content_hash"] = content_hashes(frame, joor_warehouse) if len(frame) else []
    if full_resync or acknowledged.empty:
        changed_mask = frame["content_hash"].notna()
    else:
        ack = acknowledged.drop_duplicates("sku_id", keep="last").set_index("sku_id")["content_hash"]
        previous = frame["sku_id"].map(ack)
        changed_mask = previous.isna() | (previous != frame["content_hash"])
    to_send = frame[changed_mask][PLAN_COLUMNS].reset_index(drop=True)
    return Delta(
        to_send=to_send,
        unchanged=int((~changed_mask).sum()),
        unkeyed=unkeyed.reset_index(drop=True),
        considered=considered,
        rejected=rejected,
    )


#: The SKU fields that address it on JOOR (garbled text there would push to the wrong SKU or none).
IDENTITY_COLUMNS = ("upc", "style_number", "color_code", "size")


def rejected_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """SKUs whose AMC values cannot be trusted: a stock value that is not a number, or identity
    text AMC sent as invalid UTF-8 (read as U+FFFD). Vectorised; ``sku_id, reason``."""
    import pandas as pd

    reasons = pd.Series("", index=frame.index, dtype=object)
    for col in IDENTITY_COLUMNS:
        if col in frame.columns and len(frame):
            hit = frame[col].astype(str).str.contains("\ufffd", regex=False)
            reasons = reasons.where(~hit | (reasons != ""), f"{col} contains bytes that are not valid UTF-8 (AMC sent "
                                    "corrupted text); re-type it in AMC")
    if "bad_qty" in frame.columns and len(frame):
        bad = (frame["bad_qty"] != "") & (reasons == "")
        reasons = reasons.where(~bad, "the stock value " + frame["bad_qty"].astype(str).map(repr)
                                + " is not a number")
    keep = reasons != ""
    return pd.DataFrame({"sku_id": frame["sku_id"][keep].astype(object), "reason": reasons[keep]}).reset_index(drop=True)


def split_batches(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    """Consecutive slices of at most ``size`` rows (JOOR's v2 bulk limit)."""
    if size < 1:
        raise ValueError("batch size must be >= 1")
    return [frame.iloc[i : i + size].reset_index(drop=True) for i in range(0, len(frame), size)]


def batch_count(n: int, size: int) -> int:
    return math.ceil(n / size) if n else 0


def inventory_items(batch: pd.DataFrame, joor_warehouse: str) -> list[dict[str, Any]]:
    """JOOR v2 ``inventory_item`` dicts: warehouse name, UPC or style/color/size, immediate stock.

    ``inventory_date`` is deliberately absent (immediate stock); ``made_to_order`` is not sent.
    """
    items: list[dict[str, Any]] = []
    for key, upc, style, color, size, qty in zip(
        batch["joor_key"], batch["upc"], batch["style_number"], batch["color_code"], batch["size"], batch["qty"],
        strict=True,
    ):
        item: dict[str, Any] = {"warehouse": joor_warehouse}
        if key.startswith("upc:"):
            item["upc"] = upc
        else:
            item.update(style_number=style, color_code=color, size=size)
        item["inventory"] = int(qty)
        items.append(item)
    return items


def item_label(item: Mapping[str, Any]) -> str:
    """How a merchandiser recognises an item: its UPC, else style/color/size."""
    if item.get("upc"):
        return f"UPC {item['upc']}"
    return f"style {item.get('style_number')} color {item.get('color_code')} size {item.get('size')}"


def match_results(
    items: Sequence[Mapping[str, Any]], logs: Sequence[Mapping[str, Any]]
) -> list[tuple[bool, str]]:
    """Pair JOOR's ``inventory_log`` entries with the items sent: ``(passed, message)`` per item.

    JOOR answers one log per item in order; each log names the item in ``sku``. When the
    counts agree, logs pair by position; otherwise by ``sku`` (UPC, or style/color/size), and
    an item JOOR did not mention is a failure (never assumed accepted).
    """

    def passed(entry: Mapping[str, Any]) -> bool:
        return str(entry.get("status", "")).strip().lower() == "pass"

    def message(entry: Mapping[str, Any]) -> str:
        return str(entry.get("message") or entry.get("status") or "").strip()

    if len(logs) == len(items):
        return [(passed(e), message(e)) for e in logs]
    by_sku: dict[str, Mapping[str, Any]] = {}
    for entry in logs:
        by_sku.setdefault(str(entry.get("sku", "")).strip(), entry)
    out: list[tuple[bool, str]] = []
    for item in items:
        candidates = [str(item.get("upc") or "")]
        if not item.get("upc"):
            s, c, z = item.get("style_number"), item.get("color_code"), item.get("size")
            candidates += [f"{s}/{c}/{z}", f"{s}-{c}-{z}", f"{s}|{c}|{z}", f"{s} {c} {z}"]
        entry = next((by_sku[c] for c in candidates if c and c in by_sku), None)
        out.append((False, "JOOR did not report on this item") if entry is None else (passed(entry), message(entry)))
    return out


def item_outcomes(items: Sequence[Mapping[str, Any]], answers: Sequence[Any]) -> list[tuple[bool, str]]:
    """``(passed, message)`` per item from what the JOOR client returned.

    The JoorHook returns one result object per item (``index``, ``ok``, ``status``, ``message``);
    a raw client may return JOOR's ``inventory_log`` dicts, which :func:`match_results` pairs.
    An item without an answer is a failure, never assumed accepted.
    """
    if answers and all(hasattr(a, "ok") for a in answers):
        by_index = {int(getattr(a, "index", i)): a for i, a in enumerate(answers)}
        out: list[tuple[bool, str]] = []
        for i in range(len(items)):
            a = by_index.get(i)
            if a is None:
                out.append((False, "JOOR did not report on this item"))
            else:
                out.append((bool(a.ok), str(a.message or getattr(a, "status", "") or "").strip()))
        return out
    return match_results(items, [dict(a) for a in answers])


def acknowledged_records(batch: pd.DataFrame, results: Sequence[tuple[bool, str]], joor_warehouse: str) -> list[dict]:
    """synced_records rows for the items JOOR passed (state never runs ahead of JOOR)."""
    records = []
    for (ok, _msg), sku_id, key, qty, digest in zip(
        results, batch["sku_id"], batch["joor_key"], batch["qty"], batch["content_hash"], strict=True
    ):
        if ok:
            records.append(
                {
                    "key": str(sku_id),
                    "content_hash": digest,
                    "detail": {"qty": int(qty), "warehouse": joor_warehouse, "joor_key": key},
                }
            )
    return records


def failure_reason(item: Mapping[str, Any], message: str, joor_warehouse: str) -> str:
    """A reason a merchandiser can act on: which item, what JOOR said, what to check."""
    text = message or "JOOR rejected the item without a message"
    hint = ""
    low = text.lower()
    if "warehouse" in low:
        hint = (
            f" — check setting joor_warehouse_name={joor_warehouse!r} matches a warehouse in JOOR's order settings"
        )
    elif "not found" in low or "unknown" in low or "no sku" in low:
        hint = " — check the SKU was pushed to JOOR by the catalog push and its UPC matches"
    return f"{item_label(item)}, quantity {item.get('inventory')}: JOOR said {text!r}{hint}; retried next run"


def report_unkeyed(report: RunReport, unkeyed: pd.DataFrame) -> None:
    """SKUs JOOR cannot address (no UPC, no style/color/size) are failures with a fixable reason."""
    for sku_id, style, color, size in zip(
        unkeyed["sku_id"], unkeyed["style_number"], unkeyed["color_code"], unkeyed["size"], strict=True
    ):
        missing = [n for n, v in (("style number", style), ("color code", color), ("size", size)) if not v]
        report.fail(
            REPORT_ENTITY,
            str(sku_id),
            f"SKU {sku_id} (style {style or '?'}, color {color or '?'}, size {size or '?'}) has no UPC and no "
            f"{', '.join(missing)}: add a UPC in AMC so JOOR can match it; not sent",
        )


def report_rejected(report: RunReport, rejected: pd.DataFrame | None, stock_column: str) -> None:
    """SKUs kept out of the push because AMC sent a bad value: one failure each, naming the field."""
    if rejected is None:
        return
    for sku_id, reason in zip(rejected["sku_id"], rejected["reason"], strict=True):
        reason = reason.replace("the stock value", f"the stock value ({stock_column})", 1)
        report.fail(REPORT_ENTITY, str(sku_id),
                    f"SKU {sku_id}: {reason}; not sent, JOOR keeps its last quantity — fix it in AMC")


# --- I/O: state ------------------------------------------------------------------------------


def _entity_frame(entity: str, columns: Sequence[str], engine: Engine) -> pd.DataFrame:
    """Rows of one synced_records entity as a DataFrame (one query, no per-row dicts)."""
    import pandas as pd
    import sqlalchemy as sa

    from amc_joor.state import synced_records as t

    cols = [t.c[c] for c in columns]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*cols).where(t.c.entity == entity)).all()
    return pd.DataFrame(rows, columns=list(columns)).astype({c: object for c in columns})


def load_catalog_skus(engine: Engine) -> pd.DataFrame:
    """``sku_id, joor_sku_id`` of the SKUs the catalog push has put on JOOR (its ``sku`` state)."""
    frame = _entity_frame(CATALOG_SKU_ENTITY, ["key", "joor_id"], engine)
    return frame.rename(columns={"key": "sku_id", "joor_id": "joor_sku_id"}).astype(
        {"sku_id": str}
    ).drop_duplicates("sku_id")


def load_acknowledged(engine: Engine) -> pd.DataFrame:
    """``sku_id, content_hash`` of every quantity JOOR acknowledged."""
    return _entity_frame(INVENTORY_ENTITY, ["key", "content_hash"], engine).rename(columns={"key": "sku_id"})


# --- I/O: AMC --------------------------------------------------------------------------------


#: Up to this many AMC warehouses, ``/sku_warehouse`` is read whole and filtered here rather
#: than with a server-side ``warehouse_id`` filter. Why: with offset (page-number) paging a
#: filtered query is re-evaluated for every page — O(rows) per page — while an unfiltered
#: scan is not. Measured on the large sandbox (2 warehouses, 150k SKUs, 1,000-row pages):
#: filtered 39 s, whole table 5.6 s. With many warehouses the extra rows outweigh that.
SCAN_ALL_UP_TO_WAREHOUSES = 4


def check_settings(amc: Any, settings: IntegrationSettings) -> tuple[Warehouse, str, int]:
    """Validate the inventory settings against AMC before anything touches JOOR.

    Returns the resolved AMC warehouse, the stock column and how many warehouses AMC has;
    raises :class:`SettingsError`.
    """
    column = stock_column_for(settings.stock_field)
    warehouses = amc_warehouses(amc)
    warehouse = resolve_warehouse(settings.amc_warehouse, warehouses)
    return warehouse, column, len(warehouses)


def amc_warehouses(amc: Any) -> list[dict[str, Any]]:
    """AMC ``/warehouses``."""
    return [dict(r) for r in amc.list_records("warehouses")]


def amc_sku_identity(amc: Any, settings: IntegrationSettings) -> pd.DataFrame:
    """``sku_id, upc, style_number, color_code, size`` of every AMC SKU.

    UPC, style and size come from ``/inventory``; the color code from the colorway
    (``/product_attributes``: product_id + color name -> color_code).
    """
    import pandas as pd

    inv_rows = amc.list_records(
        "inventory",
        fields=["sku_id", "product_id", "style_number", "attr_2", "size", "upc_display"],
        page_size=settings.amc_page_size,
    )
    skus = pd.DataFrame.from_records(
        inv_rows, columns=["sku_id", "product_id", "style_number", "attr_2", "size", "upc_display"]
    )
    attrs = pd.DataFrame.from_records(
        amc.list_records(
            "product_attributes", fields=["product_id", "attribute_2", "color_code"], page_size=settings.amc_page_size
        ),
        columns=["product_id", "attribute_2", "color_code"],
    )
    for frame, cols in ((skus, skus.columns), (attrs, attrs.columns)):
        for col in cols:
            frame[col] = _text(frame[col]) if len(frame) else frame[col].astype(object)
    attrs = attrs.drop_duplicates(["product_id", "attribute_2"], keep="first")
    skus = skus.merge(
        attrs, left_on=["product_id", "attr_2"], right_on=["product_id", "attribute_2"], how="left"
    )
    skus["color_code"] = skus["color_code"].fillna("")
    return skus.rename(columns={"upc_display": "upc"})[["sku_id", "upc", "style_number", "color_code", "size"]]


def amc_warehouse_stock(
    amc: Any,
    warehouse: Warehouse,
    stock_column: str,
    settings: IntegrationSettings,
    *,
    server_filter: bool = True,
) -> pd.DataFrame:
    """``/sku_warehouse`` rows of one warehouse: ``sku_id`` and the stock column.

    ``server_filter=False`` reads every warehouse's rows and keeps this one's here (see
    :data:`SCAN_ALL_UP_TO_WAREHOUSES`); either way the rows are re-checked client-side.
    """
    import pandas as pd

    rows = amc.list_records(
        "sku_warehouse",
        filters=[("warehouse_id", "=", warehouse.id)] if server_filter else [],
        fields=["sku_id", "warehouse_id", stock_column],
        page_size=settings.amc_page_size,
    )
    frame = pd.DataFrame.from_records(rows, columns=["sku_id", "warehouse_id", stock_column])
    if frame.empty:
        return pd.DataFrame({"sku_id": pd.Series([], dtype=object), stock_column: pd.Series([], dtype=object)})
    if frame[stock_column].isna().all():  # AMC did not send the column at all
        raise SettingsError(
            f"Setting stock_field={settings.stock_field!r} reads AMC column {stock_column!r}, which /sku_warehouse "
            f"did not return; valid values: {' | '.join(repr(k) for k in STOCK_FIELDS)}"
        )
    # Never trust a server-side filter blindly: keep only the configured warehouse's rows.
    if "warehouse_id" in frame.columns:
        frame = frame[frame["warehouse_id"].astype(str).str.strip() == warehouse.id]
    return frame[["sku_id", stock_column]]


# --- I/O: plan -------------------------------------------------------------------------------


@dataclass
class InventoryPlan:
    """A run's plan: what to send, and the report of what will not be sent."""

    warehouse: Warehouse
    joor_warehouse: str
    stock_column: str
    delta: Delta
    synced_skus: int
    batch_size: int

    @property
    def write_calls(self) -> int:
        return batch_count(len(self.delta.to_send), self.batch_size)

    def report(self, *, dry_run: bool) -> RunReport:
        from amc_joor.reporting import RunReport

        report = RunReport(FLOW)
        report.count(REPORT_ENTITY, "unchanged", self.delta.unchanged)
        report_unkeyed(report, self.delta.unkeyed)
        report_rejected(report, self.delta.rejected, self.stock_column)
        report.note("amc_warehouse", f"{self.warehouse.name} (id {self.warehouse.id})")
        report.note("joor_warehouse", self.joor_warehouse)
        report.note("stock_column", self.stock_column)
        report.note("skus_on_joor", self.synced_skus)
        report.note("skus_in_scope", self.delta.considered)
        report.note("to_send", len(self.delta.to_send))
        report.note("write_calls_planned", self.write_calls)
        if dry_run:
            report.note("dry_run", True)
            report.count(REPORT_ENTITY, "skipped", len(self.delta.to_send))
        return report


def plan_inventory(
    amc: Any,
    settings: IntegrationSettings,
    *,
    engine: Engine,
    full_resync: bool = False,
    style_numbers: Sequence[str] | None = None,
) -> InventoryPlan:
    """Read AMC and state, and plan the delta. Makes no JOOR request.

    Settings are checked first (AMC warehouse, stock field), so bad settings fail here.
    """
    import pandas as pd

    warehouse, column, n_warehouses = check_settings(amc, settings)
    on_joor = load_catalog_skus(engine)
    if on_joor.empty:
        empty = current_stock(pd.DataFrame({"sku_id": [], column: []}), pd.DataFrame({"sku_id": []}), column)
        delta = plan_delta(empty, load_acknowledged(engine), settings.joor_warehouse_name)
    else:
        server_filter = n_warehouses > SCAN_ALL_UP_TO_WAREHOUSES
        stock = amc_warehouse_stock(amc, warehouse, column, settings, server_filter=server_filter)
        identity = amc_sku_identity(amc, settings)
        log.info(
            "AMC: %d stock rows of warehouse %s (%s), %d SKUs; %d SKUs on JOOR per the catalog state",
            len(stock), warehouse.name, "server filter" if server_filter else "whole table, filtered here",
            len(identity), len(on_joor),
        )
        identity = identity.merge(on_joor, on="sku_id", how="inner")
        current = current_stock(stock, identity, column)
        delta = plan_delta(
            current,
            load_acknowledged(engine),
            settings.joor_warehouse_name,
            full_resync=full_resync,
            style_numbers=style_numbers,
        )
    return InventoryPlan(
        warehouse=warehouse,
        joor_warehouse=settings.joor_warehouse_name,
        stock_column=column,
        delta=delta,
        synced_skus=len(on_joor),
        batch_size=settings.joor_v2_bulk_max,
    )


# --- I/O: JOOR -------------------------------------------------------------------------------


#: Watermark naming the run (and JOOR warehouse) in which JOOR rejected the warehouse itself.
REJECTED_WAREHOUSE_MARK = "inventory_rejected_joor_warehouse"


def warehouse_rejected(results: Sequence[tuple[bool, str]]) -> bool:
    """Did JOOR refuse every item of a call because of the warehouse (a settings problem)?"""
    return bool(results) and all(not ok and "warehouse" in msg.lower() for ok, msg in results)


def push_batch(
    joor: Any, batch: pd.DataFrame, joor_warehouse: str, *, engine: Engine, run_id: str | None = None
) -> RunReport:
    """Send one batch (<= the v2 bulk limit) without overwrite; record state for passed items.

    A batch-level API failure (after the hook's own retries) fails every item in it with the
    reason — the other batches still go, and the next run retries these (state did not move).

    With ``run_id``: once JOOR has refused a whole batch for its warehouse in this run, the
    run's later batches are not sent (their items fail with the same fix-the-setting reason):
    a wrong ``joor_warehouse_name`` on a full push would otherwise spend 150 writes — 2.5
    credit windows the order pull needs — on calls JOOR will refuse. The next run tries again.
    """
    from amc_joor.reporting import RunReport
    from amc_joor.state import get_watermark, record_synced, set_watermark

    report = RunReport(FLOW)
    if batch.empty:
        return report
    items = inventory_items(batch, joor_warehouse)
    mark = f"{run_id}\x1f{joor_warehouse}" if run_id else None
    if mark and get_watermark(REJECTED_WAREHOUSE_MARK, engine) == mark:
        for item, sku_id in zip(items, batch["sku_id"], strict=True):
            report.fail(
                REPORT_ENTITY,
                str(sku_id),
                f"{item_label(item)}: not sent — JOOR refused warehouse {joor_warehouse!r} for a whole earlier "
                f"batch of this run; check setting joor_warehouse_name matches a warehouse in JOOR's order "
                f"settings; retried next run",
            )
        report.count(CALLS_ENTITY, "skipped")
        return report
    try:
        answers = joor.bulk_inventory(items)  # the hook never sends overwrite
    except Exception as exc:  # the hook's ApiError: one batch fails, the others still go
        if not _is_api_error(exc) or getattr(exc, "kind", "") in ("auth", "config"):
            raise  # a bug, bad credentials or a bad connection: fail the task, not 1,000 records
        reason = f"JOOR bulk-inventory call failed: {exc}"
        for item, sku_id in zip(items, batch["sku_id"], strict=True):
            report.fail(REPORT_ENTITY, str(sku_id), f"{item_label(item)}: {reason}; retried next run")
        report.count(CALLS_ENTITY, "errored")
        return report
    if os.environ.get("AMC_JOOR_TEST_CRASH_AT"):  # tests/chaos only: kill -9 after JOOR acked, before state
        from amc_joor.flows.orders import crash_point

        crash_point("inventory_acked")
    report.count(CALLS_ENTITY, "sent")
    results = item_outcomes(items, answers)
    records = acknowledged_records(batch, results, joor_warehouse)
    record_synced(INVENTORY_ENTITY, records, engine=engine)
    report.count(REPORT_ENTITY, "updated", len(records))
    if mark and warehouse_rejected(results):
        set_watermark(REJECTED_WAREHOUSE_MARK, mark, engine)
    for (ok, msg), item, sku_id in zip(results, items, batch["sku_id"], strict=True):
        if not ok:
            report.fail(REPORT_ENTITY, str(sku_id), failure_reason(item, msg, joor_warehouse))
    return report


def _is_api_error(exc: BaseException) -> bool:
    try:
        from amc_joor.hooks.http import ApiError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, ApiError)
