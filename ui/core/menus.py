"""The main window's menus and the parts that fill them.

:class:`DeskPart` is the base of each part of the main window that adds actions to its
menus (:mod:`ui.windows.booking_desk`, :mod:`ui.windows.paper_desk`,
:mod:`ui.windows.screens_desk`, :mod:`ui.dialogs.shortcut_sheet`): it keeps each action's
msgid for a language switch, the dialogs it opens referenced, and says what happened in
the status bar. :class:`DeskMenus` owns the menu bar's order (File first, Help last) and
draws every menu's shortcuts left to right. :func:`menu_named` finds a menu by its title,
so a part reuses the window's menus rather than adding a second one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMenu, QProxyStyle, QStyle, QStyleOptionMenuItem

from app.i18n import N_, _
from ui.core import language


def plain(text: str) -> str:
    """A menu or action text without its mnemonic marks and trailing ellipsis:
    ``"&Print day sheet…"`` → ``"Print day sheet"`` (``&&`` stays one ``&``)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def menu_named(window, title: str) -> QMenu:
    """The menu bar's menu called ``title`` (as translated), created if missing."""
    for action in window.menuBar().actions():
        if action.menu() is not None and plain(action.text()) == plain(title):
            return action.menu()
    return window.menuBar().addMenu(title)


def isolate_shortcut(text: str) -> str:
    """``"Zoom in\tCtrl+="`` → ``"Zoom in\t\u2066Ctrl+=\u2069"`` (idempotent)."""
    label, tab, keys = text.partition("\t")
    if not tab or not keys or keys.startswith("\u2066"):
        return text
    return f"{label}\t\u2066{keys}\u2069"


class MenuShortcutStyle(QProxyStyle):
    """Menus draw each shortcut as one left-to-right isolate, so the Arabic desk shows
    ``Ctrl+=`` (not ``=+Ctrl``): Qt passes a menu entry as ``label\tshortcut``."""

    def drawControl(self, element, option, painter, widget=None) -> None:
        if element == QStyle.ControlElement.CE_MenuItem and isinstance(option, QStyleOptionMenuItem):
            option = QStyleOptionMenuItem(option)
            option.text = isolate_shortcut(option.text)
        super().drawControl(element, option, painter, widget)


class DeskPart(QObject):
    """A part of the main window ``window`` that adds actions to its menus (see the module
    docstring). Subclasses build their actions with :meth:`action` and re-set any other text
    in their own ``retranslate_ui`` (calling this one)."""

    def __init__(self, window):
        super().__init__(window)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.window = window
        self.dialogs: list[QDialog] = []
        self._msgids: dict[QAction, str] = {}  # action → msgid, for retranslate_ui

    def action(
        self, msgid: str, slot: Callable, shortcut: str | QKeySequence | None = None, icon=None
    ) -> QAction:
        """A window action labelled ``_(msgid)`` (again after a language switch) calling ``slot()``."""
        action = QAction(_(msgid), self.window)
        self._msgids[action] = msgid
        if icon is not None:
            action.setIcon(icon)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def retranslate_ui(self, _lang: str | None = None) -> None:
        for action, msgid in self._msgids.items():
            action.setText(_(msgid))

    def status(self, text: str, error: bool = False) -> None:
        """Say ``text`` in the status bar (8 s; an error with ⚠, 15 s)."""
        self.window.statusBar().showMessage(("⚠ " + text) if error else text, 15000 if error else 8000)

    def ready(self) -> bool:
        """Whether the first load is done; if not, the status bar says to try again."""
        if not self.window.state.loaded:
            self.status(_("Still loading from the branch server; try again in a moment."), error=True)
            return False
        return True

    def keep(self, dialog: QDialog) -> None:
        """Keep ``dialog`` referenced while it is open (deleted when it closes)."""
        self.dialogs.append(dialog)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.dialogs.remove(dialog) if dialog in self.dialogs else None)


class DeskMenus(DeskPart):
    """The menu bar's frame: the Help menu (created first, so every part can add to it),
    and, once every part added its menus (:meth:`finish`), File (``file_actions``, then
    Quit, Ctrl+Q) first, Help last, and every menu drawing its shortcuts left to right."""

    def __init__(self, window):
        super().__init__(window)
        self.help_menu = menu_named(window, _("&Help"))
        self.file_menu: QMenu | None = None
        self.menu_style: MenuShortcutStyle | None = None

    def finish(self, file_actions: list[QAction] = ()) -> None:
        bar = self.window.menuBar()
        self.act_quit = self.action(N_("&Quit"), self.window.close, "Ctrl+Q")
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
        first = bar.actions()[0] if bar.actions() else None
        self.file_menu = QMenu(_("&File"), self.window)
        for action in file_actions:
            self.file_menu.addAction(action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_quit)
        bar.insertMenu(first, self.file_menu)
        bar.removeAction(self.help_menu.menuAction())
        bar.addMenu(self.help_menu)
        self.style_menus()

    def style_menus(self) -> None:
        self.menu_style = self.menu_style or MenuShortcutStyle()
        for menu in self.window.findChildren(QMenu):
            if menu.style() is not self.menu_style:
                menu.setStyle(self.menu_style)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        super().retranslate_ui()
        if self.file_menu is not None:
            self.file_menu.setTitle(_("&File"))
            self.style_menus()  # menus rebuilt by a language switch
        self.help_menu.setTitle(_("&Help"))
