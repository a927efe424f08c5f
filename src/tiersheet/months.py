"""Month arithmetic on dates that stand for months (their first day), shared by the reader and
the engine (R2: the programme is evaluated per calendar month)."""

from __future__ import annotations

import calendar
from datetime import date


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    """The month's last day (R2: its close)."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
