"""`memeclean clean`: remove the captions from image files (stills and animations) with one loaded model.

    memeclean clean INPUT... [--output FILE | --output-dir DIR] [--mask-dir DIR] [--resolution N]
                             [--model WEIGHTS] [--device auto|cpu|cuda] [--overwrite] [--crop-bars]
    memeclean clean --input-dir DIR --output-dir OUT [--mask-dir M] [--recursive] [--resume]
                    [--manifest FILE.jsonl] [--jobs N] [--engine local|ray [--address ADDR]] [...]
                    (a whole folder: clean_folder.py)

Outputs: `--output FILE` for a single input; `--output-dir DIR` writes `DIR/<stem>.png` per input; otherwise
`<stem>.clean.png` next to the input. Animated GIF/WebP inputs keep their extension (every frame is cleaned, with
its duration and the loop count). Inputs are never overwritten, existing outputs only with --overwrite. A file that
fails is reported on one line and the others go on; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..errors import MemeCleanError, describe_unexpected
from ..files.filenames import cleaned_suffix, path_key, same_file
from ..geometry import DEFAULT_RESOLUTION, MAX_RESOLUTION, MIN_RESOLUTION
from ..progress import ProgressBar, is_terminal
from .arguments import add_command, add_model_arguments
from .clean_request import check_arguments, clean_options

SUMMARY = "remove the captions from images"
DESCRIPTION = (
    "Remove the captions from meme images. Writes <name>.clean.png next to each input unless "
    "--output or --output-dir says otherwise; animated GIF/WebP stay animated."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "clean", SUMMARY, DESCRIPTION)
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="image files (PNG, JPEG, WebP, GIF, ...)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--output", "-o", metavar="FILE", help="output file, for a single input (.png, .jpg, .webp, .gif)"
    )
    where.add_argument("--output-dir", metavar="DIR", help="write DIR/<input name>.png for each input")
    parser.add_argument(
        "--mask-dir", metavar="DIR", help="also write the text mask (white = text) as DIR/<input name>.png"
    )
    parser.add_argument(
        "--resolution",
        type=int,
        default=DEFAULT_RESOLUTION,
        metavar="N",
        help=f"working size of the longest side, {MIN_RESOLUTION}..{MAX_RESOLUTION} "
        f"(default {DEFAULT_RESOLUTION}; a smaller picture is worked on at its own size); "
        "higher finds smaller text but is slower",
    )
    add_model_arguments(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files (never the inputs)")
    folder = parser.add_argument_group("a whole folder (with --input-dir)")
    folder.add_argument(
        "--input-dir",
        metavar="DIR",
        help="clean every image in DIR into --output-dir, keeping the subfolder tree; other files "
        "are skipped with a note",
    )
    folder.add_argument("--recursive", "-r", action="store_true", help="also clean the images in subfolders")
    folder.add_argument(
        "--resume",
        action="store_true",
        help="skip pictures whose output (and mask) already exist complete: continue a run that was interrupted",
    )
    folder.add_argument(
        "--manifest",
        metavar="FILE.jsonl",
        help="append one JSON line per picture (input, output, mask, size, working size, "
        "milliseconds, share replaced, status, error)",
    )
    folder.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=1,
        metavar="N",
        help="clean in N worker processes, each with its own model (default 1)",
    )
    folder.add_argument(
        "--threads",
        type=int,
        metavar="T",
        help="torch threads per process (default: the cores / N with --jobs N, else torch's "
        "default); outputs are byte-identical for the same T whatever N",
    )
    folder.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: processes on this machine (default); ray: Ray Data, on a local Ray started for "
        "the run or the cluster at --address, --jobs N actors (default one per CPU, or per GPU); "
        "needs pip install 'memeclean[cluster]'",
    )
    folder.add_argument(
        "--address", metavar="ADDR", help="with --engine ray: the Ray cluster to join (auto, or HOST:6379)"
    )
    parser.add_argument(
        "--use-library",
        action="store_true",
        help="when an input shows a template of your library (memeclean library), use that exact "
        "template, aligned to it, instead of the model's fill (still pictures)",
    )
    parser.add_argument(
        "--crop-bars",
        action="store_true",
        help="where the caption sits on a uniform white or black bar along the top or "
        "bottom edge, crop the bar off instead of filling it "
        "(the mask is then the cropped output's)",
    )
    parser.set_defaults(run=run, usage_error=parser.error)


# --------------------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------------------


def expand_inputs(inputs: list[str]) -> list[Path]:
    """The inputs as paths; wildcards the shell left alone (Windows' cmd does not expand them) are expanded here."""
    paths: list[Path] = []
    for text in inputs:
        if not os.path.exists(text) and any(char in text for char in "*?["):
            matches = sorted(glob.glob(text))
            if matches:
                paths.extend(Path(match) for match in matches)
                continue
        paths.append(Path(text))
    return paths


def output_extension(image) -> str:
    """.png for stills; an animation keeps a container that holds its frames (GIF/WebP as they came, else APNG)."""
    return cleaned_suffix(image.format, image.is_animated)


def output_path(source: Path, image, args: argparse.Namespace) -> Path:
    if args.output:
        return Path(args.output)
    extension = output_extension(image)
    if args.output_dir:
        return Path(args.output_dir) / f"{source.stem}{extension}"
    return source.with_name(f"{source.stem}.clean{extension}")


def mask_path(source: Path, args: argparse.Namespace) -> Path | None:
    return Path(args.mask_dir) / f"{source.stem}.png" if args.mask_dir else None


def run(args: argparse.Namespace) -> int:
    from ..files.safe_write import make_folder
    from .clean_folder import check_mode

    if check_mode(args):
        from .clean_folder import run_folder

        return run_folder(args)
    inputs = expand_inputs(args.inputs)
    check_arguments(args, inputs)
    if args.output:
        make_folder(Path(args.output).parent, "the --output folder")
    if args.output_dir:
        make_folder(Path(args.output_dir), "the --output-dir folder")
    if args.mask_dir:
        make_folder(Path(args.mask_dir), "the --mask-dir folder")

    from ..network.checkpoint import load_model

    model = load_model(args.model, device=args.device, runtime=args.runtime)  # once; ModelLoadError ends the run
    if model.note:
        print(f"memeclean: note: {model.note}", file=sys.stderr)
    library = None
    if getattr(args, "use_library", False):
        from ..library import TemplateLibrary

        library = TemplateLibrary()
    methods: dict[str, str] = {}  # input -> how it was cleaned: "model" or "library #ID NAME" (for a manifest)

    # Over the files, redrawn per frame on a terminal; in a log one line per file. One file in a log: no bar.
    bar = ProgressBar(sys.stderr, enabled=is_terminal(sys.stderr) or len(inputs) > 1)
    count = len(inputs)
    protect = list(inputs)
    written: dict[str, Path] = {}  # outputs of this run -> the input they came from
    cleaned = 0
    last_output: Path | None = None
    try:
        for index, source in enumerate(inputs):
            bar.update(index / count, f"{index + 1}/{count} {source.name}", force=True)
            try:
                last_output = clean_file(
                    source,
                    args,
                    model,
                    protect,
                    written,
                    progress=lambda fraction, i=index, name=source.name: bar.update(
                        (i + fraction) / count, f"{i + 1}/{count} {name}"
                    ),
                    note=bar.message,
                    library=library,
                    used=methods,
                )
                cleaned += 1
            except MemeCleanError as error:
                bar.message(f"memeclean: {_message_for(source, error)}")
            except MemoryError:
                bar.message(f"memeclean: {source}: not enough memory to clean it (try a lower --resolution)")
            except Exception as error:  # noqa: BLE001 - a bug or a device failure: report it for this file, go on with the rest
                bar.message(f"memeclean: {source}: unexpected error: {describe_unexpected(error)}")
        bar.update(1.0, f"{count}/{count} done", force=True)
    finally:
        bar.clear()

    noun = "file" if len(inputs) == 1 else "files"
    summary = f"cleaned {cleaned} of {len(inputs)} {noun}"
    from_library = sum(method.startswith("library") for method in methods.values())
    if library is not None:
        summary += f" ({from_library} with a library template)"
    if len(inputs) == 1 and cleaned == 1 and last_output is not None:
        summary += f": wrote {last_output}"
    print(summary)
    return 0 if cleaned == len(inputs) else 1


def _message_for(source: Path, error: Exception) -> str:
    """`<file>: <message>`, without naming the file twice when the message already quotes it."""
    message = str(error)
    if f"'{source}'" in message:
        return message
    return f"{source}: {message}"


def clean_file(
    source: Path,
    args: argparse.Namespace,
    model,
    protect: list[Path],
    written: dict[str, Path],
    progress: Callable[[float], None] | None = None,
    note: Callable[[str], None] | None = None,
    library=None,
    used: dict[str, str] | None = None,
) -> Path:
    """Load, check the targets, clean every frame, save the image (and the mask). Returns the output path.

    With a `library` (a TemplateLibrary), a still picture that shows one of its templates gets that template,
    aligned to it, and the caption mask from the difference; `used[str(source)]` records which way it was cleaned.
    """
    from ..cleaning.whole_image import clean_image
    from ..files.imageio import Frame, check_target, load_image, save_image, save_mask

    image = load_image(source)
    output = output_path(source, image, args)
    mask_output = mask_path(source, args)

    # Refuse before the (slow) cleaning: inputs, outputs of this run, existing files without --overwrite.
    targets = [output] + ([mask_output] if mask_output is not None else [])
    for target in targets:
        earlier = written.get(path_key(target))
        if earlier is not None:
            raise MemeCleanError(
                f"'{target}' was already written for '{earlier}' in this run; rename one of the inputs"
            )
        if target.exists() and not args.overwrite and not any(same_file(target, p) for p in protect):
            raise MemeCleanError(f"'{target}' already exists (use --overwrite to replace it)")
        check_target(target, overwrite=args.overwrite, protect=protect)
    if image.is_animated and output.suffix.lower() in (".jpg", ".jpeg") and note is not None:
        note(f"memeclean: note: a JPEG holds one frame; only the first frame of '{source}' is kept")

    first_only = output.suffix.lower() in (".jpg", ".jpeg")
    found = None  # a library template is looked for in still pictures (a JPEG output keeps one frame)
    if library is not None and (first_only or len(image.frames) == 1):
        found = library.match(image.frames[0].pixels)
    if used is not None:
        used[str(source)] = f"library #{found.entry.id} {found.entry.name}" if found is not None else "model"
    bars = None
    if found is not None:
        frame = image.frames[0]
        cleaned, first_mask = image.with_frames([Frame(found.clean, frame.alpha, frame.duration_ms)]), found.mask
        if note is not None:
            note(f"memeclean: {source}: used library template {found.entry.describe()}")
    else:
        result = clean_image(
            image,
            replace(clean_options(args), first_frame_only=first_only),
            model,
            progress=None if progress is None else lambda fraction, text: progress(fraction),
        )
        cleaned, first_mask, bars = result.image, result.mask, result.bars

    if bars and note is not None:
        note(f"memeclean: {source}: cropped caption bars ({bars.top} rows at the top, {bars.bottom} at the bottom)")
    save_image(output, cleaned, overwrite=args.overwrite, protect=protect)
    written[path_key(output)] = source
    if mask_output is not None:
        save_mask(mask_output, first_mask, overwrite=args.overwrite, protect=protect)
        written[path_key(mask_output)] = source
    return output
