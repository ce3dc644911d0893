#!/usr/bin/env bash
# Train the next MemeClean model on a machine with a CUDA GPU, many cores and no network, in about 10 minutes.
#
#   python3 scripts/build_dataset.py --out DATA --pack memeclean-data.tar    # once, where the data was built
#   bash scripts/train_gpu.sh memeclean-data.tar OUT [--minutes 10] [--preset large] [--batch 32] [...]
#
# Needs only this checkout and a Python with torch (a CUDA build), numpy, pillow, opencv-python-headless and
# platformdirs; nothing is downloaded. The pack is unpacked once into $MEMECLEAN_WORK (default
# ${TMPDIR:-/tmp}/memeclean-train), where the full checkpoint (weights + optimiser) is kept too. OUT receives what
# to bring back: model-fp16.pt (rewritten every --snapshot-minutes, <= 16 MB), train-log.jsonl, summary.json,
# train.log and the validation scores eval-new.json / eval-bundled.json. Further options: scripts/train_gpu.py.
# On a machine without CUDA the same path runs on the CPU (fp32, no autocast), as the test does with --preset tiny.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash scripts/train_gpu.sh PACK.tar OUT_DIR [options of scripts/train_gpu.py]" >&2
    exit 2
fi
PACK="$(realpath "$1")"
mkdir -p "$2"
OUT="$(realpath "$2")"
shift 2
WORK="$(realpath -m "${MEMECLEAN_WORK:-${TMPDIR:-/tmp}/memeclean-train}")"
mkdir -p "$WORK"
cd "$(dirname "$0")/.."

check_python() {
    python3 - <<'PY'
import importlib.util, sys
missing = [m for m in ("torch", "numpy", "PIL", "cv2", "platformdirs") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"train_gpu.sh: missing Python packages: {', '.join(missing)} (install them before going offline)")
import torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (training runs on the CPU)"
print(f"torch {torch.__version__}, CUDA GPU: {gpu}", flush=True)
PY
}

unpack() {
    local stamp
    stamp="$(stat -c '%s %Y' "$PACK") $(basename "$PACK")"
    if [ "$(cat "$WORK/data/.unpacked" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$WORK/data"
        mkdir -p "$WORK/data"
        tar -xf "$PACK" -C "$WORK/data"
        echo "$stamp" > "$WORK/data/.unpacked"
        echo "unpacked $PACK into $WORK/data"
    fi
}

run() {
    check_python
    unpack
    # Data workers are single-threaded processes, one per core; the training process drives the GPU.
    OMP_NUM_THREADS=1 OPENCV_FOR_THREADS_NUM=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" \
        python3 -u scripts/train_gpu.py --data "$WORK/data" --out "$OUT" --work "$WORK" "$@"
}

run "$@" 2>&1 | tee -a "$OUT/train.log"
