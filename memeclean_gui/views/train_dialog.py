"""Model ▸ Train…: pick data folders and a budget, watch the loss fall, then compare with the bundled model.

The dialog is not modal, so the main window stays usable; closing it while training runs only hides it (Model ▸
Train… shows it again). The work runs on a job runner with a thread of its own among the window's `Workers`
(`workers.runner`): `jobs.train.run_training` is a generator job over the core's one training loop, and each
report it yields arrives as the runner's `yielded` signal, so every widget update happens on the UI thread. Cancel
is seen at the next report and the trainer writes its checkpoint; Resume continues that checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from memeclean_core.errors import MemeCleanError
from memeclean_core.files.filenames import same_file, weights_filter
from memeclean_core.geometry import TRAIN_MAX_SIDE, TRAIN_MIN_SIDE
from memeclean_core.progress import format_duration
from memeclean_core.resources import MODEL_SUFFIX, bundled_model_path, new_user_model_path, user_models_dir

from ..jobs.train import TrainerReport, TrainOutcome, TrainRequest, format_number, inspect_data_folder, run_training
from ..workers.runner import Outcome, Task, Workers
from .actions import make_button
from .loss_curve import LossCurve
from .qimage import to_qimage

DEVICES = ("auto", "cpu", "cuda")
SAMPLES = (("meme", "Input"), ("mask", "Predicted mask"), ("result", "Result"))
SAMPLE_SIZE = 120
TRAIN_JOB = "train"  # the dialog's one kind of job


class TrainDialog(QDialog):
    """`overrides` sets other TrainConfig fields (tests: a tiny network); `reference` is the model to compare
    with (None: the bundled one)."""

    use_model = Signal(object)  # Path: "Use this model" was pressed
    run_finished = Signal(str)  # "ok", "error" or "cancelled", after every run

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        overrides: dict[str, Any] | None = None,
        reference: str | Path | None = None,
        workers: Workers | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Train a Model")
        self.setModal(False)
        self.overrides = dict(overrides or {})
        self.reference = None if reference is None else str(reference)
        # A thread of its own, among the window's workers (their shutdown stops a run, which writes its checkpoint)
        workers = workers if workers is not None else Workers(parent=self)
        self.runner = workers.runner(threads=1, parent=self)
        self.pool = self.runner.pool
        self.runner.progress.connect(self._on_stage)
        self.runner.yielded.connect(self._on_report)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.finished.connect(self._on_finished)
        self._task: Task | None = None
        self._request: TrainRequest | None = None
        self._last_step = 0
        self._outcome: TrainOutcome | None = None
        self._default_out = str(new_user_model_path())
        self.current_model: Callable[[], Path | None] | None = None  # the model in use, which fixes fine-tune
        self._build()
        self._refresh()
        self.resize(620, 860)

    # -- building ---------------------------------------------------------------------------------------------

    def _build(self) -> None:
        data_box = QGroupBox("Data folders")
        self.folder_list = QListWidget()
        self.folder_list.setToolTip("Prepared data folders (images/, pairs/) or plain folders of pictures")
        self.folder_list.setMinimumHeight(60)
        self.folder_list.setMaximumHeight(110)  # extra height goes to the loss curve
        add_button = make_button("Add Folder…", self.choose_folder)
        self.fixes_button = QPushButton("Add Your Fixes")
        self.fixes_button.setToolTip(
            "The masks you corrected by hand (kept on this computer when you save): fine-tunes the model in use on them"
        )
        self.fixes_button.clicked.connect(self.add_fixes)
        self.remove_button = make_button("Remove", self.remove_folder)
        self.folder_list.currentRowChanged.connect(lambda _row: self._refresh())
        buttons = QVBoxLayout()
        buttons.addWidget(add_button)
        buttons.addWidget(self.fixes_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch()
        data_layout = QHBoxLayout(data_box)
        data_layout.addWidget(self.folder_list, 1)
        data_layout.addLayout(buttons)
        hint = QLabel(
            "Clean pictures (captions are drawn on them as it trains) and/or meme/template pairs. "
            "A plain folder of pictures is checked and copied to your MemeClean data folder first."
        )
        hint.setWordWrap(True)

        self.resolution_spin = QSpinBox()
        self.resolution_spin.setRange(TRAIN_MIN_SIDE, TRAIN_MAX_SIDE)
        self.resolution_spin.setSingleStep(128)
        self.resolution_spin.setValue(TRAIN_MAX_SIDE)
        self.resolution_spin.setSuffix(" px")
        self.resolution_spin.setToolTip(
            f"Largest picture size trained on; pictures span {TRAIN_MIN_SIDE} px up to this"
        )
        self.budget_spin = QSpinBox()
        self.budget_unit = QComboBox()
        self.budget_unit.addItems(["minutes", "steps"])
        self._budget = {"minutes": 30, "steps": 2000}
        self.budget_unit.currentTextChanged.connect(self._unit_changed)
        self.budget_spin.valueChanged.connect(
            lambda value: self._budget.__setitem__(self.budget_unit.currentText(), value)
        )
        self._unit_changed("minutes")
        self.budget_spin.setToolTip(
            "When to stop; a resumed run counts from the checkpoint's start, so raise the budget to train longer"
        )
        budget = QHBoxLayout()
        budget.addWidget(self.budget_spin, 1)
        budget.addWidget(self.budget_unit)
        self.device_combo = QComboBox()
        self.device_combo.addItems(list(DEVICES))
        self.device_combo.setToolTip("auto: a CUDA GPU when there is one, otherwise the CPU")
        self.resume_edit = QLineEdit()
        self.resume_edit.setPlaceholderText("(a new model)")
        self.resume_edit.setToolTip("A checkpoint to continue: its network, step, optimiser and schedule")
        resume_row = _path_row(self.resume_edit, "Choose…", self.choose_resume)
        self.out_edit = QLineEdit(self._default_out)
        self.out_edit.setToolTip("The checkpoint written during training (every few minutes) and at the end")
        out_row = _path_row(self.out_edit, "Browse…", self.choose_out)
        form = QFormLayout()
        form.addRow("Resolution:", self.resolution_spin)
        form.addRow("Budget:", budget)
        form.addRow("Device:", self.device_combo)
        form.addRow("Resume from:", resume_row)
        form.addRow("Save to:", out_row)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFormat("%p%")
        self.status_label = QLabel("Add a data folder, then Start.")
        self.status_label.setWordWrap(True)
        self.stats_label = QLabel("")
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.curve = LossCurve()
        samples = QHBoxLayout()
        self.sample_labels: dict[str, QLabel] = {}
        for key, title in SAMPLES:
            picture = QLabel()
            picture.setFixedSize(SAMPLE_SIZE, SAMPLE_SIZE)
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            picture.setFrameShape(QLabel.Shape.StyledPanel)
            picture.setAccessibleName(f"Training sample: {title.lower()}")
            picture.setToolTip(f"{title} of a training sample, refreshed now and then")
            self.sample_labels[key] = picture
            column = QVBoxLayout()
            column.addWidget(picture)
            column.addWidget(QLabel(title, alignment=Qt.AlignmentFlag.AlignCenter))
            samples.addLayout(column)
        self.results_label = QLabel("")
        self.results_label.setTextFormat(Qt.TextFormat.RichText)
        self.results_label.setWordWrap(True)

        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(lambda: self.start())
        self.cancel_button = make_button(
            "Cancel", self.cancel, "Stop after the current step; the checkpoint is kept and can be resumed"
        )
        self.resume_button = make_button("Resume", self.resume, "Continue the checkpoint this dialog last wrote")
        self.use_button = make_button("Use This Model", self.use_this_model, "Clean with the model just trained")
        close_button = make_button(
            "Close", self.close, "Hide this dialog; a run goes on (Model ▸ Train… shows it again)"
        )
        row = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, self.resume_button):
            row.addWidget(button)
        row.addStretch()
        row.addWidget(self.use_button)
        row.addWidget(close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(data_box)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.curve, 1)
        layout.addLayout(samples)
        layout.addWidget(self.results_label)
        layout.addLayout(row)

    def _unit_changed(self, unit: str) -> None:
        self.budget_spin.blockSignals(True)
        if unit == "minutes":
            self.budget_spin.setRange(1, 100_000)
        else:
            self.budget_spin.setRange(1, 100_000_000)
        self.budget_spin.setValue(self._budget[unit])
        self.budget_spin.blockSignals(False)

    # -- state ------------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def folders(self) -> list[str]:
        return [self.folder_list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.folder_list.count())]

    @property
    def trained_path(self) -> Path | None:
        """The checkpoint the last run wrote (finished or cancelled), if it is there."""
        if self._request is None or not Path(self._request.out).is_file():
            return None
        return Path(self._request.out)

    def set_budget(self, value: int, unit: str = "minutes") -> None:
        self._budget[unit] = value
        self.budget_unit.setCurrentText(unit)
        self._unit_changed(unit)

    def _refresh(self) -> None:
        running = self.running
        for widget in (
            self.start_button,
            self.remove_button,
            self.resolution_spin,
            self.budget_spin,
            self.budget_unit,
            self.device_combo,
            self.resume_edit,
            self.out_edit,
        ):
            widget.setEnabled(not running)
        self.remove_button.setEnabled(not running and self.folder_list.currentRow() >= 0)
        self.cancel_button.setEnabled(running)
        trained = self.trained_path
        self.resume_button.setEnabled(not running and trained is not None)
        self.use_button.setEnabled(not running and trained is not None)

    # -- inputs ---------------------------------------------------------------------------------------------

    def add_folder(self, path: str | Path) -> bool:
        """Add a data folder to the list (once); False, with the reason shown, when it is not a folder."""
        found = inspect_data_folder(path)
        if not found.usable:
            self._problem(f"folder not found: '{found.path}'")
            return False
        text = str(found.path)
        if text in self.folders:
            return True
        item = QListWidgetItem(f"{found.path.name or text}  —  {found.describe()}")
        item.setData(Qt.ItemDataRole.UserRole, text)
        item.setToolTip(text)
        self.folder_list.addItem(item)
        self.folder_list.setCurrentItem(item)
        self._refresh()
        return True

    def add_fixes(self) -> bool:
        """Add your fixes folder (memeclean_core.training.fixes) as a data source; a short budget suits fine-tuning."""
        from memeclean_core.training.fixes import fixes_dir, is_fixes_folder, list_fixes

        folder = fixes_dir()
        if not is_fixes_folder(folder) or not list_fixes(folder):
            self._problem("you have no fixes yet: correct a mask with the brush or eraser, then save the template")
            return False
        if self.budget_unit.currentText() == "minutes" and self.budget_spin.value() == 30:
            self.set_budget(5)  # fine-tuning takes minutes
        return self.add_folder(folder)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a Data Folder", str(Path.home()))
        if folder:
            self.add_folder(folder)

    def remove_folder(self) -> None:
        row = self.folder_list.currentRow()
        if row >= 0:
            self.folder_list.takeItem(row)
        self._refresh()

    def choose_resume(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Resume a Checkpoint", str(user_models_dir()), weights_filter())
        if path:
            self.resume_edit.setText(path)
            self.out_edit.setText(path)  # continue writing the same file

    def choose_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the Model As", self.out_edit.text(), weights_filter())
        if path:
            self.out_edit.setText(path if Path(path).suffix else path + MODEL_SUFFIX)

    def request(self, resume: str | None = None) -> TrainRequest:
        """The run the form describes; raises MemeCleanError (one line) when it cannot start."""
        folders = self.folders
        if not folders:
            raise MemeCleanError("add at least one data folder (clean pictures, or meme/template pairs)")
        out = self.out_edit.text().strip()
        if not out:
            raise MemeCleanError("choose where to save the model")
        out_path = Path(out).expanduser()
        if same_file(out_path, bundled_model_path()):
            raise MemeCleanError("the bundled model cannot be overwritten; choose another file to save to")
        if out_path.is_dir():
            raise MemeCleanError(f"'{out_path}' is a folder; choose a file to save the model to")
        resume = resume if resume is not None else (self.resume_edit.text().strip() or None)
        if resume is not None and not Path(resume).expanduser().is_file():
            raise MemeCleanError(f"checkpoint to resume not found: '{resume}'")
        # The one overwrite rule: an existing file is replaced only when the user says so (a resumed checkpoint
        # is continued in place).
        continuing = resume is not None and out_path.exists() and same_file(out_path, Path(resume).expanduser())
        overwrite = False
        if out_path.exists() and not continuing:
            if not self.confirm_replace(out_path):
                raise MemeCleanError(f"'{out_path.name}' already exists; choose another file to save the model to")
            overwrite = True
        unit, value = self.budget_unit.currentText(), self.budget_spin.value()
        init = None
        if resume is None and any(inspect_data_folder(folder).kind == "fixes" for folder in folders):
            current = self.current_model() if self.current_model is not None else None
            init = str(current or self.reference or bundled_model_path())
        return TrainRequest(
            folders=folders,
            out=str(out_path),
            resolution=self.resolution_spin.value(),
            minutes=float(value) if unit == "minutes" else None,
            steps=value if unit == "steps" else None,
            device=self.device_combo.currentText(),
            resume=resume,
            overrides=dict(self.overrides),
            reference=self.reference,
            overwrite=overwrite,
            init=init,
        )

    def confirm_replace(self, path: Path) -> bool:
        """Ask before a run replaces an existing file (tests monkeypatch this)."""
        answer = QMessageBox.question(
            self,
            "Train a Model",
            f"'{path.name}' already exists. Replace it with the model this run trains?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- running ----------------------------------------------------------------------------------------------

    def start(self, resume: str | None = None) -> bool:
        """Start a run in the worker; False (with the reason shown) when the form is not complete."""
        if self.running:
            return False
        try:
            request = self.request(resume)
        except MemeCleanError as error:
            self._problem(str(error))
            return False
        self._request, self._outcome, self._last_step = request, None, 0
        self.curve.clear()
        for picture in self.sample_labels.values():
            picture.clear()
        self.results_label.setText("")
        self.stats_label.setText("")
        self.progress_bar.setValue(0)
        what = f"Continuing '{Path(request.resume).name}'" if request.resume else "Starting"
        self.status_label.setText(f"{what}: loading the trainer…")
        task = Task(
            lambda progress, cancel: run_training(request, progress, cancel),
            TRAIN_JOB,
            on_result=self._on_result,
            on_error=self._problem,
        )
        self._task = task
        self._refresh()
        self.runner.start(task)
        return True

    def cancel(self) -> None:
        """Stop at the trainer's next report; it writes the checkpoint of the last step."""
        if self._task is not None:
            self._task.cancel()
            self.status_label.setText("Stopping after this step and saving the checkpoint…")

    def resume(self) -> bool:
        """Continue the checkpoint the last run wrote, with the budget now in the form."""
        trained = self.trained_path
        if trained is None:
            return False
        self.resume_edit.setText(str(trained))
        self.out_edit.setText(str(trained))
        return self.start(str(trained))

    def use_this_model(self) -> None:
        trained = self.trained_path
        if trained is not None:
            self.use_model.emit(trained)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Cancel a run and wait for the worker (a dialog on its own; in the app, the window's `Workers` do this).
        True when nothing is left running."""
        return self.runner.shutdown(timeout_ms)

    # -- reports from the worker --------------------------------------------------------------------------------

    @Slot(object, float, str)
    def _on_stage(self, task: Task, fraction: float, text: str) -> None:
        if task is self._task and not task.is_cancelled():
            self.progress_bar.setValue(round(1000 * fraction))
            self.status_label.setText(text + "…" if text and not text.endswith("…") else text)

    @Slot(object, object)
    def _on_report(self, task: Task, trainer_report: TrainerReport) -> None:
        report, batch = trainer_report.progress, trainer_report.batch
        if report.done:
            return
        self._last_step = report.step
        self.curve.add_point(report.step, report.loss)
        self.progress_bar.setValue(round(1000 * report.fraction))
        if self._task is not None and not self._task.is_cancelled():
            self.status_label.setText("Training" + (" (checkpoint saved)" if report.checkpoint else "") + "…")
        steps_per_second = report.samples_per_second / max(1, batch)
        self.stats_label.setText(
            f"Step {report.step} · loss {report.loss:.4f} (mask {report.mask_loss:.4f}, fill {report.fill_loss:.4f})"
            f" · {steps_per_second:.2f} steps/s · elapsed {format_duration(report.elapsed)}"
            f" · ETA {format_duration(report.eta)}"
        )
        if report.preview:
            self.show_preview(report.preview)

    def show_preview(self, preview: dict[str, np.ndarray]) -> None:
        """Show the trainer's sample images (input, predicted mask, result; any may be missing)."""
        for key, picture in self.sample_labels.items():
            pixels = preview.get(key)
            if pixels is None:
                continue
            if pixels.ndim == 2:
                pixels = np.repeat(pixels[..., None], 3, axis=2)
            pixmap = QPixmap.fromImage(to_qimage(np.ascontiguousarray(pixels)))
            picture.setPixmap(
                pixmap.scaled(
                    SAMPLE_SIZE,
                    SAMPLE_SIZE,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def _on_result(self, outcome: TrainOutcome) -> None:
        self._outcome = outcome
        self.progress_bar.setValue(1000)
        self.status_label.setText(
            f"Done: {outcome.steps} steps in {format_duration(outcome.seconds)}. Saved to {outcome.path}"
        )
        self.results_label.setText(results_html(outcome))

    @Slot(object)
    def _on_cancelled(self, task: Task) -> None:
        trained = self.trained_path
        if trained is not None:
            self.status_label.setText(
                f"Stopped at step {self._last_step}. The checkpoint is saved in {trained}; Resume continues it."
            )
        else:
            self.status_label.setText("Cancelled before training started.")

    @Slot(object)
    def _on_finished(self, task: Task) -> None:
        if task is not self._task:
            return
        self._task = None
        if task.outcome == Outcome.OK and self.out_edit.text() == self._default_out:
            self._default_out = str(new_user_model_path())  # the next Start makes a new file
            self.out_edit.setText(self._default_out)
        self._refresh()
        self.run_finished.emit(task.outcome)

    def _problem(self, message: str) -> None:
        """A one-line problem: in the dialog and in a message box. Never a traceback."""
        text = message.strip()
        text = (text[:1].upper() + text[1:]) if text else "Something went wrong"
        text = text if text.endswith((".", "!", "?")) else text + "."
        self.status_label.setText(text)
        QMessageBox.warning(self, "Train a Model", text)


def results_html(outcome: TrainOutcome) -> str:
    """The validation numbers of the new model beside the reference's, as a small table."""
    if not outcome.rows:
        return f"<p>Not measured: {outcome.note or 'no validation pictures'}</p>" + fixes_html(outcome)
    header = "<tr><th align='left'>model</th><th>PSNR text</th><th>PSNR all</th><th>SSIM</th><th>mask IoU</th></tr>"
    rows = "".join(
        f"<tr><td>{label}</td><td align='right'>{format_number(row['psnr_text'], 2)}</td>"
        f"<td align='right'>{format_number(row['psnr_all'], 2)}</td>"
        f"<td align='right'>{format_number(row['ssim'], 4)}</td>"
        f"<td align='right'>{format_number(row['mask_iou'], 3)}</td></tr>"
        for label, row in outcome.rows
    )
    resolution = outcome.rows[0][1].get("resolution")
    note = f"<br>{outcome.note}" if outcome.note else ""
    return (
        f"<table cellspacing='6'>{header}{rows}</table><small>{outcome.validation}, working resolution "
        f"{resolution}; higher is better.{note}</small>"
    ) + fixes_html(outcome)


def fixes_html(outcome: TrainOutcome) -> str:
    """Before/after mask IoU on the person's own held-out fixes ('' when no fixes were trained on)."""
    if not outcome.fix_rows:
        return f"<p><small>Your fixes: {outcome.fix_note}</small></p>" if outcome.fix_note else ""
    rows = "".join(
        f"<tr><td>{label}</td><td align='right'>{format_number(value, 3)}</td></tr>"
        for label, value in outcome.fix_rows
    )
    return (
        f"<p><b>On your fixes</b></p><table cellspacing='6'><tr><th align='left'>model</th><th>mask IoU</th>"
        f"</tr>{rows}</table><small>{outcome.fix_note}; higher is better.</small>"
    )


def _path_row(edit: QLineEdit, button_text: str, choose) -> QHBoxLayout:
    """A path field with the button that opens its file dialog."""
    button = QPushButton(button_text)
    button.clicked.connect(choose)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row
