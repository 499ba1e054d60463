"""Connection types as Airflow 3.3 sees them (provider info, UI metadata, the Test button path),
and the one paging edge case the sandbox cannot stage: a server whose cursor never moves."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import warnings
from pathlib import Path

import pytest

from amc_joor.hooks.amc import AmcHook
from amc_joor.provider import get_provider_info
from amc_joor_sandbox.connections import AMC_TOKEN, amc_connection, joor_connection


def test_provider_info_matches_airflows_schemas():
    import airflow
    import jsonschema

    root = Path(airflow.__file__).parent
    info = get_provider_info()
    jsonschema.validate(info, json.loads((root / "provider_info.schema.json").read_text()))
    yaml_schema = json.loads((root / "provider.yaml.schema.json").read_text())
    jsonschema.validate(info["connection-types"], yaml_schema["properties"]["connection-types"])


def test_providers_manager_registers_both_forms_declaratively():
    from airflow.providers_manager import ProvidersManager

    pm = ProvidersManager()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hooks = pm.hooks
    assert hooks["amc"].hook_class_name == "amc_joor.hooks.amc.AmcHook"
    assert hooks["joor"].connection_id_attribute_name == "joor_conn_id" and hooks["joor"].connection_testable
    behaviours = pm.field_behaviours
    assert behaviours["amc"]["relabeling"]["password"] == "API token" and "login" in behaviours["amc"]["hidden_fields"]
    assert behaviours["joor"]["relabeling"]["login"] == "v4 username"
    widgets = pm.connection_form_widgets
    assert widgets["extra__joor__v2_token"].is_sensitive and widgets["extra__joor__client_secret"].is_sensitive
    assert not widgets["extra__joor__account_id"].is_sensitive
    assert widgets["extra__amc__environment"].field["schema"]["enum"] == ["sandbox", "live"]


def test_ui_metadata_service_serves_the_forms():
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}
    joor = meta["joor"]
    assert joor.hook_name == "JOOR"
    assert joor.extra_fields["client_secret"]["schema"]["format"] == "password"
    assert set(joor.extra_fields) >= {"environment", "v2_token", "client_id", "client_secret", "account_id"}
    assert meta["amc"].standard_fields.login.hidden is True


@pytest.mark.parametrize("conn_type", ["amc", "joor"])
def test_the_test_button_path(fresh_sandbox, monkeypatch, conn_type):
    """What the API's ``POST /connections/test`` does: a transient Connection exported as a URI env var."""
    # The API server's own model, exactly what its POST /connections/test route builds.
    from airflow.models import Connection

    spec = amc_connection(fresh_sandbox.amc_url) if conn_type == "amc" else joor_connection(fresh_sandbox.joor_url)
    for good in (True, False):
        conn = Connection(  # noqa: AIR311
            conn_id=f"tmp_{conn_type}_{good}", conn_type=conn_type, host=spec["host"],
                          login=spec.get("login"), password=spec["password"] if good else "not-the-secret-zz",
                          extra=json.dumps(spec["extra"]))
        monkeypatch.setenv(f"AIRFLOW_CONN_TMP_{conn_type.upper()}_{good}".upper(), conn.get_uri())
        status, message = conn.test_connection()
        assert status is good, message
        assert "not-the-secret-zz" not in message and AMC_TOKEN not in message
        if not good:
            assert "401" in message


# --- a stuck cursor: a tiny local stub that ignores paging -----------------------------------------


@pytest.fixture
def stuck_server():
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    rows = [{"product_id": "1", "style_number": "A"}, {"product_id": "2", "style_number": "B"}]

    @app.get("/api/json/products")
    def products() -> dict:
        # Always the first page, whatever page/cursor was asked for (a tenant bug seen in the wild).
        return {"response": rows, "meta": {"pagination": {"last_id": "2", "page_number": 1, "page_size": 2,
                                                           "total_pages": 5}, "errors": []}}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.mark.parametrize("paging", ["page_number", "last_id", "auto"])
def test_stuck_cursor_stops_without_duplicates(stuck_server, monkeypatch, caplog, paging):
    monkeypatch.setenv("AIRFLOW_CONN_AMC_STUCK", json.dumps(
        {"conn_type": "amc", "host": stuck_server, "password": "stub-token", "extra": {}}))
    caplog.set_level(logging.WARNING)
    products = list(AmcHook("amc_stuck", page_size=2, paging=paging, max_pages=50).iter_products())
    assert [p.product_id for p in products] == ["1", "2"]
    assert "paging stopped" in caplog.text


def test_hook_methods_agree_with_the_declared_forms():
    from amc_joor.hooks.joor import JoorHook

    assert AmcHook.get_ui_field_behaviour()["relabeling"]["host"] == "Company URL"
    assert "port" in JoorHook.get_ui_field_behaviour()["hidden_fields"]
