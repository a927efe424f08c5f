"""What a run stopped by a real Ctrl-C must leave behind (O1), checked the same way whether it
wrote in one process or with workers (tests/test_first_hour.py, tests/test_jobs.py)."""

from __future__ import annotations

from pathlib import Path

import openpyxl


def assert_only_whole_files_after_interrupt(returncode: int, stderr: str, out: Path, total: int) -> None:
    """No traceback; the message counts the workbooks that are there (or the run had finished
    all `total` before the signal); no temporary file; every file under its name opens."""
    assert "Traceback" not in stderr
    complete = sorted(out.glob("tiersheet-*.xlsx"))
    if returncode == 130:
        assert f"Interrupted: {len(complete)} workbook(s) were completed" in stderr
        assert f"{total - len(complete)} more were not written" in stderr
    else:  # the run finished before the signal arrived
        assert returncode == 0 and len(complete) == total
    leftover = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.name.startswith("."))
    assert leftover == [], stderr
    for path in out.rglob("*.xlsx"):
        openpyxl.load_workbook(path, read_only=True).close()
