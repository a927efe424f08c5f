"""Writing on every core (issue 14): tasks run in worker processes, N at a time.

Each task runs in a process forked when the task starts, so it sees the run's data exactly as
the main process holds it at that moment, shared page by page (copy-on-write): nothing is
pickled or copied on the way in, and only the task's small result (cell counts, the files it
wrote) comes back through a pipe. Before each fork the objects built so far are frozen out of
the garbage collector, so a worker's collections do not write to (and so copy) the shared pages.

A task writes its files through `outputs.atomic_output`, so a worker stopped at any moment
(Ctrl-C reaches every process of the terminal's group; `stop` sends the rest SIGTERM, which a
worker turns into the same KeyboardInterrupt) removes its temporary file and leaves no file
under a final name that is not complete (O1). A task that fails ends the run with its message.

With one job, or where processes cannot be forked (Windows), the tasks run one after another
in this process, when their results are asked for: exactly what the run did before.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable, Iterator

from .errors import TiersheetError
from .outputs import discard_unfinished

STOP_GRACE = 10.0  # seconds a worker has to remove its temporary file before it is killed


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def default_jobs() -> int:
    """The cores this process may use (a container's share, not the whole machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


class WorkerFailed(TiersheetError):
    """A task failed in its worker: the run stops with the task's own message."""


@dataclass(eq=False)  # a queued task is itself: its arguments (frames) are not compared
class Task:
    tag: Any
    function: Callable
    args: tuple
    size: float = 0


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}  # Ctrl-C reaches every worker; stop() sends SIGTERM
INTERRUPTED = {130, -signal.SIGINT, -signal.SIGTERM}  # how a stopped worker ends


_done = False


def _stop(signum, frame) -> None:
    """A stop signal interrupts the task, unless the task is done or already cleaning up after
    one (removing its temporary file, in an `except` for the KeyboardInterrupt): so a Ctrl-C and
    the SIGTERM after it cannot cut the clean-up short, and a stop that Python could not raise
    (see entry.py) is not lost when the signal comes again."""
    if not _done and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
        raise KeyboardInterrupt


def _work(send: Connection, task: Task) -> None:
    """A worker's life: run the task, send back ("ok", result) or ("error", message). It starts
    with the stop signals blocked (see Workers._start) and takes them once it can clean up."""
    global _done
    for number in STOP_SIGNALS:
        signal.signal(number, _stop)
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        reply = ("ok", task.function(*task.args))
        _done = True  # a stop signal now must not lose the news of what was written
    except KeyboardInterrupt:  # stopped: remove its temporary file (if the `with` could not) and end
        discard_unfinished()   # at once, without finalising the half-built workbook's objects
        os._exit(130)          # (they would complain)
    except TiersheetError as exc:
        reply = ("error", str(exc))
    except Exception as exc:  # a bug: its words, not a traceback from a process the user never started
        reply = ("error", f"internal error {type(exc).__name__}: {exc}")
    send.send(reply)
    send.close()


class Arriving:
    """Items that arrive as workers finish, with their number known beforehand, so that a
    progress bar can count them."""

    def __init__(self, items: Iterable, count: int):
        self.items, self.count = items, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator:
        return iter(self.items)


class Workers:
    """Up to `jobs` tasks at a time, in the order submitted; results are taken by tag with
    `finished`. Use as a context manager: leaving it early (an error, Ctrl-C) stops every worker
    and waits for it, so none is left behind."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs) if can_fork() else 1
        self._context = multiprocessing.get_context("fork") if self.jobs > 1 else None
        self.waiting: deque[Task] = deque()
        self.running: dict[Connection, tuple[multiprocessing.Process, Task]] = {}
        self.results: dict[Any, Any] = {}

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.stop()

    def submit(self, tag: Any, function: Callable, *args, size: float = 0) -> None:
        """Queue `function(*args)`, started as soon as a worker is free (with one job: when its
        result is asked for). Of the tasks waiting, the largest `size` starts first (ties in the
        order submitted): the last task to finish is then a small one, not a long one that one
        worker runs alone while the others idle. Its arguments are not copied: a worker sees
        them as they are when it starts, so they must not change after submitting."""
        self.waiting.append(Task(tag, function, args, size))
        self._start()

    def _start(self) -> None:
        while self._context and self.waiting and len(self.running) < self.jobs:
            task = max(self.waiting, key=lambda waiting: waiting.size)  # the first of the largest
            self.waiting.remove(task)
            gc.freeze()
            receive, send = self._context.Pipe(duplex=False)
            process = self._context.Process(target=_work, args=(send, task), daemon=True)
            # Held for the worker, and here until it is tracked: a Ctrl-C between the two would
            # leave a worker that `stop` does not know of, writing on after the run has ended.
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            try:
                process.start()
                self.running[receive] = (process, task)
            finally:
                send.close()
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def poll(self) -> None:
        """Take the results of the tasks that have finished and start waiting ones, without
        waiting (the main process calls this between its own pieces of work)."""
        self._collect(timeout=0)

    def _collect(self, timeout: float | None) -> None:
        for receive in wait(list(self.running), timeout):
            process, task = self.running[receive]  # tracked until its word is in (Ctrl-C may come first)
            try:
                status, payload = receive.recv()
            except EOFError:  # the worker died without a word: stopped by Ctrl-C, or killed
                del self.running[receive]
                receive.close()
                process.join()
                if process.exitcode in INTERRUPTED:
                    raise KeyboardInterrupt from None
                raise WorkerFailed(f"a worker process ended unexpectedly while writing {task.tag} "
                                   f"(exit code {process.exitcode}); run again, or with --jobs 1") from None
            del self.running[receive]
            receive.close()
            process.join()
            if status == "error":
                raise WorkerFailed(payload)
            self.results[task.tag] = payload
        self._start()

    def finished(self, tags: Iterable) -> Iterator[tuple[Any, Any]]:
        """(tag, result) for each of `tags` as its task finishes (with one job: in order, each
        run when reached); results of other tags are kept for their own call."""
        wanted = set(tags)
        while wanted:
            ready = wanted & self.results.keys()
            for tag in sorted(ready, key=repr):
                wanted.discard(tag)
                yield tag, self.results.pop(tag)
            if not wanted or ready:
                continue
            if self._context is None:  # one job: run the first wanted task here
                task = next(task for task in self.waiting if task.tag in wanted)
                self.waiting.remove(task)
                self.results[task.tag] = task.function(*task.args)
            elif self.running:
                self._collect(timeout=None)
            else:
                raise RuntimeError(f"no task was submitted for {sorted(wanted, key=repr)}")

    def stop(self) -> None:
        """Stop every worker and wait for it: SIGTERM first (the worker removes its temporary
        file), SIGKILL after STOP_GRACE seconds."""
        self.waiting.clear()
        running, self.running = list(self.running.items()), {}
        for _, (process, _) in running:
            if process.is_alive():
                process.terminate()
        for receive, (process, _) in running:
            process.join(STOP_GRACE)
            if process.is_alive():
                process.kill()
                process.join()
            receive.close()
