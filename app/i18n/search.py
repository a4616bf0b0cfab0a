"""Customer search keys: what ``customers.searchText`` stores and how a query matches it.

Both sides go through :func:`app.i18n.text.normalize_arabic`, so أحمد finds احمد and
أَحْمَد, فاطمه finds فاطمة, and ٠٥٠ finds a phone stored as 050.
"""

from __future__ import annotations

from app.i18n.text import normalize_arabic

__all__ = ["matches", "search_text", "match_resource", "ResourceChoice"]


def search_text(*parts: object) -> str:
    """The normalised search key of a record, e.g. ``search_text(first, last, phone, number)``."""
    return normalize_arabic(" ".join(str(p) for p in parts if p not in (None, "")))


def matches(query: str, key: str) -> bool:
    """True when every word of ``query`` occurs in ``key`` (a :func:`search_text` value)."""
    return all(word in key for word in normalize_arabic(query).split())


class ResourceChoice(LookupError):
    """No single resource matches a name: ``candidates`` are the ones to choose from (those
    that matched part of it, or every resource when none did)."""

    def __init__(self, query: str, candidates: list[dict], ambiguous: bool):
        super().__init__(query)
        self.query, self.candidates, self.ambiguous = query, candidates, ambiguous


def match_resource(query: str, resources: list[dict]) -> dict:
    """The resource whose id is ``query``, or whose name (any language, case and diacritics
    folded: "dr sara", "د. ساره") is it or, failing that, uniquely contains every word of it.
    Raises :class:`ResourceChoice` with the candidates when none or several match."""
    for resource in resources:
        if resource.get("id") == query:
            return resource
    wanted = normalize_arabic(query)

    def names(resource: dict) -> list[str]:
        found = [resource.get("name"), *(resource.get("name_translations") or {}).values()]
        return [normalize_arabic(n) for n in found if n]

    exact = [r for r in resources if wanted in names(r)]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [r for r in resources if any(matches(query, n) for n in names(r))]
    if len(partial) == 1:
        return partial[0]
    raise ResourceChoice(query, partial or list(resources), ambiguous=bool(partial))
