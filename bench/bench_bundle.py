"""Measure the PyInstaller bundle: its size, the frozen app's start-up time to a shown window, the self-test time.

    python3 bench/bench_bundle.py [--dist dist/memeclean] [--runs 3]

Build the bundle first (`bash packaging/build.sh`). Prints:
  * the size on disk, in all and the ten biggest files and folders (targets: ≤ 550 MB);
  * the size of the download, the folder as a .tar.xz: the archive build.sh wrote next to the folder when it is newer
    than the bundle, else one made now with xz -9 (target: ≤ 220 MB, issue 27);
  * `memeclean --help` time (the CLI's start-up, no torch);
  * start-up to a shown window: `memeclean-gui --quit-after-show` when the app has that flag; otherwise the moment
    `memeclean-gui --self-test` prints its "window OK" line, which it does right after showing the main window
    (both offscreen, so they run without a display);
  * the whole frozen self-test (`memeclean-gui --self-test`, then `memeclean selftest`): torch import, model load, a
    clean of the bundled sample at 512 and the checks.
The first run after a build reads everything from disk (cold); the later ones hit the page cache (warm).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _common import ROOT, arguments

WINDOW_LINE = "window OK"


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def sizes(dist: Path) -> tuple[int, list[tuple[int, Path]], list[tuple[int, Path]]]:
    """(total bytes, [(bytes, file)], [(bytes, folder)]) over every file under `dist` (links not followed)."""
    files: list[tuple[int, Path]] = []
    folders: dict[Path, int] = {}
    for path in dist.rglob("*"):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            files.append((size, path))
            for parent in path.relative_to(dist).parents:
                if parent != Path("."):
                    folders[dist / parent] = folders.get(dist / parent, 0) + size
    total = sum(size for size, _ in files)
    # Folders that are not just the whole bundle again (_internal holds nearly everything).
    nested = [(size, folder) for folder, size in folders.items() if size < 0.9 * total]
    return total, sorted(files, reverse=True), sorted(nested, reverse=True)


def archive_size(dist: Path) -> tuple[int, str]:
    """(bytes, where from) of the bundle as a .tar.xz: build.sh's archive when it is newer than the bundle."""
    built = max(path.stat().st_mtime for path in dist.iterdir())
    archives = sorted(dist.parent.glob(f"{dist.name}-*.tar.xz"), key=lambda path: path.stat().st_mtime)
    if archives and archives[-1].stat().st_mtime >= built:
        return archives[-1].stat().st_size, str(archives[-1])
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bundle.tar.xz"
        with tarfile.open(out, "w:xz", preset=9) as archive:
            archive.add(dist, arcname=dist.name)
        return out.stat().st_size, "made now (xz -9)"


def frozen_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def timed(command: list[str], timeout: float = 600) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=frozen_env(), timeout=timeout)
    return time.perf_counter() - started, done.returncode, (done.stdout + done.stderr).strip()


def time_to_window(gui: Path, has_quit_flag: bool, timeout: float = 600) -> tuple[float | None, float, int, str]:
    """(seconds to the shown window or None, seconds to exit, exit status, output)."""
    command = [str(gui), "--quit-after-show"] if has_quit_flag else [str(gui), "--self-test"]
    started = time.perf_counter()
    shown = None
    lines = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=frozen_env()
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if shown is None and WINDOW_LINE in line:
                shown = time.perf_counter() - started
            lines.append(line.rstrip())
        status = process.wait(timeout=timeout)
    finished = time.perf_counter() - started
    if has_quit_flag and status == 0:
        shown = finished
    return shown, finished, status, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist" / "memeclean", help="the bundle folder")
    parser.add_argument("--runs", type=int, default=3, help="start-up measurements (the first is cold)")
    parser.add_argument("--top", type=int, default=10, help="how many of the biggest files/folders to list")
    args = parser.parse_args(argv)

    dist = args.dist.resolve()
    gui, cli = dist / "memeclean-gui", dist / "memeclean"
    if sys.platform == "win32":
        gui, cli = gui.with_suffix(".exe"), cli.with_suffix(".exe")
    if not gui.is_file() or not cli.is_file():
        print(f"bench_bundle: no bundle at {dist}; build it with `bash packaging/build.sh`", file=sys.stderr)
        return 2

    total, files, folders = sizes(dist)
    print(f"bundle: {dist}")
    print(f"size: {human(total)} in {len(files)} files")
    print("biggest files:")
    for size, path in files[: args.top]:
        print(f"  {human(size):>9}  {path.relative_to(dist)}")
    print("biggest folders:")
    for size, path in folders[: args.top]:
        print(f"  {human(size):>9}  {path.relative_to(dist)}/")
    packed, where = archive_size(dist)
    print(
        f"on disk: {human(total)} [target ≤ 550 MB: {'OK' if total <= 550 * 2**20 else 'OVER'}]; "
        f".tar.xz: {human(packed)} ({where}) [target ≤ 220 MB: {'OK' if packed <= 220 * 10**6 else 'OVER'}]"
    )

    seconds, status, output = timed([str(cli), "--help"])
    print(f"memeclean --help: {seconds:.2f} s (exit {status})")

    _, _, gui_help = timed([str(gui), "--help"])
    has_quit_flag = "--quit-after-show" in gui_help
    how = (
        "memeclean-gui --quit-after-show, until it exits"
        if has_quit_flag
        else f"memeclean-gui --self-test, until it prints '{WINDOW_LINE}' (the app has no --quit-after-show)"
    )
    shown_times, test_times = [], []
    failures = 0
    for run in range(args.runs):
        shown, finished, status, output = time_to_window(gui, has_quit_flag)
        label = "cold" if run == 0 else "warm"
        shown_text = f"{shown:.2f} s" if shown is not None else "never shown"
        extra = "" if has_quit_flag else f"; whole self-test {finished:.2f} s, exit {status}"
        print(f"start-up to shown window, run {run + 1} ({label}): {shown_text}{extra}")
        if shown is not None:
            shown_times.append(shown)
        if not has_quit_flag:
            test_times.append(finished)
        if status != 0:
            failures += 1
            print("  output: " + output.replace("\n", "\n          "))
    if shown_times:
        print(
            f"start-up to shown window: {min(shown_times):.2f} s best, {statistics.median(shown_times):.2f} s "
            f"median of {len(shown_times)} ({how}; offscreen)"
        )

    if has_quit_flag:
        seconds, status, output = timed([str(gui), "--self-test"])
        test_times.append(seconds)
        failures += status != 0
        print(f"memeclean-gui --self-test: {seconds:.2f} s (exit {status})")
        print("  " + output.replace("\n", "\n  "))
    else:
        print(f"memeclean-gui --self-test: {statistics.median(test_times):.2f} s median (exit statuses above)")
    seconds, status, output = timed([str(cli), "selftest"])
    failures += status != 0
    print(f"memeclean selftest: {seconds:.2f} s (exit {status})")
    print("  " + output.replace("\n", "\n  "))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
