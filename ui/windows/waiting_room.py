"""The waiting-room screen: a second window for a TV, in Arabic and English side by side
whatever the desk's language (both gettext catalogs are used explicitly).

It shows who is called now (walk-ins just accepted and patients in a room, with the room
or provider) and the ticket numbers still waiting, grouped by the room or provider that
serves them (by booking type when several providers share a queue). It follows the
server's live events on its own stream and applies the bookings and queue positions they
carry (:mod:`app.client.live`, debounced; a refetch only for an event it cannot apply);
a new call can chime
(``QApplication.beep()``). View → Waiting-room screen lists the monitors (``QScreen``):
full screen on the chosen one, or in a window."""

from __future__ import annotations

import asyncio
import gettext
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import dates as bdates
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFont, QGuiApplication, QKeyEvent, QScreen
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from app.client import DeskClient
from app.client.live import REFETCH, LiveDay, LiveQueues
from app.domain.clock import from_iso, local_date, utc_now
from app.domain.model import Status, VisitStatus
from app.i18n import N_, _, load_translations
from app.i18n.formats import babel_locale
from app.i18n.text import display_name
from ui.core import language
from ui.core.live_events import LiveEvents
from ui.paper.printing import bundled_families

log = logging.getLogger(__name__)
DEBOUNCE_MS = 250
CLOCK_MS = 15_000
RECENT_CALL = timedelta(minutes=30)  # an accepted walk-in stays "called" this long
MAX_CALLED = 4
LANGS = ("en", "ar")  # left to right on the screen: English, then Arabic

NOW_CALLING = N_("Now calling")
WAITING = N_("Waiting")
NOBODY_CALLED = N_("Please wait; your number will be called.")
NOBODY_WAITING = N_("Nobody is waiting.")
# Translators: on the waiting-room screen: a called ticket goes to this room or provider.
GO_TO = N_("Please go to {place}")


@lru_cache
def catalog(lang: str) -> gettext.NullTranslations:
    return load_translations(lang)


def both(msgid: str, **values) -> dict[str, str]:
    """``msgid`` translated into each screen language: ``{"en": …, "ar": …}``."""
    return {lang: catalog(lang).gettext(msgid).format(**values) for lang in LANGS}


def names(obj: dict | None) -> dict[str, str]:
    return {lang: display_name(obj, lang) if obj else "" for lang in LANGS}


def ticket_of(booking: dict) -> str:
    """The walk-in's ticket number; a scheduled patient's first name and initial."""
    if booking.get("ticket") or booking.get("queueNumber"):
        return str(booking.get("ticket") or booking["queueNumber"])
    customer = booking.get("customer") or {}
    first, last = (customer.get("firstName") or "").strip(), (customer.get("lastName") or "").strip()
    return f"{first} {last[:1]}." if last else first


def called_bookings(day: list[dict], now: datetime) -> list[dict]:
    """Patients in a room now, and walk-ins accepted in the last ``RECENT_CALL``, newest first."""
    out = []
    for b in day:
        if b.get("status") != Status.CONFIRMED or not b.get("resourceId"):
            continue
        visit = b.get("visitStatus")
        moment = from_iso(b.get("startedAt") or b.get("updatedAt") or b.get("createdAt"))
        if visit == VisitStatus.IN_PROGRESS or (
            b.get("queueNumber")
            and visit in (None, "", VisitStatus.CHECKED_IN)
            and moment
            and now - moment <= RECENT_CALL
        ):
            out.append((moment or now, b))
    out.sort(key=lambda pair: pair[0], reverse=True)
    return [b for _moment, b in out[:MAX_CALLED]]


def waiting_groups(queues: list[dict], resources: dict[str, dict], types: dict[str, dict]) -> list[dict]:
    """``[{"names": {en, ar}, "tickets": [..]}]``: each waiting walk-in once, under the one
    room or provider that serves it, else under its booking type."""
    serving: dict[str, list[str]] = {}
    bookings: dict[str, dict] = {}
    for entry in queues:
        for b in entry.get("queue") or []:
            serving.setdefault(b["id"], []).append(entry["resourceId"])
            bookings.setdefault(b["id"], b)
    groups: dict[str, dict] = {}
    for booking_id, b in sorted(bookings.items(), key=lambda kv: (kv[1].get("createdAt") or "", kv[0])):
        if not b.get("queueNumber"):
            continue
        places = serving[booking_id]
        if len(places) == 1 and places[0] in resources:
            key, label = f"r:{places[0]}", names(resources[places[0]])
        else:
            booking_type = b.get("type") or types.get(b.get("typeId") or "") or {}
            key, label = f"t:{b.get('typeId')}", names(booking_type)
        groups.setdefault(key, {"names": label, "tickets": []})["tickets"].append(ticket_of(b))
    return list(groups.values())


def _font(size: float, bold: bool = False, arabic_first: bool = False) -> QFont:
    font = QFont()
    families = bundled_families(arabic_first)
    if families:
        font.setFamilies(families)
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


def _label(text: str, size: float, lang: str = "en", bold: bool = False, color: str = "#e8eef5") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setFont(_font(size, bold, arabic_first=lang == "ar"))
    label.setStyleSheet(f"color: {color}; background: transparent;")
    if lang == "ar":
        label.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        # Absolute: in a right-to-left widget a plain AlignRight is mirrored to the left.
        label.setAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter
        )
    else:
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return label


def _pair(texts: dict[str, str], size: float, bold: bool = False, color: str = "#e8eef5") -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(_label(texts["en"], size, "en", bold, color), 1)
    row.addWidget(_label(texts["ar"], size, "ar", bold, color), 1)
    return row


def _clear(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            item.widget().deleteLater()
        elif item.layout() is not None:
            _clear(item.layout())


class WaitingRoom(QWidget):
    """The TV window. ``updated`` after every applied refetch; ``called(list)`` carries the
    tickets newly called (after the first load)."""

    updated = Signal()
    called = Signal(list)

    def __init__(self, client: DeskClient, parent: QWidget | None = None, follow_events: bool = True):
        super().__init__(parent)
        language.follow(self)  # retranslate_ui after every language or digits switch
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # English left, Arabic right, always
        self.client = client
        self.chime = True
        self.branch: dict = {}
        self.zone = "Asia/Riyadh"
        self.resources: dict[str, dict] = {}
        self.types: dict[str, dict] = {}
        self.called_rows: list[dict] = []
        self.groups: list[dict] = []
        self.loaded = False
        self.chimes = 0
        self._seen_calls: set[str] | None = None
        self._follow = follow_events
        self._tasks: set[asyncio.Future] = set()
        self.live = LiveEvents(client, self._apply_events, self, debounce_ms=DEBOUNCE_MS, name="waiting room")
        self._live: tuple[LiveDay, LiveQueues] | None = None
        self.setWindowTitle(_("Waiting room"))
        self.setAutoFillBackground(True)
        self.setStyleSheet("WaitingRoom { background: #0f1e2e; }")

        self.title = QHBoxLayout()
        self.clock_en = _label("", 28, "en", True, "#f2c94c")
        self.clock_ar = _label("", 28, "ar", True, "#f2c94c")
        self.branch_en = _label("", 30, "en", True)
        self.branch_ar = _label("", 30, "ar", True)
        self.title.addWidget(self.branch_en, 1)
        self.title.addWidget(self.clock_en)
        self.title.addSpacing(40)
        self.title.addWidget(self.clock_ar)
        self.title.addWidget(self.branch_ar, 1)

        self.called_frame = QFrame()
        self.called_frame.setStyleSheet("QFrame#called { background: #173451; border-radius: 12px; }")
        self.called_frame.setObjectName("called")
        called_box = QVBoxLayout(self.called_frame)
        called_box.addLayout(_pair(both(NOW_CALLING), 26, True, "#9ecbff"))
        self.called_layout = QVBoxLayout()
        called_box.addLayout(self.called_layout)
        called_box.addStretch(1)

        self.waiting_frame = QFrame()
        self.waiting_frame.setObjectName("waiting")
        self.waiting_frame.setStyleSheet("QFrame#waiting { background: #132638; border-radius: 12px; }")
        waiting_box = QVBoxLayout(self.waiting_frame)
        waiting_box.addLayout(_pair(both(WAITING), 26, True, "#9ecbff"))
        self.waiting_layout = QGridLayout()
        self.waiting_layout.setHorizontalSpacing(24)
        waiting_box.addLayout(self.waiting_layout)
        waiting_box.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(20)
        layout.addLayout(self.title)
        layout.addWidget(self.called_frame, 3)
        layout.addWidget(self.waiting_frame, 2)

        self.clock = QTimer(self)
        self.clock.setInterval(CLOCK_MS)
        self.clock.timeout.connect(self._tick)
        self.act_fullscreen = QAction(_("Full screen"), self)
        self.act_fullscreen.setShortcut("F11")
        self.act_fullscreen.triggered.connect(self.toggle_full_screen)
        self.addAction(self.act_fullscreen)
        self.resize(1280, 720)
        self._render()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        """The screen itself shows both languages; only the window's own texts follow the desk."""
        self.setWindowTitle(_("Waiting room"))
        self.act_fullscreen.setText(_("Full screen"))

    # life ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.refresh()
        self.clock.start()
        if self._follow:
            self.live.start()

    def stop(self) -> None:
        self.clock.stop()
        self.live.stop()
        for task in list(self._tasks):
            task.cancel()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.isFullScreen():
            self.showNormal()
            return
        super().keyPressEvent(event)

    def show_on(self, screen: QScreen | None) -> None:
        """Full screen on ``screen``, or a normal window when None."""
        if screen is None:
            self.showNormal()
            return
        self.setScreen(screen)
        self.setGeometry(screen.geometry())
        self.showFullScreen()

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.show_on(self.screen())

    # data ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        task = asyncio.ensure_future(self._load())
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("waiting room: could not refresh: %s", task.exception())

    async def _load(self) -> None:
        if not self.branch:
            branch, resources, types = await asyncio.gather(
                self.client.branch(), self.client.resources(), self.client.types()
            )
            self.branch, self.zone = branch, branch.get("timeZone") or self.zone
            self.resources = {r["id"]: r for r in resources}
            self.types = {t["id"]: t for t in types}
        now = utc_now()
        with self.live.collecting() as during:
            queues, day = await asyncio.gather(
                self.client.queues(), self.client.day(local_date(now, self.zone))
            )
        live_day = LiveDay(self.zone, local_date(now, self.zone), types=self.types, with_waiting=False)
        live_day.load(day)
        live_queues = LiveQueues({rid: set(r.get("types") or []) for rid, r in self.resources.items()})
        for item in queues:
            live_queues.load(item["resourceId"], item["queue"])
        for event in during:  # what changed while the fetch ran (an older version never wins)
            live_day.apply(event)
            live_queues.apply(event)
        self._live = (live_day, live_queues)
        self._show_live(now)

    def _show_live(self, now: datetime) -> None:
        live_day, live_queues = self._live
        queues = [{"resourceId": rid, "queue": rows} for rid, rows in live_queues.queues.items()]
        self.apply(queues, live_day.bookings, now)

    def _apply_events(self, events: list[dict]) -> None:
        """Apply a debounced batch of events to the day and queues; refetch when one cannot be."""
        now = utc_now()
        if self._live is None or self._live[0].day != local_date(now, self.zone):
            self.refresh()
            return
        live_day, live_queues = self._live
        answers = {view.apply(e) for e in events for view in (live_day, live_queues)}
        if REFETCH in answers or live_queues.unplaced or live_day.missing:
            self.refresh()
            return
        self._show_live(now)

    def apply(self, queues: list[dict], day: list[dict], now: datetime) -> None:
        self.called_rows = called_bookings(day, now)
        self.groups = waiting_groups(queues, self.resources, self.types)
        ids = {b["id"] + ":" + (b.get("visitStatus") or "") for b in self.called_rows}
        if self._seen_calls is not None:
            new = [
                b
                for b in self.called_rows
                if b["id"] + ":" + (b.get("visitStatus") or "") not in self._seen_calls
            ]
            if new:
                if self.chime:
                    QApplication.beep()
                self.chimes += 1
                self.called.emit([ticket_of(b) for b in new])
        self._seen_calls = (self._seen_calls or set()) | ids
        self.loaded = True
        self._render()
        self.updated.emit()

    # drawing ------------------------------------------------------------------------------
    def _tick(self) -> None:
        now = utc_now().astimezone(ZoneInfo(self.zone))
        for lang, label in (("en", self.clock_en), ("ar", self.clock_ar)):
            text = bdates.format_time(now.time().replace(tzinfo=None), "short", locale=babel_locale(lang))
            label.setText(text)

    def _render(self) -> None:
        self._tick()
        branch = (
            names(self.branch)
            if self.branch
            else {"en": catalog("en").gettext("Istiqbal"), "ar": catalog("ar").gettext("Istiqbal")}
        )
        self.branch_en.setText(branch["en"])
        self.branch_ar.setText(branch["ar"])
        _clear(self.called_layout)
        for b in self.called_rows:
            card = QFrame()
            card.setObjectName("card")
            card.setStyleSheet("QFrame#card { background: #1f4a73; border-radius: 10px; }")
            row = QHBoxLayout(card)
            number = _label(ticket_of(b), 44, "en", True, "#ffffff")
            number.setMinimumWidth(180)
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            place = names(self.resources.get(b.get("resourceId") or ""))
            en = catalog("en").gettext(GO_TO).format(place=place["en"])
            ar = catalog("ar").gettext(GO_TO).format(place=place["ar"])
            row.addWidget(_label(en, 22, "en"), 2)
            row.addWidget(number, 1)
            row.addWidget(_label(ar, 22, "ar"), 2)
            self.called_layout.addWidget(card)
        if not self.called_rows:
            self.called_layout.addLayout(_pair(both(NOBODY_CALLED), 20, color="#b8c7d6"))
        _clear(self.waiting_layout)
        for index, group in enumerate(self.groups):
            tickets = "   ".join(group["tickets"])
            self.waiting_layout.addWidget(_label(group["names"]["en"], 20, "en", color="#b8c7d6"), index, 0)
            numbers = _label(tickets, 28, "en", True, "#ffffff")
            numbers.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.waiting_layout.addWidget(numbers, index, 1)
            self.waiting_layout.addWidget(_label(group["names"]["ar"], 20, "ar", color="#b8c7d6"), index, 2)
        if not self.groups:
            self.waiting_layout.addWidget(_label(both(NOBODY_WAITING)["en"], 20, "en", color="#b8c7d6"), 0, 0)
            self.waiting_layout.addWidget(_label(both(NOBODY_WAITING)["ar"], 20, "ar", color="#b8c7d6"), 0, 2)
        for column, stretch in enumerate((2, 3, 2)):
            self.waiting_layout.setColumnStretch(column, stretch)

    def shown_tickets(self) -> dict[str, list[str]]:
        """What the screen shows (tests): ``{"called": [...], "waiting": [...]}``."""
        return {
            "called": [ticket_of(b) for b in self.called_rows],
            "waiting": [t for g in self.groups for t in g["tickets"]],
        }


def fill_screen_menu(
    menu: QMenu, open_on: Callable[[QScreen | None], object], chime: QAction | None = None
) -> None:
    """(Re)build the Waiting-room screen menu: a window, then one entry per monitor."""
    menu.clear()
    windowed = menu.addAction(_("In a &window"))
    windowed.triggered.connect(lambda: open_on(None))
    screens = QGuiApplication.screens()
    if screens:
        menu.addSeparator()
    for number, screen in enumerate(screens, start=1):
        geometry = screen.geometry()
        # Translators: a monitor in the waiting-room menu: number, name and resolution.
        text = _("Full screen on monitor {number}: {name} ({width}×{height})").format(
            number=number,
            name=screen.name() or screen.model(),
            width=geometry.width(),
            height=geometry.height(),
        )
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False, s=screen: open_on(s))
    if chime is not None:
        menu.addSeparator()
        menu.addAction(chime)
