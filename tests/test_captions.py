"""Caption core: model, fonts, renderer, projects, proposals from a mask, and `memeclean caption`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.captions import (
    CaptionDoc,
    CaptionError,
    FontNotFoundError,
    ProjectError,
    TextBox,
    caption_mask,
    classic,
    default_font_path,
    find_font,
    layout_box,
    load_project,
    project_path_for,
    propose_boxes,
    render_captions,
    save_project,
    system_fonts,
)
from memeclean_core.captions.fonts import has_glyph, split_by_font
from memeclean_core.captions.render import box_rect
from memeclean_core.resources import resource_path

BACKGROUND = (0, 128, 0)  # neither the fill nor the outline colour: every changed pixel is text


def _canvas(width: int, height: int) -> np.ndarray:
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    return image


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.any(before != after, axis=2)


# --- bundled font -------------------------------------------------------------------------------------------


def test_bundled_font_ships_with_its_licence() -> None:
    font, licence = resource_path("fonts", "Anton-Regular.ttf"), resource_path("fonts", "Anton-OFL.txt")
    assert font.is_file() and licence.is_file()
    assert "SIL Open Font License" in licence.read_text(encoding="utf-8")
    assert default_font_path() == font
    assert find_font("") == font and find_font("Anton") == font


def test_find_font_by_path_name_or_error(tmp_path: Path) -> None:
    assert find_font(str(default_font_path())) == default_font_path()
    fonts = system_fonts()
    assert all(isinstance(path, Path) for path in fonts.values())
    if fonts:
        name, path = next(iter(fonts.items()))
        assert find_font(name.upper()) == path
    with pytest.raises(FontNotFoundError):
        find_font("No Such Font Family 123")


# --- model --------------------------------------------------------------------------------------------------


def test_textbox_validates_its_fields() -> None:
    for bad in ({"align": "justify"}, {"fill": "white"}, {"w": 0}, {"size": -1}, {"x": float("nan")}):
        with pytest.raises(CaptionError):
            TextBox(**bad)
    assert TextBox(text="Hello").display_text == "HELLO"
    assert TextBox(text="Hello", uppercase=False).display_text == "Hello"


def test_classic_is_top_and_bottom_meme_text() -> None:
    top, bottom = classic("one", "two")
    assert (top.text, bottom.text) == ("one", "two")
    assert top.y < 0.1 and bottom.y + bottom.h > 0.9
    for box in (top, bottom):
        assert (box.fill, box.outline, box.align, box.uppercase, box.font) == ("#FFFFFF", "#000000", "center", True, "")


def test_json_round_trip(tmp_path: Path) -> None:
    boxes = [
        *classic("top", "bottom"),
        TextBox(
            x=0.1,
            y=0.4,
            w=0.5,
            h=0.1,
            text="ünï\ncode 😀",
            font="DejaVu Sans",
            size=None,
            fill="#123456",
            outline="#ABCDEF",
            outline_width=0.0,
            align="right",
            uppercase=False,
            rotation=-12.5,
            valign="bottom",
            line_spacing=1.3,
        ),
    ]
    doc = CaptionDoc(template=tmp_path / "template.png", boxes=boxes)
    assert CaptionDoc.from_dict(json.loads(json.dumps(doc.to_dict()))) == doc

    Image.new("RGB", (8, 8)).save(doc.template)
    path = save_project(doc)
    assert path == project_path_for(doc.template) == tmp_path / "template.memeclean.json"
    assert json.loads(path.read_text(encoding="utf-8"))["template"] == "template.png"  # moves with the image
    assert load_project(path) == CaptionDoc(template=doc.template.resolve(), boxes=boxes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["template.memeclean.json", "template.png"]  # no temp file


def test_load_project_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.memeclean.json"
    cases = {
        "{not json": "not valid JSON",
        json.dumps({"format": "something-else"}): "not a MemeClean caption project",
        json.dumps({"format": "memeclean-captions", "version": 99, "template": "x.png"}): "newer",
        json.dumps(
            {"format": "memeclean-captions", "version": 1, "template": "x.png", "boxes": [{"fill": "red"}]}
        ): "colour",
        json.dumps({"format": "memeclean-captions", "version": 1, "template": "gone.png"}): "not found",
    }
    for text, expected in cases.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ProjectError, match=expected) as caught:
            load_project(path)
        assert "\n" not in str(caught.value)
    with pytest.raises(ProjectError, match="not found"):
        load_project(tmp_path / "missing.memeclean.json")


# --- renderer -----------------------------------------------------------------------------------------------


def test_render_is_deterministic_and_pure() -> None:
    image = _canvas(320, 240)
    original = image.copy()
    boxes = [*classic("deterministic", "output"), TextBox(x=0.2, y=0.4, w=0.6, h=0.2, text="tilt", rotation=15)]
    first, second = render_captions(image, boxes), render_captions(image, boxes)
    assert np.array_equal(image, original)
    assert first.shape == image.shape and first.dtype == np.uint8
    assert np.array_equal(first, second)
    assert _changed(image, first).sum() > 500
    assert {tuple(pixel) for pixel in first[_changed(image, first)]} >= {(255, 255, 255), (0, 0, 0)}


@pytest.mark.parametrize("size", [(16, 12), (48, 36), (640, 480), (1600, 90), (90, 1600)])
def test_text_stays_inside_its_box(size: tuple[int, int]) -> None:
    width, height = size
    image = _canvas(width, height)
    boxes = [
        *classic("when the caption is far too long for this box", "bottom text"),
        TextBox(x=0.3, y=0.35, w=0.4, h=0.3, text="WWWWWWWWWWWWWWWW MMMMMMMM", align="left"),
        TextBox(x=0.6, y=0.4, w=0.5, h=0.2, text="past the edge", align="right"),  # partly outside the image
    ]
    for box in boxes:
        left, top, box_width, box_height = box_rect(box, size)
        drawn = _changed(image, render_captions(image, [box]))
        inside = np.zeros_like(drawn)
        inside[max(top, 0) : top + box_height, max(left, 0) : left + box_width] = True
        assert not (drawn & ~inside).any(), f"{box.text!r} drew outside its box at {size}"
        if min(size) >= 48 and box.x + box.w <= 1:
            assert drawn.any()
            layout = layout_box(box, size)
            assert layout.fits and layout.ink is not None
            ink_left, ink_top, ink_right, ink_bottom = layout.ink
            assert left - 0.5 <= ink_left and ink_right <= left + box_width + 0.5
            assert top - 0.5 <= ink_top and ink_bottom <= top + box_height + 0.5


def test_auto_fit_shrinks_long_text() -> None:
    size = (600, 400)
    short = layout_box(TextBox(x=0.1, y=0.1, w=0.8, h=0.3, text="short"), size)
    long = layout_box(TextBox(x=0.1, y=0.1, w=0.8, h=0.3, text="a much longer caption " * 6), size)
    assert long.font_px < short.font_px
    assert len(long.lines) > 1 and len(short.lines) == 1
    assert long.fits and long.ink is not None and long.ink[3] <= long.top + long.height + 0.5
    # an explicit size is a maximum: too big for the box, it shrinks as well
    capped = layout_box(TextBox(x=0.1, y=0.1, w=0.8, h=0.3, text="a much longer caption " * 6, size=0.5), size)
    assert capped.font_px < 0.5 * size[1] and capped.fits
    small = layout_box(TextBox(x=0.1, y=0.1, w=0.8, h=0.3, text="short", size=0.05), size)
    assert small.font_px == 20


def test_uppercase_alignment_and_multiline() -> None:
    size = (400, 300)
    box = TextBox(x=0.1, y=0.2, w=0.8, h=0.5, text="First line\nsecond", align="left", size=0.08)
    layout = layout_box(box, size)
    assert [line.text for line in layout.lines] == ["FIRST LINE", "SECOND"]
    assert layout.lines[1].baseline > layout.lines[0].baseline
    assert layout.ink is not None and abs(layout.ink[0] - layout.left) <= 0.5
    lower = layout_box(replace(box, uppercase=False, align="right"), size)
    assert [line.text for line in lower.lines] == ["First line", "second"]
    assert lower.ink is not None and abs(lower.ink[2] - (lower.left + lower.width)) <= 0.5
    image = _canvas(*size)
    assert not np.array_equal(render_captions(image, [box]), render_captions(image, [replace(box, uppercase=False)]))


def test_unicode_falls_back_gracefully() -> None:
    anton = str(default_font_path())
    assert has_glyph(anton, "A") and not has_glyph(anton, "中")
    runs = split_by_font("AB 中 e\u0301", anton)
    assert "".join(text for text, _ in runs) == "AB 中 e\u0301"
    image = _canvas(300, 200)
    for text in ("日本語のミーム", "emoji 😀👍🏽 ok", "ünïcödé ✓ ★", "\u200d\ufe0f"):
        out = render_captions(image, [TextBox(x=0.05, y=0.1, w=0.9, h=0.8, text=text)])
        if text.strip("\u200d\ufe0f"):
            assert _changed(image, out).sum() > 50, text


# --- proposals ----------------------------------------------------------------------------------------------


def test_propose_boxes_finds_classic_top_and_bottom_captions() -> None:
    size = (480, 400)
    boxes = classic("one does not simply", "propose boxes")
    mask = caption_mask(boxes, size)
    proposed = propose_boxes(mask)
    assert len(proposed) == 2
    top, bottom = proposed
    assert top.y < 0.1 and top.y + top.h < 0.35 and top.valign == "top"
    assert bottom.y > 0.65 and bottom.y + bottom.h > 0.9 and bottom.valign == "bottom"
    for old, new in zip(boxes, proposed):
        assert new.align == "center" and new.text == ""
        old_layout = layout_box(old, size)
        assert new.size is not None and abs(new.size * size[1] - old_layout.font_px) <= 0.1 * old_layout.font_px
        # the old words, written into the proposed box, land where they were
        again = layout_box(replace(new, text=old.text), size)
        assert again.fits and again.ink is not None and old_layout.ink is not None
        assert np.allclose(again.ink, old_layout.ink, atol=0.05 * old_layout.font_px)


def test_propose_boxes_prefills_text_from_a_reader() -> None:
    size = (400, 300)
    mask = caption_mask(classic("top words", "Bottom words"), size)
    rgb = _canvas(*size)

    def reader(image: np.ndarray) -> list[tuple[str, tuple[float, float, float, float]]]:
        assert image.shape == rgb.shape
        return [
            ("TOP", (100, 5, 190, 40)),
            ("WORDS", (200, 5, 300, 40)),
            ("Bottom words", (100, 260, 300, 295)),
            ("stray", (0, 140, 20, 160)),
        ]

    top, bottom = propose_boxes(mask, rgb, reader=reader)
    assert (top.text, top.uppercase) == ("TOP WORDS", True)
    assert (bottom.text, bottom.uppercase) == ("Bottom words", False)
    assert propose_boxes(np.zeros((20, 30), bool)) == []


def test_propose_boxes_with_rapidocr() -> None:
    pytest.importorskip("rapidocr")
    size = (640, 480)
    boxes = classic("hello world", "goodbye")
    rgb = render_captions(np.full((size[1], size[0], 3), 90, np.uint8), boxes)
    proposed = propose_boxes(caption_mask(boxes, size), rgb)
    assert [box.text.upper() for box in proposed] == ["HELLO WORLD", "GOODBYE"]


# --- CLI ----------------------------------------------------------------------------------------------------


def test_cli_caption_writes_the_file(tmp_path: Path) -> None:
    from memeclean_core.cli import main

    template = tmp_path / "template.png"
    Image.fromarray(_canvas(200, 150)).save(template)
    output, project = tmp_path / "meme.png", tmp_path / "meme.memeclean.json"
    code = main(
        [
            "caption",
            str(template),
            "--top",
            "top text",
            "--bottom",
            "two\\nlines",
            "--box",
            "10,60,180,30:pixels",
            "--project",
            str(project),
            "--output",
            str(output),
        ]
    )
    assert code == 0 and output.is_file()
    written = np.asarray(Image.open(output).convert("RGB"))
    assert written.shape == (150, 200, 3) and _changed(_canvas(200, 150), written).sum() > 200
    doc = load_project(project)
    assert doc.template == template.resolve() and len(doc.boxes) == 3
    assert doc.boxes[1].text == "two\nlines" and doc.boxes[2].w == pytest.approx(0.9)
    # the saved project renders the same picture again
    again = tmp_path / "again.png"
    assert main(["caption", str(project), "--output", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(again).convert("RGB")), written)


@pytest.mark.parametrize("spec", ["0.1,0.1,0.5:text", "a,b,c,d:text", "0.1,0.1,0,0.2:text", "no colon", "1,2,3,nan:x"])
def test_cli_caption_refuses_a_bad_box(tmp_path: Path, spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    from memeclean_core.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["caption", str(tmp_path / "t.png"), "--box", spec, "--output", str(tmp_path / "o.png")])
    assert caught.value.code == 2
    assert "--box" in capsys.readouterr().err


def test_cli_caption_reports_unknown_font_and_empty_captions(tmp_path: Path) -> None:
    from memeclean_core.cli import main

    template = tmp_path / "t.png"
    Image.fromarray(_canvas(50, 40)).save(template)
    assert (
        main(["caption", str(template), "--top", "x", "--font", "No Such Font 123", "-o", str(tmp_path / "a.png")]) == 1
    )
    assert main(["caption", str(template), "-o", str(tmp_path / "b.png")]) == 1
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "b.png").exists()


# --- round trip: caption a clean template, clean it again ---------------------------------------------------


def test_caption_then_clean_gives_back_the_template(tiny_model) -> None:
    """Caption a template, clean the meme with the caption's true mask: outside the text nothing changes, inside
    the fill comes close to the template. The tiny test model is untrained, so the mask is given, not predicted."""
    from memeclean_core.cleaning.inference import clean
    from memeclean_core.training.evaluate import psnr

    from .conftest import make_meme

    _meme, template, _mask = make_meme(240, 180, seed=7)
    boxes = classic("caption this", "then clean it")
    meme = render_captions(template, boxes)
    mask = caption_mask(boxes, (240, 180))
    result = clean(meme, resolution=256, mask=mask, model=tiny_model)
    assert result.image.shape == template.shape and result.region[mask].all()
    assert np.array_equal(result.image[~result.region], template[~result.region]), "pixels outside the text kept"
    before, after = psnr(meme, template, mask), psnr(result.image, template, mask)
    print(
        f"caption round trip: PSNR in the text {before:.2f} dB captioned -> {after:.2f} dB cleaned, "
        f"whole image {psnr(result.image, template):.2f} dB"
    )
    assert after > before + 10
