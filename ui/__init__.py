"""The desk: a PySide6 + qasync front end that reaches the branch server only through
:class:`app.client.DeskClient` (import-linter contract in ``pyproject.toml``)."""
