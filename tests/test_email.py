"""`tiersheet email` (SPEC O6) end to end, against a real SMTP server (aiosmtpd) on 127.0.0.1.

The statements folder is built here from the samples' real channel workbooks (run with
--statements none), so that the tests choose the addresses and which partner has a PDF: one
small real .xlsx per partner, a PDF for one, and index.csv as `run` writes it."""

from __future__ import annotations

import asyncio
import csv
import email
import email.policy
import hashlib
import json
import re
import shutil
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from tiersheet.cli import main
from tiersheet.mailer import smtp as smtp_module
from tiersheet.mailer.messages import XLSX, parse_addresses
from tiersheet.mailer.template import statement_values

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbox"
MONTH = "2025-03"
SENDER = "channel@tiersheet.example"
TEAM = "team@tiersheet.example"
USER, PASSWORD = "channel", "Pa55-w0rd-never-shown"
SMTP_ENV = ("TIERSHEET_SMTP_HOST", "TIERSHEET_SMTP_PORT", "TIERSHEET_SMTP_TLS", "TIERSHEET_SMTP_USER",
            "TIERSHEET_SMTP_PASSWORD", "TIERSHEET_SMTP_FROM")
# Partner addresses as the index gives them; the rest come from the samples' partners sheet.
ADDRESSES = {"P002": "vertrieb@nordwind.example; Jonas K. <jonas@nordwind.example>", "P012": ""}
# March 2025's subjects, written out by hand from the month's Partners sheet (Status, Change).
SUBJECTS = {
    TEAM: "Channel workbook for March 2025: 13 partners, upgrades: 1, downgrades: 0",
    "P001": "Alpenblick IT GmbH, Gold Certified Partner (certificate renewed)",
    "P002": "Nordwind Systems GmbH, Certified Partner",
    "P003": "Hanse Digital GmbH, Gold Certified Partner",
    "P004": "Wisła Software Sp. z o.o., Certified Partner",
    "P005": "Lumière Logiciels SARL, Gold Certified Partner",
    "P006": "Cedar Point Solutions Ltd, Certified Partner",
    "P007": "Adriatic Cloud d.o.o., Business Partner",
    "P008": "Danube Web Kft., Business Partner",
    "P009": "Iberia Sistemas S.L., Certified Partner",
    "P010": "Vltava Apps s.r.o., Business Partner (certificate lapsed)",
    "P011": "Nordic Pixel AB, Business Partner",
    "P013": "Atlas Integratie B.V., Gold Certified Partner (upgraded from Certified Partner)",
}


def expected_subject(key: str) -> str:
    return SUBJECTS[key] if key == TEAM else f"Your partner statement for March 2025: {SUBJECTS[key]}"


# --- the outputs `run` writes ---------------------------------------------------------------

def write_statements(out: Path, month: str) -> None:
    """A statements folder as the statements engineer's contract describes it."""
    folder = out / "statements" / month
    folder.mkdir(parents=True)
    book = openpyxl.load_workbook(out / f"tiersheet-{month}.xlsx", read_only=True, data_only=True)
    header, *rows = book["Partners"].iter_rows(values_only=True)
    partners = openpyxl.load_workbook(SAMPLES / "partners.xlsx", read_only=True)["Partners"]
    emails = {row[0]: row[2] for row in partners.iter_rows(min_row=2, values_only=True)}
    with open(folder / "index.csv", "w", newline="", encoding="utf-8") as handle:
        index = csv.writer(handle)
        index.writerow(["partner_id", "partner_name", "email", "file", "pdf"])
        for row in rows:
            statement = openpyxl.Workbook()
            statement.active.title = "Statement"
            statement.active.append(header)
            statement.active.append(row)
            statement.save(folder / f"{row[0]}.xlsx")
            pdf = ""
            if row[0] == "P001":
                pdf = "P001.pdf"
                (folder / pdf).write_bytes(b"%PDF-1.4\n% statement P001\n%%EOF\n")
            index.writerow([row[0], row[1], ADDRESSES.get(row[0], emails[row[0]]), f"{row[0]}.xlsx", pdf])
    book.close()


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    result = CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(out), "--statements", "none"])
    assert result.exit_code == 0, result.output
    for month in ("2025-02", MONTH):
        write_statements(out, month)
    return out


@pytest.fixture
def out(sample_out, tmp_path) -> Path:
    """A fresh copy per test: tests write send logs and change statements."""
    return Path(shutil.copytree(sample_out, tmp_path / "out"))


def statement_file(out: Path, name: str, month: str = MONTH) -> Path:
    return out / "statements" / month / name


# --- a real SMTP server ---------------------------------------------------------------------

@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage
    session: int          # which connection carried it
    tls: bool
    authenticated: bool

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def attachments(self) -> dict[str, tuple[str, bytes]]:
        return {part.get_filename(): (part.get_content_type(), part.get_content())
                for part in self.message.iter_attachments()}


class Recorder:
    """An aiosmtpd handler that keeps what arrives and refuses, defers or drops on demand."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: set[str] = set()        # RCPT answered 550
        self.defer_once: set[str] = set()    # RCPT answered 450 once
        self.drop_once: set[str] = set()     # the connection closed during DATA, once
        self.busy_once: set[str] = set()     # DATA answered 451 once
        self.slow: set[str] = set()          # DATA answered only after the client gave up
        self.defer_always: set[str] = set()  # RCPT answered 451, every time
        self.deferred_at: list[float] = []   # when each of those 451 was answered
        self.hang_up = False                 # the connection closed at every RCPT

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.hang_up:
            server.transport.close()
            return "421 closing"
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address in self.defer_always:
            self.deferred_at.append(time.monotonic())
            return "451 4.3.0 greylisted, try later"
        if address in self.defer_once:
            self.defer_once.discard(address)
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            if address in self.drop_once:
                self.drop_once.discard(address)
                server.transport.close()
                return "421 closing"
            if address in self.slow:
                await asyncio.sleep(3)
                return "451 4.4.2 too late"
            if address in self.busy_once:
                self.busy_once.discard(address)
                return "451 4.3.0 temporary failure, try again"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message,
                                      id(session), server.transport.get_extra_info("ssl_object") is not None,
                                      session.authenticated))
        return f"250 2.0.0 queued as Q{len(self.received)}"

    def to(self, address: str) -> Received:
        (found,) = [r for r in self.received if address in r.recipients]
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server():
    """start(**controller_options) -> (recorder, port); every server is stopped afterwards."""
    controllers = []

    def start(**options) -> tuple[Recorder, int]:
        recorder, port = Recorder(), free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return recorder, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for 127.0.0.1, and the CA file that trusts it."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    cafile = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return context, cafile


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """Retries happen at once in tests."""
    monkeypatch.setattr(smtp_module, "BACKOFF", (0.0, 0.0, 0.0))


def run_email(out: Path, *args: str, env: dict | None = None, month: str = MONTH):
    clean = {name: None for name in SMTP_ENV}
    return CliRunner().invoke(main, ["email", str(out), "--month", month, *args],
                              env={**clean, **(env or {})}, catch_exceptions=False)


def plain(port: int) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-tls", "none",
            "--from", SENDER]


def assert_arrived(recorder: Recorder, out: Path, team: tuple[str, ...] = (TEAM,)) -> None:
    """What arrived is what `run` wrote, and nothing else: one message per partner with an
    address and one per team address, each from SENDER to exactly its addresses, with March's
    subject, and the files on disk, byte for byte, as its attachments."""
    expected: list[tuple[list[str], str, dict[str, tuple[str, bytes]]]] = []
    workbook = out / f"tiersheet-{MONTH}.xlsx"
    for address in team:
        expected.append(([address], expected_subject(TEAM), {workbook.name: (XLSX, workbook.read_bytes())}))
    for partner_id, raw in partner_addresses(out).items():
        if not raw:
            continue
        files = {f"{partner_id}.xlsx": XLSX, f"{partner_id}.pdf": "application/pdf"}
        expected.append(([a.addr_spec for a in parse_addresses(raw)[0]], expected_subject(partner_id),
                         {name: (kind, statement_file(out, name).read_bytes())
                          for name, kind in files.items() if statement_file(out, name).exists()}))
    assert len(recorder.received) == len(expected)
    for recipients, subject, attachments in expected:
        received = recorder.to(recipients[0])
        assert (received.sender, received.recipients, received.subject) == (SENDER, recipients, subject)
        assert received.attachments() == attachments, subject


def log_lines(out: Path) -> list[dict]:
    path = out / "outbox" / MONTH / "send-log.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def partner_addresses(out: Path, month: str = MONTH) -> dict[str, str]:
    with open(statement_file(out, "index.csv", month), encoding="utf-8") as handle:
        return {row["partner_id"]: row["email"] for row in csv.DictReader(handle)}


# --- sending ----------------------------------------------------------------------------------

def test_o6_each_partner_gets_its_statement_and_the_team_the_workbook(out, server):
    recorder, port = server()
    result = run_email(out, *plain(port), "--to", TEAM)
    assert result.exit_code == 0, result.output
    assert "no address: P012 Quiet Harbour IT Ltd" in result.stderr
    assert "13 sent (0 correction(s)), 0 skipped as already sent, 0 failed" in result.stdout

    assert_arrived(recorder, out)
    assert len({r.session for r in recorder.received}) == 1, "one connection carries every message"
    assert recorder.to("jonas@nordwind.example").recipients == [
        "vertrieb@nordwind.example", "jonas@nordwind.example"]

    atlas = recorder.to("partners@atlas-integratie.example")
    assert atlas.subject == ("Your partner statement for March 2025: Atlas Integratie B.V., "
                             "Gold Certified Partner (upgraded from Certified Partner)")
    body = atlas.message.get_body(("plain",)).get_content()
    assert "upgraded from Certified Partner to Gold Certified Partner" in body
    assert "Points: 2,798" in body
    html = atlas.message.get_body(("html",)).get_content()
    assert "<p>Dear Atlas Integratie B.V.,</p>" in html

    lines = log_lines(out)
    assert len(lines) == 13
    p001 = next(line for line in lines if line["key"] == "statement/P001")
    assert p001["checksums"] == {
        name: hashlib.sha256(statement_file(out, name).read_bytes()).hexdigest()
        for name in ("P001.xlsx", "P001.pdf")}
    assert p001["recipients"] == ["partners@alpenblick.example"]
    assert p001["reply"].startswith("250 2.0.0 queued as Q")


def test_o6_downgrades_and_upgrades_are_named_in_subject_and_body(out, server):
    recorder, port = server()
    result = run_email(out, *plain(port), month="2025-02")
    assert result.exit_code == 0, result.output
    nordwind = recorder.to("vertrieb@nordwind.example")
    assert "downgraded from Gold Certified Partner" in nordwind.subject
    assert ("Your status has been downgraded from Gold Certified Partner to Certified Partner."
            in nordwind.message.get_body(("plain",)).get_content())
    assert "(upgraded from Business Partner)" in recorder.to("sales@cedarpoint.example").subject


def login_server(server, **options) -> tuple[Recorder, int, list[tuple[bytes, bytes]]]:
    """A server that accepts only USER with PASSWORD, and notes every login tried."""
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode()),
                          handled=False)

    recorder, port = server(authenticator=authenticator, **options)
    return recorder, port, logins


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_o6_over_tls_with_login(out, server, tls, mode):
    """STARTTLS and implicit TLS (SSL), each with AUTH that the server checks."""
    context, cafile = tls
    # aiosmtpd's auth_require_tls counts only STARTTLS; with SSL the connection is TLS from its
    # first byte, which `tls` below asserts of every message.
    options = ({"tls_context": context, "require_starttls": True, "auth_require_tls": True}
               if mode == "starttls" else {"ssl_context": context, "auth_require_tls": False})
    recorder, port, logins = login_server(server, **options)
    env = {"TIERSHEET_SMTP_HOST": "127.0.0.1", "TIERSHEET_SMTP_PORT": str(port),
           "TIERSHEET_SMTP_TLS": mode, "TIERSHEET_SMTP_USER": USER,
           "TIERSHEET_SMTP_PASSWORD": PASSWORD, "TIERSHEET_SMTP_FROM": SENDER}
    result = run_email(out, "--smtp-cafile", str(cafile), "--to", TEAM, env=env)
    assert result.exit_code == 0, result.output
    assert_arrived(recorder, out)
    assert all(r.tls and r.authenticated for r in recorder.received)
    assert logins == [(USER.encode(), PASSWORD.encode())]

    recorder.received.clear()
    wrong = run_email(out, "--smtp-cafile", str(cafile), "--resend",
                      env={**env, "TIERSHEET_SMTP_PASSWORD": "not-" + PASSWORD})
    assert wrong.exit_code == 1
    assert "535" in wrong.stderr and "12 message(s) not tried:" in wrong.stderr
    assert "  not sent: P001 Alpenblick IT GmbH" in wrong.stderr.splitlines()
    assert len([line for line in wrong.stderr.splitlines() if line.startswith("  not sent: ")]) == 12
    assert recorder.received == [] and logins[-1] == (USER.encode(), ("not-" + PASSWORD).encode())

    dry = run_email(out, "--dry-run", "--resend", "--to", TEAM, env=env)
    assert dry.exit_code == 0, dry.output
    texts = [result.stdout, result.stderr, wrong.stdout, wrong.stderr, dry.stdout, dry.stderr]
    files = list((out / "outbox" / MONTH).iterdir())
    assert {path.suffix for path in files} == {".eml", ".jsonl"} and len(files) == 14
    for secret in (PASSWORD, "not-" + PASSWORD):
        assert not [text for text in texts if secret in text]
        assert not [path for path in files if secret.encode() in path.read_bytes()]


def test_o6_an_untrusted_certificate_stops_before_anything_is_sent(out, server, tls):
    context, _ = tls
    recorder, port = server(ssl_context=context)
    result = run_email(out, "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-tls", "ssl",
                       "--from", SENDER)
    assert result.exit_code == 1
    assert "certificate verify failed" in result.stderr
    assert recorder.received == []


def test_o6_refused_recipient_and_dropped_connection_then_reruns_send_only_what_is_missing(out, server):
    recorder, port = server()
    recorder.refuse = {"jonas@nordwind.example"}
    recorder.drop_once = {"hallo@hanse-digital.example"}
    first = run_email(out, *plain(port), "--to", TEAM)
    assert first.exit_code == 1
    assert "P002 Nordwind Systems GmbH: jonas@nordwind.example: recipient refused: 550" in first.stderr
    assert "P003 Hanse Digital GmbH: hallo@hanse-digital.example: cut off while sending" in first.stderr
    assert "11 sent" in first.stdout and "2 failed" in first.stdout
    assert len(recorder.received) == 12     # the team, 10 partners, and P002's other address
    assert recorder.to("vertrieb@nordwind.example").recipients == ["vertrieb@nordwind.example"]
    assert len({r.session for r in recorder.received}) == 2, "reconnected after the drop"

    recorder.refuse.clear()
    recorder.received.clear()
    second = run_email(out, *plain(port), "--to", TEAM)
    assert second.exit_code == 0, second.output
    assert sorted(r.recipients[0] for r in recorder.received) == [
        "hallo@hanse-digital.example", "jonas@nordwind.example"]
    assert recorder.to("jonas@nordwind.example").recipients == ["jonas@nordwind.example"]
    assert "2 sent (0 correction(s)), 11 skipped as already sent" in second.stdout

    recorder.received.clear()
    third = run_email(out, *plain(port), "--to", TEAM)
    assert third.exit_code == 0
    assert recorder.received == []
    assert "0 sent (0 correction(s)), 13 skipped as already sent" in third.stdout


def test_o6_a_server_that_does_not_answer_fails_that_message_only(out, server):
    recorder, port = server()
    recorder.slow = {"hallo@hanse-digital.example"}
    result = run_email(out, *plain(port), "--smtp-timeout", "1", "--only", "P001", "--only", "P003",
                       "--only", "P004")
    assert result.exit_code == 1
    (line,) = [line for line in result.stderr.splitlines() if "P003" in line]
    assert "hallo@hanse-digital.example: cut off while sending the message" in line and "timed out" in line
    assert sorted(r.recipients[0] for r in recorder.received) == [
        "partners@alpenblick.example", "partnerzy@wisla-soft.example"]


def test_o6_temporary_refusals_are_retried(out, server):
    recorder, port = server()
    recorder.defer_once = {"partners@alpenblick.example"}
    recorder.busy_once = {"hallo@hanse-digital.example"}
    result = run_email(out, *plain(port), "--only", "P001", "--only", "P003")
    assert result.exit_code == 0, result.output
    assert sorted(r.recipients[0] for r in recorder.received) == [
        "hallo@hanse-digital.example", "partners@alpenblick.example"]


def test_o6_refused_recipients_never_stop_the_mailing(out, server):
    """Twelve refusals in a row (5xx to RCPT) are twelve messages' problems, not the server's."""
    recorder, port = server()
    refused = [f"gone{n:02}@tiersheet.example" for n in range(12)]
    recorder.refuse = set(refused)
    to = [arg for address in refused for arg in ("--to", address)]
    first = run_email(out, *plain(port), *to, "--to", TEAM)
    assert first.exit_code == 1
    failed = [line for line in first.stderr.splitlines() if "failed: channel workbook to gone" in line]
    assert len(failed) == 12 and all("recipient refused: 550 5.1.1" in line for line in failed)
    assert "stopped" not in first.stderr and "not sent" not in first.stderr
    assert "13 sent (0 correction(s)), 0 skipped as already sent, 12 failed" in first.stdout
    assert_arrived(recorder, out)   # the team and every partner, after the twelve

    recorder.refuse.clear()
    recorder.received.clear()
    second = run_email(out, *plain(port), *to, "--to", TEAM)
    assert second.exit_code == 0, second.output
    assert sorted(r.recipients[0] for r in recorder.received) == refused
    assert "12 sent (0 correction(s)), 13 skipped as already sent" in second.stdout


def test_o6_a_recipient_deferred_every_time_fails_after_the_retries(out, server, monkeypatch):
    """451 on every attempt: retried after each pause of the backoff, then reported with the
    number of attempts; the others go, and a re-run sends it once the server accepts it."""
    monkeypatch.setattr(smtp_module, "BACKOFF", (0.05, 0.1, 0.2))
    recorder, port = server()
    recorder.defer_always = {"hallo@hanse-digital.example"}
    first = run_email(out, *plain(port), "--only", "P001", "--only", "P003", "--only", "P004")
    assert first.exit_code == 1
    assert ("failed: P003 Hanse Digital GmbH: hallo@hanse-digital.example: recipient deferred: "
            "451 4.3.0 greylisted, try later (gave up after 4 attempts)") in first.stderr
    assert sorted(r.recipients[0] for r in recorder.received) == [
        "partners@alpenblick.example", "partnerzy@wisla-soft.example"]
    assert len(recorder.deferred_at) == 4
    pauses = [later - earlier for earlier, later in zip(recorder.deferred_at, recorder.deferred_at[1:])]
    assert all(pause >= wanted for pause, wanted in zip(pauses, (0.05, 0.1, 0.2))), pauses
    assert "2 sent (0 correction(s)), 0 skipped as already sent, 1 failed" in first.stdout

    recorder.defer_always.clear()
    recorder.received.clear()
    second = run_email(out, *plain(port), "--only", "P001", "--only", "P003", "--only", "P004")
    assert second.exit_code == 0, second.output
    assert [r.recipients for r in recorder.received] == [["hallo@hanse-digital.example"]]
    assert "1 sent (0 correction(s)), 2 skipped as already sent" in second.stdout


def test_o6_a_server_that_hangs_up_on_every_message_stops_the_mailing(out, server):
    """When the connection fails for message after message, with no reply, the server is the
    problem: the mailing stops, names every message it did not send, and a re-run sends them."""
    recorder, port = server()
    recorder.hang_up = True
    first = run_email(out, *plain(port), "--to", TEAM)
    assert first.exit_code == 1
    lines = first.stderr.splitlines()
    assert len([line for line in lines if "connection lost before the message was sent" in line
                and "(gave up after 4 attempts)" in line]) == 5
    assert (f"  stopped: the connection to 127.0.0.1:{port} failed for 5 messages in a row; "
            "8 message(s) not tried:") in lines
    untried = [line.removeprefix("  not sent: ") for line in lines if line.startswith("  not sent: ")]
    assert untried == ["P005 Lumière Logiciels SARL", "P006 Cedar Point Solutions Ltd",
                       "P007 Adriatic Cloud d.o.o.", "P008 Danube Web Kft.", "P009 Iberia Sistemas S.L.",
                       "P010 Vltava Apps s.r.o.", "P011 Nordic Pixel AB", "P013 Atlas Integratie B.V."]
    assert recorder.received == []

    recorder.hang_up = False
    second = run_email(out, *plain(port), "--to", TEAM)
    assert second.exit_code == 0, second.output
    assert_arrived(recorder, out)


def test_o6_a_changed_statement_is_sent_again_as_a_correction(out, server):
    recorder, port = server()
    assert run_email(out, *plain(port)).exit_code == 0
    recorder.received.clear()

    changed = statement_file(out, "P004.xlsx")
    book = openpyxl.load_workbook(changed)
    book.active["A3"] = "corrected"
    book.save(changed)
    result = run_email(out, *plain(port))
    assert result.exit_code == 0, result.output
    (received,) = recorder.received
    assert received.recipients == ["partnerzy@wisla-soft.example"]
    assert received.subject.startswith("Correction: Your partner statement for March 2025: Wisła")
    assert "This replaces the statement sent on" in received.message.get_body(("plain",)).get_content()
    assert received.attachments()["P004.xlsx"][1] == changed.read_bytes()
    assert "1 sent (1 correction(s)), 11 skipped" in result.stdout

    recorder.received.clear()
    resend = run_email(out, *plain(port), "--resend")
    assert resend.exit_code == 0
    assert len(recorder.received) == 12
    assert not [r for r in recorder.received if "Correction" in r.subject]


def test_o6_invalid_addresses_are_reported_and_the_rest_still_go(out, server):
    index = statement_file(out, "index.csv")
    text = index.read_text(encoding="utf-8")
    text = text.replace("contact@lumiere-logiciels.example", "contact@lumiere-logiciels.example; not an address")
    text = text.replace("sales@cedarpoint.example", "sales@@cedarpoint")
    index.write_text(text, encoding="utf-8")
    recorder, port = server()
    result = run_email(out, *plain(port))
    assert result.exit_code == 1
    assert "invalid address: P005 Lumière Logiciels SARL: 'not an address'" in result.stderr
    assert "invalid address: P006 Cedar Point Solutions Ltd: 'sales@@cedarpoint'" in result.stderr
    assert recorder.to("contact@lumiere-logiciels.example").recipients == ["contact@lumiere-logiciels.example"]
    assert len(recorder.received) == 11


def test_o6_a_line_cut_short_in_the_send_log_is_ignored(out, server):
    recorder, port = server()
    assert run_email(out, *plain(port), "--only", "P001").exit_code == 0
    log = out / "outbox" / MONTH / "send-log.jsonl"
    with open(log, "a", encoding="utf-8") as handle:
        handle.write('{"time": "2025-04-0')       # a crash mid-line
    recorder.received.clear()
    result = run_email(out, *plain(port), "--only", "P001", "--only", "P002")
    assert result.exit_code == 0, result.output
    assert [r.recipients[0] for r in recorder.received] == ["vertrieb@nordwind.example"]
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[1] == '{"time": "2025-04-0'
    assert [json.loads(line)["key"] for line in lines[2:]] == ["statement/P002"]


# --- dry run, templates, usage ----------------------------------------------------------------

def test_o6_dry_run_writes_one_parseable_eml_per_message_and_sends_nothing(out):
    result = run_email(out, "--dry-run", "--to", TEAM, "--to", "Board <board@tiersheet.example>",
                       "--from", SENDER)
    assert result.exit_code == 0, result.output
    outbox = out / "outbox" / MONTH
    files = sorted(path.name for path in outbox.iterdir())
    assert len(files) == 14 and "send-log.jsonl" not in files
    assert "channel-board@tiersheet.example.eml" in files
    for name in files:
        message = email.message_from_bytes((outbox / name).read_bytes(), policy=email.policy.default)
        assert message["From"] == SENDER
        attachments = {part.get_filename(): part for part in message.iter_attachments()}
        for filename, part in attachments.items():
            on_disk = (out / filename if filename.startswith("tiersheet-")
                       else statement_file(out, filename))
            assert part.get_content() == on_disk.read_bytes()
        assert message.get_body(("plain",)) is not None
    p001 = email.message_from_bytes((outbox / "statement-P001.eml").read_bytes(), policy=email.policy.default)
    assert p001["To"] == "partners@alpenblick.example"
    assert [(p.get_filename(), p.get_content_type()) for p in p001.iter_attachments()] == [
        ("P001.xlsx", XLSX), ("P001.pdf", "application/pdf")]
    assert "14 .eml file(s) written" in result.stdout


def test_o6_subjects_read_back_exactly_as_written(out):
    """A subject of 70 to 77 characters fits on a line alone but not after "Subject: "; the email
    package used to fold it whole onto the next line, and it read back with a leading space."""
    result = run_email(out, "--dry-run", "--to", TEAM, "--from", SENDER)
    assert result.exit_code == 0, result.output
    outbox = out / "outbox" / MONTH
    for key in SUBJECTS:
        name = "channel-" + TEAM if key == TEAM else "statement-" + key
        raw = (outbox / f"{name}.eml").read_bytes()
        assert b"\r\nSubject:\r\n" not in raw, name
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["Subject"] == expected_subject(key), name
    assert len(expected_subject("P008")) in range(70, 78)   # the case that used to fold


def test_o6_a_dry_run_without_a_sender_writes_the_messages_and_says_sending_needs_one(out, server):
    """Like the SMTP server, the sender is a setting of the send: a dry run to read the wording
    needs neither, but says once, on stderr, that the .eml files have no From line; the real
    send refuses to start without one (usage error, exit 2)."""
    result = run_email(out, "--dry-run", "--to", TEAM)
    assert result.exit_code == 0, result.output
    note = ("Note: no sender is set (--from or TIERSHEET_SMTP_FROM): the .eml files have no From "
            "line, and sending will need one")
    assert result.stderr.count(note) == 1 and result.stderr.count("sender") == 1
    outbox = out / "outbox" / MONTH
    assert len(list(outbox.glob("*.eml"))) == 13
    assert all(email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["From"] is None
               for path in outbox.glob("*.eml"))

    given = run_email(out, "--dry-run", "--to", TEAM, env={"TIERSHEET_SMTP_FROM": SENDER})
    assert given.exit_code == 0 and "sender" not in given.stderr
    recorder, port = server()
    send = run_email(out, "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-tls", "none")
    assert send.exit_code == 2 and "no sender: give --from or set TIERSHEET_SMTP_FROM" in send.stderr
    assert recorder.received == []


def test_o6_a_dry_run_replaces_the_earlier_dry_runs_messages_and_nothing_else(out, server):
    recorder, port = server()
    assert run_email(out, *plain(port), "--only", "P002").exit_code == 0   # a send log
    outbox = out / "outbox" / MONTH
    assert run_email(out, "--dry-run", "--to", TEAM, "--from", SENDER).exit_code == 0
    assert len(list(outbox.glob("*.eml"))) == 12   # P002 was sent: the team and 11 partners
    (outbox / "mine.eml").write_bytes(b"From: me@example.com\r\nSubject: my own draft\r\n\r\nhi\r\n")
    (outbox / "notes.txt").write_text("kept", encoding="utf-8")
    log = (outbox / "send-log.jsonl").read_bytes()

    result = run_email(out, "--dry-run", "--only", "P004", "--from", SENDER)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in outbox.iterdir()) == [
        "mine.eml", "notes.txt", "send-log.jsonl", "statement-P004.eml"]
    assert (outbox / "send-log.jsonl").read_bytes() == log
    assert "1 .eml file(s) written" in result.stdout


def test_o6_a_template_rewords_the_message(out, tmp_path):
    template = tmp_path / "mine.txt"
    template.write_text("# ours\nSubject: $partner_name is $status in $month_iso\n\n"
                        "Hello $partner_name, $$5 off: $next_step\n", encoding="utf-8")
    result = run_email(out, "--dry-run", "--only", "P004", "--template", str(template))
    assert result.exit_code == 0, result.output
    message = email.message_from_bytes((out / "outbox" / MONTH / "statement-P004.eml").read_bytes(),
                                       policy=email.policy.default)
    assert message["Subject"] == "Wisła Software Sp. z o.o. is Certified Partner in 2025-03"
    assert message.get_body(("plain",)).get_content().startswith(
        "Hello Wisła Software Sp. z o.o., $5 off: You need 699 more points for Gold Certified Partner.")


def test_o6_unknown_placeholders_are_a_usage_error_naming_them(out, tmp_path):
    template = tmp_path / "typo.txt"
    template.write_text("Subject: $partner for $month\n\nDear $partner_name, $pionts\n", encoding="utf-8")
    result = run_email(out, "--dry-run", "--template", str(template))
    assert result.exit_code == 2
    assert "unknown placeholder(s) $partner, $pionts" in result.stderr
    assert "$closing_points" in result.stderr and "$partner_name" in result.stderr
    template.write_text("Dear $partner_name\n", encoding="utf-8")
    assert "Subject: ..." in run_email(out, "--dry-run", "--template", str(template)).stderr


def test_o6_missing_statements_say_which_run_makes_them(out):
    result = run_email(out, "--dry-run", month="2025-01")
    assert result.exit_code == 2
    assert f"no statements for 2025-01 in {out}: run `tiersheet run INBOX --out {out}" in result.stderr
    assert "--statements" in result.stderr


@pytest.mark.parametrize("args, message", [
    ([], "no SMTP server"),
    (["--smtp-host", "127.0.0.1"], "no sender"),
    (["--dry-run", "--to", "team at example"], "--to 'team at example' is not an email address"),
    (["--dry-run", "--only", "P999"], "--only: no statement for P999"),
    (["--smtp-host", "127.0.0.1", "--from", SENDER, "--smtp-user", "u"], "needs a password"),
])
def test_o6_usage_errors_exit_2_with_one_line(out, args, message):
    result = run_email(out, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_o6_help_has_an_example():
    result = CliRunner().invoke(main, ["email", "--help"])
    assert result.exit_code == 0
    assert "tiersheet email out --month 2025-03 --to team@example.com" in result.output
    assert "--smtp-cafile" not in result.output
    printed = CliRunner().invoke(main, ["email", "--print-template"])
    assert printed.exit_code == 0 and printed.output.count("Subject:") >= 1


# --- the words, on what `run --statements all` wrote for the samples' three months -------------

@pytest.fixture(scope="module")
def mailed(tmp_path_factory) -> tuple[Path, dict[str, dict[str, email.message.EmailMessage]]]:
    """OUT as `run` wrote it, and each month's dry-run messages by partner ID."""
    out = tmp_path_factory.mktemp("routine")
    assert CliRunner().invoke(main, ["run", str(SAMPLES), "--out", str(out), "--statements", "all",
                                     "-q"]).exit_code == 0
    messages = {}
    for month in ("2025-01", "2025-02", MONTH):
        result = run_email(out, "--dry-run", "--from", SENDER, month=month)
        assert result.exit_code == 0, result.output
        messages[month] = {path.stem.removeprefix("statement-"):
                           email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                           for path in (out / "outbox" / month).glob("statement-*.eml")}
    return out, messages


def body(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_o6_r10_points_add_up_for_every_partner_of_every_month(mailed):
    """opening + sales + bonus + activities + adjustments + the month close = closing, in every
    message, and the month close is the Ledger's "Month close" line (R10's reset, R3's floor)."""
    out, messages = mailed
    line = re.compile(r"Points: ([\d,]+) \(opening ([\d,]+), sales (-?[\d,]+), bonus (-?[\d,]+), "
                      r"activities (-?[\d,]+), adjustments (-?[\d,]+)(?:, [a-zA-Z0-9 ]+ ([+-][\d,]+))?\)")
    checked = 0
    for month, by_partner in messages.items():
        book = openpyxl.load_workbook(out / f"tiersheet-{month}.xlsx", read_only=True, data_only=True)
        header, *rows = book["Ledger"].iter_rows(values_only=True)
        closes = {row[0]: row[header.index("Points")] for row in rows
                  if row[header.index("Source")] == "Month close"}
        book.close()
        assert set(by_partner) == set(partner_addresses(out, month)) and len(by_partner) >= 12
        for partner_id, message in by_partner.items():
            (found,) = line.findall(body(message))
            closing, *movements = (int(figure.replace(",", "") or 0) for figure in found)
            assert sum(movements) == closing, (month, partner_id, found)
            assert movements[-1] == closes.get(partner_id, 0), (month, partner_id)
            checked += 1
    assert checked == 12 + 13 + 13
    assert ("Points: 500 (opening 2,728, sales 59, bonus 0, activities 0, adjustments 0, "   # by hand:
            "reset to the Certified Partner threshold -2,287)"                              # 2728 + 59
            in body(messages["2025-02"]["P002"]))                                          # - 2287 = 500


def test_o6_r10_a_lapsed_certificate_is_said_to_have_expired_and_what_renews_it(mailed):
    _, messages = mailed
    lapsed = body(messages[MONTH]["P010"])
    assert ("Your Business Partner certificate expired on 2025-03-05 and was not renewed: the "
            "Business Partner requirements are not met.") in lapsed
    assert "Certificate: expired on 2025-03-05" in lapsed and "valid until" not in lapsed
    assert "To keep your" not in lapsed
    assert ("To have your Business Partner certificate renewed, please see to: Non-disclosure agreement."
            in lapsed)
    assert "Certificate: valid until 2026-03-20" in body(messages[MONTH]["P001"])


def test_o6_r10_a_downgraded_partner_reads_what_regains_its_status(mailed):
    _, messages = mailed
    downgraded = body(messages["2025-02"]["P002"])
    assert "Your status has been downgraded from Gold Certified Partner to Certified Partner." in downgraded
    assert ("To regain Gold Certified Partner, you need 1,500 more points. Still missing for Gold "
            "Certified Partner: Certified Bitrix engineers: 1 of 2.") in downgraded
    assert "Certificate: valid until 2026-02-28" in downgraded and "To keep your" not in downgraded
    assert "You need 1,401 more points for Gold Certified Partner." in body(messages[MONTH]["P002"])


def test_o6_templates_written_for_the_earlier_placeholders_still_work(out, tmp_path):
    template = tmp_path / "old.txt"
    template.write_text("Subject: $partner_name, $status\n\nCertificate valid until: $certificate_expires\n"
                        "$risk_note\nPoints: $closing_points (adjustments $adjustment_points)\n",
                        encoding="utf-8")
    result = run_email(out, "--dry-run", "--only", "P010", "--template", str(template))
    assert result.exit_code == 0, result.output
    message = email.message_from_bytes((out / "outbox" / MONTH / "statement-P010.eml").read_bytes(),
                                       policy=email.policy.default)
    assert body(message).splitlines() == [
        "Certificate valid until: 2025-03-05",
        "To have your Business Partner certificate renewed, please see to: Non-disclosure agreement.",
        "Points: 206 (adjustments 0)"]


# --- pieces -------------------------------------------------------------------------------------

def test_addresses_split_on_commas_and_semicolons_outside_quotes():
    valid, invalid = parse_addresses('a@x.example; "Doe, J" <j@x.example>,b@y.example;;A@X.EXAMPLE')
    assert [a.addr_spec for a in valid] == ["a@x.example", "j@x.example", "b@y.example"]
    assert valid[1].display_name == "Doe, J" and invalid == []
    for bad in ("not an address", "a@", "@b.example", "a@b@c.example", "info@acme", "a b@c.example",
                "a@x.example junk"):
        assert parse_addresses(bad) == ([], [bad]), bad
    ([idn], _) = parse_addresses("info@żółw.example")
    assert idn.addr_spec == "info@xn--w-uga1v8h.example"


def test_statement_values_say_what_changed():
    row = {"Partner ID": "P1", "Partner": "One", "Opening status": "Gold Certified Partner",
           "Opening points": 2100, "Sales points": 0, "Bonus points": 0, "Activity points": 0,
           "Closing points": 500, "Status": "Certified Partner", "Change": "Downgrade",
           "Margin %": 0.45, "Next status": "Gold Certified Partner", "Points to next": 1500,
           "Missing for status": None, "Missing for next": "Quarterly forecasting",
           "Certificate expires": None, "At risk": "no"}
    values = statement_values("March 2025", "2025-03", row, "P1.xlsx", "")
    assert values["status_summary"] == "Certified Partner (downgraded from Gold Certified Partner)"
    assert values["margin"] == "45%" and values["adjustment_points"] == "0"
    assert values["next_step"] == ("To regain Gold Certified Partner, you need 1,500 more points. "
                                   "Still missing for Gold Certified Partner: Quarterly forecasting.")
    assert values["month_close_points"] == "-1,600"   # 2,100 reset to 500
    assert values["month_close_note"] == ", reset to the Certified Partner threshold -1,600"
    assert values["certificate_status"] == "" and values["risk_note"] == ""


def test_r3_a_balance_kept_from_going_below_0_is_in_the_points_line():
    row = {"Partner ID": "P1", "Partner": "One", "Opening status": "Business Partner",
           "Opening points": 10, "Sales points": -50, "Bonus points": -40, "Activity points": 0,
           "Adjustment points": 0, "Closing points": 0, "Status": "Business Partner", "Change": None,
           "Margin %": 0.4, "Next status": "Certified Partner", "Points to next": 500,
           "Missing for status": None, "Missing for next": None,
           "Certificate expires": datetime(2025, 4, 1), "At risk": "no"}
    values = statement_values("March 2025", "2025-03", row, "P1.xlsx", "")
    assert (values["month_close_points"], values["month_close_note"]) == ("80", ", raised to 0 at month close +80")
    assert values["certificate_status"] == "valid until 2025-04-01"
    row["Certificate expires"] = datetime(2025, 3, 31)   # the month's last day: expired at this close
    assert statement_values("March 2025", "2025-03", row, "P1.xlsx", "")["certificate_status"] == (
        "expired on 2025-03-31")


def test_o6_one_mailing_of_a_month_at_a_time(out, server):
    from tiersheet.mailer.sendlog import SendLog

    recorder, port = server()
    with SendLog(out / "outbox" / MONTH / "send-log.jsonl"):
        result = run_email(out, *plain(port))
    assert result.exit_code == 1
    assert "another `tiersheet email` is sending this month" in result.stderr
    assert recorder.received == []


def test_i8_index_file_names_never_leave_the_statements_folder(out):
    index = statement_file(out, "index.csv")
    index.write_text(index.read_text(encoding="utf-8").replace("P004.xlsx", "../../tiersheet-2025-03.xlsx"),
                     encoding="utf-8")
    result = run_email(out, "--dry-run")
    assert result.exit_code == 1
    assert "'../../tiersheet-2025-03.xlsx' is not a file name in" in result.stderr
