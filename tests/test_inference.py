import numpy as np
import pytest

from memeclean_core.cleaning.inference import clean
from memeclean_core.errors import Cancelled, MemeCleanError
from memeclean_core.geometry import working_size

from .conftest import make_meme


@pytest.mark.parametrize("size", [(7, 900), (900, 7), (1, 1), (333, 517), (181, 240)])
def test_output_has_input_size_and_pixels_outside_region_are_untouched(tiny_model, rng, size):
    image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    mask = np.zeros(size, bool)
    mask[size[0] // 3 : size[0] // 3 + 1 + size[0] // 4, : max(1, size[1] // 2)] = True
    result = clean(image, resolution=256, model=tiny_model, mask=mask)
    assert result.image.shape == image.shape and result.image.dtype == np.uint8
    assert result.region[mask].all(), "the filled region covers the text mask"
    np.testing.assert_array_equal(result.image[~result.region], image[~result.region])
    assert not np.array_equal(result.image[mask], image[mask]) or size == (1, 1)


def test_the_automatic_mask_also_leaves_everything_outside_untouched(tiny_model):
    meme, _, _ = make_meme()
    result = clean(meme, resolution=256, model=tiny_model)
    assert result.mask.shape == meme.shape[:2] and result.mask.dtype == bool
    np.testing.assert_array_equal(result.image[~result.region], meme[~result.region])
    assert result.working_size == working_size(240, 180, 256) == (240, 180), "never above the picture's own size"
    assert set(result.timings) >= {"mask", "fill", "total"}


def test_the_working_size_scales_down_never_up(tiny_model):
    assert working_size(4000, 3000, 1024) == (1024, 768) and working_size(300, 1200, 512) == (128, 512)
    assert working_size(240, 180, 2048) == (240, 180) and working_size(1, 900, 256) == (1, 256)
    meme, _, _ = make_meme()
    smaller = clean(meme, resolution=128, model=tiny_model)
    assert smaller.working_size == (128, 96) and smaller.image.shape == meme.shape
    np.testing.assert_array_equal(smaller.image[~smaller.region], meme[~smaller.region])


def test_given_mask_is_filled_from_its_surroundings(tiny_model):
    meme, template, mask = make_meme()
    result = clean(meme, resolution=256, model=tiny_model, mask=mask)
    error_before = np.abs(meme[mask].astype(int) - template[mask]).mean()
    error_after = np.abs(result.image[mask].astype(int) - template[mask]).mean()
    assert error_after < error_before / 3


def test_alpha_is_kept_unchanged(tiny_model, rng):
    rgba = rng.integers(0, 256, (40, 60, 4), dtype=np.uint8)
    result = clean(rgba, resolution=128, model=tiny_model)
    np.testing.assert_array_equal(result.alpha, rgba[..., 3])
    assert result.image.shape == (40, 60, 3)


def test_cancel_stops_between_stages(tiny_model):
    meme, _, _ = make_meme()
    stages = []
    with pytest.raises(Cancelled):
        clean(
            meme, resolution=128, model=tiny_model, progress=lambda f, s: stages.append(s), cancel=lambda: bool(stages)
        )
    assert stages == ["prepare"]


@pytest.mark.parametrize(
    "bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((0, 5, 3), np.uint8)]
)
def test_bad_arrays_are_a_clear_error(tiny_model, bad):
    with pytest.raises(MemeCleanError):
        clean(bad, model=tiny_model)


def test_resolution_and_mask_shape_are_checked(tiny_model):
    meme, _, mask = make_meme()
    with pytest.raises(MemeCleanError, match="resolution"):
        clean(meme, resolution=10, model=tiny_model)
    with pytest.raises(MemeCleanError, match="mask"):
        clean(meme, model=tiny_model, mask=mask[:-1])


def test_large_photo_at_1024_stays_within_memory(tiny_model):
    """A 6000×4000 photo cleans band by band: peak memory stays a small multiple of the image."""
    import resource

    image = np.full((4000, 6000, 3), 120, np.uint8)
    mask = np.zeros((4000, 6000), bool)
    mask[200:500, 1000:5000] = True
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = clean(image, resolution=1024, model=tiny_model, mask=mask)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.image.shape == image.shape
    assert grown_mb < 1500, f"peak memory grew by {grown_mb:.0f} MB"
