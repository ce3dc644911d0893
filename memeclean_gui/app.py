"""`memeclean-gui [FILE ...]`: the desktop app. Also `--self-test` (checks an installation) and `--version`.

Start-up imports Qt, numpy, Pillow and `memeclean_core`'s light modules only; torch is imported by the first clean,
in a worker thread, so the window appears at once.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
import traceback
from pathlib import Path

from memeclean_core import __version__
from memeclean_core.resources import resource_path

log = logging.getLogger("memeclean_gui")

SELFTEST_MODULE = "memeclean_core.selftest"  # provides run_self_test(out_dir=None) -> (ok, message)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="memeclean-gui",
                                     description="MemeClean: take a meme, give back its clean template.")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="an image to open (and clean) at start; several, or a folder, fill the picture queue")
    parser.add_argument("--model", metavar="WEIGHTS", help="weights file (default: the bundled model)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                        help="where the network runs (default: auto, a GPU when there is one)")
    parser.add_argument("--self-test", action="store_true",
                        help="check the installation (Qt plugins, bundled model, a sample clean) and exit")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def _print(text: str) -> None:
    """Print when there is a console (a windowed app on Windows has no stdout)."""
    if sys.stdout is not None:
        print(text, flush=True)


def create_application():
    """The QApplication (the existing one if any), named so settings and the desktop know it."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (150 %) drawn as they are, not rounded: sharp on high-DPI screens.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv and sys.argv[0] else "memeclean-gui"])
    app.setApplicationName("MemeClean")
    app.setApplicationDisplayName("MemeClean")
    app.setOrganizationName("MemeClean")
    app.setApplicationVersion(__version__)
    icon = resource_path("icons", "memeclean.png")
    if icon.is_file():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    return app


def install_excepthook(window) -> None:
    """An exception escaping a Qt slot becomes a message, not a crash; its traceback goes to the log (stderr)."""
    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        try:
            from .worker import error_message

            window.show_error(error_message(value))
        except Exception:  # the window may be gone: the log line above is all we can do
            pass

    sys.excepthook = hook


def run_self_test() -> int:
    """Build the window offscreen (Qt and its plugins load), then the core's check on the bundled model."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import qInstallMessageHandler, qVersion

    from .main_window import MainWindow
    from .settings import Settings

    def quiet(kind, context, message) -> None:  # the offscreen platform's harmless chatter is no test result
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(quiet)
    try:
        app = create_application()
        window = MainWindow(settings=Settings())  # settings in memory: a self-test never touches the user's file
        window.show()
        app.processEvents()
        _print(f"MemeClean {__version__}: window OK (Qt {qVersion()}, platform '{app.platformName()}')")
        window.close()
    finally:
        qInstallMessageHandler(previous)
    if importlib.util.find_spec(SELFTEST_MODULE) is None:
        _print(f"memeclean-gui: self-test unavailable: this installation has no {SELFTEST_MODULE}")
        return 1
    try:
        selftest = importlib.import_module(SELFTEST_MODULE)
        ok, message = selftest.run_self_test()
    except Exception as error:  # a broken installation is the very thing to report
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        ok, message = False, f"self-test failed: {type(error).__name__}{': ' + detail if detail else ''}"
    _print(message)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        _print(f"memeclean-gui {__version__}")
        return 0
    logging.basicConfig(level=logging.WARNING, format="memeclean-gui: %(levelname)s: %(message)s")
    if args.self_test:
        return run_self_test()

    from .main_window import MainWindow

    app = create_application()
    window = MainWindow(model_path=args.model, device=args.device)
    app.aboutToQuit.connect(window.controller.shutdown)  # no worker outlives the event loop
    install_excepthook(window)
    window.show()
    if len(args.files) == 1:
        window.open_path(Path(args.files[0]))  # a folder goes to the queue
    elif args.files:
        window.queue.add_paths([Path(name) for name in args.files])
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
