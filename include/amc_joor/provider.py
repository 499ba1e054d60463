"""Provider entry point: registers the ``amc`` and ``joor`` connection types for the Airflow UI.

Why declarative: Airflow 3.2+ reads a connection form from the provider info itself
(``ui-field-behaviour`` for the standard fields, ``conn-fields`` for the extras, JSON-schema
typed) without importing the hook; ``get_connection_form_widgets`` /
``get_ui_field_behaviour`` on hook classes are deprecated since 3.2 and are only consulted
when the provider info carries neither key. The UI stores each ``conn-fields`` value under its
plain name in the connection's ``extra`` JSON — the same shape as the ``AIRFLOW_CONN_*`` JSON
that ``bin/env.sh`` provisions, so both paths configure the hooks identically.

Wired in pyproject: ``[project.entry-points.apache_airflow_provider] provider_info``.
The *Test* button (``[core] test_connection = Enabled``) calls each hook's ``test_connection()``.
"""

from __future__ import annotations

from typing import Any

ENVIRONMENT_FIELD = {
    "label": "Environment",
    "description": "sandbox or live: which of the API's hosts to use when the host field is empty",
    "schema": {"type": "string", "enum": ["sandbox", "live"], "default": "live"},
}

AMC_CONNECTION: dict[str, Any] = {
    "connection-type": "amc",
    "hook-class-name": "amc_joor.hooks.amc.AmcHook",
    "hook-name": "ApparelMagic Cloud",
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "Company URL", "password": "API token"},
        "placeholders": {
            "host": "https://<company>.app.apparelmagic.com",
            "password": "the API token from AMC Settings",
        },
    },
    "conn-fields": {
        "environment": ENVIRONMENT_FIELD,
        "paging": {
            "label": "Paging style",
            "description": "auto (page numbers, switch to last_id if the tenant answers with a cursor), "
            "page_number or last_id",
            "schema": {"type": "string", "enum": ["auto", "page_number", "last_id"], "default": "auto"},
        },
        "page_size": {
            "label": "Page size",
            "description": "records per page (pagination[page_size])",
            "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000},
        },
    },
}

JOOR_CONNECTION: dict[str, Any] = {
    "connection-type": "joor",
    "hook-class-name": "amc_joor.hooks.joor.JoorHook",
    "hook-name": "JOOR",
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {
            "host": "API host (blank = JOOR's hosts)",
            "login": "v4 username",
            "password": "v4 password",
        },
        "placeholders": {
            "host": "blank for api.jooraccess.com / apisandbox.jooraccess.com",
            "login": "integration user e-mail",
        },
    },
    "conn-fields": {
        "environment": ENVIRONMENT_FIELD,
        "account_id": {
            "label": "JOOR account id",
            "description": "sent as ?account= on every v4 call; also the key of the shared credit budget",
            "schema": {"type": "string"},
        },
        "v2_token": {
            "label": "v2 API token",
            "description": "from JOOR's Integration Manager (inventory and customer calls)",
            "schema": {"type": "string", "format": "password"},
        },
        "client_id": {"label": "v4 client id", "schema": {"type": "string"}},
        "client_secret": {
            "label": "v4 client secret",
            "schema": {"type": "string", "format": "password"},
        },
        "auth_url": {
            "label": "v4 auth URL",
            "description": "blank for https://atlas.jooraccess.com/auth/ (sandbox: atlas-sandbox)",
            "schema": {"type": ["string", "null"]},
        },
        "credit_limit": {
            "label": "Credits per window",
            "description": "JOOR's rate limit (300)",
            "schema": {"type": ["integer", "null"], "minimum": 1},
        },
        "credit_window_seconds": {
            "label": "Credit window (seconds)",
            "description": "JOOR's fixed window (300)",
            "schema": {"type": ["number", "null"], "minimum": 1},
        },
        "credit_reserve": {
            "label": "Credits reserved for the order pull",
            "description": "only the priority lane may spend these (30)",
            "schema": {"type": ["integer", "null"], "minimum": 0},
        },
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "amc-joor",
        "name": "AMC-JOOR integration",
        "description": "ApparelMagic Cloud and JOOR connection types and hooks.",
        "versions": ["0.1.0"],
        "connection-types": [AMC_CONNECTION, JOOR_CONNECTION],
    }


def ui_field_behaviour(connection_type: str) -> dict[str, Any]:
    """The declared ``ui-field-behaviour`` in the hook-method shape (``hidden_fields`` ...)."""
    spec = {"amc": AMC_CONNECTION, "joor": JOOR_CONNECTION}[connection_type]["ui-field-behaviour"]
    return {
        "hidden_fields": list(spec.get("hidden-fields", [])),
        "relabeling": dict(spec.get("relabeling", {})),
        "placeholders": dict(spec.get("placeholders", {})),
    }
