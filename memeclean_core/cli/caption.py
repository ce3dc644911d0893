"""`memeclean caption`: write captions onto a template (or re-render a saved caption project).

    memeclean caption template.png --top "TOP TEXT" --bottom "BOTTOM TEXT" --output meme.png
    memeclean caption template.png --box "0.1,0.4,0.8,0.2:MIDDLE" --font "DejaVu Sans Bold" -o meme.png
    memeclean caption template.memeclean.json --output meme.png      # a saved project, boxes and all

A --box is "x,y,w,h:TEXT": fractions of the image when all four numbers are at most 1, pixels otherwise.
In TEXT, a literal "\\n" starts a new line.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .arguments import add_command

if TYPE_CHECKING:
    from ..captions import TextBox

BoxSpec = tuple[tuple[float, float, float, float], str]  # (x, y, w, h) as typed, text


def parse_box(spec: str) -> BoxSpec:
    """Parse "x,y,w,h:TEXT" (argparse type); raises ArgumentTypeError with the reason."""
    geometry, colon, text = spec.partition(":")
    if not colon:
        raise argparse.ArgumentTypeError(f"expected x,y,w,h:TEXT, got {spec!r}")
    parts = geometry.split(",")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"box position must be four numbers x,y,w,h, got {geometry!r}") from None
    if len(values) != 4 or not all(math.isfinite(value) for value in values):
        raise argparse.ArgumentTypeError(f"box position must be four numbers x,y,w,h, got {geometry!r}")
    if values[2] <= 0 or values[3] <= 0:
        raise argparse.ArgumentTypeError(f"box width and height must be positive, got {geometry!r}")
    return (values[0], values[1], values[2], values[3]), text


SUMMARY = "write captions on a template image"
DESCRIPTION = "Write captions onto a template image, or re-render a saved caption project."
EPILOG = (
    "A --box is x,y,w,h:TEXT, fractions of the image (all four at most 1) or pixels; "
    "a literal \\n in TEXT starts a new line."
)


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "caption", SUMMARY, DESCRIPTION, epilog=EPILOG)
    parser.add_argument("image", type=Path, help="template image, or a .memeclean.json caption project")
    for edge in ("top", "bottom"):  # the two classic captions
        parser.add_argument(f"--{edge}", metavar="TEXT", help=f"classic {edge} caption")
    parser.add_argument(
        "--box",
        metavar="X,Y,W,H:TEXT",
        type=parse_box,
        action="append",
        default=[],
        help="a caption in a box of its own (repeatable)",
    )
    parser.add_argument(
        "--font",
        metavar="NAME",
        default="",
        help="font family name or font file for the captions given here (default: bundled Anton)",
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="image file to write (.png, .jpg, .webp, .gif)"
    )
    parser.add_argument("--project", type=Path, metavar="FILE", help="also save an editable caption project (JSON)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output (and --project) file; never the template or project read",
    )
    parser.set_defaults(run=run)


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n")


def _boxes_from_args(args: argparse.Namespace, image_size: tuple[int, int]) -> list[TextBox]:
    """The boxes asked for on the command line; --box pixels become fractions of `image_size` (width, height)."""
    from ..captions import TextBox, classic

    font = args.font or ""
    boxes: list[TextBox] = []
    top, bottom = classic(_unescape(args.top or ""), _unescape(args.bottom or ""))
    for given, box in ((args.top, top), (args.bottom, bottom)):
        if given is not None:
            boxes.append(replace(box, font=font))
    width, height = image_size
    for (x, y, w, h), text in args.box:
        if max(x, y, w, h) > 1:  # pixels
            x, y, w, h = x / width, y / height, w / width, h / height
        boxes.append(TextBox(x=x, y=y, w=w, h=h, text=_unescape(text), font=font).check_limits())
    return boxes


def run(args: argparse.Namespace) -> int:
    from ..captions import CaptionDoc, CaptionError, find_font, load_project, save_project
    from ..cleaning.whole_image import captioned
    from ..files.filenames import same_file
    from ..files.imageio import check_target, load_image, save_image

    if args.font:
        find_font(args.font)  # an unknown font is an error here, not a silent fallback
    doc = load_project(args.image) if args.image.name.lower().endswith(".json") else CaptionDoc(template=args.image)
    # Both outputs are checked before anything is drawn or written: neither is ever an input, nor an existing
    # file without --overwrite, nor the other output.
    inputs = [doc.template, args.image]
    check_target(args.output, overwrite=args.overwrite, protect=inputs)
    if args.project is not None:
        if same_file(args.project, args.output):
            raise CaptionError(f"--project and --output name the same file '{args.output}'")
        if args.project.parent.is_dir():  # save_project makes a missing folder
            check_target(args.project, overwrite=args.overwrite, protect=inputs)
    image = load_image(doc.template)
    doc.boxes.extend(_boxes_from_args(args, (image.width, image.height)))
    if not any(box.text.strip() for box in doc.boxes):
        raise CaptionError("nothing to write: give --top, --bottom or --box with some text")

    written = save_image(
        args.output, captioned(image, doc.boxes), overwrite=args.overwrite, protect=[doc.template, args.image]
    )
    print(f"wrote {written}")
    if args.project is not None:
        print(f"saved project {save_project(doc, args.project, overwrite=args.overwrite, protect=inputs + [written])}")
    return 0
