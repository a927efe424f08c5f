"""A kind's typed rows, held column by column from the reader to the frame the engine reads: a
million sales rows are a dozen lists, not a million dicts built, walked and taken apart again.
A row becomes a dict only when something is said about it (a duplicate, a rejection)."""

from __future__ import annotations

from itertools import chain, compress
from typing import Iterator


class Rows:
    """Equal-length columns by name; rows are numbered from 0."""

    def __init__(self, columns: dict[str, list]):
        self.columns = columns

    @classmethod
    def empty(cls, names: list[str]) -> Rows:
        return cls({name: [] for name in names})

    @classmethod
    def from_records(cls, records: list[dict], names: list[str]) -> Rows:
        """Rows of dicts; a name a dict lacks reads as None."""
        return cls({name: [record.get(name) for record in records] for name in names})

    @classmethod
    def concat(cls, names: list[str], parts: list[Rows]) -> Rows:
        if len(parts) == 1:
            return parts[0]
        return cls({name: list(chain.from_iterable(part.columns[name] for part in parts)) for name in names})

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    def __getitem__(self, name: str) -> list:
        return self.columns[name]

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def record(self, i: int) -> dict:
        """Row i as a dict, its columns in order."""
        return {name: values[i] for name, values in self.columns.items()}

    def records(self) -> Iterator[dict]:
        return (self.record(i) for i in range(len(self)))

    def without(self, dropped: list[int]) -> Rows:
        """These rows (positions in ascending order) taken out. Usually a few rejected among a
        million: each column is then copied in the slices between them, which is quicker than
        item by item; when many are taken out (rows after --through), item by item."""
        if not dropped:
            return self
        if len(dropped) * 100 > len(self):
            out = set(dropped)
            keep = [i not in out for i in range(len(self))]
            return Rows({name: list(compress(values, keep)) for name, values in self.columns.items()})
        spans = list(zip([0] + [i + 1 for i in dropped], dropped + [len(self)]))
        columns = {}
        for name, values in self.columns.items():
            kept: list = []
            for start, stop in spans:
                kept += values[start:stop]
            columns[name] = kept
        return Rows(columns)

    def with_columns(self, **columns: list) -> Rows:
        return Rows({**self.columns, **columns})
