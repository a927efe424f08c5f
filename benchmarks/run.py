"""Speed and memory of a run against the I/O floor (SPEC O9, issue: speed at full scale).

    python benchmarks/generate.py /tmp/bench --size full      # once: a full-scale inbox
    python benchmarks/run.py /tmp/bench                        # the figures

Each phase runs in a child process of its own, so its peak memory (max RSS) is its own:
  1. read floor: every sheet of every inbox file read with python-calamine (the project's reader),
     nothing else;
  2. write floor: the same number of cells that the run writes (plain values and formulas with
     cached values, split as the run splits them), written by xlsxwriter in constant-memory mode
     as fast as it goes;
  3. the full `tiersheet run`, timed stage by stage (reading, rules, writing).
Prints each time, the cells written, peak RSS, and full / (read + write floor).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(phase: str, *args: str) -> dict:
    """Run this script's `phase` in a fresh process; returns its JSON report plus its peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, __file__, "--phase", phase, *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{phase} failed:\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report["peak_rss_mib"] = max(peak, before) / 1024  # ru_maxrss is in KiB on Linux
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
    from tiersheet.config import load_rules
    from tiersheet.engine import run_engine
    from tiersheet.inbox import read_inbox
    from tiersheet.workbook import write_month

    started = time.perf_counter()
    rules = load_rules()
    data = read_inbox(Path(inbox), rules)
    read_done = time.perf_counter()
    result = run_engine(data, rules)
    rules_done = time.perf_counter()
    stats = {"values": 0, "formulas": 0}
    for month in result.months:
        written = write_month(Path(out) / f"tiersheet-{month.month:%Y-%m}.xlsx", month, result,
                              Path(inbox).name, "default", stats=stats)
    finished = time.perf_counter()
    return {"seconds": finished - started, "read": read_done - started,
            "rules": rules_done - read_done, "write": finished - rules_done,
            "months": len(result.months), "value_cells": stats["values"],
            "formula_cells": stats["formulas"]}


def phase_floor(out: str, values: int, formulas: int, files: int) -> dict:
    """The same number of cells, as fast as xlsxwriter writes them: 20 columns a row."""
    import xlsxwriter
    from xlsxwriter.worksheet import CellFormulaTuple

    started = time.perf_counter()
    per_file_values = values // files
    per_file_formulas = formulas // files
    for index in range(files):
        book = xlsxwriter.Workbook(str(Path(out) / f"floor-{index}.xlsx"), {"constant_memory": True})
        sheet = book.add_worksheet("Data")
        cells = per_file_values + per_file_formulas
        width = 20
        share = per_file_formulas / max(cells, 1)
        formula_columns = round(width * share)
        row = col = 0
        written_values = written_formulas = 0
        write_number = sheet.write_number
        while written_values < per_file_values or written_formulas < per_file_formulas:
            if col < formula_columns and written_formulas < per_file_formulas:
                sheet._check_dimensions(row, col)
                if row > sheet.previous_row:
                    sheet._write_single_row(row)
                sheet.table[row][col] = CellFormulaTuple(f"A{row + 1}*2", None, 2.5)
                written_formulas += 1
            elif written_values < per_file_values:
                write_number(row, col, 1.25)
                written_values += 1
            col += 1
            if col == width:
                row, col = row + 1, 0
        book.close()
    return {"seconds": time.perf_counter() - started}


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
    if args.phase == "floor":
        out, values, formulas, files = args.inbox, *map(int, args.rest)
        print(json.dumps(phase_floor(out, values, formulas, files)))
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
        floor = child("floor", str(floor_out), str(full["value_cells"]), str(full["formula_cells"]),
                      str(full["months"]))
    io_floor = read["seconds"] + floor["seconds"]
    cells = full["value_cells"] + full["formula_cells"]
    print(f"inbox: {args.inbox}  (machine: {os.cpu_count()} cores, Python {sys.version.split()[0]})")
    print(f"read floor   {read['seconds']:8.1f} s   {read['cells_read']:,} cells read   peak {read['peak_rss_mib']:,.0f} MiB")
    print(f"write floor  {floor['seconds']:8.1f} s   {cells:,} cells ({full['formula_cells']:,} formulas) "
          f"in {full['months']} files   peak {floor['peak_rss_mib']:,.0f} MiB")
    print(f"full run     {full['seconds']:8.1f} s   peak {full['peak_rss_mib']:,.0f} MiB")
    print(f"  reading {full['read']:.1f} s, rules {full['rules']:.1f} s, writing {full['write']:.1f} s")
    print(f"ratio full / (read + write floor) = {full['seconds'] / io_floor:.2f}")


if __name__ == "__main__":
    main()
