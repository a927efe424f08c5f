"""What `tiersheet run` wrote for one month, read as written: the statements folder's index.csv
and the channel workbook's Partners sheet. Columns are found by header, never by position."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl

from ..csvtext import restored
from .errors import MailError, MailUsageError

INDEX_HEADER = ["partner_id", "partner_name", "email", "file", "pdf"]
PARTNER_HEADERS = ("Partner ID", "Partner", "Opening status", "Opening points", "Sales points",
                   "Bonus points", "Activity points", "Closing points", "Status", "Change",
                   "Margin %", "Next status", "Points to next", "Missing for status",
                   "Missing for next", "Certificate expires", "At risk")
OPTIONAL_HEADERS = ("Adjustment points",)  # SPEC O2, R17: older workbooks lack it


@dataclass(frozen=True)
class Statement:
    """One row of index.csv: a partner, its addresses as typed, and its files in `folder`."""
    partner_id: str
    partner_name: str
    email: str
    file: Path
    pdf: Path | None


@dataclass(frozen=True)
class Month:
    """Everything the mailer needs from one month's outputs."""
    month: date
    workbook: Path
    statements: list[Statement]
    figures: dict[str, dict[str, Any]]   # partner ID -> Partners sheet row, by header

    @property
    def iso(self) -> str:
        return f"{self.month:%Y-%m}"


def read_month(out: Path, month: date) -> Month:
    """Read OUT's statements index and channel workbook for `month`; a missing one is a usage
    error that says which `run` makes it."""
    iso = f"{month:%Y-%m}"
    folder = out / "statements" / iso
    index = folder / "index.csv"
    if not index.is_file():
        raise MailUsageError(f"no statements for {iso} in {out}: run `tiersheet run INBOX --out {out} "
                             f"--through {iso} --statements last` first")
    workbook = out / f"tiersheet-{iso}.xlsx"
    if not workbook.is_file():
        raise MailUsageError(f"no channel workbook {workbook}: run `tiersheet run INBOX --out {out} "
                             f"--through {iso}` first")
    return Month(month, workbook, read_index(index), read_partners(workbook))


def read_index(path: Path) -> list[Statement]:
    """The statements index; file names must stay inside its folder (SPEC I8)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MailError(f"cannot read {path}: {exc}") from None
    if not rows or [cell.strip() for cell in rows[0]] != INDEX_HEADER:
        raise MailError(f"{path}: the header must be {','.join(INDEX_HEADER)}")
    statements = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(INDEX_HEADER):
            raise MailError(f"{path}, line {number}: expected {len(INDEX_HEADER)} fields, found {len(row)}")
        partner_id, name, email, file, pdf = (restored(cell.strip()) for cell in row)  # I8
        statements.append(Statement(partner_id, name, email, inside(path.parent, file, path, number),
                                    inside(path.parent, pdf, path, number) if pdf else None))
    return statements


def inside(folder: Path, name: str, index: Path, line: int) -> Path:
    """`folder / name` when `name` is a plain file name; anything that could leave the folder is
    refused rather than attached."""
    if not name or name != Path(name).name or name in (".", "..") or "\\" in name:
        raise MailError(f"{index}, line {line}: {name!r} is not a file name in {folder}")
    return folder / name


def read_partners(path: Path) -> dict[str, dict[str, Any]]:
    """The Partners sheet's rows by partner ID, each a {header: cached value} dict."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise MailError(f"cannot read {path}: {exc}") from None
    try:
        if "Partners" not in book.sheetnames:
            raise MailError(f"{path} has no Partners sheet")
        rows = book["Partners"].iter_rows(values_only=True)
        header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
        missing = [name for name in PARTNER_HEADERS if name not in header]
        if missing:
            raise MailError(f"{path}, sheet Partners: no column {', '.join(missing)}")
        wanted = {name: header.index(name) for name in PARTNER_HEADERS + OPTIONAL_HEADERS
                  if name in header}
        figures = {}
        for row in rows:
            values = {name: row[column] if column < len(row) else None
                      for name, column in wanted.items()}
            if values["Partner ID"] is not None:
                figures[str(values["Partner ID"]).strip()] = values
        return figures
    finally:
        book.close()
