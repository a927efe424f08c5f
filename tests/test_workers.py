"""workers.Workers on plain functions (issue 14): results by tag; one job runs in this process
and only when asked; several run in forked processes, none left after the block."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest

from tiersheet.errors import TiersheetError
from tiersheet.outputs import atomic_output, write_bytes
from tiersheet.workers import WorkerFailed, Workers, can_fork

calls: list[int] = []


def double(number: int) -> tuple[int, int]:
    calls.append(number)
    return number * 2, os.getpid()


def slow(number: int) -> int:
    time.sleep(60)
    return number


def fail(message: str) -> None:
    raise TiersheetError(message)


def test_o9_one_job_runs_each_task_here_when_its_result_is_asked_for():
    calls.clear()
    with Workers(1) as workers:
        for number in (1, 2, 3):
            workers.submit(number, double, number)
        assert calls == []  # nothing runs before its result is wanted
        assert [tag for tag, _ in workers.finished([2])] == [2]
        assert calls == [2]
        results = dict(workers.finished([1, 3]))
    assert results == {1: (2, os.getpid()), 3: (6, os.getpid())}


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked")
def test_o9_several_jobs_run_in_other_processes_and_none_outlives_the_block():
    with Workers(3) as workers:
        for tag in range(3):
            workers.submit(tag, double, 20 + tag)
        for tag in range(3, 6):
            workers.submit(tag, slow, tag)
        results = dict(workers.finished(range(3)))
        processes = [process for process, _ in workers.running.values()]
        assert processes and all(process.is_alive() for process in processes)
    assert [results[tag][0] for tag in range(3)] == [40, 42, 44]
    assert all(pid != os.getpid() for _, pid in results.values())
    assert not any(process.is_alive() for process in processes)  # the rest were stopped on leaving


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked")
def test_o9_a_failing_task_raises_worker_failed_with_its_message():
    with pytest.raises(WorkerFailed, match="^disk full on X$"):
        with Workers(2) as workers:
            workers.submit("a", fail, "disk full on X")
            list(workers.finished(["a"]))


def started_after(seconds: float) -> int:
    """When this task started (ns), after holding its worker for `seconds`."""
    begun = time.monotonic_ns()
    time.sleep(seconds)
    return begun


@pytest.mark.skipif(not can_fork(), reason="needs fork")
def test_o9_of_the_tasks_waiting_the_largest_starts_first():
    with Workers(2) as workers:
        workers.submit("a", started_after, 0.3)  # both workers busy: the rest wait
        workers.submit("b", started_after, 0.3)
        workers.submit("small", started_after, 0, size=1)
        workers.submit("large", started_after, 0.3, size=5)
        workers.submit("large too", started_after, 0.3, size=5)
        begun = dict(workers.finished(["a", "b", "small", "large", "large too"]))
    assert begun["large"] <= begun["large too"] < begun["small"]


def write_interrupted_after_entering(path: Path) -> None:
    """In the worker: a Ctrl-C inside contextlib's `__enter__`, once the temporary file for
    `path` is made and before the `with` body is guarded (so the `with` cannot remove it)."""
    real_enter = contextlib._GeneratorContextManager.__enter__

    def enter_then_interrupted(self):
        ours = self.func is atomic_output.__wrapped__  # (__enter__ deletes it)
        entered = real_enter(self)
        if ours:
            raise KeyboardInterrupt
        return entered
    contextlib._GeneratorContextManager.__enter__ = enter_then_interrupted  # this process only
    write_bytes(path, b"never written")


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked")
def test_o1_a_worker_stopped_where_the_with_cannot_clean_up_leaves_no_temporary_file(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with Workers(2) as workers:
            workers.submit("a", write_interrupted_after_entering, tmp_path / "statement.xlsx")
            list(workers.finished(["a"]))
    assert list(tmp_path.iterdir()) == []


def unfinished_here() -> list[Path]:
    from tiersheet.outputs import _unfinished
    return sorted(_unfinished)


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked")
def test_o1_a_worker_does_not_count_its_parents_unfinished_files_as_its_own(tmp_path):
    """Forked while this process writes a file, a worker stopped by Ctrl-C must not remove it."""
    with atomic_output(tmp_path / "index.csv") as temp:
        temp.write_text("partner_id\n")
        with Workers(2) as workers:
            workers.submit("a", unfinished_here)
            assert dict(workers.finished(["a"])) == {"a": []}
    assert (tmp_path / "index.csv").read_text() == "partner_id\n"
