"""A missing system library of Qt's X11 or Wayland platform gives one line naming the package, not Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from memeclean_gui import platform_libs
from memeclean_gui.platform_libs import missing_packages, platforms_to_try, problem

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb and Wayland platforms")


def without(*names: str):
    """A loader for which every library loads except `names`."""
    return lambda library: library not in names


@pytest.mark.parametrize(
    "environ, platforms",
    [
        ({}, ["xcb"]),
        ({"DISPLAY": ":0"}, ["xcb"]),
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, ["wayland", "xcb"]),
        ({"XDG_SESSION_TYPE": "wayland"}, ["wayland", "xcb"]),
        ({"QT_QPA_PLATFORM": "offscreen", "WAYLAND_DISPLAY": "wayland-0"}, ["offscreen"]),
        ({"QT_QPA_PLATFORM": "wayland-egl;xcb"}, ["wayland", "xcb"]),
        ({"QT_QPA_PLATFORM": "xcb:dpi=96"}, ["xcb"]),
    ],
)
def test_the_platforms_qt_will_try(environ, platforms):
    assert platforms_to_try(environ) == platforms


def test_a_missing_xcb_cursor_library_is_one_line_naming_its_package():
    line = problem({"DISPLAY": ":0"}, load=without("libxcb-cursor.so.0"))
    assert line is not None and "\n" not in line
    assert line.endswith("sudo apt install libxcb-cursor0") and "X11" in line


def test_every_missing_package_is_named_once():
    line = problem({}, load=without("libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libGL.so.1"))
    assert line is not None and line.endswith("apt install libgl1 libxcb-cursor0 libxkbcommon-x11-0")


def test_nothing_to_say_when_the_libraries_load_or_the_platform_needs_none():
    assert problem({"DISPLAY": ":0"}, load=without()) is None
    assert problem({"QT_QPA_PLATFORM": "offscreen"}, load=without(*platform_libs.PLATFORM_LIBRARIES["xcb"])) is None


def test_wayland_is_enough_when_xcb_lacks_a_library_and_xcb_when_wayland_does():
    wayland_session = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert problem(wayland_session, load=without("libxcb-cursor.so.0")) is None
    assert problem(wayland_session, load=without("libwayland-cursor.so.0")) is None
    line = problem(wayland_session, load=without("libxcb-cursor.so.0", "libwayland-client.so.0"))
    assert line is not None and line.endswith("apt install libxcb-cursor0")  # xcb, Qt's last resort


def test_the_real_loader_finds_system_libraries_and_not_made_up_ones():
    assert platform_libs.loads("libc.so.6")
    assert not platform_libs.loads("libmemeclean-not-a-library.so.7")
    assert missing_packages("offscreen") == []


def test_the_app_stops_with_the_line_before_qt_can_abort():
    """The real start-up path with libxcb-cursor made unloadable: exit status 1, one line, no Qt message."""
    script = textwrap.dedent(
        """
        import ctypes, sys
        real = ctypes.CDLL
        def cdll(name, *args, **kwargs):
            if "libxcb-cursor" in str(name):
                raise OSError(f"{name}: cannot open shared object file")
            return real(name, *args, **kwargs)
        ctypes.CDLL = cdll
        from memeclean_gui.app import main
        sys.exit(main(["--new-instance"]))
        """
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WAYLAND", "XDG_SESSION"))}
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=":77")  # no X server there: Qt itself would abort
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        "memeclean-gui: cannot open a window on X11 (xcb): system libraries are missing; "
        "install them with: sudo apt install libxcb-cursor0"
    ]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="hiding a system library needs root (unshare -m)")
def test_with_the_system_xcb_cursor_library_really_hidden(tmp_path):
    """The host's libxcb-cursor covered by an empty file (packaging/check_display.py's private mount namespace)."""
    import importlib.util

    check = Path(__file__).resolve().parents[1] / "packaging" / "check_display.py"
    spec = importlib.util.spec_from_file_location("check_display", check)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.host_library_path("libxcb-cursor.so.0") is None:
        pytest.skip("libxcb-cursor0 is not installed here: nothing to hide")
    command = module.hiding_host_libraries(
        ["libxcb-cursor.so.0"], [sys.executable, "-m", "memeclean_gui", "--new-instance"]
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WAYLAND", "XDG_SESSION"))}
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=":77")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr.strip().splitlines()[-1:]) == (
        1,
        [
            "memeclean-gui: cannot open a window on X11 (xcb): system libraries are missing; "
            "install them with: sudo apt install libxcb-cursor0"
        ],
    ), done.stderr
