"""The send log: one JSON line per delivered message in OUT/outbox/YYYY-MM/send-log.jsonl.

A line is appended, flushed and fsynced as soon as the server has accepted a message, so an
interruption never loses what was delivered; a line cut short by a crash is ignored on reading.
The log records recipients, attachment checksums, time and the server's reply: never the SMTP
password, which the mailer does not hand to this module."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from ..outputs import write_text
from .errors import MailError

try:
    import fcntl
except ImportError:   # Windows: no lock, one mailing at a time is then up to the user
    fcntl = None


@dataclass(frozen=True)
class Entry:
    key: str                       # "statement/<partner ID>" or "channel/<address>"
    recipients: tuple[str, ...]
    checksums: dict[str, str]      # attachment file name -> SHA-256
    time: str
    subject: str = ""
    reply: str = ""


class SendLog:
    """What earlier runs delivered for one month, and the place this run appends to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, list[Entry]] = {}
        self.damaged = 0   # lines that could not be read (a crash mid-line)
        self._handle: IO[str] | None = None
        self._read()

    def _read(self) -> None:
        self.entries, self.damaged = {}, 0
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                self._load(line)

    def _load(self, line: str) -> None:
        if not line.strip():
            return
        try:
            record = json.loads(line)
            entry = Entry(str(record["key"]), tuple(record["recipients"]), dict(record["checksums"]),
                          str(record["time"]), str(record.get("subject", "")),
                          str(record.get("reply", "")))
        except (ValueError, KeyError, TypeError):
            self.damaged += 1
            return
        self.entries.setdefault(entry.key, []).append(entry)

    def last_versions(self, key: str) -> dict[str, dict[str, str]]:
        """Per recipient, the checksums of the latest version delivered to them."""
        latest: dict[str, dict[str, str]] = {}
        for entry in self.entries.get(key, []):
            for recipient in entry.recipients:
                latest[recipient.lower()] = entry.checksums
        return latest

    def replaced(self, key: str, checksums: dict[str, str]) -> str | None:
        """When the latest other version of `key` was delivered, if one was."""
        times = [entry.time for entry in self.entries.get(key, []) if entry.checksums != checksums]
        return times[-1] if times else None

    def open(self) -> "SendLog":
        """Open for appending, created with ordinary permissions; a second mailing of the same
        month at the same time is refused rather than allowed to send twice."""
        if not self.path.exists():
            write_text(self.path, "")
        try:
            self._handle = open(self.path, "a", encoding="utf-8")
            if fcntl is not None:
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            with open(self.path, "rb") as existing:   # end a line cut short, so ours stay whole
                if existing.seek(0, os.SEEK_END):
                    existing.seek(-1, os.SEEK_END)
                    if existing.read(1) != b"\n":
                        self._handle.write("\n")
            self._read()   # what another mailing appended before we held the lock
        except BlockingIOError:
            self.close()
            raise MailError(f"another `tiersheet email` is sending this month ({self.path} is locked)") from None
        except OSError as exc:
            self.close()
            raise MailError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return self

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()   # closing releases the lock
            self._handle = None

    def __enter__(self) -> "SendLog":
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def append(self, key: str, recipients: list[str], checksums: dict[str, str], subject: str,
               reply: str) -> Entry:
        """Record one delivery durably before anything else happens."""
        entry = Entry(key, tuple(recipients), checksums,
                      datetime.now().astimezone().isoformat(timespec="seconds"), subject, reply)
        record = {"time": entry.time, "key": key, "recipients": recipients, "subject": subject,
                  "checksums": checksums, "reply": reply}
        assert self._handle is not None, "open the send log before appending"
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.entries.setdefault(key, []).append(entry)
        return entry
