"""Entry point of the frozen bundle (see memeclean.spec): one program that is the command line or the desktop app.

    memeclean ...          the command line (memeclean_core.cli)
    memeclean-gui ...      the desktop app (memeclean_gui.app): on Linux and macOS `memeclean-gui` is a symbolic
                           link to `memeclean`, and the name it was started by decides; on Windows it is a second,
                           windowed executable built from this same script (Windows fixes console or window per
                           executable file)
    memeclean --gui ...    the desktop app, on every platform

One executable on Linux and macOS means one copy of the Python archive (about 32 MB) instead of two.
"""

import multiprocessing
import os
import sys

GUI_NAME = "memeclean-gui"
GUI_FLAG = "--gui"


def wants_gui(argv: list[str]) -> bool:
    """True when started as memeclean-gui (any folder, with or without .exe) or with --gui first."""
    name = os.path.basename(argv[0]) if argv else ""
    if name.lower().endswith(".exe"):
        name = name[:-4]
    return name == GUI_NAME or argv[1:2] == [GUI_FLAG]


def prepare_qt() -> None:
    """What PyInstaller's PySide6 run-time hook does, done here so that the command line never loads Qt: point Qt
    at the bundled plugins. (PySide6 registers its own qt.conf when QtCore is imported.)"""
    base = getattr(sys, "_MEIPASS", None)
    if base is None:
        return
    qt = os.path.join(base, "PySide6") if sys.platform == "win32" else os.path.join(base, "PySide6", "Qt")
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt, "plugins")


if __name__ == "__main__":
    multiprocessing.freeze_support()  # training's data-loading workers re-enter the executable where spawn is used
    if wants_gui(sys.argv):
        if sys.argv[1:2] == [GUI_FLAG]:
            del sys.argv[1]
        prepare_qt()
        from memeclean_gui.app import main
    else:
        from memeclean_core.cli import main
    sys.exit(main())
