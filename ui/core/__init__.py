"""The desk's machinery, shared by its windows: what it shows (:mod:`ui.core.state`),
coroutines from Qt slots (:mod:`ui.core.tasks`), undo, table models and views,
formatting, API error messages, the live language switch, keys on any layout,
menus and shortcuts, one desk per data directory, the window's place."""
