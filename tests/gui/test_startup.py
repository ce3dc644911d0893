"""Start-up: the window appears without torch; `--version`, `--self-test`, `python -m memeclean_gui`."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STARTUP = """
import sys
from memeclean_gui.app import create_application
from memeclean_gui.main_window import MainWindow
from memeclean_gui.model.settings import Settings

app = create_application()
window = MainWindow(settings=Settings())
window.show()
app.processEvents()
assert window.isVisible() and window.canvas.isVisible()
print("TORCH_LOADED", "torch" in sys.modules)
"""


def run_python(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_building_the_window_does_not_import_torch():
    done = run_python("-c", STARTUP)
    assert done.returncode == 0, done.stderr
    assert "TORCH_LOADED False" in done.stdout


def test_version_from_the_module_entry_point():
    done = run_python("-m", "memeclean_gui", "--version")
    assert done.returncode == 0, done.stderr
    from memeclean_core import __version__

    assert done.stdout.strip() == f"memeclean-gui {__version__}"


def test_self_test_builds_the_window_and_reports_the_core_check(monkeypatch, qapp, capsys):
    from memeclean_gui import app

    fake = types.ModuleType("memeclean_gui_fake_selftest")
    fake.__spec__ = importlib.machinery.ModuleSpec(fake.__name__, None)
    fake.run_self_test = lambda out_dir=None: (True, "self-test passed: fake")
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setattr(app, "SELFTEST_MODULE", fake.__name__)
    assert app.main(["--self-test"]) == 0
    out = capsys.readouterr().out
    assert "window OK" in out and "self-test passed: fake" in out

    fake.run_self_test = lambda out_dir=None: (False, "self-test FAILED: fake")
    assert app.main(["--self-test"]) == 1

    def broken(out_dir=None):
        raise RuntimeError("boom")

    fake.run_self_test = broken
    assert app.main(["--self-test"]) == 1
    assert "self-test failed: RuntimeError: boom" in capsys.readouterr().out

    monkeypatch.setattr(app, "SELFTEST_MODULE", "memeclean_core.no_such_selftest")
    assert app.main(["--self-test"]) == 1
    assert "self-test unavailable" in capsys.readouterr().out


def test_self_test_command_runs_offscreen_in_a_fresh_process():
    """The one test on the real (bundled) model: passes where it is trained and bundled, reports otherwise."""
    env_free = run_python("-m", "memeclean_gui", "--self-test", timeout=300)
    assert "window OK" in env_free.stdout, env_free.stderr
    last = env_free.stdout.strip().splitlines()[-1]
    assert last.startswith(("self-test passed", "self-test FAILED", "memeclean-gui: self-test unavailable")), last
    assert env_free.returncode == (0 if last.startswith("self-test passed") else 1)
    assert "Traceback" not in env_free.stderr


def test_preloading_libtorch_leaves_torch_working():
    code = (
        "import sys; from memeclean_gui.workers.preload import preload_native_libraries as preload; n = preload(); "
        "import torch; print('LOADED', n if sys.platform in ('linux', 'darwin') else 1, "
        "float(torch.ones(3).sum()), preload())"
    )
    done = run_python("-c", code)
    assert done.returncode == 0, done.stderr
    assert "LOADED 1 3.0 0" in done.stdout, "loaded once, torch imports and computes, a second call is a no-op"


def test_the_application_has_the_bundled_window_icon(qapp):
    from memeclean_gui.app import create_application

    app = create_application()
    assert not app.windowIcon().isNull()
    assert app.windowIcon().availableSizes()[0].width() == 256
