"""Airflow connections (as ``AIRFLOW_CONN_*`` JSON) that point the integration at the sandboxes.

Stdlib only: ``bin/env.sh`` uses it before the venv exists. The credentials are the sandbox
defaults documented in docs/sandbox.md — never real ones.
"""

from __future__ import annotations

import json

AMC_TOKEN = "amc-sandbox-token"
JOOR_V2_TOKEN = "joor-sandbox-token"
JOOR_CLIENT_ID = "joor-sandbox-client"
JOOR_CLIENT_SECRET = "joor-sandbox-secret"
JOOR_USERNAME = "sandbox@brand.example"
JOOR_PASSWORD = "joor-sandbox-password"
JOOR_ACCOUNT_ID = "1001"


def amc_connection(amc_url: str) -> dict:
    return {
        "conn_type": "amc",
        "host": amc_url.rstrip("/"),
        "password": AMC_TOKEN,
        "extra": {"environment": "sandbox"},
    }


def joor_connection(joor_url: str) -> dict:
    joor_url = joor_url.rstrip("/")
    return {
        "conn_type": "joor",
        "host": joor_url,
        "login": JOOR_USERNAME,
        "password": JOOR_PASSWORD,
        "extra": {
            "environment": "sandbox",
            "v2_token": JOOR_V2_TOKEN,
            "client_id": JOOR_CLIENT_ID,
            "client_secret": JOOR_CLIENT_SECRET,
            "account_id": JOOR_ACCOUNT_ID,
            "auth_url": f"{joor_url}/auth/",
        },
    }


def connection_env(amc_url: str, joor_url: str) -> dict[str, str]:
    """``AIRFLOW_CONN_AMC_DEFAULT`` / ``AIRFLOW_CONN_JOOR_DEFAULT`` values for the given sandbox URLs."""
    return {
        "AIRFLOW_CONN_AMC_DEFAULT": json.dumps(amc_connection(amc_url)),
        "AIRFLOW_CONN_JOOR_DEFAULT": json.dumps(joor_connection(joor_url)),
    }
