"""Files written by a newer MemeClean: settings, caption projects, checkpoints (the template library's database is
in test_library_faults.py). Each is refused in one line that names its format, and is never written or
downgraded."""

from __future__ import annotations

import json
import logging

import pytest
import torch

from memeclean_core.network.model import MemeCleanNet, UNetConfig
from memeclean_core.network.weights import FORMAT
from memeclean_gui.model.settings import SCHEMA_VERSION, Settings

from .conftest import assert_refused, make_picture, run_cli, snapshot
from .test_bad_train import train

NEWER_SETTINGS = 7


@pytest.fixture
def newer_settings(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": NEWER_SETTINGS, "values": {"resolution": 768, "future": [1, 2]}}))
    return path


def test_settings_from_a_newer_version_are_not_read_and_the_line_names_the_version(newer_settings, caplog):
    with caplog.at_level(logging.WARNING):
        settings = Settings.load(newer_settings)
    assert settings.newer_format == NEWER_SETTINGS and settings.resolution == 512
    (line,) = [record.getMessage() for record in caplog.records]
    assert f"format {NEWER_SETTINGS}" in line and "newer MemeClean" in line and "\n" not in line


@pytest.mark.parametrize(
    "change",
    [
        lambda settings: settings.update(resolution=640),
        lambda settings: settings.reset(),
        lambda settings: settings.save(),
        lambda settings: settings.add_recent_file(settings.path.parent / "meme.png"),
    ],
    ids=["update", "reset", "save", "recent-file"],
)
def test_settings_from_a_newer_version_are_never_written(newer_settings, change):
    before = snapshot(newer_settings.parent)
    settings = Settings.load(newer_settings)
    change(settings)
    assert snapshot(newer_settings.parent) == before


def test_a_newer_version_that_writes_while_this_app_runs_is_not_downgraded(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings.load(path)
    settings.update(resolution=640)
    path.write_text(json.dumps({"schema_version": NEWER_SETTINGS, "values": {}}))  # a newer app saved meanwhile
    before = snapshot(tmp_path)
    settings.update(brush_size=10)
    assert snapshot(tmp_path) == before and settings.newer_format == NEWER_SETTINGS


def test_two_apps_saving_settings_keep_each_others_changes(tmp_path):
    path = tmp_path / "settings.json"
    first, second = Settings.load(path), Settings.load(path)
    first.update(resolution=640)
    second.update(brush_size=40)
    first.update(show_mask=False)
    values = json.loads(path.read_text())["values"]
    assert (values["resolution"], values["brush_size"], values["show_mask"]) == (640, 40, False)
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


# -- caption projects ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["project", "--project"])
def test_a_caption_project_from_a_newer_version_is_refused_and_kept(workdir, capsys, where):
    project = workdir / "p.memeclean.json"
    project.write_text(json.dumps({"format": "memeclean-captions", "version": 5, "template": "meme.png", "boxes": []}))
    before = snapshot(workdir)
    if where == "project":
        outcome = run_cli(capsys, "caption", project, "-o", workdir / "out.png")
    else:  # asked to save a project over it: refused as an existing file, never rewritten
        outcome = run_cli(capsys, "caption", project, "--project", project, "-o", workdir / "out.png")
    line = assert_refused(outcome)
    assert ("format 5" in line and "newer MemeClean" in line) or "p.memeclean.json" in line
    assert snapshot(workdir) == before


# -- checkpoints -----------------------------------------------------------------------------------------------------


def newer_checkpoint(path, number: int = 3):
    net = MemeCleanNet(UNetConfig.tiny())
    payload = {
        "format": FORMAT.replace("-v1", f"-v{number}"),
        "config": net.config.to_dict(),
        "model": net.state_dict(),
        "train": {"step": 3, "elapsed": 1.0, "optimiser": None, "config": {}},
    }
    torch.save(payload, path)
    return path


@pytest.fixture
def training(tmp_path):
    make_picture(tmp_path / "data" / "images" / "a.jpg", size=(96, 80))
    return tmp_path / "data"


CHECKPOINT_COMMANDS = [
    lambda tmp_path, weights, capsys, training: run_cli(capsys, "clean", tmp_path / "meme.png", "--model", weights),
    lambda tmp_path, weights, capsys, training: run_cli(capsys, "selftest", "--model", weights),
    lambda tmp_path, weights, capsys, training: train(capsys, training, tmp_path / "new.pt", "--resume", weights),
    lambda tmp_path, weights, capsys, training: train(capsys, training, weights, "--resume", weights, "--overwrite"),
]


@pytest.mark.parametrize(
    "command", CHECKPOINT_COMMANDS, ids=["clean", "selftest", "train-resume", "train-resume-in-place"]
)
def test_a_checkpoint_from_a_newer_version_is_refused_naming_its_format(tmp_path, capsys, training, command):
    make_picture(tmp_path / "meme.png")
    weights = newer_checkpoint(tmp_path / "future.pt")
    before = snapshot(tmp_path)
    outcome = command(tmp_path, weights, capsys, training)
    assert_refused(outcome, "checkpoint format 3", "newer MemeClean", "future.pt")
    assert snapshot(tmp_path) == before


def test_a_checkpoint_of_an_older_or_unknown_format_is_not_called_newer(tmp_path, capsys):
    make_picture(tmp_path / "meme.png")
    weights = newer_checkpoint(tmp_path / "old.pt", number=0)
    line = assert_refused(run_cli(capsys, "clean", tmp_path / "meme.png", "--model", weights))
    assert "not a MemeClean checkpoint" in line and "newer" not in line
