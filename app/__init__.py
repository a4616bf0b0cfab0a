"""Istiqbal without widgets: booking rules, store, branch server, client, sync and i18n.

Nothing in this package imports Qt or ``ui`` (enforced by import-linter, see pyproject).
"""

__version__ = "0.1.0"
