#!/usr/bin/env bash
# Build the MemeClean bundle: dist/memeclean/ with `memeclean-gui` (the app) and `memeclean` (the CLI), the bundled
# weights, fonts and sample under dist/memeclean/_internal/resources/. Run from anywhere, after scripts/setup.sh:
#
#     bash packaging/build.sh [--check]
#
# --check also runs what CI runs on the result: the frozen GUI self-test and a frozen CLI clean.
# Installs the pinned PyInstaller, builds from packaging/memeclean.spec, then checks the result: no CUDA library,
# every shared library's dependencies resolvable, `memeclean --help` answers. Prints the size and the build time.
# On a busy machine, run it as `nice -n 19 bash packaging/build.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
DIST="$ROOT/dist/memeclean"
START=$SECONDS

# PyInstaller 6.22.3 supports Python 3.8-3.14 and has hooks for PySide6 6.x; hooks-contrib carries the torch hook.
PYINSTALLER_PINS=("pyinstaller==6.22.3" "pyinstaller-hooks-contrib==2026.9")

fail() { echo "build.sh: $*" >&2; exit 1; }

# MEMECLEAN_BUNDLE_MODEL=FILE bundles another checkpoint under the shipped name (default: the repository's).
MODEL=${MEMECLEAN_BUNDLE_MODEL:-resources/models/memeclean-v1.pt}
[ -f "$MODEL" ] || fail "$MODEL is missing: the bundle ships the trained model"
"$PYTHON" - <<'EOF' || fail "this torch is a CUDA build; install the CPU wheel first (bash scripts/setup.sh)"
import torch
raise SystemExit(0 if torch.version.cuda is None else 1)
EOF

echo "build.sh: installing ${PYINSTALLER_PINS[*]}"
"$PYTHON" -m pip install -q "${PYINSTALLER_PINS[@]}"

echo "build.sh: building $DIST (a few minutes)"
rm -rf "$DIST"
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" packaging/memeclean.spec
BUILD_SECONDS=$((SECONDS - START))

[ -x "$DIST/memeclean" ] && [ -x "$DIST/memeclean-gui" ] || fail "the executables are missing from $DIST"
[ -f "$DIST/_internal/resources/models/memeclean-v1.pt" ] || fail "the model is missing from the bundle"

# No CUDA in the CPU build: no CUDA, cuDNN, NCCL or NVIDIA library (torch.cuda's Python files are harmless).
CUDA=$(find "$DIST" \( -iname 'libcuda*' -o -iname 'libcudart*' -o -iname 'libcudnn*' -o -iname 'libcublas*' \
    -o -iname 'libcufft*' -o -iname 'libcurand*' -o -iname 'libcusolver*' -o -iname 'libcusparse*' \
    -o -iname 'libnccl*' -o -iname 'libnvrtc*' -o -iname 'libnvjitlink*' -o -iname 'libcupti*' \
    -o -iname 'libtorch_cuda*' -o -iname 'libc10_cuda*' -o -iname 'cudart*.dll' -o -iname 'cudnn*.dll' \
    -o \( -type d -name nvidia \) \) -print)
[ -z "$CUDA" ] || fail "CUDA libraries in the bundle: $CUDA"

# Every shared library's link-time dependencies must resolve, in the bundle or on the system (Linux; the bootloader
# puts _internal on the library path, Qt's own RPATHs find the rest).
if command -v ldd >/dev/null 2>&1 && [ "$(uname -s)" = Linux ]; then
    MISSING=$(find "$DIST" -type f \( -name '*.so' -o -name '*.so.*' \) -print0 |
        LD_LIBRARY_PATH="$DIST/_internal" xargs -0 -n 20 ldd 2>/dev/null | grep 'not found' | sort -u || true)
    if echo "$MISSING" | grep -q 'libQt6\|libpyside\|libshiboken\|libtorch\|libc10'; then
        fail "bundled libraries need left-out ones:
$MISSING"
    elif [ -n "$MISSING" ]; then
        echo "build.sh: note: system libraries not on this machine (needed only where those plugins load):"
        echo "$MISSING"
    fi
fi

"$DIST/memeclean" --help >/dev/null || fail "the frozen 'memeclean --help' failed"
echo "build.sh: smoke check passed: dist/memeclean/memeclean --help"

# What CI checks on the frozen app (headless): the GUI's self-test (window offscreen, bundled model cleans the
# bundled sample, result checked) and one CLI clean, compared with the same clean from source.
if [ "${1:-}" = "--check" ]; then
    CHECK=$(mktemp -d)
    trap 'rm -rf "$CHECK"' EXIT
    SAMPLE="$ROOT/resources/samples/sample-meme.jpg"
    QT_QPA_PLATFORM=offscreen HOME="$CHECK/home" "$DIST/memeclean-gui" --self-test || fail "the frozen self-test failed"
    "$DIST/memeclean" clean "$SAMPLE" --output "$CHECK/frozen.png" --device cpu || fail "the frozen 'memeclean clean' failed"
    "$PYTHON" -m memeclean_core clean "$SAMPLE" --output "$CHECK/source.png" --device cpu >/dev/null
    "$PYTHON" - "$CHECK/frozen.png" "$CHECK/source.png" <<'PYEOF' || fail "the frozen clean differs from the clean from source"
import sys
import numpy as np
from PIL import Image
frozen, source = (np.asarray(Image.open(path).convert("RGB")).astype(int) for path in sys.argv[1:3])
assert frozen.shape == source.shape, (frozen.shape, source.shape)
print(f"build.sh: frozen clean vs source: largest difference {np.abs(frozen - source).max()} grey levels")
assert np.abs(frozen - source).max() <= 2
PYEOF
    echo "build.sh: frozen checks passed (self-test, CLI clean equal to the clean from source)"
fi

echo "build.sh: built in ${BUILD_SECONDS} s; bundle size: $(du -sh "$DIST" | cut -f1) ($DIST)"
echo "build.sh: run dist/memeclean/memeclean-gui, or dist/memeclean/memeclean clean IMAGE"
