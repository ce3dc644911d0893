"""Organise a raw folder of pictures, meme/template pairs and fonts into the tree the trainer reads.

Input (`src`), any mix of:

* clean pictures anywhere (every image file that is not part of the layouts below);
* meme/template pairs, in either layout, at `src` or in a sub-folder (e.g. ``dataset/``):

  - simple: ``templates/<name>.<ext>`` and ``memes/<name>/*.<ext>``;
  - ImgFlip575K (github.com/schesa/ImgFlip575K_Dataset): ``templates/<name>.json`` (``template_url``, ...) and
    ``memes/<name>.json`` (a list of ``{"url": "https://i.imgflip.com/<id>.jpg", "boxes": [...], ...}``). The
    dataset holds URLs only: the images must have been downloaded next to it. A template image is found as
    ``templates/<name>.<ext>`` or by the file name of its ``template_url``; a meme image as ``memes/<name>/<id>.jpg``
    or by its URL's file name anywhere under `src`. Memes whose file is not there are counted as missing;
* clip art (images with transparency) in folders named ``clipart/``;
* fonts (``.ttf``/``.otf``) anywhere, with their licence next to them (``<font>.LICENSE.txt`` or a
  LICENSE/OFL/COPYING file in the same folder).

Output (`dest`)::

    images/<name>.jpg                   clean pictures (RGB, long side <= max_side, JPEG 92)
    clipart/<name>.png                  clip art (RGBA PNG)
    pairs/templates/<name>.png          templates
    pairs/memes/<name>/<i>.jpg          memes of each template
    fonts/<font file> (+ .LICENSE.txt)  fonts that load
    val/images, val/clipart, val/pairs  the held-out part (`val_fraction`; whole templates go to one side)
    prepare_report.json                 counts, and every skipped file with the reason

Training reads `dest` (``images/``, ``clipart/``, ``fonts/``, ``pairs/``); the ``val/`` folder inside it is not read
by training and serves as the validation set. Every image is decoded fully (a truncated file is caught here, not in
the middle of a training run), gets its EXIF orientation applied and is converted to RGB; files are written
atomically, so an interrupted run leaves no half-written image.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np

from ..callbacks import CancelFn, ProgressFn
from ..errors import Cancelled, ImageLoadError, ImageSaveError, MemeCleanError, WriteError
from ..files.file_kinds import special_kind
from ..files.filenames import FONT_SUFFIXES, IMAGE_SUFFIXES, safe_name
from ..files.safe_write import check_writable_folder, os_reason, write_file
from ..geometry import TRAIN_MAX_SIDE

LICENCE_NAMES = (
    "LICENSE",
    "LICENSE.txt",
    "LICENSE.md",
    "OFL.txt",
    "OFL",
    "COPYING",
    "COPYRIGHT",
    "copyright",
    "LICENCE",
    "LICENCE.txt",
)
REPORT_NAME = "prepare_report.json"


# ------------------------------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Job:
    kind: str  # "image" | "clipart" | "template" | "meme"
    src: str
    dst: str


@dataclass
class PrepareReport:
    written: Counter = field(default_factory=Counter)  # "images", "val/images", "memes", "val/templates", ...
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    missing_memes: int = 0  # memes listed in ImgFlip JSON whose image file is not in src
    missing_templates: list[str] = field(default_factory=list)  # template names without an image
    ignored: int = 0  # other files (text, JSON, archives ...) that are neither pictures nor fonts
    layouts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def reasons(self) -> Counter:
        return Counter(reason_kind(reason) for _, reason in self.skipped)

    def summary(self, examples: int = 5) -> str:
        lines = []
        if self.layouts:
            lines.append("found: " + "; ".join(self.layouts))
        written = ", ".join(f"{count} {what}" for what, count in sorted(self.written.items())) or "nothing"
        lines.append(f"written: {written}")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} file(s):")
            for kind, count in self.reasons().most_common():
                lines.append(f"  {count} × {kind}")
                for path, reason in [s for s in self.skipped if reason_kind(s[1]) == kind][:examples]:
                    lines.append(f"      {path}: {reason}")
        if self.missing_memes:
            lines.append(
                f"{self.missing_memes} meme(s) listed in the ImgFlip JSON files have no image file in the "
                "source folder (download them next to the JSON: memes/<template>/<id>.jpg)"
            )
        if self.missing_templates:
            names = ", ".join(self.missing_templates[:examples])
            left_out = len(self.missing_templates) - examples
            more = "" if left_out <= 0 else f" and {left_out} more"
            lines.append(
                f"{len(self.missing_templates)} template(s) have no image, their memes are not used: {names}{more}"
            )
        if self.ignored:
            lines.append(f"ignored {self.ignored} other file(s) (neither pictures nor fonts)")
        lines += [f"warning: {w}" for w in self.warnings[:examples]]
        if len(self.warnings) > examples:
            lines.append(f"... and {len(self.warnings) - examples} more warning(s) in {REPORT_NAME}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        data = asdict(self)
        data["written"] = dict(self.written)
        data["skipped"] = [{"file": f, "reason": r} for f, r in self.skipped]
        data["skipped_by_reason"] = dict(self.reasons())
        return data


def reason_kind(reason: str) -> str:
    """A short class of a skip reason, for counting."""
    lowered = reason.lower()
    for needle, kind in (
        ("too small", "too small"),
        ("empty", "empty file"),
        ("not an image", "not an image"),
        ("truncated or corrupt", "corrupt"),
        ("zero size", "corrupt"),
        ("too large", "too large"),
        ("not supported", "unsupported format"),
        ("font", "font does not load"),
        ("no transparency", "clip art without transparency"),
        ("not a regular file", "not a regular file"),
    ):
        if needle in lowered:
            return kind
    return "unreadable"


def is_val(key: str, val_fraction: float, seed: int = 0) -> bool:
    """Deterministic held-out choice: the same key always goes to the same side."""
    if val_fraction <= 0:
        return False
    digest = hashlib.sha1(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < val_fraction


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


@dataclass
class Scan:
    images: list[Path] = field(default_factory=list)
    clipart: list[Path] = field(default_factory=list)
    fonts: list[Path] = field(default_factory=list)
    pair_roots: list[Path] = field(default_factory=list)
    by_name: dict[str, list[Path]] = field(default_factory=dict)  # file name (lower case) -> files
    ignored: int = 0
    special: list[tuple[Path, str]] = field(default_factory=list)  # pipes, devices, sockets: (path, what it is)


def scan(src: Path, exclude: list[Path]) -> Scan:
    """Walk `src` once: pair roots (folders with templates/ and memes/), pictures, clip art, fonts."""
    result = Scan()
    files: list[Path] = []
    for folder, dirs, names in os.walk(src):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not any(_inside(here / d, e) or here / d == e for e in exclude)
        )
        if "templates" in dirs and "memes" in dirs:
            result.pair_roots.append(here)
        for name in sorted(names):
            if not name.startswith("."):
                kind = special_kind(here / name)
                if kind is None:
                    files.append(here / name)
                else:  # a named pipe would block the read forever, a device never ends
                    result.special.append((here / name, kind))
    pair_dirs = [r / sub for r in result.pair_roots for sub in ("templates", "memes")]
    for path in files:
        result.by_name.setdefault(path.name.lower(), []).append(path)
        suffix = path.suffix.lower()
        in_pairs = any(_inside(path, d) for d in pair_dirs)
        if suffix in FONT_SUFFIXES:
            result.fonts.append(path)
        elif in_pairs:
            continue  # handled by the pair layout
        elif suffix in IMAGE_SUFFIXES:
            rel_parts = [p.lower() for p in path.relative_to(src).parts[:-1]]
            (result.clipart if "clipart" in rel_parts else result.images).append(path)
        elif path.name.endswith(".LICENSE.txt") or path.name in LICENCE_NAMES:
            continue
        else:
            result.ignored += 1
    return result


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _url_name(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    name = Path(urlparse(url).path).name
    return name.lower() or None


def _pair_templates(templates_dir: Path, found: Scan) -> tuple[dict[str, Path], dict[str, dict]]:
    """(template name -> template image, template name -> its ImgFlip JSON) of a templates/ folder: images by
    their stem, and for an ImgFlip575K JSON without an image beside it, the image its template_url names."""
    templates: dict[str, Path] = {}
    json_templates: dict[str, dict] = {}
    for path in sorted(templates_dir.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            templates.setdefault(path.stem, path)
        elif suffix == ".json":
            data = _read_json(path)
            json_templates[path.stem] = data if isinstance(data, dict) else {}
    for name, meta in json_templates.items():  # ImgFlip575K: the image by the template_url's file name
        wanted = _url_name(meta.get("template_url")) if name not in templates else None
        candidates = [p for p in found.by_name.get(wanted, []) if p.suffix.lower() in IMAGE_SUFFIXES] if wanted else []
        if candidates:
            templates[name] = candidates[0]
    return templates, json_templates


def _pair_memes(
    memes_dir: Path, templates_dir: Path, found: Scan, report: PrepareReport
) -> tuple[dict[str, list[Path]], int]:
    """(template name -> meme images, how many memes the JSON lists named) of a memes/ folder: the images in
    memes/<name>/, and those an ImgFlip575K memes/<name>.json lists by URL, found by file name elsewhere."""
    memes: dict[str, list[Path]] = {}
    for path in sorted(memes_dir.iterdir()):
        if path.is_dir():
            memes.setdefault(path.name, []).extend(
                p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
    json_count = 0
    for path in sorted(memes_dir.glob("*.json")):  # ImgFlip575K: memes/<name>.json lists image URLs
        entries = _read_json(path)
        if not isinstance(entries, list):
            report.skipped.append((str(path), "not an ImgFlip meme list (JSON array expected)"))
            continue
        have = {p.name.lower() for p in memes.get(path.stem, [])}
        wanted_names = [_url_name(entry.get("url")) if isinstance(entry, dict) else None for entry in entries]
        for wanted in filter(None, wanted_names):
            json_count += 1
            if wanted in have:
                continue
            candidates = [p for p in found.by_name.get(wanted, []) if not _inside(p, templates_dir)]
            if candidates:
                memes.setdefault(path.stem, []).append(candidates[0])
                have.add(wanted)
            else:
                report.missing_memes += 1
    return memes, json_count


def collect_pairs(root: Path, found: Scan, report: PrepareReport) -> dict[str, tuple[Path, list[Path]]]:
    """template name -> (template image, meme images) for one pair root, in either layout."""
    templates_dir, memes_dir = root / "templates", root / "memes"
    templates, json_templates = _pair_templates(templates_dir, found)
    memes, json_count = _pair_memes(memes_dir, templates_dir, found, report)
    result = {}
    for name in sorted(set(templates) | set(memes)):
        if name not in templates:
            if memes.get(name) or name in json_templates:
                report.missing_templates.append(name)
            continue
        result[name] = (templates[name], memes.get(name, []))
    kind = "ImgFlip575K JSON" if json_templates or json_count else "templates/ + memes/"
    report.layouts.append(
        f"{len(result)} template(s) with {sum(len(m) for _, m in result.values())} meme(s) in {root} ({kind})"
    )
    return result


def plan(src: Path, dest: Path, val_fraction: float, seed: int, report: PrepareReport) -> tuple[list[Job], list[Path]]:
    found = scan(src, exclude=[dest])
    report.ignored = found.ignored
    report.skipped += [(str(path), f"{kind}, not a regular file") for path, kind in found.special]
    jobs: list[Job] = []
    used: set[str] = set()

    def unique(folder: Path, stem: str, suffix: str) -> str:
        name, i = f"{stem}{suffix}", 1
        while str(folder / name) in used:
            name, i = f"{stem}_{i}{suffix}", i + 1
        used.add(str(folder / name))
        return str(folder / name)

    for kind, paths, sub, suffix in (
        ("image", found.images, "images", ".jpg"),
        ("clipart", found.clipart, "clipart", ".png"),
    ):
        for path in paths:
            rel = path.relative_to(src).with_suffix("")
            parts = list(rel.parts)
            if kind == "clipart":  # name clip art from inside its clipart/ folder
                lowered = [p.lower() for p in parts[:-1]]
                parts = parts[len(lowered) - lowered[::-1].index("clipart") :]
            stem = safe_name("__".join(parts))
            base = dest / "val" if is_val(str(rel), val_fraction, seed) else dest
            jobs.append(Job(kind, str(path), unique(base / sub, stem, suffix)))
    if found.images or found.clipart:
        report.layouts.append(f"{len(found.images)} picture(s), {len(found.clipart)} clip-art file(s)")
    for root in found.pair_roots:
        for name, (template, memes) in collect_pairs(root, found, report).items():
            base = (dest / "val" if is_val(f"pair:{name}", val_fraction, seed) else dest) / "pairs"
            stem = safe_name(name)
            template_dst = unique(base / "templates", stem, ".png")
            stem = Path(template_dst).stem  # one name for the template and its memes folder
            jobs.append(Job("template", str(template), template_dst))
            for i, meme in enumerate(memes):
                jobs.append(Job("meme", str(meme), str(base / "memes" / stem / f"{i}.jpg")))
    return jobs, found.fonts


# ---------------------------------------------------------------------------------------------- the work
def flatten(rgb: np.ndarray, alpha: np.ndarray | None, onto_mean: bool) -> np.ndarray:
    """RGB with transparency composited onto the picture's mean colour (or white)."""
    if alpha is None:
        return rgb
    a = alpha.astype(np.float32)[..., None] / 255.0
    colour = np.array([255.0, 255.0, 255.0], np.float32)
    if onto_mean and float(a.sum()) > 0.01 * a.size:
        colour = (rgb.astype(np.float32) * a).reshape(-1, 3).sum(0) / float(a.sum())
    return (rgb.astype(np.float32) * a + colour * (1.0 - a) + 0.5).clip(0, 255).astype(np.uint8)


def fit_max_side(image: np.ndarray, max_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    if max(height, width) <= max_side:
        return image
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def process(job: Job, max_side: int, min_side: int) -> tuple[Job, str | None]:
    """Decode, check, convert, resize and write one file; returns (job, reason it was skipped or None)."""
    from ..files.imageio import load_image, save_image

    try:
        loaded = load_image(job.src)
    except ImageLoadError as error:
        return job, str(error).replace(f"cannot read '{job.src}': ", "")
    except Exception as error:  # noqa: BLE001 - one bad file must not stop a long run
        return job, f"unreadable ({type(error).__name__})"
    if min(loaded.width, loaded.height) < min_side:
        return job, f"too small ({loaded.width}×{loaded.height}; the short side must be at least {min_side})"
    # a file that cannot be written (disk full, no permission) stops the run: ImageSaveError goes up
    try:
        Path(job.dst).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImageSaveError(f"cannot write '{job.dst}': {os_reason(error)}") from None
    if job.kind == "clipart":
        if loaded.alpha is None or int(loaded.alpha.min()) == 255:
            return job, "clip art with no transparency (put it with the pictures instead)"
        rgba = fit_max_side(np.dstack([loaded.rgb, loaded.alpha]), max_side)
        save_image(
            job.dst, np.ascontiguousarray(rgba[..., :3]), alpha=np.ascontiguousarray(rgba[..., 3]), overwrite=True
        )
    else:
        rgb = fit_max_side(flatten(loaded.rgb, loaded.alpha, onto_mean=job.kind == "image"), max_side)
        save_image(job.dst, rgb, quality=92, overwrite=True)
    return job, None


def _process_star(args: tuple[Job, int, int]) -> tuple[Job, str | None]:
    return process(*args)


def font_licence(font: Path) -> Path | None:
    own = font.with_name(font.name + ".LICENSE.txt")
    if own.is_file():
        return own
    for name in LICENCE_NAMES:
        candidate = font.parent / name
        if candidate.is_file():
            return candidate
    for parent in (font.parent.parent,):  # fontpkg wheels: <pkg>/LICENSE and <pkg>/files/<font>
        for name in LICENCE_NAMES:
            if (parent / name).is_file():
                return parent / name
    return None


def copy_fonts(fonts: list[Path], dest: Path, report: PrepareReport) -> None:
    from PIL import ImageFont

    folder = dest / "fonts"
    seen: dict[str, bytes] = {}
    for font in fonts:
        try:
            ImageFont.truetype(str(font), 24).getbbox("ABC")
        except Exception as error:  # noqa: BLE001
            report.skipped.append((str(font), f"font does not load ({type(error).__name__}: {error})"))
            continue
        data = font.read_bytes()
        name = font.name
        if name in seen and seen[name] != data:
            name = f"{safe_name(font.parent.name)}__{name}"
        if name in seen:
            continue
        seen[name] = data
        _atomic_copy_bytes(data, folder / name)
        licence = font_licence(font)
        if licence is not None:
            _atomic_copy_bytes(licence.read_bytes(), folder / f"{name}.LICENSE.txt")
        else:
            report.warnings.append(f"{font}: copied, but no licence file was found next to it")
        report.written["fonts"] += 1


def _atomic_copy_bytes(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, data, overwrite=True)  # complete or not at all (safe_write); DEST's own files are rewritten


def _counter_key(job: Job, dest: Path) -> str:
    what = {"image": "images", "clipart": "clipart", "template": "templates", "meme": "memes"}[job.kind]
    return f"val/{what}" if _inside(Path(job.dst), dest / "val") else what


def _checked_folders(src: str | Path, dest: str | Path, max_side: int, val_fraction: float) -> tuple[Path, Path]:
    """(source, destination) resolved, the options checked and the destination made and writable."""
    src, dest = Path(src).expanduser().resolve(), Path(dest).expanduser().resolve()
    if not src.is_dir():
        raise MemeCleanError(f"source folder not found: '{src}'")
    if dest == src or _inside(src, dest):
        raise MemeCleanError("the destination must not be the source folder or contain it")
    if max_side < 64:
        raise MemeCleanError("the largest side must be at least 64 pixels")
    if not 0.0 <= val_fraction < 1.0:
        raise MemeCleanError("the validation fraction must be between 0 and 1")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WriteError(f"cannot create the destination folder '{dest}': {os_reason(error)}") from None
    check_writable_folder(dest)  # a read-only or full disk is found now, not after the scan
    return src, dest


def _processed(batch: list[Job], max_side: int, min_side: int, workers: int) -> Iterator[tuple[Job, str | None]]:
    """(job, reason it was skipped or None) for each job of `batch`, in processes when there are enough of them."""
    args = [(job, max_side, min_side) for job in batch]
    if workers > 1 and len(batch) > 8:
        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            yield from pool.map(_process_star, args, chunksize=8)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for arg in args:
            yield process(*arg)


def _without_failed_templates(jobs: list[Job], failed: set[str], report: PrepareReport) -> tuple[list[Job], int]:
    """The jobs other than templates, less the memes of the templates in `failed` (a warning each), and how many
    memes were left out."""

    def of_failed(job: Job) -> bool:
        return job.kind == "meme" and Path(job.dst).parent.name in failed

    for name in sorted(failed):
        count = sum(1 for job in jobs if job.kind == "meme" and Path(job.dst).parent.name == name)
        if count:
            report.warnings.append(f"template '{name}' could not be read: its {count} meme(s) are not used")
    rest = [job for job in jobs if job.kind != "template" and not of_failed(job)]
    return rest, sum(1 for job in jobs if of_failed(job))


def prepare(
    src: str | Path,
    dest: str | Path,
    max_side: int = TRAIN_MAX_SIDE,
    val_fraction: float = 0.1,
    min_side: int = 128,
    workers: int = 1,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> PrepareReport:
    """Organise `src` into `dest` (see the module docstring); returns what was written and skipped."""
    src, dest = _checked_folders(src, dest, max_side, val_fraction)
    report = PrepareReport()
    if progress:
        progress(0.0, "scanning")
    jobs, fonts = plan(src, dest, val_fraction, seed, report)
    if not jobs and not fonts:
        raise MemeCleanError(f"no pictures, meme/template pairs or fonts found in '{src}'")
    copy_fonts(fonts, dest, report)
    total = max(1, len(jobs))
    done = 0

    def run(batch: list[Job]) -> set[str]:
        """Process `batch`, counting and reporting each job; the names of the templates that failed."""
        nonlocal done
        failed = set()
        with closing(_processed(batch, max_side, min_side, workers)) as results:  # a cancel stops the pool at once
            for job, reason in results:
                done += 1
                if reason is None:
                    report.written[_counter_key(job, dest)] += 1
                else:
                    report.skipped.append((job.src, reason))
                    failed.add(Path(job.dst).stem)
                if progress and (done % 20 == 0 or done == total):
                    progress(done / total, f"{done}/{total} files")
                if cancel and cancel():
                    raise Cancelled("preparing the data was cancelled")
        return failed

    # templates first: the memes of a template that cannot be read are not used
    failed = run([job for job in jobs if job.kind == "template"])
    rest, left_out = _without_failed_templates(jobs, failed, report)
    done += left_out
    run(rest)
    report.written = Counter({k: v for k, v in report.written.items() if v > 0})
    _atomic_copy_bytes(
        (json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n").encode("utf-8"), dest / REPORT_NAME
    )
    if progress:
        progress(1.0, "done")
    return report
