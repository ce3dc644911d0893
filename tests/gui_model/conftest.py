"""Fixtures of the app's Qt-free model tests (no QApplication here: tests/gui_model/test_no_qt.py checks that these
tests use no Qt); tests/gui uses the same settings redirection."""

from __future__ import annotations

import pytest

from memeclean_gui.model import settings as settings_module


@pytest.fixture(autouse=True)
def settings_file(tmp_path, monkeypatch):
    """Every test gets its own settings file: the user's is never read or written."""
    path = tmp_path / "config" / "settings.json"
    monkeypatch.setattr(settings_module, "settings_path", lambda: path)
    return path
