"""The main window's other windows: *View → Doctor mode…* (Ctrl+Shift+D; a provider's own
desk, :mod:`ui.windows.doctor_mode`) and *View → Waiting-room screen* (a TV, on a chosen
monitor, with *Chime on call*; :mod:`ui.windows.waiting_room`).

``ScreensDesk(window)`` adds them to a :class:`ui.windows.main.MainWindow` and closes them
when the main window closes."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction

from app.i18n import N_, _
from app.i18n.text import fsi
from ui.core.menus import DeskPart, menu_named
from ui.windows.doctor_mode import DoctorMode, ResourcePicker
from ui.windows.waiting_room import WaitingRoom, fill_screen_menu


class ScreensDesk(DeskPart):
    """Doctor mode and the waiting-room screen (see the module docstring). ``doctor`` and
    ``waiting_room``: the open window, or None."""

    def __init__(self, window):
        super().__init__(window)
        self.doctor: DoctorMode | None = None
        self.waiting_room: WaitingRoom | None = None
        self.act_doctor = self.action(
            N_("Do&ctor mode…"), lambda: self.open_doctor_mode(None), "Ctrl+Shift+D"
        )
        self.act_chime = QAction(_("&Chime on call"), window)
        self.act_chime.setCheckable(True)
        self.act_chime.setChecked(True)
        self.act_chime.toggled.connect(
            lambda on: self.waiting_room is not None and setattr(self.waiting_room, "chime", on)
        )
        view = menu_named(window, _("&View"))
        view.addSeparator()
        view.addAction(self.act_doctor)
        self.screen_menu = view.addMenu(_("Waiting-&room screen"))
        self.screen_menu.aboutToShow.connect(
            lambda: fill_screen_menu(self.screen_menu, self.open_waiting_room, self.act_chime)
        )
        fill_screen_menu(self.screen_menu, self.open_waiting_room, self.act_chime)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.close_windows()  # the desk closes: so do its doctor mode and TV screen
        return super().eventFilter(watched, event)

    def close_windows(self) -> None:
        for other in (self.doctor, self.waiting_room):
            if other is not None:
                other.close()

    def retranslate_ui(self, _lang: str | None = None) -> None:
        super().retranslate_ui()
        self.act_chime.setText(_("&Chime on call"))
        self.screen_menu.setTitle(_("Waiting-&room screen"))
        fill_screen_menu(self.screen_menu, self.open_waiting_room, self.act_chime)

    def open_doctor_mode(self, resource_id: str | None) -> None:
        """Doctor mode for ``resource_id`` (after the first load), or ask which provider."""
        w = self.window
        if not w.state.loaded:
            if resource_id:
                w.first_load.add_done_callback(
                    lambda fut: (
                        not fut.cancelled() and fut.exception() is None and self.open_doctor_mode(resource_id)
                    )
                )
            else:
                self.ready()
            return
        if resource_id is None:
            picker = ResourcePicker(w.state.resources, self.doctor.resource_id if self.doctor else None, w)
            picker.accepted.connect(
                lambda: picker.resource_id() and self.open_doctor_mode(picker.resource_id())
            )
            self.keep(picker)
            picker.open()
            return
        resource = w.state.resource(resource_id)
        if resource is None:
            # Translators: %(id)s is a resource id given with --provider.
            self.status(_("There is no provider with the id %(id)s.") % {"id": fsi(resource_id)}, error=True)
            return
        if self.doctor is not None:
            self.doctor.close()
            self.doctor.deleteLater()
        doctor = DoctorMode(w.client, resource, w.state.zone, w.state.types, w.state.branch, w)
        self.doctor = doctor
        doctor.start()
        doctor.show()

    def open_waiting_room(self, screen=None) -> WaitingRoom:
        """The waiting-room screen, full screen on ``screen`` (None: a normal window)."""
        if self.waiting_room is None:
            room = WaitingRoom(self.window.client, self.window)
            room.chime = self.act_chime.isChecked()
            room.destroyed.connect(lambda _obj=None: setattr(self, "waiting_room", None))
            room.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.waiting_room = room
            room.start()
        self.waiting_room.show_on(screen)
        return self.waiting_room
