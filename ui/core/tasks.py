"""Running coroutines from Qt slots: keep a reference to every task, route results and
errors back to callbacks on the GUI thread (qasync runs the loop there)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QObject, Signal

from app.client import ApiError

log = logging.getLogger(__name__)


class Tasks(QObject):
    """``tasks.run(coro, on_done, on_error)``; an error without ``on_error`` goes to ``failed``."""

    failed = Signal(object)  # the exception
    idle = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._running: set[asyncio.Future] = set()

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def run(
        self,
        coro: Awaitable,
        on_done: Callable | None = None,
        on_error: Callable[[BaseException], object] | None = None,
    ) -> asyncio.Future:
        task = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(lambda t: self._finished(t, on_done, on_error))
        return task

    def _finished(self, task: asyncio.Future, on_done, on_error) -> None:
        self._running.discard(task)
        try:
            if task.cancelled() or getattr(task, "cancelling", lambda: 0)():
                return  # cancelled (its widget closing): what it ended with, even an error, is dropped
            exc = task.exception()
            try:
                if exc is not None:
                    if not isinstance(exc, ApiError):
                        log.error("background task failed", exc_info=exc)
                    (on_error or self.failed.emit)(exc)
                elif on_done is not None:
                    on_done(task.result())
            except RuntimeError as gone:  # the widget the result was for was closed meanwhile
                if "already deleted" not in str(gone) and "has been deleted" not in str(gone):
                    raise
                log.debug("a background result for a closed widget dropped: %s", gone)
        finally:
            if not self._running:
                try:
                    self.idle.emit()
                except RuntimeError as gone:  # this Tasks was deleted with its widget meanwhile
                    log.debug("idle not told, the tasks' owner is gone: %s", gone)

    async def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until no task runs (tests and ``--screenshot``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._running:
            if loop.time() > deadline:
                raise TimeoutError("desk tasks still running")
            await asyncio.sleep(0.02)

    def cancel_all(self) -> None:
        for task in list(self._running):
            task.cancel()
