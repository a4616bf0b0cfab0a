"""Logging for the desk and the server: stderr as before, plus rotating log files in the
per-user log directory (``platformdirs.user_log_dir``; ``$ISTIQBAL_LOG_DIR`` overrides it),
each run starting with the app's version and platform so a log tells what ran where.
Logs name patients now and then, so the folder is 0700 and every log file 0600
(:mod:`app.private_files`), also the rotated ones and those of an older install."""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
from pathlib import Path

from platformdirs import user_log_dir

import app
from app import private_files

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_NAME = "istiqbal.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
ENV_DIR = "ISTIQBAL_LOG_DIR"


def log_dir() -> Path:
    return Path(os.environ.get(ENV_DIR) or user_log_dir("Istiqbal", appauthor=False))


def log_file() -> Path:
    return log_dir() / LOG_NAME


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created readable by the user only (0600)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, private_files.FILE_MODE)
        os.close(fd)
        private_files.private_file(self.baseFilename)
        return super()._open()


def _secure_logs() -> None:
    private_files.private_dir(log_dir())
    for path in log_dir().glob(f"{LOG_NAME}*"):
        private_files.private_file(path)


def platform_summary() -> str:
    frozen = " (frozen)" if getattr(sys, "frozen", False) else ""
    return f"Istiqbal {app.__version__}{frozen}; Python {platform.python_version()}; {platform.platform()}"


def setup(verbose: bool = False, *, to_file: bool = True, role: str = "desk") -> Path | None:
    """Configure the root logger once; returns the log file's path (None without one).
    A log folder that cannot be written only loses the file, never the program."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not any(getattr(h, "_istiqbal", False) for h in root.handlers):
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter(FORMAT))
        stream._istiqbal = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    path = None
    if to_file and not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        try:
            _secure_logs()
            handler = PrivateRotatingFileHandler(
                log_file(), maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=False
            )
        except OSError as exc:
            logging.getLogger(__name__).warning("no log file in %s: %s", log_dir(), exc)
        else:
            handler.setFormatter(logging.Formatter(FORMAT))
            handler.setLevel(logging.DEBUG if verbose else logging.INFO)
            root.addHandler(handler)
            path = log_file()
    logging.getLogger("istiqbal").info("%s started: %s (pid %d)", role, platform_summary(), os.getpid())
    return path


def tail(lines: int = 200, path: Path | None = None) -> str:
    """The last ``lines`` lines of the log file ('' when there is none)."""
    path = path or log_file()
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 256 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
