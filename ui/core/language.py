"""The desk's language and digits, switched live (Frescobaldi's translateUI, Anki's setup).

One :class:`LanguageController` per application (:func:`controller`). ``apply(lang)``
sets, once for the whole app and in this order: ``QLocale.setDefault``, Qt's own
translations (``qtbase_<lang>.qm`` from ``QLibraryInfo.TranslationsPath``; the
``QTranslator`` is kept referenced and the previous one removed), the layout direction,
the font families (Arabic-capable first in Arabic), then the gettext catalog
(:func:`app.i18n.set_language`), whose listeners are the widgets' ``retranslate_ui``
methods (held weakly), and last :attr:`LanguageController.languageChanged`.

Widgets follow the pattern::

    class Panel(QWidget):
        def __init__(self):
            ...
            self.retranslate_ui()
            language.follow(self)          # calls self.retranslate_ui() after every switch

        def retranslate_ui(self, _lang: str | None = None) -> None:
            self.title.setText(_("Queue"))

The settings (language, digits) are per desk user (:mod:`app.desk_prefs`); the menu
entries (View → Language, View → Digits) save them; ``--lang`` overrides for one run.
Pseudo-localization (``--lang pseudo`` or ``ISTIQBAL_PSEUDO=1``) is English stretched and
bracketed, laid out right to left.
"""

from __future__ import annotations

import logging
import os
import weakref

import shiboken6
from PySide6.QtCore import QLibraryInfo, QLocale, QObject, Qt, QTranslator, Signal
from PySide6.QtGui import QAction, QActionGroup, QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QLineEdit, QMenu, QStyle, QWidget

from app import desk_prefs, i18n
from app.i18n import _
from app.i18n import formats as fmt

__all__ = ["LanguageController", "controller", "direction_icon", "follow", "ltr_field", "startup_language"]

log = logging.getLogger(__name__)
PSEUDO_ENV = "ISTIQBAL_PSEUDO"
#: Qt's own catalogs to load for a language (file, print and message dialogs, buttons).
QT_CATALOGS = ("qtbase",)


def startup_language(cli_lang: str | None) -> str:
    """``--lang`` if given, else pseudo when ``ISTIQBAL_PSEUDO=1``, else the saved setting."""
    if cli_lang:
        return cli_lang
    if os.environ.get(PSEUDO_ENV, "").strip() not in ("", "0"):
        return i18n.PSEUDO
    return desk_prefs.load()["language"]


class LanguageController(QObject):
    languageChanged = Signal(str)  # 'ar', 'en' or 'pseudo', after every widget is retranslated
    digitsChanged = Signal(str)  # 'latn' or 'arab'

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.app = app
        self.translators: list[QTranslator] = []  # kept referenced while installed
        self.families: list[str] | None = None
        self.lang: str | None = None

    # language --------------------------------------------------------------------------
    def apply(self, lang: str, *, save: bool = False) -> None:
        """Switch the whole app to ``lang`` ('ar', 'en' or 'pseudo'); ``save``: remember it."""
        setting = i18n.PSEUDO if lang.strip().lower() == i18n.PSEUDO else i18n._normalise(lang)
        text_lang = "en" if setting == i18n.PSEUDO else setting
        rtl = i18n.is_rtl(setting)
        QLocale.setDefault(
            QLocale(QLocale.Language.Arabic, QLocale.Country.SaudiArabia)
            if text_lang == "ar"
            else QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
        )
        self._load_qt_translations(text_lang)
        self.app.setLayoutDirection(Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight)
        self._set_font(text_lang)
        self.lang = setting
        i18n.set_language(setting)  # runs every retranslate_ui
        if save:
            desk_prefs.save(language=setting)
        self.languageChanged.emit(setting)

    def _load_qt_translations(self, lang: str) -> None:
        for translator in self.translators:
            self.app.removeTranslator(translator)
        self.translators.clear()
        if lang == "en":
            return
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        for name in QT_CATALOGS:
            translator = QTranslator(self)
            if translator.load(f"{name}_{lang}", folder):
                self.app.installTranslator(translator)
                self.translators.append(translator)
            else:
                log.warning(
                    "Qt's %s_%s.qm is not in %s; Qt's own dialogs stay in English", name, lang, folder
                )

    def _set_font(self, lang: str) -> None:
        if self.families is None:
            self.families = load_fonts()
        arabic = next((f for f in self.families if "Arabic" in f), None)
        latin = next((f for f in self.families if "Arabic" not in f), None)
        wanted = [f for f in ((arabic, latin) if lang == "ar" else (latin, arabic)) if f]
        if wanted:
            font = QFont(self.app.font())
            font.setFamilies(wanted)
            font.setPointSizeF(10)
            self.app.setFont(font)

    # digits ----------------------------------------------------------------------------
    def set_digits(self, system: str, *, save: bool = False) -> None:
        """'latn' (0123) or 'arab' (٠١٢٣) for the Arabic UI; views re-render like on a switch."""
        fmt.set_digits(system)
        if save:
            desk_prefs.save(digits=system)
        i18n._notify(i18n.language_setting())  # numbers are text: the same re-render
        self.digitsChanged.emit(system)

    # menus -----------------------------------------------------------------------------
    def install_menus(self, view_menu: QMenu) -> LanguageMenus:
        """View → Language (each language in its own name) and View → Digits."""
        return LanguageMenus(self, view_menu)


class LanguageMenus(QObject):
    """The Language and Digits submenus of a window's View menu (checked, retranslated)."""

    def __init__(self, owner: LanguageController, view_menu: QMenu):
        super().__init__(view_menu)
        self.language_menu = view_menu.addMenu("")
        group = QActionGroup(self.language_menu)
        for code in i18n.SUPPORTED[::-1]:  # English, العربية: each in its own language
            action = QAction(i18n.LANGUAGES[code], self.language_menu)
            action.setCheckable(True)
            action.setData(code)
            action.triggered.connect(lambda _checked=False, c=code: owner.apply(c, save=True))
            group.addAction(action)
            self.language_menu.addAction(action)
        self.digits_menu = view_menu.addMenu("")
        digits_group = QActionGroup(self.digits_menu)
        for system in fmt.DIGITS:
            action = QAction("", self.digits_menu)
            action.setCheckable(True)
            action.setData(system)
            action.triggered.connect(lambda _checked=False, s=system: owner.set_digits(s, save=True))
            digits_group.addAction(action)
            self.digits_menu.addAction(action)
        self.retranslate_ui()
        follow(self)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.language_menu.setTitle(_("&Language"))
        self.digits_menu.setTitle(_("Di&gits"))
        for action in self.language_menu.actions():
            action.setChecked(action.data() == i18n.language_setting())
        # Translators: the digit choices, each showing its own digits (0123 / ٠١٢٣).
        labels = {"latn": _("Latin digits (0123)"), "arab": _("Arabic-Indic digits (٠١٢٣)")}
        for action in self.digits_menu.actions():
            action.setText(labels[action.data()])
            action.setChecked(action.data() == fmt.digits_setting())
        # Arabic-Indic digits apply to the Arabic UI; English always shows 0123.
        self.digits_menu.setEnabled(i18n.current_language() == "ar")


_controller: LanguageController | None = None


def controller() -> LanguageController:
    """The application's controller (created with the QApplication's lifetime)."""
    global _controller
    app = QApplication.instance()
    if _controller is None or _controller.app is not app:
        _controller = LanguageController(app)
    return _controller


def load_fonts() -> list[str]:
    """Register the bundled fonts (resources/fonts); returns their family names."""
    families: list[str] = []
    for path in i18n.font_files():
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            log.warning("could not load font %s", path)
            continue
        families += [f for f in QFontDatabase.applicationFontFamilies(font_id) if f not in families]
    return families


# --- helpers for widgets ------------------------------------------------------------------


def follow(widget: QObject) -> None:
    """Call ``widget.retranslate_ui(lang)`` after every language (or digits) switch.

    Held weakly, and dropped when Qt deletes the widget (its Python wrapper may outlive it)."""
    ref = weakref.ref(widget)

    def call(lang: str) -> None:
        target = ref()
        if target is None or not shiboken6.isValid(target):
            unsubscribe()
            return
        target.retranslate_ui(lang)

    unsubscribe = i18n.on_language_changed(call)
    widget.destroyed.connect(lambda _obj=None: unsubscribe())


def ltr_field(field: QLineEdit) -> QLineEdit:
    """A phone number or e-mail field: left to right and left-aligned in any UI language."""
    field.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    field.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return field


def direction_icon(widget: QWidget, forward: bool) -> QIcon:
    """The arrow for 'next' (``forward``) or 'previous' in the current direction: ▶ / ◀ in
    left-to-right, mirrored in right-to-left (Qt's SP_ArrowBack/Forward follow the
    application's direction at the time they are asked for, so ask again after a switch)."""
    rtl = QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
    pointing_right = forward != rtl
    pixmap = QStyle.StandardPixmap.SP_ArrowRight if pointing_right else QStyle.StandardPixmap.SP_ArrowLeft
    return widget.style().standardIcon(pixmap)
