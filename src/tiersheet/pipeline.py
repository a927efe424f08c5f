"""One run, stage by stage: read the inbox, apply the rules month by month, write the
workbooks. The command line and the speed benchmark both go through here, so the benchmark times
exactly what users run."""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from .config import RuleBook, Rules, rule_book
from .engine import RunResult, run_engine, run_months
from .inbox import inbox_files, read_inbox
from .statements import Written, write_statements
from .workbook import write_month

STATEMENTS = ("last", "all", "none")  # which months get partner statements (O1)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run, carrying the files completed before it (each complete: O1)."""

    def __init__(self, written: list[Path], pending: int):
        super().__init__()
        self.written = written
        self.pending = pending


@dataclass
class Outcome:
    result: RunResult
    written: list[Path]
    cells: dict = field(default_factory=dict)     # "values" and "formulas" written
    seconds: dict = field(default_factory=dict)   # "read", "rules", "write", "statements"
    statements: list[Written] = field(default_factory=list)
    statement_cells: dict = field(default_factory=dict)


@contextmanager
def few_collections():
    """A run builds millions of long-lived row objects that hold no reference cycles; Python's
    cyclic garbage collector would rescan them over and over (a tenth of a large run). So
    collections are made rarer, and what each stage has built is frozen out of later scans."""
    threshold = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def run_inbox(inbox: Path, out: Path, rules: Rules | RuleBook, rules_source: str, through: date | None = None,
              progress: Callable | None = None,
              announce: Callable[[list[date]], None] | None = None,
              statements: str = "last", pdf: bool = False) -> Outcome:
    """Read `inbox`, run every month, write OUT/tiersheet-YYYY-MM.xlsx for each, and the
    partner statements of the last month (`statements="all"`: of every month; "none": none),
    with PDF copies when `pdf`.

    `progress(label, items)` may return a context manager yielding the items (a progress bar);
    `announce(months)` hears the run's months before the long work on them starts."""
    progress = progress or (lambda label, items: nullcontext(items))
    seconds = {}
    with few_collections():
        started = time.perf_counter()
        with progress("Reading inbox    ", inbox_files(inbox)) as bar:
            data = read_inbox(inbox, rule_book(rules).base, through, progress=lambda files: bar)
        gc.freeze()
        seconds["read"] = time.perf_counter() - started

        started = time.perf_counter()
        months = run_months(data, through)
        if announce:
            announce(months)
        with progress("Closing months   ", months) as bar:
            result = run_engine(data, rules, through, progress=lambda items: bar, months=months)
        gc.freeze()
        seconds["rules"] = time.perf_counter() - started

        started = time.perf_counter()
        written, cells = [], {}
        try:
            with progress("Writing workbooks", result.months) as bar:
                for month in bar:
                    path = out / f"tiersheet-{month.month:%Y-%m}.xlsx"
                    write_month(path, month, result, inbox.name, rules_source, stats=cells)
                    written.append(path)
        except KeyboardInterrupt:
            raise Interrupted(written, len(result.months) - len(written)) from None
        seconds["write"] = time.perf_counter() - started

        started = time.perf_counter()
        months = {"last": result.months[-1:], "all": result.months, "none": []}[statements]
        folders, statement_cells = [], {}
        try:
            for month in months:
                folders.append(write_statements(out, month, pdf, progress, statement_cells))
        except KeyboardInterrupt:
            raise Interrupted(written, 0) from None
        seconds["statements"] = time.perf_counter() - started
    return Outcome(result, written, cells, seconds, folders, statement_cells)
