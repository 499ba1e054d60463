"""The JOOR credit budget on a real SQLite state store: windows, reserve, server sync, concurrency."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from amc_joor.budget import BudgetTimeout, CreditBudget, credit_cost, parse_rate_headers


class FakeClock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


@pytest.fixture
def engine(tmp_path):
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'b.db'}", connect_args={"timeout": 30})
    yield eng
    eng.dispose()


def make(engine, clock=None, **kw) -> CreditBudget:
    clock = clock or FakeClock()
    kw.setdefault("limit", 20)
    kw.setdefault("window_seconds", 10.0)
    kw.setdefault("reserve", 5)
    return CreditBudget(account="acct", engine=engine, clock=clock, sleep=clock.sleep, **kw)


def test_costs():
    assert credit_cost("GET") == 1 and credit_cost("post") == 5 and credit_cost("PUT") == 5


def test_normal_lane_stops_at_the_reserve_priority_may_use_it(engine):
    b = make(engine)
    assert all(b.try_acquire(5) for _ in range(3))  # 15 = limit - reserve
    assert not b.try_acquire(1)
    assert b.try_acquire(5, priority=True)  # the order pull still gets through
    assert not b.try_acquire(1, priority=True)
    assert b.snapshot()["used"] == 20


def test_waits_for_the_window_to_reset_instead_of_overspending(engine):
    clock = FakeClock()
    b = make(engine, clock)
    for _ in range(3):
        b.acquire(5)
    start = clock.t
    waited = b.acquire(5)
    assert waited >= 10.0 and clock.t - start >= 10.0
    snap = b.snapshot()
    assert snap["used"] == 5 and snap["window_start"] >= start + 10.0 and snap["waits_total"] == 1


def test_gives_up_after_max_wait(engine):
    b = make(engine, max_wait=3.0)
    b.acquire(15)
    with pytest.raises(BudgetTimeout):
        b.acquire(1)


def test_server_count_wins_upwards_and_stale_replies_are_ignored(engine):
    clock = FakeClock()
    b = make(engine, clock)
    b.acquire(1)  # opens the window at t0
    t0 = clock.t
    b.sync({"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "8", "X-RateLimit-Reset": "10"}, t0 + 0.01, t0)
    assert b.snapshot()["used"] == 12  # someone else spent 11 credits on the account
    clock.t += 11  # next window
    b.acquire(1)
    b.sync({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}, clock.t, t0)  # sent in the old window
    assert b.snapshot()["used"] == 1


def test_reset_header_moves_our_window_end_within_its_bounds(engine):
    clock = FakeClock()
    b = make(engine, clock, margin=0.0)
    b.acquire(1)
    t0 = clock.t
    end = b.snapshot()["window_end"]
    # server says it resets in ~3 s (rounded up): its window started long before ours
    b.sync({"X-RateLimit-Remaining": "15", "X-RateLimit-Reset": "3"}, t0 + 0.1, t0)
    assert b.snapshot()["window_end"] == pytest.approx(t0 + 3.1)
    # a consistent header later does not move it
    b.sync({"X-RateLimit-Remaining": "15", "X-RateLimit-Reset": "3"}, t0 + 0.2, t0 + 0.15)
    assert b.snapshot()["window_end"] == pytest.approx(t0 + 3.1) and end > t0 + 3.1


def test_a_429_blocks_everyone_until_retry_after(engine):
    clock = FakeClock()
    b = make(engine, clock)
    b.acquire(1)
    b.exhausted(4.0)
    assert not b.try_acquire(1, priority=True)
    clock.t += 3.9
    assert not b.try_acquire(1)  # Retry-After not over yet
    clock.t += 0.3
    assert b.try_acquire(1)  # the server's Retry-After decides, not the 10 s window we guessed


def test_parse_rate_headers():
    assert parse_rate_headers({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "12",
                               "X-RateLimit-Reset": "42"}) == (300, 12, 42.0)
    assert parse_rate_headers({"X-RateLimit-Remaining": "12"}) is None


def test_threads_never_overspend_a_window(engine):
    b = make(engine, limit=50, reserve=0, window_seconds=3600.0)
    got: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(40):
            if b.try_acquire(1):
                with lock:
                    got.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(got) == 50 and b.snapshot()["used"] == 50


def test_reserve_must_leave_room():
    with pytest.raises(ValueError):
        CreditBudget(account="x", limit=10, reserve=10, engine=sa.create_engine("sqlite://"))


def test_an_older_table_gets_the_new_columns(tmp_path):
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with eng.begin() as conn:
        conn.execute(sa.text("CREATE TABLE joor_credit_budget (account VARCHAR(100) PRIMARY KEY, "
                             "window_end FLOAT, used INTEGER NOT NULL, spent_total INTEGER NOT NULL, "
                             "waits_total INTEGER NOT NULL)"))
    b = CreditBudget(account="a", limit=10, reserve=0, engine=eng)
    assert b.try_acquire(3) and b.snapshot()["window_start"] is not None


def test_processes_share_one_row_on_postgres(postgres_state_url):
    """Production store: the same atomic reservations on PostgreSQL, from several threads."""
    from amc_joor.state import get_engine

    b = CreditBudget(account="pg", limit=40, reserve=0, window_seconds=3600.0, engine=get_engine(postgres_state_url))
    got: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(30):
            if b.try_acquire(1):
                with lock:
                    got.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(got) == 40 and b.snapshot()["used"] == 40


# --- the server's limit is the truth about the window -------------------------------------------


def test_a_smaller_server_limit_lowers_the_effective_limit_instead_of_stalling(engine):
    """Client configured for 300 (say, raised), the account still allows 20: the client counts
    what the server counts and stops at the server's 20 (reserve scaled to its share)."""
    clock = FakeClock()
    b = make(engine, clock, limit=300, reserve=30)
    b.acquire(1)
    t0 = clock.t
    b.sync({"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "19", "X-RateLimit-Reset": "10"}, t0 + 0.01, t0)
    snap = b.snapshot()
    assert snap["used"] == 1 and snap["server_limit"] == 20  # one credit spent, not 300 - 19
    assert b.effective_limit() == 20
    assert b.available() == 20 - 2 - 1  # reserve 30 of 300 -> 2 of 20
    assert b.available(priority=True) == 19
    assert all(b.try_acquire(1) for _ in range(17)) and not b.try_acquire(1)
    assert b.try_acquire(2, priority=True) and not b.try_acquire(1, priority=True)


def test_a_larger_server_limit_never_raises_ours_but_its_remaining_bounds_us(engine):
    clock = FakeClock()
    b = make(engine, clock, limit=20, reserve=0)
    b.acquire(1)
    t0 = clock.t
    b.sync({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "10"}, t0, t0)
    assert b.effective_limit() == 20 and b.snapshot()["used"] == 1
    # other clients of the account spent nearly everything: only 5 credits are left on the server
    b.sync({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "9"}, t0 + 1, t0 + 1)
    assert b.available() == 5


def test_headers_without_a_limit_use_the_known_server_limit(engine):
    clock = FakeClock()
    b = make(engine, clock, limit=300, reserve=0)
    b.acquire(1)
    t0 = clock.t
    b.sync({"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "19", "X-RateLimit-Reset": "10"}, t0, t0)
    b.acquire(1)
    b.sync({"X-RateLimit-Remaining": "18", "X-RateLimit-Reset": "10"}, t0 + 0.1, t0 + 0.1)
    assert b.snapshot()["used"] == 2 and b.effective_limit() == 20
