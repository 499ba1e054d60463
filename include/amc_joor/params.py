"""Parsing of trigger-form values shared by every DAG (pure; no Airflow imports)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SEPARATORS = re.compile(r"[,;\n]+")


def split_list(value: Any) -> list[str]:
    """A list param from the trigger form: "A, B;C\\nD" or ["A", "B"] → ["A", "B", "C", "D"] (blanks dropped)."""
    if value is None:
        return []
    if isinstance(value, str):
        parts: Iterable[Any] = _SEPARATORS.split(value)
    elif isinstance(value, Iterable):
        parts = value
    else:
        parts = [value]
    return [s for s in (str(p).strip() for p in parts) if s]
