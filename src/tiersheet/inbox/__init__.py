"""Read the inbox: open every file by its content, find each sheet's header and kind, type every
row, and account for it (SPEC I1-I9).

Every non-empty data row ends in exactly one place: an accepted frame, a rejection (a Problem),
or a duplicate (I7). Reconciliation counts are taken from those places, not assumed. The parts:

    kinds.py     the input contract: one declarative description per input kind
    files.py     opening files by content; markup.py HTML tables and SpreadsheetML; text.py
                 the encoding and delimiter of delimited text
    sheets.py    header rows, title and totals rows, rows from typed columns
    rows.py      a kind's typed rows, column by column
    columns.py   typing one column: fast paths, parsers, range checks, problems with advice
    values.py, money.py, dates.py   pure value parsers
    settle.py    duplicates, currencies, known partners, the run's months; the typed frames
    settings.py  the inbox's tiersheet.toml
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.pool import ThreadPool
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from ..config import Rules
from ..months import month_of, next_month, previous_month
from ..problems import Problem
from .dates import parse_date, parse_month
from .files import SPREADSHEET_SUFFIXES, RawSheet, check_archive, inbox_files, read_csv, read_file, unreadable
from .kinds import DATED_KINDS, KINDS, PROVENANCE, Field, Kind, detect_kind, normalise_header
from .money import parse_count, parse_money, parse_number
from .rows import Rows
from .settings import MAPPING_FILE, InboxError, InboxSettings, load_settings
from .settle import drop_duplicates, joined_on, settle, to_frame
from .sheets import SheetReader, SheetReport
from .values import (CellError, activity_parser, is_blank, level_parser, parse_list, parse_text,
                     parse_yes, sale_type_parser, show)

__all__ = [
    "CellError", "DATED_KINDS", "Field", "Inbox", "InboxError", "InboxSettings", "KINDS", "Kind",
    "MAPPING_FILE", "PROVENANCE", "RawSheet", "Rows", "SPREADSHEET_SUFFIXES", "SheetReader", "SheetReport",
    "activity_parser", "check_archive", "detect_kind", "inbox_files", "is_blank", "joined_on",
    "level_parser", "load_settings", "month_of", "next_month", "normalise_header", "parse_count",
    "parse_date", "parse_list", "parse_money", "parse_month", "parse_number", "parse_text",
    "parse_yes", "previous_month", "read_csv", "read_file", "read_inbox", "sale_type_parser", "show"]


@dataclass
class Inbox:
    """What the inbox holds after reading and settling: typed frames, problems, accounting."""
    frames: dict[str, pd.DataFrame]
    problems: list[Problem] = field(default_factory=list)
    reports: list[SheetReport] = field(default_factory=list)

    @property
    def partners(self) -> pd.DataFrame:
        return self.frames["partners"]

    @property
    def sales(self) -> pd.DataFrame:
        return self.frames["sales"]

    @property
    def activities(self) -> pd.DataFrame:
        return self.frames["activities"]

    @property
    def leads(self) -> pd.DataFrame:
        return self.frames["leads"]

    @property
    def claims(self) -> pd.DataFrame:
        return self.frames["claims"]

    @property
    def adjustments(self) -> pd.DataFrame:
        return self.frames["adjustments"]

    def account(self, problems: int = 5) -> str:
        """Rows per file and the first problems, for when nothing is left to run (I7)."""
        files: dict[str, list[int]] = {}
        for report in self.reports:
            counts = files.setdefault(report.file, [0, 0, 0, 0])
            for i, n in enumerate((report.rows_read, report.accepted, report.rejected, report.duplicates)):
                counts[i] += n
        lines = [f"  {name}: {read} rows read, {accepted} accepted, {rejected} rejected, {dups} duplicates"
                 for name, (read, accepted, rejected, dups) in files.items()]
        first = [p for p in self.problems if p.is_problem]
        if first:
            lines.append(f"First problems ({min(problems, len(first))} of {len(first)}):")
            lines += [f"  {p}" for p in first[:problems]]
        return "\n".join(lines)


def _read_files(folder: Path, files: list[Path], inside: Path, settings: InboxSettings, reader: SheetReader,
                parsed: dict, problems: list[Problem], report_list: list[SheetReport], parts: dict[str, list[Rows]],
                progress: Callable[[Iterable], Iterable] | None) -> None:
    """Type every sheet of `files` in order, adding to problems, reports and the kinds' rows;
    a file in `parsed` is already being read (and is let go of once typed: a sales file's raw
    rows are the largest thing a run holds)."""
    for path in (progress(files) if progress else files):
        display = path.relative_to(folder).as_posix()
        skipped = _not_read(path, display, inside)
        if skipped is not None:
            problem, report = skipped
            if problem:
                problems.append(problem)
            if report:
                report_list.append(report)
            continue
        try:
            sheets = parsed.pop(path).get() if path in parsed else \
                read_file(path, display, settings.csv_encoding, settings.csv_delimiter)
        except Exception as exc:  # any reader failure is a problem with this file, not the run
            problems.append(unreadable(display, exc))
            report_list.append(SheetReport(display, "", "unreadable file"))
            continue
        for sheet in sheets:
            kind, rows, sheet_problems, report = reader.read(sheet)
            problems.extend(sheet_problems)
            report_list.append(report)
            if kind:
                parts[kind].append(rows)


def _not_read(path: Path, display: str, inside: Path) -> tuple[Problem | None, SheetReport | None] | None:
    """Why a file of the inbox is not read, as the problem and report that say so (neither for
    the mapping file, which is settings); None for a file to read."""
    if path.name == MAPPING_FILE:
        return None, None
    if path.suffix.casefold() not in SPREADSHEET_SUFFIXES:
        return None, SheetReport(display, "", "ignored (not a spreadsheet file)")
    if not path.resolve().is_relative_to(inside):  # I8: links are not followed out
        return (Problem(display, "", None, "", "", "is a link to a file outside the inbox: "
                        "not followed (copy the file itself into the inbox)", "file skipped"),
                SheetReport(display, "", "unreadable file"))
    return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone or unreadable: read_file will say so, in its turn
        return 0


def read_inbox(folder: Path, rules: Rules, through: date | None = None,
               progress: Callable[[Iterable], Iterable] | None = None, jobs: int = 1) -> Inbox:
    """Read every sheet of every file in `folder` and account for every row (I1-I9).

    With `jobs` > 1, files are opened and parsed that many at a time in threads, the largest
    first (python-calamine parses without holding the GIL, so a large sales file is parsed
    while the others are read and typed); they are typed in folder order all the same, so the
    result does not depend on `jobs`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InboxError(f"inbox {folder} is not a folder")
    settings = load_settings(folder)
    reader = SheetReader(rules, settings)
    problems: list[Problem] = []
    report_list: list[SheetReport] = []
    parts: dict[str, list[Rows]] = {kind: [] for kind in KINDS}
    files = inbox_files(folder)
    inside = folder.resolve()
    parsed = {}  # path -> its read_file, under way in a thread
    pool = ThreadPool(jobs) if jobs > 1 else None  # daemon threads: a Ctrl-C does not wait for them

    def spawn(compute: Callable[..., dict], *args) -> Callable[[], dict]:
        return pool.apply_async(compute, args).get
    try:
        if pool is not None:
            shown = {path: path.relative_to(folder).as_posix() for path in files}
            readable = [path for path in files if _not_read(path, shown[path], inside) is None]
            for path in sorted(readable, key=lambda p: -_size(p)):
                parsed[path] = pool.apply_async(read_file, (path, shown[path], settings.csv_encoding,
                                                            settings.csv_delimiter, spawn))
        _read_files(folder, files, inside, settings, reader, parsed, problems, report_list, parts, progress)
    finally:
        if pool is not None:
            pool.terminate()
    reports = {(r.file, r.sheet): r for r in report_list}
    records = {kind: drop_duplicates(kind, Rows.concat(spec.read_names, parts[kind]), reports, problems)
               for kind, spec in KINDS.items()}
    settled = settle(records, reports, problems, through, reader.rejected_partners)
    for kind, rows in settled.items():
        for sheet, accepted in Counter(zip(rows["source_file"], rows["source_sheet"])).items():
            reports[sheet].accepted += accepted
    frames = {kind: to_frame(kind, rows) for kind, rows in settled.items()}
    sheet_order = {(r.file, r.sheet): i for i, r in enumerate(report_list)}
    problems.sort(key=lambda p: (sheet_order.get((p.file, p.sheet), -1), p.row or 0))
    return Inbox(frames, problems, report_list)
