"""*Help → Keyboard shortcuts* (F1): every shortcut of the desk's actions, doctor mode's
keys and the keys of its dialogs, in the desk's language (translated labels, Qt's
translated key names, the mnemonics of the translated labels).

``ShortcutsHelp(window)`` adds the entry to a :class:`ui.windows.main.MainWindow`'s Help
menu; :class:`ShortcutSheet` is the dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.i18n import N_, _
from ui.core import keyboard
from ui.core.actions import PATIENT_ACTIONS
from ui.core.menus import DeskPart, plain
from ui.windows.doctor_mode import ACCEPT_NEXT_SHORTCUT

#: Keys that are not menu actions, for the shortcut sheet: (keys, msgid).
KEY_HINTS = (
    (("Enter",), N_("New booking: pick the highlighted customer; on a free time, book it")),
    (("Down", "Up"), N_("New booking: move through the customers found")),
    (("Esc",), N_("Close a dialog; leave full screen on the waiting-room screen")),
    (("F11",), N_("Waiting-room screen: full screen on or off")),
    (("Tab", "Shift+Tab"), N_("Next or previous field")),
    (("Enter",), N_("Cancel booking: confirm with the reason chosen or typed")),
)
#: The new-booking dialog's mnemonics, for the shortcut sheet: (label msgid, msgid). The key
#: shown is Alt + the label's mnemonic in the desk's language (ui.core.keyboard makes it work on
#: any keyboard layout).
MNEMONIC_HINTS = (
    (N_("&New customer…"), N_("New booking: new customer")),
    (N_("&Date:"), N_("New booking: choose the date")),
    (N_("&With:"), N_("New booking: choose the provider")),
    (N_("Put in &queue"), N_("New booking: put in the queue (walk-in)")),
    (N_("&Print ticket"), N_("New booking: print the queue ticket")),
    (N_("Customer c&ard…"), N_("New booking: the chosen customer's card")),
)


def native_keys(keys: tuple[str, ...] | list[str]) -> str:
    """``("Down", "Up")`` → ``"Down / Up"`` in Qt's translated key names (الأسفل / الأعلى)."""
    return " / ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) or k for k in keys)


def mnemonic_keys(label: str) -> str:
    """``"عميل &جديد…"`` → ``"Alt+ج"``: the key of a translated label's mnemonic."""
    letter = keyboard.mnemonic_of(label)
    return native_keys([f"Alt+{letter.upper()}"]) if letter else ""


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(label, keys) of each action with a shortcut and a text, once each, in order."""
    rows, seen = [], set()
    for action in actions:
        keys = [
            k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()
        ]
        if not keys or not action.text():
            continue
        row = (plain(action.text()), " / ".join(keys))
        if row not in seen:
            seen.add(row)
            rows.append(row)
    return rows


class ShortcutSheet(QDialog):
    """Every shortcut of the desk's actions (translated labels), and the keys of dialogs."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Keyboard shortcuts"))
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels([_("Action"), _("Keys")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for row, (text, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(text))
            item = QTableWidgetItem(f"\u2066{keys}\u2069")  # key names read left to right
            self.table.setItem(row, 1, item)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Everything can also be reached with Tab and Shift+Tab.")))
        layout.addWidget(self.table, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(620, 560)

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.item(r, 0).text(), self.table.item(r, 1).text().strip("\u2066\u2069"))
            for r in range(self.table.rowCount())
        ]


class ShortcutsHelp(DeskPart):
    """*Help → Keyboard shortcuts* (F1) on ``window``, in the Help menu ``help_menu``."""

    def __init__(self, window, help_menu):
        super().__init__(window)
        self.act_shortcuts = self.action(
            N_("&Keyboard shortcuts"), self.show_shortcuts, QKeySequence.StandardKey.HelpContents
        )
        help_menu.addAction(self.act_shortcuts)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """The sheet's rows: the window's actions, doctor mode's keys, then the dialogs' keys."""
        actions = list(self.window.findChildren(QAction))
        rows = shortcut_rows(actions)
        doctor = [(_("Doctor mode: ") + plain(_("Accept next")), ACCEPT_NEXT_SHORTCUT)]
        doctor += [
            (_("Doctor mode: ") + _(label), keys)
            for label, keys in zip(
                (N_("Start"), N_("End"), N_("No-show")), (k for _n, k in PATIENT_ACTIONS), strict=True
            )
        ]
        hints = [(_(msgid), native_keys(keys)) for keys, msgid in KEY_HINTS]
        hints += [(_(msgid), keys) for label, msgid in MNEMONIC_HINTS if (keys := mnemonic_keys(_(label)))]
        native = [
            (text, QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) or keys)
            for text, keys in doctor
        ]
        return rows + [r for r in native if r not in rows] + hints

    def show_shortcuts(self) -> ShortcutSheet:
        sheet = ShortcutSheet(self.shortcut_rows(), self.window)
        self.keep(sheet)
        sheet.open()
        return sheet
