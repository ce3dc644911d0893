"""The template library under faults: a damaged, emptied or lost database, a kill at any point of a change,
several processes at once, a read-only mount, a database from a newer MemeClean, `library check --repair`."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.library import TemplateLibrary, recovery
from memeclean_core.library.synthetic import textured_picture

from .conftest import ROOT, assert_refused, run_cli, snapshot

NAMES = ["drake", "distracted", "success kid", "doge"]


def child(folder: Path, stage: str, seed: int = 0) -> subprocess.Popen:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.library_child", str(folder), stage, str(seed)],
        cwd=ROOT,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def library(tmp_path) -> TemplateLibrary:
    """Four templates with names and tags, and their pictures as files (for `match`)."""
    folder = tmp_path / "library"
    made = TemplateLibrary(folder)
    for seed, name in enumerate(NAMES):
        picture = textured_picture(seed, 160, 120)
        made.add(picture, name, tags=["classic", f"t{seed}"])
        Image.fromarray(picture).save(tmp_path / f"{seed}.png")
    return TemplateLibrary(folder)


def assert_consistent(folder: Path) -> TemplateLibrary:
    """Every row has its picture and thumbnail, every picture its row, and no operation is left pending."""
    library = TemplateLibrary(folder)
    keys = {entry.picture.stem for entry in library.entries()}
    for entry in library.entries():
        assert entry.picture.is_file() and entry.thumbnail.is_file(), entry
    assert set(recovery.picture_keys(folder)) == keys
    assert {path.stem for path in (folder / "thumbs").glob("*.jpg")} == keys
    assert not list((folder / recovery.PENDING_FOLDER).glob("*.*.*"))
    return library


def names(library: TemplateLibrary) -> list[str]:
    return sorted(entry.name for entry in library.entries())


# -- a kill at any point of a change ---------------------------------------------------------------------------

KILLS = [
    ("add-after-marker", NAMES),
    ("add-after-picture", NAMES),
    ("add-before-commit", NAMES),
    ("add-after-commit", NAMES + ["killed"]),
    ("remove-after-marker", NAMES[:3]),  # the removal is finished
    ("remove-after-commit", NAMES[:3]),
    ("rename-before-commit", NAMES),
    ("import-third", NAMES + ["i0", "i1"]),
]


@pytest.mark.parametrize(("stage", "expected"), KILLS, ids=[stage for stage, _ in KILLS])
def test_a_kill_at_any_point_leaves_picture_and_row_both_or_neither(library, tmp_path, stage, expected):
    (tmp_path / "import").mkdir()
    for number in range(5):
        Image.fromarray(textured_picture(50 + number, 120, 90)).save(tmp_path / "import" / f"i{number}.png")
    newest_first = [entry.name for entry in library.entries()]
    assert newest_first[0] == "doge"  # the one the remove and rename stages act on
    process = child(library.folder, stage)
    process.wait(timeout=120)
    assert process.returncode == -9, process.stderr.read()
    assert names(assert_consistent(library.folder)) == sorted(expected)


def test_a_marker_of_a_live_process_is_left_alone_and_a_dead_ones_settled(library):
    pending = library.folder / recovery.PENDING_FOLDER
    key = library.entries()[0].picture.stem
    live = pending / f"{key}.remove.{os.getpid()}"
    live.touch()
    assert len(TemplateLibrary(library.folder).entries()) == 4 and live.exists()
    live.rename(pending / f"{key}.remove.999999999")
    assert len(assert_consistent(library.folder).entries()) == 3


# -- a database that cannot be read -----------------------------------------------------------------------------


def overwrite_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:100] = b"\xff" * 100
    path.write_bytes(bytes(data))


def scramble_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    noise = random.Random(1)
    for at in range(4096 * 2, min(len(data), 4096 * 5)):
        data[at] = noise.randrange(256)
    path.write_bytes(bytes(data))


def truncate_to_nothing(path: Path) -> None:
    path.write_bytes(b"")


def truncate_to_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def replace_with_text(path: Path) -> None:
    path.write_text("this is not a database\n")


def delete(path: Path) -> None:
    path.unlink()


DAMAGE = [
    (overwrite_header, 4),
    (scramble_pages, 0),
    (truncate_to_nothing, 0),
    (truncate_to_half, 0),
    (replace_with_text, 0),
    (delete, 0),
]


@pytest.mark.parametrize(("damage", "named"), DAMAGE, ids=[damage.__name__ for damage, _ in DAMAGE])
def test_a_damaged_database_is_moved_aside_and_rebuilt_from_the_pictures(library, capsys, damage, named):
    database = library.database
    damage(database)
    damaged = database.read_bytes() if database.exists() else None
    outcome = run_cli(capsys, "library", "--library", library.folder, "list")
    assert outcome.code == 0 and "Traceback" not in outcome.err
    (note,) = outcome.err_lines
    assert note.startswith("memeclean: note: ") and "rebuilt from its pictures folder" in note
    healed = assert_consistent(library.folder)
    assert len(healed.entries()) == 4
    recovered = [name for name in names(healed) if name in NAMES]
    assert len(recovered) >= named
    if damaged is not None:  # kept, byte for byte, where the note says
        (aside,) = library.folder.glob(f"{recovery.ASIDE_PREFIX}*.sqlite3")
        assert str(aside) in note and aside.read_bytes() == damaged
    assert len(outcome.out.splitlines()) == 4


def test_names_come_back_from_an_older_moved_aside_database(library, capsys):
    overwrite_header(library.database)
    assert run_cli(capsys, "library", "--library", library.folder, "list").code == 0
    truncate_to_nothing(library.database)  # the rebuilt one is lost too: the first copy still has the names
    assert run_cli(capsys, "library", "--library", library.folder, "list").code == 0
    assert names(TemplateLibrary(library.folder)) == sorted(NAMES)


COMMANDS = [
    ["list"],
    ["add", "{pic}"],
    ["match", "{pic}"],
    ["remove", "1"],
    ["export", "--all", "--output-dir", "{out}"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[command[0] for command in COMMANDS])
def test_every_command_works_again_on_a_library_whose_database_was_damaged(library, tmp_path, capsys, command):
    overwrite_header(library.database)
    arguments = [part.format(pic=tmp_path / "1.png", out=tmp_path / "out") for part in command]
    outcome = run_cli(capsys, "library", "--library", library.folder, *arguments)
    assert outcome.code == 0, outcome.err
    assert len(outcome.err_lines) == 1 and "rebuilt" in outcome.err_lines[0]
    assert_consistent(library.folder)


# -- from a newer MemeClean ---------------------------------------------------------------------------------------

NEWER = [["list"], ["add", "{pic}"], ["match", "{pic}"], ["remove", "1"], ["check"], ["check", "--repair"]]


@pytest.mark.parametrize("command", NEWER, ids=["-".join(command) for command in NEWER])
def test_a_database_from_a_newer_version_is_refused_and_never_written(library, tmp_path, capsys, command):
    with sqlite3.connect(library.database) as connection:
        connection.execute("PRAGMA user_version = 7")
    connection.close()
    before = snapshot(library.folder)
    arguments = [part.format(pic=tmp_path / "1.png") for part in command]
    outcome = run_cli(capsys, "library", "--library", library.folder, *arguments)
    assert_refused(outcome, "format 7", "newer MemeClean", "reads format 1")
    assert snapshot(library.folder) == before


# -- a read-only library ------------------------------------------------------------------------------------------

READ_ONLY = [
    (["list"], 0, "doge"),
    (["match", "{pic}"], 0, "distracted"),
    (["check"], 0, "whole"),
    (["add", "{pic}"], 1, "read-only"),
    (["remove", "1"], 1, "read-only"),
    (["check", "--repair"], 1, "read-only"),
]


def read_only_mount_works(folder: Path) -> bool:
    if not shutil.which("unshare"):
        return False
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}' && ! touch '{folder}/x'"],
        capture_output=True,
    )
    return done.returncode == 0


@pytest.mark.parametrize(("command", "code", "said"), READ_ONLY, ids=["-".join(c) for c, _, _ in READ_ONLY])
def test_a_library_on_a_read_only_mount_lists_and_matches(library, tmp_path, command, code, said):
    if not read_only_mount_works(tmp_path):
        pytest.skip("needs unprivileged mount namespaces (unshare -rm) for a read-only bind mount")
    with sqlite3.connect(library.database) as connection:  # a WAL database whose index file is not there
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()
    before = snapshot(library.folder)
    arguments = " ".join(f"'{part.format(pic=tmp_path / '1.png')}'" for part in command)
    script = (
        f"mount --bind -o ro '{library.folder}' '{library.folder}' && "
        f"exec '{sys.executable}' -m memeclean_core library --library '{library.folder}' {arguments}"
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=120,
    )
    assert "Traceback" not in done.stderr and done.returncode == code, done.stderr
    assert said in done.stdout + done.stderr
    if code:
        assert len(done.stderr.strip().splitlines()) == 1
    assert snapshot(library.folder) == before


# -- several processes at once ------------------------------------------------------------------------------------


def test_three_processes_and_this_one_adding_at_once_lose_nothing(library):
    processes = [child(library.folder, "add-many", seed) for seed in (1, 2, 3)]
    here = TemplateLibrary(library.folder)  # the "app": another object, in threads, meanwhile
    errors: list[BaseException] = []

    def add_here(number: int) -> None:
        try:
            entry = here.add(textured_picture(900 + number, 96, 72), f"here {number}")
            here.set_tags(entry.id, ["app"])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=add_here, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in processes:
        assert process.wait(timeout=180) == 0, process.stderr.read()
    assert errors == []
    healed = assert_consistent(library.folder)
    from_processes = [f"process {s} picture {n}" for s in (1, 2, 3) for n in range(5)]
    expected = NAMES + from_processes + [f"here {n}" for n in range(3)]
    assert names(healed) == sorted(expected)
    assert all("app" in entry.tags for entry in healed.entries(search="here"))


# -- check and repair ------------------------------------------------------------------------------------------


def lose_a_picture(library: TemplateLibrary) -> str:
    library.entries()[0].picture.unlink()
    return "picture is missing"


def lose_a_row(library: TemplateLibrary) -> str:
    with sqlite3.connect(library.database) as connection:
        connection.execute("DELETE FROM entries WHERE name = 'drake'")
    connection.close()
    return "has no entry"


def break_a_thumbnail(library: TemplateLibrary) -> str:
    library.entries()[0].thumbnail.write_bytes(b"not a jpeg")
    return "thumbnail is damaged"


def damage_a_picture(library: TemplateLibrary) -> str:
    picture = library.entries()[0].picture
    picture.write_bytes(picture.read_bytes()[:200])
    return "picture is damaged"


FAULTS = [(lose_a_picture, 3), (lose_a_row, 4), (break_a_thumbnail, 4), (damage_a_picture, 3)]


@pytest.mark.parametrize(("fault", "left"), FAULTS, ids=[fault.__name__ for fault, _ in FAULTS])
def test_check_finds_each_fault_and_repair_fixes_it(library, capsys, fault, left):
    said = fault(library)
    found = run_cli(capsys, "library", "--library", library.folder, "check")
    assert found.code == 1 and said in found.out and "Traceback" not in found.err
    repaired = run_cli(capsys, "library", "--library", library.folder, "check", "--repair")
    assert repaired.code == 0 and "repaired:" in repaired.out
    again = run_cli(capsys, "library", "--library", library.folder, "check")
    assert again.code == 0 and "whole" in again.out
    assert len(assert_consistent(library.folder).entries()) == left


def test_a_rebuilt_library_still_matches_its_templates(library, tmp_path):
    overwrite_header(library.database)
    rebuilt = TemplateLibrary(library.folder)
    with Image.open(tmp_path / "2.png") as picture:
        found = rebuilt.match(np.asarray(picture.convert("RGB")))
    assert found is not None and found.entry.name == "success kid"
