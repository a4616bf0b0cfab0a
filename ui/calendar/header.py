"""The resource names above the day canvas's columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.calendar.common import AXIS_COLOR, HEADER_H
from ui.calendar.layout import elide_end

if TYPE_CHECKING:
    from ui.calendar.canvas import TimeCanvas


from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QWidget,
)

from app.i18n.text import display_name


class ResourceHeader(QWidget):
    """The resource names above the day canvas's columns (kept aligned with them)."""

    def __init__(self, canvas: TimeCanvas, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.setFixedHeight(HEADER_H)
        canvas.layoutChanged.connect(self.update)

    def offset(self) -> int:
        return (
            self.canvas.mapTo(self.window(), QPoint(0, 0)).x() - self.mapTo(self.window(), QPoint(0, 0)).x()
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setLayoutDirection(self.layoutDirection())
        p.fillRect(self.rect(), QColor(AXIS_COLOR))
        offset = self.offset()
        bold = QFont(self.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        p.setFont(bold)
        for i, resource in enumerate(self.canvas.resources):
            col = self.canvas.column_rect(i).translated(offset, 0)
            rect = QRect(col.x() + 6, 0, col.width() - 12, self.height())
            p.setPen(QColor("#1c2530"))
            name = display_name(resource)
            if metrics.horizontalAdvance(name) > rect.width():  # wrap on two lines, elide the rest
                words, lines = name.split(), [""]
                for word in words:
                    joined = f"{lines[-1]} {word}".strip()
                    if metrics.horizontalAdvance(joined) <= rect.width() or not lines[-1] or len(lines) == 2:
                        lines[-1] = joined
                    else:
                        lines.append(word)
                name = "\n".join(
                    elide_end(x, rect.width(), lambda t, _r: metrics.horizontalAdvance(t), "") or x[:1]
                    for x in lines
                )
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, name)
            p.setPen(QColor("#c3c9d0"))
            x = col.left() if not self.canvas.is_rtl() else col.right()
            p.drawLine(x, 8, x, self.height())
        p.setPen(QColor("#c3c9d0"))
        p.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        p.end()
