"""Model ▸ Train… ▸ Add Your Fixes: fine-tune the model in use on your hand fixes, before/after on held-out ones."""

from __future__ import annotations

from memeclean_core.network.weights import read_checkpoint
from memeclean_core.training.fixes import fixes_dir, list_fixes, save_fix, split_fixes
from memeclean_gui.jobs.train import inspect_data_folder
from memeclean_gui.views.train_dialog import TrainDialog

from ..conftest import make_meme
from .test_train_dialog import TINY, run_and_wait


def test_your_fixes_fine_tune_the_model_in_use_and_show_before_and_after(
    qtbot, tiny_model_path, tmp_path, message_boxes
):
    dialog = TrainDialog(overrides=TINY, reference=tiny_model_path)
    qtbot.addWidget(dialog)
    dialog.device_combo.setCurrentText("cpu")
    dialog.show()
    try:
        assert not dialog.add_fixes()  # none yet: said so, nothing added
        assert "no fixes yet" in message_boxes[-1][1] and dialog.folders == []
        for seed in range(5):
            meme, template, mask = make_meme(160, 120, seed=seed)
            save_fix(meme, mask, template if seed % 2 else None, name=f"meme{seed}")
        assert inspect_data_folder(fixes_dir()).kind == "fixes"
        dialog.current_model = lambda: tiny_model_path  # the model the window cleans with
        assert dialog.add_fixes()
        assert "5 of your fixes" in dialog.folder_list.item(0).text()
        assert dialog.budget_spin.value() == 5  # minutes: fine-tuning is short
        request = dialog.request()
        assert request.init == str(tiny_model_path)
        assert request.config(request.folders).init == str(tiny_model_path)

        out = tmp_path / "tuned.pt"
        dialog.out_edit.setText(str(out))
        dialog.set_budget(4, "steps")
        assert run_and_wait(qtbot, dialog) == "ok"
        assert read_checkpoint(out)["config"] == read_checkpoint(tiny_model_path)["config"]
        outcome = dialog._outcome
        held = split_fixes(list_fixes())[1]
        assert held and [label.split(" (")[0] for label, _ in outcome.fix_rows] == ["Before", "After"]
        assert all(0.0 <= value <= 1.0 for _, value in outcome.fix_rows)
        results = dialog.results_label.text()
        assert "On your fixes" in results and f"{len(held)} of your fixes held out" in results
    finally:
        assert dialog.shutdown(60_000)
