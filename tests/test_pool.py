"""The thread pool the offline check and the multi-stack audit share: the first failure decides."""
import threading

import pytest

from policypack.offline.pool import run_each


def test_every_task_runs_once():
    seen = []
    lock = threading.Lock()

    def task(index):
        with lock:
            seen.append(index)

    run_each(task, 20, workers=4)
    assert sorted(seen) == list(range(20))


def test_first_failure_cancels_queued_tasks_and_is_raised():
    started = []
    release = threading.Event()
    cleanups = []

    def task(index):
        started.append(index)
        if index == 0:
            raise ValueError("task 0 failed")
        release.wait(5)

    with pytest.raises(ValueError):
        run_each(task, 50, workers=2, on_failure=lambda: cleanups.append(True))
    release.set()
    assert cleanups == [True]
    assert len(started) < 50  # the queued tasks never started


def test_no_cleanup_when_every_task_succeeds():
    cleanups = []
    run_each(lambda index: None, 3, workers=2, on_failure=lambda: cleanups.append(True))
    assert cleanups == []
