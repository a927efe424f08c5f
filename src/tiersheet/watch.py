"""`tiersheet watch`: run again whenever the inbox's files change and then settle (SPEC O7).

A shared folder sees files arrive in pieces: a browser's partial download, Excel's lock file
(`~$book.xlsx`), a copy that takes a while. So a change is acted on only once the inbox's files
have stopped changing for a few seconds (their sizes and modification times stay the same),
and files that are never inputs (lock files, temporary and partial downloads, hidden files)
are ignored. watchfiles does the watching (with its debounce); each run is the same run as
`tiersheet run`, and a failed run is logged and the watching goes on.

Ctrl-C or SIGTERM stops it cleanly: a run in progress is abandoned, and since every output is
written to a temporary name and renamed when complete, no half-written file is left.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

# Names that are never inputs: Office lock files (~$x.xlsx), LibreOffice's (.~lock.x.xlsx#),
# hidden files, editors' backups (x~), and downloads or copies still under way.
IGNORED_NAME = re.compile(r"^(~\$|\.)|~$|\.(tmp|temp|part|partial|crdownload|download|opdownload|!ut)$",
                          re.IGNORECASE)

Snapshot = dict[str, tuple[int, int]]  # relative path -> (size, modification time in ns)


class Stopped(BaseException):
    """SIGTERM: stop watching (a BaseException, like KeyboardInterrupt, so that nothing on the
    way out mistakes it for a failed run)."""


def is_input_candidate(path: Path, inbox: Path, out: Path | None = None) -> bool:
    """Could this file be an input? Not when ignored by name, hidden, or in the output folder."""
    try:
        parts = path.relative_to(inbox).parts
    except ValueError:
        return False
    if out is not None and path.resolve().is_relative_to(out.resolve()):
        return False
    return bool(parts) and not any(IGNORED_NAME.search(part) for part in parts)


def snapshot(inbox: Path, out: Path | None = None) -> Snapshot:
    """The inbox's candidate input files as they are now."""
    files: Snapshot = {}
    for path in inbox.rglob("*"):
        if not is_input_candidate(path, inbox, out):
            continue
        try:
            status = path.stat()
        except OSError:  # gone between listing and looking
            continue
        if path.is_file():
            files[path.relative_to(inbox).as_posix()] = (status.st_size, status.st_mtime_ns)
    return files


def describe(before: Snapshot, after: Snapshot) -> str:
    """'added a.xlsx; changed b.csv; removed c.xlsx' (or 'no files' for an empty inbox)."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(name for name in set(before) & set(after) if before[name] != after[name])
    parts = [f"{verb} {', '.join(names)}" for verb, names in
             (("added", added), ("changed", changed), ("removed", removed)) if names]
    return "; ".join(parts) or "no change"


def settled(inbox: Path, quiet_seconds: float, out: Path | None = None,
            sleep: Callable[[float], None] = time.sleep) -> Snapshot:
    """Wait until the inbox's files have not changed for `quiet_seconds`; return them."""
    current = snapshot(inbox, out)
    while True:
        sleep(quiet_seconds)
        latest = snapshot(inbox, out)
        if latest == current:
            return latest
        current = latest


@dataclass
class RunLine:
    """What one run did, for the log's one line."""
    ok: bool
    result: str          # "3 month(s), 8 problem(s)" or the error's message
    written: list[Path]  # the channel workbooks
    statements: int = 0  # partner statements written


def log_line(when: datetime, change: str, run: RunLine, seconds: float) -> str:
    files = ", ".join(path.name for path in run.written) or "nothing"
    if run.statements:
        files += f" and {run.statements} partner statements"
    status = "ok" if run.ok else "FAILED"
    return f"{when:%Y-%m-%d %H:%M:%S}  {change}  ->  {status}: {run.result}; wrote {files} ({seconds:.1f}s)"


def watch(inbox: Path, out: Path, run_once: Callable[[], RunLine], log: Callable[[str], None],
          quiet_seconds: float = 3.0, once: bool = False) -> None:
    """Run for what is in `inbox` now, then again after every settled change, until Ctrl-C or
    SIGTERM (or at once with `once`)."""
    import watchfiles

    def stop(signum, frame):
        raise Stopped()

    previous = (signal.signal(signal.SIGTERM, stop)
                if threading.current_thread() is threading.main_thread() else None)
    last: Snapshot = {}

    def process(now: Snapshot) -> None:
        nonlocal last
        started = time.monotonic()
        run = run_once()
        log(log_line(datetime.now(), describe(last, now), run, time.monotonic() - started))
        last = now

    def relevant(change, path: str) -> bool:
        return is_input_candidate(Path(path), inbox, out)

    try:
        process(settled(inbox, quiet_seconds if not once else 0, out))
        if once:
            return
        log(f"watching {inbox} (Ctrl-C to stop)")
        for _ in watchfiles.watch(inbox, watch_filter=relevant, raise_interrupt=True, rust_timeout=1000):
            now = settled(inbox, quiet_seconds, out)
            if now != last:
                process(now)
    except (KeyboardInterrupt, Stopped):
        log("stopped; every file written is complete")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
