"""The modes talk to a small view interface (`window_view.WindowView`), not to the main window: driven here with a
fake window that has only what the interface names, and no MainWindow at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from memeclean_core.files.imageio import Frame, LoadedImage
from memeclean_gui.controller import Controller
from memeclean_gui.model.document import Document
from memeclean_gui.model.settings import Settings
from memeclean_gui.modes.caption import install_caption_mode
from memeclean_gui.modes.model_menu import install_model_menu
from memeclean_gui.views.canvas import Canvas


class FakeWindow(QMainWindow):
    """A `WindowView`: a document, a controller that is never asked to clean, plain menus, actions and a toolbar;
    what the modes tell the person is recorded."""

    def __init__(self, settings: Settings):
        super().__init__()
        self.document = Document()
        self.controller = Controller(self.document, None, "cpu", self)
        self.workers = self.controller.workers
        self.settings = settings
        self.canvas = Canvas(self)
        names = ("open", "save_as", "quit", "pan", "brush", "eraser", "show_mask")
        self.named_actions = {name: QAction(name, self) for name in names}
        for name in ("pan", "brush", "eraser", "show_mask"):
            self.named_actions[name].setCheckable(True)
        self.menus: dict[str, QMenu] = {}
        for key in ("file", "view", "help"):
            self.menus[key] = self.menuBar().addMenu(key.title())
        self.menus["file"].addActions([self.named_actions[name] for name in ("open", "save_as", "quit")])
        self.toolbar = QToolBar("Clean", self)
        self.addToolBar(self.toolbar)
        self.help_key_rows: list[tuple[str, str]] = []
        self.resolution = 256
        self.statuses: list[str] = []
        self.errors: list[str] = []
        self.limits_updated = 0
        self.caption_mode_entered = 0
        self.vetoes: list = []

    def show_status(self, message: str) -> None:
        self.statuses.append(message)

    def show_error(self, message: str) -> None:
        self.errors.append(message)

    def may_discard_edits(self, doing: str) -> bool:
        return True

    def add_menu(self, key: str, menu: QMenu, before: str | None = None) -> None:
        anchor = self.menus.get(before) if before is not None else None
        if anchor is not None:
            self.menuBar().insertMenu(anchor.menuAction(), menu)
        else:
            self.menuBar().addMenu(menu)
        self.menus[key] = menu

    def add_toolbar_action(self, action: QAction) -> None:
        self.toolbar.addAction(action)

    def add_auto_clean_veto(self, veto) -> None:
        self.vetoes.append(veto)

    def enter_caption_mode(self) -> None:
        self.caption_mode_entered += 1

    def update_resolution_limits(self) -> None:
        self.limits_updated += 1


def make_fake(qtbot, settings) -> FakeWindow:
    fake = FakeWindow(settings)
    qtbot.addWidget(fake)
    return fake


def menu_titles(fake: FakeWindow) -> list[str]:
    return [action.text().replace("&", "") for action in fake.menuBar().actions()]


def test_the_model_menu_goes_before_help_and_follows_the_controller(qtbot, settings, tmp_path):
    fake = make_fake(qtbot, settings)
    menu = install_model_menu(fake)
    assert menu_titles(fake) == ["File", "View", "Model", "Help"] and fake.menus["model"] is menu.menu
    assert menu.label.text().startswith("Model: bundled") and menu.label.parent() is not None  # in the status bar
    weights = tmp_path / "mine.pt"
    fake.controller.model_changed.emit(weights)  # as a load that worked says it
    assert settings.model_path == str(Path(weights).absolute())
    assert fake.statuses[-1] == f"Cleaning with mine ({weights})" and fake.limits_updated == 1
    assert menu.actions["bundled"].isChecked()  # the tick follows the controller's model, which this fake never swapped
    fake.workers.shutdown()


def test_caption_mode_adds_its_menu_actions_and_toggle_through_the_interface(qtbot, settings):
    fake = make_fake(qtbot, settings)
    mode = install_caption_mode(fake)
    assert menu_titles(fake) == ["File", "Caption", "View", "Help"] and fake.menus["caption"] is mode.menu
    file_texts = [action.text() for action in fake.menus["file"].actions()]
    assert file_texts.index("&Export Meme…") < file_texts.index("quit") and file_texts[-1] == "quit"
    assert mode.actions["caption"] in fake.toolbar.actions()
    assert ("Move the selected text box", "arrow keys (with Shift: 10 pixels)") in fake.help_key_rows

    mode.set_active(True)  # no picture yet: the mode stays off
    assert not mode.active and not mode.actions["caption"].isChecked()
    fake.document.set_image(LoadedImage([Frame(np.zeros((40, 60, 3), np.uint8))]), "blank.png")
    fake.named_actions["brush"].setChecked(True)
    mode.set_active(True)
    assert mode.active and fake.named_actions["pan"].isChecked()
    assert not fake.named_actions["brush"].isEnabled() and not fake.named_actions["eraser"].isEnabled()
    assert fake.statuses[-1].startswith("Caption mode:")
    mode.set_active(False)
    assert fake.named_actions["brush"].isEnabled() and not mode.active
    fake.workers.shutdown()
