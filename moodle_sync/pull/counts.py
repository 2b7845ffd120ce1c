"""Per-stream counts for the sync-run ledger."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass
class StreamCounts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0

    def add(self, other: StreamCounts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def diff_counts(
    incoming: Mapping[K, Mapping[str, Any]],
    stored: Mapping[K, Mapping[str, Any]],
    compare: Callable[[Mapping[str, Any]], Any],
) -> StreamCounts:
    """Classify incoming rows as inserted, updated or unchanged against the stored snapshot."""
    counts = StreamCounts(read=len(incoming))
    for key, row in incoming.items():
        if key not in stored:
            counts.inserted += 1
        elif compare(stored[key]) != compare(row):
            counts.updated += 1
        else:
            counts.unchanged += 1
    return counts
