"""Print shell exports of the local sandbox connections (stdlib only: runs before the venv)."""

import os
import shlex
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include"))
from amc_joor_sandbox.connections import connection_env  # noqa: E402

amc_port, joor_port = sys.argv[1], sys.argv[2]
for name, value in connection_env(f"http://127.0.0.1:{amc_port}", f"http://127.0.0.1:{joor_port}").items():
    print(f"export {name}={shlex.quote(value)}")
