"""OpenVINO at float32 against bfloat16: `memeclean eval`'s per-format rows for both, on the same cases.

    python bench/bench_precision.py --data DATA/val [--count 16] [--formats all] [--resolution 512] [--json FILE]
                                    [--candidate bf16|fill-bf16|mask-bf16]

The candidate is bf16 for both networks (default), or for the fill network or the mask network only.

bf16 may become the default only where no format row is worse than f32 by more than 0.1 dB of text-region PSNR and
no mask IoU moves by more than 0.005 (issue 26); the last line says whether it passes. bf16 needs a CPU with
AVX-512 BF16 or AMX (OpenVINO emulates nothing: elsewhere it runs f32 and the rows are equal).
"""

from __future__ import annotations

import json
import math
import time

from _common import arguments

MAX_TEXT_PSNR_LOSS = 0.1  # dB
MAX_IOU_CHANGE = 0.005


CANDIDATES = {
    "bf16": "bf16",
    "fill-bf16": {"mask": "f32", "fill": "bf16"},
    "mask-bf16": {"mask": "bf16", "fill": "f32"},
}


def evaluate(
    data: str, count: int, formats: list[str], resolution: int, candidate: str = "bf16"
) -> dict[str, dict[str, dict]]:
    """{"f32" / "bf16": {format: MemeClean's row}} for f32 and the candidate ("bf16" key), on one set of cases."""
    from memeclean_core.network.checkpoint import load_model
    from memeclean_core.training.evaluate import DEFAULT_FORMATS, MODEL, evaluate_model, load_cases

    cases, source = load_cases(data, count=count, seed=0, long_side=1024, formats=formats or DEFAULT_FORMATS)
    print(source, flush=True)
    rows: dict[str, dict[str, dict]] = {}
    for precision, setting in (("f32", "f32"), ("bf16", CANDIDATES[candidate])):
        model = load_model(device="cpu", runtime="openvino")
        model.runner.precision = setting  # before the first compile
        started = time.perf_counter()
        result = evaluate_model(model, cases, [resolution], baselines=False)
        rows[precision] = {row["format"]: row for row in result["rows"] if row["method"] == MODEL}
        print(f"{precision}: {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def compare(rows: dict[str, dict[str, dict]]) -> bool:
    print("| format | PSNR text f32 | bf16 | Δ dB | mask IoU f32 | bf16 | Δ | ms f32 | ms bf16 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    for group, f32 in rows["f32"].items():
        bf16 = rows["bf16"][group]
        text = bf16["psnr_text"] - f32["psnr_text"]
        iou = bf16["mask_iou"] - f32["mask_iou"]
        # a format without caption text (distractors, clean line art) has no text-region PSNR: only its IoU counts
        ok &= (math.isnan(text) or text >= -MAX_TEXT_PSNR_LOSS) and abs(iou) <= MAX_IOU_CHANGE
        print(
            f"| {group} | {f32['psnr_text']:.2f} | {bf16['psnr_text']:.2f} | {text:+.2f} | {f32['mask_iou']:.3f} | "
            f"{bf16['mask_iou']:.3f} | {iou:+.3f} | {f32['ms_per_image']:.0f} | {bf16['ms_per_image']:.0f} |"
        )
    limits = f"text PSNR within {MAX_TEXT_PSNR_LOSS} dB, mask IoU within {MAX_IOU_CHANGE}"
    print(f"bf16 {'passes' if ok else 'FAILS'} ({limits} on every row)")
    return ok


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--data", required=True, help="a saved validation set or a prepared data folder")
    parser.add_argument("--count", type=int, default=16, help="cases per format (default 16)")
    parser.add_argument("--formats", nargs="+", default=[], help="format groups (default: all of memeclean eval's)")
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--json", help="write the rows of both precisions to FILE")
    parser.add_argument("--candidate", choices=sorted(CANDIDATES), default="bf16", help="bf16 where (default: both)")
    args = parser.parse_args()
    rows = evaluate(args.data, args.count, args.formats, args.resolution, args.candidate)
    compare(rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(rows, file, indent=1, default=str)


if __name__ == "__main__":
    main()
