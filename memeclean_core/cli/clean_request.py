"""What both modes of `memeclean clean` (files, `clean.py`; a folder, `clean_folder.py`) share: the clean the
command line asks for and the checks of its options, made before anything is loaded."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cleaning.options import CleanOptions
from ..errors import MemeCleanError
from ..files.filenames import SAVE_FORMATS, path_key
from ..geometry import MAX_RESOLUTION, MIN_RESOLUTION


def clean_options(args: argparse.Namespace) -> CleanOptions:
    """The clean the command line asks for, the same for one file and for a folder."""
    return CleanOptions(resolution=args.resolution, crop_bars=getattr(args, "crop_bars", False))


def check_arguments(args: argparse.Namespace, inputs: list[Path]) -> None:
    """Refuse a bad command line at once, before the model is loaded."""
    if not MIN_RESOLUTION <= args.resolution <= MAX_RESOLUTION:
        raise MemeCleanError(
            f"--resolution must be between {MIN_RESOLUTION} and {MAX_RESOLUTION}, got {args.resolution}"
        )
    if args.output and len(inputs) > 1:
        raise MemeCleanError(f"--output names one file but {len(inputs)} inputs were given; use --output-dir DIR")
    if args.output:
        output = Path(args.output)
        if output.suffix.lower() not in SAVE_FORMATS:
            shown = f"'{output.suffix}'" if output.suffix else "no extension"
            raise MemeCleanError(f"--output '{output}' has {shown}; use one of {', '.join(SAVE_FORMATS)}")
    if args.mask_dir and args.output_dir and path_key(Path(args.mask_dir)) == path_key(Path(args.output_dir)):
        raise MemeCleanError("--mask-dir and --output-dir must be different folders (both name files <input>.png)")
