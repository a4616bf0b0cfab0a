"""One desk per data directory: a second start brings the running window to the front.

``SingleInstance(data_dir).claim()`` runs before the branch server opens the database. It
tries to reach a local socket named from a hash of the user and the data directory
(QLocalSocket); when a desk answers it is asked to come to the front and ``claim`` returns
False — the caller then exits without touching the database. Otherwise it listens there
(QLocalServer; a socket file left by a crashed desk is removed first) and returns True.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QMainWindow

log = logging.getLogger(__name__)
MESSAGE = b"raise\n"


def server_name(data_dir: str | Path) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    key = f"{user}|{Path(data_dir).expanduser().resolve()}"
    return "istiqbal-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def bring_to_front() -> bool:
    """Show, un-minimize, raise and activate the desk's main window(s); False with none."""
    found = False
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMainWindow) and not widget.isHidden():
            widget.setWindowState(
                (widget.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive
            )
            widget.show()
            widget.raise_()
            widget.activateWindow()
            found = True
    return found


class SingleInstance(QObject):
    """The claim on one data directory; ``activated`` when another start asked for us."""

    activated = Signal()

    def __init__(self, data_dir: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.name = server_name(data_dir)
        self.server: QLocalServer | None = None
        self._connections: list[QLocalSocket] = []

    def _ask_running(self, timeout_ms: int) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(MESSAGE)
        socket.flush()
        socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(timeout_ms)
        return True

    def claim(self, timeout_ms: int = 1000) -> bool:
        """True when this process is now the desk of the data directory."""
        if self._ask_running(timeout_ms):
            log.info("a desk is already running on this data directory; it was asked to come to the front")
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            if server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
                QLocalServer.removeServer(self.name)  # left by a desk that did not stop cleanly
            if not server.listen(self.name):
                log.warning("single-instance socket %s: %s", self.name, server.errorString())
                return True  # a desk that cannot listen still runs; it just cannot be raised
        server.newConnection.connect(self._accept)
        self.activated.connect(bring_to_front)
        self.server = server
        return True

    def _accept(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            self._connections.append(connection)
            connection.readyRead.connect(lambda c=connection: self._read(c))
            connection.disconnected.connect(lambda c=connection: self._drop(c))
            if connection.bytesAvailable():
                self._read(connection)

    def _read(self, connection: QLocalSocket) -> None:
        data = bytes(connection.readAll().data())
        if MESSAGE.strip() in data:
            log.info("another start of the desk asked for this window")
            self.activated.emit()

    def _drop(self, connection: QLocalSocket) -> None:
        if connection in self._connections:  # the server (its parent) deletes it later
            self._connections.remove(connection)

    def release(self) -> None:
        """Stop listening (the socket name is free for the next start)."""
        for connection in self._connections:
            connection.blockSignals(True)
            connection.abort()
        self._connections.clear()
        if self.server is not None:
            self.server.blockSignals(True)
            self.server.close()
            self.server = None
