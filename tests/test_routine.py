"""The monthly routine end to end (issue 9): `run` writes the statements, `email` sends exactly
those files, to each partner its own, as a partner would receive them."""

from __future__ import annotations

import csv
import email
import email.policy
from datetime import date

import openpyxl
from click.testing import CliRunner

from tiersheet.cli import main

from test_cli import SAMPLES, write_inbox

SMTP_ENV = ["TIERSHEET_SMTP_HOST", "TIERSHEET_SMTP_PORT", "TIERSHEET_SMTP_TLS", "TIERSHEET_SMTP_USER",
            "TIERSHEET_SMTP_PASSWORD", "TIERSHEET_SMTP_FROM"]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), env={name: None for name in SMTP_ENV}, catch_exceptions=False)


def messages(outbox):
    return {path.name: email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(outbox.glob("*.eml"))}


def test_o5_o6_run_then_email_sends_each_partner_its_own_real_statement(tmp_path):
    out = tmp_path / "out"
    assert invoke("run", str(SAMPLES), "--out", str(out), "-q").exit_code == 0
    result = invoke("email", str(out), "--month", "2025-03", "--dry-run", "--from", "channel@example.com",
                    "--to", "team@example.com")
    assert result.exit_code == 0, result.output
    sent = messages(out / "outbox" / "2025-03")
    with (out / "statements" / "2025-03" / "index.csv").open(encoding="utf-8", newline="") as handle:
        index = list(csv.DictReader(handle))
    statements = [name for name in sent if name.startswith("statement-")]
    assert len(index) == 13  # one statement per partner in the programme
    assert sorted(statements) == sorted(f"statement-{row['partner_id']}.eml" for row in index if row["email"])
    for name in statements:
        message = sent[name]
        [attachment] = [part for part in message.iter_attachments()]
        partner_id = attachment.get_filename().removesuffix(".xlsx")
        on_disk = out / "statements" / "2025-03" / attachment.get_filename()
        assert attachment.get_content() == on_disk.read_bytes()
        statement = openpyxl.load_workbook(on_disk, read_only=True, data_only=True)["Statement"]
        text = " ".join(str(v) for row in statement.iter_rows(values_only=True) for v in row if v)
        assert f"({partner_id})" in text and message["Subject"].count("March 2025") == 1
    [team] = [m for name, m in sent.items() if name.startswith("channel-")]
    assert [p.get_filename() for p in team.iter_attachments()] == ["tiersheet-2025-03.xlsx"]


def test_o6_a_partner_id_that_index_csv_neutralises_still_gets_its_statement(tmp_path):
    """index.csv writes '@home as text a spreadsheet will not run (I8); the mailer reads back @home."""
    inbox = write_inbox(tmp_path / "inbox", [["S1", "@home", date(2025, 1, 5), 330]],
                        partners=[["@home", "At Home GmbH", "yes", "yes"]])
    book = openpyxl.load_workbook(inbox / "export.xlsx")
    book["Partners"]["E1"] = "Email"
    book["Partners"]["E2"] = "info@athome.example"
    book.save(inbox / "export.xlsx")
    out = tmp_path / "out"
    assert invoke("run", str(inbox), "--out", str(out), "-q").exit_code == 0
    index = (out / "statements" / "2025-01" / "index.csv").read_text(encoding="utf-8")
    assert "'@home" in index
    result = invoke("email", str(out), "--month", "2025-01", "--dry-run", "--from", "channel@example.com")
    assert result.exit_code == 0, result.output
    [message] = messages(out / "outbox" / "2025-01").values()
    assert message["To"] == "info@athome.example"
    assert "At Home GmbH" in message.get_body(("plain",)).get_content()
