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

from memeclean_core import evaluate as ev
from memeclean_core.cli import main
from memeclean_core.errors import Cancelled, MemeCleanError

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
    from memeclean_core import inference
    from memeclean_core.inference import dilate

    monkeypatch.setattr(inference, "WORKING_DILATION", 7)  # tuning the pipeline moves neither metric nor baselines
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
    code = main(["eval", "--data", str(prepared_folder), "--count", "3", "--long-side", "96", "--resolution", "64",
                 "--model", str(tiny_model_path), "--device", "cpu", "--json", str(out_json),
                 "--save-examples", str(examples)])
    assert code == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[1].split()[:2] == ["method", "resolution"]
    for method in (ev.IDENTITY, ev.OCR_TELEA, ev.MODEL, ev.ORACLE):
        assert any(line.startswith(method) for line in lines), method
    assert fake.calls == 4  # warm-up + 3 cases
    numbers = json.loads(out_json.read_text())
    assert numbers["cases"] == 3 and len(numbers["rows"]) == 4
    assert all(len(row["per_image"]) == 3 for row in numbers["rows"])
    assert sorted(p.name for p in examples.iterdir()) == ["000_r64.png", "001_r64.png", "002_r64.png"]


def test_memeclean_eval_reads_a_saved_set_and_reports_bad_data(tiny_model_path, tmp_path, capsys):
    assert main(["eval", "--data", str(VALSET), "--resolution", "64", "--no-baselines",
                 "--model", str(tiny_model_path), "--device", "cpu", "--markdown"]) == 0
    printed = capsys.readouterr().out
    assert "6 cases from the saved set" in printed and "| MemeClean | 64 |" in printed
    assert main(["eval", "--data", str(tmp_path), "--model", str(tiny_model_path)]) == 1
    assert "neither" in capsys.readouterr().err
