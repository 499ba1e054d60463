"""Paging state machines for both APIs — pure logic, no I/O, so every edge case is unit-testable.

The hooks drive them: ask ``next_params()``, send, feed the page to ``advance(...)``, which
returns the records to yield and whether to go on. Stop rules (AMC's are contradictory
across tenants, so the client defends itself):

* an empty page, a short page (fewer rows than the page size the server *says* it used),
  ``page_number >= total_pages``, or JOOR's ``next_start`` missing / ``page * page_size >= total``;
* a **stuck cursor**: the server ignores the page/cursor and hands back a page already seen
  (same ``last_id``, same ``page_number`` echo, or only record keys already yielded). Records
  not seen before are still yielded, duplicates never; then paging stops with a warning flag;
* a **page cap**: more pages than ``max_pages`` raises :class:`PagingError` (truncated data
  must never look complete).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class PagingError(RuntimeError):
    """Paging could not complete (page cap hit): the result would be silently truncated."""


@dataclass
class PageOutcome:
    """What to do with one page: the new records to yield, and whether to request another."""

    records: list[dict[str, Any]]
    more: bool
    stuck: bool = False
    reason: str = ""


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


@dataclass
class AmcPager:
    """AMC paging: ``page_number`` style, ``last_id`` style, or ``auto`` (page numbers, switching
    to ``last_id`` if the tenant answers with a cursor and no page count)."""

    page_size: int = 500
    style: str = "auto"  # auto | page_number | last_id
    max_pages: int = 10_000
    key: Callable[[Mapping[str, Any]], Hashable] = lambda r: id(r)
    page_number: int = 1
    last_id: str | None = None
    pages: int = 0
    seen: set[Hashable] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.style not in ("auto", "page_number", "last_id"):
            raise ValueError(f"AMC paging style must be auto, page_number or last_id, got {self.style!r}")
        if self.style == "last_id" and self.last_id is None:
            self.last_id = "0"

    @property
    def using_cursor(self) -> bool:
        return self.style == "last_id"

    def next_params(self) -> dict[str, str]:
        """The ``pagination[...]`` query items of the next request."""
        if self.pages >= self.max_pages:
            raise PagingError(
                f"stopped after {self.pages} pages (cap {self.max_pages}); the result would be truncated"
            )
        params = {"pagination[page_size]": str(self.page_size)}
        if self.using_cursor:
            params["pagination[last_id]"] = str(self.last_id or "0")
        else:
            params["pagination[page_number]"] = str(self.page_number)
        return params

    def advance(self, rows: Sequence[Mapping[str, Any]], pagination: Mapping[str, Any] | None) -> PageOutcome:
        """Consume one page (``response`` rows and ``meta.pagination``)."""
        self.pages += 1
        pag = pagination or {}
        fresh = []
        for row in rows:
            k = self.key(row)
            if k in self.seen:
                continue
            self.seen.add(k)
            fresh.append(dict(row))
        if not rows:
            return PageOutcome(fresh, False, reason="empty page")
        size = _as_int(pag.get("page_size")) or self.page_size
        if self.style == "auto" and pag.get("last_id") not in (None, "") and "total_pages" not in pag:
            self.style = "last_id"  # the tenant pages by cursor whatever we asked for
        if not fresh:
            return PageOutcome(fresh, False, stuck=True, reason="page repeated records already read")
        if self.using_cursor:
            new_cursor = pag.get("last_id")
            if new_cursor in (None, ""):
                return PageOutcome(fresh, False, stuck=True, reason="no last_id in the reply")
            if self.last_id is not None and str(new_cursor) == str(self.last_id):
                return PageOutcome(fresh, False, stuck=True, reason=f"cursor did not move (last_id {new_cursor})")
            self.last_id = str(new_cursor)
            if len(rows) < size:
                return PageOutcome(fresh, False, reason="short page")
            return PageOutcome(fresh, True)
        echoed = _as_int(pag.get("page_number"))
        if echoed is not None and echoed != self.page_number:
            return PageOutcome(
                fresh, False, stuck=True, reason=f"asked page {self.page_number}, got page {echoed}"
            )
        total_pages = _as_int(pag.get("total_pages"))
        if len(rows) < size:
            return PageOutcome(fresh, False, reason="short page")
        if total_pages is not None and self.page_number >= total_pages:
            return PageOutcome(fresh, False, reason="last page")
        self.page_number += 1
        return PageOutcome(fresh, True)


@dataclass
class JoorV2Pager:
    """JOOR v2: ``start_from`` + ``count``, the reply's ``response.next_start`` says where to go on."""

    count: int = 100
    max_pages: int = 10_000
    start_from: int = 0
    pages: int = 0

    def next_params(self) -> dict[str, str]:
        if self.pages >= self.max_pages:
            raise PagingError(f"stopped after {self.pages} pages (cap {self.max_pages})")
        return {"start_from": str(self.start_from), "count": str(self.count)}

    def advance(self, n_rows: int, next_start: Any) -> PageOutcome:
        self.pages += 1
        nxt = _as_int(next_start)
        if n_rows == 0:
            return PageOutcome([], False, reason="empty page")
        if nxt is None or nxt <= 0:
            return PageOutcome([], False, reason="no next_start")
        if nxt <= self.start_from:
            return PageOutcome([], False, stuck=True, reason=f"next_start {nxt} did not move past {self.start_from}")
        self.start_from = nxt
        return PageOutcome([], True)


@dataclass
class JoorV4Pager:
    """JOOR v4: ``page`` (1-based) + ``page_size`` (≤ 200); the reply's ``meta.total`` bounds it."""

    page_size: int = 200
    max_pages: int = 10_000
    page: int = 1
    pages: int = 0
    first_keys: set[Hashable] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= 200:
            raise ValueError("JOOR v4 page_size must be within 1..200")

    def next_params(self) -> dict[str, str]:
        if self.pages >= self.max_pages:
            raise PagingError(f"stopped after {self.pages} pages (cap {self.max_pages})")
        return {"page": str(self.page), "page_size": str(self.page_size)}

    def advance(self, n_rows: int, meta: Mapping[str, Any] | None, keys: Sequence[Hashable] = ()) -> PageOutcome:
        self.pages += 1
        meta = meta or {}
        if n_rows == 0:
            return PageOutcome([], False, reason="empty page")
        if keys:
            kset = set(keys)
            if kset and kset <= self.first_keys:
                return PageOutcome([], False, stuck=True, reason="page repeated records already read")
            self.first_keys |= kset
        size = _as_int(meta.get("page_size")) or self.page_size
        total = _as_int(meta.get("total"))
        if n_rows < size:
            return PageOutcome([], False, reason="short page")
        if total is not None and self.page * size >= total:
            return PageOutcome([], False, reason="last page")
        self.page += 1
        return PageOutcome([], True)
