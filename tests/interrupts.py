"""Ctrl-C in tests, whatever the shell that started the test run did to it.

A non-interactive shell starts a background job (``make test &``, a CI step run with ``&``) with
SIGINT ignored, and every process below inherits that: Python then installs no KeyboardInterrupt
handler, a SIGINT sent to a runner the test started does nothing, and ``_thread.interrupt_main``
is a no-op.  Tests that press Ctrl-C give their processes back the default first.
"""

import signal
from contextlib import contextmanager


def ctrl_c_default() -> None:
    """``preexec_fn`` for a subprocess a test will send SIGINT: the default disposition, so the
    Python in it turns SIGINT into KeyboardInterrupt as it would at a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def ctrl_c_handled():
    """In this (main) thread, SIGINT raises KeyboardInterrupt inside the block; the handler that
    was there before comes back after."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
