"""The network runtimes (`memeclean_core.network.runtime`): which one runs, the fall back to torch with a note,
the OpenVINO conversion cache (keyed, rebuilt when corrupt or from another version, never trusted blindly), the
OpenVINO clean against torch's with the shipped weights, and `--runtime` in the command line's single and folder
modes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.cleaning.inference import clean
from memeclean_core.cli import main
from memeclean_core.errors import MemeCleanError, ModelLoadError
from memeclean_core.network import openvino_runner
from memeclean_core.network.checkpoint import load_model
from memeclean_core.resources import bundled_model_path

from .conftest import make_meme

pytest.importorskip("torch")


def _has_openvino() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


needs_openvino = pytest.mark.skipif(not _has_openvino(), reason="OpenVINO is not installed")


@pytest.fixture
def no_openvino(monkeypatch):
    """`import openvino` fails, as where it is not installed."""
    monkeypatch.setitem(sys.modules, "openvino", None)


class Conversions:
    """Counts `openvino_runner.convert` calls (the real conversion still runs)."""

    def __init__(self, monkeypatch):
        self.count = 0
        real = openvino_runner.convert

        def counted(path):
            self.count += 1
            return real(path)

        monkeypatch.setattr(openvino_runner, "convert", counted)


# -- which runtime --------------------------------------------------------------------------------------------------


def test_torch_runtime_is_torch(tiny_model_path):
    model = load_model(tiny_model_path, device="cpu", runtime="torch")
    assert model.runtime == "torch" and model.net is not None and model.note is None and model.device_name == "CPU"


@needs_openvino
def test_auto_on_the_cpu_is_openvino(tiny_model_path):
    model = load_model(tiny_model_path, device="cpu", runtime="auto")
    assert model.runtime == "openvino" and model.note is None and model.device_name == "CPU (OpenVINO)"
    assert model.net is None and model.config.multiple == 4  # the tiny network's, read from the cache


def test_auto_falls_back_to_torch_with_a_note_when_openvino_does_not_import(tiny_model_path, no_openvino):
    model = load_model(tiny_model_path, device="cpu", runtime="auto")
    assert model.runtime == "torch"
    assert model.note is not None and model.note.startswith("OpenVINO is not usable here") and "\n" not in model.note


def test_auto_falls_back_to_torch_when_the_conversion_fails(tiny_model_path, monkeypatch):
    def broken(path):
        raise RuntimeError("Check 'false' failed\nat frontend.cpp:53")

    monkeypatch.setattr(openvino_runner, "convert", broken)
    model = load_model(tiny_model_path, device="cpu")
    assert model.runtime == "torch" and "Check 'false' failed" in model.note and "\n" not in model.note


def test_openvino_asked_for_is_an_error_when_it_cannot_run(tiny_model_path, no_openvino):
    with pytest.raises(ModelLoadError, match="OpenVINO runtime cannot run"):
        load_model(tiny_model_path, device="cpu", runtime="openvino")


def test_impossible_runtime_and_device_are_refused(tiny_model_path):
    with pytest.raises(MemeCleanError, match="runs on the CPU"):
        load_model(tiny_model_path, device="cuda", runtime="openvino")
    with pytest.raises(MemeCleanError, match="runtime must be one of"):
        load_model(tiny_model_path, device="cpu", runtime="onnx")


def test_a_bad_weights_file_is_the_same_error_whatever_the_runtime(tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a checkpoint")
    for runtime in ("auto", "torch"):
        with pytest.raises(ModelLoadError, match="corrupt.pt.*not a MemeClean checkpoint"):
            load_model(corrupt, device="cpu", runtime=runtime)


# -- the conversion cache -------------------------------------------------------------------------------------------


def entry(path: Path) -> Path:
    return openvino_runner.cache_folder(openvino_runner.weights_digest(path), openvino_runner.openvino_version())


@needs_openvino
def test_the_cache_is_keyed_by_the_weights_and_reused(tiny_model_path, tmp_path, monkeypatch):
    conversions = Conversions(monkeypatch)
    first = load_model(tiny_model_path, device="cpu", runtime="openvino")
    folder = entry(tiny_model_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert folder.parent == openvino_runner.cache_root() and conversions.count == 1
    assert manifest["weights_sha256"] == openvino_runner.weights_digest(tiny_model_path)
    assert manifest["openvino"] == openvino_runner.openvino_version()
    assert sorted(manifest["files"]) == ["fill.bin", "fill.xml", "mask.bin", "mask.xml"]

    copy = tmp_path / "same-weights-other-name.pt"
    copy.write_bytes(tiny_model_path.read_bytes())
    again = load_model(copy, device="cpu", runtime="openvino")
    assert conversions.count == 1  # the same bytes: the same entry, no conversion
    picture = make_meme(64, 48)[0]
    np.testing.assert_array_equal(clean(picture, 64, model=first).image, clean(picture, 64, model=again).image)


@needs_openvino
@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing file", "bad manifest", "other version"])
def test_a_corrupt_or_foreign_cache_is_rebuilt_not_trusted(tiny_model_path, monkeypatch, damage):
    picture = make_meme(64, 48)[0]
    expected = clean(picture, 64, model=load_model(tiny_model_path, device="cpu", runtime="openvino")).image
    folder = entry(tiny_model_path)
    weights = folder / "fill.bin"
    if damage == "flipped byte":
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:100])
    elif damage == "missing file":
        (folder / "mask.xml").unlink()
    elif damage == "bad manifest":
        (folder / "manifest.json").write_text("{not json")
    else:
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["openvino"] = "2020.1.0"
        (folder / "manifest.json").write_text(json.dumps(manifest))

    conversions = Conversions(monkeypatch)
    model = load_model(tiny_model_path, device="cpu", runtime="openvino")
    assert conversions.count == 1 and model.runtime == "openvino"
    np.testing.assert_array_equal(clean(picture, 64, model=model).image, expected)
    assert openvino_runner.read_cache(
        folder, openvino_runner.weights_digest(tiny_model_path), openvino_runner.openvino_version()
    )  # rewritten whole


@needs_openvino
def test_another_openvino_version_has_its_own_entry(tiny_model_path, monkeypatch):
    load_model(tiny_model_path, device="cpu", runtime="openvino")
    monkeypatch.setattr(openvino_runner, "openvino_version", lambda: "2099.1.0")
    conversions = Conversions(monkeypatch)
    load_model(tiny_model_path, device="cpu", runtime="openvino")
    assert conversions.count == 1 and entry(tiny_model_path).name.endswith("-ov2099.1.0")


class CountingCore:
    """An OpenVINO Core that counts compile_model and import_model calls."""

    def __init__(self, core):
        self.core, self.compiles, self.imports = core, 0, 0

    def compile_model(self, *args, **kwargs):
        self.compiles += 1
        return self.core.compile_model(*args, **kwargs)

    def import_model(self, *args, **kwargs):
        self.imports += 1
        return self.core.import_model(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.core, name)


def counted_runner(path: Path) -> tuple[openvino_runner.OpenVINORunner, CountingCore]:
    runner, _ = openvino_runner.load_openvino(path, threads=1)
    core = CountingCore(runner.core)
    return openvino_runner.OpenVINORunner(core, runner.models, threads=1, cache=runner.cache), core


@needs_openvino
def test_a_compiled_network_is_kept_and_imported_by_the_next_process(tiny_model_path):
    picture = make_meme(64, 48)[0]
    first, first_core = counted_runner(tiny_model_path)
    expected = first.mask_probability(picture)
    assert first_core.compiles == 1 and first.cache == entry(tiny_model_path)
    assert len(list(first.cache.glob("compiled-mask-f32-1t-*.blob"))) == 1

    again, again_core = counted_runner(tiny_model_path)
    np.testing.assert_array_equal(again.mask_probability(picture), expected)
    assert (again_core.compiles, again_core.imports) == (0, 1)


@needs_openvino
@pytest.mark.parametrize("damage", ["flipped bytes", "truncated", "digest missing"])
def test_a_damaged_compiled_network_is_compiled_again_not_imported(tiny_model_path, damage):
    """OpenVINO itself imports a damaged blob and computes NaNs: the digest is what keeps it out."""
    picture = make_meme(64, 48)[0]
    first, _ = counted_runner(tiny_model_path)
    expected = first.mask_probability(picture)
    (blob,) = first.cache.glob("compiled-mask-f32-1t-*.blob")
    if damage == "flipped bytes":
        data = bytearray(blob.read_bytes())
        for k in range(1, 50):
            data[len(data) * k // 50] ^= 0x55
        blob.write_bytes(bytes(data))
    elif damage == "truncated":
        blob.write_bytes(blob.read_bytes()[:1000])
    else:
        blob.with_suffix(".sha256").unlink()

    again, again_core = counted_runner(tiny_model_path)
    np.testing.assert_array_equal(again.mask_probability(picture), expected)
    assert (again_core.compiles, again_core.imports) == (1, 0)
    third, third_core = counted_runner(tiny_model_path)  # compiled again and kept again
    third.mask_probability(picture)
    assert (third_core.compiles, third_core.imports) == (0, 1)


# -- the same clean ---------------------------------------------------------------------------------------------------


@needs_openvino
@pytest.mark.skipif(not bundled_model_path().is_file(), reason="the shipped weights are not in this checkout")
def test_openvino_cleans_as_torch_does_with_the_shipped_weights():
    """At f32, 99.9 % of the pixels within one grey level of torch's clean, and the same masks almost everywhere;
    at the default precision (the fill in bf16 where the CPU has it) the same masks and 99 % within two levels."""
    meme, _, _ = make_meme(720, 540, seed=5)
    theirs = clean(meme, 512, model=load_model(device="cpu", runtime="torch"))
    f32 = load_model(device="cpu", runtime="openvino")
    f32.runner.precision = "f32"
    default = load_model(device="cpu", runtime="openvino")
    for model, levels, share in ((f32, 1, 0.999), (default, 2, 0.99)):
        ours = clean(meme, 512, model=model)
        assert ours.device == "CPU (OpenVINO)" and theirs.device == "CPU"
        difference = np.abs(ours.image.astype(np.int16) - theirs.image.astype(np.int16)).max(axis=-1)
        assert (difference <= levels).mean() >= share
        assert (ours.mask != theirs.mask).mean() <= 0.001 and theirs.mask.any()


@needs_openvino
def test_the_fill_runs_in_bf16_only_where_the_cpu_computes_it_natively(tiny_model_path):
    model = load_model(tiny_model_path, device="cpu", runtime="openvino")
    native = "BF16" in model.runner.core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    assert model.runner.precision_of("mask") == "f32"
    assert model.runner.precision_of("fill") == ("bf16" if native else "f32")

    class NoBF16Core:
        def get_property(self, device, name):
            assert (device, name) == ("CPU", "OPTIMIZATION_CAPABILITIES")
            return ["FP32", "INT8", "BIN", "EXPORT_IMPORT"]

    assert openvino_runner.default_precision(NoBF16Core()) == {"mask": "f32", "fill": "f32"}


@needs_openvino
def test_every_working_size_of_the_slider_runs(tiny_model_path):
    """Dynamic shapes: sizes that are not the traced one, portrait and landscape, small pictures on one thread."""
    model = load_model(tiny_model_path, device="cpu", runtime="openvino")
    reference = load_model(tiny_model_path, device="cpu", runtime="torch")
    for width, height in ((300, 200), (120, 260), (33, 17)):
        picture = np.random.default_rng(width).integers(0, 256, (height, width, 3), dtype=np.uint8)
        ours, theirs = clean(picture, 256, model=model), clean(picture, 256, model=reference)
        assert ours.image.shape == picture.shape
        assert np.abs(ours.image.astype(np.int16) - theirs.image.astype(np.int16)).max() <= 1


# -- the command line ---------------------------------------------------------------------------------------------


def picture(path: Path) -> Path:
    Image.fromarray(make_meme(64, 48)[0]).save(path)
    return path


@pytest.fixture
def loads(monkeypatch):
    """The runtime of every model the command line loads."""
    from memeclean_core.network import checkpoint

    seen: list[str] = []
    real = checkpoint.load_model

    def recorded(*args, **kwargs):
        model = real(*args, **kwargs)
        seen.append(model.runtime)
        return model

    monkeypatch.setattr(checkpoint, "load_model", recorded)
    return seen


@pytest.mark.parametrize("runtime", ["torch", "openvino"])
def test_runtime_flag_in_single_file_mode(tmp_path, tiny_model_path, loads, runtime, capsys):
    if runtime == "openvino" and not _has_openvino():
        pytest.skip("OpenVINO is not installed")
    source = picture(tmp_path / "meme.png")
    args = ["clean", str(source), "--model", str(tiny_model_path), "--resolution", "64", "--runtime", runtime]
    assert main(args) == 0
    assert loads == [runtime] and (tmp_path / "meme.clean.png").is_file()
    assert "note" not in capsys.readouterr().err


def test_auto_with_a_broken_openvino_says_so_in_one_line_and_cleans(tmp_path, tiny_model_path, no_openvino, capsys):
    source = picture(tmp_path / "meme.png")
    assert main(["clean", str(source), "--model", str(tiny_model_path), "--resolution", "64", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("memeclean: note: OpenVINO is not usable here")


def test_runtime_flag_in_folder_mode(tmp_path, tiny_model_path, loads):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        picture(folder / name)
    base = ["clean", "--input-dir", str(folder), "--model", str(tiny_model_path), "--resolution", "64"]
    assert main([*base, "--output-dir", str(tmp_path / "out"), "--runtime", "torch"]) == 0
    assert loads == ["torch"] and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]


def test_folder_workers_get_the_runtime(tiny_model_path):
    """--jobs N and the Ray engine ship `CleanSettings` to their processes: the runtime travels in it."""
    import pickle

    from memeclean_core.batches.cleaner import MemeCleaner
    from memeclean_core.batches.folder import CleanSettings, ItemCleaner

    cleaner = pickle.loads(pickle.dumps(ItemCleaner(CleanSettings(model=str(tiny_model_path), runtime="torch"))))
    assert cleaner.model().runtime == "torch"
    batch = pickle.loads(pickle.dumps(MemeCleaner(tiny_model_path, runtime="torch", device="cpu")))
    assert batch.model().runtime == "torch"


# -- the process around it -----------------------------------------------------------------------------------------


@needs_openvino
def test_compiling_and_dropping_models_leaves_the_threads_signal_stack_as_it_was(tiny_model_path):
    """OpenVINO's CPU plugin gives a compiling thread a signal stack of its own and puts back the one it found when
    the model goes; dropped first-made-first, that left the thread on unmapped memory, and the next exiting child
    process (SIGCHLD, handled on that stack) killed the whole test run with SIGSEGV (signal_stack.py)."""
    import gc

    from memeclean_core.network.signal_stack import current_signal_stack

    before = current_signal_stack()
    first = load_model(tiny_model_path, device="cpu", runtime="openvino")
    second = load_model(tiny_model_path, device="cpu", runtime="openvino")
    picture = make_meme(64, 48)[0]
    clean(picture, 64, model=first), clean(picture, 64, model=second)
    assert current_signal_stack() == before
    del first
    gc.collect()
    del second
    gc.collect()
    assert current_signal_stack() == before
