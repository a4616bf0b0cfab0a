"""Stopping on SIGINT/SIGTERM without doing anything inside the signal handler.

A Python signal handler runs between two bytecodes of the main thread, so it may land
while that thread holds a lock — ``threading.Event.set()`` or a logging call in the handler
then re-enters that lock and the process hangs (a burst of Ctrl+C and SIGTERM to the
process group does it). Here the handler does nothing at all; the C-level handler writes
the signal number to a socket (:func:`signal.set_wakeup_fd`) and the main thread reads it
outside any handler: :meth:`StopSignals.wait` for a headless server, :attr:`StopSignals.fileno`
for an event loop (the desk's ``QSocketNotifier``). Further signals while stopping are
read and ignored, so a second Ctrl+C never interrupts the shutdown.
"""

from __future__ import annotations

import select
import signal
import socket
import threading

SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


def _ignore(_signum, _frame) -> None:  # the wake-up socket carries the signal; nothing here
    return None


class StopSignals:
    """``with StopSignals() as stop: ...; stop.wait()`` — install on the main thread.

    While installed, SIGINT, SIGTERM (and SIGHUP) no longer raise ``KeyboardInterrupt`` or
    end the process: they are written to a socket pair, and :meth:`wait` returns the first
    one's number. :meth:`close` restores the previous handlers and wake-up fd."""

    def __init__(self, signals: tuple[int, ...] = SIGNALS):
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("signals can only be caught on the main thread")
        self.signals = signals
        self._reader, self._writer = socket.socketpair()
        for sock in (self._reader, self._writer):
            sock.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {signum: signal.signal(signum, _ignore) for signum in signals}
        self.received: list[int] = []

    def fileno(self) -> int:
        """The socket that becomes readable when a signal arrives (for an event loop)."""
        return self._reader.fileno()

    def drain(self) -> list[int]:
        """The signal numbers received since the last call (empty when none)."""
        got = []
        while True:
            try:
                data = self._reader.recv(512)
            except (BlockingIOError, InterruptedError):
                break
            if not data:
                break
            got.extend(b for b in data if b in self.signals)
        self.received.extend(got)
        return got

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until SIGINT/SIGTERM arrives; returns its number (None after ``timeout``)."""
        while True:
            got = self.drain()
            if got:
                return got[0]
            ready, _, _ = select.select([self._reader], [], [], timeout)
            if not ready and timeout is not None:
                return None

    def ignore_from_now(self) -> None:
        """The process has stopped and is exiting: the stop signals are ignored by the OS
        from now on. Interpreter shutdown puts Python-level handlers back to the default
        (CPython's signal finalisation), so the tail of a burst — a second Ctrl+C, the
        SIGTERM of a service manager — would otherwise end the exiting process with -15
        after everything was already closed; an ignored signal stays ignored."""
        for signum in self.signals:
            signal.signal(signum, signal.SIG_IGN)

    def close(self) -> None:
        """Give back the previous handlers (signals still arriving go nowhere until then)."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()

    def __enter__(self) -> StopSignals:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
