"""Rows grouped by a key, so a 50,000-submission site answers as fast as the 69-row demo.

The state keeps plain lists that handlers and mutators append to or replace; an index rebuilds
itself when its list is a different object or has a different length, so nothing has to
remember to invalidate it. Callers hold the state lock, as for every other read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


class RowIndex(Generic[K, R]):
    """Groups of rows by `key`, each group in list order (rows are appended in id order)."""

    def __init__(self, key: Callable[[R], K]) -> None:
        self._key = key
        self._rows: list[R] | None = None
        self._length = -1
        self._groups: dict[K, list[R]] = {}

    def group(self, rows: list[R], key: K) -> list[R]:
        """The rows whose key is `key` (empty when none); do not mutate the list returned."""
        if rows is not self._rows or len(rows) != self._length:
            self._rebuild(rows)
        return self._groups.get(key, [])

    def first(self, rows: list[R], key: K) -> R | None:
        found = self.group(rows, key)
        return found[0] if found else None

    def _rebuild(self, rows: list[R]) -> None:
        groups: dict[K, list[R]] = {}
        for row in rows:
            groups.setdefault(self._key(row), []).append(row)
        self._rows, self._length, self._groups = rows, len(rows), groups
