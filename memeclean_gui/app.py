"""`memeclean-gui [FILE ...]`: the desktop app. Also `--self-test` (checks an installation) and `--version`.

Start-up imports Qt, numpy, Pillow and `memeclean_core`'s light modules only, so the window appears at once; as soon
as it is shown, a worker imports torch and loads the model, so the first clean does not wait for them. One window per
user: a second launch hands its file to the running one (`single_instance`). Uncaught errors become a dialog and go
to a rotating log file (`crash`).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
import time
from pathlib import Path

from memeclean_core import __version__
from memeclean_core.cli.arguments import add_model_arguments
from memeclean_core.errors import describe_unexpected
from memeclean_core.resources import resource_path

log = logging.getLogger("memeclean_gui")

SELFTEST_MODULE = "memeclean_core.selftest"  # provides run_self_test(out_dir=None) -> (ok, message)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memeclean-gui", description="MemeClean: take a meme, give back its clean template."
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="an image to open (and clean) at start; several, or a folder, fill the picture queue",
    )
    add_model_arguments(parser)  # --model, --device and --runtime, as the command line's
    parser.set_defaults(runtime=None)  # no --runtime: the one remembered in the settings (Model ▸ Runtime)
    for flag, what in SWITCHES:
        parser.add_argument(flag, action="store_true", help=what)
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        help="with --quit-after-clean: save what the window system shows of the window once the result is shown "
        "(packaging/check_display.py)",
    )
    return parser


# The app's on/off options, in the order --help lists them
SWITCHES = (
    ("--self-test", "check the installation (Qt plugins, bundled model, a sample clean) and exit"),
    ("--version", "print the version and exit"),
    ("--new-instance", "open a window of its own even when the app already runs (default: hand FILE to it)"),
    ("--quit-after-show", "show the window, then quit (measures start-up; bench/bench_bundle.py)"),
    ("--quit-after-clean", "clean FILE, print when the result is shown, then quit (bench/bench_gui.py)"),
)
SCREENSHOT_DELAY_MS = 500  # after the result is shown: time for the window system to draw it


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
    QGuiApplication.setDesktopFileName("memeclean")  # Wayland's app id: the desktop entry's name and icon
    icon = resource_path("icons", "memeclean.png")
    if icon.is_file():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    return app


def platform_libraries_missing() -> bool:
    """Print one line naming the packages to install when Qt's platform plugin would abort for want of them."""
    from .platform_libs import problem

    line = problem()
    if line is not None:
        sys.stderr.write(line + "\n")
    return line is not None


def run_self_test() -> int:
    """Build the window offscreen (Qt and its plugins load), then the core's check on the bundled model."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if platform_libraries_missing():
        return 1
    from PySide6.QtCore import qInstallMessageHandler, qVersion

    from .main_window import MainWindow
    from .model.settings import Settings

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
    except Exception as error:  # noqa: BLE001 - a broken installation is the very thing to report
        ok, message = False, f"self-test failed: {describe_unexpected(error)}"
    _print(message)
    return 0 if ok else 1


def save_screenshot(app, window, path: str) -> bool:
    """Save the window as the window system shows it (X11: read back from the server; other platforms, where a
    client cannot read the screen: the window drawn by Qt) and print its size and the platform."""
    picture = window.screen().grabWindow(window.winId()) if app.platformName() == "xcb" else window.grab()
    saved = picture.save(path, "PNG")
    _print(
        f"screenshot: {picture.width()}x{picture.height()}, window {window.width()}x{window.height()}, "
        f"platform '{app.platformName()}', saved {saved}"
    )
    return saved


def quit_after_clean(app, window, launched: float, screenshot: str | None = None) -> None:
    """For benchmarks and display checks: print the seconds from `launched` to the first result shown (or the
    error), save a screenshot when asked, then quit."""
    from PySide6.QtCore import QTimer

    def finished(kind: str, outcome: str) -> None:
        if kind == "load" and outcome == "ok" and not window.settings.auto_clean:
            window.clean()
        elif kind in ("clean", "load") and (kind == "clean" or outcome != "ok"):
            _print(
                f"first clean: {outcome} after {time.perf_counter() - launched:.2f} s, at {time.time():.3f} "
                f"({window.statusBar().currentMessage()})"
            )
            if screenshot is None or outcome != "ok":
                app.exit(0 if outcome == "ok" else 1)
            else:
                QTimer.singleShot(
                    SCREENSHOT_DELAY_MS, lambda: app.exit(0 if save_screenshot(app, window, screenshot) else 1)
                )

    window.controller.finished.connect(finished)


def open_files(window, files: list[str]) -> None:
    """One file opens as the picture (a folder fills the queue); several fill the picture queue."""
    if len(files) == 1:
        window.open_path(Path(files[0]))
    elif files:
        window.queue.add_paths([Path(name) for name in files])


def receive_hand_over(window, files: list[str]) -> None:
    """Files a second launch handed over: the window comes to the front and opens them."""
    from .single_instance import bring_forward

    bring_forward(window)
    open_files(window, files)


def main(argv: list[str] | None = None) -> int:
    launched = time.perf_counter()
    args = build_parser().parse_args(argv)
    if args.version:
        _print(f"memeclean-gui {__version__}")
        return 0
    if args.self_test:
        logging.basicConfig(level=logging.WARNING, format="memeclean-gui: %(levelname)s: %(message)s")
        return run_self_test()
    from .crash import install_excepthook, setup_logging

    log_path = setup_logging()

    if platform_libraries_missing():  # before Qt, which would abort the process
        return 1
    from PySide6.QtCore import QTimer

    app = create_application()
    alone = args.new_instance or args.quit_after_show or args.quit_after_clean
    server = None
    if not alone:
        from .single_instance import InstanceServer, send_to_running

        if send_to_running(args.files):
            _print("memeclean-gui: handed over to the running window")
            return 0
        server = InstanceServer(parent=app)
        server.listen()  # when it cannot, this window simply stays on its own

    from .main_window import MainWindow

    window = MainWindow(model_path=args.model, device=args.device, runtime=args.runtime)
    app.aboutToQuit.connect(window.workers.shutdown)  # no worker outlives the event loop
    install_excepthook(window, log_path)
    if server is not None:
        server.files_received.connect(lambda files: receive_hand_over(window, files))
        app.aboutToQuit.connect(server.close)
    if args.quit_after_clean:
        quit_after_clean(app, window, launched, args.screenshot)
    window.show()
    if args.quit_after_show:
        QTimer.singleShot(0, app.quit)
        return app.exec()
    # torch and the weights load in a worker as soon as the window is up: the first clean finds them ready.
    QTimer.singleShot(0, window.controller.preload_model)
    open_files(window, args.files)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
