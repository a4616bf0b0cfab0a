"""The desk's own display settings (language, digits), kept per user.

A small JSON file, ``desk.json`` in ``platformdirs.user_config_dir("Istiqbal")`` (or in
``$ISTIQBAL_CONFIG_DIR``, which tests use). Each desk/user has its own: one receptionist
works in Arabic with Arabic-Indic digits while the next desk works in English. A file
that is missing or unreadable gives the defaults; writes replace the file atomically.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from platformdirs import user_config_dir

__all__ = ["DEFAULTS", "config_path", "load", "save"]

log = logging.getLogger(__name__)
DEFAULTS: dict[str, str] = {"language": "en", "digits": "latn"}
ENV_DIR = "ISTIQBAL_CONFIG_DIR"


def config_path() -> Path:
    base = os.environ.get(ENV_DIR) or user_config_dir("Istiqbal", appauthor=False)
    return Path(base) / "desk.json"


def load() -> dict[str, str]:
    """The saved settings over :data:`DEFAULTS`."""
    settings = dict(DEFAULTS)
    try:
        saved = json.loads(config_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return settings
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable desk settings %s: %s", config_path(), exc)
        return settings
    if isinstance(saved, dict):
        settings.update({k: v for k, v in saved.items() if isinstance(v, str)})
    return settings


def save(**changes: str) -> dict[str, str]:
    """Merge ``changes`` into the saved settings; returns them. Errors are logged, not raised
    (a read-only home must not stop a language switch)."""
    path = config_path()
    settings = {**load(), **changes}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".desk.", suffix=".json", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(settings, out, ensure_ascii=False, indent=2)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not save the desk settings to %s: %s", path, exc)
    return settings
