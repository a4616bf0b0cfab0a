"""*Day → Reports…* (Ctrl+Shift+R) on the main window. Qt Charts and the window itself
(:mod:`ui.windows.reports`) are imported only when the window first opens, so the desk's
start-up does not load them."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from app.i18n import _


class ReportsDesk(QObject):
    """The main window's *Day → Reports…* (Ctrl+Shift+R): one Reports window, raised again
    when it is open already."""

    SHORTCUT = "Ctrl+Shift+R"

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.reports_window = None
        self.action = QAction(window)
        self.action.setShortcut(QKeySequence(self.SHORTCUT))
        self.action.triggered.connect(lambda _checked=False: self.open())
        from ui.core.menus import menu_named  # the menu bar's Day menu

        day_menu = menu_named(window, _("&Day"))
        day_menu.addAction(self.action)
        self.retranslate_ui()
        from ui.core import language

        language.follow(self)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.action.setText(_("&Reports…"))

    def open(self):
        """The Reports window (made on first use: Qt Charts loads only then)."""
        from ui.windows.reports import ReportsWindow

        if self.reports_window is not None:
            self.reports_window.raise_()
            self.reports_window.activateWindow()
            return self.reports_window
        w = self.window
        today = w.state.today_date()
        dialog = ReportsWindow(w.client, w.tasks, w.state.zone, today.replace(day=1), today, w)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "reports_window", None))
        self.reports_window = dialog
        dialog.show()
        return dialog
