"""The Model menu: train a model, load weights, switch between the bundled model and the ones trained here.

`install_model_menu(window)` builds it (before Help) with a status-bar label naming the model in use. A switch
goes through `Controller.set_model_path`, which loads the weights in a worker and keeps the previous model when
they do not load; only a switch that worked is remembered in the settings (`model_path`). The models a person
trains are saved in `memeclean_core.resources.user_models_dir()` and listed here, newest first. Model ▸ Runtime
picks what runs the network (`memeclean_core.network.runtime`: Automatic, OpenVINO, Torch) the same way, through
`Controller.set_runtime`, and remembers it (`runtime`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu

from memeclean_core.files.filenames import same_file, weights_filter
from memeclean_core.resources import BUNDLED_MODEL_NAME, user_models, user_models_dir

from ..model.settings import Settings
from ..views.actions import SEPARATOR, ActionSpec, MenuLayout, fill, laid_out, make_actions
from ..workers.runner import Outcome

if TYPE_CHECKING:
    from ..views.train_dialog import TrainDialog
    from .window_view import WindowView

RUNTIME_CHOICES = (("auto", "&Automatic"), ("openvino", "&OpenVINO (CPU)"), ("torch", "&Torch"))
MENU_LIMIT = 15  # trained models listed in the menu; older ones are still reachable through Load Weights…


def initial_model_path(settings: Settings, explicit: str | Path | None) -> Path | None:
    """The weights a new window starts with: `explicit` (--model) if given, else the remembered choice if that
    file is still there, else None (the bundled model)."""
    if explicit is not None:
        return Path(explicit)
    remembered = settings.model_path
    if remembered and Path(remembered).is_file():
        return Path(remembered)
    return None


def model_name(path: Path | None) -> str:
    return f"bundled ({Path(BUNDLED_MODEL_NAME).stem})" if path is None else path.stem


def _same(a: Path | None, b: Path | None) -> bool:
    if a is None or b is None:
        return a is b
    return same_file(a.expanduser(), b.expanduser())


class ModelMenu(QObject):
    """The Model menu and the model label of one window. `train_overrides` / `train_reference` are passed to
    the Train dialog (tests: a tiny network, a tiny reference model)."""

    def __init__(self, window: WindowView):
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.settings: Settings = window.settings
        self.dialog: TrainDialog | None = None
        self.train_overrides: dict[str, Any] = {}
        self.train_reference: str | Path | None = None
        self.menu = QMenu(MODEL_MENU.title, window)
        self.actions = make_actions(self, window, MODEL_ACTIONS)
        self.runtime_menu = QMenu("&Runtime", self.menu)
        self.runtime_menu.setToolTipsVisible(True)
        runtimes = QActionGroup(self)
        self.runtime_actions: dict[str, QAction] = {}
        for runtime, text in RUNTIME_CHOICES:
            action = self.runtime_menu.addAction(text)
            action.setCheckable(True)
            action.setToolTip(_RUNTIME_TIPS[runtime])
            action.triggered.connect(lambda _checked=False, runtime=runtime: self.use_runtime(runtime))
            runtimes.addAction(action)
            self.runtime_actions[runtime] = action
        # made checkable only after it is connected: it answers a click (triggered), not every toggle (the group
        # unticks it when another model is chosen)
        self.actions["bundled"].setCheckable(True)
        self._group = QActionGroup(self)
        self._group.addAction(self.actions["bundled"])
        self._model_actions: list[QAction] = []
        self.menu.aboutToShow.connect(self.rebuild)
        window.add_menu(MODEL_MENU.key, self.menu, before=MODEL_MENU.before[0])
        self.label = QLabel()
        window.statusBar().addPermanentWidget(self.label)
        self.controller.model_changed.connect(self._on_model_changed)
        if (
            self.settings.model_path
            and self.controller.model_path is None
            and not Path(self.settings.model_path).is_file()
        ):
            window.show_status(
                f"The model you chose last ('{self.settings.model_path}') is gone; using the bundled model"
            )
        self.rebuild()

    # -- the menu ---------------------------------------------------------------------------------------------

    def trained_models(self) -> list[Path]:
        """The models listed: those in the user models folder (newest first), and the one in use if elsewhere."""
        found = user_models()[:MENU_LIMIT]
        current = self.controller.model_path
        if current is not None and not any(_same(current, path) for path in found):
            found.insert(0, current)
        return found

    def rebuild(self) -> None:
        """Fill the menu again (on every opening: the models folder may have changed) and tick the model in use."""
        menu, current = self.menu, self.controller.model_path
        for action in self._model_actions:
            self._group.removeAction(action)
            action.deleteLater()
        self._model_actions = []
        menu.clear()
        self.actions["bundled"].setChecked(current is None)
        for path in self.trained_models():
            action = QAction(path.stem, menu)
            action.setCheckable(True)
            action.setChecked(_same(path, current))
            action.setToolTip(str(path))
            action.setStatusTip(f"Clean with {path}")
            action.triggered.connect(lambda _checked=False, path=path: self.use(path))
            self._group.addAction(action)
            self._model_actions.append(action)
        named = {**self.actions, "models": self._model_actions, "runtime": self.runtime_menu}
        fill(menu, laid_out(MODEL_MENU.items, named))
        self.runtime_actions[self.controller.runtime].setChecked(True)
        self.label.setText(f"Model: {model_name(current)}")
        self.label.setToolTip(
            "The model cleaning uses: "
            + ("the one that ships with MemeClean" if current is None else str(current))
            + " (Model menu to change)"
        )

    # -- switching ----------------------------------------------------------------------------------------------

    def use(self, path: str | Path | None) -> None:
        """Switch to `path` (None: bundled). It is loaded in a worker first; a bad file keeps the current model."""
        path = None if path is None else Path(path)
        if path is None and self.controller.model_path is None:
            self.rebuild()
            return  # a file is loaded again even when it is in use: a resumed run may have rewritten it
        self.rebuild()  # the tick stays on the model in use until the new one has loaded
        self.controller.set_model_path(path)

    def use_runtime(self, runtime: str) -> None:
        """Run the network with `runtime`; loaded in a worker first, remembered once it has loaded."""
        self.rebuild()  # the tick stays on the runtime in use until the new one has loaded
        if runtime != self.controller.runtime:
            self.controller.set_runtime(runtime)

    @Slot(object)
    def _on_model_changed(self, path: Path | None) -> None:
        self.settings.update(model_path="" if path is None else str(path.absolute()), runtime=self.controller.runtime)
        self.rebuild()
        self.window.show_status(f"Cleaning with {model_name(path)}" + ("" if path is None else f" ({path})"))
        self.window.update_resolution_limits()

    def load_weights_dialog(self) -> None:
        folder = user_models_dir() if user_models_dir().is_dir() else Path.home()
        path, _ = QFileDialog.getOpenFileName(self.window, "Load Weights", str(folder), weights_filter())
        if path:
            self.use(path)

    def open_models_folder(self) -> None:
        folder = user_models_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # -- training -----------------------------------------------------------------------------------------------

    def open_train_dialog(self) -> TrainDialog:
        """Show the Train dialog (one per window: it keeps a run going while hidden)."""
        if self.dialog is None:
            from ..views.train_dialog import TrainDialog

            self.dialog = TrainDialog(
                self.window, overrides=self.train_overrides, reference=self.train_reference, workers=self.window.workers
            )
            self.dialog.use_model.connect(self.use)
            self.dialog.current_model = lambda: self.controller.model_path  # what "your fixes" fine-tune
            self.dialog.run_finished.connect(self._on_training_finished)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog

    @Slot(str)
    def _on_training_finished(self, outcome: str) -> None:
        trained = self.dialog.trained_path if self.dialog is not None else None
        if outcome == Outcome.OK and trained is not None:
            self.window.show_status(f"Training finished: {trained.name} (Model menu to use it)")
        self.rebuild()


_RUNTIME_TIPS = {
    "auto": "OpenVINO on the CPU when it is installed and works, else torch; torch on a GPU",
    "openvino": "OpenVINO's CPU runtime: about twice as fast as torch on a CPU",
    "torch": "PyTorch, as training runs the network",
}


def install_model_menu(window: WindowView) -> ModelMenu:
    """Add the Model menu (before Help) and the model label to `window`."""
    return ModelMenu(window)


# The Model menu's fixed actions, declared once (`menu.actions[name]`); MODEL_MENU places them, filled again on every
# opening by `ModelMenu.rebuild` ("models": the trained models, "runtime": the Runtime submenu).
MODEL_ACTIONS = (
    ActionSpec(
        "train",
        "&Train…",
        ModelMenu.open_train_dialog,
        "Ctrl+T",
        "Train a model on your pictures, watching its progress",
    ),
    ActionSpec(
        "load",
        "&Load Weights…",
        ModelMenu.load_weights_dialog,
        "Ctrl+Shift+L",
        "Clean with a weights file (.pt) trained by MemeClean",
    ),
    ActionSpec(
        "bundled",
        "Use &Bundled Model",
        lambda menu: menu.use(None),
        tip="Clean with the model that ships with MemeClean",
    ),
    ActionSpec(
        "folder",
        "Open Models &Folder",
        ModelMenu.open_models_folder,
        tip="Show the folder where the models you train are saved",
    ),
)
MODEL_MENU = MenuLayout(
    "model",
    "Mo&del",
    ("train", SEPARATOR, "bundled", "models", SEPARATOR, "load", "folder", "runtime"),
    before=("help",),
)
