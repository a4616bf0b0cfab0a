"""Pseudo-localization: English made longer, accented and bracketed (``docs/architecture.md``, "Pitfalls").

``set_language("pseudo")`` (``--lang pseudo`` or ``ISTIQBAL_PSEUDO=1``) shows every
translated string as ``[Ţőđàý ·····]``: about 40 % longer, with accented letters and
brackets, so a clipped label, a string that bypasses the catalog (no brackets) or a
widget that does not mirror (pseudo mode also runs right to left) shows up in a
screenshot. Placeholders (``%(n)d``, ``{name}``, ``%s``), HTML tags and ``&``
accelerators are kept exactly, so formatting still works.
"""

from __future__ import annotations

import gettext as _gettext
import math
import re

__all__ = ["PseudoTranslations", "pseudo"]

_ACCENTS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥîĵķĺɱñöþʠŕšţûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)
# Kept as they are: printf and brace placeholders, HTML tags and entities, accelerators.
_KEEP = re.compile(
    r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifr%]"
    r"|\{[^{}]*\}|<[^<>]*>|&[a-zA-Z]+;|&&|&(?=\S)"
)
EXPANSION = 0.4
OPEN, CLOSE, PAD = "[", "]", "·"


def pseudo(text: str) -> str:
    """``"Today"`` → ``"[Ţöđàý ··]"``; ``""`` stays ``""``."""
    if not text:
        return text
    out, last, visible = [], 0, 0
    for m in _KEEP.finditer(text):
        chunk = text[last : m.start()]
        out += [chunk.translate(_ACCENTS), m.group()]
        visible += len(chunk)
        last = m.end()
    tail = text[last:]
    out.append(tail.translate(_ACCENTS))
    visible += len(tail)
    pad = max(1, math.ceil(visible * EXPANSION) - 2)
    return f"{OPEN}{''.join(out)} {PAD * pad}{CLOSE}"


class PseudoTranslations(_gettext.NullTranslations):
    """The source strings, pseudo-localized (English plural rule)."""

    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return pseudo(message)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)
