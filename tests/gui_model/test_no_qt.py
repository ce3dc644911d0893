"""The tests of this folder drive the app's Qt-free model: none imports Qt or asks for a Qt fixture."""

from __future__ import annotations

import ast
from pathlib import Path

QT_MODULES = ("PySide6", "shiboken6", "pytestqt")
QT_FIXTURES = {"qtbot", "qapp", "qapp_args", "make_window"}


def test_the_model_tests_use_no_qt():
    for path in sorted(Path(__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {name for name in imported if name.startswith(QT_MODULES)}, path.name
        asked = {
            argument.arg for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for argument in node.args.args
        }
        assert not asked & QT_FIXTURES, path.name
