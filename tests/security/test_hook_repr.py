"""``repr()``/``str()`` of the hooks, their configs, cached tokens and their errors carry no secret.

Why: a ``log.info("%s", hook.config)``, an exception in a traceback or a debugger dump is how
credentials usually leak; Airflow's masker only helps inside task logs.
"""

from __future__ import annotations

import json

import pytest

AMC_TOKEN = "amc-TOKEN-5d1e9a3c7b2f4e6a8c0d1f3b5e7a9c2d"
V2_TOKEN = "joor-V2TOKEN-8b4e2c6a0f1d3b5e7c9a2e4f6b8d0c1a"
CLIENT_SECRET = "joor-CLIENTSECRET-2c4e6a8f0b1d3e5c7a9f1b3d5e7a9c0b"
PASSWORD = "joor-PASSWORD-6e8a0c2f4b1d3e5a7c9e1b3d5f7a9c2e"
SECRETS = (AMC_TOKEN, V2_TOKEN, CLIENT_SECRET, PASSWORD)


@pytest.fixture
def sandbox_with_secrets(monkeypatch):
    from amc_joor_sandbox.testing import start_sandbox

    monkeypatch.setenv("AMC_JOOR_SANDBOX_JOOR_CONFIG", json.dumps(
        {"v2_token": V2_TOKEN, "client_secret": CLIENT_SECRET, "password": PASSWORD}))
    with start_sandbox("small", seed=1, amc_token=AMC_TOKEN) as sb:
        yield sb


def _connections(sb, monkeypatch, *, amc_token: str = AMC_TOKEN, password: str = PASSWORD) -> None:
    from amc_joor_sandbox import connections as c

    amc = {**c.amc_connection(sb.amc_url), "password": amc_token}
    joor = c.joor_connection(sb.joor_url)
    joor["password"] = password
    joor["extra"] = {**joor["extra"], "v2_token": V2_TOKEN, "client_secret": CLIENT_SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_AMC_DEFAULT", json.dumps(amc))
    monkeypatch.setenv("AIRFLOW_CONN_JOOR_DEFAULT", json.dumps(joor))


def _texts(*objects) -> str:
    return "\n".join(f"{o!r}\n{o!s}" for o in objects)


def test_hooks_configs_tokens_and_errors_print_no_secret(sandbox_with_secrets, monkeypatch) -> None:
    from amc_joor.hooks import joor as joor_mod
    from amc_joor.hooks.amc import AmcApiError, AmcHook
    from amc_joor.hooks.http import RetryPolicy
    from amc_joor.hooks.joor import JoorApiError, JoorHook

    sb = sandbox_with_secrets
    _connections(sb, monkeypatch)
    amc, joor = AmcHook(), JoorHook()
    assert amc.list_warehouses() and joor.list_traits()  # the credentials work: configs and a token exist
    tokens = sb.joor_admin.get("/joor/tokens")
    issued = [*tokens["access_tokens"], *tokens["refresh_tokens"]]
    assert issued
    cached = [t for t in joor_mod.TOKENS._tokens.values()]
    printed = _texts(amc, joor, amc.config, joor.config, *cached, joor_mod.TOKENS, joor.transport)
    for secret in (*SECRETS, *issued):
        assert secret not in printed, "a secret is printed by repr/str"

    # errors: a refused AMC token, a refused JOOR password, a failing write carrying the token in its body
    _connections(sb, monkeypatch, amc_token=AMC_TOKEN[:-1] + "X", password=PASSWORD[:-1] + "X")
    fast = RetryPolicy(max_attempts=1, max_elapsed=1, backoff_initial=0.01)
    errors = []
    for call in (lambda: AmcHook(retry_policy=fast).list_warehouses(),
                 lambda: JoorHook(retry_policy=fast).access_token(force=True)):
        with pytest.raises((AmcApiError, JoorApiError)) as info:
            call()
        errors.append(info.value)
    _connections(sb, monkeypatch)
    sb.amc_admin.arm_fault("status", status=500, method="POST", path="/api/json/orders")
    with pytest.raises(AmcApiError) as info:
        AmcHook(retry_policy=fast).create_order({"customer_id": "2001"}, [{"sku_id": "100001", "qty": 1}])
    errors.append(info.value)
    assert errors[0].kind == "auth" and errors[2].ambiguous
    printed = _texts(*errors, *(e.args for e in errors), *(vars(e) for e in errors))
    for secret in (*SECRETS, AMC_TOKEN[:-1] + "X", PASSWORD[:-1] + "X"):
        assert secret not in printed, "a secret is printed by an error"
