#!/usr/bin/env bash
# Everything MemeClean needs on a fresh Debian/Ubuntu machine: the system libraries Qt loads (also offscreen),
# a fallback font, the CPU build of PyTorch, and the app with its dev, test, evaluation and Ray extras (editable);
# desktop-file-utils for the tests of the Linux desktop entry.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends \
        libgl1 libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3 fonts-dejavu-core \
        desktop-file-utils >/dev/null
    # Qt's real platforms, not only offscreen: X11 (xcb; Qt 6.5+ needs libxcb-cursor0) and Wayland's client
    # libraries; FriBiDi, which Pillow loads for right-to-left captions; Xvfb, weston (headless) and xauth for the
    # display checks, lintian and binutils for the .deb and the bundle, xz for its .tar.xz (packaging/build.sh).
    $SUDO apt-get install -y -qq --no-install-recommends \
        libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
        libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-util1 libx11-xcb1 \
        libwayland-client0 libwayland-cursor0 libwayland-egl1 libfribidi0 xvfb weston xauth lintian binutils xz-utils >/dev/null
fi
python3 -m pip install -q --upgrade pip
# The pinned CPU wheel first: a looser torch requirement would pull gigabytes of CUDA packages.
python3 -m pip install -q torch==2.13.0
python3 -m pip install -q -e ".[dev,eval,cluster]"
