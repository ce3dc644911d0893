"""The template library: storing, browsing, and finding a template again in memes made from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.errors import MemeCleanError
from memeclean_core.library import TemplateLibrary, library_dir, normalise_tags
from memeclean_core.library.synthetic import meme_from, textured_picture
from memeclean_core.training.evaluate import mask_iou, psnr

VALSET = Path(__file__).parent / "data" / "valset"


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture
def library(tmp_path) -> TemplateLibrary:
    return TemplateLibrary(tmp_path / "library")


@pytest.fixture
def filled(library) -> TemplateLibrary:
    """Twelve generated templates, t0..t11."""
    for seed in range(12):
        library.add(textured_picture(seed, 400, 300), f"t{seed}", tags=["generated", f"group{seed % 3}"])
    return library


def test_a_missing_library_is_empty_and_creates_nothing(tmp_path):
    library = TemplateLibrary(tmp_path / "nowhere")
    assert len(library) == 0 and library.entries() == [] and library.match(textured_picture(1)) is None
    assert not (tmp_path / "nowhere").exists()


def test_the_default_library_lives_in_the_user_data_folder():
    from memeclean_core.resources import user_data_dir

    assert library_dir() == user_data_dir() / "library"


def test_add_stores_picture_thumbnail_and_row(library):
    picture = textured_picture(3, 320, 200)
    entry = library.add(picture, "  Distracted   boyfriend ", tags="classic, Couples,classic")
    assert entry.name == "Distracted boyfriend" and entry.tags == ("classic", "Couples")
    assert (entry.width, entry.height) == (320, 200)
    assert np.array_equal(library.load_picture(entry), picture)
    assert max(Image.open(entry.thumbnail).size) <= 160
    assert len(library) == 1 and library.get(entry.id) == entry
    assert library.database.is_file()


def test_add_file_names_the_entry_after_the_file(library, tmp_path):
    path = tmp_path / "success kid.png"
    Image.fromarray(textured_picture(4, 200, 160)).save(path)
    entry = library.add_file(path)
    assert entry.name == "success kid" and entry.source == str(path.resolve())


def test_browse_search_rename_tag_remove_export(filled, tmp_path):
    assert [entry.name for entry in filled.entries()][:2] == ["t11", "t10"]  # newest first
    assert {entry.name for entry in filled.entries(tag="GROUP1")} == {"t1", "t4", "t7", "t10"}
    assert [entry.name for entry in filled.entries(search="t1 group1")] == ["t10", "t1"]
    entry = filled.entries(search="t5")[0]
    renamed = filled.rename(entry.id, "Drake")
    assert renamed.name == "Drake" and filled.entries(search="drake") == [renamed]
    tagged = filled.set_tags(entry.id, ["hotline", "no yes"])
    assert tagged.tags == ("hotline", "no yes") and "hotline" in filled.tags()
    out = filled.export(entry.id, tmp_path / "drake.png")
    assert np.array_equal(read_rgb(out), textured_picture(5, 400, 300))
    with pytest.raises(MemeCleanError, match="exists"):
        filled.export(entry.id, tmp_path / "drake.png")
    removed = filled.remove(entry.id)
    assert not removed.picture.exists() and not removed.thumbnail.exists()
    assert len(filled) == 11
    with pytest.raises(MemeCleanError, match=f"no template #{entry.id}"):
        filled.get(entry.id)
    with pytest.raises(MemeCleanError, match="needs a name"):
        filled.rename(filled.entries()[0].id, "   ")


def test_normalise_tags():
    assert normalise_tags(" a, b ,A,, c  d ") == ("a", "b", "c d")
    assert normalise_tags(["x,y", "X"]) == ("x y", "X")


@pytest.mark.parametrize(
    "seed, scale, crop",
    [
        (2, 1.6, (0.03, 0.02, 0.0, 0.04)),  # larger, cropped
        (7, 0.7, (0.0, 0.04, 0.03, 0.0)),  # smaller, cropped the other way
        (10, 1.0, (0.0, 0.0, 0.0, 0.0)),  # same size, only re-compressed
    ],
)
def test_a_captioned_copy_at_another_size_and_crop_matches_its_template(filled, seed, scale, crop):
    template = textured_picture(seed, 400, 300)
    meme, true_mask = meme_from(template, seed, scale, crop, quality=70)
    found = filled.match(meme)
    assert found is not None and found.entry.name == f"t{seed}"
    assert found.clean.shape == meme.shape and found.mask.shape == meme.shape[:2]
    assert found.coverage > 0.95
    assert mask_iou(found.mask, true_mask) > 0.5
    assert found.mask[true_mask].mean() > 0.9  # the caption is (almost) all inside the mask
    # The clean picture is the template itself at the meme's geometry, not a guess: close in the caption too.
    from memeclean_core.library.synthetic import resize_crop

    expected = resize_crop(template, scale, crop)
    inner = np.zeros(true_mask.shape, bool)
    inner[4:-4, 4:-4] = True  # the warp's edge pixels are interpolated differently
    assert psnr(found.clean, expected, true_mask & inner) > 24


def test_an_unrelated_picture_does_not_match(filled):
    assert filled.match(textured_picture(999, 400, 300)) is None
    meme, _ = meme_from(textured_picture(998, 400, 300), 3, 1.2, (0.02, 0, 0, 0))
    assert filled.match(meme) is None


def test_valset_memes_match_their_own_templates(library):
    names = sorted(path.stem for path in (VALSET / "templates").glob("*.png"))
    ids = {name: library.add(read_rgb(VALSET / "templates" / f"{name}.png"), name).id for name in names}
    for seed in range(20):  # other templates beside them
        library.add(textured_picture(seed, 256, 192), f"t{seed}")
    for name in names:
        found = library.match(read_rgb(VALSET / "memes" / f"{name}.png"))
        assert found is not None and found.entry.id == ids[name], name
        true_mask = read_rgb(VALSET / "masks" / f"{name}.png")[..., 0] > 127
        assert mask_iou(found.mask, true_mask) > 0.4, name


def test_distinct_pictures_give_no_false_match(library):
    """200 distinct procedural pictures (textured, flat, gradients, shapes, noise) and the valset memes against a
    library of other distinct pictures: no match at all."""
    from memeclean_core.data.backgrounds import procedural

    for seed in range(30):
        library.add(textured_picture(seed, 256, 192), f"t{seed}")
    for seed in range(30):
        library.add(procedural(np.random.default_rng([5, seed]), 256), f"p{seed}")
    queries = [textured_picture(seed, 256, 192) for seed in range(500, 600)]
    queries += [procedural(np.random.default_rng([5, seed]), 256) for seed in range(500, 600)]
    queries += [read_rgb(path) for path in sorted((VALSET / "memes").glob("*.png"))]
    false = [
        (number, found.entry.name)
        for number, query in enumerate(queries)
        if (found := library.match(query)) is not None
    ]
    assert false == []


def test_a_failed_add_leaves_no_row_and_no_file(library, monkeypatch):
    library.add(textured_picture(1, 200, 150), "kept")
    from memeclean_core.files import imageio

    real_save = imageio.save_image

    def fail_on_thumbnail(path, *args, **kwargs):
        if Path(path).suffix == ".jpg":
            raise MemeCleanError("disk full")
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(imageio, "save_image", fail_on_thumbnail)
    with pytest.raises(MemeCleanError, match="disk full"):
        library.add(textured_picture(2, 200, 150), "lost")
    assert [entry.name for entry in library.entries()] == ["kept"]
    assert len(list((library.folder / "pictures").iterdir())) == 1


def test_a_picture_without_a_row_is_ignored_and_a_missing_picture_is_no_match(library):
    entry = library.add(textured_picture(6, 300, 200), "t6")
    (library.folder / "pictures" / "stray.png").write_bytes(b"half a file")  # a kill before the commit
    assert [e.name for e in library.entries()] == ["t6"]
    meme, _ = meme_from(textured_picture(6, 300, 200), 1)
    assert library.match(meme) is not None
    entry.picture.unlink()
    assert library.match(meme) is None


def test_the_index_follows_changes_made_by_another_library_object(library):
    other = TemplateLibrary(library.folder)
    meme, _ = meme_from(textured_picture(8, 300, 220), 2, 1.3)
    assert library.match(meme) is None
    entry = other.add(textured_picture(8, 300, 220), "t8")
    assert library.match(meme).entry.id == entry.id
    other.remove(entry.id)
    assert library.match(meme) is None
