"""The Model menu: switch between the bundled model and your own, validated in a worker, remembered in settings;
train from the window and clean with the result."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtWidgets import QFileDialog

from memeclean_core.network.model import MemeCleanNet, UNetConfig
from memeclean_core.network.weights import save_checkpoint
from memeclean_core.resources import user_models_dir

from .conftest import wait_job
from .test_train_dialog import TINY, write_pictures


@pytest.fixture
def user_model() -> Path:
    """A second tiny model, saved in the (isolated) user models folder as training would."""
    torch.manual_seed(7)
    return save_checkpoint(user_models_dir() / "my-model.pt", MemeCleanNet(UNetConfig.tiny()))


def menu_texts(window) -> list[str]:
    window.model_menu.rebuild()
    return [action.text().replace("&", "") for action in window.model_menu.menu.actions()]


def switch(qtbot, window, action) -> str:
    return wait_job(qtbot, window.controller, "model", action)


def test_the_menu_lists_the_models_and_switches_with_a_check_first(
    qtbot, make_window, user_model, settings, tiny_model_path
):
    window = make_window()
    texts = menu_texts(window)
    assert texts[0] == "Train…" and "Use Bundled Model" in texts and "Load Weights…" in texts
    assert "my-model" in texts and tiny_model_path.stem in texts  # the model in use, though elsewhere
    menu_bar = [action.text().replace("&", "") for action in window.menuBar().actions()]
    assert menu_bar.index("Model") == menu_bar.index("Help") - 1
    assert window.model_menu.label.text() == f"Model: {tiny_model_path.stem}"

    mine = next(a for a in window.model_menu.menu.actions() if a.text() == "my-model")
    assert switch(qtbot, window, mine.trigger) == "ok"
    assert window.controller.model_path == user_model and window.controller.models.loaded
    assert window.model_menu.label.text() == "Model: my-model"
    assert settings.model_path == str(user_model)
    assert next(a for a in window.model_menu.menu.actions() if a.text() == "my-model").isChecked()


def test_a_bad_weights_file_is_one_line_and_the_previous_model_stays(
    qtbot, make_window, settings, message_boxes, tiny_model_path, tmp_path, monkeypatch
):
    window = make_window()
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"these are not weights")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *args, **kwargs: (str(bad), "")))
    assert switch(qtbot, window, window.model_menu.actions["load"].trigger) == "error"
    kind, text = message_boxes[-1]
    assert kind == "warning" and "\n" not in text
    assert "not a MemeClean checkpoint" in text and f"still using '{tiny_model_path.name}'" in text
    assert window.controller.model_path == tiny_model_path
    assert window.model_menu.label.text() == f"Model: {tiny_model_path.stem}"
    assert settings.model_path == ""  # a failed switch is not remembered


def test_the_choice_is_remembered_for_the_next_window(qtbot, make_window, user_model, settings, monkeypatch):
    first = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *args, **kwargs: (str(user_model), "")))
    assert switch(qtbot, first, first.model_menu.actions["load"].trigger) == "ok"
    first.close()

    second = make_window(model_path=None)  # no --model: the remembered choice
    assert second.controller.model_path == user_model
    assert second.model_menu.label.text() == "Model: my-model"

    assert switch(qtbot, second, second.model_menu.actions["bundled"].trigger) == "ok"
    assert second.controller.model_path is None and settings.model_path == ""
    assert second.model_menu.label.text().startswith("Model: bundled")
    third = make_window(model_path=None)
    assert third.controller.model_path is None


def test_a_remembered_model_that_is_gone_falls_back_to_the_bundled_one(make_window, settings, tmp_path):
    settings.update(model_path=str(tmp_path / "deleted.pt"))
    window = make_window(model_path=None)
    assert window.controller.model_path is None
    assert "is gone" in window.statusBar().currentMessage()


def test_train_from_the_window_then_use_the_model_and_clean_with_it(
    qtbot, make_window, meme_path, tmp_path, tiny_model_path, settings
):
    window = make_window()
    window.model_menu.train_overrides = TINY
    window.model_menu.train_reference = tiny_model_path
    window.model_menu.actions["train"].trigger()
    dialog = window.model_menu.dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    dialog.device_combo.setCurrentText("cpu")
    dialog.add_folder(write_pictures(tmp_path / "data" / "images", 2).parent)
    dialog.set_budget(3, "steps")
    with qtbot.waitSignal(dialog.run_finished, timeout=120_000) as finished:
        assert dialog.start()
        # the window stays usable while it trains: open an image meanwhile
        assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(meme_path)) == "ok"
    assert finished.args[0] == "ok"
    trained = dialog.trained_path
    assert trained is not None and trained.parent == user_models_dir()
    assert "Training finished" in window.statusBar().currentMessage() or dialog.isVisible()
    assert trained.stem in menu_texts(window)

    assert switch(qtbot, window, dialog.use_button.click) == "ok"
    assert window.controller.model_path == trained and settings.model_path == str(trained)
    assert wait_job(qtbot, window.controller, "clean", window.named_actions["clean"].trigger) == "ok"
    assert window.document.result is not None
    assert window.controller.models.get().path == trained  # the clean ran on the new weights


def test_closing_the_window_stops_a_training_run_with_its_checkpoint(qtbot, make_window, tmp_path):
    window = make_window()
    window.model_menu.train_overrides = TINY
    dialog = window.model_menu.open_train_dialog()
    dialog.device_combo.setCurrentText("cpu")
    dialog.add_folder(write_pictures(tmp_path / "data" / "images", 1).parent)
    dialog.out_edit.setText(str(tmp_path / "interrupted.pt"))
    dialog.set_budget(100_000, "steps")
    assert dialog.start()
    qtbot.waitUntil(lambda: len(dialog.curve.points) >= 2, timeout=120_000)
    dialog.close()  # hiding the dialog does not stop the run
    assert dialog.running
    window.close()
    assert not dialog.running or dialog.pool.activeThreadCount() == 0
    assert (tmp_path / "interrupted.pt").is_file()


def test_the_last_model_asked_for_wins_whichever_loads_first(
    qtbot, make_window, user_model, tiny_model_path, monkeypatch
):
    import threading

    from memeclean_gui.jobs import clean as clean_jobs

    window = make_window()
    original_get = clean_jobs.ModelCache.get
    second_loaded = threading.Event()

    def first_asked_loads_last(cache, *args, **kwargs):
        if cache.path == user_model:
            assert second_loaded.wait(30)  # the first request finishes after the second has
            return original_get(cache, *args, **kwargs)
        try:
            return original_get(cache, *args, **kwargs)
        finally:
            second_loaded.set()

    monkeypatch.setattr(clean_jobs.ModelCache, "get", first_asked_loads_last)
    finished = []
    window.controller.finished.connect(lambda kind, outcome: kind == "model" and finished.append(outcome))
    window.controller.set_model_path(user_model)
    window.controller.set_model_path(tiny_model_path)
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=30_000)
    assert window.controller.model_path == tiny_model_path
