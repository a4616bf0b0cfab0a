"""Closing the day: this desk's and user's cash drawer, counted against what was taken.

*Day → Close the day…* loads ``GET /management/drawer`` (expected takings of the
branch-local day by method, refunds subtracted, for the calling desk and user), lets the
receptionist type what is counted per method (Latin or Arabic-Indic digits), shows the
difference as they type, and saves it with ``POST /management/drawer-counts`` — a
difference needs a note. The saved count prints on the 80 mm roll (or to PDF) with
:func:`drawer_html`. Money in minor units (:mod:`app.domain.payments`).
"""

from __future__ import annotations

import html
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain import payments as pay
from app.domain.clock import from_iso
from app.domain.errors import BookingError
from app.i18n import _, is_rtl
from app.i18n import formats as fmt
from app.i18n.labels import error_message
from ui.core.errors import message_for
from ui.core.tasks import Tasks
from ui.paper.receipt import ltr_cells, method_label, money


def drawer_html(report: dict, zone: str) -> str:
    """A saved drawer count (``POST /management/drawer-counts``' answer) as an 80 mm page:
    per method expected, counted and difference, the totals, the note, who and when."""
    d = "rtl" if is_rtl() else "ltr"
    currency = report.get("currency") or pay.CURRENCY_DEFAULT

    def e(value) -> str:
        return html.escape(str(value if value is not None else ""))

    def row(cells, tag="td", bold=False) -> str:
        wrap = (lambda t: f"<b>{t}</b>") if bold else (lambda t: t)
        return (
            "<tr>"
            + "".join(
                f'<{tag} align="{a}" dir="{d}">{wrap(e(c))}</{tag}>'
                for c, a in ltr_cells(*((c, "right" if i else "left") for i, c in enumerate(cells)))
            )
            + "</tr>"
        )

    head = row((_("Method"), _("Expected"), _("Counted"), _("Difference")), "th")
    rows = []
    for method in pay.METHODS:
        cells = (
            method_label(method),
            money(report["expected"].get(method, 0), currency),
            money(report["counted"].get(method, 0), currency),
            money(report["differenceByMethod"].get(method, 0), currency),
        )
        rows.append(row(cells))
    total = (
        _("Total"),
        money(sum(report["expected"].values()), currency),
        money(sum(report["counted"].values()), currency),
        money(report["difference"], currency),
    )
    rows.append(row(total, bold=True))
    lines = [fmt.format_date(date.fromisoformat(report["date"]), format="full")]
    # Translators: on the printed cash drawer report: the desk and the person at it.
    lines.append(
        _("Desk {desk} · {user}").format(desk=report.get("deskId") or "—", user=report.get("user") or "—")
    )
    if report.get("note"):
        lines.append(_("Note: {note}").format(note=report["note"]))
    if report.get("createdAt"):
        lines.append(_("Saved {when}").format(when=fmt.format_datetime(from_iso(report["createdAt"]), zone)))
    heading = _("Cash drawer")
    return (
        f'<html><body dir="{d}"><p align="center" style="font-size:12pt; font-weight:bold;">'
        f"{e(heading)}</p>"
        + "".join(f'<p align="center" dir="{d}" style="margin:0;">{e(x)}</p>' for x in lines)
        + f'<hr/><table width="100%" cellspacing="0" cellpadding="1">{head}{"".join(rows)}'
        "</table></body></html>"
    )


class CloseDayDialog(QDialog):
    """``CloseDayDialog(client, tasks, day, zone, parent)``; ``saved(report)`` after the save."""

    saved = Signal(dict)

    def __init__(self, client, tasks: Tasks, day: date, zone: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.client, self.tasks, self.day, self.zone = client, tasks, day, zone
        self.expected: dict[str, int] | None = None
        self.currency = pay.CURRENCY_DEFAULT
        self.report: dict | None = None
        self.setWindowTitle(_("Close the day"))
        self.heading = QLabel(fmt.format_date(day, format="full"))
        grid = QGridLayout()
        for col, text in enumerate((_("Method"), _("Expected"), _("Counted"), _("Difference"))):
            grid.addWidget(QLabel(f"<b>{html.escape(text)}</b>"), 0, col)
        self.expected_labels: dict[str, QLabel] = {}
        self.counted: dict[str, QLineEdit] = {}
        self.differences: dict[str, QLabel] = {}
        for row, method in enumerate(pay.METHODS, start=1):
            label = QLabel(method_label(method))
            self.expected_labels[method] = QLabel("…")
            self.counted[method] = edit = QLineEdit()
            edit.setInputMethodHints(Qt.InputMethodHint.ImhFormattedNumbersOnly)
            edit.textChanged.connect(lambda _t: self._update())
            label.setBuddy(edit)
            self.differences[method] = QLabel()
            for col, widget in enumerate(
                (label, self.expected_labels[method], edit, self.differences[method])
            ):
                grid.addWidget(widget, row, col)
        self.total = QLabel()
        grid.addWidget(self.total, len(pay.METHODS) + 1, 0, 1, 4)
        self.note = QLineEdit()
        self.note.setMaxLength(1000)
        self.note.setPlaceholderText(_("Why does the drawer differ? (required when it does)"))
        note_label = QLabel(_("&Note"))
        note_label.setBuddy(self.note)
        self.print_report = QCheckBox(_("&Print the report"))
        self.print_report.setChecked(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(_("Save"))
        self.ok.setDefault(True)
        self.ok.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Close"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(grid)
        layout.addWidget(note_label)
        layout.addWidget(self.note)
        layout.addWidget(self.print_report)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(520, 360)

    def load(self) -> None:
        self.tasks.run(
            self.client.drawer(self.day), self._loaded, lambda exc: self.error.setText(message_for(exc))
        )

    def _loaded(self, drawer: dict) -> None:
        self.expected, self.currency = drawer["expected"], drawer.get("currency") or self.currency
        for method, label in self.expected_labels.items():
            label.setText(money(self.expected.get(method, 0), self.currency))
        self.ok.setEnabled(True)
        self.counted[pay.METHODS[0]].setFocus()
        self._update()

    def counted_minor(self) -> dict[str, int]:
        """What was typed per method, minor units (empty = 0). Raises BookingError."""
        out = {}
        for method, edit in self.counted.items():
            text = edit.text().strip()
            out[method] = pay.parse_amount(text, self.currency) if text else 0
        return out

    def _update(self) -> None:
        if self.expected is None:
            return
        self.error.clear()
        try:
            counted = self.counted_minor()
        except BookingError:
            self.total.setText(error_message(pay.BAD_AMOUNT))
            return
        for method, label in self.differences.items():
            label.setText(money(counted[method] - self.expected.get(method, 0), self.currency))
        difference = sum(counted.values()) - sum(self.expected.values())
        # Translators: the close-the-day dialog's totals line.
        self.total.setText(
            _("Expected {expected} · Counted {counted} · Difference {difference}").format(
                expected=money(sum(self.expected.values()), self.currency),
                counted=money(sum(counted.values()), self.currency),
                difference=money(difference, self.currency),
            )
        )

    def submit(self) -> None:
        try:
            counted = self.counted_minor()
        except BookingError as exc:
            self.error.setText(error_message(exc.code))
            return
        differs = any(counted[m] != (self.expected or {}).get(m, 0) for m in counted)
        if differs and not self.note.text().strip():
            self.error.setText(_("The drawer differs from the expected: write a note."))
            self.note.setFocus()
            return
        self.ok.setEnabled(False)
        self.tasks.run(
            self.client.close_drawer(self.day, counted, note=self.note.text().strip() or None),
            self._done,
            self._refused,
        )

    def _refused(self, exc: BaseException) -> None:
        self.ok.setEnabled(True)
        self.error.setText(message_for(exc))

    def _done(self, report: dict) -> None:
        self.report = report
        self.saved.emit(report)
        self.accept()
