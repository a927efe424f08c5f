"""`run --jobs N` (issue 14, SPEC O1, O9): workbooks and statements written by worker
processes, byte for byte what one process writes; Ctrl-C and a failing worker leave no
half-written file and no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiersheet import pipeline
from tiersheet.cli import main
from tiersheet.errors import TiersheetError

sys.path.insert(0, str(Path(__file__).parent))
from generate import make_inbox  # noqa: E402
from interrupts import assert_only_whole_files_after_interrupt  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbox"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("inbox", ["samples", "generated"])
def test_o9_jobs_1_and_3_write_the_same_files_byte_for_byte(tmp_path, inbox):
    folder = SAMPLES if inbox == "samples" else make_inbox(tmp_path / "inbox", 14, partners=40, months=4)
    made = {}
    for jobs in ("1", "3"):
        out = tmp_path / f"jobs-{jobs}"
        result = invoke("run", str(folder), "--out", str(out), "--statements", "all", "--jobs", jobs, "-q")
        assert result.exit_code == 0, result.output
        made[jobs] = files(out)
    assert made["1"] == made["3"]
    workbooks = [name for name in made["1"] if name.startswith("tiersheet-")]
    statements = [name for name in made["1"] if name.startswith("statements") and name.endswith(".xlsx")]
    assert len(workbooks) == (3 if inbox == "samples" else 4)
    listed = sum(made["1"][name].count(b"\r\n") - 1 for name in made["1"] if name.endswith("index.csv"))
    assert len(statements) == listed > (30 if inbox == "samples" else 100)


def test_o9_jobs_must_be_a_positive_number(tmp_path):
    result = invoke("run", str(SAMPLES), "--out", str(tmp_path / "out"), "--jobs", "0")
    assert result.exit_code == 2
    assert "--jobs" in result.output and "Traceback" not in result.output


def test_o9_run_help_explains_jobs():
    result = invoke("run", "--help")
    assert "--jobs N" in result.output and "this machine's cores" in result.output


@pytest.mark.parametrize("error", [TiersheetError("cannot write to folder X: disk full"),
                                   ValueError("bad cell")], ids=["known", "bug"])
def test_o9_a_failing_worker_stops_the_run_with_its_message(tmp_path, monkeypatch, error):
    real_write = pipeline.write_month

    def write_or_fail(path, *args, **kwargs):
        if path.name == "tiersheet-2025-02.xlsx":
            raise error
        return real_write(path, *args, **kwargs)
    monkeypatch.setattr(pipeline, "write_month", write_or_fail)  # the workers are forked: they see it
    out = tmp_path / "out"
    result = invoke("run", str(SAMPLES), "--out", str(out), "--jobs", "2")
    assert result.exit_code == 1
    expected = "cannot write to folder X: disk full" if error.args[0].startswith("cannot") else \
        "internal error ValueError: bad cell"
    assert result.output.strip().splitlines()[-1] == f"Error: {expected}"
    assert "Traceback" not in result.output
    assert not (out / "tiersheet-2025-02.xlsx").exists()
    assert [p.name for p in out.rglob(".*")] == []  # no temporary file left


def processes_marked(marker: str) -> list[int]:
    """The processes whose environment holds `marker` (a run and the workers it forked)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find worker processes")
@pytest.mark.parametrize("target", ["group", "parent"])
def test_o1_ctrl_c_during_a_parallel_run_leaves_whole_files_and_no_worker(tmp_path, target):
    """A real Ctrl-C: SIGINT to the whole process group (a terminal's Ctrl-C) or to the run
    alone, while 3 workers write 27 workbooks."""
    out = tmp_path / "out"
    marker = f"TIERSHEET_TEST_RUN={uuid.uuid4().hex}"
    name, value = marker.split("=")
    process = subprocess.Popen([sys.executable, "-m", "tiersheet", "run", str(SAMPLES), "--out", str(out),
                                "--through", "2027-03", "--statements", "all", "--jobs", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, name: value}, start_new_session=True)
    def writing() -> bool:  # workbooks are done and workers are at work on more, at this moment
        return out.exists() and len(list(out.glob("tiersheet-*.xlsx"))) >= 2 and len(processes_marked(marker)) > 1
    deadline = time.monotonic() + 60
    while not (caught := writing()) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert caught or process.poll() is not None  # signalled while workers write (or it was done)
    if target == "group":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert_only_whole_files_after_interrupt(process.returncode, stderr, out, 27)
    time.sleep(0.2)
    assert processes_marked(marker) == []  # no worker left behind


def test_o9_files_read_in_threads_give_the_same_rows_problems_and_reports(tmp_path):
    """jobs > 1 parses the inbox's files in threads, largest first; they are typed in folder
    order all the same, so rows, problems (an unreadable file among them) and reports match."""
    import shutil

    from tiersheet.config import load_rules
    from tiersheet.inbox import read_inbox

    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)
    (inbox / "2025-02-broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (inbox / "notes.txt").write_text("not a spreadsheet")
    read = {jobs: read_inbox(inbox, load_rules(), jobs=jobs) for jobs in (1, 3)}
    assert read[1].problems == read[3].problems
    assert any(p.file == "2025-02-broken.xlsx" for p in read[3].problems)
    assert [vars(r) for r in read[1].reports] == [vars(r) for r in read[3].reports]
    assert read[1].frames.keys() == read[3].frames.keys()
    for kind, frame in read[1].frames.items():
        assert frame.equals(read[3].frames[kind]), kind
        assert len(frame) > 0, kind
