"""`memeclean` command line: a thin layer over the core; each sub-command lives in its own module.

Heavy modules (torch) are imported inside the commands, so `memeclean --help` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from ..errors import MemeCleanError, first_line

# sub-command name -> module with `register(subparsers)`; registration sets `run(args) -> int`
COMMANDS = ["clean", "train", "eval", "prepare", "caption", "selftest", "library"]


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (exit status 2): the usage block is what --help is for."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="memeclean", description="Remove meme captions and recaption templates.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"memeclean_core.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"memeclean_core.cli.{name}":
                raise
            continue  # a sub-command not written yet is simply not offered
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("memeclean: interrupted", file=sys.stderr)
        return 130
    except MemeCleanError as error:
        print(f"memeclean: {first_line(error, type(error).__name__)}", file=sys.stderr)
        return 1
    except MemoryError:
        print("memeclean: not enough memory for this", file=sys.stderr)
        return 1
    except OSError as error:  # a file system failure no command foresaw: still one line, naming the file
        from ..files.safe_write import os_reason

        where = f"'{error.filename}': " if getattr(error, "filename", None) else ""
        print(f"memeclean: {where}{os_reason(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
