"""Running independent tasks on a few threads, where the first failure decides the outcome."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional


def run_each(task: Callable[[int], None], count: int, workers: int,
             on_failure: Optional[Callable[[], None]] = None) -> None:
    """`task(0)` … `task(count - 1)` with up to `workers` at a time. The first exception (or an
    interrupt) cancels the tasks not yet started, calls `on_failure` and is raised; tasks already
    running are not waited for."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        for future in [pool.submit(task, index) for index in range(count)]:
            future.result()
    except BaseException:
        # queued tasks must not each wait out their own deadline after the run has already failed
        pool.shutdown(wait=False, cancel_futures=True)
        if on_failure is not None:
            on_failure()
        raise
    pool.shutdown(wait=True)
