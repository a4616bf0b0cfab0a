"""The desk: a PySide6 + qasync front end that reaches the branch server only through
:class:`app.client.DeskClient` (import-linter contract in ``pyproject.toml``).

Start-up (:mod:`ui.app`, :mod:`ui.startup_window`), then by what a reader looks for:
``windows/`` (main window, doctor mode, waiting room, reports, first run), ``calendar/``,
``panels/`` (queue, check-ins, needs attention, booking pane, sync status, live banner),
``dialogs/``, ``paper/`` (printing, receipt, export) and ``core/`` (state, tasks, undo,
models, formatting, live events, language, keyboard, menus)."""
