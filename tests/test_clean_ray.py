"""Cleaning on Ray Data: the batch API (`memeclean_core.batches.cleaner.MemeCleaner`) and
`memeclean clean --input-dir ... --engine ray` on a local Ray with 2 CPUs, against the plain folder mode, pixel for
pixel."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.batches.cleaner import MemeCleaner
from memeclean_core.cleaning.inference import clean
from memeclean_core.cli import main as cli_main

from .conftest import RAY_TEST_TOKEN, make_meme

# Ray Data's own deprecation notices about its settings, from Ray's code; starting a local Ray on a busy machine
# can take minutes
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:ray"), pytest.mark.timeout(600)]


@pytest.fixture(scope="module", autouse=True)
def ray_token():
    """Every Ray these tests start uses the session's token (RAY_TEST_TOKEN). Ray keeps the first token it used in
    the process, and the tests' HOME (where a new local Ray writes its token) changes from test to test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_TOKEN", RAY_TEST_TOKEN)
        yield


def make_folder(root: Path) -> Path:
    """Four memes (two in a subfolder, one animated GIF), a text file and a broken picture."""
    (root / "sub").mkdir(parents=True)
    for i in range(3):
        meme, _, _ = make_meme(180 + 20 * i, 140, seed=i)
        Image.fromarray(meme).save(root / ("sub" if i == 1 else "") / f"meme{i}.png")
    frames = [Image.fromarray(make_meme(120, 90, seed=10 + i)[0]) for i in range(2)]
    frames[0].save(root / "sub" / "moving.gif", save_all=True, append_images=frames[1:], duration=[80, 120], loop=0)
    (root / "notes.txt").write_text("not a picture")
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    return root


def pictures(folder: Path) -> dict[str, list[np.ndarray]]:
    """Every output file's frames as arrays, by relative path."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with Image.open(path) as image:
            frames = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                frames.append(np.asarray(image.convert("RGBA")))
        found[path.relative_to(folder).as_posix()] = frames
    return found


def manifest(path: Path, out: Path, masks: Path) -> dict[str, dict]:
    """Manifest records by input, with the output folders' names taken out and the timing dropped."""
    records = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        record.pop("ms")
        for key in ("output", "mask"):
            if record[key]:
                record[key] = record[key].replace(str(out), "OUT").replace(str(masks), "MASKS")
        records[record["input"]] = record
    return records


def test_clean_folder_on_ray_equals_the_plain_folder_mode_and_resumes(tmp_path, tiny_model_path):
    pytest.importorskip("ray.data", reason="the 'cluster' extra (ray[data]) is not installed")
    source = make_folder(tmp_path / "in")
    common = ["clean", "--input-dir", str(source), "--recursive", "--model", str(tiny_model_path)]

    plain = cli_main(
        [
            *common,
            "--output-dir",
            str(tmp_path / "plain"),
            "--mask-dir",
            str(tmp_path / "plain-masks"),
            "--manifest",
            str(tmp_path / "plain.jsonl"),
            "--threads",
            "1",
        ]
    )  # as each Ray actor
    on_ray = cli_main(
        [
            *common,
            "--output-dir",
            str(tmp_path / "ray"),
            "--mask-dir",
            str(tmp_path / "ray-masks"),
            "--manifest",
            str(tmp_path / "ray.jsonl"),
            "--engine",
            "ray",
            "--jobs",
            "2",
        ]
    )
    assert plain == on_ray == 1  # the broken picture fails in both

    expected, got = pictures(tmp_path / "plain"), pictures(tmp_path / "ray")
    assert sorted(got) == ["meme0.png", "meme2.png", "sub/meme1.png", "sub/moving.gif"]
    assert sorted(got) == sorted(expected)
    for name, frames in expected.items():
        assert len(got[name]) == len(frames) and all(np.array_equal(a, b) for a, b in zip(frames, got[name])), name
    assert pictures(tmp_path / "ray-masks").keys() == pictures(tmp_path / "plain-masks").keys()
    for name, frames in pictures(tmp_path / "plain-masks").items():
        assert np.array_equal(frames[0], pictures(tmp_path / "ray-masks")[name][0]), name
    plain_records = manifest(tmp_path / "plain.jsonl", tmp_path / "plain", tmp_path / "plain-masks")
    ray_records = manifest(tmp_path / "ray.jsonl", tmp_path / "ray", tmp_path / "ray-masks")
    assert ray_records == plain_records
    assert [r["status"] for r in ray_records.values()].count("done") == 4
    import ray

    assert not ray.is_initialized()  # the Ray started for the run is stopped with it


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray with 2 CPUs for the tests below (the engine joins a Ray that is already running)."""
    ray = pytest.importorskip("ray", reason="the 'cluster' extra (ray[data]) is not installed")
    pytest.importorskip("ray.data", reason="the 'cluster' extra (ray[data]) is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_clean_folder_on_ray_resumes_where_a_run_stopped(tmp_path, tiny_model_path, local_ray):
    source = make_folder(tmp_path / "in")
    common = [
        "clean",
        "--input-dir",
        str(source),
        "--recursive",
        "--model",
        str(tiny_model_path),
        "--output-dir",
        str(tmp_path / "out"),
        "--manifest",
        str(tmp_path / "run.jsonl"),
        "--engine",
        "ray",
    ]
    assert cli_main(common) == 1  # the broken picture
    first = pictures(tmp_path / "out")
    lines_before = len((tmp_path / "run.jsonl").read_text().splitlines())
    (tmp_path / "out" / "meme2.png").unlink()  # lost, as if the run had been killed before it

    assert cli_main([*common, "--resume"]) == 1
    new_lines = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()[lines_before:]]
    # the manifest gets the lost picture and the failure again, not the lines it already holds
    assert sorted((r["status"], Path(r["input"]).name) for r in new_lines) == [
        ("done", "meme2.png"),
        ("failed", "broken.jpg"),
    ]
    again = pictures(tmp_path / "out")
    assert again.keys() == first.keys() and np.array_equal(again["meme2.png"][0], first["meme2.png"][0])
    assert local_ray.is_initialized()  # a Ray the run found running is left running


def test_meme_cleaner_as_a_ray_data_actor_cleans_arrays_like_clean(tiny_model_path, tiny_model, local_ray):
    import ray.data

    memes = [make_meme(160, 120, seed=s)[0] for s in range(3)] + [np.zeros((4, 4), np.float32)]
    dataset = ray.data.from_items([{"image": meme} for meme in memes], override_num_blocks=2)
    cleaned = dataset.map_batches(
        MemeCleaner,
        fn_constructor_kwargs={"model": str(tiny_model_path), "resolution": 256, "threads": 1},
        batch_size=2,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=2),
    )
    rows = cleaned.take_all()
    by_input = {row["image"].tobytes(): row for row in rows}
    for meme in memes[:3]:
        row = by_input[meme.tobytes()]
        expected = clean(meme, resolution=256, model=tiny_model)
        assert row["error"] == ""
        assert np.array_equal(row["clean"], expected.image) and np.array_equal(row["mask"], expected.mask)
        assert tuple(row["working_size"]) == expected.working_size
    bad = by_input[memes[3].tobytes()]
    assert "uint8" in bad["error"] and bad["clean"].shape == (0, 0, 3)


def test_meme_cleaner_without_ray_takes_paths_and_reports_bad_files_in_their_row(tmp_path, tiny_model_path, tiny_model):
    meme, _, _ = make_meme(200, 150, seed=3)
    Image.fromarray(meme).save(tmp_path / "meme.png")
    (tmp_path / "bad.png").write_bytes(b"nope")
    cleaner = MemeCleaner(model=tiny_model_path, resolution=256)
    out = cleaner({"path": np.array([str(tmp_path / "meme.png"), str(tmp_path / "bad.png")])})
    assert list(out["path"]) == [str(tmp_path / "meme.png"), str(tmp_path / "bad.png")]
    expected = clean(meme, resolution=256, model=tiny_model)
    assert np.array_equal(out["clean"][0], expected.image) and out["error"][0] == ""
    assert out["error"][1].startswith(f"cannot read '{tmp_path / 'bad.png'}'") and np.isnan(out["replaced"][1])
    assert out["working_size"].shape == (2, 2) and out["clean"][1].shape == (0, 0, 3)


def test_engine_ray_without_ray_says_how_to_get_it_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if it were not installed
    make_folder(tmp_path / "in")
    code = cli_main(
        ["clean", "--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"), "--engine", "ray"]
    )
    error = capsys.readouterr().err.strip()
    assert code == 1 and len(error.splitlines()) == 1
    assert "pip install 'memeclean[cluster]'" in error
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_address_without_the_ray_engine_is_refused(tmp_path, capsys):
    make_folder(tmp_path / "in")
    code = cli_main(
        ["clean", "--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"), "--address", "auto"]
    )
    assert code == 1 and "--engine ray" in capsys.readouterr().err


def test_ray_actors_go_one_per_gpu_where_there_are_gpus_else_one_per_cpu():
    from memeclean_core.batches.ray import layout
    from memeclean_core.errors import MemeCleanError

    assert vars(layout({"CPU": 16.0, "GPU": 2.0}, "auto", None, 100)) == {"actors": 2, "gpus_per_actor": 1.0}
    assert vars(layout({"CPU": 16.0, "GPU": 2.0}, "cpu", None, 100)) == {"actors": 16, "gpus_per_actor": 0.0}
    assert vars(layout({"CPU": 16.0}, "auto", 4, 100)) == {"actors": 4, "gpus_per_actor": 0.0}  # --jobs 4
    assert layout({"CPU": 16.0}, "auto", None, 3).actors == 3  # never more actors than pictures
    assert layout({"CPU": 16.0}, "auto", None, 100, threads=4).actors == 4  # --threads 4: 4 CPUs an actor
    with pytest.raises(MemeCleanError, match="no GPU"):
        layout({"CPU": 16.0}, "cuda", None, 100)
