"""`memeclean library add|list|match|remove|export` and `memeclean clean --use-library`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.cli import main
from memeclean_core.library import TemplateLibrary
from memeclean_core.library.synthetic import meme_from, textured_picture


def save(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = {f"t{seed}": save(folder / f"t{seed}.png", textured_picture(seed, 360, 270)) for seed in range(3)}
    meme, _ = meme_from(textured_picture(1, 360, 270), 5, 1.4, (0.02, 0.03, 0.0, 0.01))
    paths["meme"] = save(folder / "meme.jpg", meme)
    paths["other"] = save(folder / "other.png", textured_picture(77, 360, 270))
    return paths


def library_cli(*args) -> int:
    return main(["library", *map(str, args)])


def test_add_list_match_remove_export(files, tmp_path, capsys):
    assert library_cli("add", files["t0"], files["t1"], files["t2"], "--tag", "mine") == 0
    assert capsys.readouterr().out.count("added #") == 3
    library = TemplateLibrary()  # the user's library (a temporary home in tests)
    assert sorted(entry.name for entry in library.entries()) == ["t0", "t1", "t2"]

    assert library_cli("list") == 0
    listing = capsys.readouterr().out
    assert "t0" in listing and "[mine]" in listing
    assert library_cli("list", "t2") == 0
    assert [line.split()[-2] for line in capsys.readouterr().out.splitlines()] == ["t2"]

    t1 = next(entry for entry in library.entries() if entry.name == "t1")
    out, mask = tmp_path / "out" / "template.png", tmp_path / "out" / "mask.png"
    (tmp_path / "out").mkdir()
    assert library_cli("match", files["meme"], "--output", out, "--mask", mask) == 0
    printed = capsys.readouterr().out
    assert f"#{t1.id} t1" in printed
    with Image.open(out) as written, Image.open(files["meme"]) as meme:
        assert written.size == meme.size
    with Image.open(mask) as written:
        assert 0 < (np.asarray(written) > 127).mean() < 0.5

    assert library_cli("match", files["other"]) == 1
    assert "no library template matches" in capsys.readouterr().out

    assert library_cli("export", "--all", "--output-dir", tmp_path / "exported") == 0
    assert sorted(p.name for p in (tmp_path / "exported").iterdir()) == ["t0.png", "t1.png", "t2.png"]
    assert library_cli("export", str(t1.id), "--output-dir", tmp_path / "exported") == 1  # exists
    assert "already exists" in capsys.readouterr().err

    assert library_cli("remove", str(t1.id)) == 0
    assert library_cli("match", files["meme"]) == 1
    assert library_cli("remove", str(t1.id)) == 1
    assert f"no template #{t1.id}" in capsys.readouterr().err


def test_match_on_an_empty_library_and_bad_input(files, tmp_path, capsys):
    assert library_cli("match", files["meme"]) == 1
    assert library_cli("list") == 0
    assert "empty" in capsys.readouterr().out
    assert library_cli("match", tmp_path / "missing.png") == 1
    assert "missing.png" in capsys.readouterr().err
    assert library_cli("add", files["t0"], files["t1"], "--name", "x") == 1  # one name, two files
    assert library_cli("export", "--output-dir", tmp_path / "x") == 1


def test_library_option_uses_another_folder(files, tmp_path):
    assert library_cli("--library", tmp_path / "lib", "add", files["t1"]) == 0
    assert len(TemplateLibrary(tmp_path / "lib")) == 1 and len(TemplateLibrary()) == 0
    assert library_cli("--library", tmp_path / "lib", "match", files["meme"]) == 0


def test_clean_use_library_prefers_the_template(files, tmp_path, tiny_model_path, capsys):
    assert library_cli("add", files["t1"]) == 0
    outputs = tmp_path / "clean"
    args = [
        "clean",
        str(files["meme"]),
        str(files["other"]),
        "--output-dir",
        str(outputs),
        "--mask-dir",
        str(tmp_path / "masks"),
        "--model",
        str(tiny_model_path),
        "--resolution",
        "64",
        "--device",
        "cpu",
        "--use-library",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "used library template #1 t1" in captured.err
    assert "(1 with a library template)" in captured.out
    with Image.open(outputs / "meme.png") as cleaned, Image.open(files["meme"]) as meme:
        assert cleaned.size == meme.size
        expected = TemplateLibrary().match(np.asarray(meme.convert("RGB"))).clean
        assert np.array_equal(np.asarray(cleaned.convert("RGB")), expected)


def test_clean_file_records_how_each_input_was_cleaned(files, tmp_path, tiny_model):
    import argparse

    from memeclean_core.cli import clean as cli_clean

    TemplateLibrary().add_file(files["t1"])
    used: dict[str, str] = {}
    args = argparse.Namespace(output=None, output_dir=str(tmp_path), mask_dir=None, resolution=64, overwrite=False)
    for source in (files["meme"], files["other"]):
        cli_clean.clean_file(source, args, tiny_model, [source], {}, library=TemplateLibrary(), used=used)
    assert used == {str(files["meme"]): "library #1 t1", str(files["other"]): "model"}
