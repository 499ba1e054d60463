"""The JOOR credit budget, shared by every task, DAG and worker through the state store.

Why: JOOR allows 300 credits per fixed 300-second window per *account* (GET = 1, write = 5)
and answers HTTP 429 beyond it. Everything that calls the account shares that allowance, so a
per-process limiter cannot work: two catalog tasks and the order pull on three workers would
each believe they own the whole window. Instead each call reserves its credits in one row of
the integration's state store (SQLite locally, Postgres in production) *before* sending:

* reservations are single atomic ``UPDATE … WHERE used + cost <= cap`` statements, so two
  processes can never over-spend, on SQLite or Postgres, without holding locks while waiting;
* when the window is spent the caller sleeps until the window's end instead of tripping 429s;
* a ``reserve`` (default 30 credits) is usable only by the priority lane (the order pull), so
  a long catalog push cannot starve the 15-minute order promise;
* every response's ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` re-syncs the row with the
  server's own count (other clients of the account spend credits too), and a 429 marks the
  window exhausted until its ``Retry-After``;
* the server's headers are the truth about the current window: the limit actually used is
  ``min(configured limit, X-RateLimit-Limit)`` (a connection configured above the account's
  real allowance paces to the server instead of tripping 429s, and is never stalled by it), the
  reserve keeps its share of that smaller limit, and ``X-RateLimit-Remaining`` always bounds
  what we may still spend.

Defaults 300 credits / 300 s; tests and benchmarks scale both down to match the sandbox.
``JoorHook(budget=None)`` disables the budget.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from amc_joor.state import metadata

log = logging.getLogger(__name__)

GET_COST = 1
WRITE_COST = 5

#: One row per JOOR account: the current window as this integration understands it.
joor_credit_budget = sa.Table(
    "joor_credit_budget",
    metadata,
    sa.Column("account", sa.String(100), primary_key=True),
    sa.Column("window_start", sa.Float, nullable=True),  # epoch seconds the current window was opened
    sa.Column("window_end", sa.Float, nullable=True),  # epoch seconds; NULL = no window open
    sa.Column("used", sa.Integer, nullable=False, default=0),  # credits reserved or seen in the window
    sa.Column("spent_total", sa.Integer, nullable=False, default=0),  # lifetime reservations (stats)
    sa.Column("waits_total", sa.Integer, nullable=False, default=0),  # times a caller had to wait
    sa.Column("server_limit", sa.Integer, nullable=True),  # last X-RateLimit-Limit seen (NULL: none yet)
)


def credit_cost(method: str) -> int:
    """JOOR's price of one call: 1 credit for GET/HEAD, 5 for anything that writes."""
    return GET_COST if method.upper() in ("GET", "HEAD", "OPTIONS") else WRITE_COST


class BudgetTimeout(Exception):
    """Credits could not be reserved within ``max_wait`` seconds."""


@dataclass
class CreditBudget:
    """A credit window shared through the state store. Thread- and process-safe.

    :param account: the JOOR account id the window belongs to (the key of the row).
    :param limit: credits per window (JOOR: 300).
    :param window_seconds: window length (JOOR: 300).
    :param reserve: credits only ``priority=True`` callers may use.
    :param max_wait: longest a single reservation may wait before :class:`BudgetTimeout`.
    :param margin: slack added to a window we open locally (until a response's headers tell the
        server's own end): covers the time between our reservation and the request's arrival.
    :param sync_margin: slack added to a window end derived from ``X-RateLimit-Reset``.
    :param engine: the state-store engine; default :func:`amc_joor.state.get_engine`.
    """

    account: str = "default"
    limit: int = 300
    window_seconds: float = 300.0
    reserve: int = 30
    max_wait: float = 1800.0
    margin: float = 0.25
    sync_margin: float = 0.01
    engine: Engine | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        if self.reserve >= self.limit:
            raise ValueError(f"reserve ({self.reserve}) must be below the window limit ({self.limit})")
        if self.engine is None:
            from amc_joor.state import get_engine

            self.engine = get_engine()
        else:
            from amc_joor.state import ensure_schema

            ensure_schema(self.engine)
        self._ensure_row()

    @classmethod
    def from_settings(cls, account: str, extra: Mapping[str, object] | None = None, **kw: object) -> CreditBudget:
        """Build from connection extras / env: ``credit_limit``, ``credit_window_seconds``, ``credit_reserve``.

        Env ``AMC_JOOR_JOOR_CREDIT_LIMIT`` / ``…_WINDOW_SECONDS`` / ``…_RESERVE`` override the extras
        (handy for a scaled sandbox window).
        """
        extra = extra or {}

        def pick(key: str, env: str, default: float) -> float:
            raw = os.environ.get(env) or extra.get(key)
            return float(raw) if raw not in (None, "") else default  # type: ignore[arg-type]

        params = {
            "limit": int(pick("credit_limit", "AMC_JOOR_JOOR_CREDIT_LIMIT", 300)),
            "window_seconds": pick("credit_window_seconds", "AMC_JOOR_JOOR_CREDIT_WINDOW_SECONDS", 300.0),
            "reserve": int(pick("credit_reserve", "AMC_JOOR_JOOR_CREDIT_RESERVE", 30)),
        }
        params.update(kw)  # type: ignore[arg-type]
        return cls(account=account, **params)  # type: ignore[arg-type]

    # -- storage ---------------------------------------------------------------------------

    def _ensure_row(self) -> None:
        t = joor_credit_budget
        assert self.engine is not None
        _add_missing_columns(self.engine)
        with self.engine.begin() as conn:
            exists = conn.execute(sa.select(t.c.account).where(t.c.account == self.account)).first()
            if exists:
                return
            try:
                conn.execute(t.insert().values(account=self.account, window_end=None, used=0, spent_total=0, waits_total=0))
            except sa.exc.IntegrityError:
                pass  # another process created it first

    def _effective(self, server_limit: int | None) -> int:
        """The limit in force: ours, lowered to the server's when the server allows less."""
        return min(self.limit, server_limit) if server_limit else self.limit

    def _cap(self, priority: bool, server_limit: int | None = None) -> int:
        """Credits a lane may hold in a window. A lowered limit keeps the reserve's share of it."""
        eff = self._effective(server_limit)
        if priority:
            return eff
        reserve = self.reserve if eff >= self.limit else (self.reserve * eff) // self.limit
        return eff - reserve

    def effective_limit(self) -> int:
        """The window limit in force now (:attr:`limit`, or the server's when smaller)."""
        return self._effective(self.snapshot().get("server_limit"))  # type: ignore[arg-type]

    def try_acquire(self, cost: int, priority: bool = False) -> bool:
        """Reserve ``cost`` credits now if the window has room; never waits."""
        t = joor_credit_budget
        now = self.clock()
        assert self.engine is not None
        with self.engine.begin() as conn:
            server_limit = conn.execute(sa.select(t.c.server_limit).where(t.c.account == self.account)).scalar()
            cap = self._cap(priority, server_limit)
            if cost > cap:
                raise ValueError(f"a call costing {cost} credits can never fit a cap of {cap} "
                                 f"(limit {self.limit}, server limit {server_limit})")
            # 1. Within the open window: take the credits if they fit.
            got = conn.execute(
                t.update()
                .where(t.c.account == self.account, t.c.window_end > now, t.c.used + cost <= cap)
                .values(used=t.c.used + cost, spent_total=t.c.spent_total + cost)
            ).rowcount
            if got:
                return True
            # 2. No window open (or it ended): open a new one with this reservation.
            got = conn.execute(
                t.update()
                .where(t.c.account == self.account, sa.or_(t.c.window_end.is_(None), t.c.window_end <= now))
                .values(
                    used=cost,
                    window_start=now,
                    window_end=now + self.window_seconds + self.margin,
                    spent_total=t.c.spent_total + cost,
                )
            ).rowcount
            return bool(got)

    def acquire(self, cost: int, priority: bool = False, max_wait: float | None = None) -> float:
        """Reserve ``cost`` credits, sleeping until a window has room. Returns seconds waited."""
        max_wait = self.max_wait if max_wait is None else max_wait
        start = self.clock()
        waited = False
        while True:
            if self.try_acquire(cost, priority):
                return self.clock() - start
            now = self.clock()
            if not waited:
                waited = True
                self._count_wait()
            window_end = self.window_end()
            delay = (window_end - now) if window_end else 0.0
            # Wake right at the window's end (its slack is already in it), but re-check now and
            # then: a sync from another process may move the end.
            delay = min(max(delay, 0.0) + 0.002, 5.0)
            if now - start + delay > max_wait:
                raise BudgetTimeout(
                    f"could not reserve {cost} JOOR credits within {max_wait:.0f}s "
                    f"(account {self.account}, {self.limit}/{self.window_seconds:.0f}s)"
                )
            self.sleep(max(delay, 0.005))

    def _count_wait(self) -> None:
        t = joor_credit_budget
        assert self.engine is not None
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.account == self.account).values(waits_total=t.c.waits_total + 1))

    def available(self, priority: bool = False) -> int:
        """Credits a caller of this lane could reserve right now (advisory: another process may
        take them first; :meth:`acquire` is what guarantees)."""
        snap = self.snapshot()
        end = snap.get("window_end")
        used = 0 if end is None or end <= self.clock() else int(snap.get("used") or 0)
        return max(0, self._cap(priority, snap.get("server_limit")) - used)  # type: ignore[arg-type]

    def window_end(self) -> float | None:
        t = joor_credit_budget
        assert self.engine is not None
        with self.engine.connect() as conn:
            return conn.execute(sa.select(t.c.window_end).where(t.c.account == self.account)).scalar()

    def snapshot(self) -> dict[str, float | int | None]:
        """The row as a dict (for logs, tests, the bench)."""
        t = joor_credit_budget
        assert self.engine is not None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.account == self.account)).mappings().first()
        return dict(row) if row else {}

    def reset(self) -> None:
        """Forget the current window (tests, or after an operator cleared the account)."""
        t = joor_credit_budget
        assert self.engine is not None
        with self.engine.begin() as conn:
            conn.execute(
                t.update().where(t.c.account == self.account).values(window_start=None, window_end=None, used=0)
            )

    # -- feedback from the server ---------------------------------------------------------

    def sync(self, headers: Mapping[str, str], received_at: float | None = None, sent_at: float | None = None) -> None:
        """Align the row with a response's ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``.

        * ``X-RateLimit-Limit`` is remembered (an account property, stale replies included): the
          effective limit is ``min(limit, server limit)``.
        * A response to a request sent before the current window opened is stale: ignored.
        * The server's count wins upwards (other clients of the account spend credits too):
          ``effective limit - remaining``. With a larger server limit this is "no more than the
          server's remaining"; with a smaller one it is exactly the server's own count.
        * The reset header bounds the server's window end: it lies within
          ``(sent_at + reset - resolution, received_at + reset]`` (JOOR-style headers round
          the seconds up). Our end is kept while it sits inside those bounds, pulled in to the
          upper bound when it is later (the server resets sooner), and pushed out to it when
          it is earlier than the lower bound (we would otherwise send into a spent window).
        """
        parsed = parse_rate_headers(headers)
        if parsed is None:
            return
        server_limit, remaining, reset_in = parsed
        received = received_at if received_at is not None else self.clock()
        sent = sent_at if sent_at is not None else received
        resolution = 1.0 if float(reset_in).is_integer() else 0.001
        hi = received + reset_in + self.sync_margin
        lo = sent + reset_in - resolution
        t = joor_credit_budget
        assert self.engine is not None
        current = sa.and_(t.c.account == self.account, t.c.window_start.is_not(None), t.c.window_start <= sent)
        with self.engine.begin() as conn:
            if server_limit:
                conn.execute(t.update().where(t.c.account == self.account, sa.or_(
                    t.c.server_limit.is_(None), t.c.server_limit != server_limit)).values(server_limit=server_limit))
            else:
                server_limit = conn.execute(
                    sa.select(t.c.server_limit).where(t.c.account == self.account)).scalar()
            server_used = max(0, self._effective(server_limit) - remaining)
            conn.execute(
                t.update()
                .where(current)
                .values(
                    used=sa.case((t.c.used < server_used, server_used), else_=t.c.used),
                    window_end=sa.case(
                        (t.c.window_end > hi, hi),
                        (t.c.window_end < lo, hi),
                        else_=t.c.window_end,
                    ),
                )
            )

    def exhausted(self, retry_after: float) -> None:
        """A 429 arrived: nobody (priority included) sends again before ``retry_after`` elapses."""
        now = self.clock()
        end = now + max(retry_after, 0.0) + self.sync_margin
        t = joor_credit_budget
        assert self.engine is not None
        with self.engine.begin() as conn:
            conn.execute(
                t.update()
                .where(t.c.account == self.account)
                .values(
                    used=self.limit,
                    window_start=sa.case((t.c.window_start.is_(None), now), else_=t.c.window_start),
                    # The server's Retry-After is the truth about when sending may resume, sooner or
                    # later than the window end we knew (a short burst limit must not stall us until
                    # JOOR's 300 s window ends).
                    window_end=end,
                )
            )


def parse_rate_headers(headers: Mapping[str, str]) -> tuple[int | None, int, float] | None:
    """``(limit, remaining, seconds_until_reset)`` from a response's headers, or None if absent."""
    remaining = headers.get("X-RateLimit-Remaining")
    reset = headers.get("X-RateLimit-Reset")
    if remaining is None or reset is None:
        return None
    try:
        rem = int(float(remaining))
        reset_s = float(reset)
    except ValueError:
        return None
    if reset_s > 1e9:  # an epoch timestamp rather than seconds-until
        reset_s = max(0.0, reset_s - time.time())
    limit_raw = headers.get("X-RateLimit-Limit")
    try:
        limit = int(float(limit_raw)) if limit_raw is not None else None
    except ValueError:
        limit = None
    return limit, rem, max(0.0, reset_s)


def _add_missing_columns(engine: Engine) -> None:
    """Add columns a newer version of this table has to an older store (additive only)."""
    t = joor_credit_budget
    have = {c["name"] for c in sa.inspect(engine).get_columns(t.name)}
    for col in t.columns:
        if col.name not in have:
            ddl = f"ALTER TABLE {t.name} ADD COLUMN {col.name} {col.type.compile(engine.dialect)}"
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text(ddl))
            except sa.exc.DBAPIError:
                pass  # another process added it first
