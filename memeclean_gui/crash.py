"""The app's log file and what happens to an error nobody caught.

Warnings and errors go to stderr and to `memeclean-gui.log` in the platform's log folder (platformdirs), which rotates
at LOG_BYTES into LOG_BACKUPS older files, so it never grows without bound. An exception that escapes a Qt slot or
event handler is written there with its traceback and shown to the person as a dialog with one line and the log
file's path; the app keeps running.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from pathlib import Path

log = logging.getLogger("memeclean_gui")

LOG_NAME = "memeclean-gui.log"
LOG_BYTES = 1_000_000  # then memeclean-gui.log.1, .2: at most (1 + LOG_BACKUPS) × LOG_BYTES on disk
LOG_BACKUPS = 2
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir() -> Path:
    """The platform's log folder for the app (~/.local/state/MemeClean/log on Linux)."""
    import platformdirs

    return platformdirs.user_log_path("MemeClean", appauthor=False)


def setup_logging(folder: Path | None = None, stderr: bool = True) -> Path | None:
    """Log warnings and errors of the app and the core to stderr and to the rotating log file in `folder` (default:
    `log_dir()`). Returns the log file's path, or None when the folder cannot be written (then stderr only)."""
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    if stderr and not any(getattr(handler, "_memeclean", False) == "stderr" for handler in root.handlers):
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("memeclean-gui: %(levelname)s: %(message)s"))
        console._memeclean = "stderr"  # type: ignore[attr-defined]
        if sys.stderr is not None:  # a windowed app on Windows has no stderr
            root.addHandler(console)
    path = (folder if folder is not None else log_dir()) / LOG_NAME
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == path:
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError as error:
        log.warning("no log file (%s): %s", path, error)
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    return path


def error_dialog_text(error: BaseException, log_path: Path | None) -> str:
    """One line saying what went wrong, and where the details are."""
    from .workers.runner import error_message

    text = f"Something went wrong: {error_message(error)}"
    if log_path is not None:
        text += f"\n\nThe details are in the log file:\n{log_path}"
    return text + "\n\nMemeClean keeps running; you may want to save your work."


def install_excepthook(window, log_path: Path | None) -> None:
    """An exception escaping a Qt slot becomes a dialog, not a crash; its traceback goes to the log. While one dialog
    is open, later errors are only logged (an error in a paint event would otherwise stack dialogs)."""
    previous = sys.excepthook
    showing = False

    def hook(kind, value, tb) -> None:
        nonlocal showing
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)).rstrip())
        if showing:
            return
        showing = True
        try:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(window, "MemeClean", error_dialog_text(value, log_path))
        except Exception:  # noqa: BLE001 - the window may be gone: the log line above is all we can do
            pass
        finally:
            showing = False

    sys.excepthook = hook
