"""Kill a process for real at a named crash point (``orders.crash_point``), for the kill -9 tests.

The child runs with ``AMC_JOOR_TEST_CRASH_AT=<point>``; on reaching it, it writes its pid to the
sentinel file and waits; this helper then sends SIGKILL. Shared by the order pull's crash tests
and the chaos suite's push crash tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest


def kill_at_crash_point(cmd: list[str], env: dict[str, str], point: str, sentinel: Path,
                        timeout: float = 60) -> int:
    """Start ``cmd``, wait (bounded) until it reaches ``point``, SIGKILL it; returns its exit code."""
    env = dict(env, AMC_JOOR_TEST_CRASH_AT=point, AMC_JOOR_TEST_CRASH_SENTINEL=str(sentinel),
               AMC_JOOR_TEST_CRASH_WAIT="60")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + timeout
        while not sentinel.exists() or not sentinel.read_text().strip():
            if proc.poll() is not None:
                pytest.fail(f"{cmd[-1]} ended before reaching {point}: {proc.stdout.read()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{cmd[-1]} never reached {point}")
            time.sleep(0.05)
        assert int(sentinel.read_text().strip()) == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
