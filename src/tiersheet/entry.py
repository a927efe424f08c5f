"""The `tiersheet` program's entry point, where Ctrl-C is made dependable for the whole process
and the workers it forks:

- while the libraries are still loading (pandas takes a moment) it ends quietly with exit 130,
  like Ctrl-C anywhere else, not with a traceback;
- where Python cannot raise it (in a weak-reference callback or a finaliser, which would print
  it and go on as if nothing had happened) it is delivered again, to be raised at the next
  ordinary line;
- once the command has ended (its files written and reported) it changes nothing."""

from __future__ import annotations

import os
import signal
import sys
import threading

REDELIVER_AFTER = 0.1  # seconds: long after the hook has returned, too short for a person to notice


def redeliver_interrupt(unraisable) -> None:
    """sys.unraisablehook: a KeyboardInterrupt that could not be raised is signalled again a
    moment later (REDELIVER_AFTER), from a helper thread, so that its handler runs back in
    ordinary code: a signal sent from here would be handled at once, here, and lost again."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        threading.Timer(REDELIVER_AFTER, os.kill, (os.getpid(), signal.SIGINT)).start()
    else:
        sys.__unraisablehook__(unraisable)


def main() -> None:
    sys.unraisablehook = redeliver_interrupt
    try:
        from .cli import main as cli
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted: nothing was written.\n")
        raise SystemExit(130) from None
    try:
        cli()
    finally:
        # The command has ended and said how. A Ctrl-C now could only break Python's own
        # clean-up as the process exits (multiprocessing's finalizers), with a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
