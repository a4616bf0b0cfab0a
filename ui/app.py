"""Starting the desk: QApplication, language and direction, fonts, the error hook, and
the qasync loop that runs the main window against a branch server URL."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.i18n import _
from ui.startup_window import application, setup_language  # the desk's first steps (re-exported)

if TYPE_CHECKING:  # the HTTP client and qasync are imported once a window shows (start-up path)
    from app.client import DeskClient

log = logging.getLogger(__name__)
LOOPBACK = "http://127.0.0.1"  # the embedded server's address until it has its port
_kept: list = []  # message boxes that must stay referenced (Qt's translators: ui.core.language)


def load_fonts() -> list[str]:
    """Register the bundled fonts; returns their family names."""
    from ui.core.language import load_fonts as load

    return load()


def collect_garbage_on_gui_thread(app: QApplication, every_ms: int = 5000, full_every: int = 12) -> QTimer:
    """Turn off Python's automatic cycle collection and collect on a GUI-thread timer (as
    Anki does): otherwise a collection that happens to run on the branch server's thread can
    destroy Qt objects from the wrong thread and crash the desk. The young generations are
    collected every ``every_ms`` (cheap); a full collection every ``full_every`` ticks."""
    gc.disable()
    timer = QTimer(app)
    ticks = [0]

    def collect() -> None:
        ticks[0] += 1
        gc.collect() if ticks[0] % full_every == 0 else gc.collect(1)

    timer.timeout.connect(collect)
    timer.start(every_ms)
    return timer


def install_excepthook() -> None:
    """Log uncaught errors (also those of async slots) and tell the user without blocking."""

    def hook(kind, value, tb) -> None:
        log.error("uncaught error", exc_info=(kind, value, tb))
        if QApplication.instance() is None or issubclass(kind, KeyboardInterrupt):
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            _("Istiqbal"),
            _("Something went wrong. The error was logged; the desk keeps running."),
        )
        box.setDetailedText("".join(traceback.format_exception(kind, value, tb)))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: _kept.remove(box) if box in _kept else None)
        _kept.append(box)
        box.open()

    sys.excepthook = hook


_stop_signals: list = []  # the process's one StopSignals and its notifier (kept referenced)
_on_stop_signal: list = []  # what a stop signal also ends (the running desk's "closed" future)
_stopping: list = []  # a stop signal has ended the running desk (later signals change nothing)


def quit_on_stop_signals(app: QApplication):
    """Ctrl+C (SIGINT), SIGTERM or SIGHUP close the desk cleanly: the C-level handler only
    writes to a wake-up socket (:mod:`app.stop_signals`) that a ``QSocketNotifier`` reads on
    the GUI thread, which then ends the running desk (or closes every window) — nothing runs inside a signal handler,
    so a burst of signals cannot hang the desk. Installed once per process."""
    if _stop_signals:
        return _stop_signals[0]
    from PySide6.QtCore import QSocketNotifier

    from app.stop_signals import StopSignals

    stop = StopSignals()
    notifier = QSocketNotifier(stop.fileno(), QSocketNotifier.Type.Read, app)

    def on_signal() -> None:
        got = stop.drain()
        if not got:
            return
        log.info("signal %d: closing the desk", got[0])
        if _on_stop_signal:  # the running desk ends its coroutine, then the loop
            _stopping.append(True)
            for callback in list(_on_stop_signal):
                callback()
        elif not _stopping:
            app.closeAllWindows()
        # else: the desk is already closing on an earlier signal; closing its windows now
        # would quit Qt and stop the loop before the desk's coroutine has finished

    notifier.activated.connect(on_signal)
    _stop_signals.extend((stop, notifier))
    return stop


async def run_desk(
    url: str | None,
    *,
    screenshot: Path | None = None,
    server_label: str | None = None,
    provider: str | None = None,
    token: str | None = None,
    server_alive=None,
    restart_server=None,
    start_server=None,
    failed: list | None = None,
    startup_window: QWidget | None = None,
) -> int:
    """Show the main window against ``url`` until it closes (or, with ``screenshot``, until
    the first full paint after the initial fetches, saved as PNG); with ``provider`` (a
    resource id) it also opens doctor mode for that provider. ``token``: the embedded
    server's own token (a LAN ``https://`` server uses the paired desk's). ``server_alive()``
    (bool) and ``restart_server()`` (→ new URL, same token; blocking, run off the GUI thread)
    come with an embedded branch server, for the not-live banner (:mod:`ui.panels.live_banner`).

    ``start_server()`` (blocking; → ``{"url", "token", "server_alive", "restart_server"}``,
    raises OSError/RuntimeError) starts the embedded server: the window is shown first, in
    its "starting…" state, and the server starts on a worker thread meanwhile; the day fills
    when it answers. A failure is appended to ``failed`` and 2 returned. ``startup_window``
    (:mod:`ui.startup_window`, shown while this module's imports ran) closes once the main
    window has painted in its place."""
    from app.client import DeskClient
    from ui.windows.main import MainWindow

    app = application()
    if start_server is not None:
        return await _run_starting(
            start_server,
            screenshot=screenshot,
            provider=provider,
            failed=failed,
            startup_window=startup_window,
        )
    if url.startswith("https://"):  # another machine's server: paired token, pinned certificate
        from ui.dialogs.pairing import lan_client

        quits = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)  # closing the pairing dialog must not end the loop
        try:
            client = await lan_client(url)
        finally:
            app.setQuitOnLastWindowClosed(quits)
        if client is None:
            return 1
    else:
        client = DeskClient(url, token=token)
    if provider:
        resolved = await resolve_provider(client, provider)
        if resolved is None:
            await client.aclose()
            return 2
        provider = resolved
    window = MainWindow(client, server_label)
    window.server_alive, window.restart_server = server_alive, restart_server
    _place(window, screenshot)
    return await _run_window(window, url, screenshot=screenshot, provider=provider)


async def _run_starting(
    start_server,
    *,
    screenshot: Path | None,
    provider: str | None,
    failed: list | None,
    startup_window: QWidget | None = None,
) -> int:
    """The window at once, the embedded branch server started meanwhile (off the GUI thread)."""
    from app.client import DeskClient
    from ui.windows.main import MainWindow

    client = DeskClient(LOOPBACK)
    window = MainWindow(client, LOOPBACK)
    _place(window, screenshot)
    window.show_starting()
    closed_early: list[bool] = []
    app = application()

    def closed() -> None:
        closed_early.append(True)

    app.lastWindowClosed.connect(closed)
    _on_stop_signal.append(closed)
    window.show()
    try:
        # the server's imports hold the GIL: they start once the window has painted
        await painted(window.calendar.canvas, "desk window shown")
        if startup_window is not None:
            startup_window.close()
        started = await asyncio.to_thread(start_server)
    except (OSError, RuntimeError) as exc:
        if failed is not None:
            failed.append(str(exc))
        window.close()
        await client.aclose()
        return 2
    finally:
        app.lastWindowClosed.disconnect(closed)
        _on_stop_signal.remove(closed)
    if closed_early:  # closed (or a stop signal) while the server started: the caller stops it
        window.close()
        await client.aclose()
        return 0
    client.use_url(started["url"])
    client.use_token(started["token"])
    window.server_alive, window.restart_server = started["server_alive"], started["restart_server"]
    if provider:
        resolved = await resolve_provider(client, provider)
        if resolved is None:
            window.close()
            await client.aclose()
            return 2
        provider = resolved
    return await _run_window(window, started["url"], screenshot=screenshot, provider=provider)


class _PaintWatch(QObject):
    """Calls ``then()`` once, right after the watched widget's next paint."""

    def __init__(self, widget: QWidget, then):
        super().__init__(widget)
        self.then = then
        widget.installEventFilter(self)
        widget.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.then is not None:
            then, self.then = self.then, None
            watched.removeEventFilter(self)
            QTimer.singleShot(0, then)  # once this paint is over
            self.deleteLater()
        return False


async def painted(widget: QWidget, what: str, timeout: float = 2.0) -> None:
    """Wait until ``widget`` has painted (at most ``timeout`` seconds: a hidden or minimised
    window may never paint), then log ``what`` (the start-up benchmark reads these lines)."""
    done = asyncio.get_running_loop().create_future()
    _PaintWatch(widget, lambda: done.done() or done.set_result(None))
    try:
        await asyncio.wait_for(done, timeout)
    except TimeoutError:
        pass
    log.info("%s", what)


def _place(window, screenshot: Path | None) -> None:
    """The last size and place of the window (kept when it closes), or the default size fitted
    to the screen; a screenshot always takes the default size (never shown, the same on every
    run and machine)."""
    from ui.core import window_place

    if screenshot is not None:
        window.resize(*window_place.DEFAULT_SIZE)
        return
    window_place.place(window)
    window.remember_place = True


async def _run_window(window, url: str, *, screenshot: Path | None, provider: str | None) -> int:
    """Start ``window`` (load, follow events) and run until it closes (or the screenshot)."""
    app, client = application(), window.client
    closed = asyncio.get_running_loop().create_future()
    app.lastWindowClosed.connect(lambda: closed.done() or closed.set_result(True))

    def stopped() -> None:  # a stop signal: the windows close, the desk ends
        if not closed.done():
            closed.set_result(True)

    _on_stop_signal.append(stopped)
    try:
        window.start()
        window.first_load.add_done_callback(
            lambda done: done.cancelled() or done.exception() or log.info("desk ready on %s", url)
        )
        _log_day_painted(window)
        window.show()
        if provider:  # from the Qt loop, not inside this coroutine (qasync re-entrancy)
            QTimer.singleShot(0, lambda: window.screens.open_doctor_mode(provider))
        if screenshot is not None:
            return await _screenshot(window, screenshot)
        await closed
        return 0
    finally:
        _on_stop_signal.remove(stopped)
        window.stop()
        await client.aclose()


def _log_day_painted(window) -> None:
    """Log "day painted" once the calendar has painted the first loaded day (the start-up
    benchmark reads this line)."""

    def loaded(done: asyncio.Future) -> None:
        if not done.cancelled() and done.exception() is None:
            _PaintWatch(window.calendar.canvas, lambda: log.info("day painted"))

    window.first_load.add_done_callback(loaded)


async def resolve_provider(client: DeskClient, query: str) -> str | None:
    """The resource id ``--provider`` names (an id, or a name in either language, case and
    diacritics folded; :func:`app.i18n.search.match_resource`). When none or several match,
    the choices with their ids go to stderr and None is returned (the desk exits)."""
    from app.client import ApiError
    from app.i18n.search import ResourceChoice, match_resource
    from app.i18n.text import display_name

    try:
        resources = await client.resources()
        return match_resource(query, resources)["id"]
    except ApiError as exc:
        print(
            _("Could not read the providers from the branch server: {error}").format(error=exc.message),
            file=sys.stderr,
        )
        return None
    except ResourceChoice as choice:
        if choice.ambiguous:
            # Translators: command line: --provider matched several resources; the list follows.
            head = _("--provider “{query}” matches several providers; give one of these names or ids:")
        else:
            # Translators: command line: --provider matched no resource; the list follows.
            head = _("--provider “{query}”: no provider has this name or id; choose one of these:")
        lines = [head.format(query=query)]
        lines += [f"  {display_name(r)}    {r['id']}" for r in choice.candidates]
        print("\n".join(lines), file=sys.stderr)
        return None


async def _screenshot(window, path: Path) -> int:
    try:
        await asyncio.wait_for(window.first_load, 30)
        await window.tasks.wait_idle()
    except Exception as exc:
        log.error("the desk could not load its data: %s", exc)
        return 1
    for _i in range(4):  # let layouts settle and paint (the qasync loop runs Qt's events while we
        await asyncio.sleep(0.05)  # sleep; processEvents() here would re-enter other tasks)
    canvas = window.calendar.canvas
    pixmap = window.grab()
    if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
        log.error("could not save the screenshot to %s", path)
        return 1
    log.info(
        "screenshot saved: %s (%dx%d); calendar axis x=%d, first column x=%d",
        path,
        pixmap.width(),
        pixmap.height(),
        canvas.axis_rect().x(),
        canvas.column_rect(0).x(),
    )
    return 0


def main(
    url: str | None,
    *,
    lang: str | None = None,
    screenshot: Path | None = None,
    server_label: str | None = None,
    provider: str | None = None,
    token: str | None = None,
    server_alive=None,
    restart_server=None,
    start_server=None,
    startup_window: QWidget | None = None,
) -> int:
    """Run the desk against the branch server at ``url``; returns the exit code (``token``,
    and the embedded server's ``server_alive``/``restart_server``: :func:`run_desk`). With
    ``start_server`` (and no ``url``) the window shows first and the embedded server starts
    meanwhile off the GUI thread (:func:`run_desk`); when it cannot start, the user is told
    and 2 is returned."""
    app = application()
    setup_language(app, lang)
    install_excepthook()
    _kept.append(collect_garbage_on_gui_thread(app))
    quit_on_stop_signals(app)
    from qasync import run as run_qasync  # after PySide6, so qasync picks this binding

    failed: list[str] = []
    code = run_qasync(
        run_desk(
            url,
            screenshot=screenshot,
            server_label=server_label,
            provider=provider,
            token=token,
            server_alive=server_alive,
            restart_server=restart_server,
            start_server=start_server,
            failed=failed,
            startup_window=startup_window,
        )
    )
    if failed and screenshot is None:
        show_fatal(lang, failed[0])  # after the loop: a modal box is safe here
    quit_on_stop_signals(app).ignore_from_now()  # the desk is closed: a late Ctrl+C ends nothing
    return code


def show_fatal(lang: str | None, detail: str) -> None:
    """Tell the user the desk cannot start (outside any event loop, so ``exec`` is safe)."""
    app = application()
    setup_language(app, lang)
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        _("Istiqbal"),
        _("The branch server could not start. Another program may be using its port."),
    )
    box.setDetailedText(detail)
    box.exec()
