"""What every benchmark starts with: `from _common import ROOT` puts the repository root on sys.path, so
`python bench/<name>.py` runs from a checkout without installing MemeClean; ROOT is that root (for the files a
benchmark reads, writes or hands to a child process). `arguments(__doc__)` is the command line with the
docstring's first paragraph as its description."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def arguments(doc: str | None, **options) -> argparse.ArgumentParser:
    """An ArgumentParser described by the first paragraph of `doc` (a benchmark's module docstring)."""
    return argparse.ArgumentParser(description=(doc or "").split("\n\n")[0], **options)
