"""Before Qt starts: are the system libraries of the platform plugin Qt is about to load there? (Linux only, Qt-free.)

Qt 6.5+ needs libxcb-cursor and a dozen other libxcb-* libraries for its X11 platform (xcb) and the Wayland client
libraries for its Wayland platform. Without them QApplication prints a long warning and aborts the process. This
check runs first and turns that into one line naming the Debian/Ubuntu packages to install.

Qt's order of platforms when QT_QPA_PLATFORM is not set (qguiapplication.cpp): Wayland when WAYLAND_DISPLAY is set
or the session is a Wayland one, then xcb. Qt takes the first that loads, so the check passes when any one does; when
none does it names what the last one (xcb, the usual fallback) lacks. Platforms without such libraries (offscreen,
minimal, eglfs, vnc, ...) are not checked.

A library counts as present when it loads: from the frozen bundle's own folders first (build.sh bundles the xcb
libraries a minimal desktop may lack), else by name from the system.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# The libraries each platform plugin (and the Qt library behind it) links, beyond libc/libstdc++, with the Debian and
# Ubuntu package that has each (`readelf -d` of libqxcb.so, libQt6XcbQpa.so.6, libqwayland.so; PySide6 6.11).
PLATFORM_LIBRARIES: dict[str, dict[str, str]] = {
    "xcb": {
        "libxcb-cursor.so.0": "libxcb-cursor0",
        "libxcb-icccm.so.4": "libxcb-icccm4",
        "libxcb-image.so.0": "libxcb-image0",
        "libxcb-keysyms.so.1": "libxcb-keysyms1",
        "libxcb-randr.so.0": "libxcb-randr0",
        "libxcb-render-util.so.0": "libxcb-render-util0",
        "libxcb-render.so.0": "libxcb-render0",
        "libxcb-shape.so.0": "libxcb-shape0",
        "libxcb-shm.so.0": "libxcb-shm0",
        "libxcb-sync.so.1": "libxcb-sync1",
        "libxcb-util.so.1": "libxcb-util1",
        "libxcb-xfixes.so.0": "libxcb-xfixes0",
        "libxcb-xkb.so.1": "libxcb-xkb1",
        "libxcb.so.1": "libxcb1",
        "libX11-xcb.so.1": "libx11-xcb1",
        "libX11.so.6": "libx11-6",
        "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
        "libxkbcommon.so.0": "libxkbcommon0",
        "libGL.so.1": "libgl1",
    },
    "wayland": {
        "libwayland-client.so.0": "libwayland-client0",
        "libwayland-cursor.so.0": "libwayland-cursor0",
        "libxkbcommon.so.0": "libxkbcommon0",
        "libGL.so.1": "libgl1",
    },
}
PLATFORM_NAMES = {"xcb": "X11 (xcb)", "wayland": "Wayland"}

Loader = Callable[[str], bool]  # library file name or path -> whether it loads


def platforms_to_try(environ: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt will try, in its order (base names: "wayland-egl" counts as "wayland")."""
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        names = [entry.split(":")[0].strip() for entry in requested.split(";") if entry.strip()]
    else:
        names = []
        if environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland":
            names.append("wayland")
        names.append("xcb")
    return ["wayland" if name.startswith("wayland") else name for name in names]


def bundled_library_dirs() -> list[Path]:
    """Where the frozen bundle keeps libraries: its top folder and Qt's lib folder (nothing when run from source)."""
    base = getattr(sys, "_MEIPASS", None)
    if base is None:
        return []
    return [Path(base), Path(base) / "PySide6" / "Qt" / "lib"]


def loads(name: str) -> bool:
    """Whether the dynamic loader can load `name` (a bundled copy first)."""
    candidates = [str(folder / name) for folder in bundled_library_dirs() if (folder / name).is_file()] + [name]
    for candidate in candidates:
        try:
            ctypes.CDLL(candidate)
        except OSError:
            continue
        return True
    return False


def missing_packages(platform: str, load: Loader = loads) -> list[str]:
    """The packages whose libraries `platform` needs and that do not load here (sorted, no repeats)."""
    libraries = PLATFORM_LIBRARIES.get(platform, {})
    return sorted({package for library, package in libraries.items() if not load(library)})


def problem(environ: Mapping[str, str] | None = None, load: Loader = loads) -> str | None:
    """The one line to print instead of starting Qt, or None when a platform Qt will try has its libraries."""
    if not sys.platform.startswith("linux"):
        return None
    wanted = platforms_to_try(os.environ if environ is None else environ)
    if not wanted:
        return None
    missing: dict[str, list[str]] = {}
    for platform in wanted:
        if platform not in PLATFORM_LIBRARIES:
            return None  # offscreen, minimal, eglfs, ...: nothing of ours to check
        missing[platform] = missing_packages(platform, load)
        if not missing[platform]:
            return None
    last = wanted[-1]
    packages = " ".join(missing[last])
    return (
        f"memeclean-gui: cannot open a window on {PLATFORM_NAMES[last]}: system libraries are missing; "
        f"install them with: sudo apt install {packages}"
    )
