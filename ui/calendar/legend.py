"""The calendar's legend: one swatch per booking type shown (its colour), then the states,
each with its colour and the pattern a block too small for a word carries.

Nothing is dropped: the entries wrap onto a second row, and what does not fit in two rows
is listed by a "+N" button at the end (a menu with the same swatches)."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QIcon, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolButton, QWidget

from app.domain.model import Status, VisitStatus
from app.i18n import _
from app.i18n.formats import format_number
from app.i18n.labels import status_label
from app.i18n.text import display_name
from ui.calendar.common import PATTERN_COLOR, STATE_PATTERN
from ui.core import language

#: State entries of the legend, in visit order: (status, visit status, colour).
STATUSES = (
    (Status.PENDING_APPROVAL, None, "#6a1b9a"),
    (Status.CONFIRMED, VisitStatus.CHECKED_IN, "#f9a825"),
    (Status.CONFIRMED, VisitStatus.IN_PROGRESS, "#2e7d32"),
    (Status.CONFIRMED, VisitStatus.COMPLETED, "#78909c"),
    (Status.CONFIRMED, VisitStatus.NO_SHOW, "#c62828"),
    (Status.CANCELED, None, "#b71c1c"),
)
MAX_ROWS = 2
SWATCH_W, GAP, GROUP_GAP = 14, 12, 10


class Legend(QWidget):
    """Entries in rows (at most :data:`MAX_ROWS`), the rest behind a "+N" menu button."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        # (text, colour, kind: type|status, pattern or None)
        self.entries: list[tuple[str, QColor, str, Qt.BrushStyle | None]] = []
        self.placed: list[tuple[int, QRect, QRect]] = []  # (entry index, swatch, label) painted
        self.overflow: list[int] = []  # entry indexes behind the "+N" button
        self._shown: tuple = ({}, None)
        self.more = QToolButton(self)
        self.more.setAutoRaise(True)
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more.setMenu(QMenu(self.more))
        self.more.hide()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def retranslate_ui(self, _lang: str | None = None) -> None:
        self.entries = []
        self.set_types(*self._shown)

    def set_types(self, types: dict[str, dict], bookings: list[dict] | None = None) -> None:
        used = {b.get("typeId") for b in bookings} if bookings else set(types)
        self._shown = (types, [{"typeId": t} for t in used] if bookings else None)
        entries = [
            (display_name(t), QColor(t.get("color") or "#90a4ae"), "type", None)
            for t in types.values()
            if t["id"] in used or not bookings
        ]
        entries.sort(key=lambda e: e[0])
        entries += [
            (status_label(s, v), QColor(c), "status", STATE_PATTERN.get(v or s)) for s, v, c in STATUSES
        ]
        if entries != self.entries:
            self.entries = entries
            self.setToolTip("\n".join(e[0] for e in entries))
            self._relayout()

    # layout ------------------------------------------------------------------------------
    def row_height(self) -> int:
        return QFontMetrics(self.font()).height() + 4

    def arrange(self, width: int) -> tuple[list[tuple[int, QRect, QRect]], list[int]]:
        """Where each entry goes at ``width`` (left to right; mirrored when painted in RTL):
        the placed ones and the indexes left for the "+N" menu."""
        metrics = QFontMetrics(self.font())
        h = self.row_height()
        more_w = metrics.horizontalAdvance("+" + format_number(len(self.entries)) + "…") + 16
        placed: list[tuple[int, QRect, QRect]] = []
        x, row = 0, 0
        for i, (text, _color, kind, _pattern) in enumerate(self.entries):
            if kind == "status" and i and self.entries[i - 1][2] == "type" and x:
                x += GROUP_GAP
            w = SWATCH_W + metrics.horizontalAdvance(text) + GAP
            while True:
                last_row = row == MAX_ROWS - 1
                room = width - (more_w if last_row and i < len(self.entries) - 1 else 0)
                if x + w <= room:
                    break
                if last_row:  # the rest goes behind the "+N" button
                    return placed, list(range(i, len(self.entries)))
                row, x = row + 1, 0
            y = row * h
            placed.append((i, QRect(x, y + (h - 10) // 2, 10, 10), QRect(x + SWATCH_W, y, w - SWATCH_W, h)))
            x += w
        return placed, []

    def _relayout(self) -> None:
        self.placed, self.overflow = self.arrange(max(1, self.width()))
        rows = 1 + max((swatch.y() // self.row_height() for _i, swatch, _l in self.placed), default=0)
        self.setFixedHeight(rows * self.row_height() + 4)
        menu = self.more.menu()
        menu.clear()
        for i in self.overflow:
            menu.addAction(self._icon(i), self.entries[i][0])
        if self.overflow:
            # Translators: the legend's button listing the entries that do not fit, e.g. "+3…".
            self.more.setText(_("+{count}…").format(count=format_number(len(self.overflow))))
            self.more.setToolTip("\n".join(self.entries[i][0] for i in self.overflow))
            self.more.adjustSize()
            h = self.row_height()
            x = self.width() - self.more.width() if not self._rtl() else 0
            self.more.setGeometry(QRect(x, (MAX_ROWS - 1) * h, self.more.width(), h))
            self.more.show()
        else:
            self.more.hide()
        self.update()

    def _rtl(self) -> bool:
        return self.layoutDirection() == Qt.LayoutDirection.RightToLeft

    def _icon(self, index: int) -> QIcon:
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        self._paint_swatch(p, QRect(1, 1, 10, 10), index)
        p.end()
        return QIcon(pixmap)

    def _paint_swatch(self, p: QPainter, rect: QRect, index: int) -> None:
        _text, color, kind, pattern = self.entries[index]
        p.fillRect(rect, color)
        if pattern is not None:
            p.fillRect(rect, QBrush(QColor("#ffffff"), pattern))
            p.setPen(QColor(PATTERN_COLOR))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect.adjusted(0, 0, -1, -1))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._relayout()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (event.Type.LayoutDirectionChange, event.Type.FontChange):
            self._relayout()

    def sizeHint(self) -> QSize:
        return QSize(300, self.height() or self.row_height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.row_height() + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setLayoutDirection(self.layoutDirection())
        rtl = self._rtl()
        width = self.width()
        for i, swatch, label in self.placed:
            if rtl:
                swatch = QRect(
                    width - swatch.x() - swatch.width(), swatch.y(), swatch.width(), swatch.height()
                )
                label = QRect(width - label.x() - label.width(), label.y(), label.width(), label.height())
            self._paint_swatch(p, swatch, i)
            p.setPen(QColor("#37474f"))
            p.drawText(label, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.entries[i][0])
        p.end()
