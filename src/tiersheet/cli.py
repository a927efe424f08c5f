"""The command line: wires click options to the stages and turns fatal errors into one message."""

from __future__ import annotations

import re
import sys
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

from . import __version__
from .config import RulesError, load_rules
from .engine import RunError, ThroughTooFar
from .inbox import InboxError
from .outputs import OutputError
from .pipeline import STATEMENTS, Interrupted, run_inbox
from .verify import VerifyError
from .xlsx import SheetFull


def parse_month_option(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise click.BadParameter(f"{value!r} is not a month; write it as YYYY-MM, e.g. 2025-03")
    return date(int(match[1]), int(match[2]), 1)


@contextmanager
def progress(label: str, items, show: bool):
    """A progress bar on stderr when it is a terminal (O8); the plain items otherwise."""
    if show:
        with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
            yield bar
    else:
        yield items


class BadInput(click.ClickException):
    """A usage error about a file named on the command line (a rules file, tiersheet.toml,
    --through against the inbox): one line, exit 2, without click's usage banner."""
    exit_code = 2


class Programme(click.Group):
    """The command group; Ctrl-C anywhere ends with a word on what was completed and exit 130,
    never a traceback (click alone says "Aborted!" and exits 1)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Interrupted as exc:
            report_interrupt(exc.written, exc.pending)
        except KeyboardInterrupt:
            report_interrupt([], None)
        ctx.exit(130)


def report_interrupt(written: list[Path], pending: int | None) -> None:
    if written:
        click.echo(f"Interrupted: {len(written)} workbook(s) were completed and are whole:", err=True)
        for path in written:
            click.echo(f"  wrote {path}", err=True)
        click.echo(f"{pending} more were not written (no half-written file is left).", err=True)
    else:
        click.echo("Interrupted: nothing was written.", err=True)


@click.group(cls=Programme, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tiersheet")
def main() -> None:
    """tiersheet runs a reseller partner programme from spreadsheets.

    Drop the month's exports (partners, sales, activities, leads, co-op claims) into a folder
    and run `tiersheet run FOLDER --out OUT`: it applies the programme's rules and writes one
    auditable Excel workbook per month, every computed number a live formula.
    """


@main.command(short_help="Apply the rules to an inbox and write the monthly workbooks.")
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
              show_default=True, help="Folder for the workbooks (created if missing).")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Programme rules (TOML). Default: the packaged Bitrix programme rules.")
@click.option("--through", callback=parse_month_option, metavar="YYYY-MM",
              help="Last month to run (extends or cuts the run). Default: the latest dated event.")
@click.option("--strict", is_flag=True, help="Exit 1 if the inbox has any problem (the workbooks are still written).")
@click.option("--verify", "check_formulas", is_flag=True,
              help="Afterwards, recalculate each workbook in LibreOffice and report any formula cell "
                   "whose value differs (see `tiersheet verify`).")
@click.option("--statements", type=click.Choice(STATEMENTS), default="last", show_default=True,
              help="Partner statements (OUT/statements/YYYY-MM/) for the last month, every month, or none.")
@click.option("--pdf", is_flag=True, help="Also a PDF copy of each statement (needs LibreOffice).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def run(inbox: Path, out: Path, rules_file: Path | None, through: date | None, strict: bool,
        check_formulas: bool, statements: str, pdf: bool, quiet: bool) -> None:
    """Apply the programme's rules to INBOX and write OUT/tiersheet-YYYY-MM.xlsx per month.

    Every sheet of every .xlsx, .xlsm, .xls, .ods and .csv file in INBOX is read; each sheet's
    kind (partners, sales, activities, leads, co-op claims, rates) is recognised from its
    header row. Rows that cannot be used are listed on each workbook's Exceptions sheet, and the
    run goes on with the rest.

    Exit status: 0 when the workbooks were written, 1 when none could be written (or, with
    --strict, when the inbox had problems), 2 for usage errors.
    """
    started = time.monotonic()
    show = sys.stderr.isatty() and not quiet
    try:
        rules = load_rules(rules_file)
    except RulesError as exc:
        raise BadInput(str(exc)) from None
    rules_source = str(rules_file) if rules_file else "packaged default rules.toml"
    if pdf:
        if statements == "none":
            raise click.UsageError("--pdf makes PDF copies of statements; it cannot go with --statements none")
        from .verify import find_soffice
        try:
            find_soffice()
        except VerifyError as exc:
            raise click.UsageError(f"--pdf: {exc}") from None

    def announce(months: list[date]) -> None:
        if not quiet:
            click.echo(f"Running {len(months)} month(s), {months[0]:%Y-%m}..{months[-1]:%Y-%m}", err=True)

    try:
        outcome = run_inbox(inbox, out, rules, rules_source, through,
                            progress=lambda label, items: progress(label, items, show),
                            announce=announce, statements=statements, pdf=pdf)
    except (InboxError, ThroughTooFar) as exc:
        raise BadInput(str(exc)) from None
    except RunError as exc:
        raise click.ClickException(str(exc)) from None
    except OutputError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    except SheetFull as exc:
        raise click.ClickException(str(exc)) from None
    except VerifyError as exc:  # LibreOffice failed while making the PDFs
        raise click.ClickException(str(exc)) from None
    result, written, formulas = outcome.result, outcome.written, outcome.cells.get("formulas", 0)

    problems = [p for p in result.problems if p.is_problem]
    if not quiet:
        last = result.months[-1]
        upgrades = sum(1 for m in result.months for p in m.partners if p.change == "Upgrade")
        downgrades = sum(1 for m in result.months for p in m.partners if p.change == "Downgrade")
        rows = sum(r.rows_read for r in result.reports)
        click.echo(f"{len(result.months)} month(s) {result.months[0].month:%Y-%m}..{last.month:%Y-%m}; "
                   f"{len(last.partners)} partners; {upgrades} upgrade(s), {downgrades} downgrade(s); "
                   f"{rows} input rows, {len(problems)} problem(s) (see the Exceptions sheet)")
        for path in written:
            click.echo(f"  wrote {path}")
        for folder in outcome.statements:
            pdfs = f" and {len(folder.pdfs)} PDF copies" if folder.pdfs else ""
            click.echo(f"  wrote {len(folder.files)} partner statements{pdfs} in {folder.folder} (listed in index.csv)")
        stale = earlier_workbooks(out, written)
        if stale:
            click.echo(f"  {len(stale)} workbook(s) in {out} are from an earlier run, not this one "
                       f"(delete them if they are stale): {', '.join(p.name for p in stale)}")
        click.echo(f"Done in {time.monotonic() - started:.1f}s ({formulas} formula cells).")
    if check_formulas and not verify_all(written, quiet):
        raise click.ClickException("--verify: LibreOffice computes different values (listed above)")
    if strict and problems:
        for problem in problems[:20]:
            click.echo(f"  {problem}", err=True)
        if len(problems) > 20:
            click.echo(f"  ... and {len(problems) - 20} more", err=True)
        raise click.ClickException(f"--strict: the inbox has {len(problems)} problem(s)")


def earlier_workbooks(out: Path, written: list[Path]) -> list[Path]:
    """Channel workbooks in OUT that this run did not write (left from an earlier run)."""
    ours = {path.name for path in written}
    return sorted(path for path in out.glob("tiersheet-*.xlsx")
                  if re.fullmatch(r"tiersheet-\d{4}-\d{2}\.xlsx", path.name) and path.name not in ours)


def verify_all(paths: list[Path], quiet: bool, timeout: float = 300) -> bool:
    """Verify each workbook, printing what differs; True when every formula agrees."""
    from .verify import VerifyError, verify

    agree = True
    for path in paths:
        try:
            result = verify(path, timeout)
        except VerifyError as exc:
            raise click.ClickException(str(exc)) from None
        if result.differences:
            agree = False
            click.echo(f"{path}: {len(result.differences)} of {result.formulas} formula cells differ "
                       f"in LibreOffice ({result.seconds:.1f}s)")
            for difference in result.differences[:50]:
                click.echo(f"  {difference}")
            if len(result.differences) > 50:
                click.echo(f"  ... and {len(result.differences) - 50} more")
        elif not quiet:
            click.echo(f"{path}: all {result.formulas} formula cells agree with LibreOffice "
                       f"({result.seconds:.1f}s)")
    return agree


@main.command(short_help="Recalculate workbooks in LibreOffice and report any cell that differs.")
@click.argument("workbooks", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timeout", default=300, show_default=True, type=click.FloatRange(min=1),
              help="Seconds LibreOffice may take per workbook.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the cells that differ.")
def verify(workbooks: tuple[Path, ...], timeout: float, quiet: bool) -> None:
    """Recalculate WORKBOOKS in LibreOffice and report every formula cell that differs.

    Each workbook is opened headless in a throw-away LibreOffice profile that recalculates on
    load; every formula cell's cached value (what tiersheet computed) is compared with
    LibreOffice's. Differences are listed as sheet, cell, formula, cached and recalculated value.

    Exit status: 0 when all agree, 1 when any cell differs (or LibreOffice failed, or a workbook
    has nothing to compare: no formulas, or formulas without cached values), 2 for usage errors,
    including LibreOffice not being installed.
    """
    from .verify import VerifyError, check_comparable, find_soffice

    try:
        for path in workbooks:
            check_comparable(path)
    except VerifyError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        find_soffice()
    except VerifyError as exc:
        raise click.UsageError(str(exc)) from None
    if not verify_all(list(workbooks), quiet, timeout):
        sys.exit(1)
