"""One month's mailing: plan a message per partner with an address (and one per --to address
for the channel workbook), skip what the send log says was delivered, then send through SMTP or,
for a dry run, write each message as an .eml file under OUT/outbox/YYYY-MM/."""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, closing, nullcontext
from dataclasses import dataclass, field
from datetime import date
from email.headerregistry import Address
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..outputs import OutputError, write_bytes
from .errors import MailError, MailUsageError
from .messages import (OUR_MESSAGE_ID, Attachment, build_message, eml_name, parse_address,
                       parse_addresses)
from .sendlog import SendLog
from .smtp import Smtp, SmtpSettings, Unavailable
from .sources import Month, read_month
from .template import (CHANNEL_PLACEHOLDERS, STATEMENT_PLACEHOLDERS, Wording, channel_values,
                       default_path, load_wording, statement_values)

# Messages in a row that failed for the connection alone (dropped or timed out on every attempt,
# no reply): then the server is the problem, not the messages, so stop. A refusal (4xx, 5xx) is
# a reply about one message and never counts.
LOST_IN_A_ROW = 5


@dataclass(frozen=True)
class Planned:
    """One message to make: for whom, to whom, with which files and words."""
    key: str                 # the send log's name for it
    label: str               # how reports name it
    eml: str                 # its file name in a dry run
    recipients: list[Address]
    files: list[Path]
    wording: Wording
    values: dict[str, str]
    what: str                # "statement" or "workbook", for the correction note


@dataclass
class Report:
    """The tally a mailing ends with."""
    month: str
    outbox: Path
    dry_run: bool
    sent: int = 0
    corrections: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    without_address: list[str] = field(default_factory=list)
    stopped: str = ""
    untried: list[str] = field(default_factory=list)   # labels of what a stop left unsent
    notes: list[str] = field(default_factory=list)     # said once, not problems

    @property
    def ok(self) -> bool:
        return not (self.failures or self.invalid or self.stopped)

    def problems(self) -> list[str]:
        """One line per message that did not go, and per partner without a usable address."""
        return ([f"failed: {line}" for line in self.failures]
                + [f"invalid address: {line}" for line in self.invalid]
                + [f"no address: {label}" for label in self.without_address]
                + ([f"stopped: {self.stopped}; {len(self.untried)} message(s) not tried:"]
                   if self.stopped else [])
                + [f"not sent: {label}" for label in self.untried])

    def summary(self) -> str:
        done = (f"{self.sent} .eml file(s) written to {self.outbox}" if self.dry_run
                else f"{self.sent} sent")
        parts = [f"{done} ({self.corrections} correction(s))",
                 f"{self.skipped} skipped as already sent", f"{len(self.failures)} failed",
                 f"{len(self.invalid)} invalid address(es)",
                 f"{len(self.without_address)} without address"]
        if self.stopped:
            parts.append(f"{len(self.untried)} not tried")
        line = f"{self.month}{' (dry run)' if self.dry_run else ''}: {', '.join(parts)}"
        if not self.dry_run and (self.failures or self.stopped):
            line += "\nRun the same command again to send what is missing: nothing delivered is sent twice."
        return line


def send_month(out: Path, month: date, *, to: Iterable[str] = (), only: Iterable[str] = (),
               dry_run: bool = False, resend: bool = False, template: Path | None = None,
               sender: str | None = None, smtp: SmtpSettings | None = None,
               progress: Callable | None = None, backoff: tuple[float, ...] | None = None) -> Report:
    """Mail `month`'s statements (and workbook to `to`) from what `tiersheet run` wrote in `out`.

    `progress(label, items)` may return a context manager yielding the items (a progress bar)."""
    if not dry_run and smtp is None:
        raise MailUsageError("no SMTP server: give --smtp-host or set TIERSHEET_SMTP_HOST "
                             "(or look first with --dry-run)")
    from_address = check_sender(sender, required=not dry_run)
    team = check_team(to)
    data = read_month(out, month)
    wording = load_wording(template or default_path("statement.txt"), STATEMENT_PLACEHOLDERS)
    channel = load_wording(default_path("channel.txt"), CHANNEL_PLACEHOLDERS)
    report = Report(data.iso, out / "outbox" / data.iso, dry_run)
    planned = plan(data, team, set(only), wording, channel, report)
    if dry_run:
        if from_address is None:
            report.notes.append("no sender is set (--from or TIERSHEET_SMTP_FROM): the .eml files "
                                "have no From line, and sending will need one")
        clear_dry_run(report.outbox)
    log = SendLog(report.outbox / "send-log.jsonl")
    progress = progress or (lambda label, items: nullcontext(items))
    with ExitStack() as stack:
        connection = None
        if not dry_run:
            stack.enter_context(log)   # locked: one mailing of a month at a time
            connection = stack.enter_context(Smtp(smtp, backoff))
        bar = stack.enter_context(progress("Writing .eml files" if dry_run else "Sending", planned))
        made = stack.enter_context(closing(ahead(
            lambda item: prepare(item, from_address, log, resend), planned)))
        lost_in_a_row = 0
        for done, (_, ready) in enumerate(zip(bar, made)):
            try:
                lost = deliver(ready, from_address, log, connection, report)
            except Unavailable as exc:
                report.stopped, report.untried = str(exc), [item.label for item in planned[done:]]
                break
            lost_in_a_row = lost_in_a_row + 1 if lost else 0
            if lost_in_a_row == LOST_IN_A_ROW:
                report.stopped = (f"the connection to {smtp.address} failed for {LOST_IN_A_ROW} "
                                  f"messages in a row")
                report.untried = [item.label for item in planned[done + 1:]]
                break
    return report


def clear_dry_run(outbox: Path) -> None:
    """Remove the .eml files an earlier dry run wrote, so that the folder holds this dry run's
    messages only; any other file (the send log, a user's own .eml) stays."""
    for path in outbox.glob("*.eml") if outbox.is_dir() else ():
        try:
            if path.is_file() and written_here(path):
                path.unlink()
        except OSError as exc:
            raise MailError(f"cannot remove the earlier dry run's {path}: {exc.strerror or exc}") from None


def written_here(path: Path) -> bool:
    """Whether `path` is a message this mailer made: its Message-ID is tiersheet's."""
    with open(path, "rb") as handle:
        for line in handle:   # the header only, up to its first blank line
            if not line.strip():
                return False
            if OUR_MESSAGE_ID.match(line):
                return True
    return False


def check_sender(sender: str | None, required: bool) -> Address | None:
    if not sender:
        if required:
            raise MailUsageError("no sender: give --from or set TIERSHEET_SMTP_FROM")
        return None
    address = parse_address(sender)
    if address is None:
        raise MailUsageError(f"--from {sender!r} is not an email address")
    return address


def check_team(to: Iterable[str]) -> list[Address]:
    team, invalid = parse_addresses(",".join(to))
    if invalid:
        raise MailUsageError(f"--to {invalid[0]!r} is not an email address")
    return team


def plan(data: Month, team: list[Address], only: set[str], wording: Wording, channel: Wording,
         report: Report) -> list[Planned]:
    """Every message this mailing may send, the channel workbook's first; partners without a
    usable address are noted in `report` instead."""
    unknown = only - {statement.partner_id for statement in data.statements}
    if unknown:
        raise MailUsageError(f"--only: no statement for {', '.join(sorted(unknown))} in "
                             f"{data.workbook.parent / 'statements' / data.iso}/index.csv")
    month = f"{data.month:%B %Y}"
    rows = list(data.figures.values())
    values = channel_values(month, data.iso, data.workbook.name, rows, "")
    planned = [Planned(f"channel/{address.addr_spec.lower()}", f"channel workbook to {address}",
                       eml_name(f"channel-{address.addr_spec}"), [address], [data.workbook], channel,
                       values, "workbook")
               for address in team]
    seen: set[str] = set()
    for statement in data.statements:
        if only and statement.partner_id not in only:
            continue
        label = f"{statement.partner_id} {statement.partner_name}"
        if statement.partner_id in seen:   # one message per partner: the log keys on the ID
            report.failures.append(f"{label}: listed twice in index.csv; only the first is sent")
            continue
        seen.add(statement.partner_id)
        recipients, invalid = parse_addresses(statement.email)
        report.invalid.extend(f"{label}: {part!r}" for part in invalid)
        if not recipients:
            if not invalid:
                report.without_address.append(label)
            continue
        row = data.figures.get(statement.partner_id)
        if row is None:
            report.failures.append(f"{label}: not on the Partners sheet of {data.workbook.name}")
            continue
        files = [statement.file] + ([statement.pdf] if statement.pdf else [])
        planned.append(Planned(
            f"statement/{statement.partner_id}", label, eml_name(f"statement-{statement.file.stem}"),
            recipients, files, wording,
            statement_values(month, data.iso, row, statement.file.name, ""), "statement"))
    return planned


@dataclass(frozen=True)
class Prepared:
    """A message made and flattened, ready to go to `recipients`; or why there is none."""
    item: Planned
    recipients: list[Address] = field(default_factory=list)   # empty: all had this version
    checksums: dict[str, str] = field(default_factory=dict)
    subject: str = ""
    correction: bool = False
    data: bytes = b""
    error: str = ""


def prepare(item: Planned, sender: Address | None, log: SendLog, resend: bool) -> Prepared:
    """Read the files and make the message for whoever has not had this version yet. Runs in a
    helper thread ahead of the sending, so it only reads the log, for its own key."""
    try:
        attachments = [Attachment.read(path) for path in item.files]
    except OSError as exc:
        return Prepared(item, error=f"cannot read {exc.filename}: {exc.strerror}")
    checksums = {a.name: hashlib.sha256(a.data).hexdigest() for a in attachments}
    had = log.last_versions(item.key)
    pending = [a for a in item.recipients if resend or had.get(a.addr_spec.lower()) != checksums]
    if not pending:
        return Prepared(item)
    correction = any(had.get(a.addr_spec.lower(), checksums) != checksums for a in pending)
    note = ""
    if correction:
        note = (f"This replaces the {item.what} sent on {log.replaced(item.key, checksums)[:10]}: "
                f"please use the attached one.")
    values = {**item.values, "correction_note": note}
    subject = ("Correction: " if correction else "") + item.wording.subject_for(values)
    message = build_message(sender, pending, subject, item.wording.text_for(values),
                            item.wording.html_for(values), attachments)
    return Prepared(item, pending, checksums, subject, correction, message.as_bytes())


def deliver(ready: Prepared, sender: Address | None, log: SendLog, smtp: Smtp | None,
            report: Report) -> bool:
    """Send (or, without a server, write) one prepared message and record it; True when it
    failed for the connection alone (no reply from the server on any attempt)."""
    item = ready.item
    if ready.error:
        report.failures.append(f"{item.label}: {ready.error}")
        return False
    if not ready.recipients:
        report.skipped += 1
        return False
    if smtp is None:
        try:
            write_bytes(report.outbox / item.eml, ready.data)
        except OutputError as exc:
            raise MailError(str(exc)) from None
    else:
        delivery = smtp.send(sender.addr_spec, [a.addr_spec for a in ready.recipients], ready.data)
        if delivery.accepted:
            try:
                log.append(item.key, delivery.accepted, ready.checksums, ready.subject, delivery.reply)
            except OSError as exc:
                raise MailError(f"{item.label} was delivered but cannot be recorded in {log.path} "
                                f"({exc.strerror or exc}): stopped so that nothing is sent twice") from None
        if delivery.failed:
            by_reason: dict[str, list[str]] = {}
            for recipient, reason in delivery.failed.items():
                by_reason.setdefault(reason, []).append(recipient)
            report.failures.append(f"{item.label}: " + "; ".join(
                f"{', '.join(recipients)}: {reason}" for reason, recipients in by_reason.items()))
            return delivery.unanswered
    report.sent += 1
    report.corrections += ready.correction
    return False


def ahead(function: Callable[[Planned], Prepared], items: list[Planned],
          depth: int = 8) -> Iterator[Prepared]:
    """function(item) for each item in order, computed in a helper thread up to `depth` items
    ahead: making the next message (CPU) overlaps waiting for the server and the disk."""
    with ThreadPoolExecutor(max_workers=1) as helper:
        queued: deque[Future[Prepared]] = deque()
        for item in items:
            queued.append(helper.submit(function, item))
            if len(queued) > depth:
                yield queued.popleft().result()
        while queued:
            yield queued.popleft().result()
