"""app.i18n: catalogs, Arabic plurals, live switching, CLDR formatting, Hijri, search, bidi."""

from __future__ import annotations

import datetime as dt
import gc
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import app.i18n as i18n
from app.i18n import _, catalogs, formats, ngettext, pgettext, set_language
from app.i18n.labels import error_message, patients_waiting, status_label
from app.i18n.search import matches, search_text
from app.i18n.text import FSI, PDI, display_name, fsi, isolate, normalize_arabic

ROOT = Path(__file__).resolve().parents[1]
AR_PLURAL_FORMS = (
    "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);"
)
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _english_latin_afterwards():
    yield
    set_language("en")
    formats.set_digits("latn")
    formats.set_territory("SA")


@pytest.fixture
def ar():
    set_language("ar")
    return "ar"


def _read(lang: str):
    with catalogs.po_path(lang).open("rb") as fp:
        return read_po(fp, locale=lang)


# --- catalogs -----------------------------------------------------------------------------


def test_arabic_catalog_is_complete_and_not_fuzzy():
    catalog = _read("ar")
    with catalogs.POT_PATH.open("rb") as fp:
        template = read_po(fp)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s.strip() for s in strings):
            problems.append(message.id)
        if message.pluralizable:
            assert len(strings) == 6, message.id
    assert problems == []
    assert [(m, e) for m, e in catalog.check()] == []
    missing = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in template if m.id} - {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id
    }
    assert missing == set(), "ar lacks template entries; run `python -m app.i18n update`"


def test_arabic_plural_header_is_cldr_six_forms():
    assert _read("ar").plural_forms == AR_PLURAL_FORMS
    assert _read("en").num_plurals == 2


def test_catalogs_compile_and_english_is_identity(tmp_path):
    for lang in ("ar", "en"):
        mo = catalogs.compile_po(catalogs.po_path(lang), tmp_path / f"{lang}.mo")
        assert mo.stat().st_size > 0
    set_language("en")
    assert _("Confirmed") == "Confirmed"
    assert patients_waiting(1) == "1 patient waiting"
    assert patients_waiting(4) == "4 patients waiting"


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "لا يوجد مرضى في الانتظار"),
        (1, "مريض واحد في الانتظار"),
        (2, "مريضان في الانتظار"),
        (3, "3 مرضى في الانتظار"),
        (10, "10 مرضى في الانتظار"),
        (11, "11 مريضًا في الانتظار"),
        (99, "99 مريضًا في الانتظار"),
        (100, "100 مريض في الانتظار"),
        (102, "102 مريض في الانتظار"),
        (111, "111 مريضًا في الانتظار"),
        (203, "203 مرضى في الانتظار"),
    ],
)
def test_arabic_plural_forms_pick_the_cldr_category(ar, n, expected):
    assert patients_waiting(n) == expected


def test_arabic_plural_forms_are_six_distinct_forms(ar):
    forms = {ngettext("%(n)d patient waiting", "%(n)d patients waiting", n) for n in (0, 1, 2, 3, 11, 100)}
    assert len(forms) == 6


def test_mo_compiled_when_missing_or_stale_and_cached_when_read_only(tmp_path, monkeypatch):
    locales = tmp_path / "locales"
    po = catalogs.po_path("ar", locales)
    po.parent.mkdir(parents=True)
    shutil.copy(catalogs.po_path("ar"), po)
    mo = catalogs.mo_path_for("ar", locales, cache_dir=tmp_path / "cache")
    assert mo == po.with_suffix(".mo") and mo.exists()

    old = mo.stat().st_mtime - 100
    os.utime(mo, (old, old))
    assert catalogs.mo_path_for("ar", locales).stat().st_mtime > old  # rebuilt: older than .po

    mo.unlink()
    monkeypatch.setattr(catalogs.os, "access", lambda path, mode: False)
    cached = catalogs.mo_path_for("ar", locales, cache_dir=tmp_path / "cache")
    assert cached == tmp_path / "cache" / "ar" / "LC_MESSAGES" / "istiqbal.mo"
    assert cached.exists() and not mo.exists()


# --- language switching -------------------------------------------------------------------


def test_live_switch_notifies_and_module_functions_follow(ar):
    assert i18n.current_language() == "ar" and i18n.is_rtl()
    assert _("Today") == "اليوم"
    assert pgettext("duration", "{hours} {minutes}") == "{hours} و{minutes}"
    seen = []
    unsubscribe = i18n.on_language_changed(seen.append)
    set_language("en")
    assert seen == ["en"] and _("Today") == "Today" and not i18n.is_rtl()
    set_language("en")  # no change, no call
    set_language("ar-SA")
    assert seen == ["en", "ar"]
    unsubscribe()
    set_language("en")
    assert seen == ["en", "ar"]


def test_bound_method_listeners_are_weak_and_errors_do_not_stop_others():
    calls = []

    class Widget:
        def translate_ui(self, lang):
            calls.append(lang)

    def broken(lang):
        raise RuntimeError("boom")

    widget = Widget()
    unsubscribe = i18n.on_language_changed(broken)
    i18n.on_language_changed(widget.translate_ui)
    set_language("ar")
    assert calls == ["ar"]
    del widget
    gc.collect()
    set_language("en")
    assert calls == ["ar"]
    unsubscribe()


def test_unsupported_language_is_refused():
    with pytest.raises(ValueError):
        set_language("fr")


def test_labels_and_error_messages(ar):
    assert status_label("CONFIRMED") == "مؤكد"
    assert status_label("CONFIRMED", "IN_PROGRESS") == "في غرفة الكشف"
    assert status_label("PENDING_ASSIGNMENT") == "في قائمة الانتظار"
    for code in (
        "SCH-ALREADY_ASSIGNED",
        "BKS-110",
        "SCH-SLOT-TAKEN",
        "NOT-FOUND",
        "VALIDATION",
        "INVALID-TRANSITION",
    ):
        message = error_message(code)
        assert message and message.isascii() is False, code
    assert error_message("XYZ-1") == f"حدث خطأ ({FSI}XYZ-1{PDI})."


def test_app_i18n_imports_no_qt():
    code = (
        "import sys, app.i18n, app.i18n.formats, app.i18n.text, app.i18n.labels, app.i18n.search;"
        "sys.exit(any(m.startswith(('PySide6', 'qasync')) for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


# --- formatting ---------------------------------------------------------------------------


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_time_and_date_across_midnight_in_riyadh():
    set_language("en")
    assert formats.format_time(at(2026, 11, 21, 20, 59), "Asia/Riyadh") == "11:59\u202fpm"
    assert formats.format_date(at(2026, 11, 21, 20, 59), "Asia/Riyadh") == "21 Nov 2026"
    assert formats.format_time(at(2026, 11, 21, 21, 0), "Asia/Riyadh") == "12:00\u202fam"
    assert formats.format_date(at(2026, 11, 21, 21, 0), "Asia/Riyadh") == "22 Nov 2026"
    assert formats.format_datetime(at(2026, 11, 21, 21, 30), "Asia/Riyadh") == "22 Nov 2026, 12:30\u202fam"


def test_arabic_time_and_date_across_midnight(ar):
    assert formats.format_time(at(2026, 11, 21, 21, 30), "Asia/Riyadh") == "12:30 ص"
    assert formats.format_date(at(2026, 11, 21, 21, 30), "Asia/Riyadh", "full") == "الأحد، 22 نوفمبر 2026"
    formats.set_digits("arab")
    assert formats.format_time(at(2026, 11, 21, 21, 30), "Asia/Riyadh") == "١٢:٣٠ ص"
    assert formats.format_date(dt.date(2026, 11, 22), format="full") == "الأحد، ٢٢ نوفمبر ٢٠٢٦"


@pytest.mark.parametrize(
    ("utc", "local_time", "local_date"),
    [
        (at(2026, 3, 29, 0, 30), "01:30", "2026-03-29"),  # CET, before spring forward
        (at(2026, 3, 29, 1, 30), "03:30", "2026-03-29"),  # CEST: 02:00-03:00 does not exist
        (at(2026, 10, 25, 0, 30), "02:30", "2026-10-25"),  # CEST, first 02:30
        (at(2026, 10, 25, 1, 30), "02:30", "2026-10-25"),  # CET, second 02:30
        (at(2026, 11, 21, 22, 59), "23:59", "2026-11-21"),
        (at(2026, 11, 21, 23, 0), "00:00", "2026-11-22"),  # midnight in Berlin, still 21st in UTC
        (at(2026, 6, 30, 22, 15), "00:15", "2026-07-01"),  # summer: +2, new day and month
    ],
)
def test_berlin_dst_and_midnight(utc, local_time, local_date):
    set_language("en")
    assert formats.format_time(utc, "Europe/Berlin", "HH:mm") == local_time
    assert formats.format_date(utc, "Europe/Berlin", "yyyy-MM-dd") == local_date


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        formats.format_time(dt.datetime(2026, 1, 1, 9), "Asia/Riyadh")
    with pytest.raises(ValueError):
        formats.format_date(at(2026, 1, 1, 9))  # which day depends on the zone


def test_week_starts_on_sunday_in_saudi_arabia_in_both_languages():
    for lang in ("en", "ar"):
        set_language(lang)
        assert formats.first_week_day() == 6
        assert formats.weekend_days() == {4, 5}
    assert str(formats.babel_locale("ar")) == "ar_SA" and str(formats.babel_locale("en")) == "en_001"
    formats.set_territory("DE")
    assert formats.first_week_day() == 0
    assert str(formats.babel_locale("en")) == "en_DE"


def test_durations_numbers_currency():
    set_language("en")
    assert formats.format_duration_minutes(90) == "1 hr 30 mins"
    assert formats.format_duration_minutes(45) == "45 mins"
    assert formats.format_duration_minutes(120) == "2 hrs"
    assert formats.format_number(1234.5) == "1,234.5"
    assert formats.format_currency("150.00") == "SAR\u00a0150.00"
    set_language("ar")
    assert formats.format_duration_minutes(90) == "ساعة و30 دقيقة"
    assert formats.format_duration_minutes(150) == "ساعتان و30 دقيقة"
    assert formats.format_duration_minutes(5) == "5 دقائق"
    assert formats.format_currency("150.00") == "\u200f150.00\u00a0ر.س.\u200f"
    formats.set_digits("arab")
    assert formats.format_number(1234.5) == "١٬٢٣٤٫٥"
    assert formats.format_duration_minutes(90) == "ساعة و٣٠ دقيقة"
    assert formats.localize_digits("3 of 10") == "٣ of ١٠"
    set_language("en")
    assert formats.format_number(1234.5) == "1,234.5"  # English always shows Latin digits
    with pytest.raises(ValueError):
        formats.set_digits("thai")


def test_hijri_dates():
    set_language("en")
    assert formats.hijri_date(dt.date(2024, 3, 11)) == "1 Ramadan 1445 AH"
    assert formats.hijri_date(at(2026, 11, 21, 21, 30), "Asia/Riyadh") == "12 Jumada al-Akhirah 1448 AH"
    assert formats.hijri_date(dt.date(1900, 1, 1)) == ""
    set_language("ar")
    assert formats.hijri_date(dt.date(2024, 3, 11)) == "1 رمضان 1445 هـ"
    formats.set_digits("arab")
    assert formats.hijri_date(dt.date(2026, 11, 21)) == "١١ جمادى الآخرة ١٤٤٨ هـ"


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("أحمد", "احمد"),
        ("أَحْمَد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("آمنة", "امنه"),
        ("فاطمة", "فاطمه"),
        ("مصطفى", "مصطفي"),
        ("محمـــد", "محمد"),
        ("ٱلله", "الله"),
        ("JOSÉ Smith", "jose smith"),
        ("٠٥٠ ١٢٣", "050 123"),
        ("\u200fسارة  \u2068Lee\u2069", "ساره lee"),
    ],
)
def test_normalize_arabic_folds_spellings(a, b):
    assert normalize_arabic(a) == normalize_arabic(b)


def test_normalize_arabic_result_and_search():
    assert normalize_arabic("  أَحْمَد   مصطفى ") == "احمد مصطفي"
    assert normalize_arabic(None) == ""
    key = search_text("فاطمة", "الزهراء", "+966501234567", 42)
    assert matches("فاطمه", key) and matches("زهراء ٥٠١٢٣", key) and matches("42", key)
    assert not matches("احمد", key)


def test_isolate_wraps_latin_and_number_runs():
    text = "رقم الحجز AB-12 للعميل John Smith."
    assert isolate(text) == f"رقم الحجز {FSI}AB-12{PDI} للعميل {FSI}John Smith{PDI}."
    assert isolate(isolate(text)) == isolate(text)
    assert isolate("الهاتف +966 50 123 4567") == f"الهاتف {FSI}+966 50 123 4567{PDI}"
    assert isolate("الغرفة (Room 3)") == f"الغرفة {FSI}(Room 3){PDI}"
    assert isolate("خصم 50%") == f"خصم {FSI}50%{PDI}"
    assert isolate("مرحبا") == "مرحبا" and isolate("") == ""
    assert fsi("د. سارة") == f"{FSI}د. سارة{PDI}"


def test_display_name_falls_back():
    both = {"name": "Dr Sara", "name_translations": {"en": "Dr Sara Ali", "ar": "د. سارة علي"}}
    assert display_name(both, "ar") == "د. سارة علي"
    assert display_name(both, "en") == "Dr Sara Ali"
    assert display_name({"name": "X", "name_translations": {"ar": "أشعة"}}, "en") == "أشعة"
    assert display_name({"name": "X", "name_translations": '{"en": "", "ar": ""}'}, "en") == "X"
    assert display_name({"name": "X", "name_translations": None}, "ar") == "X"

    class Row:
        name = "Consult"
        name_translations = '{"ar": "استشارة"}'

    set_language("ar")
    assert display_name(Row()) == "استشارة"


def test_bundled_fonts_cover_arabic_and_latin():
    names = {p.name for p in i18n.font_files()}
    assert {"NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", "NotoSans-Regular.ttf"} <= names
    assert (i18n.FONTS_DIR / "OFL.txt").is_file()
    assert all(p.read_bytes()[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true") for p in i18n.font_files())
