"""Customer search keys: what ``customers.searchText`` stores and how a query matches it.

Both sides go through :func:`app.i18n.text.normalize_arabic`, so أحمد finds احمد and
أَحْمَد, فاطمه finds فاطمة, and ٠٥٠ finds a phone stored as 050.
"""

from __future__ import annotations

from app.i18n.text import normalize_arabic

__all__ = ["matches", "search_text"]


def search_text(*parts: object) -> str:
    """The normalised search key of a record, e.g. ``search_text(first, last, phone, number)``."""
    return normalize_arabic(" ".join(str(p) for p in parts if p not in (None, "")))


def matches(query: str, key: str) -> bool:
    """True when every word of ``query`` occurs in ``key`` (a :func:`search_text` value)."""
    return all(word in key for word in normalize_arabic(query).split())
