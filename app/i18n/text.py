"""Mixed-direction text, search normalisation and names in two languages.

* :func:`isolate` wraps each Latin or number run in FSI … PDI (U+2068/U+2069), so
  ``"رقم الحجز AB-12 للعميل John Smith"`` keeps ``AB-12`` and ``John Smith`` readable and
  in place inside an Arabic sentence. :func:`fsi` isolates a whole inserted value.
* :func:`normalize_arabic` folds the spellings people type differently (أحمد/احمد,
  فاطمة/فاطمه, مصطفى/مصطفي, tashkeel, tatweel, Arabic-Indic digits, Latin case and
  accents) so that search compares like with like.
* :func:`display_name` picks a resource's or type's name in the UI language.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping

__all__ = [
    "FSI",
    "PDI",
    "display_name",
    "first_strong",
    "fsi",
    "isolate",
    "normalize_arabic",
    "strip_bidi_controls",
]

FSI, PDI = "\u2068", "\u2069"
_ISOLATE_START = "\u2066\u2067\u2068"  # LRI, RLI, FSI

# Text already inside an isolate (possibly nested one level) is left alone.
_ISOLATED = re.compile(r"[\u2066-\u2068](?:[^\u2066-\u2069]|[\u2066-\u2068][^\u2066-\u2069]*\u2069)*\u2069")


def _strong_ltr(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("L", "EN")


def _neutral(ch: str) -> bool:
    # Spaces and punctuation that may sit *between* two Latin/number characters of one run.
    return unicodedata.bidirectional(ch) in ("WS", "CS", "ES", "ET", "ON") and ch not in "\u061f\u060c\u061b"


_PREFIX = "+-#@([{$"
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _runs(text: str):
    """Yield (start, end) of Latin/number runs in ``text`` (no isolate controls inside)."""
    i, n = 0, len(text)
    while i < n:
        if not _strong_ltr(text[i]):
            i += 1
            continue
        start = i
        if start > 0 and text[start - 1] in _PREFIX:
            start -= 1
        end = i + 1
        j = end
        while j < n:
            if _strong_ltr(text[j]):
                end = j = j + 1
            elif _neutral(text[j]):
                j += 1
            else:
                break
        # Take a closing bracket whose opener is inside the run, so the pair stays together.
        while end < n and text[end] in _CLOSERS:
            run = text[start:end]
            if run.count(_CLOSERS[text[end]]) > run.count(text[end]):
                end += 1
            else:
                break
        if end < n and text[end] == "%":  # "50%" stays one piece
            end += 1
        yield start, end
        i = end


def _isolate_plain(text: str) -> str:
    out, last = [], 0
    for start, end in _runs(text):
        out += [text[last:start], FSI, text[start:end], PDI]
        last = end
    out.append(text[last:])
    return "".join(out)


def isolate(text: str) -> str:
    """Wrap every Latin/number run of ``text`` in FSI … PDI (idempotent)."""
    if not text:
        return text
    out, last = [], 0
    for m in _ISOLATED.finditer(text):
        out += [_isolate_plain(text[last : m.start()]), m.group()]
        last = m.end()
    out.append(_isolate_plain(text[last:]))
    return "".join(out)


def first_strong(text: str) -> str | None:
    """``'ltr'`` or ``'rtl'``: the direction of ``text``'s first strong character (Unicode's
    P2/P3, skipping isolated runs), or None when it has none (digits, punctuation)."""
    depth = 0
    for ch in text or "":
        if ch in _ISOLATE_START:
            depth += 1
        elif ch == PDI:
            depth = max(0, depth - 1)
        elif not depth:
            kind = unicodedata.bidirectional(ch)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
    return None


def fsi(value: object) -> str:
    """``str(value)`` as one first-strong isolate, for a name or code put into a sentence."""
    return f"{FSI}{value}{PDI}"


_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200c\u200d\ufeff")
)


def strip_bidi_controls(text: str) -> str:
    """Remove direction marks, isolates, embeddings and zero-width joiners."""
    return text.translate(_BIDI_CONTROLS)


_FOLD = str.maketrans(
    {  # type: ignore[misc]  # str and code-point keys, as maketrans takes them
        "\u0671": "\u0627",  # ٱ alef wasla → ا (أ إ آ lose their hamza/madda as marks)
        "\u0649": "\u064a",  # ى alef maksura → ي
        "\u06cc": "\u064a",  # ی Farsi yeh → ي
        "\u0629": "\u0647",  # ة teh marbuta → ه
        "\u06c0": "\u0647",  # ۀ → ه
        "\u06a9": "\u0643",  # ک keheh → ك
        "\u0640": None,  # ـ tatweel
        **{ord(d): str(i) for i, d in enumerate("٠١٢٣٤٥٦٧٨٩")},
        **{ord(d): str(i) for i, d in enumerate("۰۱۲۳۴۵۶۷۸۹")},
    }
)
_SPACES = re.compile(r"\s+")


def normalize_arabic(text: str | None) -> str:
    """Fold ``text`` for search: the same key for spellings people use interchangeably.

    NFKD then drop combining marks (tashkeel, superscript alef, the hamza/madda of
    أ إ آ ؤ ئ, Latin accents); ٱ → ا, ى/ی → ي, ة → ه, ک → ك; no tatweel; Arabic-Indic
    digits → 0-9; case-folded Latin; no bidi controls; single spaces.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", strip_bidi_controls(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = unicodedata.normalize("NFC", bare.translate(_FOLD)).casefold()
    return _SPACES.sub(" ", folded).strip()


def _field(obj: object, name: str):
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def display_name(obj: object, lang: str | None = None) -> str:
    """``obj``'s ``name_translations[lang]``, else the other language's, else ``name``.

    ``obj`` is a row dict or an object; ``name_translations`` may be a dict or its JSON
    text (as stored in SQLite). ``lang`` defaults to the current UI language."""
    from app.i18n import SUPPORTED, current_language

    lang = lang or current_language()
    names = _field(obj, "name_translations") or {}
    if isinstance(names, str):
        try:
            names = json.loads(names)
        except ValueError:
            names = {}
    if isinstance(names, Mapping):
        for code in (lang, *(c for c in SUPPORTED if c != lang)):
            value = names.get(code)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return str(_field(obj, "name") or "")
