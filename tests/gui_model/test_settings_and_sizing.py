"""Settings in one place, and the slider's sizes and memory estimate (no Qt)."""

from __future__ import annotations

import json

import pytest

from memeclean_gui.model import settings as settings_module
from memeclean_gui.model import sizing as sizing
from memeclean_gui.model.settings import FIELDS, Settings


def test_every_field_has_a_default_and_a_description():
    settings = Settings()
    for name, field in FIELDS.items():
        assert field.description.strip()
        assert getattr(settings, name) == field.default


def test_settings_round_trip_through_the_redirected_file(settings_file):
    assert settings_module.settings_path() == settings_file
    settings = Settings.load()
    settings.update(resolution=1024, auto_clean=False)
    settings.add_recent_file(settings_file.parent / "a.png")
    data = json.loads(settings_file.read_text())
    assert data["schema_version"] == 1 and data["values"]["resolution"] == 1024
    again = Settings.load()
    assert again.resolution == 1024 and again.auto_clean is False
    assert again.recent_files == [str(settings_file.parent / "a.png")]
    assert again.last_folder == str(settings_file.parent)


def test_bad_values_and_broken_files_fall_back_to_defaults(settings_file):
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text(
        json.dumps(
            {
                "values": {
                    "resolution": "big",
                    "auto_clean": 1,
                    "brush_size": 10_000,
                    "resolution_x": 3,
                    "recent_files": [1, 2],
                }
            }
        )
    )
    settings = Settings.load()
    assert settings.resolution == 512 and settings.auto_clean is True and settings.recent_files == []
    assert settings.brush_size == 500, "clamped to its range"
    settings_file.write_text("{ not json")
    assert Settings.load().resolution == 512
    with pytest.raises(ValueError):
        settings.update(resolution="big")
    with pytest.raises(ValueError):
        settings.update(no_such_setting=1)
    with pytest.raises(AttributeError):
        settings.resolution = 3


def test_resolution_is_snapped_to_the_sliders_steps():
    assert Settings(values={"resolution": 1000}).resolution == 992
    assert Settings(values={"resolution": 10}).resolution == sizing.SLIDER_MIN
    assert sizing.SLIDER_MIN == 256 and sizing.SLIDER_MAX >= 1536
    assert sizing.SLIDER_MIN % sizing.SLIDER_STEP == 0 and sizing.SLIDER_STEP % sizing.DEFAULT_MULTIPLE == 0


def test_sizes_agree_with_the_core_and_the_estimate_grows():
    from memeclean_core.geometry import padded_size, working_size  # imports torch: fine in a test
    from memeclean_core.network.model import UNetConfig

    assert UNetConfig().multiple == sizing.DEFAULT_MULTIPLE
    for size in [(240, 180), (1, 900), (4000, 3000), (333, 517)]:
        for resolution in (256, 512, 1024, 2048):
            assert sizing.working_size(*size, resolution) == working_size(*size, resolution)
            assert sizing.padded_size(*size, 32) == padded_size(*size, 32)
    estimates = [sizing.estimate_memory(1024, 768, r) for r in (256, 512, 1024, 1536)]
    assert estimates == sorted(estimates) and 300e6 < sizing.estimate_memory(1024, 1024, 1024) < 800e6
    assert sizing.describe_resolution(1024, (2048, 1024)) == "1024 px → 1024×512, ≈ 346 MB"
    assert sizing.describe_resolution(1536, (800, 600)).startswith("1536 px → 800×600 (its own size), ≈ ")
    assert sizing.describe_resolution(512, None) == "512 px"
