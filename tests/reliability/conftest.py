"""Helpers of the bad-input suite: run a command in-process, check that it refused in one line, and prove that no
file was created, truncated or overwritten (every file's bytes and modification time, before and after)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.cli import main

from ..conftest import TINY_CONFIG  # noqa: F401 - the reliability tests import it from here

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_cli(capsys, *args: object) -> Outcome:
    """`memeclean ARGS` in this process; argparse's exit becomes the exit status."""
    capsys.readouterr()
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def run_subprocess(
    *args: object,
    timeout: float = 120,
    fsize: int | None = None,
    env: dict | None = None,
) -> Outcome:
    """`python -m memeclean_core ARGS` in a child, optionally under a file-size limit (a full disk without root)."""
    preexec = None
    if fsize is not None:
        import resource

        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    environment = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", **(env or {}))
    done = subprocess.run(
        [sys.executable, "-m", "memeclean_core", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
        env=environment,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_refused(outcome: Outcome, *fragments: str, code: int = 1) -> str:
    """Exit status `code`, exactly one line on stderr, no traceback, every fragment in that line."""
    assert "Traceback" not in outcome.err + outcome.out, outcome.err
    assert outcome.code == code, (outcome.code, outcome.err)
    lines = outcome.err_lines
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under `root` (hidden ones too): size, mtime and a hash of its bytes."""
    state = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if not path.is_file():
                state[str(path.relative_to(root))] = (-1, 0, "special")
                continue
            data = path.read_bytes()
            state[str(path.relative_to(root))] = (len(data), path.stat().st_mtime_ns, hashlib.sha1(data).hexdigest())
    return state


def make_picture(path: Path, size: tuple[int, int] = (64, 48), seed: int = 0) -> Path:
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A folder with a picture in it; tests compare its snapshot before and after."""
    make_picture(tmp_path / "meme.png")
    return tmp_path


def no_temporaries(root: Path) -> bool:
    from memeclean_core.files.safe_write import TEMP_SUFFIX

    return not [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIX) or p.name.endswith(".tmp")]
