"""memeclean_core.data.prepare / `memeclean prepare`: good files are converted and resized, broken ones are skipped
and reported, both pair layouts (simple and ImgFlip575K JSON) are organised, the held-out split is deterministic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.cli import main
from memeclean_core.data.pairs import PairSource
from memeclean_core.data.prepare import REPORT_NAME, is_val, prepare
from memeclean_core.errors import MemeCleanError
from memeclean_core.resources import resource_path


def picture(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.stack([xx * 255 // max(1, width - 1), yy * 255 // max(1, height - 1), np.full_like(xx, 100)], -1)
    return Image.fromarray((rgb + rng.integers(0, 20, rgb.shape)).clip(0, 255).astype(np.uint8))


def make_source(root: Path) -> Path:
    (root / "photos" / "nested").mkdir(parents=True)
    picture(400, 300).save(root / "photos" / "big.jpg", quality=90)
    picture(120, 90).save(root / "photos" / "nested" / "small_ok.png")
    # EXIF orientation 6: stored 300×200, shown upright as 200×300
    exif = Image.Exif()
    exif[0x0112] = 6
    picture(300, 200).save(root / "photos" / "rotated.jpg", exif=exif)
    rgba = picture(160, 160).convert("RGBA")
    rgba.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, 160, dtype=np.uint8), (160, 1))))
    rgba.save(root / "photos" / "transparent.png")
    # broken files
    data = (root / "photos" / "big.jpg").read_bytes()
    (root / "photos" / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (root / "photos" / "text.png").write_text("this is not a picture\n")
    (root / "photos" / "empty.jpg").write_bytes(b"")
    picture(40, 30).save(root / "photos" / "tiny.png")
    (root / "photos" / "notes.txt").write_text("not an image, not a font\n")
    # clip art with transparency
    (root / "clipart").mkdir()
    art = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    art.paste((200, 30, 30, 255), (50, 50, 150, 150))
    art.save(root / "clipart" / "square.png")
    # a font with its licence
    (root / "fonts").mkdir()
    shutil.copy(resource_path("fonts", "Anton-Regular.ttf"), root / "fonts" / "Anton-Regular.ttf")
    shutil.copy(resource_path("fonts", "Anton-OFL.txt"), root / "fonts" / "OFL.txt")
    (root / "fonts" / "Broken.ttf").write_bytes(b"not a font")
    # simple pair layout
    (root / "pairs_raw" / "templates").mkdir(parents=True)
    (root / "pairs_raw" / "memes" / "doge").mkdir(parents=True)
    picture(500, 400, seed=3).save(root / "pairs_raw" / "templates" / "doge.jpg", quality=95)
    for i in range(3):
        picture(250, 200, seed=3).save(root / "pairs_raw" / "memes" / "doge" / f"m{i}.jpg", quality=85)
    return root


def make_imgflip(root: Path, with_missing: bool = True) -> Path:
    """The ImgFlip575K layout: dataset/templates/<name>.json + dataset/memes/<name>.json, images downloaded."""
    dataset = root / "dataset"
    (dataset / "templates").mkdir(parents=True)
    (dataset / "memes" / "Doge").mkdir(parents=True)
    (dataset / "templates" / "Doge.json").write_text(
        json.dumps(
            {
                "title": "Doge Meme Template",
                "template_url": "https://imgflip.com/s/meme/Doge.jpg",
                "format": "jpg",
                "dimensions": "620x620 px",
            }
        )
    )
    (root / "downloads").mkdir()
    picture(300, 300, seed=5).save(root / "downloads" / "Doge.jpg")
    entries = [
        {
            "url": f"https://i.imgflip.com/{name}.jpg",
            "post": f"https://imgflip.com/i/{name}",
            "metadata": {"views": "1", "img-votes": "1", "title": "Doge", "author": "x"},
            "boxes": ["wow"],
        }
        for name in ("3p1pnj", "3wsgoo", "3nm84k")
    ]
    (dataset / "memes" / "Doge.json").write_text(json.dumps(entries))
    picture(300, 300, seed=5).save(dataset / "memes" / "Doge" / "3p1pnj.jpg")  # downloaded next to the JSON
    picture(300, 300, seed=5).save(root / "downloads" / "3wsgoo.jpg")  # downloaded elsewhere
    if not with_missing:
        picture(300, 300, seed=5).save(root / "downloads" / "3nm84k.jpg")
    return root


def test_prepare_writes_good_files_resized_and_reports_broken_ones(tmp_path):
    src = make_source(tmp_path / "raw")
    dest = tmp_path / "prepared"
    report = prepare(src, dest, max_side=200, val_fraction=0.0, min_side=64)

    images = sorted(p.name for p in (dest / "images").iterdir())
    assert images == [
        "photos__big.jpg",
        "photos__nested__small_ok.jpg",
        "photos__rotated.jpg",
        "photos__transparent.jpg",
    ]
    with Image.open(dest / "images" / "photos__big.jpg") as im:
        assert im.size == (200, 150) and im.mode == "RGB"
    with Image.open(dest / "images" / "photos__rotated.jpg") as im:
        assert im.size == (133, 200)  # upright (EXIF applied), then resized
    with Image.open(dest / "images" / "photos__nested__small_ok.jpg") as im:
        assert im.size == (120, 90)  # smaller than max side: not enlarged
    with Image.open(dest / "clipart" / "square.png") as im:
        assert im.mode == "RGBA" and im.size == (200, 200)
    assert (dest / "fonts" / "Anton-Regular.ttf").is_file()
    assert (dest / "fonts" / "Anton-Regular.ttf.LICENSE.txt").read_text().strip()
    assert not (dest / "fonts" / "Broken.ttf").exists()
    assert (dest / "pairs" / "templates" / "doge.png").is_file()
    assert sorted(p.name for p in (dest / "pairs" / "memes" / "doge").iterdir()) == ["0.jpg", "1.jpg", "2.jpg"]
    with Image.open(dest / "pairs" / "templates" / "doge.png") as im:
        assert im.size == (200, 160)

    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert set(reasons) == {"truncated.jpg", "text.png", "empty.jpg", "tiny.png", "Broken.ttf"}
    assert report.reasons() == {
        "corrupt": 1,
        "not an image": 1,
        "empty file": 1,
        "too small": 1,
        "font does not load": 1,
    }
    assert report.written == {"images": 4, "clipart": 1, "fonts": 1, "templates": 1, "memes": 3}
    assert report.ignored == 1  # notes.txt
    assert not list(dest.rglob(".*tmp*"))  # nothing half-written left behind
    saved = json.loads((dest / REPORT_NAME).read_text())
    assert saved["skipped_by_reason"]["corrupt"] == 1
    summary = report.summary()
    assert "1 × corrupt" in summary and "truncated.jpg" in summary

    # the prepared folder is what training reads
    assert len(PairSource(dest)) == 3


def test_imgflip_json_layout_and_missing_memes(tmp_path):
    src = make_imgflip(tmp_path / "imgflip")
    dest = tmp_path / "prepared"
    report = prepare(src, dest, max_side=256, val_fraction=0.0)
    assert (dest / "pairs" / "templates" / "Doge.png").is_file()
    assert len(list((dest / "pairs" / "memes" / "Doge").glob("*.jpg"))) == 2
    assert report.missing_memes == 1
    assert "ImgFlip575K" in " ".join(report.layouts)
    assert "no image file" in report.summary()


def test_validation_split_is_deterministic_and_keeps_templates_whole(tmp_path):
    src = tmp_path / "raw"
    for t in range(12):
        (src / "templates").mkdir(parents=True, exist_ok=True)
        (src / "memes" / f"t{t}").mkdir(parents=True)
        picture(140, 140, seed=t).save(src / "templates" / f"t{t}.png")
        for i in range(2):
            picture(140, 140, seed=t).save(src / "memes" / f"t{t}" / f"{i}.jpg")
    prepare(src, tmp_path / "a", val_fraction=0.5, workers=2)
    prepare(src, tmp_path / "b", val_fraction=0.5, workers=1)
    names = lambda root: sorted(p.relative_to(root).as_posix() for p in root.rglob("*.*") if p.name != REPORT_NAME)  # noqa: E731
    assert names(tmp_path / "a") == names(tmp_path / "b")
    val_templates = {p.stem for p in (tmp_path / "a" / "val" / "pairs" / "templates").glob("*.png")}
    train_templates = {p.stem for p in (tmp_path / "a" / "pairs" / "templates").glob("*.png")}
    assert val_templates and train_templates and not val_templates & train_templates
    for name in val_templates:
        assert len(list((tmp_path / "a" / "val" / "pairs" / "memes" / name).glob("*.jpg"))) == 2
    assert is_val("pair:t1", 0.5) == is_val("pair:t1", 0.5)


def test_cli_prepare(tmp_path, capsys):
    src = make_source(tmp_path / "raw")
    code = main(
        [
            "prepare",
            str(src),
            str(tmp_path / "out"),
            "--max-side",
            "160",
            "--val-fraction",
            "0",
            "--min-side",
            "64",
            "--workers",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "written:" in out and "4 images" in out and "corrupt" in out
    with Image.open(tmp_path / "out" / "images" / "photos__big.jpg") as im:
        assert max(im.size) == 160
    assert main(["prepare", str(tmp_path / "nope"), str(tmp_path / "out2")]) == 1  # a one-line error


def test_prepare_refuses_a_destination_inside_nothing_found(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MemeCleanError, match="no pictures"):
        prepare(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(MemeCleanError):
        prepare(tmp_path, tmp_path)
