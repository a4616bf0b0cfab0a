"""Istiqbal's translations: gettext catalogs, the current language and its listeners.

Arabic and English are equals. Every user-visible string goes through this module
(Frescobaldi style): import the functions once and call them when the text is shown,
so a live language switch takes effect on the next call::

    from app.i18n import N_, _, ngettext, pgettext

    _("Today")
    ngettext("%(n)d patient waiting", "%(n)d patients waiting", n) % {"n": n}
    pgettext("duration", "{hours} {minutes}")
    LABEL = N_("Confirmed")      # marks a msgid for extraction; translate with _(LABEL) later

The UI calls :func:`set_language` and registers ``translateUI``-style callbacks with
:func:`on_language_changed`. This package never imports Qt (``app/`` is Qt-free).

Catalogs live in ``locales/<lang>/LC_MESSAGES/istiqbal.po`` (domain ``istiqbal``).
Compiled ``.mo`` files are not committed: :func:`set_language` compiles a ``.po`` whose
``.mo`` is missing or older, next to it when ``locales/`` is writable, else into the
per-user cache (``locales`` in :func:`app.user_dirs.cache_dir`), so a fresh clone
runs with no extra step.

Maintaining the catalogs (run from the repository root; the wrappers only add the
project's paths to Babel's own ``pybabel`` frontend)::

    uv run python -m app.i18n extract   # pybabel extract -F babel.cfg -o locales/istiqbal.pot
                                        #   --add-comments=Translators: --project=Istiqbal
                                        #   --copyright-holder="Istiqbal contributors" --sort-by-file
                                        #   app ui main.py
    uv run python -m app.i18n update    # pybabel update -i locales/istiqbal.pot -d locales -D istiqbal
    uv run python -m app.i18n compile   # pybabel compile -d locales -D istiqbal --statistics
    uv run python -m app.i18n check     # lists untranslated and fuzzy entries; exit 1 if any

Translators: keep ``%(name)d`` / ``{name}`` placeholders, and wrap Latin text inside an
Arabic sentence with :func:`app.i18n.text.isolate` at the call site, not in the catalog.
"""

from __future__ import annotations

import gettext as _gettext
import logging
import weakref
from collections.abc import Callable
from pathlib import Path

from app.i18n.catalogs import DOMAIN, LOCALES_DIR, mo_path_for, po_path

__all__ = [
    "DOMAIN",
    "FONTS_DIR",
    "LANGUAGES",
    "LOCALES_DIR",
    "PSEUDO",
    "RTL_LANGUAGES",
    "SUPPORTED",
    "N_",
    "_",
    "current_language",
    "font_files",
    "gettext",
    "is_pseudo",
    "is_rtl",
    "language_setting",
    "ngettext",
    "npgettext",
    "on_language_changed",
    "pgettext",
    "set_language",
    "translate",
]

log = logging.getLogger(__name__)

#: Language codes the app ships, in menu order.
SUPPORTED: tuple[str, ...] = ("ar", "en")
#: Endonyms for the language menu: each language names itself, never translated.
LANGUAGES: dict[str, str] = {"ar": "العربية", "en": "English"}
RTL_LANGUAGES = frozenset({"ar"})
#: The language of the msgids (used when a catalog is missing).
SOURCE_LANGUAGE = "en"
#: Pseudo-localization (``set_language("pseudo")``): English stretched, accented and
#: bracketed, laid out right to left (see :mod:`app.i18n.pseudo`). Formats stay English.
PSEUDO = "pseudo"

FONTS_DIR = Path(__file__).resolve().parents[2] / "resources" / "fonts"

_current: str = SOURCE_LANGUAGE
_translations: _gettext.NullTranslations = _gettext.NullTranslations()
_pseudo: bool = False
_listeners: list[Callable[[], Callable[[str], object] | None]] = []


def _normalise(lang: str) -> str:
    """``"ar_SA"``, ``"ar-SA"``, ``"AR"`` → ``"ar"``. Raises ValueError if unsupported."""
    code = lang.replace("-", "_").split("_", 1)[0].lower()
    if code not in SUPPORTED:
        raise ValueError(f"unsupported language {lang!r}; expected one of {SUPPORTED}")
    return code


def load_translations(lang: str) -> _gettext.NullTranslations:
    """The catalog of ``lang`` (compiling it if needed); NullTranslations if it has no .po."""
    lang = _normalise(lang)
    if not po_path(lang).exists():
        log.warning("no catalog for %r at %s; showing source strings", lang, po_path(lang))
        return _gettext.NullTranslations()
    with mo_path_for(lang).open("rb") as fp:
        return _gettext.GNUTranslations(fp)


def set_language(lang: str) -> None:
    """Make ``lang`` (``'ar'``, ``'en'`` or ``'pseudo'``) current and tell the listeners
    (``callback(lang)``) if it changed."""
    global _current, _translations, _pseudo
    before = language_setting()
    if lang.strip().lower() == PSEUDO:
        from app.i18n.pseudo import PseudoTranslations

        _current, _translations, _pseudo = SOURCE_LANGUAGE, PseudoTranslations(), True
    else:
        lang = _normalise(lang)
        translations = load_translations(lang)
        _current, _translations, _pseudo = lang, translations, False
    if language_setting() != before:
        _notify(language_setting())


def current_language() -> str:
    """The language of the text and formats: ``'ar'`` or ``'en'`` (also in pseudo mode)."""
    return _current


def language_setting() -> str:
    """What :func:`set_language` was given last, normalised: ``'ar'``, ``'en'`` or ``'pseudo'``."""
    return PSEUDO if _pseudo else _current


def is_pseudo() -> bool:
    return _pseudo


def is_rtl(lang: str | None = None) -> bool:
    """True for a right-to-left language (the current one unless ``lang`` is given).
    Pseudo mode is right to left, to show widgets that do not mirror."""
    if lang is None and _pseudo or (lang or "").strip().lower() == PSEUDO:
        return True
    return _normalise(lang or _current) in RTL_LANGUAGES


def on_language_changed(callback: Callable[[str], object]) -> Callable[[], None]:
    """Call ``callback(lang)`` after every language change; returns an unsubscribe function.

    Bound methods are held weakly (a closed widget does not stay alive for its
    ``translateUI``); plain functions and lambdas are held strongly. A callback that
    raises is logged and the others still run.
    """
    if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
        ref: Callable[[], Callable[[str], object] | None] = weakref.WeakMethod(callback)
    else:

        def ref(cb=callback):
            return cb

    _listeners.append(ref)

    def unsubscribe() -> None:
        if ref in _listeners:
            _listeners.remove(ref)

    return unsubscribe


def _notify(lang: str) -> None:
    for ref in list(_listeners):
        if not _call(ref, lang):
            _listeners.remove(ref)


def _call(ref: Callable[[], Callable[[str], object] | None], lang: str) -> bool:
    # A frame of its own, so a logged traceback never keeps a later listener's widget alive.
    callback = ref()
    if callback is None:
        return False
    try:
        callback(lang)
    except RuntimeError as exc:
        if "already deleted" in str(exc):  # a Qt widget gone while its Python object lives on
            return False
        log.exception("language-change listener %s failed", getattr(callback, "__qualname__", "?"))
    except Exception:
        name = getattr(
            callback, "__qualname__", type(callback).__name__
        )  # repr may fail (deleted Qt objects)
        log.exception("language-change listener %s failed", name)
    return True


# --- translation functions: always the current catalog ------------------------------------


def _(message: str) -> str:
    """Translate ``message`` into the current language."""
    return _translations.gettext(message)


gettext = _


def ngettext(singular: str, plural: str, n: int) -> str:
    """Plural-aware translation (Arabic has six CLDR forms). Format the result yourself."""
    return _translations.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate ``message`` as used in ``context`` (the msgctxt)."""
    return _translations.pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _translations.npgettext(context, singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (module-level tables)."""
    return message


def translate(msgid: str) -> str:
    """Translate a msgid known only at run time (a connector's field label or help, marked
    with :func:`N_` where it is declared). Same as :func:`_`, but the extractor does not take
    the argument's subscript (``_(field["label"])`` would make ``"label"`` a msgid)."""
    return _translations.gettext(msgid)


# --- fonts --------------------------------------------------------------------------------


def font_files() -> list[Path]:
    """The bundled font files, for ``QFontDatabase.addApplicationFont`` (sorted, .ttf/.otf)."""
    if not FONTS_DIR.is_dir():
        return []
    return sorted(p for p in FONTS_DIR.iterdir() if p.suffix.lower() in {".ttf", ".otf"})
