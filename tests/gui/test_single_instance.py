"""One window per user: a later launch hands its file to the running app over a local socket (QtNetwork)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket

from memeclean_gui.app import receive_hand_over
from memeclean_gui.single_instance import (
    ACK,
    InstanceServer,
    decode_files,
    encode_files,
    send_to_running,
    server_name,
)


@pytest.fixture
def name() -> str:
    """A socket name of this test's own (not the user's running app)."""
    return f"memeclean-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def server(qapp, name):
    server = InstanceServer(name)
    assert server.listen()
    yield server
    server.close()


ROOT = Path(__file__).resolve().parents[2]
LAUNCH = """
import json, sys
from PySide6.QtCore import QCoreApplication
from memeclean_gui.single_instance import send_to_running
app = QCoreApplication([])
print("ANSWER", send_to_running(json.loads(sys.argv[1]), sys.argv[2], timeout_ms=10_000))
"""


class Launch:
    """The second launch: another process (as from a file manager), whose blocking calls need the server's event
    loop (this process) to run meanwhile."""

    def __init__(self, files, name, cwd=None):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, json.dumps([str(f) for f in files]), name],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def answer(self, qtbot) -> bool:
        qtbot.waitUntil(lambda: self.process.poll() is not None, timeout=60_000)
        out, err = self.process.communicate()
        assert self.process.returncode == 0, err
        return "ANSWER True" in out


def test_a_second_launch_hands_its_file_over_as_an_absolute_path(qtbot, server, name, tmp_path):
    with qtbot.waitSignal(server.files_received, timeout=60_000) as received:
        launch = Launch(["meme.png"], name, cwd=tmp_path)  # named relative to the launch's own working folder
    assert launch.answer(qtbot)  # the launch knows it may exit
    assert received.args == [[str(tmp_path / "meme.png")]]


def test_a_launch_without_a_file_just_brings_the_window_forward(qtbot, server, name):
    with qtbot.waitSignal(server.files_received, timeout=60_000) as received:
        launch = Launch([], name)
    assert launch.answer(qtbot)
    assert received.args == [[]]


def test_the_running_window_opens_the_handed_over_file(qtbot, make_window, server, name, meme_path):
    window = make_window()
    server.files_received.connect(lambda files: receive_hand_over(window, files))
    with qtbot.waitSignal(
        window.controller.finished, timeout=60_000, check_params_cb=lambda kind, outcome: kind == "load"
    ) as loaded:
        launch = Launch([meme_path], name)
    assert launch.answer(qtbot) and loaded.args == ["load", "ok"]
    assert window.document.source == meme_path and window.isVisible()


def test_without_a_running_app_the_launch_goes_on_by_itself(qapp, name):
    assert send_to_running(["meme.png"], name, timeout_ms=2000) is False


@pytest.mark.skipif(sys.platform == "win32", reason="Unix domain socket files")
def test_a_socket_file_left_by_a_crashed_app_is_taken_over(qapp, tmp_path):
    path = str(tmp_path / "left.socket")
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(path)  # bound, never listening, closed without removing the file: what a crash leaves
    crashed.close()
    assert Path(path).exists()
    assert send_to_running([], path, timeout_ms=2000) is False
    server = InstanceServer(path)
    try:
        assert server.listen()
    finally:
        server.close()


def test_a_live_app_that_is_slow_to_answer_keeps_its_socket(qapp, server, name):
    other = InstanceServer(name)  # a launch that gave up waiting for the running app's answer
    assert not other.listen()
    assert server.server.isListening()  # the running app is still reachable by later launches
    assert send_to_running([], name, timeout_ms=300) is False  # (its event loop is not running in this test)


def test_a_message_that_is_no_hand_over_is_ignored(qtbot, server, name):
    received = []
    server.files_received.connect(received.append)
    answers: list[bytes] = []

    def garbage() -> None:
        client = QLocalSocket()
        client.connectToServer(name)
        assert client.waitForConnected(10_000)
        client.write(b"GET / HTTP/1.0\n")
        client.waitForBytesWritten(10_000)
        client.waitForReadyRead(2000)
        answers.append(bytes(client.readAll().data()))
        client.abort()

    thread = threading.Thread(target=garbage)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=15_000)
    assert received == [] and answers == [b""]  # no "ok": the sender would open its own window


def test_messages_and_names():
    assert decode_files(encode_files([Path("/a/b.png"), "c d.jpg"])) == ["/a/b.png", str(Path("c d.jpg").absolute())]
    with pytest.raises(ValueError):
        decode_files(b'{"files": "x"}')
    with pytest.raises(ValueError):
        decode_files(b"\xff")
    assert ACK == b"ok\n"
    assert "memeclean-gui" in server_name()
