"""The per-user directories of this program, one of each kind (platformdirs, app name
:data:`APP_NAME`):

- :func:`config_dir`: this user's files that are not branch data — the desk preferences
  (``desk.json``, :mod:`app.desk_prefs`), the fallback secrets file (``secrets.json``,
  :mod:`app.secret_store`) and paired LAN desks (``desks.json``, :mod:`app.desk_credentials`).
  ``$ISTIQBAL_CONFIG_DIR`` overrides it (tests use it). 0700, its files 0600.
- :func:`data_dir`: the default folder of the branch database (``--data-dir`` overrides it).
- :func:`cache_dir`: files the program can make again (the compiled catalogs).

Older versions kept the secrets and paired desks in a second, lower-case config directory
(``~/.config/istiqbal`` next to ``~/.config/Istiqbal`` on Linux). :func:`config_dir` moves
those files into the one directory the first time it is asked in a process
(:func:`migrate_config`): a file already present in the new directory is kept and the old
one left where it was (logged), so nothing is lost.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir, user_data_dir

from app import private_files

__all__ = ["APP_NAME", "ENV_CONFIG_DIR", "cache_dir", "config_dir", "data_dir", "migrate_config"]

log = logging.getLogger(__name__)
APP_NAME = "Istiqbal"
#: the config directory older versions kept secrets and paired desks in
OLD_CONFIG_NAME = "istiqbal"
ENV_CONFIG_DIR = "ISTIQBAL_CONFIG_DIR"
_migrated: set[Path] = set()


def _same_dir(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are one folder (case-insensitive file systems: macOS, Windows)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def migrate_config(new: Path, old: Path) -> list[str]:
    """Move the files of config directory ``old`` into ``new`` (made 0700, each moved file
    0600); returns the names moved. A name present in both stays in each (the new one wins
    and the old one is logged, never overwritten). ``old`` is removed once empty. Errors are
    logged, not raised: a read-only home must not stop the desk."""
    if new == old or not old.is_dir() or _same_dir(new, old):
        return []
    moved: list[str] = []
    try:
        private_files.private_dir(new)
        for entry in sorted(old.iterdir()):
            target = new / entry.name
            if target.exists():
                log.warning("kept %s: %s already exists in %s", entry, entry.name, new)
                continue
            shutil.move(str(entry), str(target))
            if target.is_file():
                private_files.private_file(target)
            moved.append(entry.name)
        if not any(old.iterdir()):
            old.rmdir()
    except OSError as exc:
        log.warning("could not move the settings of %s to %s: %s", old, new, exc)
    if moved:
        log.info("moved %s from %s to %s", ", ".join(moved), old, new)
    return moved


def config_dir() -> Path:
    """This user's config directory (``$ISTIQBAL_CONFIG_DIR``, else platformdirs'
    ``user_config_dir("Istiqbal")``), with an older version's files moved in
    (:func:`migrate_config`, once per process and directory). Not created here."""
    override = os.environ.get(ENV_CONFIG_DIR)
    path = Path(override) if override else Path(user_config_dir(APP_NAME, appauthor=False))
    if path not in _migrated:
        _migrated.add(path)
        if not override:
            migrate_config(path, Path(user_config_dir(OLD_CONFIG_NAME)))
    return path


def data_dir() -> Path:
    """The branch database's default folder (per user, per OS; the same folder as ever)."""
    return Path(user_data_dir(APP_NAME))


def cache_dir() -> Path:
    """This user's cache directory (files made again when missing)."""
    return Path(user_cache_dir(APP_NAME, appauthor=False))
