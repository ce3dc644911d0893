"""Evaluation: metrics on crafted images, the validation set (deterministic, saved and loaded), the baselines and
`memeclean eval` end to end with the tiny random model."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from memeclean_core.cli import main
from memeclean_core.errors import Cancelled, MemeCleanError
from memeclean_core.training import evaluate as ev

from .conftest import make_meme

VALSET = Path(__file__).parent / "data" / "valset"


# ------------------------------------------------------------------------------------------------------ metrics


def test_psnr_of_one_pixel_off_by_a_known_amount_is_exact():
    a = np.zeros((10, 20, 3), np.uint8)
    b = a.copy()
    b[3, 4, 1] = 10  # one channel of one pixel: MSE = 10² / (10·20·3)
    assert ev.mse(a, b) == pytest.approx(100 / 600)
    assert ev.psnr(a, b) == pytest.approx(10 * math.log10(255**2 * 600 / 100))
    region = np.zeros((10, 20), bool)
    region[3, 4] = region[0, 0] = True  # two pixels, six values, one of them off by 10
    assert ev.psnr(a, b, region) == pytest.approx(10 * math.log10(255**2 * 6 / 100))


def test_identical_images_and_empty_regions():
    a = np.full((8, 8, 3), 77, np.uint8)
    assert ev.psnr(a, a) == math.inf
    assert math.isnan(ev.psnr(a, a, np.zeros((8, 8), bool)))
    assert ev.ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert ev.mean_psnr([0.0, 0.0]) == math.inf
    assert math.isnan(ev.mean_psnr([math.nan]))


def test_set_psnr_comes_from_the_mean_mse():
    assert ev.mean_psnr([1.0, 0.0, math.nan]) == pytest.approx(10 * math.log10(255**2 / 0.5))
    assert ev.mean_psnr([4.0, 16.0]) != pytest.approx(np.mean([ev.psnr_from_mse(4.0), ev.psnr_from_mse(16.0)]))


def test_ssim_of_flat_images_is_the_luminance_term_and_noise_lowers_it(rng):
    x, y = np.full((16, 16), 100, np.uint8), np.full((16, 16), 110, np.uint8)
    c1 = (0.01 * 255) ** 2
    assert ev.ssim(x, y) == pytest.approx((2 * 100 * 110 + c1) / (100**2 + 110**2 + c1))
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    noisy = np.clip(image + rng.normal(0, 20, image.shape), 0, 255).astype(np.uint8)
    very_noisy = np.clip(image + rng.normal(0, 60, image.shape), 0, 255).astype(np.uint8)
    assert 1.0 > ev.ssim(image, noisy) > ev.ssim(image, very_noisy) > 0.0


def test_mask_iou():
    a, b = np.zeros((6, 6), bool), np.zeros((6, 6), bool)
    a[0:2, 0:2] = True
    b[0:2, 1:3] = True  # overlap 2, union 6
    assert ev.mask_iou(a, b) == pytest.approx(1 / 3)
    assert ev.mask_iou(a, a) == 1.0
    assert ev.mask_iou(a, ~a) == 0.0
    assert ev.mask_iou(np.zeros((3, 3), bool), np.zeros((3, 3), bool)) == 1.0


def test_text_region_is_the_true_mask_dilated_two_pixels_whatever_the_pipeline_uses(monkeypatch):
    from memeclean_core.cleaning import pipeline
    from memeclean_core.cleaning.pipeline import dilate

    monkeypatch.setattr(pipeline, "WORKING_DILATION", 7)  # tuning the pipeline moves neither metric nor baselines
    mask = np.zeros((15, 15), bool)
    mask[7, 7] = True
    region = ev.text_region(mask)
    assert region.sum() > 1 and region[7, 5] and region[5, 7] and not region[7, 4]
    np.testing.assert_array_equal(region, dilate(mask, 2))
    meme = np.full((15, 15, 3), 100, np.uint8)
    meme[mask] = 255
    filled = ev.oracle_telea(meme, mask)
    assert (filled[dilate(mask, 2)] != 255).all() and (filled[~dilate(mask, 2)] == 100).all()


# ------------------------------------------------------------------------------------------------ validation set


@pytest.fixture(scope="module")
def prepared_folder(tmp_path_factory) -> Path:
    """A prepared data folder with one picture and no fonts (the bundled font is used)."""
    root = tmp_path_factory.mktemp("prepared")
    (root / "images").mkdir()
    yy, xx = np.mgrid[0:200, 0:300]
    picture = np.stack([xx * 0.8, yy, (xx + yy) % 256], -1).astype(np.uint8)
    Image.fromarray(picture).save(root / "images" / "picture.png")
    return root


def test_validation_set_is_deterministic(prepared_folder):
    first = ev.make_validation_set(prepared_folder, 3, seed=5, long_side=96)
    again = ev.make_validation_set(prepared_folder, 3, seed=5, long_side=96)
    prefix = ev.make_validation_set(prepared_folder, 2, seed=5, long_side=96)
    other = ev.make_validation_set(prepared_folder, 3, seed=6, long_side=96)
    assert [c.name for c in first] == ["000", "001", "002"]
    for a, b in zip(first, again):
        for field in ("meme", "template", "mask"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    for a, b in zip(first, prefix):
        np.testing.assert_array_equal(a.meme, b.meme)
    assert not all(np.array_equal(a.meme, b.meme) for a, b in zip(first, other))
    for case in first:
        assert max(case.meme.shape[:2]) == 96 and case.mask.dtype == bool and case.mask.any()
        assert case.meme.shape == case.template.shape and case.mask.shape == case.meme.shape[:2]


def test_save_and_load_round_trip(prepared_folder, tmp_path):
    cases = ev.make_validation_set(prepared_folder, 2, seed=1, long_side=80)
    ev.save_validation_set(cases, tmp_path / "set")
    assert sorted(p.name for p in (tmp_path / "set" / "masks").iterdir()) == ["000.png", "001.png"]
    loaded = ev.load_validation_set(tmp_path / "set")
    for a, b in zip(cases, loaded):
        assert a.name == b.name
        np.testing.assert_array_equal(a.meme, b.meme)
        np.testing.assert_array_equal(a.template, b.template)
        np.testing.assert_array_equal(a.mask, b.mask)
    (tmp_path / "set" / "templates" / "001.png").unlink()
    with pytest.raises(MemeCleanError, match="missing"):
        ev.load_validation_set(tmp_path / "set")


def test_load_cases_accepts_both_layouts(prepared_folder, tmp_path):
    cases, text = ev.load_cases(prepared_folder, count=2, seed=0, long_side=64)
    assert len(cases) == 2 and "generated" in text
    ev.save_validation_set(cases, tmp_path / "saved")
    again, text = ev.load_cases(tmp_path / "saved", count=99)
    assert len(again) == 2 and "saved set" in text
    with pytest.raises(MemeCleanError, match="neither"):
        ev.load_cases(tmp_path)


def test_the_fixed_validation_set_is_small_and_complete():
    cases = ev.load_validation_set(VALSET)
    assert [c.name for c in cases] == [f"{i:03d}" for i in range(6)]
    assert all(max(c.meme.shape[:2]) == 384 and c.mask.any() for c in cases)
    assert sum(p.stat().st_size for p in VALSET.rglob("*")) < 3 * 2**20


# ------------------------------------------------------------------------------------------- baselines and runs


class FakeOCR:
    """rapidocr's call signature and output: BGR array in, `.boxes` N×4×2 (x, y) out."""

    def __init__(self):
        self.calls = 0

    def __call__(self, image, use_det=None, use_cls=None, use_rec=None):
        self.calls += 1
        assert image.ndim == 3 and use_cls is False and use_rec is False
        h, w = image.shape[:2]
        return SimpleNamespace(boxes=np.array([[[0, 0], [w // 2, 0], [w // 2, h // 4], [0, h // 4]]], np.float32))


def test_ocr_boxes_become_a_filled_mask():
    meme, _, _ = make_meme(60, 40)
    boxes = ev.ocr_text_mask(FakeOCR(), meme)
    assert boxes[:10, :30].all() and not boxes[12:].any() and not boxes[:, 32:].any()
    filled, mask = ev.ocr_telea(FakeOCR(), meme)
    np.testing.assert_array_equal(mask, boxes)
    assert not np.array_equal(filled[:10, :30], meme[:10, :30])
    np.testing.assert_array_equal(filled[20:], meme[20:])


def test_rapidocr_finds_a_big_caption():
    pytest.importorskip("rapidocr")
    pytest.importorskip("onnxruntime")
    meme, _, mask = make_meme(240, 180)
    boxes = ev.ocr_text_mask(ev.make_ocr_engine(), meme)
    assert ev.mask_iou(boxes, mask) > 0.2


def test_evaluate_model_rows_progress_and_cancel(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # the `eval` extra is not installed
    meme, template, mask = make_meme(80, 60)
    cases = [ev.ValCase("a", meme, template, mask)]
    fractions = []
    result = ev.evaluate_model(tiny_model, cases, [64, 96], progress=lambda f, m: fractions.append(f))
    rows = {(r["method"], r["resolution"]): r for r in result["rows"]}
    assert list(rows) == [(ev.IDENTITY, None), (ev.OCR_TELEA, None), (ev.MODEL, 64), (ev.MODEL, 96), (ev.ORACLE, None)]
    assert rows[(ev.OCR_TELEA, None)]["available"] is False
    assert rows[(ev.OCR_TELEA, None)]["note"] == ev.OCR_MISSING
    assert rows[(ev.ORACLE, None)]["psnr_text"] > rows[(ev.IDENTITY, None)]["psnr_text"] + 3
    assert rows[(ev.IDENTITY, None)]["psnr_text"] == pytest.approx(ev.psnr(meme, template, ev.text_region(mask)))
    assert rows[(ev.IDENTITY, None)]["mask_iou"] is None and 0 <= rows[(ev.MODEL, 64)]["mask_iou"] <= 1
    assert fractions[-1] == pytest.approx(1.0) and fractions == sorted(fractions)
    table = ev.format_table(result)
    assert ev.OCR_MISSING in table and "mask IoU" in table
    json.dumps(ev.jsonable(result), allow_nan=False)
    with pytest.raises(Cancelled):
        ev.evaluate_model(tiny_model, cases, [64], cancel=lambda: True)


def test_memeclean_eval_prints_every_method(prepared_folder, tiny_model_path, tmp_path, monkeypatch, capsys):
    fake = FakeOCR()
    monkeypatch.setattr(ev, "make_ocr_engine", lambda: fake)
    out_json, examples = tmp_path / "result.json", tmp_path / "examples"
    code = main(
        [
            "eval",
            "--data",
            str(prepared_folder),
            "--formats",
            "aggregate",
            "--count",
            "3",
            "--long-side",
            "96",
            "--resolution",
            "64",
            "--model",
            str(tiny_model_path),
            "--device",
            "cpu",
            "--no-text-left",
            "--json",
            str(out_json),
            "--save-examples",
            str(examples),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[1] == "aggregate: 3 cases" and lines[2].split()[:2] == ["method", "resolution"]
    for method in (ev.IDENTITY, ev.OCR_TELEA, ev.MODEL, ev.ORACLE):
        assert any(line.startswith(method) for line in lines), method
    assert fake.calls == 1 + 3  # a warm-up on a blank picture + 3 memes (the warm-up of the method is cached)
    numbers = json.loads(out_json.read_text())
    assert numbers["cases"] == 3 and len(numbers["rows"]) == 4 and numbers["groups"] == ["aggregate"]
    assert all(len(row["per_image"]) == 3 for row in numbers["rows"])
    assert sorted(p.name for p in examples.iterdir()) == ["000_r64.png", "001_r64.png", "002_r64.png"]


def test_memeclean_eval_prints_a_table_per_format(prepared_folder, tiny_model_path, tmp_path, monkeypatch, capsys):
    fake = FakeOCR()
    monkeypatch.setattr(ev, "make_ocr_engine", lambda: fake)
    out_json = tmp_path / "result.json"
    code = main(
        [
            "eval",
            "--data",
            str(prepared_folder),
            "--formats",
            "caption_bar",
            "distractors",
            "round_trip",
            "--count",
            "2",
            "--long-side",
            "96",
            "--resolution",
            "64",
            "--model",
            str(tiny_model_path),
            "--device",
            "cpu",
            "--json",
            str(out_json),
            "--markdown",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    for title in (
        "**caption_bar** (2 cases)",
        "**distractors** (2 cases)",
        "**round_trip** (1 cases)",
        "**all formats** (4 cases)",
    ):
        assert title in printed, title
    assert "| text left % | collateral % | missed % | >10% missed % | replaced % |" in printed
    numbers = json.loads(out_json.read_text())
    assert numbers["groups"] == ["caption_bar", "distractors", "round_trip", "all formats"]
    rows = {(row["format"], row["method"], row["resolution"]): row for row in numbers["rows"]}
    assert len(rows) == 4 * 4
    assert rows[("distractors", ev.IDENTITY, None)]["replaced"] == 0.0
    assert rows[("distractors", ev.ORACLE, None)]["collateral"] is None  # nothing replaced: no caption
    assert rows[("caption_bar", ev.ORACLE, None)]["collateral"] == 0.0  # the true mask, dilated 2 px
    assert rows[("caption_bar", ev.ORACLE, None)]["missed"] == 0.0  # ... which covers every caption pixel
    assert rows[("caption_bar", ev.IDENTITY, None)]["missed"] == 100.0  # nothing replaced: every pixel missed
    assert rows[("caption_bar", ev.IDENTITY, None)]["many_missed"] == 100.0
    assert rows[("distractors", ev.IDENTITY, None)]["missed"] is None  # no caption pixels to miss
    assert rows[("all formats", ev.MODEL, 64)]["images"] == 4  # the round trip is not one of the formats
    # FakeOCR's box (the top-left quarter) counts where the caption fills half of it: never an unknown number.
    assert all(row["text_boxes_meme"] is not None for row in numbers["rows"])


def test_the_cli_knows_every_format():
    from memeclean_core.cli.eval import FORMAT_NAMES

    assert FORMAT_NAMES == ev.EVAL_FORMATS == ev.DEFAULT_FORMATS


def test_memeclean_eval_reads_a_saved_set_and_reports_bad_data(tiny_model_path, tmp_path, capsys):
    assert (
        main(
            [
                "eval",
                "--data",
                str(VALSET),
                "--resolution",
                "64",
                "--no-baselines",
                "--model",
                str(tiny_model_path),
                "--device",
                "cpu",
                "--markdown",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "6 cases from the saved set" in printed and "| MemeClean | 64 |" in printed
    assert main(["eval", "--data", str(tmp_path), "--model", str(tiny_model_path)]) == 1
    assert "neither" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- what users see: new metrics


def test_collateral_of_a_mask_exactly_on_the_caption_is_zero_and_a_far_blob_counts_fully():
    caption = np.zeros((40, 60), bool)
    caption[10:14, 10:30] = True  # 80 px
    assert ev.collateral_pixels(caption, caption) == 0
    within_4 = ~ev.far_from_caption(caption)
    assert within_4.sum() > 3 * caption.sum() and ev.collateral_pixels(within_4, caption) == 0
    assert ev.collateral_pixels(ev.dilate_mask(caption, 3), caption) == 0  # an elliptic 3-px dilation reaches 3.6 px
    blob = np.zeros_like(caption)
    blob[30:35, 50:54] = True  # 20 px, far from the caption
    assert ev.collateral_pixels(caption | blob, caption) == 20  # share 20 / 100
    ring = ev.dilate_mask(caption, 6) & ~ev.dilate_mask(caption, 5)  # 5 < d <= 6.x px away
    assert ev.collateral_pixels(ring, caption) == ring.sum() > 0
    assert ev.collateral_pixels(blob, np.zeros_like(caption)) == 20  # no caption: all of it
    template = np.zeros((40, 60, 3), np.uint8)
    case = ev.ValCase("x", template, template, caption, "classic")
    scores = [
        ev.score_image(case, ev.MethodOutput(template, None, caption | blob), 0.0),
        ev.score_image(case, ev.MethodOutput(template, None, caption), 0.0),
    ]
    row = ev.summary_row("m", None, "classic", scores, False)
    assert row["collateral"] == pytest.approx(100 * 20 / 180)  # pixels summed over the images
    assert row["replaced"] == pytest.approx(100 * (100 / 2400 + 80 / 2400) / 2)  # mean of the images' shares


def test_far_from_caption_is_euclidean_distance_over_four():
    caption = np.zeros((1, 12), bool)
    caption[0, 0] = True
    assert ev.far_from_caption(caption)[0].tolist() == [False] * 5 + [True] * 7


def test_caption_box_count_needs_half_of_a_box_on_the_caption():
    caption = np.zeros((50, 100), bool)
    caption[10:20, 10:60] = True
    square = lambda x0, y0, x1, y1: np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)  # noqa: E731
    on_line = square(8, 8, 62, 22)  # a padded box around the line
    half_on = square(40, 10, 80, 20)  # ~55 % of it within the caption dilated 3 px
    mostly_off = square(0, 0, 99, 49)  # the whole picture
    elsewhere = square(70, 30, 90, 45)
    assert ev.caption_box_count([on_line], caption) == 1
    assert ev.caption_box_count([half_on], caption) == 1
    assert ev.caption_box_count([mostly_off, elsewhere], caption) == 0
    assert ev.caption_box_count([on_line, half_on, elsewhere], caption) == 2
    assert ev.caption_box_count([], caption) == 0


class WhiteTextDetector:
    """A fake detector with a known answer: one box around each blob of pure white pixels."""

    def __init__(self):
        self.calls = 0

    def __call__(self, image, use_det=None, use_cls=None, use_rec=None):
        import cv2

        self.calls += 1
        white = (image == 255).all(axis=2).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(white)
        boxes = [[[x - 1, y - 1], [x + w, y - 1], [x + w, y + h], [x - 1, y + h]] for x, y, w, h, _ in stats[1:count]]
        return SimpleNamespace(boxes=np.array(boxes, np.float32) if boxes else None)


def white_caption_case(name: str, lines: int) -> ev.ValCase:
    template = np.full((60, 80, 3), 100, np.uint8)
    meme, mask = template.copy(), np.zeros((60, 80), bool)
    for i in range(lines):
        mask[8 + 20 * i : 14 + 20 * i, 10:50] = True
    meme[mask] = 255
    return ev.ValCase(name, meme, template, mask, "classic")


def test_text_left_and_collateral_of_the_baselines_with_a_fake_detector(tiny_model, monkeypatch):
    detector = WhiteTextDetector()
    monkeypatch.setattr(ev, "make_ocr_engine", lambda: detector)
    cases = [white_caption_case("a", 1), white_caption_case("b", 2)]
    result = ev.evaluate_model(tiny_model, cases, [64], text_left=True)
    rows = {(r["method"], r["resolution"]): r for r in result["rows"]}
    identity, ocr, oracle = rows[(ev.IDENTITY, None)], rows[(ev.OCR_TELEA, None)], rows[(ev.ORACLE, None)]
    assert identity["text_boxes_meme"] == 3 and identity["text_boxes_left"] == 3 and identity["text_left"] == 100.0
    assert oracle["text_boxes_left"] == 0 and oracle["text_left"] == 0.0
    assert ocr["text_left"] == 0.0 and ocr["mask_iou"] > 0.5
    assert identity["collateral"] is None and identity["replaced"] == 0.0
    assert oracle["collateral"] == 0.0
    # OCR: boxes 1 px around the ink, dilated 2 px more: all within 4 px of the caption.
    assert ocr["collateral"] == 0.0 and ocr["replaced"] > oracle["replaced"] * 0.99
    model = rows[(ev.MODEL, 64)]
    assert model["text_boxes_left"] >= 0 and model["text_boxes_meme"] == 3
    per_image = {s["name"]: s for s in model["per_image"]}
    assert per_image["b"]["text_boxes_meme"] == 2
    # Every distinct picture was detected once: the memes (= identity outputs), OCR and oracle outputs, the model's.
    assert detector.calls <= 1 + 2 * 4


def test_format_groups_pool_into_all_formats(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr", None)
    classic = white_caption_case("classic-000", 1)
    plain = np.full((60, 80, 3), 100, np.uint8)
    distractor = ev.ValCase("distractors-000", plain, plain.copy(), np.zeros((60, 80), bool), "distractors")
    result = ev.evaluate_model(tiny_model, [classic, distractor], [64], text_left=True)
    assert result["groups"] == ["classic", "distractors", ev.ALL_FORMATS]
    assert result["text_left"] == ev.OCR_MISSING
    rows = {(r["format"], r["method"]): r for r in result["rows"]}
    assert rows[("classic", ev.ORACLE)]["images"] == 1 and rows[(ev.ALL_FORMATS, ev.ORACLE)]["images"] == 2
    assert rows[("distractors", ev.OCR_TELEA)]["note"] == ev.OCR_MISSING
    assert math.isnan(rows[("distractors", ev.ORACLE)]["psnr_text"])  # no caption, no text region
    assert rows[("distractors", ev.ORACLE)]["psnr_all"] == math.inf
    assert rows[("classic", ev.ORACLE)]["text_left"] is None  # no detector
    table = ev.format_table(result)
    assert "classic: 1 cases" in table and "all formats: 2 cases" in table and "Text left: n/a" in table


def test_a_method_that_crops_the_caption_bar_is_scored_against_the_picture():
    template = np.full((50, 40, 3), 255, np.uint8)
    template[10:] = 90
    mask = np.zeros((50, 40), bool)
    mask[3:7, 5:30] = True
    meme = template.copy()
    meme[mask] = 0
    case = ev.ValCase("caption_bar-000", meme, template, mask, "caption_bar", ("top", 10))
    cropped = ev.MethodOutput(template[10:].copy(), None, None)
    scores = ev.score_image(case, cropped, 0.01)
    assert scores["psnr_all"] == math.inf and scores["pixels"] == 40 * 40
    bottom = ev.ValCase("b", meme[::-1].copy(), template[::-1].copy(), mask[::-1].copy(), "caption_bar", ("bottom", 10))
    np.testing.assert_array_equal(bottom.without_bar()[0], template[::-1][:40])
    with pytest.raises(MemeCleanError, match="fits neither"):
        ev.score_image(case, ev.MethodOutput(template[5:], None, None), 0.01)


def test_format_cases_are_deterministic_and_saved_with_their_format_and_bar(prepared_folder, tmp_path):
    first = ev.make_format_cases(prepared_folder, "caption_bar", 2, seed=3, long_side=80)
    again = ev.make_format_cases(prepared_folder, "caption_bar", 1, seed=3, long_side=80)
    assert [c.name for c in first] == ["caption_bar-000", "caption_bar-001"]
    np.testing.assert_array_equal(first[0].meme, again[0].meme)
    assert first[0].bar is not None and first[0].format == "caption_bar"
    aggregate = ev.make_validation_set(prepared_folder, 1, seed=3, long_side=80)
    ev.save_validation_set(aggregate + first, tmp_path / "set")
    loaded = ev.load_validation_set(tmp_path / "set")
    assert [(c.name, c.format, c.bar) for c in loaded] == [(c.name, c.format, c.bar) for c in aggregate + first]
    only_bars, text = ev.load_cases(tmp_path / "set", formats=["caption_bar"])
    assert [c.name for c in only_bars] == ["caption_bar-000", "caption_bar-001"] and "formats caption_bar" in text
    with pytest.raises(MemeCleanError, match="has no cases of watermark"):
        ev.load_cases(tmp_path / "set", formats=["watermark"])
    with pytest.raises(MemeCleanError, match="unknown format"):
        ev.load_cases(tmp_path / "set", formats=["haiku"])


def test_load_cases_generates_every_group_in_table_order(prepared_folder):
    cases, text = ev.load_cases(prepared_folder, count=1, seed=0, long_side=64, formats=ev.DEFAULT_FORMATS)
    assert [c.format for c in cases] == list(ev.EVAL_FORMATS)  # one picture in the folder: one round trip
    assert cases[0].name == "000" and "formats aggregate classic" in text
    # The aggregate group is the old generator's, seed for seed.
    np.testing.assert_array_equal(cases[0].meme, ev.make_validation_set(prepared_folder, 1, 0, 64)[0].meme)


def test_round_trip_cases_carry_the_caption_renderers_text_on_whole_pictures(prepared_folder):
    (case,) = ev.make_round_trip_cases(prepared_folder, 5, seed=0, long_side=150)
    assert case.name == "round_trip-000-picture" and case.format == ev.ROUND_TRIP
    assert case.meme.shape == (100, 150, 3)  # the whole 300×200 picture, long side 150
    changed = (case.meme != case.template).any(axis=2)
    assert changed.any() and not (changed & ~case.mask).any()
    rows = np.nonzero(case.mask.any(axis=1))[0]
    assert rows.min() < 20 and rows.max() > 80  # top and bottom text


class CountingEngine:
    def __init__(self):
        self.calls = 0

    def __call__(self, image, use_det=None, use_cls=None, use_rec=None):
        self.calls += 1
        return SimpleNamespace(boxes=np.array([[[1, 1], [5, 1], [5, 4], [1, 4]]], np.float32))


def test_text_detector_caches_by_content_in_memory_and_on_disk(tmp_path):
    image = np.zeros((8, 8, 3), np.uint8)
    engine = CountingEngine()
    detector = ev.TextDetector(engine, tmp_path, name="fake-1")
    boxes, seconds, cached = detector.detect(image)
    assert len(boxes) == 1 and not cached and seconds >= 0
    assert detector.detect(image.copy())[2] and engine.calls == 1
    other = image.copy()
    other[0, 0] = 1
    assert not detector.detect(other)[2] and engine.calls == 2
    again = ev.TextDetector(CountingEngine(), tmp_path, name="fake-1")
    boxes2, seconds2, cached2 = again.detect(image)
    assert cached2 and again.engine.calls == 0 and seconds2 == pytest.approx(seconds)
    np.testing.assert_array_equal(boxes2[0], boxes[0])
    assert len(list((tmp_path / "fake-1").glob("*.npz"))) == 2
    assert ev.TextDetector(CountingEngine(), tmp_path).cache_dir is None  # no name, no disk cache


def test_compare_models_pools_one_models_seeds_picture_by_picture(tmp_path):
    """`bench/compare_models.py a.json+b.json`: one row from both files' pictures, its PSNR from their mean MSE."""
    import subprocess

    def picture(mse: float) -> dict:
        return {
            "mse_all": mse / 4,
            "mse_text": mse,
            "ssim": 0.9,
            "mask_iou": 0.8,
            "text_boxes_meme": None,
            "text_boxes_left": None,
            "replaced_px": 10,
            "collateral_px": 1,
            "caption_px": 100,
            "missed_px": 5,
            "pixels": 1000,
            "ms": 1.0,
        }

    paths = []
    for seed, mses in enumerate(([10.0, 30.0], [1000.0, None])):
        images = [
            picture(m) if m is not None else {**picture(0.0), "mse_text": math.nan, "caption_px": 0} for m in mses
        ]
        row = ev.summary_row("MemeClean", 512, "classic", images, has_mask=True)
        for image in row["per_image"]:  # as `memeclean eval --json` writes an undefined MSE
            image["mse_text"] = None if math.isnan(image["mse_text"]) else image["mse_text"]
        path = tmp_path / f"s{seed}.json"
        path.write_text(json.dumps({"rows": [row]}), encoding="utf-8")
        paths.append(str(path))
    script = Path(__file__).resolve().parent.parent / "bench" / "compare_models.py"
    done = subprocess.run(
        [sys.executable, str(script), "+".join(paths), paths[0], "--names", "pooled", "first"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    cells = {
        line.split("|")[2].strip(): line.split("|")[4].strip()
        for line in done.stdout.splitlines()
        if line.startswith("| classic |")
    }
    assert cells["pooled"] == f"{ev.psnr_from_mse((10 + 30 + 1000) / 3):.2f}"  # the undefined picture is skipped
    assert cells["first"] == f"{ev.psnr_from_mse(20.0):.2f}"
