"""``[core] hostname_callable`` for the distributed test: each Celery worker names itself.

Two workers on one machine share a hostname; naming them lets the test prove that mapped
tasks really ran on both.
"""

import os
import socket


def hostname() -> str:
    return os.environ.get("AMC_JOOR_WORKER_NAME") or socket.getfqdn()
