"""A wall-clock limit on work done in the executing process itself (scoring a method's output), where no
child process can be killed: SIGALRM raises ScoringTimeout in the main thread at the next Python
instruction. Renders and metrics return to Python between views and stages, so the limit bites within a
view's time. Off the main thread (where signals cannot be used) there is no limit; the work itself is
bounded there by the asset limits (reconbench/limits.py) and the renderer's early termination."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class ScoringTimeout(Exception):
    """The limit was reached; the message says which limit and how long it was."""


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str = "scoring") -> Iterator[None]:
    if (
        not seconds
        or seconds <= 0
        or threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "setitimer")
    ):
        yield
        return

    def expire(signum, frame):
        raise ScoringTimeout(
            f"{what} timed out after {seconds:.0f} s (the job's time limit: --timeout, or the method's timeout_s)"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
