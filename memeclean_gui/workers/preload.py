"""Load torch's large shared library without holding Python's GIL, before torch is imported.

The first clean imports torch in a worker thread. Importing an extension module runs the dynamic loader (for
libtorch_cpu about 0.2 s of relocations and static initialisers) while the importing thread holds the GIL, so the
UI thread cannot run for that long: a visible freeze. Calling the C library's `dlopen` through ctypes releases the
GIL for the call; the import that follows finds the library already loaded and only runs its Python-level setup.

Only libtorch_cpu is worth it: measured on the bench machine, OpenCV's and torch's other libraries hold the GIL
for a few milliseconds each. Best effort: Linux and macOS only (elsewhere the plain import does the loading); any
failure is ignored.
Called from the worker, never from the UI thread (it blocks for as long as loading takes).
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

_SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"
_done = False  # loaded libraries stay loaded: once per process is enough


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def native_libraries() -> list[Path]:
    """The files worth loading early: libtorch_cpu (when torch is installed as a package with its lib/ folder)."""
    torch_dir = _package_dir("torch")
    if torch_dir is None:
        return []
    path = torch_dir / "lib" / f"libtorch_cpu{_SUFFIX}"
    return [path] if path.is_file() else []


def preload_native_libraries() -> int:
    """dlopen the libraries above with the GIL released; returns how many were loaded (0 when skipped)."""
    global _done
    if _done or sys.platform not in ("linux", "darwin") or "torch" in sys.modules:
        return 0
    _done = True
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: dlopen is among them
        dlopen = libc.dlopen
        dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        dlopen.restype = ctypes.c_void_p
    except (OSError, AttributeError) as error:
        log.debug("preload skipped: %s", error)
        return 0
    loaded = 0
    for path in native_libraries():
        # RTLD_LOCAL: no symbols leak into the global namespace; the later import reuses the loaded object.
        if dlopen(os.fsencode(path), os.RTLD_NOW | os.RTLD_LOCAL):
            loaded += 1
        else:
            log.debug("preload of %s failed", path)
    return loaded
