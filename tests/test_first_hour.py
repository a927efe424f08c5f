"""What a new user hits in the first hour (issue 8): mistakes get a one-line answer, Ctrl-C says
what was completed, and nothing from an earlier run passes unnoticed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date

import openpyxl
import pytest
from click.testing import CliRunner

from tiersheet import engine, pipeline
from tiersheet.cli import main
from tiersheet.config import default_rules_path, load_rules
from tiersheet.inbox import read_inbox

from interrupts import assert_only_whole_files_after_interrupt
from test_cli import SAMPLES, write_inbox

BOM = "\ufeff"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --- 8.4: a --through typo ---------------------------------------------------------------

def test_o8_through_far_past_the_latest_event_is_a_usage_error_naming_it(tmp_path):
    out = tmp_path / "out"
    result = invoke("run", str(SAMPLES), "--out", str(out), "--through", "2205-03")
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: --through 2205-03 is 2,160 months after the latest dated "
                                     "event (2025-03); a run may go on at most 24 months past it. "
                                     "Check the year.")
    assert not out.exists()


def test_r2_through_may_extend_a_run_up_to_24_months_past_the_latest_event(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 100]])
    data = read_inbox(inbox, load_rules())
    assert len(engine.run_months(data, date(2027, 1, 1))) == 25
    with pytest.raises(engine.ThroughTooFar, match="2025-01"):
        engine.run_months(data, date(2027, 2, 1))


def test_o8_month_count_is_announced_before_the_long_work(tmp_path, monkeypatch):
    """The announcement comes before the months are closed: an interrupt in the engine finds
    it printed already."""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(pipeline, "close_months", interrupted)
    result = invoke("run", str(SAMPLES), "--out", str(tmp_path / "out"), "--through", "2027-03")
    assert "Running 27 month(s), 2025-01..2027-03" in result.output
    assert result.exit_code == 130


# --- 8.5 and 8.6: rules files and tiersheet.toml that people save ------------------------

def test_o7_binary_rules_file_is_a_one_line_usage_error(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    result = CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(tmp_path / "out"),
                                       "--rules", str(rules)])
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: rules file {rules}: is not a text file in UTF-8 "
                                     "(byte 1 is 0x89); save it as UTF-8 text")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_i1_binary_tiersheet_toml_is_a_one_line_usage_error(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 100]])
    (inbox / "tiersheet.toml").write_bytes(b"[headers]\n\xff\xfe\x00 = 1\n")
    result = CliRunner().invoke(main, ["run", str(inbox), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "tiersheet.toml: is not a text file in UTF-8" in result.output


def test_o7_rules_file_with_a_byte_order_mark_is_read(tmp_path):
    rules = tmp_path / "rules.toml"
    text = default_rules_path().read_text(encoding="utf-8").replace("usd_per_point = 10", "usd_per_point = 5")
    rules.write_text(BOM + text, encoding="utf-8")
    assert load_rules(rules).usd_per_point == 5
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 100]])
    result = invoke("run", str(inbox), "--out", str(tmp_path / "out"), "--rules", str(rules))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(tmp_path / "out" / "tiersheet-2025-01.xlsx", data_only=True)["Partners"]
    assert sheet["E2"].value == 20  # R3: $100 / 5


def test_i1_tiersheet_toml_with_a_byte_order_mark_is_read(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    book = openpyxl.Workbook()
    book.active.append(["Reseller Code", "Partner Name"])
    book.active.append(["P1", "One"])
    sales = book.create_sheet("Sales")
    sales.append(["Invoice ID", "Reseller Code", "Invoice Date", "Net USD"])
    sales.append(["S1", "P1", date(2025, 1, 5), 330])
    book.save(inbox / "export.xlsx")
    (inbox / "tiersheet.toml").write_text(BOM + '[headers]\n"Reseller Code" = "partner_id"\n"Net USD" = "amount_usd"\n',
                                          encoding="utf-8")
    result = invoke("run", str(inbox), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(tmp_path / "out" / "tiersheet-2025-01.xlsx", data_only=True)["Partners"]
    assert (sheet["A2"].value, sheet["E2"].value) == ("P1", 33)


# --- 8.8: Ctrl-C ---------------------------------------------------------------------------

def test_o8_ctrl_c_while_writing_names_the_completed_workbooks_and_exits_130(tmp_path, monkeypatch):
    real_write = pipeline.write_month
    calls = []

    def write_then_interrupt(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_write(path, *args, **kwargs)
    monkeypatch.setattr(pipeline, "write_month", write_then_interrupt)
    out = tmp_path / "out"
    result = invoke("run", str(SAMPLES), "--out", str(out), "--jobs", "1")  # tests/test_jobs.py: parallel
    assert result.exit_code == 130
    assert "Interrupted: 1 workbook(s) were completed and are whole:" in result.output
    assert f"wrote {out / 'tiersheet-2025-01.xlsx'}" in result.output
    assert "2 more were not written" in result.output
    assert "Aborted" not in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["tiersheet-2025-01.xlsx"]


def test_o8_ctrl_c_while_reading_says_nothing_was_written(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(pipeline, "read_inbox", interrupted)
    result = invoke("run", str(SAMPLES), "--out", str(tmp_path / "out"))
    assert result.exit_code == 130
    assert result.output.strip() == "Interrupted: nothing was written."


def test_o8_ctrl_c_while_the_program_starts_is_not_a_traceback(monkeypatch, capsys):
    """Ctrl-C while pandas and the rest are still importing."""
    from tiersheet import entry

    class InterruptImport:
        def find_spec(self, name, path=None, target=None):
            if name == "tiersheet.cli":
                raise KeyboardInterrupt
            return None
    monkeypatch.delitem(sys.modules, "tiersheet.cli")
    monkeypatch.setattr(sys, "meta_path", [InterruptImport(), *sys.meta_path])
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "Interrupted: nothing was written.\n"


def test_o8_ctrl_c_as_the_program_exits_is_not_a_traceback():
    """Ctrl-C just after a command has ended, while Python cleans up on exit (it once broke
    multiprocessing's finalizers with a traceback after a finished parallel run)."""
    code = """
import atexit, os, signal, sys, time
import tiersheet.cli
from tiersheet import entry

def clean_up():  # like multiprocessing's finalizers, hit by the Ctrl-C
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    print("cleaned up")
atexit.register(clean_up)
tiersheet.cli.main = lambda: sys.exit(0)  # the command has ended
entry.main()
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "cleaned up\n", "")


def test_o8_ctrl_c_where_python_cannot_raise_it_is_raised_again():
    """A Ctrl-C that lands in a weak-reference callback (Python prints it there and carries on)
    is delivered again and stops the command, quietly, with exit 130."""
    code = """
import os, signal, sys, time, weakref
import tiersheet.cli
from tiersheet import entry

class Thing:
    pass

def command():  # as a command's Ctrl-C ends (cli.Programme)
    try:
        thing = Thing()
        gone = weakref.ref(thing, lambda ref: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.2)))
        del thing  # the callback runs here, and the Ctrl-C with it
        time.sleep(2)
        print("went on as if nothing had happened")
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        sys.exit(130)
tiersheet.cli.main = command
entry.main()
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "Interrupted\n")


def test_o1_real_sigint_during_a_run_leaves_only_whole_workbooks(tmp_path):
    """A real Ctrl-C (SIGINT) to `python -m tiersheet` while it writes 27 workbooks in its own
    process (tests/test_jobs.py does the same with workers)."""
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "tiersheet", "run", str(SAMPLES), "--out", str(out),
                                "--through", "2027-03", "--jobs", "1"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out.exists() and any(out.glob("tiersheet-*.xlsx"))) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert_only_whole_files_after_interrupt(process.returncode, stderr, out, 27)


# --- 8.9: workbooks left from an earlier run -------------------------------------------------

def test_o8_summary_names_workbooks_left_from_an_earlier_run(tmp_path):
    out = tmp_path / "out"
    assert invoke("run", str(SAMPLES), "--out", str(out), "--through", "2025-05").exit_code == 0
    result = invoke("run", str(SAMPLES), "--out", str(out))
    assert result.exit_code == 0
    assert (f"2 workbook(s) in {out} are from an earlier run, not this one (delete them if they are "
            "stale): tiersheet-2025-04.xlsx, tiersheet-2025-05.xlsx") in result.output
    again = invoke("run", str(SAMPLES), "--out", str(tmp_path / "fresh"))
    assert "earlier run" not in again.output


# --- also: help, damaged files, the rules file's comments ---------------------------------

def test_o7_main_help_gives_each_command_a_whole_short_description():
    result = invoke("--help")
    assert "Apply the rules to an inbox and write the monthly workbooks." in result.output
    assert "Recalculate workbooks in LibreOffice; report cells that differ." in result.output
    commands = result.output[result.output.index("Commands:"):]
    assert "..." not in commands


def test_i7_damaged_file_problem_speaks_plainly(tmp_path):
    inbox = write_inbox(tmp_path / "inbox", [["S1", "P1", date(2025, 1, 5), 330]])
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    data = read_inbox(inbox, load_rules())
    [problem] = [p for p in data.problems if p.file == "broken.xlsx"]
    assert problem.message.startswith("is not a readable spreadsheet (the file is damaged or not a workbook)")
    assert problem.action == "file skipped"


def test_r7_rules_file_comment_describes_the_commitment_key():
    text = default_rules_path().read_text(encoding="utf-8")
    comment = text[:text.index("[commitment]")].rsplit("\n\n", 1)[1]
    assert "`level`" in comment and "sales_commitment_usd" in comment
    assert "months in a quarter" not in comment


@pytest.mark.parametrize("command", ["run", "check", "watch", "templates", "verify", "email", "whatif"])
def test_o7_every_command_explains_itself_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output and f"tiersheet {command} " in result.output


def test_o7_a_bad_option_value_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["run", str(SAMPLES), "--through", "2025-13"])
    assert result.exit_code == 2
    assert result.output == ("Error: Invalid value for '--through': '2025-13' is not a month; write it as "
                             "YYYY-MM, e.g. 2025-03 (see 'tiersheet run --help')\n")


def test_o7_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("tiersheet, version ")
