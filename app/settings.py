"""How this desk starts, chosen once on the first-run page and remembered per user:
``"demo"`` (the embedded demo clinic), ``"cloud"`` (an embedded branch server filled from a
cloud account) or ``"lan"`` (a desk of another machine's branch server at ``url``).

Kept in the desk's own settings file (``desk.json``, :mod:`app.i18n.prefs`, in the per-user
config directory). The branch data live in the per-user data directory, never beside the
program (:func:`data_dir`).
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir

from app.i18n import prefs

MODES = ("demo", "cloud", "lan")
KEY_MODE, KEY_URL = "start", "startServer"
#: The printer queue tickets go to without a dialog (a system printer name, or ``pdf:PATH``).
KEY_TICKET_PRINTER = "ticketPrinter"


def data_dir() -> Path:
    """The branch database's default folder (per user, per OS)."""
    return Path(user_data_dir("Istiqbal"))


def start_choice() -> dict | None:
    """``{"mode", "url"}`` remembered from the first run, or None when never chosen."""
    saved = prefs.load()
    mode = saved.get(KEY_MODE)
    if mode not in MODES:
        return None
    return {"mode": mode, "url": saved.get(KEY_URL) or None}


def remember_start(mode: str, url: str | None = None) -> dict:
    if mode not in MODES:
        raise ValueError(f"unknown start mode {mode!r}; expected one of {MODES}")
    if mode == "lan" and not url:
        raise ValueError("a LAN desk needs its server's address")
    prefs.save(**{KEY_MODE: mode, KEY_URL: url or ""})
    return {"mode": mode, "url": url}


def forget_start() -> None:
    prefs.save(**{KEY_MODE: "", KEY_URL: ""})


def ticket_printer() -> str | None:
    """The chosen ticket printer: a system printer's name, ``pdf:PATH`` (each ticket saved
    as that PDF file), or None before the first ticket."""
    return prefs.load().get(KEY_TICKET_PRINTER) or None


def remember_ticket_printer(name: str | None) -> None:
    prefs.save(**{KEY_TICKET_PRINTER: name or ""})
