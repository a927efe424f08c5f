"""A month's partner statements (O1, O5): one workbook per partner in OUT/statements/YYYY-MM/,
the index.csv that `tiersheet email` reads, and PDF copies for partners who do not use
spreadsheets."""

from __future__ import annotations

import csv
import io
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .csvtext import neutral
from .engine import MonthResult
from .filenames import file_stems
from .outputs import write_bytes, write_text
from .verify import VerifyError, find_soffice
from .workers import Arriving
from .workbook import partner_views, write_statement

INDEX_HEADER = ["partner_id", "partner_name", "email", "file", "pdf"]  # the mailer's contract
PDF_BATCH = 200  # statements converted by one LibreOffice process


@dataclass
class Written:
    """One month's statements folder and what went into it."""
    folder: Path
    files: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)


def month_folder(out: Path, month) -> Path:
    return Path(out) / "statements" / f"{month:%Y-%m}"


def index_csv(rows: list[list[str]]) -> str:
    """index.csv: UTF-8, the header row, one row per statement, written by the csv module (which
    quotes commas, quotes and line breaks); every cell neutralised (I8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(INDEX_HEADER)
    writer.writerows([neutral(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def write_statements(out: Path, result: MonthResult, pdf: bool = False,
                     progress: Callable | None = None, stats: dict | None = None) -> Written:
    """Write every partner's statement of `result`'s month, then the PDFs (when asked), then
    index.csv, which lists only what is there.

    `progress(label, items)` may return a context manager yielding the items (a progress bar)."""
    progress = progress or (lambda label, items: nullcontext(items))
    stems = file_stems(p.partner_id for p in result.partners)
    files = statement_files(out, result, stems, stats=stats)
    with progress(f"Statements {result.month:%Y-%m}", Arriving(files, len(result.partners))) as bar:
        files = list(bar)
    return finish_statements(out, result, stems, files, pdf, progress)


def statement_files(out: Path, result: MonthResult, stems: dict[str, str], first: int = 0,
                    stop: int | None = None, stats: dict | None = None) -> Iterator[Path]:
    """Write the statements of partners `first` to `stop` (all by default; a worker writes one
    such share), yielding each file when written."""
    folder = month_folder(out, result.month)
    for view in partner_views(result, first, stop):
        path = folder / f"{stems[view.partners[0].partner_id]}.xlsx"
        write_statement(path, view, stats)
        yield path


def statement_share(out: Path, result: MonthResult, stems: dict[str, str], first: int,
                    stop: int) -> tuple[list[Path], dict]:
    """One worker's share of a month's statements: the files written and their cell counts."""
    stats: dict = {}
    return list(statement_files(out, result, stems, first, stop, stats)), stats


def finish_statements(out: Path, result: MonthResult, stems: dict[str, str], files: list[Path],
                      pdf: bool = False, progress: Callable | None = None, jobs: int = 1) -> Written:
    """After the statements: their PDFs (when asked), then index.csv, listing only what is there."""
    written = Written(month_folder(out, result.month), files)
    if pdf:
        written.pdfs = to_pdf(written.files, progress, jobs=jobs)
    made = {path.stem for path in written.pdfs}
    rows = [[p.partner_id, p.name, p.email, f"{stems[p.partner_id]}.xlsx",
             f"{stems[p.partner_id]}.pdf" if stems[p.partner_id] in made else ""] for p in result.partners]
    write_text(written.folder / "index.csv", index_csv(rows))
    return written


def to_pdf(paths: list[Path], progress: Callable | None = None, timeout: float = 600, jobs: int = 1) -> list[Path]:
    """A PDF beside each workbook, rendered by LibreOffice in batches (one headless process per
    PDF_BATCH files, in a throw-away profile as verify uses; `jobs` of them at a time) and moved
    into place atomically."""
    progress = progress or (lambda label, items: nullcontext(items))
    soffice = find_soffice()
    batches = [paths[i:i + PDF_BATCH] for i in range(0, len(paths), PDF_BATCH)]

    def render(batch: list[Path]) -> list[Path]:
        made = []
        with tempfile.TemporaryDirectory(prefix="tiersheet-pdf-") as scratch:
            profile, into = Path(scratch) / "profile", Path(scratch) / "pdf"
            command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                       "--convert-to", "pdf", "--outdir", str(into), *map(str, batch)]
            try:
                subprocess.run(command, capture_output=True, timeout=timeout + 2 * len(batch),
                               stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise VerifyError(f"LibreOffice did not make the PDFs of {batch[0].parent} in time") from None
            for path in batch:
                rendered = into / f"{path.stem}.pdf"
                if rendered.is_file():
                    target = path.with_suffix(".pdf")
                    write_bytes(target, rendered.read_bytes())
                    made.append(target)
        return made

    # Threads suffice: each only waits for its LibreOffice process.
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, \
            progress("PDF copies       ", Arriving(pool.map(render, batches), len(batches))) as bar:
        return [pdf for rendered in bar for pdf in rendered]
