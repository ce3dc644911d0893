"""Issue #25's data: captions in every script, white canvases, line art, fine textures; and their validation rows."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from memeclean_core.data import scripts
from memeclean_core.data.backgrounds import procedural
from memeclean_core.data.font_pool import FontPool
from memeclean_core.data.formats import FORMATS, make_format_meme
from memeclean_core.data.source import SynthSource
from memeclean_core.data.synth import TRAINING_MIX
from memeclean_core.data.world_formats import SCRIPT_FORMATS, WORLD_FORMATS, make_world_meme
from memeclean_core.resources import resource_path
from memeclean_core.training import evaluate as ev

ANTON = str(resource_path("fonts", "Anton-Regular.ttf"))
# Unicode name prefixes of each script's letters (as scripts/make_word_lists.py keeps them)
LETTERS = {
    "latin": ("LATIN",),
    "cyrillic": ("CYRILLIC",),
    "greek": ("GREEK",),
    "chinese": ("CJK UNIFIED",),
    "japanese": ("CJK UNIFIED", "HIRAGANA", "KATAKANA"),
    "korean": ("HANGUL",),
    "arabic": ("ARABIC",),
    "hebrew": ("HEBREW",),
    "devanagari": ("DEVANAGARI",),
    "thai": ("THAI",),
}


def system_font(script: str) -> str:
    """A font of this machine that draws `script` (scripts/setup.sh installs one for each)."""
    language = {"chinese": "zh", "japanese": "ja", "korean": "ko", "arabic": "ar", "hebrew": "he"}
    language |= {"devanagari": "hi", "thai": "th", "cyrillic": "ru", "greek": "el", "latin": "en"}
    fc_list = shutil.which("fc-list")
    assert fc_list, "fontconfig's fc-list is missing: run scripts/setup.sh"
    files = subprocess.run([fc_list, f":lang={language[script]}", "file"], capture_output=True, text=True).stdout
    for line in sorted(files.splitlines()):
        path = line.split(":")[0].strip()
        if path and scripts.covers(path, script):
            return path
    raise AssertionError(f"no font for {script} on this machine: run scripts/setup.sh")


@pytest.fixture(scope="module")
def world_folder(tmp_path_factory) -> Path:
    """A data folder with the bundled Latin font and one system font per script in script_fonts/."""
    folder = tmp_path_factory.mktemp("world")
    (folder / "fonts").mkdir()
    shutil.copy(ANTON, folder / "fonts")
    (folder / "script_fonts").mkdir()
    for script in scripts.NON_LATIN:
        path = Path(system_font(script))
        target = folder / "script_fonts" / path.name
        if not target.exists():
            shutil.copy(path, target)
    (folder / "images").mkdir()
    return folder


def test_every_scripts_word_list_is_real_text_in_that_script():
    for script in scripts.SCRIPTS:
        words = scripts.words(script)
        assert len(words) >= 300, script
        for word in words[:: max(1, len(words) // 200)]:
            for char in word:
                name = unicodedata.name(char, "")
                assert name.startswith(LETTERS[script]) or name.startswith("KATAKANA-HIRAGANA"), (script, word)


def test_a_font_covers_a_script_only_when_it_draws_its_letters():
    assert scripts.covers(ANTON, "latin")
    for script in ("chinese", "arabic", "thai", "devanagari"):
        assert not scripts.covers(ANTON, script)  # Anton would draw missing-glyph boxes
    cjk = system_font("chinese")
    assert scripts.covers(cjk, "japanese") and scripts.covers(cjk, "korean")
    assert not scripts.covers(cjk, "thai")


def test_the_pool_picks_a_covering_font_for_a_script_and_none_without_one(world_folder, rng):
    fonts = FontPool.from_folder(world_folder)
    assert [Path(p).name for p in fonts.paths] == ["Anton-Regular.ttf"]  # Latin captions keep their fonts
    for script in scripts.NON_LATIN:
        picked = fonts.pick_for(rng, script)
        assert picked is not None and scripts.covers(picked, script), script
    latin_only = FontPool([Path(ANTON)])
    assert latin_only.pick_for(rng, "chinese") is None


def test_unspaced_scripts_wrap_between_words_without_spaces():
    font = FontPool([Path(system_font("chinese"))]).load(system_font("chinese"), 20)
    lines = scripts.wrap_words(["你好", "世界", "我们", "时间"], "chinese", font, 90, max_lines=3)
    assert lines == ["你好世界", "我们时间"]
    latin = FontPool([Path(ANTON)]).load(ANTON, 20)
    assert scripts.wrap_words(["ONE", "TWO"], "latin", latin, 500, 2) == ["ONE TWO"]


@pytest.mark.parametrize("fmt", WORLD_FORMATS)
def test_world_memes_are_deterministic_with_the_caption_on_the_template(world_folder, fmt):
    fonts = FontPool.from_folder(world_folder)
    picture = procedural(np.random.default_rng(5), 200)
    first = make_world_meme(fmt, picture, fonts, np.random.default_rng(1), jpeg_probability=0)
    again = make_world_meme(fmt, picture, fonts, np.random.default_rng(1), jpeg_probability=0)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    meme, template, mask = first
    assert meme.shape == template.shape == picture.shape and mask.shape == picture.shape[:2]
    changed = np.any(meme != template, axis=2)
    if fmt == "line_art_clean":
        assert not mask.any() and not changed.any()
        return
    assert mask.any()
    # outside the mask only the caption's faintest rim (alpha < 24 of 255) may differ, and by little
    rim = changed & ~mask
    assert np.abs(meme[rim].astype(int) - template[rim].astype(int)).max(initial=0) <= 24
    if fmt in ("line_art", "fine_texture", "white_canvas"):
        assert not np.array_equal(template, picture)  # the drawing, the texture or the canvas is the template


def test_script_captions_draw_the_scripts_own_glyphs(world_folder):
    """Each script row's caption comes out as ink of that script: distinct glyphs, not one repeated box."""
    fonts = FontPool.from_folder(world_folder)
    for script in scripts.NON_LATIN:
        font_path = fonts.pick_for(np.random.default_rng(0), script)
        font = fonts.load(font_path, 40)
        letters = list(dict.fromkeys(scripts.PROBES[script]))[:4]
        masks = {bytes(font.getmask(char)) for char in letters}
        assert len(masks) == 4, script


def test_line_art_lettering_belongs_to_the_template(world_folder):
    """A line-art meme's true mask is the caption alone: the drawing's lines and lettering are not in it."""
    fonts = FontPool.from_folder(world_folder)
    meme, template, mask = make_world_meme(
        "line_art", np.zeros((300, 300, 3), np.uint8), fonts, np.random.default_rng(3), jpeg_probability=0
    )
    drawing_ink = template.mean(axis=2) < 128
    assert drawing_ink.any()
    assert (drawing_ink & ~mask).sum() > 0.5 * drawing_ink.sum()


def test_v3s_formats_are_unchanged_by_the_new_ones(world_folder):
    """Adding the world formats (and script fonts) leaves every case of v3's formats as it was."""
    latin_only = world_folder.parent / "latin_only"
    if not latin_only.exists():
        shutil.copytree(world_folder / "fonts", latin_only / "fonts")
    picture = procedural(np.random.default_rng(8), 160)
    for fmt in FORMATS:
        with_scripts = make_format_meme(fmt, picture, FontPool.from_folder(world_folder), np.random.default_rng(2))
        without = make_format_meme(fmt, picture, FontPool.from_folder(latin_only), np.random.default_rng(2))
        np.testing.assert_array_equal(with_scripts.meme, without.meme)


def test_the_training_mix_draws_every_new_kind(world_folder):
    source = SynthSource.from_folder(world_folder, mix=TRAINING_MIX)
    for kind in ("scripts", "white_canvas", "line_art", "line_art_clean", "fine_texture", "texture_clean"):
        assert kind in TRAINING_MIX
    drawn = [source.sample(np.random.default_rng([4, i]), 128) for i in range(24)]
    empty = sum(not mask.any() for _, _, mask in drawn)
    assert 0 < empty < len(drawn)  # hard negatives among captioned memes


def test_validation_rows_for_every_script_and_pools(world_folder):
    cases = [ev.make_format_cases(world_folder, fmt, 1, seed=0, long_side=96)[0] for fmt in ("script_thai", "line_art")]
    assert [c.name for c in cases] == ["script_thai-000", "line_art-000"]
    groups = ev.case_groups(cases + ev.make_format_cases(world_folder, "script_korean", 1, seed=0, long_side=96))
    assert groups == ["line_art", "script_korean", "script_thai", ev.ALL_SCRIPTS, ev.ALL_NEW]
    assert set(SCRIPT_FORMATS) <= set(ev.EVAL_FORMATS) and ev.EVAL_FORMATS[: len(FORMATS) + 1][1:] == FORMATS


def test_missed_caption_pixels_count_what_the_method_left(monkeypatch):
    mask = np.zeros((40, 40), bool)
    mask[10:20, 10:30] = True  # 200 caption pixels
    case = ev.ValCase("script_thai-000", np.zeros((40, 40, 3), np.uint8), np.zeros((40, 40, 3), np.uint8), mask)
    replaced = mask.copy()
    replaced[10:12] = False  # 40 of them left
    score = ev.score_image(case, ev.MethodOutput(case.meme, None, replaced), 0.0)
    assert (score["caption_px"], score["missed_px"]) == (200, 40)
    row = ev.summary_row("m", None, "script_thai", [score], has_mask=False)
    assert row["missed"] == pytest.approx(20.0) and row["many_missed"] == 100.0


def test_words_with_a_letter_the_font_lacks_are_left_out():
    assert scripts.drawable_words(["你好", "OK", "MIXED你"], ANTON) == ["OK"]
    assert scripts.draws(ANTON, " ") and not scripts.draws(ANTON, "ก")


def test_plain_canvas_text_lies_on_the_canvas_where_it_fits(world_folder):
    from PIL import Image

    from memeclean_core.data.world_formats import plain_text_caption

    fonts = FontPool.from_folder(world_folder)
    rows = np.zeros(200, bool)
    rows[100:] = True  # the canvas: the bottom half
    for seed in range(5):
        layer = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
        plain_text_caption(layer, fonts, np.random.default_rng(seed), dark=True, rows=rows)
        ink_rows = np.flatnonzero(np.asarray(layer.getchannel("A")).any(axis=1))
        assert ink_rows.size and ink_rows.min() >= 100, seed
