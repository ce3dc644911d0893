"""The layering MemeClean promises: the core knows no screen, the GUI reaches torch only through the core and only
through its documented API, and the GUI's own layers (model, jobs, views, app) import downwards only."""

import ast
import subprocess
import sys
from collections.abc import Callable
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
    offenders = {
        f: n & {"PySide6", "shiboken6", "memeclean_gui"} for f, n in imported_modules("memeclean_core").items()
    }
    assert not {f: n for f, n in offenders.items() if n}


def test_gui_never_imports_torch_directly():
    offenders = {f: n & {"torch"} for f, n in imported_modules("memeclean_gui").items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_importing_the_core_package_does_not_load_torch():
    """The GUI imports memeclean_core at start-up; torch must wait until a clean or training needs it."""
    code = (
        "import sys, memeclean_core, memeclean_core.errors, memeclean_core.files.imageio; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_the_pipeline_settings_and_whole_image_steps_import_without_torch():
    """The GUI reads the pipeline's numbers and names (and imports the whole-image steps at start-up) without
    loading torch: `pipeline`, `geometry`, `filenames` and `whole_image` are torch-free to import."""
    code = (
        "import sys, memeclean_core.cleaning.pipeline, memeclean_core.geometry, memeclean_core.files.filenames, "
        "memeclean_core.cleaning.whole_image; memeclean_core.cleaning.pipeline.PostprocessConfig(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


# -- the app's layers (docs/ARCHITECTURE.md, "The app") ----------------------------------------------------------------

GUI = ROOT / "memeclean_gui"
QT = ("PySide6", "shiboken6")

# The core modules the GUI may import anywhere: its documented public API, none of which loads torch when imported.
GUI_CORE_API = {
    "memeclean_core",
    "memeclean_core.cleaning.bars",
    "memeclean_core.captions",
    "memeclean_core.captions.boxes",
    "memeclean_core.captions.project",
    "memeclean_core.callbacks",
    "memeclean_core.cleaning.options",
    "memeclean_core.data.prepare",
    "memeclean_core.errors",
    "memeclean_core.training.evaluate",
    "memeclean_core.files.file_kinds",
    "memeclean_core.files.filenames",
    "memeclean_core.training.fixes",
    "memeclean_core.geometry",
    "memeclean_core.files.imageio",
    "memeclean_core.library",
    "memeclean_core.cli.arguments",
    "memeclean_core.cleaning.pipeline",
    "memeclean_core.progress",
    "memeclean_core.resources",
    "memeclean_core.network.runtime",
    "memeclean_core.network.lazy",
    "memeclean_core.files.safe_write",
    "memeclean_core.cleaning.whole_image",
}
# Public core modules that import torch: only jobs/ may use them, inside the job function that needs them (the job
# runs in a worker thread, so the window never waits for torch).
GUI_TORCH_CORE = {
    "memeclean_core.network.checkpoint",
    "memeclean_core.network.device",
    "memeclean_core.cleaning.inference",
    "memeclean_core.training.train",
}
# The modes (modes/): they see the window only through modes/window_view.WindowView
MODES = ("caption.py", "library.py", "model_menu.py", "queue.py")
# The app's layers from the bottom up: each may import itself and the layers before it. jobs/ may use only the
# Qt-free preload of workers/ (the runner is Qt); the controller (the document's runs) is a layer of one module.
LAYERS = ("model", "jobs", "workers", "views", "controller", "modes", "app")


def gui_module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def gui_imports(path: Path) -> list[tuple[str, bool, bool]]:
    """(module imported, at module level?, under `if TYPE_CHECKING`?) for every import in `path`, relative ones
    resolved; `from . import x` counts as importing the submodule x when there is one."""
    package = gui_module(path) if path.name == "__init__.py" else gui_module(path).rpartition(".")[0]
    found = []

    def visit(node: ast.AST, in_function: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, not in_function, typing_only) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    module = f"{base}.{child.module}" if child.module else base
                else:
                    module = child.module
                names = [
                    f"{module}.{alias.name}"
                    for alias in child.names
                    if (ROOT / f"{module}.{alias.name}".replace(".", "/")).with_suffix(".py").exists()
                    or (ROOT / f"{module}.{alias.name}".replace(".", "/") / "__init__.py").exists()
                ]
                found.extend((name, not in_function, typing_only) for name in names or [module])
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, in_function, True)
            else:
                visit(
                    child,
                    in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)),
                    typing_only,
                )

    visit(ast.parse(path.read_text(encoding="utf-8")), False, False)
    return found


def layer_of(module: str) -> str:
    """The package under memeclean_gui (model, jobs, workers, views, modes), "controller", or app (the other
    top-level modules: app, main_window, crash, single_instance, platform_libs)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "app"


def gui_files(folder: str = "") -> list[Path]:
    return sorted((GUI / folder).rglob("*.py"))


def offenders(files: list[Path], bad: Callable[[str, bool, bool], bool]) -> dict[str, list[str]]:
    found = {}
    for path in files:
        names = [name for name, top, typing_only in gui_imports(path) if bad(name, top, typing_only)]
        if names:
            found[str(path.relative_to(ROOT))] = names
    return found


def test_the_model_and_the_jobs_never_import_qt():
    qt = lambda name, top, typing_only: name.split(".")[0] in QT  # noqa: E731
    assert not offenders(gui_files("model") + gui_files("jobs"), qt)


def test_each_layer_imports_only_the_layers_below_it():
    """model <- jobs <- workers <- views <- controller <- modes <- app; jobs/ may use workers/preload (Qt-free)
    before torch loads, and nothing else of workers/."""
    for rank, layer in enumerate(LAYERS[:-1]):
        below = set(LAYERS[: rank + 1])
        files = [GUI / "controller.py"] if layer == "controller" else gui_files(layer)

        def upward(name: str, top: bool, typing_only: bool, below: set[str] = below, layer: str = layer) -> bool:
            if not name.startswith("memeclean_gui.") or (layer == "jobs" and name == "memeclean_gui.workers.preload"):
                return False
            return layer_of(name) not in below

        assert files and not offenders(files, upward), layer


def test_the_workers_package_is_the_lowest_qt_layer():
    """The runner imports nothing of the app; the preload that jobs/ calls imports no Qt."""
    of_the_app = lambda name, top, typing_only: name.startswith("memeclean_gui.") and layer_of(name) != "workers"  # noqa: E731
    assert not offenders(gui_files("workers"), of_the_app)
    qt = lambda name, top, typing_only: name.split(".")[0] in QT  # noqa: E731
    assert not offenders([GUI / "workers" / "preload.py"], qt)


def test_the_gui_uses_only_the_documented_core_api():
    def outside(name: str, top: bool, typing_only: bool) -> bool:
        return name.split(".")[0] == "memeclean_core" and name not in GUI_CORE_API | GUI_TORCH_CORE

    assert not offenders(gui_files(), outside)


def test_only_jobs_import_torch_core_modules_and_only_when_a_job_runs():
    def eager(name: str, top: bool, typing_only: bool) -> bool:
        return name in GUI_TORCH_CORE and top and not typing_only

    assert not offenders(gui_files(), eager)
    not_a_job = lambda name, top, typing_only: name in GUI_TORCH_CORE and not typing_only  # noqa: E731
    assert not offenders([path for path in gui_files() if layer_of(gui_module(path)) != "jobs"], not_a_job)


def test_the_core_api_the_gui_uses_does_not_load_torch():
    used = sorted({name for path in gui_files() for name, _top, _typing in gui_imports(path) if name in GUI_CORE_API})
    code = f"import sys\nfor name in {used!r}: __import__(name)\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert used and out.stdout.strip() == "False"


def test_the_gui_modules_form_no_import_cycle():
    """Every import counts, at module level, inside functions and under TYPE_CHECKING: a mode that named the main
    window for its type hints was a cycle too."""
    graph = {
        gui_module(path): {name for name, _top, _typing in gui_imports(path) if name.startswith("memeclean_gui")}
        for path in gui_files()
    }
    assert_no_cycle(graph)


def assert_no_cycle(graph: dict[str, set[str]]) -> None:
    """Fails naming the first import cycle of `graph` (module -> the modules it imports; others are ignored)."""
    graph = {module: {name for name in names if name in graph and name != module} for module, names in graph.items()}
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(module) :] + [module]))
        if module in done:
            return
        for name in sorted(graph[module]):
            walk(name, path + [module])
        done.add(module)

    for module in sorted(graph):
        walk(module, [])


def test_the_modes_reach_the_window_only_through_its_view_interface():
    """No getattr on the window, no menu found by its title, no toolbar found by its object name, and no action made
    an attribute by setattr (a mode's actions are `mode.actions[name]`, found by grepping the name)."""
    for name in MODES:
        path = GUI / "modes" / name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
        }
        assert not calls & {"getattr", "setattr", "findChild", "findChildren", "menuBar"}, name
        imported = {module for module, _top, _typing in gui_imports(path)}
        assert "memeclean_gui.main_window" not in imported and "memeclean_gui.modes.window_view" in imported, name


# -- the core's parts (docs/ARCHITECTURE.md, "The core") ------------------------------------------------------------

CORE = ROOT / "memeclean_core"
# The core's parts from the bottom up; a part may import itself and the tiers before it, never one beside it (the
# shared basics are the package's top-level modules but the two that sit above every part: the self-test, which
# runs a whole clean and measures it, and the package itself, whose public names come from the parts).
CORE_TIERS = (
    ("base",),
    ("files",),
    ("captions", "network"),
    ("cleaning",),
    ("data",),
    ("library",),
    ("training", "batches"),
    ("package",),
    ("cli",),
    ("main",),
)
CORE_PARTS = {"files", "network", "cleaning", "captions", "data", "library", "training", "batches", "cli"}


def core_part(module: str) -> str:
    """The part of a core module: its package under memeclean_core, "package" (memeclean_core itself and its
    self-test), "main" (`python -m memeclean_core`) or "base" (the other top-level modules: errors, callbacks,
    geometry, options, progress, resources, threads)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "selftest":
        return "package"
    if parts[1] == "__main__":
        return "main"
    return parts[1] if parts[1] in CORE_PARTS else "base"


def core_graph() -> dict[str, set[str]]:
    """Every core module -> the core modules it imports: at module level, inside functions and under TYPE_CHECKING."""
    return {
        gui_module(path): {name for name, _top, _typing in gui_imports(path) if name.startswith("memeclean_core.")}
        for path in sorted(CORE.rglob("*.py"))
    }


def test_the_core_modules_form_no_import_cycle():
    assert_no_cycle(core_graph())


def test_each_core_part_imports_only_the_parts_below_it():
    """files <- captions, network <- cleaning <- data <- library <- training, batches <- package <- cli: the library
    never imports the command line, and two parts of one tier never import each other."""
    rank = {part: index for index, tier in enumerate(CORE_TIERS) for part in tier}
    upward = {
        f"{module} -> {name}"
        for module, names in core_graph().items()
        for name in names
        if core_part(name) != core_part(module) and rank[core_part(name)] >= rank[core_part(module)]
    }
    assert not upward
    assert set(rank) >= {core_part(module) for module in core_graph()}


def test_the_core_top_level_holds_only_the_shared_basics():
    """The parts show in the folders: no module beside the packages but these."""
    top = sorted(path.stem for path in CORE.glob("*.py"))
    basics = ["__init__", "__main__", "callbacks", "errors", "geometry", "options", "progress", "resources"]
    assert top == sorted([*basics, "selftest", "threads"])
