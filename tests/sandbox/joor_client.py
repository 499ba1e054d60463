"""A deliberately raw JOOR client for the sandbox tests: what goes over the wire is what the test sees."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from amc_joor_sandbox.connections import (
    JOOR_ACCOUNT_ID,
    JOOR_CLIENT_ID,
    JOOR_CLIENT_SECRET,
    JOOR_PASSWORD,
    JOOR_USERNAME,
    JOOR_V2_TOKEN,
)

COLOR = "U0tVVHJhaXQ6U3R5bGVDb2xvcg=="
SIZE = "U0tVVHJhaXQ6U2l6ZQ=="
V2_HEADERS = {
    "Authorization": "OAuth2 " + base64.b64encode(JOOR_V2_TOKEN.encode()).decode(),
    "Accept": "application/json",
}


def auth_form(**override: str) -> dict[str, tuple[None, str]]:
    """The multipart form of ``POST /auth/`` (``(None, value)`` makes httpx send form-data fields)."""
    fields = {"client_id": JOOR_CLIENT_ID, "client_secret": JOOR_CLIENT_SECRET, "grant_type": "password",
              "username": JOOR_USERNAME, "password": JOOR_PASSWORD, **override}
    return {k: (None, v) for k, v in fields.items()}


class Joor:
    """v2 + v4 calls against the sandbox, plus its admin API."""

    def __init__(self, sandbox: Any, timeout: float = 30.0) -> None:
        self.sb = sandbox
        self.url = sandbox.joor_url
        self.http = httpx.Client(base_url=self.url, timeout=timeout)
        self.admin = sandbox.joor_admin
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    # ---- auth
    def token(self, fresh: bool = False) -> str:
        if self._token is None or fresh:
            resp = self.http.post("/auth/", files=auth_form())
            assert resp.status_code == 200, resp.text
            self._token = resp.json()["access_token"]
        return self._token

    def v4_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    # ---- v4
    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params={"account": JOOR_ACCOUNT_ID, **params}, headers=self.v4_headers())

    def post(self, path: str, body: Any, **params: Any) -> httpx.Response:
        return self.http.post(path, params={"account": JOOR_ACCOUNT_ID, **params}, json=body,
                              headers=self.v4_headers())

    def ok(self, resp: httpx.Response) -> dict[str, Any]:
        assert resp.status_code == 200, f"{resp.status_code} {resp.text[:400]}"
        return resp.json()

    def bulk(self, path: str, items: list[Any], **params: Any) -> tuple[list[Any], list[Any]]:
        body = self.ok(self.post(path, items, **params))
        return body["data"], body["errors"]

    # ---- v2
    def v2_get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params or None, headers=V2_HEADERS)

    def v2_send(self, method: str, path: str, body: Any, **params: Any) -> httpx.Response:
        return self.http.request(method, path, params=params or None, json=body, headers=V2_HEADERS)

    # ---- catalog helpers
    def create_style(self, external_id: str, colors: list[tuple[str, str]], sizes: list[str],
                     sku_ext: dict[tuple[str, str], str] | None = None, upc_base: int = 0,
                     style_number: str | None = None) -> tuple[str, list[dict[str, Any]]]:
        """One product and its color × size SKUs; returns (product id, sku data rows)."""
        data, errors = self.bulk("/v4/products/bulk_create", [
            {"name": f"Style {external_id}", "external_id": external_id, "product_identifier": style_number or external_id}])
        assert errors == [], errors
        pid = data[0]["id"]
        skus = []
        n = 0
        for color, code in colors:
            for size in sizes:
                n += 1
                ext = (sku_ext or {}).get((color, size), f"{external_id}-{code}-{size}")
                item = {"product_id": pid, "external_id": ext,
                        "trait_values": [{"trait_id": COLOR, "value": color, "external_id": code},
                                         {"trait_id": SIZE, "value": size, "external_id": size}]}
                if upc_base:
                    item["identifiers"] = [{"type": "upc", "value": str(upc_base + n).zfill(12)}]
                skus.append(item)
        data, errors = self.bulk("/v4/skus/bulk_create", skus)
        assert errors == [], errors
        return pid, data
