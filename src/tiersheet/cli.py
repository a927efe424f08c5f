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
from .config import RuleBook, load_rule_book, load_rules
from .errors import TiersheetError, UsageProblem
from .pipeline import STATEMENTS, Interrupted, run_inbox
from .workers import default_jobs


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


class Programme(click.Group):
    """The command group, and the one place where fatal errors become exit codes: a
    TiersheetError is one line and its own exit code (2 for usage problems); an OSError names
    the file; Ctrl-C anywhere ends with a word on what was completed and exit 130, never a
    traceback (click alone says "Aborted!" and exits 1)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # one line, not click's three (usage, hint, error)
            command = exc.ctx.command_path if exc.ctx else "tiersheet"
            click.echo(f"Error: {exc.format_message()} (see '{command} --help')", err=True)
            ctx.exit(2)
        except TiersheetError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            click.echo(f"Error: {exc.filename or ''}{': ' if exc.filename else ''}{exc.strerror or exc}", err=True)
            ctx.exit(1)
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


@click.group(name="tiersheet", cls=Programme, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tiersheet")
def main() -> None:
    """tiersheet runs a reseller partner programme from spreadsheets.

    Drop the month's exports (partners, sales, activities, leads, co-op claims) into a folder
    and run `tiersheet run FOLDER --out OUT`: it applies the programme's rules and writes one
    auditable Excel workbook per month, every computed number a live formula.
    """


# --- options shared by the commands that read an inbox ---------------------------------------

inbox_argument = click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
rules_option = click.option(
    "--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Programme rules (TOML). Default: the packaged Bitrix programme rules.")
through_option = click.option(
    "--through", callback=parse_month_option, metavar="YYYY-MM",
    help="Last month to run (extends or cuts the run). Default: the latest dated event.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
out_option = click.option(
    "--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
    show_default=True, help="Folder for the workbooks (created if missing).")

statements_option = click.option(
    "--statements", type=click.Choice(STATEMENTS), default="last", show_default=True,
    help="Partner statements (OUT/statements/YYYY-MM/) for the last month, every month, or none.")

jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=default_jobs, metavar="N",
    show_default="this machine's cores", help="Worker processes writing the workbooks and statements, "
    "each month's workbook as soon as the month is closed; the files are the same whatever N is. "
    "--jobs 1 writes them one by one in this process.")


def rules_and_source(rules_file: Path | None) -> tuple[RuleBook, str]:
    """The rules over time (R18) and how the workbooks name where they came from."""
    return load_rule_book(rules_file), str(rules_file) if rules_file else "packaged default rules.toml"


@main.command(short_help="Apply the rules to an inbox and write the monthly workbooks.")
@inbox_argument
@out_option
@rules_option
@through_option
@click.option("--strict", is_flag=True, help="Exit 1 if the inbox has any problem (the workbooks are still written).")
@click.option("--verify", "check_formulas", is_flag=True,
              help="Afterwards, recalculate each workbook in LibreOffice and report any formula cell "
                   "whose value differs (see `tiersheet verify`).")
@statements_option
@click.option("--pdf", is_flag=True, help="Also a PDF copy of each statement (needs LibreOffice).")
@jobs_option
@quiet_option
def run(inbox: Path, out: Path, rules_file: Path | None, through: date | None, strict: bool,
        check_formulas: bool, statements: str, pdf: bool, jobs: int, quiet: bool) -> None:
    """Apply the programme's rules to INBOX and write OUT/tiersheet-YYYY-MM.xlsx per month.

    Every sheet of every .xlsx, .xlsm, .xls, .xlsb, .ods, .csv, .tsv and .txt file in INBOX is
    read, by what the file holds (an .xls may be an HTML table); each sheet's kind (partners,
    sales, activities, leads, co-op claims, rates) is recognised from its header row. Rows that cannot be used are listed on each workbook's Exceptions sheet, and the
    run goes on with the rest.

    \b
    Example:
      tiersheet run samples/inbox --out out
      tiersheet run inbox --out out --through 2025-02 --statements all --pdf

    Exit status: 0 when the workbooks were written, 1 when none could be written (or, with
    --strict, when the inbox had problems), 2 for usage errors.
    """
    started = time.monotonic()
    show = sys.stderr.isatty() and not quiet
    rules, rules_source = rules_and_source(rules_file)
    if pdf:
        if statements == "none":
            raise UsageProblem("--pdf makes PDF copies of statements; it cannot go with --statements none")
        from .verify import VerifyError, find_soffice
        try:
            find_soffice()
        except VerifyError as exc:
            raise UsageProblem(f"--pdf: {exc}") from None

    def announce(months: list[date]) -> None:
        if not quiet:
            click.echo(f"Running {len(months)} month(s), {months[0]:%Y-%m}..{months[-1]:%Y-%m}", err=True)

    outcome = run_inbox(inbox, out, rules, rules_source, through,
                        progress=lambda label, items: progress(label, items, show), announce=announce,
                        statements=statements, pdf=pdf, jobs=jobs)
    result, written, formulas = outcome.result, outcome.written, outcome.cells.get("formulas", 0)
    try:  # the files are written: a Ctrl-C now cuts the summary short, and says so
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
    except KeyboardInterrupt:
        raise Interrupted(written, 0) from None
    if check_formulas and not verify_all(written, quiet):
        raise click.ClickException("--verify: LibreOffice computes different values (listed above)")
    if strict and problems:
        for problem in problems[:20]:
            click.echo(f"  {problem}", err=True)
        if len(problems) > 20:
            click.echo(f"  ... and {len(problems) - 20} more", err=True)
        raise click.ClickException(f"--strict: the inbox has {len(problems)} problem(s)")


@main.command(short_help="Validate an inbox as run would read it, writing nothing.")
@inbox_argument
@rules_option
@through_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people; json (one document) for scripts.")
@quiet_option
def check(inbox: Path, rules_file: Path | None, through: date | None, output_format: str,
          quiet: bool) -> None:
    """Read and validate INBOX exactly as `run` does, and write nothing.

    Prints the problems grouped by file (sheet, row, column, value, what is wrong and what was
    done with the row), the exact duplicates and notes (reported, not problems), the
    reconciliation per sheet, and a one-line verdict.

    \b
    Example:
      tiersheet check samples/inbox
      tiersheet check samples/inbox --format json > check.json

    Exit status: 0 when the inbox is clean, 1 when it has problems (or nothing to run), 2 for
    usage errors.
    """
    import json

    from .checking import check_inbox, render_text, verdict

    rules, _ = rules_and_source(rules_file)
    document = check_inbox(inbox, rules.base, through)
    if output_format == "json":
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(verdict(document) if quiet else render_text(document))
    if not document["clean"]:
        sys.exit(1)


@main.command(short_help="Run again whenever the inbox's files change and settle.")
@inbox_argument
@out_option
@rules_option
@through_option
@click.option("--settle", "settle_seconds", type=click.FloatRange(min=0), default=3.0, show_default=True,
              metavar="SECONDS", help="Run once the inbox's files have not changed for this long.")
@click.option("--once", is_flag=True, help="Process what is in the inbox now and exit (for cron and tests).")
@statements_option
@jobs_option
@quiet_option
def watch(inbox: Path, out: Path, rules_file: Path | None, through: date | None,
          settle_seconds: float, once: bool, statements: str, jobs: int, quiet: bool) -> None:
    """Watch INBOX and run whenever its files change, once they have settled.

    Runs for what is in INBOX now, then again after every change, once the files have stopped
    changing for --settle seconds (lock files such as ~$book.xlsx, temporary files and partial
    downloads are ignored). Each run is `tiersheet run` with the same options, reading the rules
    file afresh; each logs one line: when, what changed, the result and the files written. A
    failed run is logged and the watching goes on. Ctrl-C or SIGTERM stops it; no half-written
    file is left.

    \b
    Example:
      tiersheet watch /shared/partner-exports --out /shared/partner-workbooks
      tiersheet watch inbox --out out --once        # from cron

    Exit status: 0 when stopped (with --once: when the run succeeded), 1 when the --once run
    failed, 2 for usage errors.
    """
    from .watch import RunLine, watch as watch_inbox

    if out.resolve().is_relative_to(inbox.resolve()):
        raise click.UsageError(f"--out {out} is inside the inbox {inbox}: the runs would read their "
                               "own workbooks; choose a folder outside it")
    outcomes: list[RunLine] = []

    def run_once() -> RunLine:
        try:
            rules, rules_source = rules_and_source(rules_file)
            outcome = run_inbox(inbox, out, rules, rules_source, through, statements=statements, jobs=jobs)
        except TiersheetError as exc:
            line = RunLine(False, str(exc), [])
        except OSError as exc:
            line = RunLine(False, f"{exc.filename or ''} {exc.strerror or exc}".strip(), [])
        except Exception as exc:  # a bug must not end the watching: log it and go on
            line = RunLine(False, f"internal error {type(exc).__name__}: {exc}", [])
        else:
            result = outcome.result
            problems = sum(1 for p in result.problems if p.is_problem)
            span = f"{result.months[0].month:%Y-%m}..{result.months[-1].month:%Y-%m}"
            made = sum(len(folder.files) for folder in outcome.statements)
            line = RunLine(True, f"{len(result.months)} month(s) {span}, {problems} problem(s)",
                           outcome.written, made)
        outcomes.append(line)
        return line

    def log(text: str) -> None:
        if not quiet or "FAILED" in text:
            click.echo(text)
            sys.stdout.flush()

    watch_inbox(inbox, out, run_once, log, settle_seconds, once)
    if once and outcomes and not outcomes[-1].ok:
        sys.exit(1)


@main.command(short_help="Write blank input workbooks, the rules file and example settings.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite templates already in FOLDER.")
@quiet_option
def templates(folder: Path, force: bool, quiet: bool) -> None:
    """Write blank input workbooks into FOLDER, one per kind of input.

    partners, sales, activities, leads, co-op claims and rates: the exact headers, column
    formats, drop-down lists for yes/no, levels, activity types, sale types and currencies, a
    message on each header cell saying what goes there, and an Instructions sheet on the monthly
    routine. Also the default rules file (rules.toml, every key explained), the default email
    template and an example tiersheet.toml. Existing files are kept unless --force.

    \b
    Example:
      tiersheet templates blank-forms
    """
    from .templates import write_templates

    written = write_templates(folder, load_rules(None), force)
    if not quiet:
        for path in written:
            click.echo(f"  wrote {path}")


@main.command(short_help="A partner's standing before and after hypothetical changes.")
@inbox_argument
@click.option("--partner", "partner_id", required=True, metavar="ID", help="The partner to look at.")
@click.option("--month", callback=parse_month_option, metavar="YYYY-MM",
              help="The month whose close to look at. Default: the last month of the inbox.")
@click.option("--sale", "sales", multiple=True, type=float, metavar="AMOUNT",
              help="A hypothetical sale in US dollars that month (repeatable).")
@click.option("--activity", "activities", multiple=True, metavar="KEY",
              help="A hypothetical activity of this type that month, approved (repeatable).")
@click.option("--set", "settings", multiple=True, metavar="FIELD=VALUE",
              help="A requirement value changed from that month, e.g. certified_engineers=2 (repeatable).")
@rules_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document (month, before, after) for scripts.")
def whatif(inbox: Path, partner_id: str, month: date | None, sales: tuple[float, ...],
           activities: tuple[str, ...], settings: tuple[str, ...], rules_file: Path | None,
           as_json: bool) -> None:
    """Run the programme with hypothetical rows added for one partner, and compare.

    Prints the partner's standing at the month's close before and after, side by side:
    closing points, status, change, margin, points to next, sales to next, missing for status
    and for next. Nothing is written.

    \b
    Example:
      tiersheet whatif samples/inbox --partner P008 --sale 1070
      tiersheet whatif samples/inbox --partner P010 --set nda=yes --set certified_engineers=1
      tiersheet whatif samples/inbox --partner P005 --month 2025-02 --activity seminar --json
    """
    import json

    from .garbage import few_collections
    from .inbox import read_inbox
    from .whatif import render, what_if

    rules, _ = rules_and_source(rules_file)
    with few_collections():
        data = read_inbox(inbox, rules.base, month)
    closed, before, after = what_if(data, rules, partner_id, month, sales, activities, settings)
    if as_json:
        click.echo(json.dumps({"partner": partner_id, "month": f"{closed:%Y-%m}",
                               "before": before.as_dict(), "after": after.as_dict()}, indent=2,
                              ensure_ascii=False))
    else:
        click.echo(render(partner_id, closed, before, after))


def earlier_workbooks(out: Path, written: list[Path]) -> list[Path]:
    """Channel workbooks in OUT that this run did not write (left from an earlier run)."""
    ours = {path.name for path in written}
    return sorted(path for path in out.glob("tiersheet-*.xlsx")
                  if re.fullmatch(r"tiersheet-\d{4}-\d{2}\.xlsx", path.name) and path.name not in ours)


def verify_all(paths: list[Path], quiet: bool, timeout: float = 300) -> bool:
    """Verify each workbook, printing what differs; True when every formula agrees."""
    from .verify import verify

    agree = True
    for path in paths:
        result = verify(path, timeout)
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


@main.command(short_help="Recalculate workbooks in LibreOffice; report cells that differ.")
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

    \b
    Example:
      tiersheet verify out/tiersheet-2025-03.xlsx out/statements/2025-03/*.xlsx

    Exit status: 0 when all agree, 1 when any cell differs (or LibreOffice failed, or a workbook
    has nothing to compare: no formulas, or formulas without cached values), 2 for usage errors,
    including LibreOffice not being installed.
    """
    from .verify import check_comparable, find_soffice

    for path in workbooks:
        check_comparable(path)
    find_soffice()
    if not verify_all(list(workbooks), quiet, timeout):
        sys.exit(1)


@main.command(short_help="Email each partner its statement, and the team the workbook.")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--month", required=True, callback=parse_month_option, metavar="YYYY-MM",
              help="The month whose statements to send.")
@click.option("--to", "to", multiple=True, metavar="ADDRESS",
              help="Also send the channel workbook to ADDRESS: one message per address (repeatable).")
@click.option("--only", multiple=True, metavar="PARTNER_ID",
              help="Send only these partners' statements (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Send nothing: write each message as an .eml file under OUT/outbox/YYYY-MM/.")
@click.option("--resend", is_flag=True, help="Send again what the send log says was delivered.")
@click.option("--template", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The partners' message wording: see --print-template for the format and the "
                   "$placeholders.")
@click.option("--print-template", is_flag=True, is_eager=True, expose_value=False,
              callback=lambda ctx, param, value: print_template(ctx) if value else None,
              help="Print the default template (a start for your own) and exit.")
@click.option("--from", "sender", envvar="TIERSHEET_SMTP_FROM", show_envvar=True, metavar="ADDRESS",
              help="The sender's address.")
@click.option("--smtp-host", envvar="TIERSHEET_SMTP_HOST", show_envvar=True, help="SMTP server.")
@click.option("--smtp-port", type=click.IntRange(1, 65535), envvar="TIERSHEET_SMTP_PORT",
              show_envvar=True, help="SMTP port (default: 25, 587 with starttls, 465 with ssl).")
@click.option("--smtp-tls", type=click.Choice(["none", "starttls", "ssl"]), default="starttls",
              envvar="TIERSHEET_SMTP_TLS", show_envvar=True, show_default=True,
              help="starttls: upgrade a plain connection; ssl: TLS from the start; none: no TLS.")
@click.option("--smtp-user", envvar="TIERSHEET_SMTP_USER", show_envvar=True,
              help="Log in as this user.")
@click.option("--smtp-password", envvar="TIERSHEET_SMTP_PASSWORD", show_envvar=True,
              help="The user's password; prefer the environment variable, which other users of "
                   "the machine cannot see in the process list.")
@click.option("--smtp-timeout", type=click.FloatRange(min=1), default=60, show_default=True,
              help="Seconds to wait for the server before a message counts as failed.")
@click.option("--smtp-cafile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              hidden=True)  # a CA to trust instead of the system's: the tests' own
def email(out: Path, month: date, to: tuple[str, ...], only: tuple[str, ...], dry_run: bool,
          resend: bool, template: Path | None, sender: str | None, smtp_host: str | None,
          smtp_port: int | None, smtp_tls: str, smtp_user: str | None, smtp_password: str | None,
          smtp_timeout: float, smtp_cafile: Path | None) -> None:
    """Email each partner its statement for --month, and the channel workbook to --to.

    Reads what `tiersheet run` wrote in OUT (OUT/statements/YYYY-MM/ and its index.csv, and
    OUT/tiersheet-YYYY-MM.xlsx) and sends one message per partner with an address, to all its
    addresses, with its statement (and PDF) attached. A send log in OUT/outbox/YYYY-MM/ makes a
    re-run send only what was not delivered; a statement changed since it was sent goes again as
    a correction.

    \b
    Example:
      export TIERSHEET_SMTP_HOST=smtp.example.com TIERSHEET_SMTP_USER=channel
      export TIERSHEET_SMTP_PASSWORD=...  TIERSHEET_SMTP_FROM=channel@example.com
      tiersheet email out --month 2025-03 --dry-run        # look at out/outbox/2025-03/*.eml
      tiersheet email out --month 2025-03 --to team@example.com

    Exit status: 0 when every message went (or was already sent), 1 when any failed or an
    address is invalid, 2 for usage errors.
    """
    from .mailer import SmtpSettings, send_month

    if smtp_user and not smtp_password:
        raise click.UsageError("--smtp-user needs a password: set TIERSHEET_SMTP_PASSWORD")
    smtp = (SmtpSettings(smtp_host, smtp_port, smtp_tls, smtp_user, smtp_password, smtp_timeout,
                         smtp_cafile) if smtp_host else None)
    show = sys.stderr.isatty()
    report = send_month(out, month, to=to, only=only, dry_run=dry_run, resend=resend,
                        template=template, sender=sender, smtp=smtp,
                        progress=lambda label, items: progress(label, items, show))
    for line in report.notes:
        click.echo(f"Note: {line}", err=True)
    for line in report.problems():
        click.echo(f"  {line}", err=True)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


def print_template(ctx: click.Context) -> None:
    from .mailer.template import default_path

    click.echo(default_path("statement.txt").read_text(encoding="utf-8"), nl=False)
    ctx.exit()
