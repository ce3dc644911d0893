"""One window per user: a second `memeclean-gui FILE` hands FILE to the running app over a local socket and exits.

The running app listens on a per-user local socket (a Unix domain socket in $XDG_RUNTIME_DIR, else in the temporary
folder with the user's name in it; a named pipe on Windows). A new launch first tries to connect: when an app answers,
the new launch sends its files as one JSON line, waits for "ok" and exits; the running window comes to the front and
opens the file. When no app answers (none runs, or a crashed one left its socket file behind), the new launch becomes
the listening app; when one runs but does not answer in time, it keeps its socket and the new launch opens a window
of its own.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACK = b"ok\n"
MAX_MESSAGE = 64 * 1024  # a few file paths; anything longer is not ours


def server_name() -> str:
    """The socket's name for this user: a path in the per-user runtime folder where there is one."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name (odd containers): one shared name is still better than none
        user = "user"
    user = re.sub(r"[^A-Za-z0-9_.-]", "_", user) or "user"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if os.name != "nt" and runtime and Path(runtime).is_dir():
        return str(Path(runtime) / "memeclean-gui.socket")
    if os.name == "nt":
        return f"memeclean-gui-{user}"
    return str(Path(tempfile.gettempdir()) / f"memeclean-gui-{user}.socket")


def encode_files(files: list[str | Path]) -> bytes:
    """The message a launch sends: absolute paths (the running app has another working folder)."""
    return json.dumps({"files": [str(Path(file).absolute()) for file in files]}).encode("utf-8") + b"\n"


def decode_files(message: bytes) -> list[str]:
    """The files of a message; ValueError when it is not one."""
    data = json.loads(message.decode("utf-8"))
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(file, str) for file in files):
        raise ValueError("not a MemeClean hand-over message")
    return files


def _connect(name: str, timeout_ms: int) -> QLocalSocket | None:
    socket = QLocalSocket()
    socket.connectToServer(name)
    if socket.waitForConnected(timeout_ms):
        return socket
    socket.abort()
    return None


def send_to_running(files: list[str | Path], name: str | None = None, timeout_ms: int = 10_000) -> bool:
    """Hand `files` (maybe none: just come to the front) to a running app. True when one took them. The running app
    answers once its event loop runs: `timeout_ms` allows for one that is still starting on a busy machine."""
    socket = _connect(name or server_name(), min(timeout_ms, 2000))
    if socket is None:
        return False  # nobody listens (or a stale socket file): this launch becomes the app
    try:
        socket.write(encode_files(files))
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        answer = b""
        while not answer.endswith(b"\n") and socket.waitForReadyRead(timeout_ms):
            answer += bytes(socket.readAll().data())
        answer += bytes(socket.readAll().data())  # what came with the server's closing the connection
        return answer == ACK
    finally:
        socket.abort()


class InstanceServer(QObject):
    """Listens for later launches; `files_received` carries the files each one hands over (on the UI thread)."""

    files_received = Signal(list)

    def __init__(self, name: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)  # this user's launches only
        self.server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening. A socket file left by a crashed app (nobody accepts on it) is removed first; one that a
        live app listens on (it did not answer in time) is left alone: False, and this window stays on its own."""
        # Asked first: with UserAccessOption, Qt's listen() replaces an existing socket file even of a live app.
        live = _connect(self.name, 500)
        if live is not None:
            live.abort()
            log.warning("single instance: another MemeClean listens on %s but did not answer", self.name)
            return False
        if self.server.listen(self.name):
            return True
        if self.server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
            QLocalServer.removeServer(self.name)
            if self.server.listen(self.name):
                return True
        log.warning("single instance: cannot listen on %s: %s", self.name, self.server.errorString())
        return False

    def close(self) -> None:
        self.server.close()

    @Slot()
    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda socket=socket: self._on_ready_read(socket))
            socket.disconnected.connect(lambda socket=socket: self._forget(socket))
            if socket.bytesAvailable():
                self._on_ready_read(socket)

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        data = self._buffers[socket] + bytes(socket.readAll().data())
        self._buffers[socket] = data
        if b"\n" not in data:
            if len(data) > MAX_MESSAGE:
                self._drop(socket)
            return
        try:
            files = decode_files(data.split(b"\n", 1)[0])
        except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors too
            log.warning("single instance: ignored a message that is not a hand-over")
            self._drop(socket)
            return
        socket.write(ACK)
        socket.flush()
        self._drop(socket)
        self.files_received.emit(files)

    def _drop(self, socket: QLocalSocket) -> None:
        """Close (after what was written has gone out); `disconnected` then deletes the socket."""
        self._buffers.pop(socket, None)
        socket.disconnectFromServer()

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()


def bring_forward(window) -> None:
    """What the running window does with a hand-over, before it opens the files: come to the front."""
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()
