"""Start MemeClean on a real display platform, open a meme, clean it, and check a screenshot of the window.

    python3 packaging/check_display.py xcb -- PROGRAM...     under Xvfb, QT_QPA_PLATFORM=xcb
    python3 packaging/check_display.py wayland -- PROGRAM... under weston's headless backend, QT_QPA_PLATFORM=wayland

PROGRAM is how to start the app: `dist/memeclean/memeclean-gui` (frozen) or `python3 -m memeclean_gui` (source). It
runs `PROGRAM --new-instance --quit-after-clean --screenshot SHOT.png SAMPLE`: the app prints when the cleaned picture
is shown, saves the window as the window system shows it (on X11 read back from the X server; a Wayland client may
not read the screen, so there it is the window as Qt drew it for the compositor) and quits. The check
passes when the app ran on the platform asked for, the clean succeeded, and the screenshot has the window's size and
is not blank. Exit status 0 when it passes, 1 when it fails, 2 when the display server is not installed (the caller
decides whether that is a failure). `packaging/build.sh --check` and tests/test_display_platforms.py run it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "samples" / "sample-meme.jpg"
SCREEN = (1280, 1024)
APP_TIMEOUT_S = 300
SERVER_START_S = 30
MIN_DISTINCT_COLOURS = 64  # a drawn window (menus, toolbar, picture) has many; a blank or black one has a few
MIN_SPREAD = 10.0  # standard deviation of the grey levels: a blank window is flat
NOT_INSTALLED = 2


class ServerMissing(Exception):
    """The display server is not installed here."""


def start_xvfb(env: dict[str, str], folder: Path) -> subprocess.Popen:
    """Xvfb on a free display number (it writes the number it took to a pipe); DISPLAY set in `env`."""
    if shutil.which("Xvfb") is None:
        raise ServerMissing("Xvfb is not installed (apt install xvfb)")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("w"),
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        raise RuntimeError(f"Xvfb did not start: {(folder / 'server.log').read_text()[-500:]}")
    env.update(DISPLAY=f":{number}", QT_QPA_PLATFORM="xcb")
    return server


def start_weston(env: dict[str, str], folder: Path) -> subprocess.Popen:
    """weston with its headless backend on a socket of its own; WAYLAND_DISPLAY and XDG_RUNTIME_DIR set in `env`."""
    if shutil.which("weston") is None:
        raise ServerMissing("weston is not installed (apt install weston)")
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700)
    env.update(XDG_RUNTIME_DIR=str(runtime), WAYLAND_DISPLAY="memeclean-check", QT_QPA_PLATFORM="wayland")
    server = subprocess.Popen(
        [
            "weston",
            "--backend=headless-backend.so",
            "--socket=memeclean-check",
            f"--width={SCREEN[0]}",
            f"--height={SCREEN[1]}",
            "--idle-time=0",
            "--no-config",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("w"),
    )
    deadline = time.monotonic() + SERVER_START_S
    while not (runtime / "memeclean-check").exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"weston did not start: {(folder / 'server.log').read_text()[-500:]}")
        time.sleep(0.2)
    return server


SERVERS = {"xcb": start_xvfb, "wayland": start_weston}


def host_library_path(name: str) -> Path | None:
    """The file the system's loader would load for `name` (from ldconfig's cache), links resolved."""
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    lines = [line for line in listing.splitlines() if line.split()[:1] == [name]]
    lines.sort(key=lambda line: "x86-64" not in line)  # the 64-bit copy first where a 32-bit one is installed too
    return Path(lines[0].split()[-1]).resolve() if lines else None


def hiding_host_libraries(names: list[str], command: list[str]) -> list[str]:
    """`command` run with the host's copies of these libraries made unloadable: each is covered by an empty file in
    a private mount namespace (`unshare -m`, needs root), so only a copy the program carries can load."""
    if not names:
        return command
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        raise ServerMissing("hiding host libraries needs root and unshare")
    mounts = [f"mount --bind /dev/null {path}" for name in names if (path := host_library_path(name)) is not None]
    return ["unshare", "-m", "sh", "-c", " && ".join([*mounts, 'exec "$@"']), "sh", *command]


def check_screenshot(path: Path, report: str) -> str:
    """What the screenshot shows, in one line; raises AssertionError when it is wrong."""
    sizes = re.search(r"screenshot: (\d+)x(\d+), window (\d+)x(\d+), platform '([^']*)'", report)
    assert sizes, f"the app printed no screenshot line:\n{report}"
    shot_w, shot_h, window_w, window_h = (int(value) for value in sizes.groups()[:4])
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    height, width = pixels.shape[:2]
    assert (width, height) == (shot_w, shot_h), f"the file is {width}x{height}, the app grabbed {shot_w}x{shot_h}"
    # The grab is in device pixels; the window's size in logical ones (equal at scale 1, as on these servers).
    assert (width, height) == (window_w, window_h), f"screenshot {width}x{height}, window {window_w}x{window_h}"
    assert width >= 640 and height >= 480, f"the window is only {width}x{height}"
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    spread = float(pixels.std())
    assert colours >= MIN_DISTINCT_COLOURS and spread >= MIN_SPREAD, (
        f"the screenshot looks blank: {colours} colours, grey-level spread {spread:.1f}"
    )
    return f"{width}x{height}, {colours} colours, spread {spread:.1f}"


def run_check(platform: str, program: list[str], keep: Path | None = None, hide: list[str] | None = None) -> str:
    """Start the server, run the app on it (with the host's copies of `hide` unloadable), check its output and
    screenshot; the one-line result."""
    with tempfile.TemporaryDirectory(prefix=f"memeclean-{platform}-") as scratch:
        folder = Path(scratch)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")
        }
        for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[name] = str(folder / name.lower())  # the user's settings and recent files stay untouched
        server = SERVERS[platform](env, folder)
        try:
            shot = folder / "screenshot.png"
            command = [*program, "--new-instance", "--quit-after-clean", "--screenshot", str(shot), str(SAMPLE)]
            command = hiding_host_libraries(hide or [], command)
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=APP_TIMEOUT_S)
        finally:
            server.terminate()
            server.wait(timeout=30)
        report = done.stdout + done.stderr
        assert done.returncode == 0, f"the app exited with {done.returncode}:\n{report[-3000:]}"
        assert "first clean: ok" in done.stdout, f"the clean did not succeed:\n{report[-3000:]}"
        assert f"platform '{platform}'" in done.stdout, f"the app did not run on {platform}:\n{report[-3000:]}"
        found = check_screenshot(shot, done.stdout)
        if keep is not None:
            shutil.copyfile(shot, keep)
        hidden = f" (host's {', '.join(hide)} hidden)" if hide else ""
        return f"{platform}: window shown, meme cleaned, screenshot {found}{hidden}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("platform", choices=sorted(SERVERS))
    parser.add_argument("program", nargs="+", help="how to start memeclean-gui")
    parser.add_argument("--keep", type=Path, help="copy the screenshot here")
    parser.add_argument(
        "--hide-host-library",
        action="append",
        default=[],
        metavar="SONAME",
        help="make the system's copy of this library unloadable for the app (root: a private mount namespace)",
    )
    args = parser.parse_args(argv)
    try:
        print(f"check_display: {run_check(args.platform, args.program, args.keep, args.hide_host_library)}")
    except ServerMissing as error:
        print(f"check_display: {args.platform}: not checked: {error}")
        return NOT_INSTALLED
    except (AssertionError, RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"check_display: {args.platform}: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
