"""The Linux desktop integration in packaging/linux/: the desktop entry, its icons and the install/uninstall scripts
(run against a temporary XDG_DATA_HOME)."""

from __future__ import annotations

import configparser
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
ENTRY = LINUX / "share" / "applications" / "memeclean.desktop"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
VALIDATE = shutil.which("desktop-file-validate")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Linux desktop files and POSIX shell scripts")


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


@pytest.mark.skipif(VALIDATE is None, reason="desktop-file-validate is not installed (desktop-file-utils)")
def test_the_desktop_entry_is_valid():
    done = subprocess.run([VALIDATE, str(ENTRY)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_entry_opens_pictures_with_the_app():
    entry = read_entry(ENTRY)
    assert entry["Type"] == "Application" and entry["Name"] == "MemeClean" and entry["Icon"] == "memeclean"
    assert entry["Exec"] == "memeclean-gui %f"  # one file: a second one goes to the running window
    mime_types = set(filter(None, entry["MimeType"].split(";")))
    assert {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff"} <= mime_types
    # Every type the entry claims is one the app opens (File ▸ Open's filter).
    from memeclean_gui.main_window import OPEN_FILTER

    extensions = {
        "image/png": "*.png",
        "image/jpeg": "*.jpg",
        "image/gif": "*.gif",
        "image/webp": "*.webp",
        "image/bmp": "*.bmp",
        "image/tiff": "*.tif",
        "image/apng": "*.apng",
    }
    assert all(extensions[mime] in OPEN_FILTER for mime in mime_types)


def test_icons_in_every_standard_size():
    for size in ICON_SIZES:
        path = LINUX / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "memeclean.png"
        with Image.open(path) as icon:
            assert icon.size == (size, size) and icon.mode == "RGBA", path


def fake_bundle(tmp_path: Path) -> Path:
    """An unpacked bundle: the scripts and share/ as build.sh copies them, and an executable memeclean-gui."""
    bundle = tmp_path / "MemeClean-1.0"
    shutil.copytree(LINUX, bundle)
    program = bundle / "memeclean-gui"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return bundle


def run_script(script: Path, data_home: Path | None, home: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "XDG_DATA_HOME"}
    env.update(HOME=str(home), PATH="/usr/bin:/bin")
    if data_home is not None:
        env["XDG_DATA_HOME"] = str(data_home)
    return subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=60)


def test_install_puts_the_entry_and_icons_in_xdg_data_home_and_uninstall_takes_them_away(tmp_path):
    bundle = fake_bundle(tmp_path)
    data = tmp_path / "data"
    done = run_script(bundle / "install-desktop.sh", data, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    installed = data / "applications" / "memeclean.desktop"
    entry = read_entry(installed)
    assert entry["Exec"] == f"{bundle / 'memeclean-gui'} %f"
    assert entry["TryExec"] == str(bundle / "memeclean-gui")
    assert entry["MimeType"] == read_entry(ENTRY)["MimeType"]
    for size in ICON_SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "memeclean.png").is_file()
    if VALIDATE is not None:
        check = subprocess.run([VALIDATE, str(installed)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
    assert not (tmp_path / "home" / ".local").exists()  # XDG_DATA_HOME honoured

    (data / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png").write_bytes(b"not ours")
    done = run_script(bundle / "uninstall-desktop.sh", data, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert not installed.exists()
    assert not list(data.glob("icons/hicolor/*/apps/memeclean.png"))
    assert (data / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png").exists()  # only ours removed


def test_without_xdg_data_home_it_installs_under_the_home_folder(tmp_path):
    bundle = fake_bundle(tmp_path)
    home = tmp_path / "home"
    done = run_script(bundle / "install-desktop.sh", None, home)
    assert done.returncode == 0, done.stderr
    assert (home / ".local" / "share" / "applications" / "memeclean.desktop").is_file()
    assert run_script(bundle / "uninstall-desktop.sh", None, home).returncode == 0
    assert not (home / ".local" / "share" / "applications" / "memeclean.desktop").exists()


def test_install_refuses_without_a_program_to_point_at(tmp_path):
    bundle = fake_bundle(tmp_path)
    (bundle / "memeclean-gui").unlink()
    done = run_script(bundle / "install-desktop.sh", tmp_path / "data", tmp_path / "home")
    assert done.returncode != 0 and "no memeclean-gui" in done.stderr
    assert not (tmp_path / "data" / "applications" / "memeclean.desktop").exists()
