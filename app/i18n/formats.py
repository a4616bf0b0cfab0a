"""Dates, times, numbers, money and durations through Babel (CLDR), in the current language.

Inputs are raw values: aware datetimes (stored in UTC) plus the branch's IANA zone, or
plain dates, numbers and minutes. Conversion to the zone happens here, with
:mod:`zoneinfo`, so a booking at 23:30 UTC shows on the next local day in Riyadh and DST
changes in Europe/Berlin are honoured.

Locales (``babel_locale``): the desk's territory is ``SA`` unless :func:`set_territory`
says otherwise. Arabic formats with ``ar_SA``. CLDR has no ``en_SA``, so English formats
with ``en_<territory>`` when CLDR has one and otherwise with ``en_001`` (international
English: ``21 Nov 2026``, 12-hour clock). Week data (first day, weekend) always comes from
the territory, so an English desk in Saudi Arabia starts the week on Sunday like an
Arabic one (CLDR weekData for SA: first day Sunday, weekend Friday–Saturday).

Digits: Babel formats dates with Latin digits. :func:`set_digits` ``('arab')`` makes the
Arabic UI show Arabic-Indic digits (٠١٢٣٤٥٦٧٨٩, CLDR separators ٫ ٬) everywhere this
module formats; English always uses Latin digits. The default is ``'latn'``, the common
choice in Saudi desk software.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, localedata
from babel import dates as bdates
from babel import numbers as bnumbers
from babel.units import format_unit
from hijridate import Gregorian

from app.i18n import current_language, pgettext

__all__ = [
    "babel_locale",
    "current_digits",
    "digits_setting",
    "first_week_day",
    "format_currency",
    "format_date",
    "format_datetime",
    "format_duration_minutes",
    "format_number",
    "format_percent",
    "format_time",
    "hijri_date",
    "localize_digits",
    "set_digits",
    "set_territory",
    "territory",
    "weekend_days",
]

DIGITS = ("latn", "arab")
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

_state = {"digits": "latn", "territory": "SA"}

Zone = str | dt.tzinfo


# --- settings -----------------------------------------------------------------------------


def set_digits(system: str) -> None:
    """``'latn'`` (0123) or ``'arab'`` (٠١٢٣) for the Arabic UI."""
    if system not in DIGITS:
        raise ValueError(f"digits must be one of {DIGITS}, not {system!r}")
    _state["digits"] = system


def digits_setting() -> str:
    """The digits chosen for the Arabic UI (``'latn'`` or ``'arab'``), whatever the language."""
    return _state["digits"]


def current_digits() -> str:
    """The digits actually shown now: the setting in Arabic, always ``'latn'`` in English."""
    return _state["digits"] if current_language() == "ar" else "latn"


def set_territory(code: str) -> None:
    """The desk's country (ISO 3166 alpha-2, e.g. ``'SA'``): picks locales and week data."""
    code = code.upper()
    if _territory_locale(code) is None:
        raise ValueError(f"CLDR has no locale for territory {code!r}")
    _state["territory"] = code


def territory() -> str:
    return _state["territory"]


@lru_cache
def _territory_locale(code: str) -> str | None:
    """A CLDR locale of territory ``code`` (they all share its week data), or None."""
    ids = localedata.locale_identifiers()
    for preferred in (f"ar_{code}", f"en_{code}"):
        if preferred in ids:
            return preferred
    return next((i for i in sorted(ids) if i.endswith(f"_{code}")), None)


@lru_cache
def _locale(lang: str, code: str) -> Locale:
    candidate = f"{lang}_{code}"
    if localedata.exists(candidate):
        return Locale.parse(candidate)
    return Locale.parse("en_001" if lang == "en" else lang)


def babel_locale(lang: str | None = None) -> Locale:
    """The Babel locale used for formatting ``lang`` (default: the current language)."""
    return _locale(lang or current_language(), _state["territory"])


def first_week_day() -> int:
    """First day of the week for the desk's territory: 0 = Monday … 6 = Sunday (Python's
    ``weekday()``; Qt's ``Qt.DayOfWeek`` is this + 1). Saudi Arabia: 6 (Sunday)."""
    return Locale.parse(_territory_locale(_state["territory"])).first_week_day


def weekend_days() -> frozenset[int]:
    """The territory's weekend days, 0 = Monday (Saudi Arabia: Friday 4 and Saturday 5)."""
    loc = Locale.parse(_territory_locale(_state["territory"]))
    start, end = loc.weekend_start, loc.weekend_end
    days, day = [start], start
    while day != end:
        day = (day + 1) % 7
        days.append(day)
    return frozenset(days)


# --- helpers ------------------------------------------------------------------------------


def localize_digits(text: str) -> str:
    """Replace Latin digits with Arabic-Indic ones when the Arabic UI asks for them.

    For strings built outside this module, e.g. ``ngettext(...) % {"n": n}``."""
    return text.translate(_ARABIC_INDIC) if current_digits() == "arab" else text


def _zone(zone: Zone) -> dt.tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def _local(moment: dt.datetime, zone: Zone) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware (UTC) datetime and the branch zone")
    return moment.astimezone(_zone(zone))


def _as_date(value: dt.date | dt.datetime, zone: Zone | None) -> dt.date:
    if isinstance(value, dt.datetime):
        if zone is None:
            raise ValueError("a datetime needs the zone whose calendar day to show")
        return _local(value, zone).date()
    return value


# --- dates and times ----------------------------------------------------------------------


def format_time(moment: dt.datetime, zone: Zone, format: str = "short") -> str:
    """Local wall time of an aware ``moment`` in ``zone`` (``'short'``: 9:05 PM / 9:05 م)."""
    local = _local(moment, zone)
    text = bdates.format_time(local.time().replace(tzinfo=None), format, locale=babel_locale())
    return localize_digits(text)


def format_date(value: dt.date | dt.datetime, zone: Zone | None = None, format: str = "medium") -> str:
    """The calendar day of ``value``: a date as is, an aware datetime as seen in ``zone``.

    ``format``: ``'short'``, ``'medium'``, ``'long'``, ``'full'`` or a CLDR pattern."""
    return localize_digits(bdates.format_date(_as_date(value, zone), format, locale=babel_locale()))


def format_datetime(
    moment: dt.datetime, zone: Zone, date_format: str = "medium", time_format: str = "short"
) -> str:
    """Date and time of ``moment`` in ``zone``, joined by the locale's own pattern."""
    loc = babel_locale()
    local = _local(moment, zone)
    day = bdates.format_date(local.date(), date_format, locale=loc)
    clock = bdates.format_time(local.time().replace(tzinfo=None), time_format, locale=loc)
    width = date_format if date_format in ("short", "medium", "long", "full") else "medium"
    pattern = bdates.get_datetime_format(width, locale=loc)  # type: ignore[arg-type]  # one of the four
    return localize_digits(str(pattern).replace("{1}", day).replace("{0}", clock))


def format_duration_minutes(minutes: int) -> str:
    """``90`` → ``1 hr 30 min`` / ``ساعة و30 دقيقة`` (CLDR unit names and plural forms)."""
    minutes = int(minutes)
    if minutes < 0:
        raise ValueError("a duration cannot be negative")
    loc = babel_locale()
    length = "long" if loc.language == "ar" else "short"
    hours, rest = divmod(minutes, 60)

    def unit(n: int, name: str) -> str:
        return format_unit(n, name, length=length, locale=loc)  # type: ignore[arg-type]  # long/short

    if hours and rest:
        # Translators: joins "1 hr" and "30 min"; Arabic attaches و to the minutes.
        text = pgettext("duration", "{hours} {minutes}").format(
            hours=unit(hours, "duration-hour"), minutes=unit(rest, "duration-minute")
        )
    elif hours:
        text = unit(hours, "duration-hour")
    else:
        text = unit(rest, "duration-minute")
    return localize_digits(text)


# --- numbers and money --------------------------------------------------------------------


def format_number(number: int | float | Decimal | str) -> str:
    """Grouped decimal number in the current language and digits (``1,234.5`` / ``١٬٢٣٤٫٥``)."""
    text = bnumbers.format_decimal(number, locale=babel_locale(), numbering_system=current_digits())
    return localize_digits(text)  # Babel swaps the separators (٫ ٬) but not the digits


def format_percent(ratio: float | Decimal) -> str:
    """A ratio (0.219) as a whole percent in the current language and digits (``22%`` / ``٢٢٪``)."""
    text = bnumbers.format_percent(ratio, locale=babel_locale(), numbering_system=current_digits())
    return localize_digits(text)


# CLDR currencySpacing: a letter symbol next to a digit gets a no-break space ("SAR 150.00").
_SPACING = re.compile(r"(?<=[A-Za-z])(?=[\d٠-٩])|(?<=[\d٠-٩])(?=[A-Za-z])")


def format_currency(amount: int | float | Decimal | str, currency: str = "SAR") -> str:
    """Money in the current language: ``SAR 150.00`` / ``‏150.00 ر.س.‏``. Prices are
    stored as strings (``"150.00"``); they are parsed as Decimal, never float."""
    value = Decimal(amount) if isinstance(amount, str) else amount
    text = bnumbers.format_currency(value, currency, locale=babel_locale(), numbering_system=current_digits())
    return _SPACING.sub("\u00a0", localize_digits(text))


# --- Hijri calendar -----------------------------------------------------------------------


def hijri_date(value: dt.date | dt.datetime, zone: Zone | None = None) -> str:
    """The Umm al-Qura date: ``11 Jumada al-Akhirah 1448 AH`` / ``11 جمادى الآخرة 1448 هـ``.

    Returns ``""`` outside the table's range (1924-08-01 … 2077-11-16), so an old birth
    date never breaks a screen."""
    day = _as_date(value, zone)
    try:
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    except OverflowError:
        return ""
    lang = "ar" if current_language() == "ar" else "en"
    # Translators: Hijri (Umm al-Qura) date; {month} is the Hijri month name.
    text = pgettext("hijri date", "{day} {month} {year} AH").format(
        day=hijri.day,
        month=hijri.month_name(lang),  # type: ignore[arg-type]  # en or ar
        year=hijri.year,
    )
    return localize_digits(text)
