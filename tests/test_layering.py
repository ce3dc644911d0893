"""The layering MemeClean promises: the core knows no screen, and the GUI reaches torch only through the core."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_core_never_imports_qt():
    offenders = {f: n & {"PySide6", "shiboken6", "memeclean_gui"} for f, n in imported_modules("memeclean_core").items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_gui_never_imports_torch_directly():
    offenders = {f: n & {"torch"} for f, n in imported_modules("memeclean_gui").items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_importing_the_core_package_does_not_load_torch():
    """The GUI imports memeclean_core at start-up; torch must wait until a clean or training needs it."""
    code = "import sys, memeclean_core, memeclean_core.errors, memeclean_core.imageio; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_the_pipeline_settings_and_whole_image_steps_import_without_torch():
    """The GUI reads the pipeline's numbers and names (and imports the whole-image steps at start-up) without
    loading torch: `pipeline`, `geometry`, `filenames` and `whole_image` are torch-free to import."""
    code = ("import sys, memeclean_core.pipeline, memeclean_core.geometry, memeclean_core.filenames, "
            "memeclean_core.whole_image; memeclean_core.pipeline.PostprocessConfig(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
