"""Image files as people have them: load any common file to RGB `uint8` (+ separate alpha), save atomically.

Loading applies the EXIF orientation, converts every mode (palette, CMYK, 16-bit grey, 1-bit, ...) to RGB, keeps
the alpha channel apart and keeps every frame of an animation (composited as a viewer shows it) with its duration
and loop count. Saving picks the format from the extension and writes a temporary file in the target folder that
replaces the target only once it is complete, so nothing half-written is ever left behind.

Every problem a person can cause (missing file, not an image, corrupt, too large, unwritable folder, ...) raises
`ImageLoadError` / `ImageSaveError` with a one-line message that names the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import struct
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from ..errors import ImageLoadError, ImageSaveError
from .file_kinds import special_kind
from .filenames import SAVE_FORMATS
from .safe_write import check_target as _check_target
from .safe_write import os_reason, write_file

__all__ = [
    "Frame",
    "LoadedImage",
    "MAX_PIXELS",
    "MAX_TOTAL_PIXELS_FACTOR",
    "load_image",
    "image_from_bytes",
    "image_from_pil",
    "to_pil",
    "save_image",
    "save_mask",
    "check_target",
]

MAX_PIXELS = 120_000_000
"""Decompression-bomb limit: the most pixels one frame may have."""

MAX_TOTAL_PIXELS_FACTOR = 10
"""An animation may hold at most this many times `max_pixels` pixels over all its frames (a GIF bomb guard)."""

# Formats whose extra frames are an animation. Others with several frames (MPO from phone cameras, multi-page
# TIFF, ICO) hold previews or pages of other sizes: only their first frame is the picture.
_ANIMATED_FORMATS = {"GIF", "WEBP", "PNG", "FLI"}
# zlib level of the PNGs written. Pillow's default (6) took 65 ms for a cleaned 640×480 photo, as long as its clean;
# level 3 takes 18 ms for files 13 % larger (12 cleaned memes of bench_folder.py; level 1: 12 ms, 17 % larger).
PNG_COMPRESS_LEVEL = 3

_DEFAULT_DURATION_MS = 100

# Our own limit (`max_pixels`, checked from the header before decoding) replaces PIL's warning at 89 Mpixels, which
# would otherwise print a Python warning for large but legitimate images; PIL's hard error at twice its limit stays.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# EXIF orientation -> transpose that makes the image upright (what ImageOps.exif_transpose does).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# --------------------------------------------------------------------------------------------------------------
# Data


@dataclass
class Frame:
    """One picture: RGB pixels, the alpha channel apart (None when opaque), its display time in an animation."""

    pixels: np.ndarray  # H×W×3 uint8 RGB
    alpha: np.ndarray | None = None  # H×W uint8, or None when the image is opaque
    duration_ms: int | None = None  # per-frame duration for animations

    def __post_init__(self) -> None:
        pixels = self.pixels
        if not (
            isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
        ):
            raise ValueError(f"Frame.pixels must be an H×W×3 uint8 array, got {_describe_array(pixels)}")
        if self.alpha is not None:
            alpha = self.alpha
            if not (isinstance(alpha, np.ndarray) and alpha.dtype == np.uint8 and alpha.shape == pixels.shape[:2]):
                raise ValueError(
                    f"Frame.alpha must be an H×W uint8 array matching {pixels.shape[:2]}, got {_describe_array(alpha)}"
                )


@dataclass
class LoadedImage:
    """A still image (one frame) or an animation, with where it came from."""

    frames: list[Frame]  # one for still images
    source: Path | None = None  # where it came from (None for clipboard data)
    format: str | None = None  # PIL format name of the source, e.g. "PNG", "GIF"
    loop: int | None = None  # animation loop count (0 = forever) when animated
    icc_profile: bytes | None = None  # the source's RGB colour profile, written back on save (None = sRGB)

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("a LoadedImage needs at least one frame")

    @property
    def rgb(self) -> np.ndarray:
        """The first frame's H×W×3 uint8 pixels."""
        return self.frames[0].pixels

    @property
    def alpha(self) -> np.ndarray | None:
        """The first frame's H×W uint8 alpha, or None when it is opaque."""
        return self.frames[0].alpha

    @property
    def width(self) -> int:
        return int(self.frames[0].pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.frames[0].pixels.shape[0])

    @property
    def is_animated(self) -> bool:
        return len(self.frames) > 1

    @classmethod
    def from_array(cls, rgb: np.ndarray, alpha: np.ndarray | None = None) -> LoadedImage:
        """A still image from an H×W×3 uint8 array (H×W grey and H×W×4 RGBA are accepted too)."""
        rgb = np.asarray(rgb)
        if rgb.dtype != np.uint8:
            raise ValueError(f"expected a uint8 image array, got {_describe_array(rgb)}")
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[:, :, None], 3, axis=2)
        elif rgb.ndim == 3 and rgb.shape[2] == 4:
            if alpha is None:
                alpha = rgb[:, :, 3]
            rgb = rgb[:, :, :3]
        rgb = np.ascontiguousarray(rgb)
        if alpha is not None:
            alpha = np.ascontiguousarray(np.asarray(alpha))
        return cls(frames=[Frame(rgb, alpha, None)])

    def with_frames(self, frames: Iterable[Frame]) -> LoadedImage:
        """The same metadata (source, format, loop, colour profile) with new pixels."""
        return dataclasses.replace(self, frames=list(frames))


def _describe_array(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


# --------------------------------------------------------------------------------------------------------------
# Loading


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read an image file: every frame as RGB uint8, alpha apart, EXIF orientation applied.

    Raises ImageLoadError (one line, naming the file) for anything wrong with the file.
    """
    path = Path(path)
    name = str(path)
    try:
        if path.is_dir():
            raise ImageLoadError(f"cannot read '{name}': it is a folder, not an image file")
        kind = special_kind(path)  # a pipe or device is refused at once, never opened (that could block forever)
        if kind is not None:
            raise ImageLoadError(f"cannot read '{name}': it is {kind}, not a regular file")
        file = open(path, "rb")  # noqa: SIM115 (closed below; errors are told apart from decoding errors)
    except ImageLoadError:
        raise
    except OSError as error:
        raise ImageLoadError(f"cannot read '{name}': {_os_reason(error)}") from None
    with file:
        try:
            if os.fstat(file.fileno()).st_size == 0:
                raise ImageLoadError(f"cannot read '{name}': the file is empty")
        except OSError as error:
            raise ImageLoadError(f"cannot read '{name}': {_os_reason(error)}") from None
        return _decode(file, name, path, max_pixels)


def image_from_bytes(data: bytes, name: str = "clipboard", max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Decode an image held in memory (clipboard, drag and drop, download); `name` is used in messages."""
    if not data:
        raise ImageLoadError(f"cannot read '{name}': it is empty")
    return _decode(io.BytesIO(bytes(data)), name, None, max_pixels)


def image_from_pil(img: Image.Image, source: str | Path | None = None) -> LoadedImage:
    """Convert a PIL image (any mode, possibly animated) like `load_image` does."""
    source_path = Path(source) if source is not None else None
    name = str(source_path) if source_path is not None else "image"
    return _convert(img, name, source_path, MAX_PIXELS)


def _decode(file: io.IOBase, name: str, source: Path | None, max_pixels: int) -> LoadedImage:
    try:
        img = Image.open(file)
    except Image.DecompressionBombError:
        raise ImageLoadError(
            f"cannot read '{name}': the image is too large to load safely (the limit is {max_pixels:,} pixels)"
        ) from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"cannot read '{name}': {_unknown_format_reason(file, name)}") from None
    except MemoryError:
        raise ImageLoadError(f"cannot read '{name}': not enough memory to load it") from None
    except Exception:  # noqa: BLE001 - a broken header makes plugins raise anything (SyntaxError, struct.error, ...)
        raise ImageLoadError(f"cannot read '{name}': the file is truncated or corrupt") from None
    with img:
        return _convert(img, name, source, max_pixels)


def _unknown_format_reason(file: io.IOBase, name: str) -> str:
    try:
        file.seek(0)
        head = file.read(32)
    except Exception:  # noqa: BLE001 - a stream that cannot be read has no header to name
        head = b""
    size = _header_size(head)
    if size is not None and (size[0] == 0 or size[1] == 0):
        return f"the image has zero size ({size[0]}×{size[1]})"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        return "HEIC/HEIF images are not supported; convert it to JPEG or PNG first"
    if head.lstrip().startswith(b"<svg") or name.lower().endswith(".svg"):
        return "SVG drawings are not supported; export it as PNG first"
    return "not an image file, or a format MemeClean cannot read"


def _header_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF or BMP header (PIL refuses to open zero-size images, so look ourselves)."""
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head.startswith((b"GIF87a", b"GIF89a")):
            return struct.unpack("<HH", head[6:10])
        if head.startswith(b"BM") and len(head) >= 26:
            width, height = struct.unpack("<ii", head[18:26])
            return abs(width), abs(height)
    except struct.error:
        pass
    return None


def _convert(img: Image.Image, name: str, source: Path | None, max_pixels: int) -> LoadedImage:
    """Decode every frame of an opened PIL image; all decoding errors become ImageLoadError."""
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"cannot read '{name}': the image has zero size ({width}×{height})")
    if width * height > max_pixels:
        raise ImageLoadError(
            f"cannot read '{name}': the image is too large ({width}×{height} = {width * height:,} pixels; "
            f"the limit is {max_pixels:,})"
        )
    fmt = img.format
    animated = False
    try:
        animated = fmt in _ANIMATED_FORMATS and bool(getattr(img, "is_animated", False))
        n_frames = int(getattr(img, "n_frames", 1)) if animated else 1
        if animated and n_frames * width * height > max_pixels * MAX_TOTAL_PIXELS_FACTOR:
            raise ImageLoadError(
                f"cannot read '{name}': the animation is too large ({n_frames} frames of {width}×{height})"
            )
        transpose = _ORIENTATION.get(_orientation(img))
        loop = img.info.get("loop") if animated else None
        icc = _rgb_icc_profile(img)
        frames: list[Frame] = []
        sequence = ImageSequence.Iterator(img) if animated else [img]
        for frame in sequence:
            frame.load()  # decode now: a truncated or corrupt file fails here, not later
            if frame.size != (width, height):  # an animation frame must fill the canvas
                raise ImageLoadError(f"cannot read '{name}': the file is truncated or corrupt")
            rgb, alpha = _to_rgb_alpha(frame, transpose)
            duration = frame.info.get("duration") if animated else None
            frames.append(Frame(rgb, alpha, int(duration) if duration is not None else None))
            if not animated:
                break
    except ImageLoadError:
        raise
    except Image.DecompressionBombError:
        raise ImageLoadError(f"cannot read '{name}': the image is too large to load safely") from None
    except MemoryError:
        raise ImageLoadError(f"cannot read '{name}': not enough memory to load it") from None
    except _UnsupportedMode as error:
        raise ImageLoadError(f"cannot read '{name}': its colour mode {error} is not supported") from None
    except Exception:  # noqa: BLE001 - PIL reports broken data with OSError, SyntaxError, ValueError, EOFError, zlib.error, ...
        raise ImageLoadError(f"cannot read '{name}': the file is truncated or corrupt") from None
    finally:
        if animated:
            with contextlib.suppress(Exception):  # the frames are read; a failing seek changes nothing of them
                img.seek(0)  # leave a caller's image (image_from_pil) at its first frame, as it came
    if not frames:
        raise ImageLoadError(f"cannot read '{name}': the file holds no image")
    loop = int(loop) if isinstance(loop, (int, np.integer)) else None
    return LoadedImage(frames=frames, source=source, format=fmt, loop=loop, icc_profile=icc)


class _UnsupportedMode(Exception):
    pass


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation tag (1 when absent or unreadable: broken EXIF must not stop the image loading)."""
    try:
        value = img.getexif().get(0x0112, 1)
        return int(value)
    except Exception:  # noqa: BLE001 - broken EXIF must not stop the loading
        return 1


def _rgb_icc_profile(img: Image.Image) -> bytes | None:
    """The colour profile when it describes RGB data we keep as is (CMYK/grey profiles do not fit RGB pixels)."""
    icc = img.info.get("icc_profile")
    if (
        isinstance(icc, bytes)
        and len(icc) >= 128
        and icc[16:20] == b"RGB "
        and img.mode in ("RGB", "RGBA", "RGBX", "RGBa", "P", "PA")
    ):
        return icc
    return None


def _to_rgb_alpha(frame: Image.Image, transpose: Image.Transpose | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Any PIL mode -> (H×W×3 uint8 RGB, H×W uint8 alpha or None when fully opaque)."""
    mode = frame.mode
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in frame.info
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        grey = Image.fromarray(_scale_to_uint8(np.asarray(frame)))
        converted = grey.convert("RGB")
        has_alpha = False
    elif mode == "CMYK":
        converted = _cmyk_to_rgb(frame)
        has_alpha = False
    elif has_alpha:
        converted = frame.convert("RGBA")
    else:
        try:
            converted = frame.convert("RGB")
        except ValueError:
            raise _UnsupportedMode(mode) from None
    if transpose is not None:
        converted = converted.transpose(transpose)
    if converted.mode == "RGBA":
        array = np.asarray(converted)
        rgb = np.ascontiguousarray(array[:, :, :3])
        alpha = np.ascontiguousarray(array[:, :, 3])
        if alpha.min() == 255:
            alpha = None
        return rgb, alpha
    return np.array(converted, dtype=np.uint8), None


def _scale_to_uint8(values: np.ndarray) -> np.ndarray:
    """16-bit (or 32-bit int / float) grey -> 8 bit by scaling the full range, never by clipping."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        finite = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(finite.min()), float(finite.max())
        if low >= 0.0 and high <= 1.0:
            return np.round(finite * 255.0).astype(np.uint8)
        if high <= low:
            return np.zeros(finite.shape, np.uint8)
        return np.round((finite - low) * (255.0 / (high - low))).astype(np.uint8)
    values = values.astype(np.int64)
    low, high = int(values.min()), int(values.max())
    if low >= 0 and high <= 65535:  # 16-bit data (also what mode "I" holds for 16-bit PNG/TIFF)
        return ((values * 255 + 32767) // 65535).astype(np.uint8)
    if high <= low:
        return np.zeros(values.shape, np.uint8)
    return ((values - low) * 255 // (high - low)).astype(np.uint8)


def _cmyk_to_rgb(frame: Image.Image) -> Image.Image:
    """CMYK through its colour profile when it has one (what a colour-managed viewer shows), else the plain formula."""
    icc = frame.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(
                frame,
                source,
                ImageCms.createProfile("sRGB"),
                renderingIntent=ImageCms.Intent.PERCEPTUAL,
                outputMode="RGB",
            )
        except Exception:  # noqa: BLE001 - no littleCMS, or a broken profile
            pass  # no littleCMS, or a broken profile: the plain conversion is still a fair picture
    return frame.convert("RGB")


# --------------------------------------------------------------------------------------------------------------
# Saving


def to_pil(rgb: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    """An RGB (or RGBA when `alpha` is given) PIL image from arrays."""
    frame = Frame(np.ascontiguousarray(rgb), None if alpha is None else np.ascontiguousarray(alpha))
    if frame.alpha is None:
        return Image.fromarray(frame.pixels)
    return Image.fromarray(np.dstack([frame.pixels, frame.alpha]))


def save_image(
    path: str | Path,
    image: LoadedImage | np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    quality: int = 92,
    overwrite: bool = False,
    protect: Iterable[str | Path] = (),
) -> Path:
    """Write `image` to `path` in the format its extension names (.png, .jpg/.jpeg, .webp, .gif); return the path.

    Animations (several frames) keep every frame, duration and the loop count in .gif, .webp and .png (APNG);
    .jpg gets the first frame. JPEG has no alpha: it keeps the RGB pixels. The file is written to a temporary
    file in the same folder and moved into place when complete. An existing file is replaced only with
    `overwrite=True`; a path in `protect` (the inputs) is never written. Raises ImageSaveError.
    """
    path = Path(path)
    if isinstance(image, LoadedImage):
        if alpha is not None:
            raise ValueError("alpha= is for array images; a LoadedImage carries its own alpha")
        loaded = image
    else:
        loaded = LoadedImage.from_array(image, alpha)
    if any(frame.pixels.shape != loaded.frames[0].pixels.shape for frame in loaded.frames):
        raise ValueError("all frames of an animation must have the same size")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality}")
    fmt = _save_format(path)
    check_target(path, overwrite=overwrite, protect=protect)

    def write(file: io.BytesIO) -> None:
        _write_image(file, loaded, fmt, int(quality))

    _atomic_write(path, write, overwrite, protect)
    return path


def save_mask(
    path: str | Path, mask: np.ndarray, *, overwrite: bool = True, protect: Iterable[str | Path] = ()
) -> Path:
    """Write a mask as a black-and-white 8-bit PNG (white = text); bool, 0/1, 0..255 and 0..1 float masks accepted."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ImageSaveError(f"cannot write '{path}': a mask is saved as .png")
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[:, :, 0]
    if mask.ndim != 2:
        raise ValueError(f"a mask must be an H×W array, got {_describe_array(mask)}")
    if mask.dtype == bool:
        binary = mask
    elif mask.dtype.kind == "f":
        binary = mask >= 0.5
    elif mask.size and mask.max() <= 1:
        binary = mask > 0
    else:
        binary = mask >= 128
    grey = np.where(binary, np.uint8(255), np.uint8(0)).astype(np.uint8)
    check_target(path, overwrite=overwrite, protect=protect)

    def write(file: io.BytesIO) -> None:
        Image.fromarray(grey).save(file, format="PNG", compress_level=PNG_COMPRESS_LEVEL)

    _atomic_write(path, write, overwrite, protect)
    return path


def _save_format(path: Path) -> str:
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(SAVE_FORMATS)
        shown = f"extension '{path.suffix}'" if path.suffix else "no extension"
        raise ImageSaveError(f"cannot write '{path}': {shown} is not a format MemeClean writes (use {supported})")
    return fmt


def check_target(path: str | Path, *, overwrite: bool = False, protect: Iterable[str | Path] = ()) -> None:
    """Raise ImageSaveError now if `path` could not be written (a protected input, a folder, an existing file
    without `overwrite`, a missing folder): lets a front end refuse before doing long work."""
    _check_target(path, overwrite=overwrite, protect=protect, error=ImageSaveError)


def _atomic_write(
    path: Path, write: Callable[[io.BytesIO], None], overwrite: bool, protect: Iterable[str | Path] = ()
) -> None:
    """Encode in memory, write, check that the file decodes again, then move it into place (`safe_write`)."""
    write_file(path, write, overwrite=overwrite, protect=protect, verify=decodes_fully, error=ImageSaveError)


def decodes_fully(path: str | Path) -> None:
    """Raise unless `path` opens as an image and every frame decodes (a truncated file fails here): the check
    every image MemeClean writes passes before it is moved into place."""
    with Image.open(path) as img:
        for frame in ImageSequence.Iterator(img):
            frame.load()


_os_reason = os_reason


def _write_image(file: io.BytesIO, image: LoadedImage, fmt: str, quality: int) -> None:
    frames = image.frames if fmt != "JPEG" else image.frames[:1]
    use_alpha = fmt != "JPEG" and any(frame.alpha is not None for frame in frames)
    pictures = [_frame_to_pil(frame, use_alpha) for frame in frames]
    options: dict = {}
    if image.icc_profile and fmt != "GIF":
        options["icc_profile"] = image.icc_profile
    if fmt == "JPEG" or fmt == "WEBP":
        options.update(quality=quality)
    if fmt == "PNG":
        options.update(compress_level=PNG_COMPRESS_LEVEL)
    if len(pictures) > 1:
        durations = [
            frame.duration_ms if frame.duration_ms is not None and frame.duration_ms > 0 else _DEFAULT_DURATION_MS
            for frame in frames
        ]
        options.update(save_all=True, append_images=pictures[1:], duration=durations)
        if fmt == "GIF":
            if image.loop is not None:
                options["loop"] = image.loop
            if use_alpha:
                options["disposal"] = 2  # frames are complete pictures: clear before drawing the next
        else:
            options["loop"] = image.loop if image.loop is not None else 1  # no loop count = play once
            if fmt == "PNG" and use_alpha:
                options["disposal"] = 1  # APNG_DISPOSE_OP_BACKGROUND
    pictures[0].save(file, format=fmt, **options)


def _frame_to_pil(frame: Frame, use_alpha: bool) -> Image.Image:
    if not use_alpha:
        return Image.fromarray(frame.pixels)
    alpha = frame.alpha if frame.alpha is not None else np.full(frame.pixels.shape[:2], 255, np.uint8)
    return Image.fromarray(np.dstack([frame.pixels, alpha]))
