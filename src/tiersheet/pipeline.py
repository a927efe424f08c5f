"""One run, stage by stage: read the inbox, apply the rules month by month, write the
workbooks. The command line and the speed benchmark both go through here, so the benchmark times
exactly what users run."""

from __future__ import annotations

import gc
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .config import RuleBook, Rules, rule_book
from .engine import MonthResult, RunResult, close_months, run_months
from .filenames import file_stems
from .garbage import few_collections
from .inbox import inbox_files, read_inbox
from .statements import Written, finish_statements, statement_share, write_statements
from .workbook import write_month
from .workers import Arriving, Workers

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


def month_workbook(path: Path, month: MonthResult, result: RunResult, inbox_name: str,
                   rules_source: str) -> dict:
    """One month's channel workbook (a worker's task); returns its cell counts."""
    cells: dict = {}
    write_month(path, month, result, inbox_name, rules_source, stats=cells)
    return cells


def month_rows(month: MonthResult) -> int:
    """About how much writing a month's workbook is: its rows (sales and their ledger lines
    most of them), so that the longest are started first."""
    return len(month.sales) + len(month.activities) + len(month.adjustments) + len(month.partners)


def written_since(path: Path, begun: int) -> bool:
    """Whether `path` was completed by this run (begun at `begun`, in ns): after Ctrl-C, a worker
    may have put its workbook in place a moment before it could say so."""
    try:
        return path.stat().st_mtime_ns >= begun
    except OSError:
        return False


def add_counts(total: dict, counts: dict) -> None:
    for key, value in counts.items():
        total[key] = total.get(key, 0) + value


def shared_files(shares: Iterable[tuple[object, tuple[list[Path], dict]]], cells: dict) -> Iterator[Path]:
    """The statement files of workers' shares as they finish, their cell counts added to `cells`."""
    for _, (files, counts) in shares:
        add_counts(cells, counts)
        yield from files


def share_size(partners: int, jobs: int) -> int:
    """Partners per worker task: enough tasks to keep every worker busy to the end and the
    progress moving, few enough that grouping the month again per task costs nothing."""
    return max(1, min(500, -(-partners // (jobs * 4))))


def queue_statements(workers: Workers, out: Path, month: MonthResult) -> tuple[dict[str, str], list]:
    """Queue a month's statements for the workers in shares (behind the workbooks, so that no
    worker waits between them); returns the month's file stems and its shares' tags."""
    stems = file_stems(p.partner_id for p in month.partners)
    size = share_size(len(month.partners), workers.jobs)
    tags = [(month.month, first) for first in range(0, len(month.partners), size)]
    for tag in tags:
        workers.submit(tag, statement_share, out, month, stems, tag[1], tag[1] + size)
    return stems, tags


def shared_statements(workers: Workers, out: Path, month: MonthResult, stems: dict[str, str], tags: list,
                      pdf: bool, progress: Callable, cells: dict) -> Written:
    """A month's statements as the workers' shares finish (counted file by file), then its PDFs
    and index.csv, as `write_statements` does in this process."""
    files = shared_files(workers.finished(tags), cells)
    with progress(f"Statements {month.month:%Y-%m}", Arriving(files, len(month.partners))) as bar:
        made = list(bar)
    order = {f"{stems[p.partner_id]}.xlsx": i for i, p in enumerate(month.partners)}
    made.sort(key=lambda path: order[path.name])  # partner order, however they arrived
    return finish_statements(out, month, stems, made, pdf, progress, workers.jobs)


def run_inbox(inbox: Path, out: Path, rules: Rules | RuleBook, rules_source: str, through: date | None = None,
              progress: Callable | None = None,
              announce: Callable[[list[date]], None] | None = None,
              statements: str = "last", pdf: bool = False, jobs: int = 1) -> Outcome:
    """Read `inbox`, run every month, write OUT/tiersheet-YYYY-MM.xlsx for each, and the
    partner statements of the last month (`statements="all"`: of every month; "none": none),
    with PDF copies when `pdf`.

    With `jobs` > 1 the workbooks and statements are written by that many worker processes
    (see workers.py), each month's workbook as soon as the month is closed; the files are the
    same byte for byte whatever the number of jobs.

    `progress(label, items)` may return a context manager yielding the items (a progress bar);
    `announce(months)` hears the run's months before the long work on them starts."""
    progress = progress or (lambda label, items: nullcontext(items))
    seconds = {}
    begun = time.time_ns()
    paths: list[Path] = []
    try:
        with few_collections(), Workers(jobs) as workers:
            started = time.perf_counter()
            with progress("Reading inbox    ", inbox_files(inbox)) as bar:
                data = read_inbox(inbox, rule_book(rules).base, through, progress=lambda files: bar,
                                  jobs=workers.jobs)
            gc.freeze()
            seconds["read"] = time.perf_counter() - started

            started = time.perf_counter()
            months = run_months(data, through)
            if announce:
                announce(months)
            result = RunResult(rule_book(rules), [], data.problems, data.reports)  # months added as closed
            paths = [out / f"tiersheet-{month:%Y-%m}.xlsx" for month in months]
            written, cells = [], {}
            with progress("Closing months   ", months) as bar:
                for path, month in zip(paths, close_months(data, rules, months, lambda items: bar)):
                    result.months.append(month)
                    workers.submit(path, month_workbook, path, month, result, inbox.name, rules_source,
                                   size=month_rows(month))
                    workers.poll()
            gc.freeze()
            seconds["rules"] = time.perf_counter() - started

            chosen = {"last": result.months[-1:], "all": result.months, "none": []}[statements]
            shares = {month.month: queue_statements(workers, out, month) for month in chosen} \
                if workers.jobs > 1 else {}

            started = time.perf_counter()
            with progress("Writing workbooks", Arriving(workers.finished(paths), len(paths))) as bar:
                for path, counts in bar:
                    written.append(path)
                    add_counts(cells, counts)
            written.sort()
            seconds["write"] = time.perf_counter() - started

            started = time.perf_counter()
            folders, statement_cells = [], {}
            for month in chosen:
                if month.month in shares:
                    folders.append(shared_statements(workers, out, month, *shares[month.month], pdf, progress,
                                                     statement_cells))
                else:
                    folders.append(write_statements(out, month, pdf, progress, statement_cells))
            seconds["statements"] = time.perf_counter() - started
    except KeyboardInterrupt:  # leaving the `with` stopped every worker: their files are whole or gone
        done = [path for path in paths if written_since(path, begun)]
        raise Interrupted(done, len(paths) - len(done)) from None
    return Outcome(result, written, cells, seconds, folders, statement_cells)
