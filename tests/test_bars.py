"""Caption bars: detection on generated bar memes, none on plain pictures or a white sky, and cropping."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from memeclean_core.cleaning.bars import CaptionBars, crop_cleaned, detect_caption_bars
from memeclean_core.cleaning.pipeline import dilate
from memeclean_core.cleaning.whole_image import CleanedImage
from memeclean_core.files.imageio import Frame, LoadedImage


def picture(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A busy picture: a colour gradient with shapes, no uniform rows."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([60 + xx / width * 120, 80 + yy / height * 100, 150 - xx / width * 60], -1)
    image = Image.fromarray((base + rng.normal(0, 4, base.shape)).clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        draw.ellipse((x, y, x + 40, y + 30), fill=tuple(int(v) for v in rng.integers(40, 220, 3)))
    return np.asarray(image)


def text_layer(width: int, height: int, top: int, colour: tuple[int, int, int]) -> tuple[Image.Image, np.ndarray]:
    """Sentence-case text drawn in rows top..top+20 of a transparent layer, and its mask."""
    from memeclean_core.data.font_pool import load_boldest_font
    from memeclean_core.resources import resource_path

    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    font = load_boldest_font(str(resource_path("fonts", "Anton-Regular.ttf")), 18)
    ImageDraw.Draw(layer).text((12, top), "When the code works first time", font=font, fill=colour + (255,))
    return layer, np.asarray(layer.getchannel("A")) >= 24


def bar_meme(where: str, bar_colour: tuple[int, int, int], bar: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A picture with a bar of `bar` rows added at the top or bottom, holding dark or light text."""
    body = picture()
    width = body.shape[1]
    strip = np.empty((bar, width, 3), np.uint8)
    strip[:] = bar_colour
    meme = np.concatenate([strip, body] if where == "top" else [body, strip])
    text_top = 10 if where == "top" else body.shape[0] + 10
    ink = (20, 20, 20) if sum(bar_colour) > 380 else (240, 240, 240)
    layer, mask = text_layer(width, meme.shape[0], text_top, ink)
    meme = np.asarray(Image.alpha_composite(Image.fromarray(meme).convert("RGBA"), layer).convert("RGB"))
    return meme, mask


@pytest.mark.parametrize("where", ["top", "bottom"])
@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 0), (246, 244, 240)])
def test_a_caption_bar_is_found_at_the_top_or_bottom(where, colour):
    meme, mask = bar_meme(where, colour)
    bars = detect_caption_bars(meme, mask, dilate(mask, 2))
    expected = CaptionBars(40, 0) if where == "top" else CaptionBars(0, 40)
    assert bars == expected


def test_a_bar_survives_jpeg_noise():
    import io

    meme, mask = bar_meme("top", (255, 255, 255))
    buffer = io.BytesIO()
    Image.fromarray(meme).save(buffer, "JPEG", quality=70)
    noisy = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    assert detect_caption_bars(noisy, mask, dilate(mask, 2)) == CaptionBars(40, 0)


def test_no_bar_on_a_plain_picture_with_a_caption():
    image = picture()
    layer, mask = text_layer(image.shape[1], image.shape[0], 10, (255, 255, 255))
    meme = np.asarray(Image.alpha_composite(Image.fromarray(image).convert("RGBA"), layer).convert("RGB"))
    assert not detect_caption_bars(meme, mask, dilate(mask, 2))


def test_no_bar_without_text_in_it():
    meme, mask = bar_meme("top", (255, 255, 255))
    assert not detect_caption_bars(meme, np.zeros_like(mask))


def test_no_bar_on_a_white_sky_that_fades_into_the_picture():
    height, width = 240, 320
    image = picture(width, height).astype(np.float32)
    # A bright, slightly noisy sky over the top half, fading into the picture below it.
    fade = np.clip((np.arange(height, dtype=np.float32) - 60) / 90, 0, 1)[:, None, None]
    sky = (
        250
        - np.arange(height, dtype=np.float32)[:, None, None] * 0.1
        + np.random.default_rng(2).normal(0, 2, image.shape)
    )
    image = (sky * (1 - fade) + image * fade).clip(0, 255).astype(np.uint8)
    layer, mask = text_layer(width, height, 12, (20, 20, 20))
    meme = np.asarray(Image.alpha_composite(Image.fromarray(image).convert("RGBA"), layer).convert("RGB"))
    assert not detect_caption_bars(meme, mask, dilate(mask, 2))


def cleaned(image: np.ndarray, mask: np.ndarray, region: np.ndarray, frames: int = 1) -> CleanedImage:
    alpha = np.full(mask.shape, 255, np.uint8)
    picture = LoadedImage([Frame(image, alpha, 50) for _ in range(frames)], format="GIF", loop=0)
    return CleanedImage(picture, mask, region, working_size=(64, 64), device="CPU", seconds=0.0)


def test_cropping_a_result_removes_the_bar_rows_of_every_frame():
    meme, mask = bar_meme("bottom", (0, 0, 0))
    original = LoadedImage([Frame(meme), Frame(meme)], format="GIF", loop=0)
    cropped, bars = crop_cleaned(original, cleaned(meme.copy(), mask, dilate(mask, 2), frames=2))
    assert bars == CaptionBars(0, 40)
    assert cropped.mask.shape == cropped.region.shape == (240, 320) and len(cropped.image.frames) == 2
    for frame in cropped.image.frames:
        assert frame.pixels.shape == (240, 320, 3) and frame.alpha.shape == (240, 320) and frame.duration_ms == 50
        assert not frame.pixels.flags.writeable  # results are shared between threads: read-only
        np.testing.assert_array_equal(frame.pixels, meme[:240])
    plain = cleaned(picture(), np.zeros((240, 320), bool), np.zeros((240, 320), bool))
    same, none = crop_cleaned(LoadedImage([Frame(picture())]), plain)
    assert same is plain and not none


@pytest.mark.parametrize("where,colour", [("top", (255, 255, 255)), ("bottom", (0, 0, 0))])
def test_the_shipped_model_finds_the_text_of_a_bar_meme_and_the_bar(where, colour):
    from memeclean_core.cleaning.inference import clean

    meme, _ = bar_meme(where, colour)
    result = clean(meme, 512)
    assert detect_caption_bars(meme, result.mask, result.region) == (
        CaptionBars(40, 0) if where == "top" else CaptionBars(0, 40)
    )


def test_cli_crop_bars_writes_the_picture_without_the_bar(tmp_path, capsys):
    from memeclean_core.cli import main

    meme, _ = bar_meme("top", (255, 255, 255))
    source = tmp_path / "meme.png"
    Image.fromarray(meme).save(source)
    assert main(["clean", str(source), "--output", str(tmp_path / "filled.png"), "--device", "cpu"]) == 0
    assert (
        main(
            [
                "clean",
                str(source),
                "--output",
                str(tmp_path / "cropped.png"),
                "--mask-dir",
                str(tmp_path / "m"),
                "--crop-bars",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert "cropped caption bars (40 rows at the top, 0 at the bottom)" in capsys.readouterr().err
    with (
        Image.open(tmp_path / "filled.png") as filled,
        Image.open(tmp_path / "cropped.png") as cropped,
        Image.open(tmp_path / "m" / "meme.png") as mask,
    ):
        assert filled.size == (320, 280) and cropped.size == mask.size == (320, 240)
        np.testing.assert_array_equal(np.asarray(cropped.convert("RGB")), np.asarray(filled.convert("RGB"))[40:])


def test_folder_mode_crops_the_bars_as_one_file_does(tmp_path, capsys):
    """Issue 28: `--input-dir DIR --crop-bars` ignored --crop-bars; the folder's output is the single file's."""
    from memeclean_core.cli import main

    meme, _ = bar_meme("top", (255, 255, 255))
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(meme).save(folder / "meme.png")
    single = ["clean", str(folder / "meme.png"), "--output", str(tmp_path / "one.png"), "--crop-bars"]
    assert main([*single, "--device", "cpu"]) == 0
    whole = ["clean", "--input-dir", str(folder), "--output-dir", str(tmp_path / "out"), "--mask-dir"]
    command = [*whole, str(tmp_path / "masks"), "--crop-bars", "--device", "cpu"]
    assert main(command) == 0
    with (
        Image.open(tmp_path / "one.png") as one,
        Image.open(tmp_path / "out" / "meme.png") as out,
        Image.open(tmp_path / "masks" / "meme.png") as mask,
    ):
        assert one.size == out.size == mask.size == (320, 240)
        np.testing.assert_array_equal(np.asarray(out), np.asarray(one))
    # A cropped output is complete: --resume skips it instead of calling it broken.
    capsys.readouterr()
    assert main([*command, "--resume"]) == 0
    assert "cleaned 0 of 1 picture (1 already done)" in capsys.readouterr().out
