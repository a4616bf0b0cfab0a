"""User-facing, translated messages for errors of the branch API."""

from __future__ import annotations

from app.client import ApiError
from app.i18n import _
from app.i18n.labels import error_message
from app.i18n.text import fsi

NETWORK = "NETWORK"
CONFLICT = "CONFLICT"


def message_for(exc: BaseException) -> str:
    """A translated sentence for ``exc`` (an :class:`ApiError` or anything unexpected)."""
    if isinstance(exc, ApiError):
        return error_message(exc.code)  # NETWORK and CONFLICT too: every code is in labels.py
    # Translators: %(error)s is the technical text of an unexpected error.
    return _("Unexpected error: %(error)s") % {"error": fsi(exc)}
