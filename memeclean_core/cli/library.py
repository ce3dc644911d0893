"""`memeclean library`: the template library from the command line.

    memeclean library add FILE... [--name NAME] [--tag TAG]...
    memeclean library list [SEARCH] [--tag TAG]
    memeclean library match MEME [--output FILE] [--mask FILE] [--overwrite]
    memeclean library remove ID...
    memeclean library export (ID... | --all) --output-dir DIR [--overwrite]
    memeclean library check [--repair]

`--library DIR` works on another library folder than the user's (<user data>/library). `match` exits 0 and prints
the entry when MEME shows a library template, 1 when none matches. Whatever opening the library healed (an
unreadable database rebuilt from the pictures, an interrupted add or remove settled) is said first, one line each
on stderr (`memeclean: note: ...`). `check` exits 0 when the library is whole (or `--repair` made it so), 1 when
it lists problems.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import MemeCleanError
from .arguments import add_command

if TYPE_CHECKING:
    from ..library import LibraryEntry

T = TypeVar("T")

SUMMARY = "your template library: add, list, match, remove, export, check"
DESCRIPTION = "The template library: clean templates you saved, found again in memes made from them."


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "library", SUMMARY, DESCRIPTION)
    parser.add_argument("--library", metavar="DIR", help="library folder (default: your MemeClean data folder)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add clean templates (picture files)")
    add.add_argument("files", nargs="+", metavar="FILE")
    add.add_argument("--name", help="the name (one file only; default: the file name)")
    add.add_argument("--tag", action="append", default=[], metavar="TAG", help="a tag (repeat for more)")
    add.set_defaults(run=run_add)

    listing = actions.add_parser("list", help="list the templates, newest first")
    listing.add_argument("search", nargs="?", default="", help="words that the name or tags must hold")
    listing.add_argument("--tag", help="only templates with this tag")
    listing.set_defaults(run=run_list)

    match = actions.add_parser("match", help="find the template a meme was made from (exit 1: none)")
    match.add_argument("meme", metavar="MEME")
    match.add_argument("--output", "-o", metavar="FILE", help="write the template, aligned to the meme, to FILE")
    match.add_argument("--mask", metavar="FILE", help="write the caption mask (white = text) to FILE (.png)")
    match.add_argument("--overwrite", action="store_true", help="replace existing output files")
    match.set_defaults(run=run_match)

    remove = actions.add_parser("remove", help="delete templates by id")
    remove.add_argument("ids", nargs="+", type=int, metavar="ID")
    remove.set_defaults(run=run_remove)

    export = actions.add_parser("export", help="write templates to a folder as <name>.png")
    export.add_argument("ids", nargs="*", type=int, metavar="ID")
    export.add_argument("--all", action="store_true", help="every template")
    export.add_argument("--output-dir", required=True, metavar="DIR")
    export.add_argument("--overwrite", action="store_true", help="replace existing files")
    export.set_defaults(run=run_export)

    check = actions.add_parser("check", help="compare the database with the pictures; --repair fixes what it finds")
    check.add_argument("--repair", action="store_true", help="rebuild, re-index, drop rows of lost pictures")
    check.set_defaults(run=run_check)


def _library(args: argparse.Namespace):
    from ..library import TemplateLibrary

    library = TemplateLibrary(Path(args.library) if args.library else None)
    for note in library.open_checked():
        print(f"memeclean: note: {note}", file=sys.stderr)
    return library


def run_check(args: argparse.Namespace) -> int:
    library = _library(args)
    report = library.check(repair=args.repair)
    for line in report.problems:
        print(f"problem: {line}")
    for line in report.repaired[len(library.notes) :] if args.repair else ():
        print(f"repaired: {line}")
    state = "whole" if report.healthy else ("repaired" if args.repair else "has problems (run with --repair)")
    print(f"library '{library.folder}': {report.entries} template(s), {state}")
    return 0 if report.healthy or args.repair else 1


def run_add(args: argparse.Namespace) -> int:
    if args.name and len(args.files) > 1:
        raise MemeCleanError("--name names one template but several files were given")
    library = _library(args)
    return _each(args.files, lambda file: library.add_file(Path(file), name=args.name, tags=args.tag), "added")


def run_list(args: argparse.Namespace) -> int:
    library = _library(args)
    entries = library.entries(search=args.search, tag=args.tag)
    if not entries:
        total = len(library)
        print("the library is empty" if total == 0 else f"no template matches (of {total})")
        return 0
    for entry in entries:
        date = time.strftime("%Y-%m-%d", time.localtime(entry.created))
        tags = ", ".join(entry.tags)
        shown_tags = f"  [{tags}]" if tags else ""
        print(f"{entry.id:>5}  {date}  {entry.width:>5}×{entry.height:<5}  {entry.name}{shown_tags}")
    return 0


def run_match(args: argparse.Namespace) -> int:
    from ..files.imageio import check_target, load_image, save_image, save_mask

    meme = Path(args.meme)
    protect = [meme]
    for target in (args.output, args.mask):
        if target:
            check_target(Path(target), overwrite=args.overwrite, protect=protect)
    if args.mask and Path(args.mask).suffix.lower() != ".png":
        raise MemeCleanError(f"--mask '{args.mask}': a mask is saved as .png")
    image = load_image(meme)
    found = _library(args).match(image.rgb)
    if found is None:
        print(f"no library template matches '{meme}'")
        return 1
    print(f"'{meme}' is {found.describe()}")
    if args.output:
        save_image(Path(args.output), found.clean, overwrite=args.overwrite, protect=protect)
        print(f"wrote {args.output}")
    if args.mask:
        save_mask(Path(args.mask), found.mask, overwrite=args.overwrite, protect=protect)
        print(f"wrote {args.mask}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    return _each(args.ids, _library(args).remove, "removed")


def _each(items: Sequence[T], action: Callable[[T], LibraryEntry], done: str) -> int:
    """Do `action` to every item, saying `<done> <entry>` for each; one that fails is reported and the others go
    on. The exit status: 1 if any failed."""
    failed = 0
    for item in items:
        try:
            entry = action(item)
        except MemeCleanError as error:
            print(f"memeclean: {error}", file=sys.stderr)
            failed += 1
            continue
        print(f"{done} {entry.describe()}")
    return 1 if failed else 0


def run_export(args: argparse.Namespace) -> int:
    from ..files.filenames import safe_name

    if not args.all and not args.ids:
        raise MemeCleanError("name the templates to export by id, or use --all")
    library = _library(args)
    entries = library.entries() if args.all else [library.get(entry_id) for entry_id in args.ids]
    folder = Path(args.output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MemeCleanError(
            f"cannot create the --output-dir folder '{folder}': {(error.strerror or str(error)).lower()}"
        ) from None
    used: set[str] = set()
    failed = 0
    for entry in entries:
        stem = safe_name(entry.name)
        if stem.lower() in used:  # two templates of one name: the id tells them apart
            stem = f"{stem}-{entry.id}"
        used.add(stem.lower())
        try:
            path = library.export(entry.id, folder / f"{stem}.png", overwrite=args.overwrite)
        except MemeCleanError as error:
            print(f"memeclean: {error}", file=sys.stderr)
            failed += 1
            continue
        print(f"wrote {path}")
    if not entries:
        print("the library is empty: nothing to export")
    return 1 if failed else 0
