"""Print shell exports of the local sandbox connections and settings (stdlib only: runs before the venv)."""

import json
import shlex
import sys

amc_port, joor_port = sys.argv[1], sys.argv[2]
amc = {
    "conn_type": "amc",
    "host": f"http://127.0.0.1:{amc_port}",
    "password": "amc-sandbox-token",
    "extra": {"environment": "sandbox"},
}
joor = {
    "conn_type": "joor",
    "host": f"http://127.0.0.1:{joor_port}",
    "login": "sandbox@brand.example",
    "password": "sandbox",
    "extra": {
        "environment": "sandbox",
        "v2_token": "joor-sandbox-token",
        "client_id": "joor-sandbox-client",
        "client_secret": "joor-sandbox-secret",
        "account_id": "1001",
        "auth_url": f"http://127.0.0.1:{joor_port}/auth/",
    },
}
exports = {
    "AIRFLOW_CONN_AMC_DEFAULT": json.dumps(amc),
    "AIRFLOW_CONN_JOOR_DEFAULT": json.dumps(joor),
}
for name, value in exports.items():
    print(f"export {name}={shlex.quote(value)}")
