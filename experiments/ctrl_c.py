"""Ctrl-C during a run: ignored while the run cleans up after the first one, and this thread's
original handler put back once the run is closed."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


def hold_interrupts() -> None:
    """Ignore Ctrl-C from now on (main thread only: elsewhere signals cannot be set), so that the
    cleanup after a first Ctrl-C is not cut short by a second."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def interrupts_restored():
    """Whatever the block does to Ctrl-C's handler, put this thread's original one back after."""
    main = threading.current_thread() is threading.main_thread()
    original = signal.getsignal(signal.SIGINT) if main else None
    try:
        yield
    finally:
        if main and original is not None:
            signal.signal(signal.SIGINT, original)
