"""Evaluation: a validation set of synthetic memes, image metrics, classical baselines, and MemeClean side by side.

Validation set
    `make_validation_set(folder, count, seed)` captions pictures of a prepared data folder (`images/`, `fonts/`,
    `clipart/`; use one training never saw, e.g. /work/data/val) with `data.synth.SynthSource`. Case i is drawn
    from `np.random.default_rng([seed, i])` alone, so a set is a pure function of (folder, seed, long side) and
    the first k cases of a bigger set are the smaller set. `save_validation_set` / `load_validation_set` use the
    layout `memes/NAME.png`, `templates/NAME.png`, `masks/NAME.png` (white = text).

Metrics (numpy + OpenCV, 8-bit images, peak 255)
    - PSNR all: over every pixel and channel of the image.
    - PSNR text: over the text region = the TRUE caption mask dilated by `TEXT_REGION_DILATION` = 2 px (elliptic
      5×5 kernel), which also covers the anti-aliased and JPEG-smeared rim of the glyphs; every channel.
    - SSIM: on grayscale (BT.601 luma, float), 7×7 Gaussian window with σ = 1.5, C1 = (0.01·255)²,
      C2 = (0.03·255)² (Wang et al. 2004), mean of the SSIM map without the 3-pixel border the window does not
      fully cover.
    - mask IoU: |predicted ∩ true| / |predicted ∪ true| of the text masks (MemeClean: the predicted text mask
      before its dilation; OCR: the filled detector boxes before dilation); 1.0 when both are empty.
    Aggregation over a set: PSNR all and PSNR text are 10·log10(255² / mean MSE), the per-image MSE averaged over
    the images (each image weighs the same; an image identical to its template does not make the mean infinite;
    an image without caption pixels is left out of PSNR text), NOT the mean of per-image PSNRs. SSIM, mask IoU
    and ms/image are plain means over the images.

Methods
    - "MemeClean": `inference.clean(meme, resolution=r, model=model)` at each working resolution r.
    - "input unchanged": the meme itself (the floor).
    - "OCR boxes + Telea": rapidocr's text detector (PP-OCR det, ONNX, offline) → filled box polygons, dilated
      2 px (`BASELINE_DILATION`), then OpenCV Telea (radius 3) at full size.
      Needs the `eval` extra; without it the row says so instead of failing.
    - "Telea, true mask (oracle)": the true mask dilated 2 px, then OpenCV Telea (radius 3) at full size.
    The baselines work at the input's own size, so they are computed once, whatever the resolutions.

`evaluate_model(model, cases, resolutions)` returns a plain dict (the CLI's `--json`); `format_table` prints it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from .errors import Cancelled, MemeCleanError

TEXT_REGION_DILATION = 2  # px: the text region of "PSNR text" is the true mask dilated this much
# px: the baselines' masks (true mask, OCR boxes) are dilated this much before Telea, as documented above; fixed
# here rather than taken from the pipeline, so tuning the pipeline never moves the baselines.
BASELINE_DILATION = 2
SSIM_WINDOW, SSIM_SIGMA = 7, 1.5
PEAK = 255.0
DEFAULT_RESOLUTIONS = (256, 512, 1024)

MODEL = "MemeClean"
IDENTITY = "input unchanged"
OCR_TELEA = "OCR boxes + Telea"
ORACLE = "Telea, true mask (oracle)"
OCR_MISSING = "n/a (pip install memeclean[eval])"

AGGREGATION_NOTE = (
    "PSNR = 10*log10(255^2 / MSE), MSE averaged over the images (not a mean of per-image PSNRs); "
    f"PSNR text: the true caption mask dilated {TEXT_REGION_DILATION} px; SSIM: grayscale, "
    f"{SSIM_WINDOW}x{SSIM_WINDOW} Gaussian window (sigma {SSIM_SIGMA}), mean over images; mask IoU: predicted text "
    "mask (OCR: filled boxes) vs true mask, mean over images; baselines run at the input's size."
)

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]
# on_output(method, resolution or None, case, output image, predicted mask or None): e.g. to save examples
OutputFn = Callable[[str, "int | None", "ValCase", np.ndarray, "np.ndarray | None"], None]


# ---------------------------------------------------------------------------------------------- validation set


@dataclass
class ValCase:
    name: str
    meme: np.ndarray  # H×W×3 uint8, the captioned picture
    template: np.ndarray  # H×W×3 uint8, the same picture without caption (the target)
    mask: np.ndarray  # H×W bool, every pixel the caption touched


def make_validation_set(folder: str | Path, count: int, seed: int = 0, long_side: int = 1024) -> list[ValCase]:
    """`count` synthetic memes from a prepared data folder; case i depends only on (folder, seed, i, long_side)."""
    from .data.synth import SynthSource

    folder = Path(folder)
    if not folder.is_dir():
        raise MemeCleanError(f"data folder not found: '{folder}'")
    source = SynthSource.from_folder(folder)
    cases = []
    for i in range(count):
        meme, template, mask = source.sample(np.random.default_rng([seed, i]), long_side)
        cases.append(ValCase(f"{i:03d}", meme, template, mask.astype(bool)))
    return cases


def save_validation_set(cases: Sequence[ValCase], out_dir: str | Path) -> Path:
    """Write memes/NAME.png, templates/NAME.png and masks/NAME.png (white = text) under `out_dir`."""
    out_dir = Path(out_dir)
    for sub in ("memes", "templates", "masks"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    for case in cases:
        write_png(out_dir / "memes" / f"{case.name}.png", case.meme)
        write_png(out_dir / "templates" / f"{case.name}.png", case.template)
        write_png(out_dir / "masks" / f"{case.name}.png", case.mask.astype(np.uint8) * 255)
    return out_dir


def write_png(path: Path, array: np.ndarray, overwrite: bool = True) -> Path:
    """An optimised PNG through `safe_write` (complete, re-decoded, then renamed)."""
    from .errors import ImageSaveError
    from .imageio import decodes_fully
    from .safe_write import write_file

    return write_file(path, lambda buffer: Image.fromarray(array).save(buffer, format="PNG", optimize=True),
                      overwrite=overwrite, verify=decodes_fully, error=ImageSaveError)


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
        cases.append(ValCase(name, meme, template, mask))
    if not cases:
        raise MemeCleanError(f"validation set '{folder}' has no memes/*.png")
    return cases


def load_cases(data: str | Path, count: int = 40, seed: int = 0, long_side: int = 1024) -> tuple[list[ValCase], str]:
    """Cases from either layout: a saved set (memes/, templates/, masks/) or a prepared folder (images/), from which
    `count` cases are generated. Returns (cases, a one-line description of where they came from)."""
    data = Path(data)
    if is_saved_set(data):
        cases = load_validation_set(data)
        return cases, f"{len(cases)} cases from the saved set '{data}'"
    if (data / "images").is_dir():
        cases = make_validation_set(data, count, seed=seed, long_side=long_side)
        return cases, f"{len(cases)} cases generated from '{data}' (seed {seed}, long side {long_side})"
    raise MemeCleanError(
        f"'{data}' is neither a saved validation set (memes/, templates/, masks/) nor a prepared data folder (images/)"
    )


# ----------------------------------------------------------------------------------------------------- metrics


def dilate_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate by `radius` pixels with an elliptic (2r+1)² kernel (the same as `inference.dilate`)."""
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


# --------------------------------------------------------------------------------------------------- baselines


def oracle_telea(meme: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The classical fill given the true mask: dilated 2 px, OpenCV Telea radius 3 at full size."""
    from .inference import dilate, telea_fill

    return telea_fill(meme, dilate(mask, BASELINE_DILATION))


def make_ocr_engine() -> Any:
    """rapidocr's engine, detector only; raises ImportError when the `eval` extra is not installed."""
    from rapidocr import RapidOCR

    try:  # rapidocr ≥ 3.x: quiet, and never load the classifier or recogniser
        return RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False, "Global.use_rec": False})
    except (ValueError, KeyError, AttributeError):  # an older 3.x without these keys
        return RapidOCR()


def ocr_text_mask(engine: Any, meme: np.ndarray) -> np.ndarray:
    """Filled polygons of rapidocr's detected text boxes (H×W bool). rapidocr takes numpy arrays as BGR."""
    output = engine(np.ascontiguousarray(meme[..., ::-1]), use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(output, "boxes", None)
    mask = np.zeros(meme.shape[:2], np.uint8)
    if boxes is not None and len(boxes):
        cv2.fillPoly(mask, [np.round(np.asarray(box)).astype(np.int32).reshape(-1, 2) for box in boxes], 1)
    return mask.astype(bool)


def ocr_telea(engine: Any, meme: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(filled image, box mask): OCR boxes dilated BASELINE_DILATION px, then Telea radius 3 at full size."""
    from .inference import dilate, telea_fill

    boxes = ocr_text_mask(engine, meme)
    return telea_fill(meme, dilate(boxes, BASELINE_DILATION)), boxes


# -------------------------------------------------------------------------------------------------- evaluation


class _Scores:
    """Per-image scores of one method at one resolution, and their aggregate row."""

    def __init__(self, method: str, resolution: int | None, has_mask: bool):
        self.method, self.resolution, self.has_mask = method, resolution, has_mask
        self.images: list[dict[str, Any]] = []

    def add(self, case: ValCase, output: np.ndarray, predicted: np.ndarray | None, seconds: float) -> None:
        mse_text = mse(output, case.template, text_region(case.mask))
        mse_all = mse(output, case.template)
        self.images.append({
            "name": case.name,
            "mse_all": mse_all,
            "mse_text": mse_text,
            "psnr_all": psnr_from_mse(mse_all),
            "psnr_text": psnr_from_mse(mse_text),
            "ssim": ssim(output, case.template),
            "mask_iou": mask_iou(predicted, case.mask) if predicted is not None else None,
            "ms": 1000.0 * seconds,
        })

    def row(self) -> dict[str, Any]:
        mean = lambda key: float(np.mean([s[key] for s in self.images]))  # noqa: E731
        mse_all = mean_mse([s["mse_all"] for s in self.images])
        mse_text = mean_mse([s["mse_text"] for s in self.images])
        return {
            "method": self.method,
            "resolution": self.resolution,
            "available": True,
            "note": None,
            "images": len(self.images),
            "mse_all": mse_all,
            "mse_text": mse_text,
            "psnr_all": psnr_from_mse(mse_all),
            "psnr_text": psnr_from_mse(mse_text),
            "ssim": mean("ssim"),
            "mask_iou": mean("mask_iou") if self.has_mask else None,
            "ms_per_image": mean("ms"),
            "per_image": self.images,
        }


def _unavailable(method: str, note: str) -> dict[str, Any]:
    return {"method": method, "resolution": None, "available": False, "note": note, "images": 0,
            "mse_all": None, "mse_text": None, "psnr_all": None, "psnr_text": None, "ssim": None, "mask_iou": None,
            "ms_per_image": None, "per_image": []}


def evaluate_model(
    model: Any,
    cases: Sequence[ValCase],
    resolutions: Sequence[int] = DEFAULT_RESOLUTIONS,
    *,
    baselines: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    on_output: OutputFn | None = None,
) -> dict[str, Any]:
    """MemeClean at each resolution and (with `baselines`) the three baselines on `cases`.

    `model` is a `LoadedModel` (None: the bundled weights). Each method is warmed up once on the first case (not
    timed) so ms/image is the steady state. `progress(fraction, message)` is called after every image and
    `cancel()` checked before each; a cancelled run raises `Cancelled`. Returns {"rows": [...], ...}: one row per
    method and resolution (baselines have resolution None), ordered: input unchanged, OCR boxes + Telea,
    MemeClean at each resolution, oracle.
    """
    from .inference import clean

    if not cases:
        raise MemeCleanError("no validation cases to evaluate")
    if model is None:
        from .checkpoint import load_model

        model = load_model()
    cases = list(cases)
    resolutions = list(resolutions)
    total = len(cases) * (len(resolutions) + (3 if baselines else 0))
    done = 0
    report = progress or (lambda fraction, message: None)

    def run(method: str, resolution: int | None, has_mask: bool, method_fn: Callable) -> dict[str, Any]:
        nonlocal done
        label = method if resolution is None else f"{method} @ {resolution}"
        scores = _Scores(method, resolution, has_mask)
        if cancel is not None and cancel():
            raise Cancelled("evaluation cancelled")
        method_fn(cases[0])  # warm-up: lazy loading, kernel selection for this size
        for case in cases:
            if cancel is not None and cancel():
                raise Cancelled("evaluation cancelled")
            started = time.perf_counter()
            output, predicted = method_fn(case)
            seconds = time.perf_counter() - started
            scores.add(case, output, predicted, seconds)
            if on_output is not None:
                on_output(method, resolution, case, output, predicted)
            done += 1
            report(done / total, f"{label}: {case.name}")
        return scores.row()

    rows: list[dict[str, Any]] = []
    if baselines:
        rows.append(run(IDENTITY, None, False, lambda case: (case.meme.copy(), None)))
        try:
            engine = make_ocr_engine()
            ocr_fn = lambda case: ocr_telea(engine, case.meme)  # noqa: E731
            rows.append(run(OCR_TELEA, None, True, ocr_fn))
        except ImportError:
            rows.append(_unavailable(OCR_TELEA, OCR_MISSING))
            done += len(cases)
    for resolution in resolutions:
        def model_fn(case: ValCase, resolution: int = resolution) -> tuple[np.ndarray, np.ndarray]:
            result = clean(case.meme, resolution=resolution, model=model)
            return result.image, result.mask

        rows.append(run(MODEL, resolution, True, model_fn))
    if baselines:
        rows.append(run(ORACLE, None, False, lambda case: (oracle_telea(case.meme, case.mask), None)))
    return {
        "cases": len(cases),
        "names": [case.name for case in cases],
        "sizes": [list(case.meme.shape[1::-1]) for case in cases],
        "resolutions": resolutions,
        "model": str(model.path) if getattr(model, "path", None) else None,
        "device": model.device_name,
        "aggregation": AGGREGATION_NOTE,
        "rows": rows,
    }


# ------------------------------------------------------------------------------------------------------ output


def _number(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


HEADER = ["method", "resolution", "PSNR all", "PSNR text", "SSIM", "mask IoU", "ms/image"]


def table_cells(row: dict[str, Any]) -> list[str]:
    """One result row as strings in HEADER's order; an unavailable method has its note in place of the numbers."""
    resolution = "full" if row["resolution"] is None else str(row["resolution"])
    if not row["available"]:
        return [row["method"], resolution, row["note"]]
    return [row["method"], resolution, _number(row["psnr_all"], 2), _number(row["psnr_text"], 2),
            _number(row["ssim"], 4), _number(row["mask_iou"], 3), _number(row["ms_per_image"], 1)]


def format_table(result: dict[str, Any], markdown: bool = False) -> str:
    """The results as a plain-text table (or a Markdown one, for the model card), then the aggregation note."""
    lines = [table_cells(row) for row in result["rows"]]
    if markdown:
        out = ["| " + " | ".join(HEADER) + " |", "|---|---|" + "---:|" * (len(HEADER) - 2)]
        out += ["| " + " | ".join(line + [""] * (len(HEADER) - len(line))) + " |" for line in lines]
    else:
        full = [HEADER] + [line for line in lines if len(line) == len(HEADER)]
        widths = [max(len(line[i]) for line in full) for i in range(len(HEADER))]
        widths[0] = max(widths[0], *(len(line[0]) for line in lines))
        widths[1] = max(widths[1], *(len(line[1]) for line in lines))
        render = lambda line: "  ".join(  # noqa: E731
            [f"{line[0]:<{widths[0]}}"] + [f"{cell:>{widths[i + 1]}}" for i, cell in enumerate(line[1:])]
            if len(line) == len(HEADER) else [f"{line[0]:<{widths[0]}}", f"{line[1]:>{widths[1]}}", line[2]])
        out = [render(HEADER), "-" * len(render(HEADER))] + [render(line) for line in lines]
    return "\n".join(out) + f"\n\n{result['cases']} images, device {result['device']}. {result['aggregation']}"


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
    height = before.shape[0]
    spacer = np.full((height, gap, 3), 255, np.uint8)
    mask_rgb = np.repeat((mask.astype(np.uint8) * 255)[..., None], 3, axis=2)
    return np.concatenate([before, spacer, after, spacer, mask_rgb], axis=1)
