"""Test/bench scaffolding: put AMC SKUs on the JOOR sandbox the way the catalog push would.

Why: the inventory push only sends SKUs the catalog push has put on JOOR (catalog state
``synced_records`` entity ``sku``). These helpers create the styles and SKUs on the JOOR
sandbox through its real v4 API and record the catalog state, so the inventory flow can be
tested (and benchmarked on 150k SKUs) without running the whole catalog push.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import pandas as pd

from amc_joor_sandbox import connections as creds

COLOR_TRAIT_ID = "U0tVVHJhaXQ6U3R5bGVDb2xvcg=="
SIZE_TRAIT_ID = "U0tVVHJhaXQ6U2l6ZQ=="


class JoorV4:
    """Minimal v4 client for seeding (Bearer token, ``?account=``)."""

    def __init__(self, joor_url: str) -> None:
        self.base = joor_url.rstrip("/")
        self.http = httpx.Client(timeout=120)
        resp = self.http.post(
            f"{self.base}/auth/",
            data={
                "client_id": creds.JOOR_CLIENT_ID,
                "client_secret": creds.JOOR_CLIENT_SECRET,
                "grant_type": "password",
                "username": creds.JOOR_USERNAME,
                "password": creds.JOOR_PASSWORD,
            },
            files={"_": ("", b"")},  # force multipart
        )
        resp.raise_for_status()
        self.headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}

    def post(self, path: str, body: Any) -> dict:
        resp = self.http.post(
            f"{self.base}{path}", params={"account": creds.JOOR_ACCOUNT_ID}, json=body, headers=self.headers
        )
        resp.raise_for_status()
        return resp.json()

    def close(self) -> None:
        self.http.close()


def _chunks(rows: list, size: int) -> Iterable[list]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def seed_joor_catalog(joor_url: str, identity: pd.DataFrame, engine, *, bulk_max: int = 500) -> int:
    """Create ``identity``'s styles and SKUs on JOOR (v4) and record catalog state ``sku``.

    ``identity``: ``sku_id, upc, style_number, color_code, size`` (as
    :func:`amc_joor.flows.inventory.amc_sku_identity` returns). Returns SKUs acknowledged.
    """
    from amc_joor.state import record_synced

    client = JoorV4(joor_url)
    try:
        product_ids: dict[str, str] = {}
        styles = sorted(set(identity["style_number"]))
        for part in _chunks(styles, bulk_max):
            body = [{"name": s, "external_id": s, "product_identifier": s} for s in part]
            reply = client.post("/v4/products/bulk_create", body)
            for row in reply.get("data") or []:
                product_ids[str(row["external_id"])] = row["id"]
            for err in reply.get("errors") or []:  # DUPLICATED: already there
                details = err.get("details") or {}
                if details.get("external_id") and details.get("id"):
                    product_ids[str(details["external_id"])] = details["id"]
        acked: list[dict] = []
        rows = list(zip(identity["sku_id"], identity["upc"], identity["style_number"], identity["color_code"],
                        identity["size"], strict=True))
        for part in _chunks(rows, bulk_max):
            body = [
                {
                    "product_id": product_ids[style],
                    "external_id": sku_id,
                    "sku_identifier": sku_id,
                    "trait_values": [
                        {"trait_id": COLOR_TRAIT_ID, "value": color, "external_id": color},
                        {"trait_id": SIZE_TRAIT_ID, "value": size, "external_id": size},
                    ],
                    "identifiers": [{"type": "upc", "value": upc}] if upc else [],
                }
                for sku_id, upc, style, color, size in part
            ]
            reply = client.post("/v4/skus/bulk_create", body)
            for row in reply.get("data") or []:
                acked.append({"key": str(row["external_id"]), "content_hash": "seeded", "joor_id": row["id"]})
        record_synced("sku", acked, engine=engine)
        return len(acked)
    finally:
        client.close()
