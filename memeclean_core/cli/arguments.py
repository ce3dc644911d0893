"""The arguments every front end's parser shares: a sub-command's parser (`add_command`) and `--model`, `--device`,
`--runtime` (`add_model_arguments`: `memeclean clean|eval|selftest` and `memeclean-gui` take the same)."""

from __future__ import annotations

import argparse
from typing import Any

DEVICES = ("auto", "cpu", "cuda", "mps")  # `device.pick_device`'s choices


def add_command(
    subparsers: Any, name: str, summary: str, description: str | None = None, epilog: str | None = None
) -> argparse.ArgumentParser:
    """The parser of the sub-command `name`: `summary` is its line in `memeclean --help`, `description` and
    `epilog` frame its own --help. Each `cli/<name>.py` keeps these texts as constants at its top."""
    return subparsers.add_parser(name, help=summary, description=description, epilog=epilog)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, --device and --runtime, the same for every command that runs the network."""
    from ..network.runtime import DEFAULT_RUNTIME, RUNTIMES

    parser.add_argument("--model", metavar="WEIGHTS", help="weights file (default: the bundled model)")
    parser.add_argument(
        "--device",
        default="auto",
        choices=DEVICES,
        help="where the network runs (default: auto, a GPU when there is one)",
    )
    parser.add_argument(
        "--runtime",
        default=DEFAULT_RUNTIME,
        choices=RUNTIMES,
        help="what runs the network: openvino (CPU only, about twice as fast), torch, or auto (default: OpenVINO "
        "on the CPU when it is installed and works, else torch with a note)",
    )
