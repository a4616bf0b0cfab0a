"""The needs-attention tab: changes this branch made that the cloud refused.

Each case shows the booking (customer, type, time), what the desk had done, the cloud's
answer (translated when its code is known) and when it happened, with two ways out:
"Accept the cloud's version" (the booking already shows it) or "Apply mine again" (the
desk's version is written back and sent again). Cases come from ``GET /sync/attention``;
the bookings they name are fetched with their customer, so the list reads like the day.
"""

from __future__ import annotations

import asyncio
import html
import logging

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.client import ApiError, DeskClient
from app.domain.clock import from_iso
from app.domain.model import Resolution
from app.i18n import N_, _
from app.i18n import formats as fmt
from app.i18n.labels import error_message
from app.i18n.text import display_name, fsi
from ui.core import formatting as f
from ui.core.errors import message_for

log = logging.getLogger(__name__)
Index = QModelIndex | QPersistentModelIndex


def what_the_desk_did(case: dict, state=None) -> str:
    """A sentence for the refused operation, e.g. "Accepted for Dr. Sara"."""
    payload = (case.get("desk") or {}).get("payload") or {}
    after = payload.get("after") or {}
    zone = getattr(state, "zone", "Asia/Riyadh")
    resource = (
        state.resource(after.get("resourceId")) if state is not None and after.get("resourceId") else None
    )
    who = display_name(resource) if resource else (after.get("resourceId") or "")
    when = ""
    if after.get("startDateTime"):
        when = fmt.format_datetime(from_iso(after["startDateTime"]), zone, "medium", "short")
    action = case.get("action")
    if action == "assign":
        return _("Accepted for {resource}").format(resource=fsi(who))
    if action == "create":
        return _("Booked for {time}").format(time=fsi(when)) if when else _("Added to the queue")
    if action == "reschedule":
        return _("Moved to {time}").format(time=fsi(when))
    if action == "cancel":
        return _("Canceled")
    if action == "end":
        return _("Ended the visit")
    return str(action or "")


def cloud_said(case: dict) -> str:
    """The cloud's refusal in the desk's language (its own message for an unknown code)."""
    code = case.get("code") or ""
    return error_message(code, fallback=fsi(f"{case.get('message') or ''} ({code})"))


class AttentionModel(QAbstractTableModel):
    BOOKING, DESK, CLOUD, WHEN = range(4)
    HEADERS = (N_("Booking"), N_("What this desk did"), N_("What the cloud said"), N_("When"))

    def __init__(self, parent=None):
        super().__init__(parent)
        self.cases: list[dict] = []
        self.bookings: dict[str, dict] = {}
        self.state = None

    def set_cases(self, cases: list[dict], bookings: dict[str, dict], state) -> None:
        self.beginResetModel()
        self.cases, self.bookings, self.state = cases, bookings, state
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.cases)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(self.HEADERS[section])
        return None

    def booking_text(self, case: dict) -> str:
        booking = self.bookings.get(case["bookingId"])
        if booking is None:
            return _("Booking {id}").format(id=fsi(case["bookingId"][-6:]))
        zone = getattr(self.state, "zone", "Asia/Riyadh")
        parts = [f.customer_name(booking), f.type_name(booking, getattr(self.state, "types", None))]
        if booking.get("startDateTime"):
            parts.append(fmt.format_datetime(from_iso(booking["startDateTime"]), zone, "medium", "short"))
        return " · ".join(fsi(p) for p in parts if p)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        case = self.cases[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            column = index.column()
            if column == self.BOOKING:
                return self.booking_text(case)
            if column == self.DESK:
                return what_the_desk_did(case, self.state)
            if column == self.CLOUD:
                return cloud_said(case)
            if column == self.WHEN and case.get("createdAt"):
                zone = getattr(self.state, "zone", "Asia/Riyadh")
                return fmt.format_datetime(from_iso(case["createdAt"]), zone, "medium", "short")
        if role == Qt.ItemDataRole.UserRole:
            return case
        return None


class AttentionPanel(QWidget):
    """``AttentionPanel(client, tasks)``; ``reload()`` refetches; ``countChanged(n)``."""

    countChanged = Signal(int)
    resolved = Signal(object)  # the resolved case

    def __init__(self, client: DeskClient, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.client, self.tasks = client, tasks
        self._state = lambda: None
        self._loading = False
        self._again = False
        self.model = AttentionModel(self)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #5f6b7a; padding: 16px;")
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        # a side panel is narrow: the list names the bookings, the selected case's details go below
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for column in (AttentionModel.DESK, AttentionModel.CLOUD, AttentionModel.WHEN):
            self.table.setColumnHidden(column, True)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setStyleSheet(
            "background: #fff8e6; border: 1px solid #e6d3a3; border-radius: 4px; padding: 8px;"
        )
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._show_details())
        self.accept_cloud = QPushButton()
        self.reapply = QPushButton()
        self.accept_cloud.clicked.connect(lambda: self.resolve(Resolution.ACCEPT_CLOUD))
        self.reapply.clicked.connect(lambda: self.resolve(Resolution.REAPPLY))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b3261e;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_cloud)
        buttons.addWidget(self.reapply)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.retranslate()
        self._show_empty()

    def retranslate(self) -> None:
        self.intro.setText(
            _(
                "The cloud refused these changes made at this branch. The booking now shows "
                "the cloud's version; keep it, or send this desk's version again."
            )
        )
        self.empty.setText(_("Nothing needs attention."))
        self.accept_cloud.setText(_("Accept the cloud's version"))
        self.reapply.setText(_("Apply mine again"))
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.model.HEADERS) - 1)
        if self.model.rowCount():
            self.model.dataChanged.emit(
                self.model.index(0, 0),
                self.model.index(self.model.rowCount() - 1, len(self.model.HEADERS) - 1),
            )

    def set_reference(self, state) -> None:
        """``state()``: the window's :class:`~ui.core.state.DeskState` (zone, resources, types)."""
        self._state = state

    def count(self) -> int:
        return self.model.rowCount()

    def selected_case(self) -> dict | None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedIndexes()})
        if not rows and self.model.rowCount() == 1:
            return self.model.cases[0]
        return self.model.cases[rows[0]] if rows else None

    def select(self, case_id: str) -> bool:
        for row, case in enumerate(self.model.cases):
            if case["id"] == case_id:
                self._select_row(row)
                return True
        return False

    def _select_row(self, row: int) -> None:
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(self.model.index(row, 0), flags)
        self._show_details()

    def _enable(self) -> None:
        has = self.selected_case() is not None and not self._loading
        self.accept_cloud.setEnabled(has)
        self.reapply.setEnabled(has)

    def _show_empty(self) -> None:
        empty = self.model.rowCount() == 0
        self.empty.setVisible(empty)
        self.table.setVisible(not empty)
        self.intro.setVisible(not empty)
        self._show_details()

    def _show_details(self) -> None:
        case = self.selected_case()
        self.details.setVisible(case is not None)
        if case is not None:
            row = self.model.cases.index(case)
            lines = [
                (_("This desk"), self.model.index(row, AttentionModel.DESK).data()),
                (_("The cloud"), self.model.index(row, AttentionModel.CLOUD).data()),
                (_("When"), self.model.index(row, AttentionModel.WHEN).data() or ""),
            ]
            self.details.setText(
                "<br>".join(f"<b>{html.escape(label)}:</b> {html.escape(fsi(text))}" for label, text in lines)
            )
        self._enable()

    # loading and resolving -------------------------------------------------------------
    def reload(self) -> None:
        if self._loading:
            self._again = True
            return
        self._loading = True
        self.tasks.run(self._fetch(), self._loaded, self._failed)

    async def _fetch(self) -> tuple[list[dict], dict[str, dict]]:
        cases = await self.client.attention()
        ids = list(dict.fromkeys(c["bookingId"] for c in cases))

        async def one(booking_id: str) -> dict | None:
            try:
                return await self.client.booking(booking_id)
            except ApiError:
                return None

        found = await asyncio.gather(*(one(i) for i in ids))
        return cases, {i: b for i, b in zip(ids, found, strict=True) if b}

    def _loaded(self, result) -> None:
        self._loading = False
        cases, bookings = result
        selected = self.selected_case()
        self.model.set_cases(cases, bookings, self._state())
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        if not (selected and self.select(selected["id"])) and cases:
            self._select_row(0)
        self._show_empty()
        self.countChanged.emit(len(cases))
        if self._again:
            self._again = False
            self.reload()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self._enable()
        if isinstance(exc, ApiError) and exc.status == 403:
            return
        log.info("needs-attention list not available: %s", exc)

    def resolve(self, resolution: str) -> None:
        case = self.selected_case()
        if case is None:
            return
        self.message.clear()
        self.accept_cloud.setEnabled(False)
        self.reapply.setEnabled(False)

        def done(result: dict) -> None:
            self.resolved.emit(result)
            self.reload()

        def failed(exc: BaseException) -> None:
            self.message.setText("⚠ " + message_for(exc))
            self.reload()

        self.tasks.run(self.client.resolve_attention(case["id"], resolution), done, failed)
