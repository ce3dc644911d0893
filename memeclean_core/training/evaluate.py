"""Evaluation: validation sets per meme format, image metrics, what users see (text left, collateral), classical
baselines, and MemeClean side by side.

Validation set
    Cases come in format groups (`ValCase.format`), each generated from a prepared data folder (`images/`,
    `fonts/`, `clipart/`; use one training never saw, e.g. the `val/` split of scripts/build_dataset.py):
    - "aggregate": the v1 generator's mix (`data.synth.SynthSource`: classic, inverse, shadowed top/bottom
      captions and coloured labels), the model card's rows. Case i comes from `np.random.default_rng([seed, i])`
      alone, exactly as before formats existed, so these rows stay comparable with docs/MODEL.md.
    - one group per `data.formats.FORMATS` (classic, labels, caption_bar, watermark, small, multi_panel,
      distractors): case i of format k comes from `np.random.default_rng([seed, 1000 + k, i])` (picture, then
      meme), named "FORMAT-NNN".
    - "round_trip" (on request): the first pictures of `images/` at the long side, with top/bottom text written
      by the captions renderer (`memeclean caption`'s: `captions.classic`, the bundled font); its true mask is
      every pixel the renderer touched.
    A set is a pure function of (folder, seed, long side, formats), and the first k cases of a bigger set are the
    smaller set. `save_validation_set` / `load_validation_set` use the layout `memes/NAME.png`,
    `templates/NAME.png`, `masks/NAME.png` (white = text), plus `cases.json` with each case's format and caption
    bar when a set has more than the aggregate group.

Metrics (numpy + OpenCV, 8-bit images, peak 255)
    - PSNR all: over every pixel and channel of the image.
    - PSNR text: over the text region = the TRUE caption mask dilated by `TEXT_REGION_DILATION` = 2 px (elliptic
      5×5 kernel), which also covers the anti-aliased and JPEG-smeared rim of the glyphs; every channel.
    - SSIM: on grayscale (BT.601 luma, float), 7×7 Gaussian window with σ = 1.5, C1 = (0.01·255)²,
      C2 = (0.03·255)² (Wang et al. 2004), mean of the SSIM map without the 3-pixel border the window does not
      fully cover.
    - mask IoU: |predicted ∩ true| / |predicted ∪ true| of the text masks (MemeClean: the predicted text mask
      before its dilation; OCR: the filled detector boxes before dilation); 1.0 when both are empty.
    - text left ("caption lines still readable"): rapidocr's detector (the `eval` extra) runs on the meme and on
      each method's output; a detector box counts when at least `TEXT_LEFT_MIN_OVERLAP` = 50 % of its area lies
      in the true caption dilated `TEXT_LEFT_DILATION` = 3 px. Text left = boxes on the outputs / boxes on the
      memes, in %, over a group (a ratio of sums). Detections are cached by image content (in memory, and on
      disk with `ocr_cache`), so an output equal to the meme costs nothing.
    - collateral: the share of the replaced pixels (MemeClean: `CleanResult.region`; OCR: its boxes dilated;
      oracle: the true mask dilated; input unchanged: none) that lie more than `COLLATERAL_DISTANCE` = 4 px
      (Euclidean) from every true caption pixel, in %, over a group (collateral pixels / replaced pixels, summed
      over its images). Without a caption (distractors) every replaced pixel is collateral.
    - replaced: the replaced pixels as % of the picture, mean over the images.
    Aggregation over a group: PSNR all and PSNR text are 10·log10(255² / mean MSE), the per-image MSE averaged
    over the images (each image weighs the same; an image identical to its template does not make the mean
    infinite; an image without caption pixels is left out of PSNR text), NOT the mean of per-image PSNRs. SSIM,
    mask IoU, replaced % and ms/image are plain means over the images. "all formats" pools the format groups
    (not the aggregate nor the round trip) the same way.

Methods
    - "MemeClean": `inference.clean(meme, resolution=r, model=model)` at each working resolution r.
    - "input unchanged": the meme itself (the floor).
    - "OCR boxes + Telea": rapidocr's text detector (PP-OCR det, ONNX, offline) → filled box polygons, dilated
      2 px (`BASELINE_DILATION`), then OpenCV Telea (radius 3) at full size.
      Needs the `eval` extra; without it the row says so instead of failing. Its ms/image counts the detection
      as measured when it first ran (the meme's detection is shared with "text left").
    - "Telea, true mask (oracle)": the true mask dilated 2 px, then OpenCV Telea (radius 3) at full size.
    The baselines work at the input's own size, so they are computed once, whatever the resolutions.
    A method may return a picture without a case's caption bar (cropping it); it is then scored against the
    template without the bar.

`evaluate_model(model, cases, resolutions)` returns a plain dict (the CLI's `--json`); `format_table` prints it.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ..callbacks import CancelFn, ProgressFn
from ..data.formats import FORMATS
from ..data.world_formats import SCRIPT_FORMATS, WORLD_FORMATS
from ..errors import Cancelled, MemeCleanError

TEXT_REGION_DILATION = 2  # px: the text region of "PSNR text" is the true mask dilated this much
# px: the baselines' masks (true mask, OCR boxes) are dilated this much before Telea, as documented above; fixed
# here rather than taken from the pipeline, so tuning the pipeline never moves the baselines.
BASELINE_DILATION = 2
SSIM_WINDOW, SSIM_SIGMA = 7, 1.5
PEAK = 255.0
DEFAULT_RESOLUTIONS = (256, 512, 1024)
TEXT_LEFT_DILATION = 3  # px: a detector box is on the caption when it overlaps the true mask dilated this much
# ... by at least this share of the box's area. Boxes on caption lines have 0.6–1.0 of their area there (they are
# padded around the ink), boxes the detector finds on clean pictures (even the whole picture) up to ~0.45.
TEXT_LEFT_MIN_OVERLAP = 0.5
COLLATERAL_DISTANCE = 4  # px: a replaced pixel farther than this from every caption pixel is collateral
MISSED_PICTURE_SHARE = 0.10  # a picture counts in "> 10 % missed" when more of its caption pixels stay

AGGREGATE = "aggregate"  # the v1 generator's mix: the model card's rows
ROUND_TRIP = "round_trip"  # top/bottom text written by the captions renderer on the folder's pictures
ALL_FORMATS = "all formats"  # v3's format groups pooled
ALL_SCRIPTS = "all scripts"  # the script rows pooled
ALL_NEW = "all new formats"  # issue #25's rows pooled (scripts, white canvas, line art, fine textures)
POOLS = {ALL_FORMATS: frozenset(FORMATS), ALL_SCRIPTS: frozenset(SCRIPT_FORMATS), ALL_NEW: frozenset(WORLD_FORMATS)}
EVAL_FORMATS = (AGGREGATE, *FORMATS, *WORLD_FORMATS, ROUND_TRIP)
DEFAULT_FORMATS = EVAL_FORMATS  # `memeclean eval --formats all`

MODEL = "MemeClean"
IDENTITY = "input unchanged"
OCR_TELEA = "OCR boxes + Telea"
ORACLE = "Telea, true mask (oracle)"
OCR_MISSING = "n/a (pip install memeclean[eval])"

AGGREGATION_NOTE = (
    "PSNR = 10*log10(255^2 / MSE), MSE averaged over the images (not a mean of per-image PSNRs); "
    f"PSNR text: the true caption mask dilated {TEXT_REGION_DILATION} px; SSIM: grayscale, "
    f"{SSIM_WINDOW}x{SSIM_WINDOW} Gaussian window (sigma {SSIM_SIGMA}), mean over images; mask IoU: predicted text "
    "mask (OCR: filled boxes) vs true mask, mean over images; text left: OCR detector boxes on the output / on the "
    f"meme that overlap the true caption (dilated {TEXT_LEFT_DILATION} px) by >= {TEXT_LEFT_MIN_OVERLAP:.0%} of "
    f"their area, summed over the images; collateral: replaced pixels > {COLLATERAL_DISTANCE} px from every true "
    "caption pixel / replaced pixels, summed over the images; missed: true caption pixels not replaced / caption "
    "pixels, summed over the images; >10% missed: share of captioned images with more than "
    f"{MISSED_PICTURE_SHARE:.0%} of their caption pixels not replaced; replaced: replaced pixels as % of the "
    "picture, mean "
    "over images; baselines run at the input's size."
)

# on_output(method, resolution or None, case, output image, predicted mask or None): e.g. to save examples
OutputFn = Callable[[str, "int | None", "ValCase", np.ndarray, "np.ndarray | None"], None]


# ---------------------------------------------------------------------------------------------- validation set


@dataclass
class ValCase:
    name: str
    meme: np.ndarray  # H×W×3 uint8, the captioned picture
    template: np.ndarray  # H×W×3 uint8, the same picture without caption (the target)
    mask: np.ndarray  # H×W bool, every pixel the caption touched
    format: str = AGGREGATE  # its group: AGGREGATE, one of data.formats.FORMATS, or ROUND_TRIP
    bar: tuple[str, int] | None = None  # a caption bar's ("top" | "bottom", rows): the template has it, empty

    def without_bar(self) -> tuple[np.ndarray, np.ndarray]:
        """(template, mask) without the caption bar's rows: the target of a method that crops the bar."""
        if self.bar is None:
            return self.template, self.mask
        side, rows = self.bar
        keep = slice(rows, None) if side == "top" else slice(0, self.template.shape[0] - rows)
        return self.template[keep], self.mask[keep]


def make_validation_set(folder: str | Path, count: int, seed: int = 0, long_side: int = 1024) -> list[ValCase]:
    """`count` synthetic memes from a prepared data folder; case i depends only on (folder, seed, i, long_side)."""
    from ..data.source import SynthSource

    folder = Path(folder)
    if not folder.is_dir():
        raise MemeCleanError(f"data folder not found: '{folder}'")
    source = SynthSource.from_folder(folder)
    cases = []
    for i in range(count):
        meme, template, mask = source.sample(np.random.default_rng([seed, i]), long_side)
        cases.append(ValCase(f"{i:03d}", meme, template, mask.astype(bool)))
    return cases


def _folder_sources(folder: Path) -> tuple[Any, Any]:
    from ..data.backgrounds import BackgroundSource
    from ..data.font_pool import FontPool

    if not folder.is_dir():
        raise MemeCleanError(f"data folder not found: '{folder}'")
    return BackgroundSource.from_folder(folder), FontPool.from_folder(folder)


def load_clipart(folder: str | Path, long_side: int = 512) -> list[np.ndarray]:
    """The RGBA clip art of a prepared folder's `clipart/`, in name order, shrunk to `long_side` at most."""
    from ..data.backgrounds import list_images

    clipart = []
    for path in list_images(Path(folder) / "clipart"):
        try:
            with Image.open(path) as image:
                image = image.convert("RGBA")
                image.thumbnail((long_side, long_side), Image.LANCZOS)
                clipart.append(np.asarray(image))
        except (OSError, ValueError):
            continue  # an unreadable file is not worth failing an evaluation for
    return clipart


def make_format_cases(folder: str | Path, fmt: str, count: int, seed: int = 0, long_side: int = 1024) -> list[ValCase]:
    """`count` memes of format `fmt` (one of data.formats.FORMATS); case i depends only on (folder, seed, fmt, i,
    long side)."""
    from ..data.formats import make_format_meme

    folder = Path(folder)
    backgrounds, fonts = _folder_sources(folder)
    clipart = load_clipart(folder)
    # v3's formats keep their streams; the newer ones (world_formats) have theirs from 3000 on
    index = FORMATS.index(fmt) + 1000 if fmt in FORMATS else WORLD_FORMATS.index(fmt) + 3000
    cases = []
    for i in range(count):
        rng = np.random.default_rng([seed, index, i])
        meme = make_format_meme(fmt, backgrounds.sample(rng, long_side), fonts, rng, clipart)
        cases.append(ValCase(f"{fmt}-{i:03d}", meme.meme, meme.template, meme.mask.astype(bool), fmt, meme.bar))
    return cases


def make_round_trip_cases(folder: str | Path, count: int, seed: int = 0, long_side: int = 1024) -> list[ValCase]:
    """The first `count` pictures of `folder/images` (whole, long side `long_side`) with top and bottom text
    written by the captions renderer (`memeclean caption`'s layout and bundled font); the true mask is every pixel
    it touched. Without pictures, procedural ones (seeded) stand in."""
    from ..captions import classic, compose_overlay
    from ..cleaning.pipeline import resize
    from ..data.backgrounds import list_images, procedural
    from ..data.synth import random_text

    folder = Path(folder)
    backgrounds, _ = _folder_sources(folder)
    paths = list_images(folder / "images")[:count]
    cases = []
    for i in range(len(paths) if paths else count):
        rng = np.random.default_rng([seed, 2000, i])
        if paths:
            picture = backgrounds.picture(paths[i])
            scale = long_side / max(picture.shape[:2])
            picture = resize(picture, max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
            name = f"{ROUND_TRIP}-{i:03d}-{_safe_name(paths[i].stem)}"
        else:
            picture, name = procedural(rng, long_side), f"{ROUND_TRIP}-{i:03d}"
        top, bottom = (random_text(rng, int(rng.integers(2, 8))).upper() for _ in range(2))
        overlay = compose_overlay(classic(top, bottom), (picture.shape[1], picture.shape[0]))
        cases.append(ValCase(name, overlay.apply(picture), picture, overlay.coverage() > 0, ROUND_TRIP))
    return cases


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:40]


def save_validation_set(cases: Sequence[ValCase], out_dir: str | Path) -> Path:
    """Write memes/NAME.png, templates/NAME.png and masks/NAME.png (white = text) under `out_dir`, and
    cases.json (each case's format and caption bar) when a case is not of the aggregate group."""
    out_dir = Path(out_dir)
    for sub in ("memes", "templates", "masks"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    for case in cases:
        write_png(out_dir / "memes" / f"{case.name}.png", case.meme)
        write_png(out_dir / "templates" / f"{case.name}.png", case.template)
        write_png(out_dir / "masks" / f"{case.name}.png", case.mask.astype(np.uint8) * 255)
    if any(case.format != AGGREGATE or case.bar is not None for case in cases):
        from ..files.safe_write import write_json

        manifest = {case.name: {"format": case.format, "bar": list(case.bar) if case.bar else None} for case in cases}
        write_json(out_dir / "cases.json", manifest, overwrite=True, indent=1)
    return out_dir


def write_png(path: Path, array: np.ndarray, overwrite: bool = True) -> Path:
    """An optimised PNG through `safe_write` (complete, re-decoded, then renamed)."""
    from ..errors import ImageSaveError
    from ..files.imageio import decodes_fully
    from ..files.safe_write import write_file

    return write_file(
        path,
        lambda buffer: Image.fromarray(array).save(buffer, format="PNG", optimize=True),
        overwrite=overwrite,
        verify=decodes_fully,
        error=ImageSaveError,
    )


def is_saved_set(folder: str | Path) -> bool:
    folder = Path(folder)
    return all((folder / sub).is_dir() for sub in ("memes", "templates", "masks"))


def _read_png(path: Path, mode: str) -> np.ndarray:
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode))
    except (OSError, ValueError) as error:
        raise MemeCleanError(f"cannot read '{path}': {error}") from None


def load_validation_set(folder: str | Path) -> list[ValCase]:
    """Read a set written by `save_validation_set` (cases in name order)."""
    folder = Path(folder)
    if not is_saved_set(folder):
        raise MemeCleanError(f"'{folder}' is not a validation set (expected memes/, templates/ and masks/)")
    manifest: dict[str, Any] = {}
    if (folder / "cases.json").is_file():
        try:
            manifest = json.loads((folder / "cases.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise MemeCleanError(f"cannot read '{folder / 'cases.json'}': {error}") from None
    cases = []
    for meme_path in sorted((folder / "memes").glob("*.png")):
        name = meme_path.stem
        template_path, mask_path = folder / "templates" / f"{name}.png", folder / "masks" / f"{name}.png"
        for path in (template_path, mask_path):
            if not path.is_file():
                raise MemeCleanError(f"validation set '{folder}': '{path.relative_to(folder)}' is missing")
        meme, template = _read_png(meme_path, "RGB"), _read_png(template_path, "RGB")
        mask = _read_png(mask_path, "L") > 127
        if not meme.shape == template.shape or meme.shape[:2] != mask.shape:
            raise MemeCleanError(f"validation set '{folder}': meme, template and mask of '{name}' differ in size")
        entry = manifest.get(name) or {}
        bar = entry.get("bar")
        cases.append(
            ValCase(
                name,
                meme,
                template,
                mask,
                str(entry.get("format", AGGREGATE)),
                (str(bar[0]), int(bar[1])) if bar else None,
            )
        )
    if not cases:
        raise MemeCleanError(f"validation set '{folder}' has no memes/*.png")
    return cases


def load_cases(
    data: str | Path, count: int = 40, seed: int = 0, long_side: int = 1024, formats: Sequence[str] = (AGGREGATE,)
) -> tuple[list[ValCase], str]:
    """Cases from either layout: a saved set (memes/, templates/, masks/; its cases of `formats`) or a prepared
    folder (images/), from which `count` cases per format are generated (the round trip: one per picture, at most
    `count`). Returns (cases, a one-line description of where they came from)."""
    data = Path(data)
    unknown = [fmt for fmt in formats if fmt not in EVAL_FORMATS]
    if unknown or not formats:
        raise MemeCleanError(f"unknown format {', '.join(unknown) or '(none)'}; expected {', '.join(EVAL_FORMATS)}")
    wanted = [fmt for fmt in EVAL_FORMATS if fmt in formats]
    groups = "" if wanted == [AGGREGATE] else f", formats {' '.join(wanted)}"
    if is_saved_set(data):
        every = load_validation_set(data)
        cases = [case for case in every if case.format in wanted]
        if not cases:
            present = sorted({case.format for case in every})
            raise MemeCleanError(
                f"the saved set '{data}' has no cases of {', '.join(wanted)} (it has {', '.join(present)})"
            )
        return cases, f"{len(cases)} cases from the saved set '{data}'{groups}"
    if (data / "images").is_dir():
        cases = []
        for fmt in wanted:
            if fmt == AGGREGATE:
                cases += make_validation_set(data, count, seed=seed, long_side=long_side)
            elif fmt == ROUND_TRIP:
                cases += make_round_trip_cases(data, count, seed=seed, long_side=long_side)
            else:
                cases += make_format_cases(data, fmt, count, seed=seed, long_side=long_side)
        return cases, f"{len(cases)} cases generated from '{data}' (seed {seed}, long side {long_side}{groups})"
    raise MemeCleanError(
        f"'{data}' is neither a saved validation set (memes/, templates/, masks/) nor a prepared data folder (images/)"
    )


# ----------------------------------------------------------------------------------------------------- metrics


def dilate_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate by `radius` pixels with an elliptic (2r+1)² kernel (the same as `pipeline.dilate`)."""
    if radius <= 0:
        return mask.astype(bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def text_region(mask: np.ndarray) -> np.ndarray:
    """Where "PSNR text" is measured: the true mask dilated by TEXT_REGION_DILATION px."""
    return dilate_mask(mask, TEXT_REGION_DILATION)


def mse(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> float:
    """Mean squared error over all channels of the pixels in `region` (all pixels when None); NaN if it is empty."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    diff = a.astype(np.float64) - b.astype(np.float64)
    if region is not None:
        diff = diff[region.astype(bool)]
    return float(np.mean(diff * diff)) if diff.size else math.nan


def psnr_from_mse(value: float, peak: float = PEAK) -> float:
    """10·log10(peak² / MSE): +inf for a zero error, NaN for an undefined one."""
    if math.isnan(value):
        return math.nan
    return math.inf if value <= 0 else 10.0 * math.log10(peak * peak / value)


def psnr(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> float:
    return psnr_from_mse(mse(a, b, region))


def mean_mse(values: Sequence[float]) -> float:
    """The mean of per-image MSEs, leaving out undefined ones (an image with an empty text region); NaN if none."""
    defined = [v for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else math.nan


def mean_psnr(values: Sequence[float]) -> float:
    """A set's PSNR: from the mean of the per-image MSEs (not the mean of per-image PSNRs)."""
    return psnr_from_mse(mean_mse(values))


def to_gray(image: np.ndarray) -> np.ndarray:
    """BT.601 luma in float64 (no rounding to 8 bits)."""
    image = image.astype(np.float64)
    return image @ np.array([0.299, 0.587, 0.114]) if image.ndim == 3 else image


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two 8-bit images (RGB or gray), on grayscale, 7×7 Gaussian window σ 1.5."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    x, y = to_gray(a), to_gray(b)

    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * PEAK) ** 2, (0.03 * PEAK) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    pad = SSIM_WINDOW // 2
    if ssim_map.shape[0] > 2 * pad and ssim_map.shape[1] > 2 * pad:
        ssim_map = ssim_map[pad:-pad, pad:-pad]
    return float(ssim_map.mean())


def mask_iou(predicted: np.ndarray, true: np.ndarray) -> float:
    predicted, true = predicted.astype(bool), true.astype(bool)
    union = np.logical_or(predicted, true).sum()
    return 1.0 if union == 0 else float(np.logical_and(predicted, true).sum() / union)


def far_from_caption(caption: np.ndarray, distance: float = COLLATERAL_DISTANCE) -> np.ndarray:
    """H×W bool: the pixels more than `distance` px (Euclidean) from every caption pixel (all of them without one)."""
    caption = caption.astype(bool)
    if not caption.any():
        return np.ones(caption.shape, bool)
    to_caption = cv2.distanceTransform((~caption).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return to_caption > distance


def collateral_pixels(replaced: np.ndarray, caption: np.ndarray, distance: float = COLLATERAL_DISTANCE) -> int:
    """How many replaced pixels lie more than `distance` px from every true caption pixel."""
    return int(np.count_nonzero(replaced.astype(bool) & far_from_caption(caption, distance)))


def caption_box_count(
    boxes: Sequence[np.ndarray],
    caption: np.ndarray,
    dilation: int = TEXT_LEFT_DILATION,
    min_overlap: float = TEXT_LEFT_MIN_OVERLAP,
) -> int:
    """How many detector boxes (polygons of (x, y) points) have at least `min_overlap` of their area in the true
    caption dilated `dilation` px: the caption lines a text detector finds."""
    region = dilate_mask(caption, dilation)
    height, width = region.shape
    count = 0
    for box in boxes:
        points = np.round(np.asarray(box, np.float64).reshape(-1, 2)).astype(np.int32)
        x0, y0 = np.clip(points.min(0), 0, [width - 1, height - 1])
        x1, y1 = np.clip(points.max(0), 0, [width - 1, height - 1])
        local = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
        cv2.fillPoly(local, [points - [x0, y0]], 1)
        area = np.count_nonzero(local)
        if area and np.count_nonzero(region[y0 : y1 + 1, x0 : x1 + 1] & local.astype(bool)) >= min_overlap * area:
            count += 1
    return count


# --------------------------------------------------------------------------------------------------- baselines


def oracle_telea(meme: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The classical fill given the true mask: dilated 2 px, OpenCV Telea radius 3 at full size."""
    from ..cleaning.pipeline import dilate, telea_fill

    return telea_fill(meme, dilate(mask, BASELINE_DILATION))


def make_ocr_engine() -> Any:
    """rapidocr's engine, detector only; raises ImportError when the `eval` extra is not installed."""
    from rapidocr import RapidOCR

    try:  # rapidocr ≥ 3.x: quiet, and never load the classifier or recogniser
        return RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False, "Global.use_rec": False})
    except (ValueError, KeyError, AttributeError):  # an older 3.x without these keys
        return RapidOCR()


def detect_text_boxes(engine: Any, image: np.ndarray) -> list[np.ndarray]:
    """rapidocr's detected text boxes as float32 N×2 polygons of (x, y). rapidocr takes numpy arrays as BGR."""
    output = engine(np.ascontiguousarray(image[..., ::-1]), use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(output, "boxes", None)
    return [] if boxes is None else [np.asarray(box, np.float32).reshape(-1, 2) for box in boxes]


def boxes_mask(boxes: Sequence[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Filled box polygons as an H×W bool mask."""
    mask = np.zeros(shape[:2], np.uint8)
    if len(boxes):
        cv2.fillPoly(mask, [np.round(np.asarray(box)).astype(np.int32).reshape(-1, 2) for box in boxes], 1)
    return mask.astype(bool)


def ocr_text_mask(engine: Any, meme: np.ndarray) -> np.ndarray:
    """Filled polygons of rapidocr's detected text boxes (H×W bool)."""
    return boxes_mask(detect_text_boxes(engine, meme), meme.shape)


def ocr_telea(engine: Any, meme: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(filled image, box mask): OCR boxes dilated BASELINE_DILATION px, then Telea radius 3 at full size."""
    return telea_from_boxes(meme, ocr_text_mask(engine, meme))


def telea_from_boxes(meme: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from ..cleaning.pipeline import dilate, telea_fill

    return telea_fill(meme, dilate(boxes, BASELINE_DILATION)), boxes


class TextDetector:
    """The OCR detector with its answers remembered by image content: in memory, and under `cache_dir` (one file
    per image, in a folder named after the detector, `name`: "rapidocr-VERSION" for rapidocr's engine) when given
    and the detector has a name (an engine without one is only cached in memory).

    `detect(image)` returns (boxes, seconds the detection took when it ran, whether it came from the cache)."""

    def __init__(self, engine: Any, cache_dir: str | Path | None = None, name: str | None = None):
        self.engine = engine
        self.memory: dict[str, tuple[list[np.ndarray], float]] = {}
        if name is None and type(engine).__module__.startswith("rapidocr"):
            version = _rapidocr_version()
            name = f"rapidocr-{version}" if version else None
        self.cache_dir = Path(cache_dir) / name if cache_dir is not None and name else None
        self.calls = 0  # detections actually run (not from a cache)

    @staticmethod
    def key(image: np.ndarray) -> str:
        digest = hashlib.sha1(np.ascontiguousarray(image).data)
        digest.update(repr(image.shape).encode())
        return digest.hexdigest()

    def detect(self, image: np.ndarray) -> tuple[list[np.ndarray], float, bool]:
        key = self.key(image)
        if key in self.memory:
            return (*self.memory[key], True)
        path = self.cache_dir / f"{key}.npz" if self.cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                with np.load(path) as stored:
                    boxes = [stored[f"box{i}"] for i in range(int(stored["count"]))]
                    self.memory[key] = (boxes, float(stored["seconds"]))
                    return (*self.memory[key], True)
            except (OSError, ValueError, KeyError):
                pass  # a damaged entry: detect again and overwrite it
        started = time.perf_counter()
        boxes = detect_text_boxes(self.engine, image)
        seconds = time.perf_counter() - started
        self.calls += 1
        self.memory[key] = (boxes, seconds)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".tmp.npz")
            np.savez(partial, count=len(boxes), seconds=seconds, **{f"box{i}": box for i, box in enumerate(boxes)})
            partial.replace(path)
        return boxes, seconds, False


def _rapidocr_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapidocr")
    except PackageNotFoundError:
        return None


# -------------------------------------------------------------------------------------------------- evaluation


@dataclass
class MethodOutput:
    """What a method gives back for one case."""

    image: np.ndarray  # the cleaned picture (the template's size, or without the case's caption bar)
    mask: np.ndarray | None  # its text mask, for mask IoU (None: the method has none)
    replaced: np.ndarray | None  # the pixels it replaced, for collateral (None: none)
    extra_seconds: float = 0.0  # time spent before the call that belongs to it (a cached detection)


def _target(case: ValCase, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(template, true mask) of the output's size: a method may crop the caption bar."""
    if image.shape == case.template.shape:
        return case.template, case.mask
    template, mask = case.without_bar()
    if image.shape != template.shape:
        raise MemeCleanError(f"case {case.name}: output {image.shape[:2]} fits neither the template nor the picture")
    return template, mask


def score_image(
    case: ValCase, output: MethodOutput, seconds: float, text_boxes: tuple[int, int] | None = None
) -> dict[str, Any]:
    """Every per-image number of one method on one case; `text_boxes` = (caption boxes on the meme, on the
    output) when a text detector ran."""
    template, mask = _target(case, output.image)
    mse_text = mse(output.image, template, text_region(mask))
    mse_all = mse(output.image, template)
    replaced = 0 if output.replaced is None else int(np.count_nonzero(output.replaced))
    caption = int(np.count_nonzero(mask))
    missed = caption if output.replaced is None else int(np.count_nonzero(mask & ~output.replaced.astype(bool)))
    return {
        "name": case.name,
        "format": case.format,
        "mse_all": mse_all,
        "mse_text": mse_text,
        "psnr_all": psnr_from_mse(mse_all),
        "psnr_text": psnr_from_mse(mse_text),
        "ssim": ssim(output.image, template),
        "mask_iou": mask_iou(output.mask, mask)
        if output.mask is not None and output.mask.shape == mask.shape
        else None,
        "text_boxes_meme": None if text_boxes is None else text_boxes[0],
        "text_boxes_left": None if text_boxes is None else text_boxes[1],
        "replaced_px": replaced,
        "collateral_px": 0 if output.replaced is None else collateral_pixels(output.replaced, mask),
        "caption_px": caption,
        "missed_px": missed,
        "pixels": int(mask.size),
        "ms": 1000.0 * seconds,
    }


def summary_row(
    method: str, resolution: int | None, group: str, images: Sequence[dict[str, Any]], has_mask: bool
) -> dict[str, Any]:
    """A group's row from its per-image scores (see the module docstring for how each number is averaged)."""
    mean = lambda key: float(np.mean([s[key] for s in images]))  # noqa: E731
    total = lambda key: sum(s[key] for s in images)  # noqa: E731
    mse_all = mean_mse([s["mse_all"] for s in images])
    mse_text = mean_mse([s["mse_text"] for s in images])
    ious = [s["mask_iou"] for s in images if s["mask_iou"] is not None]
    counted = [s for s in images if s["text_boxes_meme"] is not None]
    boxes_meme = sum(s["text_boxes_meme"] for s in counted)
    boxes_left = sum(s["text_boxes_left"] for s in counted)
    replaced = total("replaced_px")
    captioned = [s for s in images if s.get("caption_px")]
    caption_px = sum(s["caption_px"] for s in captioned)
    missed_px = sum(s["missed_px"] for s in captioned)
    many_missed = sum(s["missed_px"] > MISSED_PICTURE_SHARE * s["caption_px"] for s in captioned)
    return {
        "format": group,
        "method": method,
        "resolution": resolution,
        "available": True,
        "note": None,
        "images": len(images),
        "mse_all": mse_all,
        "mse_text": mse_text,
        "psnr_all": psnr_from_mse(mse_all),
        "psnr_text": psnr_from_mse(mse_text),
        "ssim": mean("ssim"),
        "mask_iou": float(np.mean(ious)) if has_mask and ious else None,
        "text_boxes_meme": boxes_meme if counted else None,
        "text_boxes_left": boxes_left if counted else None,
        "text_left": 100.0 * boxes_left / boxes_meme if counted and boxes_meme else None,
        "collateral": 100.0 * total("collateral_px") / replaced if replaced else None,
        "missed": 100.0 * missed_px / caption_px if caption_px else None,
        "many_missed": 100.0 * many_missed / len(captioned) if captioned else None,
        "replaced": 100.0 * float(np.mean([s["replaced_px"] / s["pixels"] for s in images])),
        "ms_per_image": mean("ms"),
        "per_image": list(images),
    }


def _unavailable(method: str, note: str, group: str = AGGREGATE) -> dict[str, Any]:
    return {
        "format": group,
        "method": method,
        "resolution": None,
        "available": False,
        "note": note,
        "images": 0,
        "mse_all": None,
        "mse_text": None,
        "psnr_all": None,
        "psnr_text": None,
        "ssim": None,
        "mask_iou": None,
        "text_boxes_meme": None,
        "text_boxes_left": None,
        "text_left": None,
        "collateral": None,
        "missed": None,
        "many_missed": None,
        "replaced": None,
        "ms_per_image": None,
        "per_image": [],
    }


def case_groups(cases: Sequence[ValCase]) -> list[str]:
    """The groups present, in table order (EVAL_FORMATS order, then any others), and after them each pool (POOLS:
    "all formats", "all scripts", "all new formats") of which two or more groups are present."""
    present = {case.format for case in cases}
    groups = [fmt for fmt in EVAL_FORMATS if fmt in present] + sorted(present - set(EVAL_FORMATS))
    return groups + [pool for pool, members in POOLS.items() if len(members & present) >= 2]


def group_members(group: str) -> frozenset[str]:
    """The formats a table group holds: a pool's, or the group itself."""
    return POOLS.get(group, frozenset({group}))


def evaluate_model(
    model: Any,
    cases: Sequence[ValCase],
    resolutions: Sequence[int] = DEFAULT_RESOLUTIONS,
    *,
    baselines: bool = True,
    text_left: bool = False,
    ocr_cache: str | Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    on_output: OutputFn | None = None,
) -> dict[str, Any]:
    """MemeClean at each resolution and (with `baselines`) the three baselines on `cases`, per format group.

    `model` is a `LoadedModel` (None: the bundled weights). With `text_left`, the OCR detector also runs on the
    memes and every output (answers cached by content; on disk under `ocr_cache` when given). Each method is
    warmed up once on the first case (not timed) so ms/image is the steady state. `progress(fraction, message)`
    is called after every image and `cancel()` checked before each; a cancelled run raises `Cancelled`. Returns
    {"rows": [...], "groups": [...], ...}: per group (see `case_groups`), one row per method and resolution
    (baselines have resolution None), ordered: input unchanged, OCR boxes + Telea, MemeClean at each resolution,
    oracle.
    """
    from ..cleaning.inference import clean
    from ..cleaning.pipeline import dilate

    if not cases:
        raise MemeCleanError("no validation cases to evaluate")
    if model is None:
        from ..network.checkpoint import load_model

        model = load_model()
    cases = list(cases)
    resolutions = list(resolutions)
    total = len(cases) * (len(resolutions) + (3 if baselines else 0))
    detector = ready_detector(ocr_cache) if text_left or baselines else None
    runner = MethodRunner(cases, total, detector, text_left, progress, cancel, on_output)

    scored: list[tuple[str, int | None, bool, list[dict[str, Any]] | None]] = []  # None: unavailable
    if baselines:
        identity = runner.run(IDENTITY, None, lambda case: MethodOutput(case.meme.copy(), None, None))
        scored.append((IDENTITY, None, False, identity))
        if detector is not None:

            def ocr_fn(case: ValCase) -> MethodOutput:
                boxes, seconds, cached = detector.detect(case.meme)
                image, box_mask = telea_from_boxes(case.meme, boxes_mask(boxes, case.meme.shape))
                return MethodOutput(image, box_mask, dilate(box_mask, BASELINE_DILATION), seconds if cached else 0.0)

            scored.append((OCR_TELEA, None, True, runner.run(OCR_TELEA, None, ocr_fn)))
        else:
            scored.append((OCR_TELEA, None, True, None))
            runner.done += len(cases)
    for resolution in resolutions:

        def model_fn(case: ValCase, resolution: int = resolution) -> MethodOutput:
            result = clean(case.meme, resolution=resolution, model=model)
            return MethodOutput(result.image, result.mask, result.region)

        scored.append((MODEL, resolution, True, runner.run(MODEL, resolution, model_fn)))
    if baselines:

        def oracle_fn(case: ValCase) -> MethodOutput:
            return MethodOutput(oracle_telea(case.meme, case.mask), None, dilate(case.mask, BASELINE_DILATION))

        scored.append((ORACLE, None, False, runner.run(ORACLE, None, oracle_fn)))

    groups = case_groups(cases)
    return {
        "cases": len(cases),
        "names": [case.name for case in cases],
        "sizes": [list(case.meme.shape[1::-1]) for case in cases],
        "groups": groups,
        "group_sizes": {group: sum(case.format in group_members(group) for case in cases) for group in groups},
        "resolutions": resolutions,
        "model": str(model.path) if getattr(model, "path", None) else None,
        "device": model.device_name,
        "text_left": ("measured" if detector is not None else OCR_MISSING) if text_left else "not asked",
        "ocr_detections": detector.calls if detector is not None else 0,
        "aggregation": AGGREGATION_NOTE,
        "rows": group_rows(groups, scored),
    }


def ready_detector(ocr_cache: str | Path | None) -> TextDetector | None:
    """The OCR detector, warmed up (not cached), or None when its optional library is not installed."""
    try:
        detector = TextDetector(make_ocr_engine(), ocr_cache)
        detect_text_boxes(detector.engine, np.zeros((64, 64, 3), np.uint8))
    except ImportError:
        return None
    return detector


class MethodRunner:
    """Runs one method over every case, timed after a warm-up, scoring each output; counts progress over all the
    methods of an evaluation (`total` images) and checks `cancel` before each image."""

    def __init__(
        self,
        cases: list[ValCase],
        total: int,
        detector: TextDetector | None,
        text_left: bool,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
        on_output: OutputFn | None,
    ):
        self.cases, self.total, self.done = cases, total, 0
        self.detector = detector if text_left else None  # boxes left are counted only when asked for
        self.report = progress or (lambda fraction, message: None)
        self.cancel, self.on_output = cancel, on_output

    def caption_boxes(self, case: ValCase, image: np.ndarray) -> tuple[int, int] | None:
        if self.detector is None:
            return None
        _, mask = _target(case, image)
        on_meme = caption_box_count(self.detector.detect(case.meme)[0], case.mask)
        return on_meme, caption_box_count(self.detector.detect(image)[0], mask)

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled("evaluation cancelled")

    def run(
        self, method: str, resolution: int | None, method_fn: Callable[[ValCase], MethodOutput]
    ) -> list[dict[str, Any]]:
        label = method if resolution is None else f"{method} @ {resolution}"
        self.check_cancel()
        method_fn(self.cases[0])  # warm-up: lazy loading, kernel selection for this size
        images = []
        for case in self.cases:
            self.check_cancel()
            started = time.perf_counter()
            output = method_fn(case)
            seconds = time.perf_counter() - started + output.extra_seconds
            images.append(score_image(case, output, seconds, self.caption_boxes(case, output.image)))
            if self.on_output is not None:
                self.on_output(method, resolution, case, output.image, output.mask)
            self.done += 1
            self.report(self.done / self.total, f"{label}: {case.name}")
        return images


def group_rows(
    groups: list[str], scored: list[tuple[str, int | None, bool, list[dict[str, Any]] | None]]
) -> list[dict[str, Any]]:
    """One summary row per group, method and resolution; a method that could not run (None) is marked so."""
    rows: list[dict[str, Any]] = []
    for group in groups:
        members = group_members(group)
        for method, resolution, has_mask, images in scored:
            if images is None:
                rows.append(_unavailable(method, OCR_MISSING, group))
                continue
            rows.append(summary_row(method, resolution, group, [s for s in images if s["format"] in members], has_mask))
    return rows


# ------------------------------------------------------------------------------------------------------ output


def _number(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


HEADER = [
    "method",
    "resolution",
    "PSNR all",
    "PSNR text",
    "SSIM",
    "mask IoU",
    "text left %",
    "collateral %",
    "missed %",
    ">10% missed %",
    "replaced %",
    "ms/image",
]


def table_cells(row: dict[str, Any]) -> list[str]:
    """One result row as strings in HEADER's order; an unavailable method has its note in place of the numbers."""
    resolution = "full" if row["resolution"] is None else str(row["resolution"])
    if not row["available"]:
        return [row["method"], resolution, row["note"]]
    return [
        row["method"],
        resolution,
        _number(row["psnr_all"], 2),
        _number(row["psnr_text"], 2),
        _number(row["ssim"], 4),
        _number(row["mask_iou"], 3),
        _number(row.get("text_left"), 1),
        _number(row.get("collateral"), 1),
        _number(row.get("missed"), 1),
        _number(row.get("many_missed"), 1),
        _number(row.get("replaced"), 3),
        _number(row["ms_per_image"], 1),
    ]


def _table(rows: Sequence[dict[str, Any]], markdown: bool) -> list[str]:
    lines = [table_cells(row) for row in rows]
    if markdown:
        out = ["| " + " | ".join(HEADER) + " |", "|---|---|" + "---:|" * (len(HEADER) - 2)]
        return out + ["| " + " | ".join(line + [""] * (len(HEADER) - len(line))) + " |" for line in lines]
    full = [HEADER] + [line for line in lines if len(line) == len(HEADER)]
    widths = [max(len(line[i]) for line in full) for i in range(len(HEADER))]
    widths[0] = max(widths[0], *(len(line[0]) for line in lines))
    widths[1] = max(widths[1], *(len(line[1]) for line in lines))

    def render(line: tuple) -> str:
        if len(line) == len(HEADER):
            cells = [f"{line[0]:<{widths[0]}}"] + [f"{cell:>{widths[i + 1]}}" for i, cell in enumerate(line[1:])]
        else:
            cells = [f"{line[0]:<{widths[0]}}", f"{line[1]:>{widths[1]}}", line[2]]
        return "  ".join(cells)

    return [render(HEADER), "-" * len(render(HEADER))] + [render(line) for line in lines]


def format_table(result: dict[str, Any], markdown: bool = False) -> str:
    """The results as plain-text tables (or Markdown ones, for the model card), one per format group, each under
    a title line, then the aggregation note."""
    groups = result.get("groups") or [AGGREGATE]
    sizes = result.get("group_sizes") or {}
    out: list[str] = []
    for group in groups:
        rows = [row for row in result["rows"] if row.get("format", AGGREGATE) == group]
        if not rows:
            continue
        if out:
            out.append("")
        count = sizes.get(group, rows[0]["images"])
        out.append(f"**{group}** ({count} cases)" if markdown else f"{group}: {count} cases")
        if markdown:
            out.append("")
        out += _table(rows, markdown)
    text_left = result.get("text_left")
    note = "" if text_left in (None, "measured") else f" Text left: {text_left}."
    return "\n".join(out) + f"\n\n{result['cases']} images, device {result['device']}.{note} {result['aggregation']}"


def jsonable(result: dict[str, Any]) -> dict[str, Any]:
    """`result` with non-finite floats (an infinite PSNR, an undefined MSE) as null: strict JSON."""

    def fix(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [fix(v) for v in value]
        return value

    return fix(result)


def triptych(before: np.ndarray, after: np.ndarray, mask: np.ndarray, gap: int = 4) -> np.ndarray:
    """before | after | mask (white = text) side by side, separated by white gaps."""
    height = max(before.shape[0], after.shape[0])

    def fit(image):
        return np.pad(
            image,
            [(0, height - image.shape[0])] + [(0, 0)] * (image.ndim - 1),
            constant_values=255,
        )

    before, after, mask = fit(before), fit(after), fit(mask)  # an output without the caption bar is shorter
    spacer = np.full((height, gap, 3), 255, np.uint8)
    mask_rgb = np.repeat((mask.astype(np.uint8) * 255)[..., None], 3, axis=2)
    return np.concatenate([before, spacer, after, spacer, mask_rgb], axis=1)
