"""A 429 with a short Retry-After must cost about Retry-After, not the rest of the credit window.

Found by the chaos suite's 429 storm (issue #10): ``CreditBudget.exhausted`` marks the window
spent (``used = limit``) but keeps a *later* window end — after any successful JOOR reply
``sync`` has set that end to JOOR's window end, up to 300 s away — so one 429 that says
``Retry-After: 1`` (a gateway or proxy throttle, a burst limiter) stops every JOOR caller of
the account, the order pull's priority lane included, until the whole window ends. ``sync``
already trusts the server when it says the window resets *sooner*; ``exhausted`` should too.
Fixed in ``include/amc_joor/budget.py``: ``exhausted`` takes the server's Retry-After as the
window end.
"""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(60)]

MAX_WAIT = 4.0


def test_short_retry_after_does_not_stall_until_the_window_ends(fresh_sandbox, tmp_path, monkeypatch):
    from amc_joor.budget import CreditBudget
    from amc_joor.hooks.joor import JoorHook
    from amc_joor.state import get_engine
    from amc_joor_sandbox.connections import connection_env

    sb = fresh_sandbox  # JOOR's real window: 300 credits per 300 s
    for name, value in connection_env(sb.amc_url, sb.joor_url).items():
        monkeypatch.setenv(name, value)
    budget = CreditBudget(account="1001", max_wait=MAX_WAIT, engine=get_engine(f"sqlite:///{tmp_path / 's.db'}"))
    hook = JoorHook(budget=budget)
    assert hook.list_price_types()  # a normal reply: the budget learns JOOR's window end (~300 s away)
    sb.joor_admin.arm_fault("status", status=429, retry_after=1, path="/v4/price_types", count=1)
    started = time.monotonic()
    hook.list_price_types()  # 429, Retry-After: 1 -> wait ~1 s and go on
    assert time.monotonic() - started < MAX_WAIT
