"""Speed and memory of a run against the I/O floor (SPEC O9; issues 9 and 14).

    python benchmarks/generate.py /tmp/bench --size full      # once: a full-scale inbox
    python benchmarks/run.py /tmp/bench                        # the figures
    python benchmarks/run.py /tmp/bench --jobs 1,2,4 --keep /tmp/bench-out

Each phase runs in a child process of its own; its memory is the peak, over the phase, of the
proportional set size (PSS) of the child and every worker it forks, sampled about once a
second (reading PSS walks the processes' page tables, so it is not done more often): pages the
workers share with the main process are counted once, not once per process.
  1. read floor: every sheet of every inbox file read with python-calamine (the project's reader),
     nothing else;
  2. write floor: the cells the run wrote (captured by an untimed run: every stored row with its
     cell records and style), written again by xlsxwriter's own Workbook and Worksheet classes
     (not the project's subclasses in xlsx.py: what they save is the run's), as the run writes
     them (constant memory), as fast as it goes, in one process, with no computation;
  3. the full `tiersheet run --statements none`, once per --jobs value (default: 1 and this
     machine's cores), timed stage by stage (with several jobs the stages overlap: a month's
     workbook is written while later months close);
  4. the full run with `--statements last` (the default) at the most jobs: what the 10,000
     statements add;
  5. statements floor: the cells of the last month's statements, written again into as many
     files the same way (in memory, as the run writes statements), in one process.
Prints each time, the cells written, memory, and run / (read floor + write floor).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

HERE = Path(__file__).resolve().parent


def tree_pss_kib(root: int) -> int:
    """The summed proportional set size of `root` and its descendants (Linux /proc), in KiB."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    parents[int(entry.name)] = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grown = {root}, True
    while grown:
        grown = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grown = True
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total


def child(phase: str, *args: str) -> dict:
    """Run this script's `phase` in a fresh process; returns its JSON report plus the peak
    memory of it and its workers together (PSS, sampled) and its own peak RSS."""
    with tempfile.TemporaryFile("w+") as output, tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen([sys.executable, __file__, "--phase", phase, *args],
                                   stdout=output, stderr=errors)
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            # Reading PSS walks every page table of the processes (and holds their memory maps
            # meanwhile): sampled seldom enough to cost the run under 3% of its time.
            started = time.perf_counter()
            peak = max(peak, tree_pss_kib(process.pid))
            time.sleep(max(1.0, 40 * (time.perf_counter() - started)))
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        errors.seek(0)
        if process.returncode != 0:
            sys.exit(f"{phase} failed:\n{errors.read()}")
        report = json.loads(output.read().strip().splitlines()[-1])
    report["peak_rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    report["peak_pss_mib"] = peak / 1024
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


def phase_run(inbox: str, out: str, jobs: str, statements: str) -> dict:
    """The full run, as `tiersheet run INBOX --out OUT --jobs N --statements S` does it."""
    from tiersheet.config import load_rules
    from tiersheet.pipeline import run_inbox

    started = time.perf_counter()
    outcome = run_inbox(Path(inbox), Path(out), load_rules(), "default", statements=statements, jobs=int(jobs))
    return dict(outcome.seconds, seconds=time.perf_counter() - started, months=len(outcome.result.months),
                statement_files=sum(len(folder.files) for folder in outcome.statements),
                statement_cells=outcome.statement_cells,
                value_cells=outcome.cells["values"], formula_cells=outcome.cells["formulas"])


def phase_statements(inbox: str, out: str) -> dict:
    """The last month's statements as `run --jobs 1` writes them (reading and the rules untimed)."""
    from tiersheet.config import load_rules
    from tiersheet.engine import run_engine
    from tiersheet.garbage import few_collections
    from tiersheet.inbox import read_inbox
    from tiersheet.statements import write_statements

    rules = load_rules()
    with few_collections():  # as the run collects garbage
        month = run_engine(read_inbox(Path(inbox), rules), rules).months[-1]
        gc.freeze()
        started = time.perf_counter()
        written = write_statements(Path(out), month)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "files": len(written.files)}


def recorded(book, recorder: list) -> tuple[list[str], list]:
    """A written workbook's sheet names and recorded cells (picklable), each cell's format named
    by its style, or given by its properties when a writer made it itself (the Statement page's
    own formats): the floor writes every cell with the format it had."""
    names = {id(fmt): name for name, fmt in book.styles.items() if fmt is not None}
    names |= {id(fmt): properties for fmt, properties in made_formats}
    records = []
    for kind, sheet, row, payload in recorder:
        if kind == "row":
            payload = [(col, type(cell).__name__, tuple(cell._replace(format=None)),
                        names.get(id(cell.format))) for col, cell in payload]
        records.append((kind, sheet, row, payload))
    return [sheet.name for sheet in book.xl.worksheets()], records


made_formats: list = []  # (Format, its properties) of the workbook being captured


@contextmanager
def recording_public_writes():
    """Record also the cells written through xlsxwriter's public methods (titles, headers,
    labels: everything not stored by the fast path), so that the floor writes every cell the
    run wrote. Each is recorded as the worksheet stored it; a hyperlink's text is left to its
    own "url" record."""
    import xlsxwriter
    from xlsxwriter import worksheet as ws

    from tiersheet import xlsx

    originals = {}
    inside_url = []

    def wrap(name: str):
        original = originals[name] = getattr(ws.Worksheet, name)

        def write(self, row, col, *args, **kwargs):
            status = original(self, row, col, *args, **kwargs)
            cell = self.table.get(row, {}).get(col)
            if status == 0 and cell is not None and xlsx.recorder is not None and not inside_url:
                if name == "_write_string":  # in memory the table holds a shared-string index
                    cell = ws.CellStringTuple(args[0], cell.format)
                xlsx.recorder.append(("row", self.name, row, [(col, cell)]))
            return status
        setattr(ws.Worksheet, name, write)

    for name in ("_write_string", "_write_number", "_write_blank", "_write_formula", "_write_datetime",
                 "_write_boolean"):
        wrap(name)
    url = originals["_write_url"] = ws.Worksheet._write_url
    add_format = xlsxwriter.Workbook.add_format

    def recorded_add_format(self, properties=None):
        made = add_format(self, properties)
        made_formats.append((made, dict(properties or {})))
        return made
    xlsxwriter.Workbook.add_format = recorded_add_format

    def write_url(self, *args, **kwargs):
        inside_url.append(True)
        try:
            return url(self, *args, **kwargs)
        finally:
            inside_url.pop()
    ws.Worksheet._write_url = write_url
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(ws.Worksheet, name, original)
        xlsxwriter.Workbook.add_format = add_format


def capture(writers: Iterable, folder: str) -> dict:
    """Run each workbook writer with every cell it stores recorded, and keep one pickle per
    workbook (its mode, sheet names and records, formats by style name), so that the floor can
    write exactly the same cells the same way."""
    import pickle

    from tiersheet import xlsx

    files = 0
    with recording_public_writes():
        for index, writer in enumerate(writers):
            xlsx.recorder = []
            made_formats.clear()
            writer.write()
            sheets, records = recorded(writer.book, xlsx.recorder)
            with open(Path(folder) / f"capture-{index:05d}.pickle", "wb") as handle:
                pickle.dump((writer.book.xl.in_memory, sheets, records), handle, protocol=pickle.HIGHEST_PROTOCOL)
            files += 1
    xlsx.recorder = None
    return {"files": files}


def phase_capture(inbox: str, folder: str) -> dict:
    """An untimed run that records the cells of every monthly workbook."""
    from tiersheet.config import load_rules
    from tiersheet.engine import run_engine
    from tiersheet.inbox import read_inbox
    from tiersheet.workbook import MonthWriter

    rules = load_rules()
    result = run_engine(read_inbox(Path(inbox), rules), rules)
    scratch = Path(folder) / "scratch.xlsx"
    return capture((MonthWriter(scratch, month, result, Path(inbox).name, "default") for month in result.months),
                   folder)


def phase_capture_statements(inbox: str, folder: str) -> dict:
    """Like phase_capture, for the last month's partner statements."""
    from tiersheet.config import load_rules
    from tiersheet.engine import run_engine
    from tiersheet.inbox import read_inbox
    from tiersheet.workbook.statement import StatementWriter, partner_views

    rules = load_rules()
    month = run_engine(read_inbox(Path(inbox), rules), rules).months[-1]
    scratch = Path(folder) / "scratch.xlsx"
    return capture((StatementWriter(scratch, view) for view in partner_views(month)), folder)


def property_key(properties: dict) -> tuple:
    return tuple(sorted(properties.items()))


def phase_floor(folder: str) -> dict:
    """Exactly the cells the run wrote (captured above), written again as fast as xlsxwriter
    goes, in the mode the run wrote that file in: each row stored straight into its worksheet
    (the project's fast path), hyperlinks through write_url, then the file closed by
    xlsxwriter's own Workbook and Worksheet classes (not xlsxparts.Workbook and its Sheet, whose
    caches and row writer are the project's work, timed in the run) and deleted: only the time
    counts. Only the writing is timed (making the workbook and its formats too), not loading
    the capture."""
    import pickle

    import xlsxwriter
    from xlsxwriter import worksheet as ws

    from tiersheet.xlsx import Book, store

    makers = {"String": ws.CellStringTuple, "Number": ws.CellNumberTuple, "Boolean": ws.CellBooleanTuple,
              "Formula": ws.CellFormulaTuple, "Datetime": ws.CellDatetimeTuple, "Blank": ws.CellBlankTuple}
    seconds = 0.0
    cells = 0
    for index, path in enumerate(sorted(Path(folder).glob("capture-*.pickle"))):
        with open(path, "rb") as handle:
            small, sheets, records = pickle.load(handle)
        own = {property_key(style): style for kind, _, _, payload in records if kind == "row"
               for *_, style in payload if isinstance(style, dict)}  # formats a writer made itself
        started = time.perf_counter()  # the workbook and the formats its cells use are part of writing it
        book = Book(Path(folder) / f"floor-{index}.xlsx", __import__("datetime").datetime(2025, 1, 1), "floor",
                    small=small)
        book.xl.__class__ = xlsxwriter.Workbook  # xlsxwriter's own, making its own worksheets
        styles = dict(book.styles) | {key: book.xl.add_format(properties) for key, properties in own.items()}
        seconds += time.perf_counter() - started
        rows = []
        for kind, sheet, row, payload in records:  # rebuild the cell records (untimed)
            if kind == "row":
                payload = [(col, makers[name](*fields)._replace(
                    format=styles[property_key(style)] if isinstance(style, dict) else styles.get(style)))
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
        (Path(folder) / f"floor-{index}.xlsx").unlink()
        gc.enable()
        gc.unfreeze()
        del rows, records
    return {"seconds": seconds, "cells": cells}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inbox", nargs="?")
    parser.add_argument("--jobs", default=f"1,{os.cpu_count()}",
                        help="comma-separated --jobs values to time the run with (default: 1 and the cores)")
    parser.add_argument("--keep", type=Path, help="keep the last run's output here (for benchmarks/send.py)")
    parser.add_argument("--only", choices=["statements"], help="only the statements' phases (one process)")
    parser.add_argument("--phase")
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    phases = {"read": phase_read, "run": phase_run, "capture": phase_capture, "floor": phase_floor,
              "statements": phase_statements,
              "capture-statements": phase_capture_statements, "statements-floor": phase_floor}
    if args.phase:
        print(json.dumps(phases[args.phase](*[a for a in [args.inbox, *args.rest] if a is not None])))
        return
    if not args.inbox:
        parser.error("give the inbox folder (make one with benchmarks/generate.py)")
    jobs = sorted({int(j) for j in args.jobs.split(",")})

    if args.only == "statements":
        with tempfile.TemporaryDirectory(prefix="tiersheet-bench-") as scratch:
            alone = child("statements", args.inbox, str(Path(scratch) / "statements"))
            (Path(scratch) / "floor").mkdir()
            child("capture-statements", args.inbox, str(Path(scratch) / "floor"))
            statements_floor = child("statements-floor", str(Path(scratch) / "floor"))
        print(f"statements, one process {alone['seconds']:8.1f} s   {alone['files']:,} files; floor "
              f"{statements_floor['seconds']:.1f} s ({statements_floor['cells']:,} cells); "
              f"ratio {alone['seconds'] / statements_floor['seconds']:.2f}")
        return
    runs = {}
    with tempfile.TemporaryDirectory(prefix="tiersheet-bench-") as scratch:
        read = child("read", args.inbox)
        for j in jobs:
            out = Path(scratch) / f"run-{j}"
            runs[j] = child("run", args.inbox, str(out), str(j), "none")
            shutil.rmtree(out)
        last_out = args.keep or Path(scratch) / "run-last"
        if last_out.exists():
            shutil.rmtree(last_out)
        with_statements = child("run", args.inbox, str(last_out), str(jobs[-1]), "last")
        floor_out = Path(scratch) / "floor"
        floor_out.mkdir()
        child("capture", args.inbox, str(floor_out))
        floor = child("floor", str(floor_out))
        alone = child("statements", args.inbox, str(Path(scratch) / "statements"))
        statements_out = Path(scratch) / "statements-floor"
        statements_out.mkdir()
        child("capture-statements", args.inbox, str(statements_out))
        statements_floor = child("statements-floor", str(statements_out))

    io_floor = read["seconds"] + floor["seconds"]
    one = runs[jobs[0]]
    print(f"inbox: {args.inbox}  (machine: {os.cpu_count()} cores, Python {sys.version.split()[0]})")
    print(f"read floor   {read['seconds']:8.1f} s   {read['cells_read']:,} cells read   peak {read['peak_pss_mib']:,.0f} MiB")
    print(f"write floor  {floor['seconds']:8.1f} s   {floor['cells']:,} cells ({one['formula_cells']:,} formulas) "
          f"in {one['months']} files, the run's own cells written again, one process")
    for j, run in runs.items():
        print(f"run --jobs {j:<2}{run['seconds']:8.1f} s   (reading {run['read']:.1f} s, closing months "
              f"{run['rules']:.1f} s, then writing {run['write']:.1f} s)   ratio {run['seconds'] / io_floor:.2f}   "
              f"peak {run['peak_pss_mib']:,.0f} MiB all processes (main's RSS {run['peak_rss_mib']:,.0f} MiB)")
    extra = with_statements["seconds"] - runs[jobs[-1]]["seconds"]
    print(f"run --jobs {jobs[-1]} --statements last {with_statements['seconds']:8.1f} s: {with_statements['statement_files']:,} "
          f"statements add {extra:.1f} s ({extra / runs[jobs[-1]]['seconds']:.2f} of the run without them), "
          f"{with_statements['statements']:.1f} s after the workbooks; peak {with_statements['peak_pss_mib']:,.0f} MiB")
    print(f"statements floor {statements_floor['seconds']:8.1f} s   {statements_floor['cells']:,} cells in "
          f"{with_statements['statement_files']:,} files, one process")
    print(f"statements, one process {alone['seconds']:8.1f} s   {alone['files']:,} files   "
          f"ratio to their floor {alone['seconds'] / statements_floor['seconds']:.2f}")


if __name__ == "__main__":
    main()
