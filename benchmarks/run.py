"""Speed and memory of a run against the I/O floor (SPEC O9, issue: speed at full scale).

    python benchmarks/generate.py /tmp/bench --size full      # once: a full-scale inbox
    python benchmarks/run.py /tmp/bench                        # the figures

Each phase runs in a child process of its own, so its peak memory (max RSS) is its own:
  1. read floor: every sheet of every inbox file read with python-calamine (the project's reader),
     nothing else;
  2. write floor: the cells the run wrote (counted by type from its files: text, numbers,
     booleans, formulas with cached values, at their mean lengths), written again by xlsxwriter
     in constant-memory mode as fast as it goes, with no computation;
  3. the full `tiersheet run`, timed stage by stage (reading, rules, writing, statements);
  4. statements floor: the cells of the last month's statements (`--statements last`, the
     default), written again into as many files the same way.
Prints each time, the cells written, peak RSS, and full / (read + write floor).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(phase: str, *args: str) -> dict:
    """Run this script's `phase` in a fresh process; returns its JSON report plus its own peak RSS."""
    with tempfile.TemporaryFile("w+") as output, tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen([sys.executable, __file__, "--phase", phase, *args],
                                   stdout=output, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        errors.seek(0)
        if process.returncode != 0:
            sys.exit(f"{phase} failed:\n{errors.read()}")
        report = json.loads(output.read().strip().splitlines()[-1])
    report["peak_rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    return report


def phase_read(inbox: str) -> dict:
    import python_calamine

    from tiersheet.inbox import SPREADSHEET_SUFFIXES, inbox_files, read_csv

    started = time.perf_counter()
    cells = 0
    for path in inbox_files(Path(inbox)):
        if path.suffix.casefold() not in SPREADSHEET_SUFFIXES:
            continue
        if path.suffix.casefold() == ".csv":
            sheets = [s.rows for s in read_csv(path, path.name)]
        else:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
            sheets = [book.get_sheet_by_index(i).to_python() for i in range(len(book.sheet_names))]
        cells += sum(len(row) for rows in sheets for row in rows)
    return {"seconds": time.perf_counter() - started, "cells_read": cells}


def phase_run(inbox: str, out: str) -> dict:
    """The full run, as `tiersheet run INBOX --out OUT` does it."""
    from tiersheet.config import load_rules
    from tiersheet.pipeline import run_inbox

    started = time.perf_counter()
    outcome = run_inbox(Path(inbox), Path(out), load_rules(), "default")
    return dict(outcome.seconds, seconds=time.perf_counter() - started, months=len(outcome.result.months),
                statement_cells=outcome.statement_cells,
                value_cells=outcome.cells["values"], formula_cells=outcome.cells["formulas"])


def recorded(book, recorder: list) -> tuple[list[str], list]:
    """A written workbook's sheet names and recorded cells, formats named by style (picklable)."""
    names = {id(fmt): name for name, fmt in book.styles.items() if fmt is not None}
    records = []
    for kind, sheet, row, payload in recorder:
        if kind == "row":
            payload = [(col, type(cell).__name__, tuple(cell._replace(format=None)),
                        names.get(id(cell.format))) for col, cell in payload]
        records.append((kind, sheet, row, payload))
    return [sheet.name for sheet in book.xl.worksheets()], records


def phase_capture(inbox: str, folder: str) -> dict:
    """An untimed run that records every row it stores, one pickle per workbook, with formats
    by style name, so that the floor can write exactly the same cells."""
    import pickle

    from tiersheet import xlsx
    from tiersheet.config import load_rules
    from tiersheet.engine import run_engine
    from tiersheet.inbox import read_inbox
    from tiersheet.workbook import MonthWriter

    rules = load_rules()
    result = run_engine(read_inbox(Path(inbox), rules), rules)
    files = 0
    for index, month in enumerate(result.months):
        xlsx.recorder = []
        writer = MonthWriter(Path(folder) / "scratch.xlsx", month, result, Path(inbox).name, "default")
        writer.write()
        sheets, records = recorded(writer.book, xlsx.recorder)
        with open(Path(folder) / f"capture-{index}.pickle", "wb") as handle:
            pickle.dump((sheets, records), handle, protocol=pickle.HIGHEST_PROTOCOL)
        files += 1
    xlsx.recorder = None
    return {"files": files}


def phase_capture_statements(inbox: str, folder: str) -> dict:
    """Like phase_capture, for the last month's partner statements (one record list per file)."""
    import pickle

    from tiersheet import xlsx
    from tiersheet.config import load_rules
    from tiersheet.engine import run_engine
    from tiersheet.inbox import read_inbox
    from tiersheet.workbook.statement import StatementWriter, partner_views

    rules = load_rules()
    month = run_engine(read_inbox(Path(inbox), rules), rules).months[-1]
    files = []
    for view in partner_views(month):
        xlsx.recorder = []
        writer = StatementWriter(Path(folder) / "scratch.xlsx", view)
        writer.write()
        sheets, records = recorded(writer.book, xlsx.recorder)
        files.append((sheets, records))
    xlsx.recorder = None
    with open(Path(folder) / "statements.pickle", "wb") as handle:
        pickle.dump(files, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return {"files": len(files)}


def phase_statements_floor(folder: str) -> dict:
    """The statements' cells written again into as many files, as fast as xlsxwriter goes."""
    import pickle

    with open(Path(folder) / "statements.pickle", "rb") as handle:
        files = pickle.load(handle)
    for index, (sheets, records) in enumerate(files):
        with open(Path(folder) / f"capture-{index}.pickle", "wb") as handle:
            pickle.dump((sheets, records), handle, protocol=pickle.HIGHEST_PROTOCOL)
    report = phase_floor(folder)
    return {"seconds": report["seconds"], "cells": report["cells"], "files": len(files)}


def phase_floor(folder: str) -> dict:
    """Exactly the cells the run wrote (captured above), written again as fast as xlsxwriter
    goes: each row stored straight into its worksheet (the project's fast path), hyperlinks
    through write_url, then the file closed. Only the writing is timed, not loading the capture."""
    import pickle

    from xlsxwriter import worksheet as ws

    from tiersheet.xlsx import Book, store

    makers = {"String": ws.CellStringTuple, "Number": ws.CellNumberTuple, "Boolean": ws.CellBooleanTuple,
              "Formula": ws.CellFormulaTuple, "Datetime": ws.CellDatetimeTuple, "Blank": ws.CellBlankTuple}
    seconds = 0.0
    cells = 0
    for index, path in enumerate(sorted(Path(folder).glob("capture-*.pickle"))):
        with open(path, "rb") as handle:
            sheets, records = pickle.load(handle)
        book = Book(Path(folder) / f"floor-{index}.xlsx", __import__("datetime").datetime(2025, 1, 1), "floor")
        styles = book.styles
        rows = []
        for kind, sheet, row, payload in records:  # rebuild the cell records (untimed)
            if kind == "row":
                payload = [(col, makers[name](*fields)._replace(format=styles.get(style)))
                           for col, name, fields, style in payload]
            rows.append((kind, sheet, row, payload))
        gc.collect()
        gc.freeze()    # the loaded records are not the floor's business: keep the GC off them
        gc.disable()
        started = time.perf_counter()
        targets = {name: book.xl.add_worksheet(name) for name in sheets}
        for kind, sheet, row, payload in rows:
            if kind == "row":
                store(targets[sheet], row, payload)
                cells += len(payload)
            else:
                col, url, text = payload
                targets[sheet].write_url(row, col, url, styles["link"], string=text)
                cells += 1
        book.close()
        seconds += time.perf_counter() - started
        gc.enable()
        gc.unfreeze()
        del rows, records
    return {"seconds": seconds, "cells": cells}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inbox", nargs="?")
    parser.add_argument("--phase")
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    if args.phase == "read":
        print(json.dumps(phase_read(args.inbox)))
        return
    if args.phase == "run":
        print(json.dumps(phase_run(args.inbox, args.rest[0])))
        return
    if args.phase == "capture":
        print(json.dumps(phase_capture(args.inbox, args.rest[0])))
        return
    if args.phase == "floor":
        print(json.dumps(phase_floor(args.inbox)))
        return
    if args.phase == "capture-statements":
        print(json.dumps(phase_capture_statements(args.inbox, args.rest[0])))
        return
    if args.phase == "statements-floor":
        print(json.dumps(phase_statements_floor(args.inbox)))
        return
    if not args.inbox:
        parser.error("give the inbox folder (make one with benchmarks/generate.py)")

    with tempfile.TemporaryDirectory(prefix="tiersheet-bench-") as scratch:
        run_out = Path(scratch) / "run"
        floor_out = Path(scratch) / "floor"
        run_out.mkdir()
        floor_out.mkdir()
        read = child("read", args.inbox)
        full = child("run", args.inbox, str(run_out))
        child("capture", args.inbox, str(floor_out))
        floor = child("floor", str(floor_out))
        statements_out = Path(scratch) / "statements-floor"
        statements_out.mkdir()
        child("capture-statements", args.inbox, str(statements_out))
        statements_floor = child("statements-floor", str(statements_out))
    io_floor = read["seconds"] + floor["seconds"]
    print(f"inbox: {args.inbox}  (machine: {os.cpu_count()} cores, Python {sys.version.split()[0]})")
    print(f"read floor   {read['seconds']:8.1f} s   {read['cells_read']:,} cells read   peak {read['peak_rss_mib']:,.0f} MiB")
    print(f"write floor  {floor['seconds']:8.1f} s   {floor['cells']:,} cells ({full['formula_cells']:,} formulas) "
          f"in {full['months']} files, the run's own cells written again")
    print(f"full run     {full['seconds']:8.1f} s   peak {full['peak_rss_mib']:,.0f} MiB")
    print(f"  reading {full['read']:.1f} s, rules {full['rules']:.1f} s, writing {full['write']:.1f} s, "
          f"statements {full['statements']:.1f} s")
    print(f"ratio full without statements / (read + write floor) = "
          f"{(full['seconds'] - full['statements']) / io_floor:.2f}")
    print(f"statements   {full['statements']:8.1f} s   --statements last: {statements_floor['files']:,} files; "
          f"floor {statements_floor['seconds']:.1f} s ({statements_floor['cells']:,} cells); "
          f"ratio {full['statements'] / statements_floor['seconds']:.2f}")


if __name__ == "__main__":
    main()
