"""The calendar pane: a bar (legend, resource filter, zoom), then the day or the week view."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import from_local, local_day_bounds, to_iso
from app.i18n import _
from ui.calendar.canvas import DayCanvas, TimeCanvas
from ui.calendar.common import TOP_PAD, ZOOM_STEPS
from ui.calendar.dragdrop import DropHandlerMixin
from ui.calendar.header import ResourceHeader
from ui.core import language


class _Pane(QWidget):
    """A header + a scrollable canvas (the day view, or the week view with its own header)."""

    def __init__(self, canvas: TimeCanvas, header: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas, self.header = canvas, header
        self.scroll = QScrollArea()
        self.scroll.setWidget(canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.scroll, 1)


class CalendarView(DropHandlerMixin, QWidget):
    """The calendar pane: a bar (legend, resource filter, zoom), then the day view or the week
    view. ``attach(client, tasks)`` lets it fetch the week's bookings and, while a booking is
    dragged, its free times; a drop ends in :attr:`moveRequested` (with the overbook reason
    already asked when the slot is taken)."""

    moveRequested = Signal(str, object, int, str, str)  # booking id, day, military time, resource id, reason
    bookingClicked = Signal(str)
    modeChanged = Signal(str)
    bookHereRequested = Signal(str, object)  # resource id, start (an aware datetime): book on an empty slot

    def __init__(self, parent: QWidget | None = None):
        from ui.calendar.legend import Legend
        from ui.calendar.resource_filter import ResourceFilter
        from ui.calendar.week import WeekCanvas, WeekHeader

        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.client = None
        self.tasks = None
        self.mode = "day"
        self._context: tuple | None = None
        self._week_generation = 0
        self._week_opened = False
        self._drag_task = None
        self._free_task = None
        self._dialog: QDialog | None = None
        self.canvas = DayCanvas()
        self.header = ResourceHeader(self.canvas)
        self.day_pane = _Pane(self.canvas, self.header)
        self.scroll = self.day_pane.scroll
        self.week = WeekCanvas()
        self.week_header = WeekHeader(self.week)
        self.week_pane = _Pane(self.week, self.week_header)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.day_pane)
        self.stack.addWidget(self.week_pane)

        self.legend = Legend()
        self.filter = ResourceFilter()
        self.filter.changed.connect(self.set_hidden_resources)
        self.zoom_out_button, self.zoom_in_button = QToolButton(), QToolButton()
        self.act_day = QAction(_("&Day view"), self)
        self.act_day.setShortcut(QKeySequence("Ctrl+1"))
        self.act_day.setCheckable(True)
        self.act_day.setChecked(True)
        self.act_day.triggered.connect(lambda: self.set_mode("day"))
        self.act_week = QAction(_("&Week view"), self)
        self.act_week.setShortcut(QKeySequence("Ctrl+2"))
        self.act_week.setCheckable(True)
        self.act_week.triggered.connect(lambda: self.set_mode("week"))
        self.act_zoom_in = QAction(_("Zoom &in"), self)
        self.act_zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self.act_zoom_in.triggered.connect(lambda: self.zoom(1))
        self.act_zoom_out = QAction(_("Zoom &out"), self)
        self.act_zoom_out.setShortcuts([QKeySequence("Ctrl+-")])
        self.act_zoom_out.triggered.connect(lambda: self.zoom(-1))
        self.zoom_in_button.setDefaultAction(self.act_zoom_in)
        self.zoom_out_button.setDefaultAction(self.act_zoom_out)
        self.zoom_in_button.setText("+")
        self.zoom_out_button.setText("−")
        self.mode_buttons = []
        for action in (self.act_day, self.act_week):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setText(action.text().replace("&", ""))
            self.mode_buttons.append(button)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        for button in self.mode_buttons:
            bar.addWidget(button)
        bar.addSpacing(8)
        bar.addWidget(self.legend, 1)
        bar.addWidget(self.filter)
        bar.addWidget(self.zoom_out_button)
        bar.addWidget(self.zoom_in_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        for canvas in (self.canvas, self.week):
            canvas.bookingClicked.connect(self._clicked)
            canvas.dragStarted.connect(lambda booking_id, c=canvas: self._drag_started(c, booking_id))
            canvas.dropped.connect(lambda *args, c=canvas: self._dropped(c, *args))
            canvas.zoomRequested.connect(lambda steps, y, c=canvas: self.zoom(steps, c, y))
            canvas.bookHere.connect(
                lambda day, minutes, resource_id, c=canvas: self.bookHereRequested.emit(
                    resource_id, from_local(day, minutes // 60 * 100 + minutes % 60, c.zone)
                )
            )
        self.canvas.slotMoved.connect(
            lambda rect: self.scroll.ensureVisible(rect.center().x(), rect.center().y(), 0, rect.height())
        )
        self.week.slotMoved.connect(
            lambda rect: self.week_pane.scroll.ensureVisible(
                rect.center().x(), rect.center().y(), 0, rect.height()
            )
        )

    # wiring ----------------------------------------------------------------------------
    def attach(self, client, tasks) -> None:
        self.client, self.tasks = client, tasks

    def view_actions(self) -> list[QAction]:
        return [self.act_day, self.act_week, self.act_zoom_in, self.act_zoom_out]

    def retranslate_ui(self, _lang: str | None = None) -> None:
        """After a language or digits switch: action texts, and every cached text laid out
        again (the canvases and headers repaint in the new language and direction)."""
        for action, text in (
            (self.act_day, _("&Day view")),
            (self.act_week, _("&Week view")),
            (self.act_zoom_in, _("Zoom &in")),
            (self.act_zoom_out, _("Zoom &out")),
        ):
            action.setText(text)
        for button in self.mode_buttons:
            button.setText(button.defaultAction().text().replace("&", ""))
        self.zoom_in_button.setText("+")
        self.zoom_out_button.setText("−")
        for canvas in (self.canvas, self.week):
            canvas.invalidate()
        getattr(self.week_header, "_cache", {}).clear()
        for widget in (self.header, self.week_header, self.legend):
            widget.update()

    def current(self) -> TimeCanvas:
        return self.week if self.mode == "week" else self.canvas

    def current_scroll(self) -> QScrollArea:
        return self.week_pane.scroll if self.mode == "week" else self.scroll

    def step_days(self) -> int:
        return 7 if self.mode == "week" else 1

    # data ------------------------------------------------------------------------------
    def set_day(
        self,
        day: date,
        resources: list[dict],
        bookings: list[dict],
        types: dict[str, dict],
        zone: str,
        now: datetime,
    ) -> None:
        self._context = (day, resources, types, zone)
        self.canvas.set_day(day, resources, bookings, types, zone, now)
        self.legend.set_types(types, bookings)
        self.filter.set_resources(resources)
        if self.mode == "week":
            self.load_week()

    def set_now(self, now: datetime) -> None:
        self.canvas.set_now(now)
        self.week.set_now(now)

    def set_selected(self, booking_id: str | None) -> None:
        self.canvas.set_selected(booking_id)
        self.week.set_selected(booking_id)

    def set_show_canceled(self, show: bool) -> None:
        self.canvas.set_show_canceled(show)
        self.week.set_show_canceled(show)

    def set_hidden_resources(self, hidden) -> None:
        self.canvas.set_hidden_resources(hidden)
        self.week.set_hidden_resources(hidden)

    def set_mode(self, mode: str) -> None:
        self.act_day.setChecked(mode == "day")
        self.act_week.setChecked(mode == "week")
        if mode == self.mode:
            return
        top = self.current().minutes_at(self.current_scroll().verticalScrollBar().value())
        self.mode = mode
        self.stack.setCurrentWidget(self.week_pane if mode == "week" else self.day_pane)
        if mode == "week":
            self._week_opened = False  # open it at its working hours once its bookings are in
            self.load_week()
        self.current_scroll().verticalScrollBar().setValue(max(0, self.current().y_of(top)))
        self.current().setFocus()
        self.modeChanged.emit(mode)

    def load_week(self) -> None:
        """Fetch the bookings of the week around the viewed day and show them."""
        if self._context is None or self.client is None or self.tasks is None:
            return
        from ui.calendar.week import week_days

        day, resources, types, zone = self._context
        days = week_days(day)
        self._week_generation += 1
        generation = self._week_generation
        start, _end = local_day_bounds(days[0], zone)
        _start, end = local_day_bounds(days[-1], zone)

        def show(rows: list[dict]) -> None:
            if generation == self._week_generation:
                other_week = self.week.days != days
                self.week.set_week(
                    days, resources, rows, types, zone, self.canvas.now or datetime.now().astimezone()
                )
                self.legend.set_types(types, rows)
                if other_week or not self._week_opened:
                    self._week_opened = True
                    self._scroll_pane(self.week_pane, self.week.opening_minutes())

        self.tasks.run(self.client.bookings(to_iso(start), to_iso(end)), show)

    def scroll_to_minutes(self, minutes: int) -> None:
        """Scroll so that ``minutes`` after local midnight is near the top."""
        for pane in (self.day_pane, self.week_pane):
            pane.scroll.verticalScrollBar().setValue(
                max(0, pane.canvas.y_of(minutes) - pane.canvas.hour_h // 2)
            )

    def _scroll_pane(self, pane: _Pane, minutes: int) -> None:
        """Put ``minutes`` (after local midnight) at the top of ``pane``, once the canvas has
        its new height (the scroll area lays it out on the next turn of the event loop)."""
        pane.canvas.resize(pane.canvas.width(), pane.canvas.content_height())

        def scroll() -> None:
            pane.scroll.verticalScrollBar().setValue(max(0, pane.canvas.y_of(minutes) - TOP_PAD))

        scroll()
        QTimer.singleShot(0, scroll)

    def _clicked(self, booking_id: str) -> None:
        self.bookingClicked.emit(booking_id)  # "" for an empty slot: no booking selected

    # zoom ------------------------------------------------------------------------------
    def zoom(self, steps: int, canvas: TimeCanvas | None = None, anchor_y: int | None = None) -> None:
        canvas = canvas or self.current()
        scroll = self.week_pane.scroll if canvas is self.week else self.scroll
        bar = scroll.verticalScrollBar()
        if anchor_y is None:
            anchor_y = bar.value() + scroll.viewport().height() // 2
        minute = canvas.minutes_at(anchor_y)
        on_screen = anchor_y - bar.value()
        current = canvas.hour_h
        index = min(range(len(ZOOM_STEPS)), key=lambda i: abs(ZOOM_STEPS[i] - current))
        new = ZOOM_STEPS[max(0, min(len(ZOOM_STEPS) - 1, index + steps))]
        for c in (self.canvas, self.week):
            c.set_hour_height(new)
        scroll.widget().adjustSize()
        bar.setValue(max(0, canvas.y_of(minute) - on_screen))
