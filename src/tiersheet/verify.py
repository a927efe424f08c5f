"""Prove a workbook's formulas in an independent engine (O4, O7).

LibreOffice recalculates each workbook headless, in a throw-away user profile of its own (so
parallel runs never share one) that tells Calc to recalculate on load; then every formula cell's
cached value (what tiersheet computed) is compared with the recalculated one.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from .errors import TiersheetError

from .xlsx import quote_sheet

RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
INSTALL_HINT = ("LibreOffice is not installed (no 'soffice' or 'libreoffice' on PATH). Install it, e.g. "
                "'sudo apt-get install -y libreoffice-calc' on Debian/Ubuntu, 'brew install --cask libreoffice' "
                "on macOS, or set TIERSHEET_SOFFICE to the soffice program.")


class VerifyError(TiersheetError):
    """Verification could not be done (a conversion failed or timed out, nothing to compare)."""


class LibreOfficeMissing(VerifyError):
    """Verifying (or rendering PDFs) needs LibreOffice, and it is not installed (exit 2)."""
    exit_code = 2


@dataclass(frozen=True)
class Difference:
    sheet: str
    cell: str
    formula: str
    cached: object
    recalculated: object

    def __str__(self) -> str:
        return (f"{quote_sheet(self.sheet)}!{self.cell}: {self.formula}  cached {self.cached!r}, "
                f"LibreOffice {self.recalculated!r}")


@dataclass(frozen=True)
class Verification:
    path: Path
    formulas: int
    differences: list[Difference]
    seconds: float


def find_soffice() -> str:
    candidate = os.environ.get("TIERSHEET_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not candidate:
        raise LibreOfficeMissing(INSTALL_HINT)
    return candidate


def recalculate(path: Path, into: Path, timeout: float = 300) -> Path:
    """Recalculate `path` in LibreOffice and save the result as xlsx in `into`."""
    return recalculate_all([path], into, timeout)[0]


def recalculate_all(paths: list[Path], into: Path, timeout: float = 300) -> list[Path]:
    """Recalculate every workbook of `paths` (their names all different) in one LibreOffice,
    which saves each as xlsx in `into`: starting it is most of the time a small workbook takes."""
    soffice = find_soffice()
    with tempfile.TemporaryDirectory(prefix="tiersheet-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
        command = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                   "--norestore", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(into),
                   *map(str, paths)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise VerifyError(f"{paths[0]}: LibreOffice did not finish within {timeout:.0f}s") from None
    results = [into / (Path(path).stem + ".xlsx") for path in paths]
    for path, result in zip(paths, results):
        if done.returncode != 0 or not result.exists():
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise VerifyError(f"{path}: LibreOffice could not recalculate it"
                              + (f" ({detail[-1]})" if detail else ""))
    return results


def _comparable(value):
    if isinstance(value, datetime):
        return value.toordinal() + (value - datetime.combine(value.date(), time())).total_seconds() / 86400
    if isinstance(value, date):
        return float(value.toordinal())
    if value == "":
        return None
    return value


def same(cached, recalculated) -> bool:
    a, b = _comparable(cached), _comparable(recalculated)
    if isinstance(a, bool) or isinstance(b, bool):
        return (a is None and b is False) or (b is None and a is False) or (a == b and type(a) is type(b)) \
            or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and float(a) == float(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def check_comparable(path: Path) -> None:
    """Refuse, before LibreOffice starts, a workbook with nothing to compare (issue 8.7).

    A workbook without formulas proves nothing, and one whose formulas carry no cached value at
    all (openpyxl, among others, drops them on save) would list every formula cell as differing.
    Stops at the first formula cell with a cached value, so a good workbook costs little.
    """
    try:
        formulas = openpyxl.load_workbook(path, read_only=True)
        cached = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl's own words (zipfile, KeyError...) would tell a user nothing
        raise VerifyError(f"{path}: is not an .xlsx workbook (verify checks the workbooks tiersheet "
                          "writes)") from None
    found = False
    try:
        for sheet in formulas.worksheets:
            for f_row, c_row in zip(sheet.iter_rows(), cached[sheet.title].iter_rows()):
                for f_cell, c_cell in zip(f_row, c_row):
                    if getattr(f_cell, "data_type", None) == "f":
                        if c_cell.value is not None:
                            return
                        found = True
    finally:
        formulas.close()
        cached.close()
    if not found:
        raise VerifyError(f"{path}: it has no formulas, so there is nothing to compare")
    raise VerifyError(f"{path}: its formulas carry no cached values (it was saved by a program that "
                      "drops them), so there is nothing to compare; run tiersheet again to rewrite it")


def compare(original: Path, recalculated: Path) -> tuple[int, list[Difference]]:
    """Formula cells of `original` whose cached value differs from `recalculated`'s value."""
    formulas = openpyxl.load_workbook(original, read_only=True)
    cached = openpyxl.load_workbook(original, read_only=True, data_only=True)
    fresh = openpyxl.load_workbook(recalculated, read_only=True, data_only=True)
    count, differences = 0, []
    try:
        for sheet in formulas.worksheets:
            name = sheet.title
            expected: dict[tuple[int, int], tuple[str, object]] = {}
            for f_row, c_row in zip(sheet.iter_rows(), cached[name].iter_rows()):
                for f_cell, c_cell in zip(f_row, c_row):
                    if getattr(f_cell, "data_type", None) == "f":
                        expected[(f_cell.row, f_cell.column)] = (str(f_cell.value), c_cell.value)
            count += len(expected)
            found: dict[tuple[int, int], object] = {}
            for row in fresh[name].iter_rows():
                for cell in row:
                    key = (getattr(cell, "row", None), getattr(cell, "column", None))
                    if key in expected:
                        found[key] = cell.value
            for (row, column), (formula, value) in sorted(expected.items()):
                recalculated = found.get((row, column))
                if not same(value, recalculated):
                    differences.append(Difference(name, f"{get_column_letter(column)}{row}", formula,
                                                  value, recalculated))
    finally:
        formulas.close()
        cached.close()
        fresh.close()
    return count, differences


def verify(path: Path, timeout: float = 300) -> Verification:
    import time as clock
    started = clock.monotonic()
    path = Path(path)
    if not path.is_file():
        raise VerifyError(f"{path}: no such workbook")
    check_comparable(path)
    with tempfile.TemporaryDirectory(prefix="tiersheet-verify-") as folder:
        recalculated = recalculate(path, Path(folder), timeout)
        count, differences = compare(path, recalculated)
    return Verification(path, count, differences, clock.monotonic() - started)
