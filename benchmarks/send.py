"""Speed of `tiersheet email`: N statements, each a small .xlsx, sent to a local SMTP server.

    python benchmarks/send.py                 # 10,000 messages
    python benchmarks/send.py --messages 1000
    python benchmarks/send.py --out OUT       # the statements a real run wrote (its last month)

Builds a month's outputs as `tiersheet run` writes them (a channel workbook whose Partners sheet
has N partners, N statements and index.csv) in a temporary folder, or takes a copy of a real
run's output folder (`--out`, e.g. the full-scale benchmark's, kept by `run.py --keep`), starts aiosmtpd on 127.0.0.1
in a child process (so that the server does not share the sender's interpreter), and times
the mailer's own entry point (`send_month`, what the command runs) three ways: sending
everything, a re-run that finds everything in the send log, and a dry run writing .eml files.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import openpyxl

from tiersheet.mailer import SmtpSettings, send_month
from tiersheet.mailer.sources import PARTNER_HEADERS

MONTH = date(2025, 3, 1)


def serve() -> None:
    """Child process: an aiosmtpd server that counts what it accepts until stdin closes."""
    from aiosmtpd.controller import Controller

    class Counter:
        messages = 0

        async def handle_DATA(self, server, session, envelope):
            Counter.messages += 1
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()
    print(Counter.messages, flush=True)


def make_outputs(out: Path, partners: int) -> None:
    """The month's channel workbook and statements folder for `partners` partners."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Partners")
    sheet.append(PARTNER_HEADERS)
    for number in range(1, partners + 1):
        sheet.append([f"P{number:05d}", f"Partner {number} GmbH", "Business Partner", 100, 50, 50,
                      0, 200, "Certified Partner" if number % 10 == 0 else "Business Partner",
                      "Upgrade" if number % 10 == 0 else None, 0.4, "Certified Partner", 300,
                      None, "1st line support", datetime(2026, 3, 31), "no"])
    book.save(out / f"tiersheet-{MONTH:%Y-%m}.xlsx")

    folder = out / "statements" / f"{MONTH:%Y-%m}"
    folder.mkdir(parents=True)
    statement = openpyxl.Workbook()
    statement.active.append(["Partner", "Closing points", "Status"])
    statement.active.append(["Partner 1 GmbH", 200, "Business Partner"])
    statement.save(folder / "template.xlsx")
    with open(folder / "index.csv", "w", newline="", encoding="utf-8") as handle:
        index = csv.writer(handle)
        index.writerow(["partner_id", "partner_name", "email", "file", "pdf"])
        for number in range(1, partners + 1):
            name = f"P{number:05d}.xlsx"
            shutil.copyfile(folder / "template.xlsx", folder / name)
            index.writerow([f"P{number:05d}", f"Partner {number} GmbH",
                            f"partner{number}@bench.example", name, ""])
    (folder / "template.xlsx").unlink()


def timed(label: str, count: int, **options) -> object:
    started = time.perf_counter()
    report = send_month(**options)
    seconds = time.perf_counter() - started
    print(f"{label:<28} {seconds:7.2f} s  {count / seconds:8.0f} messages/s   ({report.summary().splitlines()[0]})")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="a run's output folder: send its last month's statements")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve()

    with tempfile.TemporaryDirectory() as temp:
        out = Path(temp) / "out"
        started = time.perf_counter()
        if args.out:  # a copy, so that the send log and outbox do not land in the real folder
            month_name = sorted(p.name for p in (args.out / "statements").iterdir())[-1]
            month = date(int(month_name[:4]), int(month_name[5:]), 1)
            (out / "statements").mkdir(parents=True)
            shutil.copytree(args.out / "statements" / month_name, out / "statements" / month_name)
            shutil.copyfile(args.out / f"tiersheet-{month_name}.xlsx", out / f"tiersheet-{month_name}.xlsx")
            with open(out / "statements" / month_name / "index.csv", encoding="utf-8") as handle:
                messages = sum(1 for row in csv.DictReader(handle) if row["email"])
            sizes = [p.stat().st_size for p in (out / "statements" / month_name).glob("*.xlsx")]
            print(f"{len(sizes):,} statements of {args.out} ({month_name}; {sum(sizes) / len(sizes) / 1024:.1f} KiB "
                  f"each on average), {messages:,} with an address; copied in {time.perf_counter() - started:.1f} s")
        else:
            out.mkdir()
            month, messages = MONTH, args.messages
            make_outputs(out, messages)
            print(f"{messages:,} statements written in {time.perf_counter() - started:.1f} s")
        server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline())
            smtp = SmtpSettings("127.0.0.1", port, "none")
            common = dict(out=out, month=month, sender="channel@bench.example", smtp=smtp)
            report = timed("send", messages, **common)
            timed("re-run (all in the send log)", messages, **common)
            timed("dry run (.eml files)", messages, dry_run=True, resend=True, out=out, month=month)
        finally:
            server.stdin.close()
            received = int(server.stdout.read() or 0)
            server.wait(timeout=30)
        print(f"server received {received:,} messages")
        assert received == report.sent == messages, "every message must arrive exactly once"


if __name__ == "__main__":
    main()
