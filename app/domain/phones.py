"""Phone numbers: one customer, one number, whatever way it is typed.

``055 123 4567``, ``0551234567``, ``+966 55 123 4567`` and ``00966551234567`` are the same
number in Saudi Arabia. Numbers are stored in E.164 (``+966551234567``), parsed with the
``phonenumbers`` library (Google's libphonenumber metadata) in the branch's region (the
branch setting ``region``, ISO 3166 alpha-2; default ``SA``). Search accepts any of the
forms, also partly typed.
"""

from __future__ import annotations

import unicodedata

import phonenumbers

DEFAULT_REGION = "SA"


def region_of(branch: dict | None) -> str:
    """The branch's phone region (``branch["region"]``, e.g. ``"SA"``, ``"AE"``); ``SA`` by default."""
    region = str((branch if isinstance(branch, dict) else {}).get("region") or DEFAULT_REGION).upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else DEFAULT_REGION


def digits_of(text: str | None) -> str:
    """The digits of ``text`` (Arabic-Indic ٠–٩ too), a leading ``+`` kept."""
    text = (text or "").strip()
    digits = "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())
    return ("+" + digits) if text.startswith("+") and digits else digits


def normalize(text: str | None, region: str = DEFAULT_REGION) -> str | None:
    """``text`` in E.164 (``+966551234567``), read in ``region`` when it has no country code;
    None for an empty one. Raises ValueError for something that is not a possible number."""
    raw = digits_of(text)
    if not raw.lstrip("+"):
        if (text or "").strip():
            raise ValueError(f"not a phone number: {text!r}")
        return None
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {text!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a possible phone number: {text!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_or_keep(text: str | None, region: str = DEFAULT_REGION) -> str | None:
    """:func:`normalize`, or ``text`` unchanged when it cannot be read (data from elsewhere
    is never lost)."""
    try:
        return normalize(text, region)
    except ValueError:
        return text


def search_forms(query: str | None, region: str = DEFAULT_REGION) -> list[str]:
    """Digit strings to look for in stored E.164 numbers (without ``+``) for a typed query:
    the digits as typed, without a ``00`` or trunk ``0`` prefix, and the whole number in
    E.164 when it reads as one. ``0551`` → ``["0551", "551"]``; ``055 123 4567`` →
    ``[…, "966551234567"]``. Empty for fewer than 3 digits."""
    raw = digits_of(query).lstrip("+")
    if len(raw) < 3:
        return []
    forms = [raw]
    if raw.startswith("00"):
        forms.append(raw[2:])
    elif raw.startswith("0"):
        forms.append(raw[1:])
    try:
        full = normalize(query, region)
    except ValueError:
        full = None
    if full:
        forms.append(full.lstrip("+"))
    out: list[str] = []
    for form in forms:
        if len(form) >= 3 and form not in out:
            out.append(form)
    return out
