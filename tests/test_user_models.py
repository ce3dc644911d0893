"""The user's models folder: under the platform's user data folder (redirected to a temporary home in tests)."""

import os
import subprocess
import sys
from pathlib import Path

from memeclean_core.resources import new_user_model_path, user_data_dir, user_models, user_models_dir

ROOT = Path(__file__).resolve().parent.parent


def test_the_models_folder_is_in_the_isolated_user_data_folder(isolated_user_dirs):
    assert user_models_dir() == user_data_dir() / "models"
    assert isolated_user_dirs in user_models_dir().parents  # never the real home in tests
    assert user_models() == []  # missing folder: no models, no error
    assert not user_models_dir().exists()  # asking does not create it


def test_models_are_listed_newest_first_and_only_weights_files(tmp_path):
    folder = user_models_dir()
    folder.mkdir(parents=True)
    old, new = folder / "old.pt", folder / "new.pt"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    os.utime(old, (1_000_000, 1_000_000))
    (folder / "notes.txt").write_text("not a model")
    (folder / "dir.pt").mkdir()
    assert user_models() == [new, old]
    assert user_models(tmp_path) == []


def test_a_new_model_path_never_names_an_existing_file():
    first = new_user_model_path()
    assert first.parent == user_models_dir() and first.suffix == ".pt" and first.name.startswith("model-")
    first.parent.mkdir(parents=True)
    first.write_bytes(b"x")
    second = new_user_model_path()
    assert second != first and not second.exists()


def test_the_helpers_import_neither_qt_nor_torch():
    code = (
        "import sys; from memeclean_core.resources import user_models_dir; user_models_dir(); "
        "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
