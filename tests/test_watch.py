"""`tiersheet watch` (O7): one run per settled change, lock files and partial downloads ignored,
and a clean stop on SIGTERM."""

from __future__ import annotations

import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import openpyxl
import pytest
from click.testing import CliRunner

from tiersheet.cli import main
from tiersheet.watch import describe, is_input_candidate, settled, snapshot

from test_cli import SAMPLES


@pytest.mark.parametrize("name, candidate", [
    ("sales.xlsx", True), ("2025-03-portal-activities.csv", True), ("sub/partners.xlsx", True),
    ("~$sales.xlsx", False), (".~lock.sales.xlsx#", False), (".hidden.xlsx", False),
    ("sales.xlsx.crdownload", False), ("sales.xlsx.part", False), ("sales.tmp", False),
    ("sales.xlsx~", False), (".cache/sales.xlsx", False)])
def test_o7_watch_ignores_lock_files_temporary_files_and_partial_downloads(tmp_path, name, candidate):
    assert is_input_candidate(tmp_path / name, tmp_path) is candidate


def test_o7_watch_ignores_its_own_output_folder(tmp_path):
    assert not is_input_candidate(tmp_path / "out" / "tiersheet-2025-01.xlsx", tmp_path, tmp_path / "out")


def test_o7_describe_names_what_changed():
    before = {"a.xlsx": (1, 1), "b.xlsx": (2, 2), "c.csv": (3, 3)}
    after = {"a.xlsx": (1, 1), "b.xlsx": (2, 5), "d.xlsx": (4, 4)}
    assert describe(before, after) == "added d.xlsx; changed b.xlsx; removed c.csv"
    assert describe(after, after) == "no change"


def test_o7_settled_waits_until_files_stop_changing(tmp_path):
    """A file still being written (it grows at each look) is waited for."""
    path = tmp_path / "sales.csv"
    path.write_text("a")
    looks = []

    def sleep(seconds):
        looks.append(seconds)
        if len(looks) < 3:
            with path.open("a") as handle:
                handle.write("more")
    result = settled(tmp_path, 2.0, sleep=sleep)
    assert looks == [2.0, 2.0, 2.0]
    assert result == snapshot(tmp_path) and result["sales.csv"][0] == len("a" + "more" * 2)


def test_o7_watch_once_runs_and_exits(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)
    (inbox / "~$2025-01.xlsx").write_bytes(b"lock")
    result = CliRunner().invoke(main, ["watch", str(inbox), "--out", str(tmp_path / "out"), "--once"])
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert ("added 2025-01-crm-leads.xls, 2025-01.xlsx, 2025-02-coop.csv, 2025-02.xlsx, "
            "2025-03-adjustments.xlsx, 2025-03-portal-activities.csv, 2025-03.xlsx, partners.xlsx") in line
    assert "->  ok: 3 month(s) 2025-01..2025-03, 8 problem(s); wrote tiersheet-2025-01.xlsx, " \
           "tiersheet-2025-02.xlsx, tiersheet-2025-03.xlsx and 13 partner statements" in line


def test_o7_watch_refuses_an_output_folder_inside_the_inbox(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "inbox")
    result = CliRunner().invoke(main, ["watch", str(tmp_path / "inbox"), "--out", str(tmp_path / "inbox" / "out"),
                                       "--once"])
    assert result.exit_code == 2 and "inside the inbox" in result.output


def test_o7_watch_once_that_fails_exits_1(tmp_path):
    (tmp_path / "inbox").mkdir()
    result = CliRunner().invoke(main, ["watch", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"), "--once"])
    assert result.exit_code == 1
    assert "FAILED: the inbox holds no dated sales" in result.output


class Log:
    """The watcher's stdout, line by line, read in a thread."""

    def __init__(self, process: subprocess.Popen):
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def next(self, timeout: float = 60) -> str:
        line = self.lines.get(timeout=timeout)
        self.seen.append(line)
        return line

    def quiet_for(self, seconds: float) -> bool:
        try:
            self.seen.append(self.lines.get(timeout=seconds))
            return False
        except queue.Empty:
            return True


def test_o7_watch_runs_once_per_settled_change_and_stops_on_sigterm(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for name in ("partners.xlsx", "2025-01.xlsx"):
        shutil.copy(SAMPLES / name, inbox / name)
    process = subprocess.Popen([sys.executable, "-m", "tiersheet", "watch", str(inbox), "--out", str(out),
                                "--settle", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = Log(process)
    try:
        first = log.next()
        assert "added 2025-01.xlsx, partners.xlsx  ->  ok: 1 month(s)" in first
        assert log.next().startswith("watching ")

        # a lock file alone is no change
        (inbox / "~$2025-02.xlsx").write_bytes(b"owner")
        assert log.quiet_for(3)

        # a file arriving in two pieces (half now, the rest a moment later) is one change
        data = (SAMPLES / "2025-02.xlsx").read_bytes()
        with (inbox / "2025-02.xlsx").open("wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            time.sleep(0.4)
            handle.write(data[len(data) // 2:])
        second = log.next()
        assert "  added 2025-02.xlsx  ->  ok: 2 month(s) 2025-01..2025-02" in second
        assert "wrote tiersheet-2025-01.xlsx, tiersheet-2025-02.xlsx" in second
        assert openpyxl.load_workbook(out / "tiersheet-2025-02.xlsx", read_only=True).sheetnames[0] == "Summary"

        # a second change
        shutil.copy(SAMPLES / "2025-03.xlsx", inbox / "2025-03.xlsx")
        third = log.next()
        assert "  added 2025-03.xlsx  ->  ok: 3 month(s) 2025-01..2025-03" in third
        assert log.quiet_for(3)  # exactly one run per settled change

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert log.next(timeout=10) == "stopped; every file written is complete"
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in process.stderr.read()
    assert sorted(p.name for p in out.iterdir()) == ["statements", "tiersheet-2025-01.xlsx",
                                                     "tiersheet-2025-02.xlsx", "tiersheet-2025-03.xlsx"]
    assert sorted(p.name for p in (out / "statements").iterdir()) == ["2025-01", "2025-02", "2025-03"]
    assert len([line for line in log.seen if "  ->  " in line]) == 3
