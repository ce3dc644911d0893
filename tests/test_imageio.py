"""memeclean_core.files.imageio: every common kind of file loads to RGB uint8; bad files give one-line errors; saving is
atomic and never overwrites what it must not. All images are small and generated here."""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.errors import ImageLoadError, ImageSaveError
from memeclean_core.files import imageio
from memeclean_core.files.imageio import (
    MAX_PIXELS,
    Frame,
    LoadedImage,
    image_from_bytes,
    image_from_pil,
    load_image,
    save_image,
    save_mask,
    to_pil,
)


def gradient(h: int = 24, w: int = 32) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.dstack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) % 256]).astype(np.uint8)


def check_rgb(image: LoadedImage, h: int, w: int) -> None:
    assert image.rgb.shape == (h, w, 3)
    assert image.rgb.dtype == np.uint8
    assert (image.height, image.width) == (h, w)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------------------------------ loading modes


def test_rgb_png_exact(tmp_path):
    rgb = gradient()
    Image.fromarray(rgb).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    check_rgb(image, 24, 32)
    assert np.array_equal(image.rgb, rgb)
    assert image.alpha is None
    assert image.format == "PNG"
    assert image.source == tmp_path / "a.png"
    assert not image.is_animated and image.loop is None and len(image.frames) == 1


def test_grey_l(tmp_path):
    grey = np.arange(24 * 32, dtype=np.uint32).reshape(24, 32).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "g.png")
    image = load_image(tmp_path / "g.png")
    check_rgb(image, 24, 32)
    for c in range(3):
        assert np.array_equal(image.rgb[:, :, c], grey)


def test_one_bit(tmp_path):
    bits = Image.new("1", (10, 6), 0)
    bits.putpixel((3, 2), 1)
    bits.save(tmp_path / "b.png")
    image = load_image(tmp_path / "b.png")
    check_rgb(image, 6, 10)
    assert tuple(image.rgb[2, 3]) == (255, 255, 255)
    assert tuple(image.rgb[0, 0]) == (0, 0, 0)


@pytest.mark.parametrize("mode,fmt", [("I;16", "PNG"), ("I;16B", "TIFF"), ("I", "TIFF"), ("I;16", "TIFF")])
def test_sixteen_bit_grey_scaled_not_clipped(tmp_path, mode, fmt):
    values = np.array([[0, 65535, 32768, 257], [1000, 65280, 128, 60000]], dtype=np.uint16)
    if mode == "I;16B":
        img = Image.frombytes("I;16B", (4, 2), values.astype(">u2").tobytes())
    else:
        img = Image.fromarray(values).convert(mode)
    path = tmp_path / f"g16.{fmt.lower()}"
    img.save(path, fmt)
    image = load_image(path)
    check_rgb(image, 2, 4)
    grey = image.rgb[:, :, 0]
    assert grey[0, 0] == 0 and grey[0, 1] == 255  # 65535 -> 255
    assert grey[0, 2] == 128 and grey[0, 3] == 1  # scaled, so mid values land mid-range
    assert grey[1, 0] == 4  # 1000/65535*255, not clipped to 255
    expected = np.round(values.astype(np.float64) * 255 / 65535)
    assert np.abs(grey.astype(int) - expected).max() <= 1


def test_float_grey_from_pil():
    img = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    image = image_from_pil(img)
    assert image.rgb[0, :, 0].tolist() == [0, 128, 255]


def test_palette_without_transparency(tmp_path):
    img = Image.fromarray(gradient()).quantize(16)
    assert img.mode == "P"
    img.save(tmp_path / "p.png")
    image = load_image(tmp_path / "p.png")
    check_rgb(image, 24, 32)
    assert image.alpha is None
    assert np.array_equal(image.rgb, np.asarray(img.convert("RGB")))


@pytest.mark.parametrize("ext", ["png", "gif"])
def test_palette_with_transparency(tmp_path, ext):
    img = Image.new("P", (8, 6), 1)
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9))
    img.putpixel((0, 0), 0)
    img.putpixel((1, 0), 2)
    img.info["transparency"] = 0
    img.save(tmp_path / f"pt.{ext}", transparency=0)
    image = load_image(tmp_path / f"pt.{ext}")
    check_rgb(image, 6, 8)
    assert image.alpha is not None and image.alpha.shape == (6, 8) and image.alpha.dtype == np.uint8
    assert image.alpha[0, 0] == 0 and image.alpha[0, 1] == 255 and image.alpha[3, 3] == 255
    assert tuple(image.rgb[3, 3]) == (255, 0, 0)
    assert tuple(image.rgb[0, 1]) == (0, 255, 0)


@pytest.mark.parametrize("mode", ["LA", "RGBA", "PA"])
def test_modes_with_alpha_keep_alpha_apart(tmp_path, mode):
    rgba = np.dstack([gradient(), np.tile(np.arange(32, dtype=np.uint8) * 8, (24, 1))])
    img = Image.fromarray(rgba)
    if mode == "LA":
        img = img.convert("LA")
    elif mode == "PA":
        img = Image.fromarray(rgba[:, :, :3]).quantize(64).convert("PA")
        img.putalpha(Image.fromarray(rgba[:, :, 3]))
    if mode == "PA":
        image = image_from_pil(img)  # PNG cannot store PA: check the conversion itself
    else:
        img.save(tmp_path / "a.png")
        image = load_image(tmp_path / "a.png")
    check_rgb(image, 24, 32)
    assert image.alpha is not None
    assert np.array_equal(image.alpha, rgba[:, :, 3])
    if mode == "RGBA":
        assert np.array_equal(image.rgb, rgba[:, :, :3])


def test_fully_opaque_alpha_becomes_none(tmp_path):
    Image.fromarray(gradient()).convert("RGBA").save(tmp_path / "o.png")
    assert load_image(tmp_path / "o.png").alpha is None


def test_cmyk_pure_cyan(tmp_path):
    Image.new("CMYK", (6, 4), (255, 0, 0, 0)).save(tmp_path / "c.jpg", quality=100)
    image = load_image(tmp_path / "c.jpg")
    check_rgb(image, 4, 6)
    assert np.abs(image.rgb[2, 3].astype(int) - (0, 255, 255)).max() <= 3
    Image.new("CMYK", (6, 4), (0, 0, 0, 255)).save(tmp_path / "k.tif")
    assert load_image(tmp_path / "k.tif").rgb.max() == 0  # full black ink is black


def test_exif_orientation_applied(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:5, :5] = (255, 0, 0)  # a red corner at the stored top left
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    img.save(tmp_path / "r.jpg", exif=exif.tobytes(), quality=95)
    image = load_image(tmp_path / "r.jpg")
    check_rgb(image, 40, 20)  # width and height swapped
    assert image.rgb[2, 17, 0] > 200 and image.rgb[2, 17, 1] < 60  # the red corner is now top right
    assert image.rgb[37, 2, 0] < 60


def test_broken_exif_is_ignored(tmp_path):
    Image.fromarray(gradient()).save(tmp_path / "e.jpg", exif=b"Exif\x00\x00garbage-not-tiff")
    check_rgb(load_image(tmp_path / "e.jpg"), 24, 32)


def test_mpo_like_multi_frame_tiff_loads_first_page_only(tmp_path):
    pages = [Image.fromarray(gradient()), Image.new("RGB", (5, 5), (9, 9, 9))]
    pages[0].save(tmp_path / "m.tif", save_all=True, append_images=pages[1:])
    image = load_image(tmp_path / "m.tif")
    assert len(image.frames) == 1 and not image.is_animated
    check_rgb(image, 24, 32)


# ------------------------------------------------------------------------------------------------ animations


def animation_frames(n: int = 4, size=(16, 12), alpha: bool = False) -> list[Frame]:
    w, h = size
    frames = []
    for i in range(n):
        pixels = np.zeros((h, w, 3), np.uint8)
        pixels[:, :] = (i * 60, 255 - i * 60, 40)
        pixels[i : i + 3, i : i + 3] = (255, 255, 255)
        frame_alpha = None
        if alpha:
            frame_alpha = np.full((h, w), 255, np.uint8)
            frame_alpha[-3:, -3:] = 0
        frames.append(Frame(pixels, frame_alpha, 40 + 20 * i))
    return frames


def test_animated_gif_round_trip(tmp_path):
    frames = animation_frames()
    pictures = [Image.fromarray(f.pixels) for f in frames]
    pictures[0].save(
        tmp_path / "in.gif", save_all=True, append_images=pictures[1:], duration=[f.duration_ms for f in frames], loop=3
    )
    image = load_image(tmp_path / "in.gif")
    assert image.is_animated and len(image.frames) == 4
    assert [f.duration_ms for f in image.frames] == [40, 60, 80, 100]
    assert image.loop == 3
    for got, want in zip(image.frames, frames):
        assert got.pixels.shape == (12, 16, 3)
        assert np.abs(got.pixels.astype(int) - want.pixels).max() <= 8  # GIF palette rounding

    out = save_image(tmp_path / "out.gif", image)
    again = load_image(out)
    assert len(again.frames) == 4
    assert [f.duration_ms for f in again.frames] == [40, 60, 80, 100]
    assert again.loop == 3


def test_animated_gif_with_transparency_round_trip(tmp_path):
    image = LoadedImage(animation_frames(alpha=True), loop=0, format="GIF")
    save_image(tmp_path / "t.gif", image)
    again = load_image(tmp_path / "t.gif")
    assert len(again.frames) == 4 and again.loop == 0
    for frame in again.frames:
        assert frame.alpha is not None and frame.alpha[-1, -1] == 0 and frame.alpha[0, 0] == 255


def test_animated_gif_frames_are_composited(tmp_path):
    # The second frame only redraws a small patch; what a viewer shows is the full picture.
    base = Image.new("RGB", (12, 12), (255, 0, 0))
    second = base.copy()
    second.paste((0, 0, 255), (0, 0, 4, 4))
    base.save(tmp_path / "d.gif", save_all=True, append_images=[second], duration=50, loop=0)
    image = load_image(tmp_path / "d.gif")
    assert len(image.frames) == 2
    assert tuple(image.frames[1].pixels[1, 1]) == (0, 0, 255)
    assert tuple(image.frames[1].pixels[10, 10]) == (255, 0, 0)


def test_animated_webp_loads_all_frames(tmp_path):
    frames = animation_frames(3)
    pictures = [Image.fromarray(f.pixels) for f in frames]
    pictures[0].save(
        tmp_path / "a.webp",
        save_all=True,
        append_images=pictures[1:],
        duration=[f.duration_ms for f in frames],
        loop=0,
        lossless=True,
    )
    image = load_image(tmp_path / "a.webp")
    assert image.format == "WEBP" and len(image.frames) == 3 and image.loop == 0
    assert [f.duration_ms for f in image.frames] == [40, 60, 80]
    for got, want in zip(image.frames, frames):
        assert np.array_equal(got.pixels, want.pixels)


@pytest.mark.parametrize("ext", ["webp", "png"])
def test_animation_saved_as_webp_and_apng(tmp_path, ext):
    image = LoadedImage(animation_frames(alpha=True), loop=0)
    save_image(tmp_path / f"a.{ext}", image)
    again = load_image(tmp_path / f"a.{ext}")
    assert len(again.frames) == 4 and again.loop == 0
    assert [f.duration_ms for f in again.frames] == [40, 60, 80, 100]
    assert again.frames[2].alpha is not None and again.frames[2].alpha[-1, -1] == 0


def test_animation_to_jpeg_writes_first_frame(tmp_path):
    image = LoadedImage(animation_frames(), loop=0)
    save_image(tmp_path / "a.jpg", image, quality=95)
    again = load_image(tmp_path / "a.jpg")
    assert len(again.frames) == 1
    assert np.abs(again.rgb.astype(int) - image.frames[0].pixels).mean() < 8


# ------------------------------------------------------------------------------------------------ bad input


def assert_one_line_naming(error: pytest.ExceptionInfo, name: str) -> str:
    message = str(error.value)
    assert name in message
    assert "\n" not in message
    return message


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "nope.png")
    assert "no such file" in assert_one_line_naming(error, "nope.png")


def test_directory(tmp_path):
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "folder.png")
    assert "folder" in assert_one_line_naming(error, "folder.png")


def test_permission_denied(tmp_path, monkeypatch):
    path = tmp_path / "secret.png"
    Image.new("RGB", (4, 4)).save(path)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(imageio, "open", denied, raising=False)  # tests run as root: chmod would not stop us
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert "permission denied" in assert_one_line_naming(error, "secret.png")


def test_empty_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "empty.jpg")
    assert "empty" in assert_one_line_naming(error, "empty.jpg")


def test_text_file(tmp_path):
    (tmp_path / "notes.png").write_text("this is not a picture\n" * 20)
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "notes.png")
    assert "not an image" in assert_one_line_naming(error, "notes.png")


def test_heic_gets_a_hint(tmp_path):
    (tmp_path / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "photo.heic")
    assert "HEIC" in assert_one_line_naming(error, "photo.heic")


@pytest.mark.parametrize("ext", ["png", "jpg", "webp", "gif"])
@pytest.mark.parametrize("fraction", [0.4, 0.9])
def test_truncated_file(tmp_path, ext, fraction):
    noise = np.random.default_rng(1).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="JPEG" if ext == "jpg" else ext.upper())
    data = buffer.getvalue()
    (tmp_path / f"cut.{ext}").write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / f"cut.{ext}")
    assert "truncated or corrupt" in assert_one_line_naming(error, f"cut.{ext}")


def test_truncated_animation(tmp_path):
    frames = animation_frames(4)
    noisy = [
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (32, 32, 3), dtype=np.uint8))
        for i in range(len(frames))
    ]
    noisy[0].save(tmp_path / "full.gif", save_all=True, append_images=noisy[1:], duration=50, loop=0)
    data = (tmp_path / "full.gif").read_bytes()
    (tmp_path / "cut.gif").write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "cut.gif")
    assert "truncated or corrupt" in assert_one_line_naming(error, "cut.gif")


def test_decompression_bomb_header(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_header(60_000, 60_000))  # 3.6 Gpixels claimed, a few bytes on disk
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "bomb.png")
    assert "too large" in assert_one_line_naming(error, "bomb.png")


def test_max_pixels_limit(tmp_path):
    Image.new("RGB", (100, 50)).save(tmp_path / "big.png")
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "big.png", max_pixels=4999)
    message = assert_one_line_naming(error, "big.png")
    assert "too large" in message and "100×50" in message
    assert load_image(tmp_path / "big.png", max_pixels=5000).width == 100
    assert MAX_PIXELS == 120_000_000


def test_animation_total_pixels_limit(tmp_path):
    pictures = [Image.new("RGB", (10, 10), (i * 20, 0, 0)) for i in range(12)]
    pictures[0].save(tmp_path / "many.gif", save_all=True, append_images=pictures[1:], duration=50)
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "many.gif", max_pixels=100)  # 12 frames > 10 × the per-frame limit
    assert "too large" in assert_one_line_naming(error, "many.gif")
    assert len(load_image(tmp_path / "many.gif", max_pixels=120).frames) == 12


@pytest.mark.parametrize("size", [(0, 10), (10, 0)])
def test_zero_size(tmp_path, size):
    (tmp_path / "zero.png").write_bytes(png_header(*size))
    with pytest.raises(ImageLoadError) as error:
        load_image(tmp_path / "zero.png")
    assert "zero size" in assert_one_line_naming(error, "zero.png")
    with pytest.raises(ImageLoadError, match="zero size"):
        image_from_pil(Image.new("RGB", size))


# ------------------------------------------------------------------------------------------------ bytes, arrays


def test_image_from_bytes(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(gradient()).save(buffer, format="PNG")
    image = image_from_bytes(buffer.getvalue())
    assert image.source is None and image.format == "PNG"
    assert np.array_equal(image.rgb, gradient())
    with pytest.raises(ImageLoadError, match="'clipboard'"):
        image_from_bytes(b"")
    with pytest.raises(ImageLoadError, match="'drop'.*not an image"):
        image_from_bytes(b"plain text", name="drop")


def test_from_array_and_with_frames():
    rgba = np.dstack([gradient(), np.full((24, 32), 7, np.uint8)])
    image = LoadedImage.from_array(rgba)
    assert image.rgb.shape == (24, 32, 3) and image.alpha is not None and image.alpha[0, 0] == 7
    grey = LoadedImage.from_array(np.zeros((5, 6), np.uint8))
    assert grey.rgb.shape == (5, 6, 3)
    with pytest.raises(ValueError):
        LoadedImage.from_array(np.zeros((5, 6, 3), np.float32))

    animated = LoadedImage(animation_frames(3), source=Path("x.gif"), format="GIF", loop=2)
    replaced = animated.with_frames([Frame(f.pixels // 2, f.alpha, f.duration_ms) for f in animated.frames])
    assert (replaced.source, replaced.format, replaced.loop) == (Path("x.gif"), "GIF", 2)
    assert [f.duration_ms for f in replaced.frames] == [40, 60, 80]
    assert replaced.frames[0].pixels.max() < animated.frames[0].pixels.max()


def test_to_pil():
    assert to_pil(gradient()).mode == "RGB"
    pil = to_pil(gradient(), np.zeros((24, 32), np.uint8))
    assert pil.mode == "RGBA" and pil.size == (32, 24)


# ------------------------------------------------------------------------------------------------ saving


def test_alpha_preserved_through_load_and_save_png(tmp_path):
    rgba = np.dstack([gradient(), np.tile(np.arange(32, dtype=np.uint8) * 8, (24, 1))])
    Image.fromarray(rgba).save(tmp_path / "in.png")
    image = load_image(tmp_path / "in.png")
    save_image(tmp_path / "out.png", image)
    again = load_image(tmp_path / "out.png")
    assert np.array_equal(again.rgb, rgba[:, :, :3])
    assert np.array_equal(again.alpha, rgba[:, :, 3])


def test_save_array_with_alpha(tmp_path):
    alpha = np.full((24, 32), 128, np.uint8)
    save_image(tmp_path / "a.webp", gradient(), alpha=alpha, quality=100)
    again = load_image(tmp_path / "a.webp")
    assert again.alpha is not None and abs(int(again.alpha[3, 3]) - 128) <= 2


def test_jpeg_drops_alpha(tmp_path):
    image = LoadedImage.from_array(gradient(), np.zeros((24, 32), np.uint8))
    save_image(tmp_path / "a.jpeg", image, quality=95)
    again = load_image(tmp_path / "a.jpeg")
    assert again.alpha is None
    assert np.abs(again.rgb.astype(int) - gradient()).mean() < 6  # the RGB pixels, not a flattened white


def test_jpeg_quality_respected(tmp_path):
    noise = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    low = save_image(tmp_path / "low.jpg", noise, quality=20)
    high = save_image(tmp_path / "high.jpg", noise, quality=95)
    assert low.stat().st_size < high.stat().st_size
    low_webp = save_image(tmp_path / "low.webp", noise, quality=20)
    high_webp = save_image(tmp_path / "high.webp", noise, quality=95)
    assert low_webp.stat().st_size < high_webp.stat().st_size


def test_never_overwrites_without_permission(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"precious")
    with pytest.raises(ImageSaveError) as error:
        save_image(path, gradient())
    assert "already exists" in assert_one_line_naming(error, "out.png")
    assert path.read_bytes() == b"precious"
    assert listing(tmp_path) == ["out.png"]
    save_image(path, gradient(), overwrite=True)
    assert np.array_equal(load_image(path).rgb, gradient())


def test_never_writes_a_protected_path(tmp_path):
    source = tmp_path / "input.png"
    Image.fromarray(gradient()).save(source)
    before = source.read_bytes()
    (tmp_path / "sub").mkdir()
    for target in (source, tmp_path / "sub" / ".." / "input.png"):
        with pytest.raises(ImageSaveError) as error:
            save_image(target, np.zeros((4, 4, 3), np.uint8), overwrite=True, protect=[source])
        assert "input" in assert_one_line_naming(error, "input.png")
    with pytest.raises(ImageSaveError):
        save_mask(source, np.zeros((4, 4), bool), protect=[str(source)])
    assert source.read_bytes() == before
    assert listing(tmp_path) == ["input.png", "sub"]


def test_unknown_extension_lists_supported(tmp_path):
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / "out.bmpx", gradient())
    message = assert_one_line_naming(error, "out.bmpx")
    assert ".png" in message and ".jpg" in message and ".webp" in message
    with pytest.raises(ImageSaveError, match="no extension"):
        save_image(tmp_path / "out", gradient())
    assert listing(tmp_path) == []


def test_missing_folder(tmp_path):
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / "nowhere" / "out.png", gradient())
    assert "does not exist" in assert_one_line_naming(error, "out.png")
    assert listing(tmp_path) == []


def test_target_is_a_folder(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(ImageSaveError, match="folder"):
        save_image(tmp_path / "out.png", gradient(), overwrite=True)


def test_failure_mid_write_leaves_nothing(tmp_path, monkeypatch):
    original = Image.Image.save

    def failing_save(self, fp, *args, **kwargs):
        fp.write(b"half an image")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / "out.png", gradient())
    assert "disk is full" in assert_one_line_naming(error, "out.png")
    assert listing(tmp_path) == []

    # with overwrite=True the old file survives untouched
    monkeypatch.setattr(Image.Image, "save", original)
    save_image(tmp_path / "out.png", gradient())
    before = (tmp_path / "out.png").read_bytes()
    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(ImageSaveError):
        save_image(tmp_path / "out.png", np.zeros((4, 4, 3), np.uint8), overwrite=True)
    assert (tmp_path / "out.png").read_bytes() == before
    assert listing(tmp_path) == ["out.png"]


def test_encoder_error_and_interrupt_leave_nothing(tmp_path, monkeypatch):
    def encoder_error(self, fp, *args, **kwargs):
        fp.write(b"x")
        raise ValueError("encoder exploded")

    monkeypatch.setattr(Image.Image, "save", encoder_error)
    with pytest.raises(ImageSaveError, match="could not be encoded"):
        save_image(tmp_path / "out.webp", gradient())
    assert listing(tmp_path) == []

    def interrupted(self, fp, *args, **kwargs):
        fp.write(b"x")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_image(tmp_path / "out.png", gradient())
    assert listing(tmp_path) == []


def test_unwritable_folder(tmp_path, monkeypatch):
    real_open = os.open

    def read_only_open(path, flags, *args):
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(imageio.os, "open", read_only_open)
    with pytest.raises(ImageSaveError) as error:
        save_image(tmp_path / "out.png", gradient())
    assert "permission denied" in assert_one_line_naming(error, "out.png")
    assert listing(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_saved_file_gets_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = save_image(tmp_path / "out.png", gradient())
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # not the 0o600 of a private temporary file


def test_save_mask_is_binary_png(tmp_path):
    mask = np.zeros((24, 32), bool)
    mask[5:10, 3:20] = True
    path = save_mask(tmp_path / "m.png", mask)
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (32, 24)
        values = np.asarray(img.convert("L"))
    assert set(np.unique(values).tolist()) == {0, 255}
    assert np.array_equal(values == 255, mask)
    save_mask(path, (mask * 255).astype(np.uint8))  # overwrite is the default for masks
    save_mask(path, mask.astype(np.float32) * 0.9)
    with Image.open(path) as img:
        assert np.array_equal(np.asarray(img.convert("L")) == 255, mask)
    with pytest.raises(ImageSaveError, match="already exists"):
        save_mask(path, mask, overwrite=False)
    with pytest.raises(ImageSaveError, match=r"\.png"):
        save_mask(tmp_path / "m.jpg", mask)


def test_rgb_colour_profile_is_kept(tmp_path):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(gradient()).save(tmp_path / "p.png", icc_profile=profile)
    image = load_image(tmp_path / "p.png")
    assert image.icc_profile == profile
    for ext in ("png", "jpg", "webp"):
        save_image(tmp_path / f"out.{ext}", image)
        with Image.open(tmp_path / f"out.{ext}") as again:
            assert again.info.get("icc_profile") == profile
    assert image.with_frames(image.frames).icc_profile == profile
    Image.fromarray(gradient()).save(tmp_path / "plain.png")
    assert load_image(tmp_path / "plain.png").icc_profile is None
    # a profile for other data (here declared CMYK) does not describe our RGB pixels: it is not carried over
    cmyk_declared = profile[:16] + b"CMYK" + profile[20:]
    Image.fromarray(gradient()).save(tmp_path / "odd.png", icc_profile=cmyk_declared)
    assert load_image(tmp_path / "odd.png").icc_profile is None
