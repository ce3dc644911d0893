"""A child process that changes a template library and kills itself (SIGKILL) at one named point, or changes it
alongside other processes: `python -m tests.reliability.library_child FOLDER STAGE [SEED]`.

Kill points (a SIGKILL runs no cleanup, as a crash or `kill -9` would):
    add-after-marker     the marker is on disk, no picture yet
    add-after-picture    the picture is written, the thumbnail not
    add-before-commit    both files written, the row inserted but not committed
    add-after-commit     the row committed, the marker not yet removed
    remove-after-marker  the marker is on disk, the row not yet deleted
    remove-after-commit  the row deleted (committed), the files still there
    rename-before-commit the new name written in a transaction that is not committed
    import-third         an import of five pictures, killed while adding the third
Other stages: `add-many SEED` adds five pictures and renames each (the concurrency test runs several at once).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

from memeclean_core.library import TemplateLibrary, recovery, store
from memeclean_core.library.synthetic import textured_picture


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_on_call(module, name: str, call: int) -> None:
    """Replace module.name by a function that kills the process on its `call`-th call (1-based)."""
    real = getattr(module, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            die()
        return real(*args, **kwargs)

    setattr(module, name, wrapper)


def kill_inside_transaction() -> None:
    """Kill after the body of a write transaction ran, before COMMIT."""
    real = store.TemplateLibrary._writing

    @contextlib.contextmanager
    def writing(self):
        with self._connect(create=True) as connection:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            die()

    store.TemplateLibrary._writing = writing
    del real


def kill_after_transaction() -> None:
    real = store.TemplateLibrary._writing

    @contextlib.contextmanager
    def writing(self):
        with real(self) as connection:
            yield connection
        die()

    store.TemplateLibrary._writing = writing


def kill_when_marker_closes() -> None:
    real = recovery.marked

    @contextlib.contextmanager
    def marked(folder, key, operation):
        with real(folder, key, operation):
            yield
            die()

    recovery.marked = marked


def kill_after_marker() -> None:
    real = recovery.marked

    @contextlib.contextmanager
    def marked(folder, key, operation):
        with real(folder, key, operation):
            die()
            yield

    recovery.marked = marked


def main(folder: Path, stage: str, seed: int = 0) -> None:
    library = TemplateLibrary(folder)
    picture = textured_picture(100 + seed, 160, 120)
    if stage == "add-many":
        for number in range(5):
            entry = library.add(textured_picture(1000 * seed + number, 96, 72), f"p{seed}-{number}", tags=[f"s{seed}"])
            library.rename(entry.id, f"process {seed} picture {number}")
        return
    if stage == "add-after-marker":
        kill_after_marker()
    elif stage == "add-after-picture":
        from memeclean_core.files import imageio

        kill_on_call(imageio, "save_image", 2)
    elif stage == "add-before-commit":
        kill_inside_transaction()
    elif stage == "add-after-commit":
        kill_when_marker_closes()
    elif stage.startswith("remove") or stage.startswith("rename"):
        entry = library.entries()[0]
        if stage == "remove-after-marker":
            kill_after_marker()
        elif stage == "remove-after-commit":
            kill_after_transaction()
        else:
            kill_inside_transaction()
        if stage.startswith("remove"):
            library.remove(entry.id)
        else:
            library.rename(entry.id, "renamed")
        return
    elif stage == "import-third":
        kill_on_call(store, "fingerprint", 3)
        library.import_folder(folder.parent / "import")
        return
    library.add(picture, "killed")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
