"""Where the catalogs are, and compiling ``.po`` → ``.mo`` on demand with Babel.

The ``.mo`` goes next to its ``.po`` when that folder is writable (a clone), else into
the per-user cache (a read-only install). It is rebuilt when missing or older than the
``.po``. Writes go to a temporary file that is renamed into place, so two processes
starting at once never read half a catalog.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from app.user_dirs import cache_dir

DOMAIN = "istiqbal"
ROOT = Path(__file__).resolve().parents[2]
LOCALES_DIR = ROOT / "locales"
POT_PATH = LOCALES_DIR / f"{DOMAIN}.pot"


def po_path(lang: str, locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def cache_locales_dir() -> Path:
    return cache_dir() / "locales"


def _fresh(mo: Path, po: Path) -> bool:
    try:
        return mo.stat().st_mtime >= po.stat().st_mtime
    except OSError:
        return False


def compile_po(po: Path, mo: Path) -> Path:
    """Compile ``po`` into ``mo`` (fuzzy entries left out, as ``pybabel compile`` does)."""
    from babel.messages.mofile import write_mo  # only when a catalog changed: not on every start
    from babel.messages.pofile import read_po

    with po.open("rb") as fp:
        catalog = read_po(fp, locale=po.parent.parent.name, domain=DOMAIN)
    mo.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{mo.name}.", dir=mo.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, mo)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return mo


def mo_path_for(lang: str, locales_dir: Path = LOCALES_DIR, cache_dir: Path | None = None) -> Path:
    """An up-to-date ``.mo`` for ``lang``, compiling it first if needed."""
    po = po_path(lang, locales_dir)
    beside = po.with_suffix(".mo")
    if _fresh(beside, po) or (getattr(sys, "frozen", False) and beside.is_file()):
        return beside  # (a frozen build's .mo was compiled at build time: packaging/istiqbal.spec)
    if os.access(po.parent, os.W_OK):
        try:
            return compile_po(po, beside)
        except OSError:
            pass  # e.g. a read-only mount that reports writable: use the cache
    cached = po_path(lang, cache_dir or cache_locales_dir()).with_suffix(".mo")
    if _fresh(cached, po):
        return cached
    return compile_po(po, cached)
