#!/usr/bin/env bash
# Build the MemeClean bundle: dist/memeclean/ with `memeclean` (the CLI) and `memeclean-gui` (the app: on Linux and
# macOS a link to the same executable), the bundled weights, fonts and sample under dist/memeclean/_internal/resources/,
# and on Linux the desktop install scripts (packaging/linux/) and a README; then the archive a user downloads,
# dist/memeclean-VERSION-linux-x86_64.tar.xz (one top-level folder). Run from anywhere, after scripts/setup.sh:
#
#     bash packaging/build.sh [--check]
#
# The bundle is built from this checkout's sources (PYTHONPATH is set to it; an editable install elsewhere does not
# leak in). --check also runs what CI runs on the result: the frozen GUI self-test, a frozen clean and a frozen caption
# export (both compared with the same run from source), a frozen 20-step training run and the single-instance
# hand-over (a second launch gives its file to the running app).
# Installs the pinned PyInstaller, builds from packaging/memeclean.spec, then checks the result: no CUDA library,
# every shared library's dependencies resolvable, `memeclean --help` answers. Prints the size and the build time.
# On a busy machine, run it as `nice -n 19 bash packaging/build.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
DIST="$ROOT/dist/memeclean"
START=$SECONDS
# PyInstaller follows sys.path: this checkout's packages first, whatever else is installed.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

# PyInstaller 6.22.3 supports Python 3.8-3.14 and has hooks for PySide6 6.x; hooks-contrib carries the torch hook.
PYINSTALLER_PINS=("pyinstaller==6.22.3" "pyinstaller-hooks-contrib==2026.9")

fail() { echo "build.sh: $*" >&2; exit 1; }

SOURCE_DIR=$("$PYTHON" -c 'import os, memeclean_core; print(os.path.dirname(os.path.dirname(memeclean_core.__file__)))')
[ "$SOURCE_DIR" = "$ROOT" ] || fail "memeclean_core is imported from $SOURCE_DIR, not from $ROOT"
VERSION=$("$PYTHON" -c 'import memeclean_core; print(memeclean_core.__version__)')

# MEMECLEAN_BUNDLE_MODEL=FILE bundles another checkpoint under the shipped name (default: the repository's).
MODEL=${MEMECLEAN_BUNDLE_MODEL:-resources/models/memeclean-v3.pt}
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

IS_LINUX=false
[ "$(uname -s)" = Linux ] && IS_LINUX=true
if [ ! -e "$DIST/memeclean-gui" ] && [ ! -e "$DIST/memeclean-gui.exe" ]; then
    ln -s memeclean "$DIST/memeclean-gui"  # one executable: started by this name it is the app (run_memeclean.py)
fi
[ -x "$DIST/memeclean" ] && [ -x "$DIST/memeclean-gui" ] || fail "the executables are missing from $DIST"
[ -f "$DIST/_internal/resources/models/memeclean-v3.pt" ] || fail "the model is missing from the bundle"

# No CUDA in the CPU build: no CUDA, cuDNN, NCCL or NVIDIA library (torch.cuda's Python files are harmless).
CUDA=$(find "$DIST" \( -iname 'libcuda*' -o -iname 'libcudart*' -o -iname 'libcudnn*' -o -iname 'libcublas*' \
    -o -iname 'libcufft*' -o -iname 'libcurand*' -o -iname 'libcusolver*' -o -iname 'libcusparse*' \
    -o -iname 'libnccl*' -o -iname 'libnvrtc*' -o -iname 'libnvjitlink*' -o -iname 'libcupti*' \
    -o -iname 'libtorch_cuda*' -o -iname 'libc10_cuda*' -o -iname 'cudart*.dll' -o -iname 'cudnn*.dll' \
    -o \( -type d -name nvidia \) \) -print)
[ -z "$CUDA" ] || fail "CUDA libraries in the bundle: $CUDA"

# The X11 platform's libraries that a minimal desktop may lack travel with the bundle (PyInstaller collects them as
# dependencies of Qt's xcb plugin when they are installed here), and so does FriBiDi, which Pillow's complex text
# layout (raqm: right-to-left and shaped captions) loads by name at run time (the spec adds it).
BUNDLED_HOST_LIBS=(libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-image.so.0 libxcb-keysyms.so.1 libxcb-randr.so.0
    libxcb-render-util.so.0 libxcb-shape.so.0 libxcb-util.so.1 libxcb-xkb.so.1 libxkbcommon-x11.so.0)
if $IS_LINUX; then
    for lib in "${BUNDLED_HOST_LIBS[@]}" libfribidi.so.0; do
        [ -e "$DIST/_internal/$lib" ] || fail "$lib is not in the bundle: install the libraries scripts/setup.sh lists"
    done
fi

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

[ "$("$DIST/memeclean-gui" --version)" = "memeclean-gui $VERSION" ] || fail "memeclean-gui does not start the app"

# The desktop integration and the bundle's own README, at the top of the folder (Linux).
if $IS_LINUX; then
    cp -R packaging/linux/. "$DIST/"
    cp packaging/README-bundle.txt "$DIST/README.txt"
fi

# What CI checks on the frozen app (headless): the GUI's self-test (window offscreen, bundled model cleans the
# bundled sample, result checked), a CLI clean and a caption export, each compared with the same run from source,
# and a 20-step training run of a tiny network on procedural pictures (torch's autograd and optimiser, the data
# pipeline with one worker process, the checkpoint written and loaded again by a clean).
if [ "${1:-}" = "--check" ]; then
    CHECK=$(mktemp -d)
    trap 'rm -rf "$CHECK"' EXIT
    SAMPLE="$ROOT/resources/samples/sample-meme.jpg"
    export HOME="$CHECK/home" XDG_CONFIG_HOME="$CHECK/config" XDG_DATA_HOME="$CHECK/data" XDG_STATE_HOME="$CHECK/state"
    export XDG_CACHE_HOME="$CHECK/cache"  # the user's own folders stay untouched
    QT_QPA_PLATFORM=offscreen "$DIST/memeclean-gui" --self-test || fail "the frozen self-test failed"
    "$DIST/memeclean" clean "$SAMPLE" --output "$CHECK/frozen.png" --device cpu || fail "the frozen 'memeclean clean' failed"
    "$PYTHON" -m memeclean_core clean "$SAMPLE" --output "$CHECK/source.png" --device cpu >/dev/null
    "$DIST/memeclean" caption "$CHECK/frozen.png" --top "FROZEN TOP" --bottom "BOTTOM TEXT" \
        --output "$CHECK/frozen-caption.png" || fail "the frozen 'memeclean caption' failed"
    "$PYTHON" -m memeclean_core caption "$CHECK/frozen.png" --top "FROZEN TOP" --bottom "BOTTOM TEXT" \
        --output "$CHECK/source-caption.png" >/dev/null
    # Captions in other scripts: right to left and shaped (Pillow's raqm with FriBiDi, which the bundle carries: the
    # host's copy is hidden where that is possible, as root), and glyphs the caption font lacks from a fallback font.
    WORLD=(--top "مرحبا بالعالم שלום 你好" --bottom "こんにちは 안녕 नमस्ते สวัสดี Привет Γειά")
    HIDE_FRIBIDI=()
    FRIBIDI_HOST=$(/sbin/ldconfig -p | awk '$1 == "libfribidi.so.0" && /x86-64/ {print $NF; exit}')
    if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 && [ -n "$FRIBIDI_HOST" ]; then
        HIDE_FRIBIDI=(unshare -m sh -c "mount --bind /dev/null $(readlink -f "$FRIBIDI_HOST") && exec \"\$@\"" sh)
    fi
    "${HIDE_FRIBIDI[@]}" "$DIST/memeclean" caption "$CHECK/frozen.png" "${WORLD[@]}" \
        --output "$CHECK/frozen-world.png" || fail "the frozen 'memeclean caption' failed on other scripts"
    "$PYTHON" -m memeclean_core caption "$CHECK/frozen.png" "${WORLD[@]}" --output "$CHECK/source-world.png" >/dev/null
    "$PYTHON" - "$CHECK" <<'PYEOF' || fail "a frozen result differs from the same run from source"
import sys
from pathlib import Path
import numpy as np
from PIL import Image
check = Path(sys.argv[1])
for what, frozen, source, tolerance in (("clean", "frozen.png", "source.png", 2),
                                        ("caption export", "frozen-caption.png", "source-caption.png", 0),
                                        ("caption in other scripts", "frozen-world.png", "source-world.png", 0)):
    a, b = (np.asarray(Image.open(check / name).convert("RGB")).astype(int) for name in (frozen, source))
    assert a.shape == b.shape, (what, a.shape, b.shape)
    difference = np.abs(a - b).max()
    print(f"build.sh: frozen {what} vs source: largest difference {difference} grey levels")
    assert difference <= tolerance, what
PYEOF
    mkdir -p "$CHECK/train-data"
    timeout 600 "$DIST/memeclean" train --data "$CHECK/train-data" --out "$CHECK/trained.pt" --steps 20 --batch 2 \
        --crop 64 --resolution 256 --workers 1 --device cpu --model-config '{"mask_channels": 4, "mask_levels": 2, '\
'"fill_channels": 4, "fill_levels": 2, "max_channels": 8, "head_channels": 4}' >"$CHECK/train.log" 2>&1 \
        || { cat "$CHECK/train.log"; fail "the frozen 'memeclean train' failed"; }
    "$DIST/memeclean" clean "$SAMPLE" --model "$CHECK/trained.pt" --output "$CHECK/trained.png" --device cpu \
        >/dev/null || fail "the model the frozen training wrote does not clean"
    echo "build.sh: frozen 20-step training run passed ($(tail -n 1 "$CHECK/train.log"))"
    # One window: a second launch hands its file to the running app (QtNetwork's local socket) and exits.
    mkdir -p "$CHECK/runtime" && chmod 700 "$CHECK/runtime"
    XDG_RUNTIME_DIR="$CHECK/runtime" QT_QPA_PLATFORM=offscreen "$DIST/memeclean-gui" >"$CHECK/first.log" 2>&1 &
    FIRST=$!
    for _ in $(seq 120); do [ -S "$CHECK/runtime/memeclean-gui.socket" ] && break; sleep 0.5; done
    HANDED=$(XDG_RUNTIME_DIR="$CHECK/runtime" QT_QPA_PLATFORM=offscreen timeout 120 "$DIST/memeclean-gui" "$SAMPLE" \
        2>/dev/null || true)
    kill "$FIRST" 2>/dev/null || true
    wait "$FIRST" 2>/dev/null || true
    case "$HANDED" in *"handed over"*) echo "build.sh: frozen single-instance hand-over passed" ;;
        *) cat "$CHECK/first.log"; fail "a second frozen launch did not hand its file to the running app" ;; esac
    # Real display platforms: the frozen app (with the host's copies of the X11 libraries it carries hidden, so it
    # starts on a desktop without them) and the app from source, each under Xvfb (xcb) and, where weston is
    # installed, under weston's headless backend (Wayland): open the sample, clean it, check a screenshot.
    HIDE=()
    if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1; then
        for lib in "${BUNDLED_HOST_LIBS[@]}"; do HIDE+=(--hide-host-library "$lib"); done
    fi
    for platform in xcb wayland; do
        for program in frozen source; do
            if [ $program = frozen ]; then
                RUN=("$DIST/memeclean-gui")
                [ $platform = xcb ] && RUN=("${HIDE[@]}" -- "${RUN[@]}") || RUN=(-- "${RUN[@]}")
            else
                RUN=(-- "$PYTHON" -m memeclean_gui)
            fi
            STATUS=0
            "$PYTHON" packaging/check_display.py "$platform" "${RUN[@]}" || STATUS=$?
            if [ $STATUS -eq 2 ] && [ $platform = wayland ]; then
                echo "build.sh: note: the Wayland check did not run (weston is not installed)"
            elif [ $STATUS -ne 0 ]; then
                fail "the $program app failed on the $platform platform (packaging/check_display.py)"
            fi
        done
    done
    echo "build.sh: frozen checks passed (self-test, clean and caption export equal to source, training, hand-over," \
        "X11 and Wayland)"
fi

# The archive a user downloads: one top-level folder named after the version (links kept as links).
if $IS_LINUX; then
    NAME="memeclean-$VERSION-linux-$(uname -m)"
    ARCHIVE="$ROOT/dist/$NAME.tar.xz"
    rm -f "$ROOT/dist/$NAME".tar.*
    # xz -9, as the .deb: gzip cannot bring torch, Qt, OpenCV and OpenVINO under the 220 MB download target (gzip -9
    # made 311 MB); xz's 64 MiB dictionary finds the repeats across the large libraries (216 MB for the .deb). Every
    # tar unpacks it (`tar -xf`); two threads keep the build's time.
    tar -C "$ROOT/dist" --owner=0 --group=0 --transform "s,^memeclean,$NAME,S" -I "xz -9 -T2" -cf "$ARCHIVE" memeclean
    echo "build.sh: archive: $(du -h "$ARCHIVE" | cut -f1) ($ARCHIVE)"
fi

# The Debian package (Debian/Ubuntu): the bundle under /opt/memeclean, the programs on the PATH, menu entry, icons
# and the "Open With" association; lintian must report no error. --check installs it into a temporary root, runs
# the installed selftest and the desktop entry's command, and removes it.
if $IS_LINUX && command -v dpkg-deb >/dev/null 2>&1; then
    bash packaging/deb/build-deb.sh "$DIST" "$VERSION" "$ROOT/dist"
    DEB="$ROOT/dist/memeclean_${VERSION}_$(dpkg --print-architecture).deb"
    if command -v lintian >/dev/null 2>&1; then
        lintian --fail-on error "$DEB" \
            || fail "lintian reports errors in $DEB"
        echo "build.sh: lintian: no errors"
    fi
    if [ "${1:-}" = "--check" ]; then
        PYTHON="$PYTHON" bash packaging/deb/check-deb.sh "$DEB" || fail "the Debian package check failed"
    fi
fi

echo "build.sh: built in ${BUILD_SECONDS} s; bundle size: $(du -sh "$DIST" | cut -f1) ($DIST)"
echo "build.sh: run dist/memeclean/memeclean-gui, or dist/memeclean/memeclean clean IMAGE"
