"""Which resources the calendar shows: a tool button with a checkable menu."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from app.i18n import _
from app.i18n.formats import format_number
from app.i18n.text import display_name
from ui.core import language


class ResourceFilter(QToolButton):
    changed = Signal(object)  # the set of hidden resource ids

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.menu_ = QMenu(self)
        self.setMenu(self.menu_)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.hidden: set[str] = set()
        self.actions_: dict[str, QAction] = {}
        self._ids: list[str] = []
        self._resources: list[dict] = []
        self._show_all: QAction | None = None
        self._label()

    def set_resources(self, resources: list[dict]) -> None:
        ids = [r["id"] for r in resources]
        if ids == self._ids:
            return
        self._ids, self._resources = ids, list(resources)
        self.menu_.clear()
        self.actions_.clear()
        show_all = self._show_all = self.menu_.addAction(_("Show all"))
        show_all.triggered.connect(lambda: self.set_hidden(set()))
        self.menu_.addSeparator()
        for resource in resources:
            action = self.menu_.addAction(display_name(resource))
            action.setCheckable(True)
            action.setChecked(resource["id"] not in self.hidden)
            action.toggled.connect(lambda on, rid=resource["id"]: self._toggle(rid, on))
            self.actions_[resource["id"]] = action
        self.hidden &= set(ids)
        self._label()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        if self._show_all is not None:
            self._show_all.setText(_("Show all"))
        for resource in self._resources:
            self.actions_[resource["id"]].setText(display_name(resource))
        self._label()

    def _toggle(self, resource_id: str, on: bool) -> None:
        hidden = set(self.hidden)
        (hidden.discard if on else hidden.add)(resource_id)
        self.set_hidden(hidden)

    def set_hidden(self, hidden: set[str]) -> None:
        if hidden == self.hidden:
            return
        self.hidden = set(hidden)
        for rid, action in self.actions_.items():
            action.blockSignals(True)
            action.setChecked(rid not in self.hidden)
            action.blockSignals(False)
        self._label()
        self.changed.emit(set(self.hidden))

    def _label(self) -> None:
        total = len(self._ids)
        shown = total - len(self.hidden)
        if not self.hidden:
            self.setText(_("All resources"))
        else:
            # Translators: the calendar's resource filter when some are hidden, e.g. "3 of 8 resources".
            self.setText(
                _("{shown} of {total} resources").format(
                    shown=format_number(shown), total=format_number(total)
                )
            )
