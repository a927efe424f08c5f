"""Writing output files safely: never half a file under its final name, and the same
permissions an ordinary file would get.

Every file tiersheet writes (workbooks, statements, index files, .eml files, logs) goes through
`atomic_output`: it is written under a hidden temporary name in the same folder and renamed into
place when complete (O1). That file is created readable by its owner only (0600), as
`tempfile.mkstemp` creates one, and the rename keeps the mode, so the mode an ordinary
`open(path, "w")` would have given (0666 less the user's umask: `-rw-r--r--` under umask 022) is
set before the rename; colleagues on a shared folder can open the outputs.

Each temporary file is also listed in `_unfinished` from the moment it is named until it is
renamed or removed. A Ctrl-C is normally cleaned up by `atomic_output` itself, but one that
lands inside contextlib's own `__enter__` or `__exit__` (after the file is made, before the
`with` body is guarded) leaves the generator suspended, kept alive by the traceback, and a
worker ends on it at once (`os._exit`, workers.py), so it calls `discard_unfinished` first.
"""

from __future__ import annotations

import os
import secrets
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

from .errors import TiersheetError

_umask_lock = threading.Lock()
_unfinished: set[Path] = set()  # temporary files named and not yet renamed or removed
if hasattr(os, "register_at_fork"):  # a forked worker must never remove its parent's files
    os.register_at_fork(after_in_child=_unfinished.clear)


def current_umask() -> int:
    """The process's umask (reading it means setting it, so briefly and under a lock)."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def ordinary_mode() -> int:
    """The mode `open(path, "w")` gives a new file under the current umask."""
    return 0o666 & ~current_umask()


class OutputError(TiersheetError):
    """An output folder or file cannot be written; the message names it, never the hidden
    temporary file."""


def hidden_name(path: Path) -> Path:
    """A random hidden name beside `path` for the file that becomes it."""
    return path.with_name(f".{path.stem}-{secrets.token_hex(6)}{path.suffix}.tmp")


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it becomes `path` with ordinary
    permissions, on any failure (or Ctrl-C) it is removed and `path` is left as it was.

    The temporary file is named before it is created (a random name, created only if it does
    not exist, as mkstemp does), so that a Ctrl-C at any moment, even as it is being created,
    finds it named and removes it."""
    path = Path(path)
    temp_path = hidden_name(path)
    _unfinished.add(temp_path)
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            while True:
                try:
                    os.close(os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                    break
                except FileExistsError:  # the name is taken (by chance): another one, as mkstemp does
                    _unfinished.discard(temp_path)
                    temp_path = hidden_name(path)
                    _unfinished.add(temp_path)
        except OSError as exc:
            raise OutputError(f"cannot write to folder {path.parent}: {exc.strerror or exc}") from None
        yield temp_path
        os.chmod(temp_path, ordinary_mode())
        os.replace(temp_path, path)
        _unfinished.discard(temp_path)
    except OSError as exc:
        discard(temp_path)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        discard(temp_path)
        raise


def discard(temp_path: Path) -> None:
    """Remove a temporary file if it is there (it may never have been made: the folder could
    not be, for one), without hiding what went wrong behind a second error."""
    with suppress(OSError):
        temp_path.unlink(missing_ok=True)
    _unfinished.discard(temp_path)


def discard_unfinished() -> None:
    """Remove every temporary file this process has made and not finished: called by a process
    that stops on Ctrl-C, whatever line the interrupt landed on."""
    for temp_path in list(_unfinished):
        discard(temp_path)


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, with ordinary permissions."""
    with atomic_output(path) as temp:
        temp.write_bytes(data)


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    write_bytes(path, text.encode(encoding))
