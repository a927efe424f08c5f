"""`tiersheet check`: the inbox read and validated exactly as `run` reads it, reported without
writing anything (SPEC O7), so a channel manager can fix the exports before the month's run.

The report is one plain document (the JSON output as it is) that the text output renders: the
problems grouped by file, the notes and exact duplicates (reported, not problems), the
reconciliation per sheet, the months a run would cover, and a verdict.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .config import Rules
from .engine import RunError, ThroughTooFar, run_months
from .garbage import few_collections
from .inbox import Inbox, read_inbox
from .problems import DUPLICATE, NOTE, NOTED, Problem
from .workers import default_jobs


def problem_record(problem: Problem) -> dict:
    return {"file": problem.file, "sheet": problem.sheet, "row": problem.row,
            "column": problem.column, "value": problem.value, "problem": problem.message,
            "action": problem.action, "severity": problem.severity}


def check_inbox(folder: Path, rules: Rules, through: date | None = None) -> dict:
    """Read `folder` as `run` would (same reader, rules and --through; its files parsed on
    every core, as run's default --jobs does) and report on it."""
    with few_collections():  # as run reads it: a million rows need no rescans
        inbox = read_inbox(folder, rules, through, jobs=default_jobs())
    return report(folder, inbox, through)


def report(folder: Path, inbox: Inbox, through: date | None) -> dict:
    problems = [p for p in inbox.problems if p.is_problem]
    notes = [p for p in inbox.problems if p.severity == NOTE]
    duplicates = [p for p in inbox.problems if p.severity == DUPLICATE]
    try:
        months = [f"{month:%Y-%m}" for month in run_months(inbox, through)]
        cannot_run = ""
    except ThroughTooFar:
        raise  # a usage error, as in `run`
    except RunError as exc:  # the reason only: the report lists the counts and problems itself
        months, cannot_run = [], getattr(exc, "reason", str(exc))
    reconciliation = [{"file": r.file, "sheet": r.sheet, "kind": r.kind, "rows_read": r.rows_read,
                       "accepted": r.accepted, "rejected": r.rejected, "duplicates": r.duplicates}
                      for r in inbox.reports]
    counts = {"files": len({r.file for r in inbox.reports}),
              "problems": len(problems), "notes": len(notes), "duplicates": len(duplicates),
              **{key: sum(r[key] for r in reconciliation)
                 for key in ("rows_read", "accepted", "rejected")}}
    return {"inbox": str(folder), "clean": not problems and not cannot_run,
            "months": months, "cannot_run": cannot_run, "counts": counts,
            "problems": [problem_record(p) for p in problems],
            "notes": [problem_record(p) for p in notes],
            "duplicates": [problem_record(p) for p in duplicates],
            "reconciliation": reconciliation}


def where_in_file(record: dict) -> str:
    parts = []
    if record["sheet"]:
        parts.append(f"[{record['sheet']}]")
    if record["row"] is not None:
        parts.append(f"row {record['row']}")
    if record["column"]:
        parts.append(f"column {record['column']}")
    where = ", ".join(parts).replace("], ", "] ", 1) or "(whole file)"
    value = f" = {record['value']!r}" if record["value"] not in ("", None) else ""
    return f"{where}{value}"


def grouped(records: list[dict]) -> list[str]:
    """Lines for `records`, one block per file in the order read."""
    lines, current = [], None
    for record in records:
        if record["file"] != current:
            current = record["file"]
            lines.append(f"  {current}")
        action = "" if record["action"] == NOTED else f" ({record['action']})"  # notes say so above
        lines.append(f"    {where_in_file(record)}: {record['problem']}{action}")
    return lines


def table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) if i < 3 else cell.rjust(width)
                             for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
            for row in rows]


def verdict(document: dict) -> str:
    counts = document["counts"]
    extras = []
    if counts["duplicates"]:
        extras.append(f"{counts['duplicates']} exact duplicate(s) counted once")
    if counts["notes"]:
        extras.append(f"{counts['notes']} note(s)")
    tail = f" ({', '.join(extras)}; not problems)" if extras else ""
    if document["cannot_run"]:
        return f"Nothing to run: {document['cannot_run']}."
    months = document["months"]
    span = f"{months[0]}..{months[-1]}" if len(months) > 1 else months[0]
    runs = f"a run would cover {len(months)} month(s), {span}"
    if counts["problems"]:
        files = len({p["file"] for p in document["problems"]})
        return f"{counts['problems']} problem(s) in {files} file(s){tail}; {runs}."
    return f"Clean: no problems{tail}; {runs}."


def render_text(document: dict) -> str:
    counts = document["counts"]
    lines = [f"{document['inbox']}: {counts['files']} file(s), {counts['rows_read']} input rows "
             f"({counts['accepted']} accepted, {counts['rejected']} rejected, "
             f"{counts['duplicates']} duplicate(s))"]
    if document["problems"]:
        lines += ["", "Problems (file, sheet, row, column, value: what is wrong (what was done)):"]
        lines += grouped(document["problems"])
    if document["duplicates"]:
        lines += ["", "Exact duplicates (counted once, not problems):"] + grouped(document["duplicates"])
    if document["notes"]:
        lines += ["", "Notes (not problems):"] + grouped(document["notes"])
    lines += ["", "Reconciliation (rows read = accepted + rejected + duplicates):"]
    lines += table([["File", "Sheet", "Kind", "Rows read", "Accepted", "Rejected", "Duplicates"]] +
                   [[r["file"], r["sheet"], r["kind"], str(r["rows_read"]), str(r["accepted"]),
                     str(r["rejected"]), str(r["duplicates"])] for r in document["reconciliation"]])
    lines += ["", verdict(document)]
    return "\n".join(lines)
