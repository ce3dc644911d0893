"""Model ▸ Train…: the dialog drives the core trainer in a worker on a tiny network and generated pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.network.checkpoint import load_model
from memeclean_core.network.model import UNetConfig
from memeclean_core.network.weights import read_checkpoint
from memeclean_core.resources import bundled_model_path, user_models_dir
from memeclean_gui.jobs.train import inspect_data_folder, prepared_copy_dir
from memeclean_gui.views.train_dialog import TrainDialog

from ..conftest import make_meme

# A few thousand parameters, 64-pixel crops, no data-loading processes: a step takes milliseconds.
TINY = dict(
    model=UNetConfig.tiny().to_dict(),
    batch=2,
    crop=64,
    min_side=96,
    max_side=160,
    workers=0,
    progress_every=1,
    preview_every=2,
    warmup_steps=0,
    lr=5e-3,
)


def write_pictures(folder: Path, count: int, size=(200, 150)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        _, template, _ = make_meme(*size, seed=number)
        Image.fromarray(template).save(folder / f"picture{number}.png")
    return folder


@pytest.fixture
def prepared(tmp_path) -> Path:
    """A prepared data folder: images/ for training, val/images/ held out."""
    root = tmp_path / "prepared"
    write_pictures(root / "images", 2)
    write_pictures(root / "val" / "images", 1)
    return root


@pytest.fixture
def dialog(qtbot, tiny_model_path):
    widget = TrainDialog(overrides=TINY, reference=tiny_model_path)
    qtbot.addWidget(widget)
    widget.device_combo.setCurrentText("cpu")
    widget.show()
    yield widget
    assert widget.shutdown(60_000), "the training worker was still running after 60 s"


def run_and_wait(qtbot, dialog, start=None, timeout=120_000) -> str:
    with qtbot.waitSignal(dialog.run_finished, timeout=timeout) as blocker:
        assert (start or dialog.start)()
    return blocker.args[0]


def test_a_short_run_draws_the_curve_shows_samples_and_compares_models(qtbot, dialog, prepared, tmp_path):
    assert dialog.add_folder(prepared)
    assert "prepared data" in dialog.folder_list.item(0).text()
    assert Path(dialog.out_edit.text()).parent == user_models_dir()  # a new file in the user models folder
    out = tmp_path / "mine.pt"
    dialog.out_edit.setText(str(out))
    dialog.set_budget(6, "steps")
    assert not dialog.use_button.isEnabled()

    assert run_and_wait(qtbot, dialog) == "ok"

    steps = [step for step, _ in dialog.curve.points]
    assert steps == [1, 2, 3, 4, 5, 6]
    assert all(np.isfinite(loss) for _, loss in dialog.curve.points)
    assert dialog.curve.grab().width() > 0  # paints the points
    for key in ("meme", "mask", "result"):
        assert not dialog.sample_labels[key].pixmap().isNull(), key
    assert "steps/s" in dialog.stats_label.text() and "ETA" in dialog.stats_label.text()
    results = dialog.results_label.text()
    assert "Your model" in results and "Reference model" in results and "PSNR text" in results
    assert "val" in results  # measured on the held-out part of the folder
    assert "Done: 6 steps" in dialog.status_label.text()
    assert dialog.use_button.isEnabled() and dialog.trained_path == out
    assert read_checkpoint(out)["train"]["step"] == 6
    assert dialog.out_edit.text() == str(out)  # a name the person chose is kept


def test_cancel_keeps_a_loadable_checkpoint_and_resume_continues_it(qtbot, dialog, prepared, tmp_path):
    dialog.add_folder(prepared)
    out = tmp_path / "long.pt"
    dialog.out_edit.setText(str(out))
    dialog.set_budget(100_000, "steps")
    with qtbot.waitSignal(dialog.run_finished, timeout=120_000) as blocker:
        assert dialog.start()
        assert dialog.running and dialog.cancel_button.isEnabled() and not dialog.start_button.isEnabled()
        qtbot.waitUntil(lambda: len(dialog.curve.points) >= 3, timeout=120_000)
        dialog.cancel_button.click()
    assert blocker.args[0] == "cancelled"
    stopped = read_checkpoint(out)["train"]["step"]
    assert stopped >= 3
    load_model(out, device="cpu")  # loadable
    assert "Resume continues it" in dialog.status_label.text()
    assert dialog.resume_button.isEnabled() and dialog.use_button.isEnabled()
    assert dialog.results_label.text() == ""  # no measurement of a cancelled run

    dialog.set_budget(stopped + 2, "steps")
    assert run_and_wait(qtbot, dialog, dialog.resume) == "ok"
    assert [step for step, _ in dialog.curve.points] == [stopped + 1, stopped + 2]
    assert read_checkpoint(out)["train"]["step"] == stopped + 2
    assert dialog.resume_edit.text() == str(out)


def test_a_plain_folder_of_pictures_is_prepared_into_the_user_data_folder_first(qtbot, dialog, tmp_path):
    raw = write_pictures(tmp_path / "My Pictures", 3, size=(220, 160))
    assert inspect_data_folder(raw).kind == "pictures"
    dialog.add_folder(raw)
    assert "3 picture(s)" in dialog.folder_list.item(0).text()
    dialog.out_edit.setText(str(tmp_path / "raw.pt"))
    dialog.set_budget(2, "steps")
    assert run_and_wait(qtbot, dialog) == "ok"
    copy = prepared_copy_dir(raw)
    assert copy.parent.parent == user_models_dir().parent  # <user data>/data/...
    assert len(list((copy / "images").glob("*.jpg"))) + len(list((copy / "val" / "images").glob("*.jpg"))) == 3


def test_an_empty_folder_trains_on_generated_pictures(tmp_path):
    (tmp_path / "empty").mkdir()
    found = inspect_data_folder(tmp_path / "empty")
    assert found.kind == "empty" and "generated pictures" in found.describe()
    assert inspect_data_folder(tmp_path / "nowhere").kind == "missing"


def test_looking_at_a_huge_folder_stops_early(tmp_path, monkeypatch):
    from memeclean_gui.jobs import train as train_jobs

    monkeypatch.setattr(train_jobs, "VISIT_LIMIT", 100)
    huge = tmp_path / "home"
    (huge / "a-lot" / "deeper").mkdir(parents=True)  # a folder's entries are walked before its subfolders'
    for index in range(200):
        (huge / "a-lot" / f"note{index}.txt").write_text("x")
    Image.new("RGB", (8, 8)).save(huge / "a-lot" / "deeper" / "late.png")  # beyond what is looked at
    Image.new("RGB", (8, 8)).save(huge / "early.png")
    assert inspect_data_folder(huge).pictures == 1


def test_what_cannot_start_is_one_line_and_nothing_runs(qtbot, dialog, prepared, message_boxes, tmp_path):
    assert not dialog.start()
    assert "Add at least one data folder" in message_boxes[-1][1]
    assert not dialog.add_folder(tmp_path / "no such folder")
    assert "Folder not found" in message_boxes[-1][1]
    dialog.add_folder(prepared)
    dialog.out_edit.setText(str(bundled_model_path()))
    assert not dialog.start()
    assert "bundled model cannot be overwritten" in message_boxes[-1][1]
    dialog.out_edit.setText(str(tmp_path / "x.pt"))
    dialog.resume_edit.setText(str(tmp_path / "missing.pt"))
    assert not dialog.start()
    assert "Checkpoint to resume not found" in message_boxes[-1][1]
    assert all("\n" not in text for _, text in message_boxes)
    assert not dialog.running and dialog.pool.activeThreadCount() == 0


def test_a_failing_run_is_a_message_not_a_traceback(qtbot, dialog, prepared, message_boxes, tmp_path):
    dialog.add_folder(prepared)
    dialog.out_edit.setText(str(tmp_path / "out.pt"))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    dialog.resume_edit.setText(str(bad))
    assert run_and_wait(qtbot, dialog) == "error"
    assert "not a MemeClean checkpoint" in message_boxes[-1][1]
    assert dialog.start_button.isEnabled()


def test_asking_for_a_gpu_where_there_is_none_says_so(qtbot, dialog, prepared, message_boxes, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    dialog.add_folder(prepared)
    dialog.out_edit.setText(str(tmp_path / "gpu.pt"))
    dialog.device_combo.setCurrentText("cuda")
    assert run_and_wait(qtbot, dialog) == "error"
    assert message_boxes[-1][1] == "There is no CUDA GPU here; choose auto or cpu as the device."
    assert not (tmp_path / "gpu.pt").exists()


@pytest.mark.parametrize("answer", [False, True])
def test_an_existing_model_file_is_replaced_only_when_the_user_says_so(dialog, prepared, tmp_path, monkeypatch, answer):
    out = tmp_path / "existing.pt"
    out.write_bytes(b"someone's model")
    asked = []
    monkeypatch.setattr(dialog, "confirm_replace", lambda path: asked.append(path) or answer)
    assert dialog.add_folder(prepared)
    dialog.out_edit.setText(str(out))
    if answer:
        assert dialog.request().overwrite is True
    else:
        with pytest.raises(Exception, match="already exists"):
            dialog.request()
    assert asked == [out] and out.read_bytes() == b"someone's model"
