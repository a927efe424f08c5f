"""What the sheet writers share: the tables of one workbook by role, and the month (or one
partner's share of it) they write. The channel workbook and a statement run the same writers
over different contexts, so a figure is computed by one formula wherever it appears."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Rules
from ..engine import MonthResult, PartnerMonth
from ..xlsx import Table


@dataclass
class Tables:
    """The tables of a workbook. A statement holds no table for what it has no rows of (None);
    the writers only reach a table when there are rows to reach."""
    partners: Table
    requirements: Table
    close: Table
    ledger: Table
    sales: Table | None = None
    activities: Table | None = None
    nfr: Table | None = None
    coop: Table | None = None
    leads: Table | None = None
    adjustments: Table | None = None


@dataclass
class Context:
    """One workbook's month: its rules, its rows, its tables, and where each partner's rows
    are (its row on Partners, its blocks of sale and activity lines)."""
    rules: Rules
    result: MonthResult
    tables: Tables
    rows: dict[str, int] = field(init=False)
    sales_blocks: dict[str, tuple[int, int]] = field(init=False)
    activity_blocks: dict[str, tuple[int, int]] = field(init=False)
    adjustment_blocks: dict[str, tuple[int, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = {p.partner_id: i + 2 for i, p in enumerate(self.result.partners)}
        self.sales_blocks = partner_blocks(self.result.sales, self.result.partners)
        self.activity_blocks = partner_blocks(self.result.activities, self.result.partners)
        self.adjustment_blocks = partner_blocks(self.result.adjustments, self.result.partners)


def partner_blocks(frame, partners: list[PartnerMonth], first_row: int = 2) -> dict[str, tuple[int, int]]:
    """partner_id -> (first, last) spreadsheet rows of its contiguous block in a sorted frame."""
    blocks: dict[str, tuple[int, int]] = {}
    if not len(frame):
        return blocks
    ids = column(frame, "partner_id")
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[start]:
            blocks[ids[start]] = (first_row + start, first_row + i - 1)
            start = i
    return blocks


@dataclass(frozen=True)
class Lines:
    """A few rows of a month's frame as plain column lists (a partner's share, see
    partner_views). pandas spends microseconds on every call, which a statement's hundred calls
    on a handful of rows would pay ten thousand times a month; the writers read these through
    `column` and `columns` exactly as they read a frame."""
    data: dict[str, list]
    rows: int

    def __len__(self) -> int:
        return self.rows

    @classmethod
    def of(cls, frame) -> "Lines":
        return cls({name: frame[name].tolist() for name in frame.columns}, len(frame))

    def take(self, first: int, stop: int) -> "Lines":
        """Rows `first` to `stop` (a slice of each column)."""
        return Lines({name: values[first:stop] for name, values in self.data.items()}, stop - first)

    def pick(self, rows: list[int]) -> "Lines":
        return Lines({name: [values[i] for i in rows] for name, values in self.data.items()}, len(rows))


def column(frame, name: str) -> list:
    """One column of a frame (or of Lines) as a list of plain values (what Series.tolist gives)."""
    return frame.data[name] if type(frame) is Lines else frame[name].tolist()


def columns(frame) -> dict[str, list]:
    """A frame's columns (or Lines') as lists of plain values (what Series.tolist gives),
    column by column: a month's many rows are copied one column at a time."""
    if type(frame) is Lines:
        return frame.data
    return {name: frame[name].tolist() for name in frame.columns}


def records(frame) -> list[dict]:
    """A frame's rows as dicts of plain values: itertuples and to_dict build theirs at half a
    millisecond a call, more than a statement's two claims are worth."""
    col = columns(frame)
    return [dict(zip(col, row)) for row in zip(*col.values())]


def value(x):
    """pandas missing values as None."""
    if x is None:
        return None
    try:
        if x != x:
            return None
    except (TypeError, ValueError):
        pass
    return x

