"""The one write path: complete or nothing, never over an input or an existing file unasked, a full disk is an
error (not a short file), temporaries of killed writes are removed. Full disks are made without root: a patched
`os.write`, or a file-size limit (RLIMIT_FSIZE) on a child process."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.errors import ImageSaveError, WriteError
from memeclean_core.files import safe_write
from memeclean_core.files.imageio import save_image
from memeclean_core.files.safe_write import TEMP_SUFFIX, check_writable_folder, remove_stale_temporaries, write_file

from .conftest import assert_refused, make_picture, no_temporaries, run_subprocess, snapshot

NOISE = np.random.default_rng(3).integers(0, 256, (300, 400, 3), dtype=np.uint8)


def test_a_complete_write(tmp_path):
    path = write_file(tmp_path / "a.bin", b"hello")
    assert path.read_bytes() == b"hello" and no_temporaries(tmp_path)


def test_an_existing_file_is_kept_without_overwrite(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"old")
    before = snapshot(tmp_path)
    with pytest.raises(WriteError, match="already exists"):
        write_file(tmp_path / "a.bin", b"new")
    assert snapshot(tmp_path) == before


def test_an_existing_file_is_replaced_with_overwrite(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"old")
    write_file(tmp_path / "a.bin", b"new", overwrite=True)
    assert (tmp_path / "a.bin").read_bytes() == b"new" and no_temporaries(tmp_path)


def test_an_input_is_never_written_even_with_overwrite(tmp_path):
    (tmp_path / "in.png").write_bytes(b"input")
    before = snapshot(tmp_path)
    with pytest.raises(WriteError, match="input file"):
        write_file(tmp_path / "sub" / ".." / "in.png", b"x", overwrite=True, protect=[tmp_path / "in.png"])
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "target, reason",
    [
        ("folder", "it is a folder"),
        ("missing/a.bin", "does not exist"),
        ("afile/a.bin", "a part of the path is a file"),
    ],
)
def test_targets_that_cannot_be_written(tmp_path, target, reason):
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_bytes(b"x")
    before = snapshot(tmp_path)
    with pytest.raises(WriteError, match=reason):
        write_file(tmp_path / target, b"data", overwrite=True)
    assert snapshot(tmp_path) == before


def test_a_short_write_is_a_full_disk_not_a_short_file(tmp_path, monkeypatch):
    """What Pillow's JPEG encoder ignores on a real file: here every byte count is checked."""
    real_write = os.write
    calls = []

    def short_write(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_write.os, "write", short_write)
    with pytest.raises(ImageSaveError, match="the disk is full"):
        save_image(tmp_path / "out.jpg", NOISE)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_write_that_makes_no_progress_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(safe_write.os, "write", lambda fd, data: 0)
    with pytest.raises(WriteError, match="the disk is full"):
        write_file(tmp_path / "a.bin", b"abc")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_does_not_read_back_is_not_published(tmp_path):
    def broken(path: Path) -> None:
        raise ValueError("checksum mismatch")

    with pytest.raises(WriteError, match="does not read back"):
        write_file(tmp_path / "a.bin", b"abc", verify=broken)
    assert list(tmp_path.iterdir()) == []


def test_an_encoder_that_fails_writes_nothing(tmp_path):
    def encode(buffer):
        buffer.write(b"half")
        raise KeyError("no such mode")

    with pytest.raises(WriteError, match="could not be encoded"):
        write_file(tmp_path / "a.bin", encode)
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_image_never_replaces_the_old_one(tmp_path, monkeypatch):
    """The re-decoding check: an encoder that produced a cut-off JPEG is caught before the rename."""
    old = save_image(tmp_path / "out.jpg", NOISE)
    before = snapshot(tmp_path)
    from memeclean_core.files import imageio

    real = imageio._write_image

    def truncated(file, image, fmt, quality):
        real(file, image, fmt, quality)
        file.truncate(file.tell() // 2)

    monkeypatch.setattr(imageio, "_write_image", truncated)
    with pytest.raises(ImageSaveError, match="does not read back"):
        save_image(old, NOISE[::-1].copy(), overwrite=True)
    assert snapshot(tmp_path) == before


def _stale(folder: Path, name: str, pid: int, age: float = 0.0) -> Path:
    path = folder / f".{name}.{pid}-0123abcd{TEMP_SUFFIX}"
    path.write_bytes(b"half a file")
    if age:
        past = time.time() - age
        os.utime(path, (past, past))
    return path


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporaries_of_killed_writes_are_removed(tmp_path):
    dead = _stale(tmp_path, "out.png", _dead_pid())
    old = _stale(tmp_path, "old.png", os.getppid(), age=3 * 24 * 3600)
    live = _stale(tmp_path, "live.png", os.getppid())
    mine = _stale(tmp_path, "mine.png", os.getpid())
    other = tmp_path / ".something.tmp"
    other.write_bytes(b"not ours")
    removed = remove_stale_temporaries(tmp_path, force=True)
    assert set(removed) == {dead, old}
    assert live.exists() and mine.exists() and other.exists()


def test_the_first_write_into_a_folder_sweeps_it(tmp_path):
    dead = _stale(tmp_path, "out.png", _dead_pid())
    write_file(tmp_path / "new.bin", b"x")
    assert not dead.exists()


def test_a_killed_write_leaves_only_a_temporary_that_the_next_write_removes(tmp_path):
    """SIGKILL in the middle of a write (between the temporary and the rename): the target is never half there."""
    script = (
        "import os, sys\n"
        "from memeclean_core.files import safe_write\n"
        "safe_write._move_into_place = lambda *a: os.kill(os.getpid(), 9)\n"
        f"safe_write.write_file({str(tmp_path / 'out.bin')!r}, b'x' * 100000)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(Path.cwd())))
    assert done.returncode == -9
    assert not (tmp_path / "out.bin").exists()
    assert [p.name.endswith(TEMP_SUFFIX) for p in tmp_path.iterdir()] == [True]
    write_file(tmp_path / "out.bin", b"complete")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_a_folder_under_a_file_is_not_writable(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(WriteError, match="cannot write in"):
        check_writable_folder(tmp_path / "file" / "sub")


# ------------------------------------------------------------------------------ full disk, in a child process

LIMIT = 20_000  # bytes: a file-size limit far below what the outputs need


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".gif"])
def test_clean_into_a_full_disk_writes_nothing(tmp_path, tiny_model_path, suffix):
    source = tmp_path / "in" / "meme.bmp"
    source.parent.mkdir()
    Image.fromarray(NOISE).save(source)
    out = tmp_path / "out"
    out.mkdir()
    outcome = run_subprocess(
        "clean",
        source,
        "-o",
        out / f"clean{suffix}",
        "--model",
        tiny_model_path,
        "--resolution",
        "64",
        "--device",
        "cpu",
        fsize=LIMIT,
    )
    line = assert_refused(outcome, "cannot write", "file-size limit")
    assert "clean" + suffix in line
    assert list(out.iterdir()) == []  # no truncated file, no temporary


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_caption_into_a_full_disk_writes_nothing(tmp_path, suffix):
    template = tmp_path / "template.bmp"
    Image.fromarray(NOISE).save(template)
    out = tmp_path / "out"
    out.mkdir()
    outcome = run_subprocess("caption", template, "--top", "HELLO", "-o", out / f"meme{suffix}", fsize=LIMIT)
    assert_refused(outcome, "cannot write", "file-size limit")
    assert list(out.iterdir()) == []


def test_prepare_into_a_full_disk_stops_with_no_truncated_picture(tmp_path):
    src = tmp_path / "raw"
    for index in range(3):
        make_picture(src / f"p{index}.png", size=(400, 300), seed=index)
    dest = tmp_path / "prepared"
    outcome = run_subprocess("prepare", src, dest, "--workers", "1", fsize=LIMIT)
    assert "Traceback" not in outcome.err and outcome.code == 1
    assert [line for line in outcome.err_lines if line.startswith("memeclean:")] and "file-size limit" in outcome.err
    for picture in dest.rglob("*.jpg"):
        with Image.open(picture) as image:
            image.load()  # whatever was published is whole
    assert no_temporaries(dest)
