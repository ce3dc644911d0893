"""Model ▸ Runtime and the `runtime` setting reach the jobs: the model the window's cleans (and the picture queue's,
which share the controller's model cache) run with is loaded with the runtime remembered or asked for."""

from __future__ import annotations

import pytest

from .conftest import wait_job


def _has_openvino() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def test_the_remembered_runtime_loads_the_model_the_clean_uses(qtbot, make_window, settings, meme_path):
    settings.update(runtime="torch")
    window = make_window()
    controller = window.controller
    assert controller.runtime == "torch" and window.model_menu.runtime_actions["torch"].isChecked()
    assert wait_job(qtbot, controller, "load", lambda: window.open_path(meme_path)) == "ok"
    assert wait_job(qtbot, controller, "clean", window.clean, timeout=60_000) == "ok"
    assert controller.models.get().runtime == "torch" and window.document.result.device == "CPU"


def test_the_runtime_option_wins_over_the_setting(make_window, settings):
    settings.update(runtime="openvino")
    assert make_window(runtime="torch").controller.models.runtime == "torch"


@pytest.mark.skipif(not _has_openvino(), reason="OpenVINO is not installed")
def test_choosing_a_runtime_loads_it_and_remembers_it(qtbot, make_window, settings, meme_path):
    settings.update(runtime="torch")
    window = make_window()
    controller = window.controller
    assert wait_job(qtbot, controller, "model", window.model_menu.runtime_actions["openvino"].trigger) == "ok"
    assert controller.runtime == "openvino" and settings.runtime == "openvino"
    assert window.model_menu.runtime_actions["openvino"].isChecked()
    assert wait_job(qtbot, controller, "load", lambda: window.open_path(meme_path)) == "ok"
    assert wait_job(qtbot, controller, "clean", window.clean, timeout=60_000) == "ok"
    assert window.document.result.device == "CPU (OpenVINO)"
    assert window.device_label.text() == "Device: CPU (OpenVINO)"
