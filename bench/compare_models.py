"""Two models side by side, per format, against the targets of issues #12 and #25, from the `--json` files of two
`memeclean eval` runs on the same cases (same --data, --count, --seed, --long-side, --resolution):

    memeclean eval --data ../data/val --count 40 --resolution 512 --json runs/v1.json
    memeclean eval --data ../data/val --count 40 --resolution 512 --no-baselines --model runs/v2.pt --json runs/v2.json
    python bench/compare_models.py runs/v1.json runs/v2.json --names v1 v2

The baselines (OCR boxes + Telea, Telea given the true mask) are read from whichever file has them.

Forty cases a row leave a row's text PSNR at the mercy of one or two pictures (an MSE average), so a model can be
compared on several seeds' cases at once: join one model's files with "+" and their rows are pooled, picture by
picture, into one row each (`evaluate.summary_row`); a row missing from one of the files is left out.

    python bench/compare_models.py v3-s0.json+v3-s1.json v4-s0.json+v4-s1.json --names v3 v4
"""

from __future__ import annotations

import json
import math

from _common import arguments

from memeclean_core.training.evaluate import summary_row

OCR, ORACLE, MODEL = "OCR boxes + Telea", "Telea, true mask (oracle)", "MemeClean"
MEASURES = [  # (row key, column title, format string)
    ("psnr_all", "PSNR all", "{:.2f}"),
    ("psnr_text", "PSNR text", "{:.2f}"),
    ("mask_iou", "mask IoU", "{:.3f}"),
    ("text_left", "text left %", "{:.1f}"),
    ("collateral", "collateral %", "{:.1f}"),
    ("missed", "missed %", "{:.1f}"),
    ("many_missed", ">10% missed %", "{:.1f}"),
    ("replaced", "replaced %", "{:.2f}"),
]
SCRIPT_ROWS = [f"script_{name}" for name in ("latin", "cyrillic", "greek", "chinese", "japanese", "korean")]
SCRIPT_ROWS += [f"script_{name}" for name in ("arabic", "hebrew", "devanagari", "thai")]
ALL_ROWS = "every row"  # the worst over every format row (not the pools)


def pooled(results: list[dict]) -> dict:
    """One result whose rows hold the pictures of the same row in every one of `results` (one model, several
    seeds' cases), each row recomputed from its per-picture scores."""
    if len(results) == 1:
        return results[0]
    keyed = [{(r["format"], r["method"], r["resolution"]): r for r in result["rows"]} for result in results]
    # JSON writes an undefined MSE (a picture without caption pixels) as null; the averages skip NaN
    undefined = {"mse_all": math.nan, "mse_text": math.nan}
    rows = []
    for key, first in keyed[0].items():
        parts = [by_key.get(key) for by_key in keyed]
        if any(part is None or not part.get("available", True) or not part.get("per_image") for part in parts):
            continue
        images = [
            {**image, **{k: v for k, v in undefined.items() if image.get(k) is None}}
            for part in parts
            for image in part["per_image"]
        ]
        rows.append(
            summary_row(first["method"], first["resolution"], first["format"], images, first["mask_iou"] is not None)
        )
    return {**results[0], "rows": rows}


def rows_by_format(result: dict, resolution: int | None) -> dict[tuple[str, str], dict]:
    rows = {}
    for row in result["rows"]:
        if row["method"] == MODEL and resolution is not None and row["resolution"] != resolution:
            continue
        if row.get("available", True):
            rows[(row["format"], row["method"])] = row
    return rows


def cell(row: dict | None, key: str, style: str) -> str:
    value = None if row is None else row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return style.format(value)


def table(results: list[dict], names: list[str], resolution: int | None) -> list[str]:
    by_model = [rows_by_format(result, resolution) for result in results]
    baselines = {key: row for rows in by_model for key, row in rows.items() if key[1] in (OCR, ORACLE)}
    formats = list(dict.fromkeys(fmt for rows in by_model for fmt, _ in rows))
    lines = [
        "| format | method | " + " | ".join(title for _, title, _ in MEASURES) + " |",
        "|---|---|" + "---:|" * len(MEASURES),
    ]
    for fmt in formats:
        entries = [
            (label, baselines.get((fmt, method))) for label, method in (("OCR + Telea", OCR), ("oracle", ORACLE))
        ]
        entries += [(name, rows.get((fmt, MODEL))) for name, rows in zip(names, by_model)]
        for label, row in entries:
            if row is not None:
                cells = " | ".join(cell(row, key, style) for key, _, style in MEASURES)
                lines.append(f"| {fmt} | {label} | {cells} |")
    return lines


def worst_round_trip(rows: dict, oracle: dict) -> str:
    """The round trip's worst picture: its whole-image PSNR against the oracle's on the same picture."""
    model, reference = rows.get(("round_trip", MODEL)), oracle.get("round_trip")
    if model is None or reference is None:
        return "-"
    oracle_psnr = {image["name"]: image["psnr_all"] for image in reference["per_image"]}
    gaps = [image["psnr_all"] - oracle_psnr[image["name"]] for image in model["per_image"]]
    below = sum(gap < -1.5 for gap in gaps)
    return f"{min(gaps):+.2f} dB ({below} of {len(gaps)} below -1.5)"


def worst_vs_oracle(rows: dict, oracle: dict) -> str:
    """The row furthest below the oracle in text-region PSNR (clean line art has no text region)."""
    gaps = [
        (model["psnr_text"] - oracle[fmt]["psnr_text"], fmt)
        for (fmt, method), model in rows.items()
        if method == MODEL
        and fmt in oracle
        and not fmt.startswith("all ")
        and fmt != "line_art_clean"
        and model.get("psnr_text") is not None
        and oracle[fmt].get("psnr_text") is not None
        and math.isfinite(model["psnr_text"])
        and math.isfinite(oracle[fmt]["psnr_text"])
    ]
    if not gaps:
        return "-"
    gap, fmt = min(gaps)
    return f"{gap:+.2f} dB ({fmt})"


def formats_beating_ocr(rows: dict, ocr: dict) -> str:
    """How many formats the model beats OCR + Telea on, in text PSNR and text left."""
    won = total = 0
    for fmt, baseline in ocr.items():
        model = rows.get((fmt, MODEL))
        if model is None or fmt in ("all formats", "distractors") or baseline.get("psnr_text") is None:
            continue
        total += 1
        better_text = model["psnr_text"] > baseline["psnr_text"]
        better_left = (model.get("text_left") or 0.0) <= (baseline.get("text_left") or 0.0)
        won += better_text and better_left
    return f"{won} of {total}"


def targets(results: list[dict], names: list[str], resolution: int | None) -> list[str]:
    """The issue's target rows that these files can answer, one column per model."""
    lines = ["| measure | target | " + " | ".join(names) + " |", "|---|---|" + "---:|" * len(names)]
    by_model = [rows_by_format(result, resolution) for result in results]
    oracle = {fmt: row for rows in by_model for (fmt, method), row in rows.items() if method == ORACLE}
    ocr = {fmt: row for rows in by_model for (fmt, method), row in rows.items() if method == OCR}

    def each(measure) -> str:
        return " | ".join(measure(rows) for rows in by_model)

    def round_trip(rows) -> str:
        return worst_round_trip(rows, oracle)

    def beating_ocr(rows) -> str:
        return formats_beating_ocr(rows, ocr)

    def vs_oracle(fmt: str):
        def measure(rows):
            model, reference = rows.get((fmt, MODEL)), oracle.get(fmt)
            if model is None or reference is None:
                return "-"
            return f"{model['psnr_text'] - reference['psnr_text']:+.2f} dB"

        return measure

    def value(fmt: str, key: str, style: str):
        return lambda rows: cell(rows.get((fmt, MODEL)), key, style)

    def worst(key: str, style: str, formats: list[str] | None = None, higher_is_worse: bool = True):
        def measure(rows):
            found = [
                (row.get(key), fmt)
                for (fmt, method), row in rows.items()
                if method == MODEL
                and (formats is None or fmt in formats)
                and not fmt.startswith("all ")
                and row.get(key) is not None
            ]
            if not found:
                return "-"
            value, fmt = max(found) if higher_is_worse else min(found)
            return f"{style.format(value)} ({fmt})"

        return measure

    lines.append(f"| text PSNR vs oracle, classic | >= -0.5 dB | {each(vs_oracle('classic'))} |")
    lines.append(f"| text PSNR vs oracle, labels | >= -0.5 dB | {each(vs_oracle('labels'))} |")
    lines.append(f"| mask IoU, classic | >= 0.90 | {each(value('classic', 'mask_iou', '{:.3f}'))} |")
    lines.append(f"| mask IoU, labels | >= 0.90 | {each(value('labels', 'mask_iou', '{:.3f}'))} |")
    lines.append(f"| caption lines still readable | <= 2 % | {each(value('all formats', 'text_left', '{:.1f} %'))} |")
    lines.append(f"| collateral, all formats | <= 3 % | {each(value('all formats', 'collateral', '{:.1f} %'))} |")
    lines.append(f"| round trip: whole-image PSNR vs oracle, worst picture | >= -1.5 dB | {each(round_trip)} |")
    lines.append(f"| distractors: replaced | <= 0.1 % | {each(value('distractors', 'replaced', '{:.2f} %'))} |")
    lines.append(f"| formats better than OCR + Telea (text PSNR and text left) | all | {each(beating_ocr)} |")
    # issue #25
    lines.append(
        f"| caption pixels missed, worst script row | <= 3 % | {each(worst('missed', '{:.1f} %', SCRIPT_ROWS))} |"
    )
    lines.append(f"| caption lines still readable, worst row | <= 2 % | {each(worst('text_left', '{:.1f} %'))} |")
    lines.append(
        f"| line art without captions: replaced | <= 0.2 % | {each(value('line_art_clean', 'replaced', '{:.2f} %'))} |"
    )
    for fmt in ("line_art", "white_canvas"):
        lines.append(f"| collateral, {fmt} | <= 3 % | {each(value(fmt, 'collateral', '{:.1f} %'))} |")
    lines.append(
        f"| pictures with > 10 % of the caption left, worst row | <= 2 % | {each(worst('many_missed', '{:.1f} %'))} |"
    )
    lines.append(
        f"| text PSNR vs oracle, worst row | >= -0.5 dB | {each(lambda rows: worst_vs_oracle(rows, oracle))} |"
    )
    lines.append(f"| text PSNR vs oracle, watermark | >= +1 dB | {each(vs_oracle('watermark'))} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument(
        "json", nargs="+", help="`memeclean eval --json` files, one per model (A.json+B.json: pooled, one model)"
    )
    parser.add_argument("--names", nargs="+", help="a column name per file (default: the file names)")
    parser.add_argument("--resolution", type=int, default=512, help="the MemeClean rows to compare (default 512)")
    args = parser.parse_args(argv)
    names = args.names or [spec.split("+")[0].rsplit("/", 1)[-1].removesuffix(".json") for spec in args.json]
    if len(names) != len(args.json):
        parser.error("give one name per file")
    results = []
    for spec in args.json:
        parts = []
        for path in spec.split("+"):
            with open(path, encoding="utf-8") as file:
                parts.append(json.load(file))
        results.append(pooled(parts))
    print("\n".join(table(results, names, args.resolution)))
    print()
    print("\n".join(targets(results, names, args.resolution)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
