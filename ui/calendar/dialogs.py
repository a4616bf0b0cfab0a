"""The calendar's dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _
from app.i18n.text import display_name, fsi
from ui.core import formatting as f


class OverbookDialog(QDialog):
    """Ask why a booking goes on a taken slot (the reason is kept in the booking's history)."""

    def __init__(self, booking: dict, when: str, resource: dict | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_("Overbook"))
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText(_("Why does this booking go on a taken slot? (required)"))
        layout = QVBoxLayout(self)
        # Translators: the overbook dialog: {name} is the customer, {when} the new time, {resource} who.
        text = _("{name} → {when}, {resource}: this time is not free.").format(
            name=fsi(f.customer_name(booking)),
            when=fsi(when),
            resource=fsi(display_name(resource) if resource else ""),
        )
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        layout.addWidget(QLabel(_("Reason")))
        layout.addWidget(self.reason_edit)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = box.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(_("Overbook"))
        self.ok.setEnabled(False)
        box.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        self.reason_edit.textChanged.connect(lambda: self.ok.setEnabled(bool(self.reason())))
        layout.addWidget(box)
        self.resize(420, 240)

    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()
