"""This desk user's own preferences, kept per user on this machine (never in the branch
database, never shared with other desks): one JSON object in ``desk.json`` in the per-user
config directory (:func:`app.user_dirs.config_dir`; ``$ISTIQBAL_CONFIG_DIR`` in tests).

What it holds — string values only:

- ``language`` (``"en"`` | ``"ar"``) and ``digits`` (``"latn"`` | ``"arab"``): the desk's
  display; one receptionist works in Arabic with Arabic-Indic digits while the next desk
  works in English (:data:`DEFAULTS`);
- ``start`` and ``startServer``: how this desk starts, chosen once on the first-run page —
  ``"demo"`` (the embedded demo clinic), ``"cloud"`` (an embedded branch server filled from
  a cloud account) or ``"lan"`` (a desk of another machine's branch server at that URL)
  (:func:`start_choice`);
- ``ticketPrinter``: where queue tickets go without a dialog (:func:`ticket_printer`);
- the window's place (``ui/core/window_place.py``).

Not here: the branch's own settings, shared by every desk of the branch (billing, the cloud
connection in use), are rows of the branch database's ``settings`` table
(:meth:`app.store.Store.setting`); the cloud connection is :mod:`app.sync.connection`, its
secret :mod:`app.secret_store`. The branch data live in the per-user data directory, never
beside the program (:func:`app.user_dirs.data_dir`).

A file that is missing or unreadable gives the defaults; writes replace the file atomically
(0600 in a 0700 folder); a write that fails is logged, not raised.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from app import private_files, user_dirs
from app.user_dirs import ENV_CONFIG_DIR as ENV_DIR

__all__ = [
    "DEFAULTS",
    "ENV_DIR",
    "MODES",
    "config_path",
    "data_dir",
    "forget_start",
    "load",
    "remember_start",
    "remember_ticket_printer",
    "save",
    "start_choice",
    "ticket_printer",
]

log = logging.getLogger(__name__)
DEFAULTS: dict[str, str] = {"language": "en", "digits": "latn"}
MODES = ("demo", "cloud", "lan")
KEY_MODE, KEY_URL = "start", "startServer"
#: The printer queue tickets go to without a dialog (a system printer name, or ``pdf:PATH``).
KEY_TICKET_PRINTER = "ticketPrinter"


def config_path() -> Path:
    """The preferences file, ``desk.json`` in :func:`app.user_dirs.config_dir`."""
    return user_dirs.config_dir() / "desk.json"


def data_dir() -> Path:
    """The branch database's default folder (per user, per OS): :func:`app.user_dirs.data_dir`."""
    return user_dirs.data_dir()


def load() -> dict[str, str]:
    """The saved preferences over :data:`DEFAULTS`."""
    prefs = dict(DEFAULTS)
    path = config_path()
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return prefs
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable desk preferences %s: %s", path, exc)
        return prefs
    if isinstance(saved, dict):
        prefs.update({k: v for k, v in saved.items() if isinstance(v, str)})
    return prefs


def save(**changes: str) -> dict[str, str]:
    """Merge ``changes`` into the saved preferences; returns them. Errors are logged, not
    raised (a read-only home must not stop a language switch)."""
    path = config_path()
    prefs = {**load(), **changes}
    try:
        private_files.write_private(path, json.dumps(prefs, ensure_ascii=False, indent=2))
    except OSError as exc:
        log.warning("could not save the desk preferences to %s: %s", path, exc)
    return prefs


def start_choice() -> dict | None:
    """``{"mode", "url"}`` remembered from the first run, or None when never chosen."""
    saved = load()
    mode = saved.get(KEY_MODE)
    if mode not in MODES:
        return None
    return {"mode": mode, "url": saved.get(KEY_URL) or None}


def remember_start(mode: str, url: str | None = None) -> dict:
    """Remember how this desk starts; returns ``{"mode", "url"}``. Raises ValueError for a
    mode not in :data:`MODES`, or ``"lan"`` without ``url``."""
    if mode not in MODES:
        raise ValueError(f"unknown start mode {mode!r}; expected one of {MODES}")
    if mode == "lan" and not url:
        raise ValueError("a LAN desk needs its server's address")
    save(**{KEY_MODE: mode, KEY_URL: url or ""})
    return {"mode": mode, "url": url}


def forget_start() -> None:
    save(**{KEY_MODE: "", KEY_URL: ""})


def ticket_printer() -> str | None:
    """The chosen ticket printer: a system printer's name, ``pdf:PATH`` (each ticket saved
    as that PDF file), or None before the first ticket."""
    return load().get(KEY_TICKET_PRINTER) or None


def remember_ticket_printer(name: str | None) -> None:
    save(**{KEY_TICKET_PRINTER: name or ""})
