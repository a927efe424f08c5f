"""Speed and memory of a run against the I/O floor (SPEC O9, issue: speed at full scale).

    python benchmarks/generate.py /tmp/bench --size full      # once: a full-scale inbox
    python benchmarks/run.py /tmp/bench                        # the figures

Each phase runs in a child process of its own, so its peak memory (max RSS) is its own:
  1. read floor: every sheet of every inbox file read with python-calamine (the project's reader),
     nothing else;
  2. write floor: the cells the run wrote (counted by type from its files: text, numbers,
     booleans, formulas with cached values, at their mean lengths), written again by xlsxwriter
     in constant-memory mode as fast as it goes, with no computation;
  3. the full `tiersheet run`, timed stage by stage (reading, rules, writing).
Prints each time, the cells written, peak RSS, and full / (read + write floor).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
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


CELL = re.compile(rb'<c r="[A-Z]+[0-9]+"( s="[0-9]+")?(?: t="([a-zA-Z]+)")?>(.*?)</c>', re.S)
HYPERLINK = re.compile(rb'<hyperlink ref=')


def cell_mix(folder: str) -> dict:
    """What the run wrote, cell by cell type, read back from its files (not timed): counts and
    the mean length of text and formulas, so the floor writes the same mix of the same size."""
    mix = {"string": [0, 0, 0], "number": [0, 0, 0], "boolean": [0, 0, 0], "formula": [0, 0, 0],
           "links": 0, "files": 0}
    for path in sorted(Path(folder).glob("*.xlsx")):
        mix["files"] += 1
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if not name.startswith("xl/worksheets/sheet"):
                    continue
                xml = archive.read(name)
                mix["links"] += len(HYPERLINK.findall(xml))
                for styled, kind, body in CELL.findall(xml):
                    if body.startswith(b"<f>"):
                        key = "formula"
                        length = body.index(b"</f>") - 3
                    elif kind == b"inlineStr":
                        key, length = "string", len(body) - 13  # <is><t>..</t></is>
                    elif kind == b"b":
                        key, length = "boolean", 1
                    else:
                        key, length = "number", 1
                    mix[key][0] += 1
                    mix[key][1] += length
                    mix[key][2] += bool(styled)
    return mix


def phase_floor(out: str, mix_json: str) -> dict:
    """The run's cells again, by type and size, written as fast as xlsxwriter goes: stored
    straight into the worksheet (the same fast path the project uses), 20 columns a row, so
    the floor includes serialising, escaping and compressing them, and nothing else."""
    import xlsxwriter
    from xlsxwriter.worksheet import CellBooleanTuple, CellFormulaTuple, CellNumberTuple, CellStringTuple

    from tiersheet.xlsx import store

    mix = json.loads(mix_json)
    files = mix.pop("files")
    text = "x" * max(1, round(mix["string"][1] / max(mix["string"][0], 1)))
    formula = "A1+" * (max(4, round(mix["formula"][1] / max(mix["formula"][0], 1))) // 3)
    formula = formula[:-1]
    started = time.perf_counter()
    total = 0
    for index in range(files):
        book = xlsxwriter.Workbook(str(Path(out) / f"floor-{index}.xlsx"), {"constant_memory": True})
        styled = book.add_format({"num_format": "#,##0"})
        sheet = book.add_worksheet("Data")
        kinds = {"string": lambda fmt: CellStringTuple(text, fmt), "number": lambda fmt: CellNumberTuple(1234.5, fmt),
                 "boolean": lambda fmt: CellBooleanTuple(1, fmt), "formula": lambda fmt: CellFormulaTuple(formula, fmt, 42)}
        sequence = []
        for kind, make in kinds.items():
            count, _, with_style = mix[kind]
            count, with_style = count // files, with_style // files
            sequence += [make(styled)] * with_style + [make(None)] * (count - with_style)
        links = mix["links"] // files
        total += len(sequence) + links
        row, r = [], 0
        for cell in sequence:
            row.append((len(row), cell))
            if len(row) == 20:
                store(sheet, r, row)
                if links and r % 2 == 0:  # hyperlinks spread over the rows, as on the Ledger
                    sheet.write_url(r, 20, "internal:Data!A1", string="INV-2501-000001")
                    links -= 1
                r, row = r + 1, []
        if row:
            store(sheet, r, row)
        for _ in range(links):
            r += 1
            sheet.write_url(r, 20, "internal:Data!A1", string="INV-2501-000001")
        book.close()
    return {"seconds": time.perf_counter() - started, "cells": total}


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
        print(json.dumps(phase_floor(args.inbox, args.rest[0])))
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
        mix = cell_mix(str(run_out))
        floor = child("floor", str(floor_out), json.dumps(mix))
    io_floor = read["seconds"] + floor["seconds"]
    cells = full["value_cells"] + full["formula_cells"]
    print(f"inbox: {args.inbox}  (machine: {os.cpu_count()} cores, Python {sys.version.split()[0]})")
    print(f"read floor   {read['seconds']:8.1f} s   {read['cells_read']:,} cells read   peak {read['peak_rss_mib']:,.0f} MiB")
    print(f"write floor  {floor['seconds']:8.1f} s   {floor['cells']:,} cells ({mix['formula'][0]:,} formulas, "
          f"{mix['string'][0]:,} text, {mix['number'][0] + mix['boolean'][0]:,} numbers) in {full['months']} files"
          f"   peak {floor['peak_rss_mib']:,.0f} MiB")
    print(f"full run     {full['seconds']:8.1f} s   peak {full['peak_rss_mib']:,.0f} MiB")
    print(f"  reading {full['read']:.1f} s, rules {full['rules']:.1f} s, writing {full['write']:.1f} s")
    print(f"ratio full / (read + write floor) = {full['seconds'] / io_floor:.2f}")


if __name__ == "__main__":
    main()
