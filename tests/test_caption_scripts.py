"""Captions in every script, through the export's path (`whole_image.captioned`, what File ▸ Export Meme and
`memeclean caption` write): a real glyph for every character (never the missing-glyph box), from the host's fonts or,
on a host with few fonts, the bundled Noto subsets; right-to-left scripts right to left; the app's preview equal to
the exported file. `packaging/build.sh --check` compares the frozen bundle's export in these scripts with source."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import features

from memeclean_core.captions import CaptionError, TextBox, default_font_path, fonts
from memeclean_core.captions.fonts import bundled_fallbacks, font_for, has_glyph, split_by_font
from memeclean_core.captions.render import is_right_to_left
from memeclean_core.cleaning import whole_image
from memeclean_core.files.imageio import Frame, LoadedImage, load_image
from memeclean_gui.jobs import caption as caption_jobs

SAMPLES = {
    "Chinese": "你好世界，朋友",
    "Japanese": "こんにちは、カタカナ漢字",
    "Korean": "안녕하세요 세계",
    "Arabic": "مرحبا بالعالم",
    "Hebrew": "שלום עולם",
    "Devanagari": "नमस्ते दुनिया",
    "Thai": "สวัสดีชาวโลก",
    "Cyrillic": "Привет, мир",
    "Greek": "Γειά σου κόσμε",
}
NOTDEF = "\U0010fffd"  # no font draws this code point: its rendering is the missing-glyph box
SIZE = (480, 160)


def template() -> LoadedImage:
    pixels = np.zeros((SIZE[1], SIZE[0], 3), dtype=np.uint8)
    pixels[:] = (0, 96, 0)
    return LoadedImage(frames=[Frame(pixels)], format="PNG")


def box(text: str, **changes) -> TextBox:
    """A box over the whole picture at a fixed size, with the bundled Anton (it has none of these scripts)."""
    return replace(TextBox(x=0, y=0, w=1, h=1, size=0.4, uppercase=False, outline_width=0.0), text=text, **changes)


def exported(text: str, **changes) -> np.ndarray:
    return whole_image.captioned(template(), [box(text, **changes)]).frames[0].pixels


def letters(text: str) -> list[str]:
    return sorted({char for char in text if char.isalpha() and not fonts._is_neutral(char)})


@pytest.fixture
def few_fonts(monkeypatch):
    """A host with no fonts of its own: fontconfig finds nothing and no fallback file is installed."""
    monkeypatch.setattr(fonts, "fontconfig_fallbacks", lambda: ())
    monkeypatch.setattr(fonts, "_font_files", lambda: ())
    for cached in (fonts.fallback_keys, fonts.font_for):
        cached.cache_clear()
    yield
    for cached in (fonts.fallback_keys, fonts.font_for):
        cached.cache_clear()


@pytest.mark.parametrize("script", SAMPLES)
def test_every_character_gets_a_real_glyph(script):
    anton = str(default_font_path())
    for char in letters(SAMPLES[script]):
        key = font_for(char, anton)
        assert has_glyph(key, char), f"{script}: {char!r} would be a box ({key})"


@pytest.mark.parametrize("script", SAMPLES)
def test_the_bundled_fonts_draw_every_script_on_a_host_without_fonts(script, few_fonts):
    bundled = {str(path) for path in bundled_fallbacks()}
    anton = str(default_font_path())
    for char in letters(SAMPLES[script]):
        key = font_for(char, anton)
        assert key in bundled and has_glyph(key, char), f"{script}: {char!r} drawn with {key}"
    assert exported(SAMPLES[script]).any()


@pytest.mark.parametrize("script", SAMPLES)
def test_distinct_characters_are_distinct_glyphs_in_the_export(script):
    blank = exported(NOTDEF)
    drawn = {char: exported(char) for char in letters(SAMPLES[script])}
    for char, pixels in drawn.items():
        assert not np.array_equal(pixels, blank), f"{script}: {char!r} is drawn as the missing-glyph box"
        assert not np.array_equal(pixels, template().frames[0].pixels), f"{script}: {char!r} is not drawn"
    renders = [pixels.tobytes() for pixels in drawn.values()]
    assert len(set(renders)) == len(renders), f"{script}: two characters look the same"


@pytest.mark.parametrize("script", ["Arabic", "Hebrew"])
def test_right_to_left_scripts_read_right_to_left(script):
    """The first word stands at the right end: right-aligned, the line ends as the first word alone does (up to a
    sub-pixel shift of the pen), not as the second word does."""
    assert features.check("raqm"), "Pillow has no complex text layout here: install libfribidi0 (scripts/setup.sh)"
    first, second = SAMPLES[script].split(" ", 1)
    assert is_right_to_left(SAMPLES[script])
    line = exported(SAMPLES[script], align="right", size=0.15)
    for word, expected in ((first, True), (second, False)):
        alone = exported(word, align="right", size=0.15)
        columns = np.flatnonzero(inked(alone).any(axis=0))
        right_end = slice(columns[0], columns[-1] + 1)
        a, b = inked(trimmed(line[:, right_end])), inked(trimmed(alone[:, right_end]))
        overlap = (a[: len(b)] & b[: len(a)]).sum() / max(1, (a[: len(b)] | b[: len(a)]).sum())
        assert bool(overlap > 0.8) == expected, f"{script}: {word!r} at the right end: overlap {overlap:.2f}"


def inked(pixels: np.ndarray) -> np.ndarray:
    return (pixels != template().frames[0].pixels[0, 0]).any(axis=2)


def trimmed(pixels: np.ndarray) -> np.ndarray:
    """The rows that hold ink (the block is placed by its ink, so a line's other words may move it up or down)."""
    rows = np.flatnonzero(inked(pixels).any(axis=1))
    return pixels[rows[0] : rows[-1] + 1]


def test_a_right_to_left_line_puts_its_font_runs_right_to_left():
    """Arabic (a fallback font) then digits (Anton): the digits, read after the word, stand left of it."""
    text = "عام 2024"
    runs = split_by_font(text, str(default_font_path()))
    assert [run[0].strip() for run in runs] == ["عام", "2024"]
    pixels = exported(text)
    word, digits = exported("عام"), exported("2024")
    ink = (pixels != template().frames[0].pixels).any(axis=(0, 2))
    assert ink.any() and word.any() and digits.any()
    from memeclean_core.captions import layout_box

    layout = layout_box(box(text), SIZE)
    (line,) = layout.lines
    by_text = {run.text.strip(): run.x for run in line.runs}
    assert by_text["2024"] < by_text["عام"]


@pytest.mark.parametrize("script", SAMPLES)
def test_the_preview_is_the_exported_file(script, tmp_path):
    boxes = [box(SAMPLES[script], outline_width=0.08)]
    shown, _alpha = caption_jobs.preview(template(), boxes)
    path = caption_jobs.export(tmp_path / "meme.png", template(), boxes, quality=95, overwrite=False, protect=[])
    assert np.array_equal(load_image(path).frames[0].pixels, shown)


def test_fontconfig_character_sets_are_read_as_ranges():
    starts, ends = fonts._parse_charset("20-7e a0-ff 4e00-9fff 3042")
    coverage = fonts._Coverage("x.ttf", starts, ends)
    assert coverage.claims("A") and coverage.claims("é") and coverage.claims("中") and coverage.claims("あ")
    assert not coverage.claims("\x7f") and not coverage.claims("ア") and not coverage.claims("\U0010fffd")


def test_vertical_japanese_goes_down_columns_right_to_left():
    from memeclean_core.captions import layout_box

    layout = layout_box(box("日本語\nです", vertical=True, size=0.2), SIZE)
    assert layout.vertical and [line.text for line in layout.lines] == ["日", "本", "語", "で", "す"]
    first, second = layout.lines[:3], layout.lines[3:]
    centres = [line.x + line.width / 2 for line in layout.lines]
    assert max(centres[:3]) - min(centres[:3]) < 2 and max(centres[3:]) - min(centres[3:]) < 2  # upright columns
    assert all(a.baseline < b.baseline for a, b in zip(first, first[1:]))  # top to bottom
    assert min(centres[:3]) > max(centres[3:])  # the first column on the right
    assert second[0].baseline == first[0].baseline  # a new column starts at the top


def test_vertical_text_uses_the_vertical_forms_of_punctuation():
    """The long-vowel mark and brackets turn in vertical writing (the fonts' "vert" forms): not the horizontal
    glyph stacked."""
    assert features.check("raqm"), "Pillow has no complex text layout here: install libfribidi0 (scripts/setup.sh)"
    for mark in "ー「":
        down, across = exported(mark, vertical=True), exported(mark)
        ink_down, ink_across = inked(trimmed(down)), inked(trimmed(across))
        assert ink_down.shape != ink_across.shape, f"{mark!r} is not turned in vertical text"


def test_vertical_is_kept_in_projects_and_checked():
    turned = box("縦", vertical=True)
    assert TextBox.from_dict(turned.to_dict()) == turned and TextBox.from_dict(box("x").to_dict()).vertical is False
    with pytest.raises(CaptionError):
        TextBox(vertical="yes")


def _rect_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - width * height
    return width * height / union


@pytest.mark.parametrize("script", SAMPLES)
def test_replace_old_text_puts_a_box_on_each_old_caption(script):
    """Replace Old Text (propose_boxes on a clean's mask) finds top and bottom captions in every script."""
    from memeclean_core.captions import caption_mask, classic, layout_box, propose_boxes

    size = (600, 450)
    old = classic(SAMPLES[script], SAMPLES[script][::-1])
    proposed = propose_boxes(caption_mask(old, size), ocr=False)
    assert len(proposed) == 2 and not any(box.vertical for box in proposed)
    for was, now in zip(old, proposed):
        ink = layout_box(was, size).ink
        rect = (now.x * size[0], now.y * size[1], (now.x + now.w) * size[0], (now.y + now.h) * size[1])
        assert _rect_overlap(ink, rect) > 0.7, f"{script}: {rect} is not where {ink} was"


def test_replace_old_text_proposes_vertical_boxes_for_vertical_captions():
    from memeclean_core.captions import caption_mask, layout_box, propose_boxes

    size = (600, 450)
    old = TextBox(x=0.7, y=0.05, w=0.25, h=0.9, text="縦書きの日本語\nです", vertical=True, uppercase=False)
    (proposed,) = propose_boxes(caption_mask([old], size), ocr=False)
    ink = layout_box(old, size).ink
    rect = (proposed.x * 600, proposed.y * 450, (proposed.x + proposed.w) * 600, (proposed.y + proposed.h) * 450)
    assert proposed.vertical and _rect_overlap(ink, rect) > 0.7


def test_the_bundled_fallback_fonts_ship_with_their_licence():
    folder = bundled_fallbacks()[0].parent
    assert {path.name.split("-")[0] for path in bundled_fallbacks()} == {
        "NotoSans",
        "NotoSansArabic",
        "NotoSansHebrew",
        "NotoSansDevanagari",
        "NotoSansThai",
        "NotoSansCJKjp",
    }
    licence = (folder / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL Open Font License, Version 1.1" in licence and "Noto" in licence
