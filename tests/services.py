"""The machine's PostgreSQL and Redis for production-shaped tests.

Off CI, a machine without them skips those tests with a clear message; in CI (CI=true) a
missing service is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} - CI must run the production-shaped tests (.ci/run starts it)")
    pytest.skip(f"{message}: production-shaped test skipped on this machine")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    user = os.environ.get("AMC_JOOR_TEST_PG_USER", "postgres")
    return f"postgresql+psycopg2://{user}@{PG_HOST}:{PG_PORT}/test"


@pytest.fixture
def postgres_state_url(postgres_admin_url):
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    import sqlalchemy as sa

    name = f"amc_joor_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    from amc_joor import state

    for url, engine in list(state._engines.items()):
        if name in url:
            engine.dispose()
            state._engines.pop(url, None)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
