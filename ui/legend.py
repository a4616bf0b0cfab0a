"""The calendar's legend: one swatch per booking type shown (its colour), then the status
marks painted on the blocks."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.domain.model import Status, VisitStatus
from app.i18n.labels import status_label
from app.i18n.text import display_name

#: Status marks of the legend, in visit order: (status, visit status) → colour.
STATUSES = ((Status.PENDING_APPROVAL, None, "#6a1b9a"), (Status.CONFIRMED, VisitStatus.CHECKED_IN, "#f9a825"),
            (Status.CONFIRMED, VisitStatus.IN_PROGRESS, "#2e7d32"), (Status.CONFIRMED, VisitStatus.COMPLETED, "#78909c"),
            (Status.CONFIRMED, VisitStatus.NO_SHOW, "#c62828"))


class Legend(QWidget):
    """Painted in one line; what does not fit is left out (the tooltip lists everything)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.entries: list[tuple[str, QColor, str]] = []   # (text, colour, kind: type|status)
        self._shown: tuple = ({}, None)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.entries = []
        self.set_types(*self._shown)

    def set_types(self, types: dict[str, dict], bookings: list[dict] | None = None) -> None:
        used = {b.get("typeId") for b in bookings} if bookings else set(types)
        self._shown = (types, [{"typeId": t} for t in used] if bookings else None)
        entries = [(display_name(t), QColor(t.get("color") or "#90a4ae"), "type")
                   for t in types.values() if t["id"] in used or not bookings]
        entries.sort(key=lambda e: e[0])
        entries += [(status_label(s, v), QColor(c), "status") for s, v, c in STATUSES]
        if entries != self.entries:
            self.entries = entries
            self.setToolTip("\n".join(e[0] for e in entries))
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(300, QFontMetrics(self.font()).height() + 8)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setLayoutDirection(self.layoutDirection())
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        metrics = QFontMetrics(self.font())
        h = self.height()
        x = 0
        for i, (text, color, kind) in enumerate(self.entries):
            if kind == "status" and i and self.entries[i - 1][2] == "type":
                x += 10
            w = 14 + metrics.horizontalAdvance(text) + 12
            if x + w > self.width():
                break
            swatch = QRect(x, (h - 10) // 2, 10, 10) if kind == "type" else QRect(x, (h - 10) // 2, 10, 3)
            label = QRect(x + 14, 0, w - 14, h)
            if rtl:
                swatch.moveRight(self.width() - 1 - x)
                label.moveRight(self.width() - 1 - x - 14)
            p.fillRect(swatch, color)
            p.setPen(QColor("#37474f"))
            p.drawText(label, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            x += w
        p.end()
