"""The catalogs as shipped: complete, compiled by Babel without fuzzy entries, six Arabic
plural forms, placeholders kept; every error code the server and the sync engine return
has a translated message; local formats across midnight and DST; pseudo-localization and
the per-desk settings. No Qt here."""

from __future__ import annotations

import datetime as dt
import gettext
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app import desk_prefs
from app.i18n import _, catalogs, formats, ngettext, set_language
from app.i18n.labels import ERROR_MESSAGES, error_message
from app.i18n.pseudo import pseudo

ROOT = Path(__file__).resolve().parents[1]
UTC = dt.UTC
#: n → the CLDR category index of Arabic's Plural-Forms (zero, one, two, few, many, other).
PLURAL_SAMPLES = {0: 0, 1: 1, 2: 2, 3: 3, 11: 4, 100: 5}
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|\{(\w*)[^{}]*\}")


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    set_language("en")
    formats.set_digits("latn")


def _catalog(lang: str):
    with catalogs.po_path(lang).open("rb") as fp:
        return read_po(fp, locale=lang)


def _names(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


# --- catalogs -----------------------------------------------------------------------------------


def test_check_command_passes_and_catalogs_compile_without_fuzzy(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "app.i18n", "check"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for lang in ("ar", "en"):
        catalog = _catalog(lang)
        assert not [m.id for m in catalog if m.id and m.fuzzy], f"{lang} has fuzzy entries"
        mo = catalogs.compile_po(catalogs.po_path(lang), tmp_path / f"{lang}.mo")
        with mo.open("rb") as fp:
            compiled = gettext.GNUTranslations(fp)
        if lang == "ar":  # every msgid made it into the .mo (nothing dropped as fuzzy)
            missing = [
                m.id
                for m in catalog
                if m.id
                and not m.pluralizable
                and not m.context
                and compiled.gettext(m.id) == m.id
                and m.string != m.id
            ]
            assert missing == []


def test_arabic_catalog_covers_the_template():
    with catalogs.POT_PATH.open("rb") as fp:
        template = read_po(fp)
    key = lambda m: (m.context, m.id if isinstance(m.id, str) else m.id[0])  # noqa: E731
    assert {key(m) for m in template if m.id} <= {key(m) for m in _catalog("ar") if m.id}


def test_every_message_the_code_translates_is_in_the_template():
    """Every literal msgid passed to ``_()`` or ``N_()`` in app/, ui/ and main.py is in the
    template. The extractor does not look inside f-strings, so a ``_("…")`` written there
    would show English in the Arabic desk once its catalog entry goes obsolete."""
    import ast

    with catalogs.POT_PATH.open("rb") as fp:
        template = {m.id for m in read_po(fp) if m.id and isinstance(m.id, str)}
    missing = []
    for path in [
        ROOT / "main.py",
        *sorted((ROOT / "app").rglob("*.py")),
        *sorted((ROOT / "ui").rglob("*.py")),
    ]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value
                and node.args[0].value not in template
            ):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.args[0].value!r}")
    assert missing == [], "not extracted (an f-string?):\n" + "\n".join(missing)


def test_arabic_plural_entries_have_six_forms_picked_by_cldr_category():
    catalog = _catalog("ar")
    assert catalog.num_plurals == 6
    set_language("ar")
    plurals = [m for m in catalog if m.id and m.pluralizable]
    assert plurals, "the catalog should have plural entries"
    for message in plurals:
        singular, plural = message.id
        assert len(message.string) == 6 and all(message.string), message.id
        for n, index in PLURAL_SAMPLES.items():
            assert ngettext(singular, plural, n) == message.string[index], (message.id, n)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "لا يوجد مرضى في الانتظار"),
        (1, "مريض واحد في الانتظار"),
        (2, "مريضان في الانتظار"),
        (3, "3 مرضى في الانتظار"),
        (11, "11 مريضًا في الانتظار"),
        (100, "100 مريض في الانتظار"),
    ],
)
def test_arabic_plural_sentences(n, expected):
    set_language("ar")
    assert ngettext("%(n)d patient waiting", "%(n)d patients waiting", n) % {"n": n} == expected


def test_translations_keep_their_placeholders():
    problems = []
    for message in _catalog("ar"):
        if not message.id:
            continue
        if message.pluralizable:
            wanted = _names(message.id[1])
            for form in message.string:  # "one"/"two" may leave the number out, never add one
                if not _names(form) <= wanted:
                    problems.append((message.id, form))
        elif _names(message.string) != _names(message.id):
            problems.append((message.id, message.string))
    assert problems == []


# --- error codes ----------------------------------------------------------------------------------

#: Quoted strings in app/ shaped like codes that are not error codes.
NOT_CODES = {"ABCD-EFGH"}  # the pairing code's format in a docstring


def _codes_in_sources() -> set[str]:
    """Every error code app/ can return: the constants of app.domain.errors and each quoted
    ``AREA-NAME`` string (plus the bare NETWORK, CONFLICT, FORBIDDEN) in the server, the
    client, the sync engine and its cloud client."""
    from app.domain import errors

    codes = {v for k, v in vars(errors).items() if k.isupper() and isinstance(v, str)}
    shaped = re.compile(r"[\"']([A-Z]{2,}(?:-[A-Z0-9_]+)+|NETWORK|CONFLICT|FORBIDDEN)[\"']")
    for path in (ROOT / "app").rglob("*.py"):
        if "i18n" not in path.parts:
            codes.update(shaped.findall(path.read_text(encoding="utf-8")))
    return codes - NOT_CODES


def test_every_error_code_has_a_translated_message():
    codes = _codes_in_sources()
    assert {
        "SCH-HOLD-EXPIRED",
        "AUTH-REQUIRED",
        "FORBIDDEN",
        "TOO-LARGE",
        "CUSTOMER-EXISTS",
        "CONFLICT",
        "NETWORK",
        "SCH-OUTSIDE-WORKING-HOURS",
        "SCH-TYPE-NOT-SERVED",
        "PAIRING-FAILED",
    } <= codes
    unmapped = sorted(c for c in codes if c not in ERROR_MESSAGES)
    assert unmapped == [], "add these codes to app/i18n/labels.py ERROR_MESSAGES"
    set_language("ar")
    for code in sorted(codes):
        text = error_message(code)
        assert not re.search(r"[A-Za-z]", text), (code, text)  # Arabic, not the code or English
    assert not re.search(r"[A-Za-z]{3}", error_message("HTTP-503"))
    assert "BKS-999" in error_message("BKS-999")  # an unknown code is named


# --- formats ----------------------------------------------------------------------------------------


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_times_across_midnight_in_both_languages_and_digits():
    late, early = at(2026, 11, 21, 20, 45), at(2026, 11, 21, 21, 15)  # 23:45 and 00:15 in Riyadh
    set_language("en")
    assert formats.format_time(late, "Asia/Riyadh") == "11:45\u202fpm"
    assert formats.format_date(early, "Asia/Riyadh", "yyyy-MM-dd") == "2026-11-22"
    set_language("ar")
    assert formats.format_time(late, "Asia/Riyadh") == "11:45 م"
    assert formats.format_time(early, "Asia/Riyadh") == "12:15 ص"
    formats.set_digits("arab")
    assert formats.format_time(early, "Asia/Riyadh") == "١٢:١٥ ص"
    assert formats.format_date(early, "Asia/Riyadh", "d") == "٢٢"


def test_dst_in_berlin_both_languages():
    before, after = at(2026, 3, 29, 0, 30), at(2026, 3, 29, 1, 30)  # 01:30 CET, then 03:30 CEST
    for lang in ("en", "ar"):
        set_language(lang)
        assert formats.format_time(before, "Europe/Berlin", "HH:mm") == "01:30"
        assert formats.format_time(after, "Europe/Berlin", "HH:mm") == "03:30"
    set_language("en")
    assert (
        formats.format_time(at(2026, 10, 25, 0, 30), "Europe/Berlin")
        == formats.format_time(at(2026, 10, 25, 1, 30), "Europe/Berlin")
        == "2:30\u202fam"
    )  # the repeated hour


def test_clock_follows_the_locale():
    moment = at(2026, 11, 21, 18, 5)  # 21:05 in Riyadh, 19:05 in Berlin
    set_language("en")
    assert formats.format_time(moment, "Asia/Riyadh") == "9:05\u202fpm"  # en_001: 12-hour
    formats.set_territory("DE")
    try:
        assert formats.format_time(moment, "Europe/Berlin") == "19:05"  # en_DE: 24-hour
    finally:
        formats.set_territory("SA")


# --- pseudo-localization and settings -------------------------------------------------------------


def test_pseudo_stretches_accents_brackets_and_keeps_placeholders():
    text = pseudo("Hello %(name)s, {count} waiting & <b>now</b>")
    assert text.startswith("[") and text.endswith("]")
    assert "%(name)s" in text and "{count}" in text and "<b>" in text and "</b>" in text
    assert len(text) >= 1.3 * len("Hello %(name)s, {count} waiting & <b>now</b>") - 10
    assert "Ĥéĺĺö" in text
    assert pseudo("&Day").startswith("[&Đàý")  # accelerator kept
    set_language("pseudo")
    import app.i18n as i18n

    assert i18n.is_pseudo() and i18n.is_rtl() and i18n.current_language() == "en"
    assert _("Today").startswith("[") and formats.format_number(1234) == "1,234"
    assert ngettext("%(n)d patient waiting", "%(n)d patients waiting", 2) % {"n": 2}
    set_language("en")
    assert not i18n.is_pseudo() and _("Today") == "Today"


def test_desk_settings_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv(desk_prefs.ENV_DIR, str(tmp_path))
    assert desk_prefs.load() == desk_prefs.DEFAULTS
    desk_prefs.save(language="ar")
    desk_prefs.save(digits="arab")
    assert desk_prefs.load() == {"language": "ar", "digits": "arab"}
    (tmp_path / "desk.json").write_text("{not json")
    assert desk_prefs.load() == desk_prefs.DEFAULTS


# --- names in both languages, searched the way people type them ------------------------------------


def test_customer_search_through_the_api_folds_arabic_spellings(branch_server):
    """Diacritics, أ/إ/آ/ا, ى/ي and ة/ه: the branch API finds the customer either way."""
    import asyncio

    from app.client import DeskClient

    people = [
        ("فاطِمَة", "الزَّهراء", "0501112201"),
        ("مصطفى", "إبراهيم", "0501112202"),
        ("آمنة", "العلي", "0501112203"),
    ]

    async def scenario() -> dict[str, list[str]]:
        client = DeskClient(branch_server.url, token=branch_server.token)
        try:
            for first, last, phone in people:
                await client.create_customer(first, last, phone)
            found = {}
            for query in ("فاطمه الزهراء", "فَاطِمَة", "مصطفي ابراهيم", "امنه", "أمنة العلى", "٠٥٠١١١٢٢٠٢"):
                found[query] = [c.get("phone") for c in await client.customers(query)]
            return found
        finally:
            await client.aclose()

    found = asyncio.run(scenario())
    assert "+966501112201" in found["فاطمه الزهراء"] and "+966501112201" in found["فَاطِمَة"]
    assert "+966501112202" in found["مصطفي ابراهيم"] and "+966501112202" in found["٠٥٠١١١٢٢٠٢"]
    assert "+966501112203" in found["امنه"] and "+966501112203" in found["أمنة العلى"]


def test_listener_of_a_deleted_qt_object_is_dropped():
    import app.i18n as i18n

    calls = []

    class Gone:
        def retranslate_ui(self, lang):
            calls.append(lang)
            raise RuntimeError("Internal C++ object (Panel) already deleted.")

    gone = Gone()
    i18n.on_language_changed(gone.retranslate_ui)
    set_language("ar")
    set_language("en")
    assert calls == ["ar"]  # dropped after the first failure, no log noise afterwards
