"""Issue 12: hostile and broken inputs (SPEC I7, I8). Nothing crashes, nothing leaks, nothing is
lost: every case of tests/hostile/corpus.py gives its problem (naming the file and the reason)
while the samples beside it read exactly as they do alone."""

from __future__ import annotations

import csv
import email
import email.policy
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
from hostile_corpus import CASES, INJECTIONS, LONG_TEXT, MARKER, PARTNER_IDS, Case, build  # noqa: E402

from tiersheet.cli import main  # noqa: E402

from tiersheet.config import load_rules  # noqa: E402
from tiersheet.engine import run_engine  # noqa: E402
from tiersheet.inbox import read_inbox  # noqa: E402
from tiersheet.problems import ERROR  # noqa: E402
from tiersheet.verify import compare, recalculate_all  # noqa: E402
from tiersheet.xlsx import fit_header  # noqa: E402

RULES = load_rules()
SAMPLES = Path(__file__).parents[1] / "samples" / "inbox"
SAMPLE_IDS = {f"P{i:03d}" for i in range(1, 100)}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """Every case, built once per session (the big ones take a second or two each)."""
    return build(tmp_path_factory.mktemp("hostile") / "cases")


def inbox_of(folder: Path, corpus: Path, names: list[str]) -> Path:
    """The samples and the named cases: big files hard-linked, links made again as links."""
    shutil.copytree(SAMPLES, folder)
    for name in dict.fromkeys(names):
        source = corpus / name
        if source.is_symlink():
            (folder / name).symlink_to(os.readlink(source))
        else:
            os.link(source, folder / name)
    return folder


def figures(inbox) -> list[tuple]:
    """The samples' partners' figures, month by month, and their sales (O1)."""
    rows = []
    for month in run_engine(inbox, RULES).months:
        rows += [(f"{month.month:%Y-%m}", p.partner_id, p.opening_points, p.sales_points, p.bonus_points,
                  p.activity_points, p.closing_points, p.rank, p.change, p.certificate_expires)
                 for p in month.partners if p.partner_id in SAMPLE_IDS]
        sales = month.sales[month.sales["partner_id"].isin(SAMPLE_IDS)]
        rows += sorted(zip(sales["invoice_id"], sales["amount_usd"]))
    return rows


@pytest.fixture(scope="module")
def baseline() -> list[tuple]:
    return figures(read_inbox(SAMPLES, RULES))


def file_problems(inbox, name: str) -> list[str]:
    return [p.message for p in inbox.problems if p.file == name and p.row is None and p.is_problem]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_i7_i8_each_hostile_case_gives_its_problem_and_the_samples_are_unchanged(corpus, baseline, case: Case,
                                                                                  tmp_path):
    inbox = read_inbox(inbox_of(tmp_path / "inbox", corpus, ["partners-hostile.xlsx", case.name]), RULES)
    problems = file_problems(inbox, case.name)
    if case.problem is None:
        assert problems == []
    else:
        [message] = problems
        assert case.problem in message
        [skipped] = [p for p in inbox.problems if p.file == case.name]
        assert skipped.severity == ERROR and skipped.action == "file skipped"
    if case.accepts:
        assert case.accepts in set(inbox.sales["invoice_id"])
    for report in inbox.reports:
        assert report.rows_read == report.accepted + report.rejected + report.duplicates, report
    assert figures(inbox) == baseline


def test_i8_a_lock_file_is_not_read(corpus, tmp_path):
    inbox = read_inbox(inbox_of(tmp_path / "inbox", corpus, ["~$x.xlsx"]), RULES)
    assert not [r for r in inbox.reports if r.file == "~$x.xlsx"]


def test_i7_a_sheet_of_headers_only_is_read_as_its_kind_with_no_rows(corpus, tmp_path):
    inbox = read_inbox(inbox_of(tmp_path / "inbox", corpus, ["headers-only.xlsx"]), RULES)
    [report] = [r for r in inbox.reports if r.file == "headers-only.xlsx"]
    assert (report.kind, report.rows_read) == ("sales", 0)


def test_i8_nothing_from_outside_the_inbox_or_an_entity_is_read(corpus, tmp_path):
    """The linked file's sale, /etc/passwd and the entities' expansions appear nowhere."""
    names = ["partners-hostile.xlsx", "outside-link.xlsx", *(c.name for c in CASES if "xxe" in c.name
                                                              or "laughs" in c.name)]
    inbox = read_inbox(inbox_of(tmp_path / "inbox", corpus, names), RULES)
    assert "H-SECRET" not in set(inbox.sales["invoice_id"])
    texts = " ".join(str(v) for frame in inbox.frames.values() for v in frame.to_numpy().ravel())
    assert "root:" not in texts and "lollol" not in texts and "H-9" not in texts


@pytest.mark.parametrize("name", ["&" * 300, "x" * 40_000, "Ä & Ö\r\n" * 60, "short & plain"])
def test_i8_a_page_header_holds_any_partner_name_within_excels_255_characters(name):
    header = fit_header(f"{name} (P1)", "&RPartner statement, March 2025")
    assert len(header) <= 255 and header.endswith("&RPartner statement, March 2025")
    text = header[2:header.index("&R")]
    assert "\r" not in text and "\n" not in text
    assert re.fullmatch(r"(?:[^&]|&&)*", text)  # every "&" of the name doubled: none is a code
    if len(name) < 100:
        assert text == f"{name} (P1)".replace("&", "&&")


def test_i7_hostile_values_are_accepted_or_rejected_with_a_reason(corpus, tmp_path):
    inbox = read_inbox(inbox_of(tmp_path / "inbox", corpus, ["partners-hostile.xlsx", "values.xlsx",
                                                             "values-text.csv"]), RULES)
    rejected = {p.row: p.message for p in inbox.problems if p.file == "values.xlsx" and p.action == "row rejected"}
    assert "is beyond the limit" in rejected[4]        # 1e308
    assert "is not an amount" in rejected[5]           # NaN
    assert "is not an amount" in rejected[6]           # inf
    assert "is not a number" in rejected[7]            # =70012+1
    assert "is not a plausible date" in rejected[8]    # 9999-12-31
    assert "is not a plausible date" in rejected[9]    # 1899-12-31
    sales = inbox.sales.set_index("invoice_id")
    assert sales.loc["V-01", "amount_usd"] == 0 and sales.loc["V-02", "amount_usd"] == -120
    assert sales.loc["V-08", "product"] == LONG_TEXT[:32_767]  # what a cell holds
    assert sales.loc["V-33", "product"] == LONG_TEXT[:32_767]  # cut, with a warning saying so
    [cut] = [p for p in inbox.problems if p.file == "values-text.csv" and p.row == 4]
    assert "is 40,000 characters long, more than a spreadsheet cell holds (32,767)" in cut.message
    for i, text in enumerate(INJECTIONS):              # I8: data, kept as written (trimmed)
        assert sales.loc[f"V-1{i}", "product"] == text.strip()
    assert sales.loc["V-30", "product"] == "bell\x07 and\x01 escape\x1b"
    assert sales.loc["V-32", "product"].startswith("caf")


# --- the whole corpus and the samples, run in a subprocess under limits ------------------------

AS_LIMIT = 1024**3  # bytes of address space for the whole run
TIME_LIMIT = 240    # seconds (CPU and wall clock)


@dataclass
class Run:
    out: Path
    inbox: Path
    seconds: float
    peak_rss: int   # bytes
    stderr: str


def limited(command: list[str], cwd: Path) -> tuple[int, float, int, str]:
    """Run `command` under the address-space and time limits: exit status, seconds, peak RSS."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
        resource.setrlimit(resource.RLIMIT_CPU, (TIME_LIMIT, TIME_LIMIT))

    started = time.monotonic()
    with open(cwd / "stderr.txt", "w+") as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=limit)
        watchdog = threading.Timer(TIME_LIMIT, process.kill)
        watchdog.start()
        _, status, usage = os.wait4(process.pid, 0)
        watchdog.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return process.returncode, time.monotonic() - started, usage.ru_maxrss * 1024, err.read()


@pytest.fixture(scope="module")
def corpus_run(corpus, tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp("hostile-run")
    inbox = inbox_of(folder / "inbox", corpus, [case.name for case in CASES])
    code, seconds, peak, stderr = limited(
        [sys.executable, "-m", "tiersheet", "run", str(inbox), "--out", str(folder / "out")], folder)
    assert code == 0, stderr
    return Run(folder / "out", inbox, seconds, peak, stderr)


@pytest.fixture(scope="module")
def samples_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples-run")
    assert CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(out), "--quiet"]).exit_code == 0
    return out


def sample_rows(path: Path, sheet: str) -> list[tuple]:
    """The rows of a sheet that name a sample partner, as cached values."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [row for row in book[sheet].iter_rows(values_only=True) if SAMPLE_IDS & set(row)]
    finally:
        book.close()


def test_i8_the_whole_corpus_runs_in_1_gib_and_the_samples_figures_are_unchanged(corpus_run, samples_run):
    print(f"corpus run: {corpus_run.seconds:.1f}s, peak RSS {corpus_run.peak_rss / 1024**2:.0f} MiB")
    assert corpus_run.seconds < TIME_LIMIT
    months = sorted(p.name for p in corpus_run.out.glob("tiersheet-*.xlsx"))
    assert months == sorted(p.name for p in samples_run.glob("tiersheet-*.xlsx")) and months
    for name in months:
        for sheet in ("Partners", "Month close", "Requirements"):
            assert sample_rows(corpus_run.out / name, sheet) == sample_rows(samples_run / name, sheet)
    for statement in (samples_run / "statements").rglob("P*.xlsx"):
        twin = corpus_run.out / statement.relative_to(samples_run)
        assert sample_rows(twin, "Statement") == sample_rows(statement, "Statement")


def outputs(run: Run) -> list[Path]:
    return sorted(run.out.rglob("*.xlsx"))


def test_i8_no_output_formula_holds_input_text_and_input_text_is_text(corpus_run):
    """The engine's formulas never carry the injections' marker; the injections are there, as
    text cells, in the channel workbook and in the statements."""
    seen: set[str] = set()
    for path in outputs(corpus_run):
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        assert MARKER not in str(cell.value), (path.name, sheet.title, cell.coordinate)
                    elif isinstance(cell.value, str) and MARKER in cell.value:
                        assert cell.data_type in ("s", "inlineStr")
                        seen.add(cell.value)
    assert {text.strip() for text in INJECTIONS} <= seen
    assert "=70011+1" in seen  # a partner ID


def test_i8_statement_files_stay_in_their_folder_one_per_partner(corpus_run):
    folder = corpus_run.out / "statements" / "2025-03"
    with open(folder / "index.csv", newline="", encoding="utf-8") as handle:
        index = list(csv.DictReader(handle))
    ids = [row["partner_id"] for row in index]
    assert {pid for pid in PARTNER_IDS if pid not in (".", "..")} | {"H01"} <= {i.lstrip("'") for i in ids}
    files = [row["file"] for row in index]
    assert len(set(f.casefold() for f in files)) == len(files)
    for name in files:
        assert (folder / name).resolve().parent == folder.resolve()
    for row in index:  # I8: nothing a spreadsheet would run
        for cell in row.values():
            assert not cell.lstrip(" \t\r\n")[:1] in ("=", "+", "-", "@") or cell.startswith("'")
    assert not list(corpus_run.out.parent.glob("escape*"))


def test_i8_eml_and_json_carry_input_text_as_text_one_file_per_message(corpus_run, tmp_path):
    env = {**os.environ, "TIERSHEET_SMTP_FROM": "channel@example.com"}
    result = CliRunner(env=env).invoke(main, ["email", str(corpus_run.out), "--month", "2025-03", "--dry-run"])
    assert result.exit_code == 0, result.output
    with open(corpus_run.out / "statements" / "2025-03" / "index.csv", newline="", encoding="utf-8") as handle:
        addressed = [row for row in csv.DictReader(handle) if row["email"]]
    messages = sorted((corpus_run.out / "outbox" / "2025-03").glob("*.eml"))
    assert len(messages) == len(addressed)  # none overwrote another
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Bcc"] is None and "victim" not in str(message["To"])
    report = CliRunner().invoke(main, ["check", str(corpus_run.inbox), "--format", "json"])
    values = {problem["value"] for problem in json.loads(report.output)["problems"]}
    assert "=70012+1" in values  # a string in JSON, as in every output


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_o4_i8_every_output_of_the_corpus_run_opens_and_recalculates_alike(corpus_run, tmp_path):
    paths = outputs(corpus_run)
    assert len({path.stem for path in paths}) == len(paths)  # one LibreOffice recalculates them all
    for path in paths:
        openpyxl.load_workbook(path, read_only=True).close()
    differences = []
    for path, fresh in zip(paths, recalculate_all(paths, tmp_path)):
        count, found = compare(path, fresh)
        assert count > 0, path
        differences += [f"{path.name}: {d}" for d in found]
    assert differences == []
