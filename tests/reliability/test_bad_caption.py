"""`memeclean caption` and caption projects: every field checked (finite, sane sizes relative to the picture), the
template and the project read are never written, existing files only with --overwrite; one line, nothing written."""

from __future__ import annotations

import json
import os

import pytest

from memeclean_core.captions import CaptionError, TextBox, compose_overlay
from memeclean_core.captions.fonts import load_font

from .conftest import assert_refused, run_cli, snapshot


def project(folder, **box_fields):
    box = {"x": 0.1, "y": 0.1, "w": 0.8, "h": 0.3, "text": "HELLO"}
    box.update(box_fields)
    path = folder / "meme.memeclean.json"
    path.write_text(
        json.dumps(
            {"format": "memeclean-captions", "version": 1, "template": "meme.png", "boxes": [box]}, allow_nan=True
        )
    )
    return path


BAD_FIELDS = [
    {"x": 1e9},
    {"x": -50.0},
    {"y": 1e300},
    {"w": 0},
    {"w": -0.5},
    {"w": 1e6},
    {"h": 0},
    {"h": 1e12},
    {"size": 1e4},
    {"size": 0},
    {"size": -1},
    {"outline_width": 1e6},
    {"outline_width": -1},
    {"rotation": 1e300},
    {"line_spacing": 0},
    {"line_spacing": 1e9},
    {"x": float("nan")},
    {"w": float("inf")},
    {"fill": "red"},
    {"outline": "#12345"},
    {"align": "middle"},
    {"valign": "centre"},
    {"uppercase": "yes"},
    {"text": 5},
    {"font": ["Anton"]},
    {"x": "0.1"},
    {"size": True},
]


@pytest.mark.parametrize("fields", BAD_FIELDS, ids=[str(f) for f in BAD_FIELDS])
def test_bad_project_fields_are_refused(workdir, capsys, fields):
    path = project(workdir, **fields)
    before = snapshot(workdir)
    outcome = run_cli(capsys, "caption", path, "-o", workdir / "out.png")
    assert_refused(outcome, next(iter(fields)))
    assert snapshot(workdir) == before


BAD_DOCUMENTS = [
    ({"format": "memeclean-captions", "version": 99, "template": "meme.png", "boxes": []}, "newer"),
    ({"format": "something", "version": 1, "template": "meme.png", "boxes": []}, "not a MemeClean caption project"),
    ({"format": "memeclean-captions", "version": 1, "template": "meme.png", "boxes": {"a": 1}}, "list"),
    ({"format": "memeclean-captions", "version": 1, "template": "gone.png", "boxes": []}, "not found"),
    ({"format": "memeclean-captions", "version": 1, "template": 42, "boxes": []}, "names no template"),
    ([1, 2, 3], "not a MemeClean caption project"),
]


@pytest.mark.parametrize("document, reason", BAD_DOCUMENTS, ids=[r for _, r in BAD_DOCUMENTS])
def test_bad_project_documents_are_refused(workdir, capsys, document, reason):
    path = workdir / "p.memeclean.json"
    path.write_text(json.dumps(document))
    before = snapshot(workdir)
    assert_refused(run_cli(capsys, "caption", path, "-o", workdir / "out.png"), reason)
    assert snapshot(workdir) == before


@pytest.mark.parametrize(
    "text, reason", [("{not json", "not valid JSON"), ("[" * 100000, "caption project"), ("\udcff", "not valid JSON")]
)
def test_unreadable_project_files_are_refused(workdir, capsys, text, reason):
    path = workdir / "p.memeclean.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    before = snapshot(workdir)
    assert_refused(run_cli(capsys, "caption", path, "-o", workdir / "out.png"), reason)
    assert snapshot(workdir) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_project_that_is_a_named_pipe_is_not_read(workdir, capsys):
    os.mkfifo(workdir / "p.memeclean.json")
    assert_refused(run_cli(capsys, "caption", workdir / "p.memeclean.json", "-o", workdir / "out.png"), "named pipe")
    assert not (workdir / "out.png").exists()


def test_an_existing_project_is_not_overwritten_unasked(workdir, capsys):
    (workdir / "old.memeclean.json").write_text("someone's project")
    before = snapshot(workdir)
    outcome = run_cli(
        capsys,
        "caption",
        workdir / "meme.png",
        "--top",
        "HI",
        "-o",
        workdir / "out.png",
        "--project",
        workdir / "old.memeclean.json",
    )
    assert_refused(outcome, "already exists")
    assert snapshot(workdir) == before  # and the image was not written either


def test_the_project_is_never_written_over_the_template(workdir, capsys):
    before = snapshot(workdir)
    outcome = run_cli(
        capsys,
        "caption",
        workdir / "meme.png",
        "--top",
        "HI",
        "-o",
        workdir / "out.png",
        "--project",
        workdir / "meme.png",
        "--overwrite",
    )
    assert_refused(outcome, "input file")
    assert snapshot(workdir) == before


def test_the_project_read_is_never_written(workdir, capsys):
    path = project(workdir)
    before = snapshot(workdir)
    outcome = run_cli(capsys, "caption", path, "-o", workdir / "out.png", "--project", path, "--overwrite")
    assert_refused(outcome, "input file")
    assert snapshot(workdir) == before


def test_project_and_output_must_differ(workdir, capsys):
    before = snapshot(workdir)
    outcome = run_cli(
        capsys,
        "caption",
        workdir / "meme.png",
        "--top",
        "HI",
        "-o",
        workdir / "out.png",
        "--project",
        workdir / "out.png",
    )
    assert_refused(outcome, "same file")
    assert snapshot(workdir) == before


@pytest.mark.parametrize("output", ["meme.png", "out.png"])
def test_the_output_is_never_the_template_nor_an_existing_file(workdir, capsys, output):
    (workdir / "out.png").write_bytes((workdir / "meme.png").read_bytes())
    before = snapshot(workdir)
    assert_refused(
        run_cli(capsys, "caption", workdir / "meme.png", "--top", "HI", "-o", workdir / output), "cannot write"
    )
    assert snapshot(workdir) == before


@pytest.mark.parametrize("box", ["0,0,64000000,48:HUGE", "100000,0,10,10:FAR", "0,0,1e9,1e9:X"])
def test_huge_boxes_on_the_command_line_are_refused(workdir, capsys, box):
    before = snapshot(workdir)
    assert_refused(
        run_cli(capsys, "caption", workdir / "meme.png", "--box", box, "-o", workdir / "out.png"), "text box"
    )
    assert snapshot(workdir) == before


def test_a_box_of_fields_in_range_renders(workdir, capsys):
    outcome = run_cli(
        capsys, "caption", project(workdir, w=3.0, h=3.0, x=-1.0, y=-1.0, outline_width=1.0), "-o", workdir / "out.png"
    )
    assert outcome.code == 0, outcome.err


def test_a_huge_font_size_is_not_called_an_unreadable_font():
    with pytest.raises(CaptionError, match="too large") as caught:
        load_font(str(__import__("memeclean_core.captions.fonts", fromlist=["x"]).default_font_path()), 10**7)
    assert "cannot read font" not in str(caught.value)


def test_a_box_made_in_code_larger_than_the_limits_still_renders_bounded():
    """The app builds boxes in code (no limits check): the renderer caps the font size instead of failing."""
    overlay = compose_overlay([TextBox(w=2.5, h=2.5, x=-0.5, y=-0.5, text="HI")], (60, 40))
    assert overlay.size == (60, 40)
