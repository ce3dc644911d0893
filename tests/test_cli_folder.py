"""`memeclean clean --input-dir`: the folder tree is kept, other files are skipped with a note, --resume continues an
interrupted run, the manifest has its fields, and --jobs 2 writes the same files as --jobs 1.
Small generated pictures and the tiny random model at resolution 64."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.batches import folder as batch_folder
from memeclean_core.cleaning.options import CleanOptions
from memeclean_core.cli import main

pytest.importorskip("torch")

REPO = Path(__file__).resolve().parent.parent


def make_image(path: Path, size=(48, 32), seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def make_gif(path: Path, frames: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures = [Image.new("RGB", (30, 20), (40 * i, 200 - 40 * i, 90)) for i in range(frames)]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=40, loop=0)
    return path


def clean_folder(model: Path, *args: str | Path) -> int:
    return main(["clean", *map(str, args), "--model", str(model), "--resolution", "64", "--device", "cpu"])


def read_manifest(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def tree(tmp_path) -> Path:
    """in/a.png, in/b.jpg, in/notes.txt, in/sub/c.png, in/sub/deep/d.webp, in/sub/anim.gif."""
    source = tmp_path / "in"
    make_image(source / "a.png", seed=1)
    make_image(source / "b.jpg", seed=2)
    (source / "notes.txt").write_text("not a picture")
    make_image(source / "sub" / "c.png", seed=3)
    make_image(source / "sub" / "deep" / "d.webp", size=(40, 56), seed=4)
    make_gif(source / "sub" / "anim.gif", frames=3)
    return source


def test_tree_kept_other_files_skipped_and_manifest(tmp_path, tree, tiny_model_path, capsys):
    out, masks, manifest = tmp_path / "out", tmp_path / "masks", tmp_path / "run.jsonl"
    status = clean_folder(
        tiny_model_path,
        "--input-dir",
        tree,
        "--output-dir",
        out,
        "--mask-dir",
        masks,
        "--recursive",
        "--manifest",
        manifest,
    )
    assert status == 0
    assert files_under(out) == ["a.png", "b.png", "sub/anim.gif", "sub/c.png", "sub/deep/d.png"]
    assert files_under(masks) == ["a.png", "b.png", "sub/anim.png", "sub/c.png", "sub/deep/d.png"]
    with Image.open(out / "sub" / "deep" / "d.png") as picture:
        assert picture.size == (40, 56)
    with Image.open(out / "sub" / "anim.gif") as animation:
        assert animation.n_frames == 3
    captured = capsys.readouterr()
    assert f"memeclean: note: skipped '{tree / 'notes.txt'}': not an image file" in captured.err
    assert "cleaned 5 of 5 pictures; skipped 1 other file" in captured.out
    assert "Traceback" not in captured.err

    records = read_manifest(manifest)
    assert all(list(record) == list(batch_folder.MANIFEST_FIELDS) for record in records)
    by_input = {Path(record["input"]).relative_to(tree).as_posix(): record for record in records}
    assert sorted(by_input) == ["a.png", "b.jpg", "notes.txt", "sub/anim.gif", "sub/c.png", "sub/deep/d.webp"]
    assert by_input["notes.txt"]["status"] == "skipped" and by_input["notes.txt"]["note"] == "not an image file"
    record = by_input["sub/deep/d.webp"]
    assert record["status"] == "done" and record["error"] is None
    assert record["output"] == str(out / "sub" / "deep" / "d.png")
    assert record["mask"] == str(masks / "sub" / "deep" / "d.png")
    assert record["size"] == [40, 56] and record["working_size"] == [40, 56]  # smaller than 64: its own size
    assert record["ms"] > 0 and 0.0 <= record["replaced"] <= 1.0
    with Image.open(masks / "sub" / "deep" / "d.png") as mask:
        share = float(np.mean(np.asarray(mask) > 0))
    assert record["replaced"] >= share - 1e-6  # the replaced region contains the text mask


def test_without_recursive_only_the_top_folder(tmp_path, tree, tiny_model_path, capsys):
    assert clean_folder(tiny_model_path, "--input-dir", tree, "--output-dir", tmp_path / "out") == 0
    assert files_under(tmp_path / "out") == ["a.png", "b.png"]
    empty = tmp_path / "empty"
    (empty / "inner").mkdir(parents=True)
    make_image(empty / "inner" / "x.png")
    capsys.readouterr()
    assert clean_folder(tiny_model_path, "--input-dir", empty, "--output-dir", tmp_path / "o2") == 1
    assert f"no image files in '{empty}' (its subfolders are read with --recursive)" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_special_files_are_skipped_not_read(tmp_path, tiny_model_path, capsys):
    source = tmp_path / "in"
    make_image(source / "a.png")
    os.mkfifo(source / "pipe.png")  # opening it for reading would block forever
    (source / "dangling.png").symlink_to(tmp_path / "nowhere.png")
    assert clean_folder(tiny_model_path, "--input-dir", source, "--output-dir", tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert f"skipped '{source / 'pipe.png'}': not a regular file" in err
    assert f"skipped '{source / 'dangling.png'}': a broken symbolic link" in err
    assert files_under(tmp_path / "out") == ["a.png"]


def test_output_folder_inside_the_input_is_not_walked(tmp_path, tiny_model_path):
    source = tmp_path / "in"
    make_image(source / "a.png")
    out = source / "clean"
    assert clean_folder(tiny_model_path, "--input-dir", source, "--output-dir", out, "--recursive") == 0
    assert clean_folder(tiny_model_path, "--input-dir", source, "--output-dir", out, "--recursive", "--resume") == 0
    assert files_under(out) == ["a.png"]  # never clean/clean/a.png


def test_name_clash_and_existing_output(tmp_path, tiny_model_path, capsys):
    source = tmp_path / "in"
    make_image(source / "meme.jpg", seed=1)
    make_image(source / "meme.png", seed=2)
    make_image(source / "other.png", seed=3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "other.png").write_bytes(b"keep me")
    assert clean_folder(tiny_model_path, "--input-dir", source, "--output-dir", out) == 1
    err = capsys.readouterr().err
    assert f"'{out / 'meme.png'}' is also the output of '{source / 'meme.jpg'}'; rename one of the inputs" in err
    assert f"'{out / 'other.png'}' already exists (use --overwrite to replace it" in err
    assert (out / "other.png").read_bytes() == b"keep me"
    assert files_under(out) == ["meme.png", "other.png"]
    # --resume does not take a file that is not a whole output of this input as done, nor replace it
    assert clean_folder(tiny_model_path, "--input-dir", source, "--output-dir", out, "--resume") == 1
    assert "is not a complete output of" in capsys.readouterr().err
    assert (out / "other.png").read_bytes() == b"keep me"


def test_resume_after_an_interrupted_run(tmp_path, tiny_model_path, capsys):
    """The state a kill leaves: some pictures done, a mask without its picture, a temporary file, a torn line."""
    source = tmp_path / "in"
    for name, seed in (("a", 1), ("b", 2), ("c", 3), ("d", 4)):
        make_image(source / f"{name}.png", seed=seed)
    (source / "notes.txt").write_text("not a picture")
    out, masks, manifest = tmp_path / "out", tmp_path / "masks", tmp_path / "run.jsonl"
    options = ["--input-dir", source, "--output-dir", out, "--mask-dir", masks, "--manifest", manifest]
    assert clean_folder(tiny_model_path, *options) == 0
    reference = {name: (out / name).read_bytes() for name in files_under(out)}
    first_lines = read_manifest(manifest)

    # Interrupted: b was killed between its mask and its picture, c mid-write (a temporary file), d never began.
    (out / "b.png").unlink()
    (out / "c.png").rename(out / ".c.png.0badf00d.tmp")
    (masks / "c.png").unlink()
    (out / "d.png").unlink()
    (masks / "d.png").unlink()
    a_before = (out / "a.png").stat().st_mtime_ns
    with open(manifest, "w", encoding="utf-8") as file:
        # notes.txt's and a's lines, then a torn one
        file.write("".join(json.dumps(record) + "\n" for record in first_lines[:2]) + json.dumps(first_lines[2])[:25])

    capsys.readouterr()
    assert clean_folder(tiny_model_path, *options, "--resume") == 0
    captured = capsys.readouterr()
    assert "cleaned 3 of 4 pictures (1 already done)" in captured.out
    assert f"removed '{out / '.c.png.0badf00d.tmp'}'" in captured.err
    assert files_under(out) == ["a.png", "b.png", "c.png", "d.png"]  # no temporary file left
    assert {name: (out / name).read_bytes() for name in files_under(out)} == reference
    assert (out / "a.png").stat().st_mtime_ns == a_before  # not cleaned again
    assert files_under(masks) == ["a.png", "b.png", "c.png", "d.png"]
    records = read_manifest(manifest)  # the torn line is gone, a's and notes.txt's lines are not repeated
    assert [Path(r["input"]).name for r in records] == ["notes.txt", "a.png", "b.png", "c.png", "d.png"]
    assert [r["status"] for r in records] == ["skipped"] + ["done"] * 4

    # Nothing left to do: no model is needed, nothing is written, the manifest gets no new line.
    assert clean_folder(tmp_path / "no-such-model.pt", *options, "--resume") == 0
    assert "cleaned 0 of 4 pictures (4 already done)" in capsys.readouterr().out
    assert len(read_manifest(manifest)) == 5


def test_resume_after_kill_9(tmp_path, tiny_model_path):
    """A real run killed with SIGKILL as soon as its first picture is recorded, then resumed."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("no SIGKILL on this platform")
    source = tmp_path / "in"
    count = 20
    for number in range(count):
        make_image(source / f"p{number:02d}.png", size=(64, 48), seed=number)
    out, manifest = tmp_path / "out", tmp_path / "run.jsonl"
    command = [
        sys.executable,
        "-m",
        "memeclean_core",
        "clean",
        "--input-dir",
        str(source),
        "--output-dir",
        str(out),
        "--manifest",
        str(manifest),
        "--model",
        str(tiny_model_path),
        "--resolution",
        "64",
        "--device",
        "cpu",
    ]
    environment = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if manifest.exists() and manifest.read_text(encoding="utf-8").count("\n") >= 1:
                break
            time.sleep(0.02)
        process.kill()
    finally:
        process.wait(timeout=60)
    done_before = len(read_manifest(manifest))
    assert 1 <= done_before < count, "the run should have been killed in the middle"

    resumed = subprocess.run(
        command + ["--resume"], cwd=REPO, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert files_under(out) == [f"p{number:02d}.png" for number in range(count)]
    records = read_manifest(manifest)
    done = [Path(r["input"]).name for r in records if r["status"] == "done"]
    assert sorted(done) == sorted(set(done))  # no picture recorded done twice
    complete = {Path(r["input"]).name for r in records if r["status"] == "skipped"}
    assert set(done) | complete == {f"p{number:02d}.png" for number in range(count)}
    for picture in out.iterdir():
        with Image.open(picture) as image:
            image.verify()


def test_jobs_2_writes_the_same_files_as_jobs_1(tmp_path, tree, tiny_model_path, capsys, monkeypatch):
    """With the same threads per process (the network's sums depend on how they are split between threads)."""
    pools = []
    real_pool = batch_folder.process_pool

    def recording_pool(jobs):
        pools.append(jobs)
        return real_pool(jobs)

    monkeypatch.setattr(batch_folder, "process_pool", recording_pool)
    outputs = {}
    for jobs in (1, 2):
        out, masks, manifest = tmp_path / f"out{jobs}", tmp_path / f"masks{jobs}", tmp_path / f"m{jobs}.jsonl"
        assert (
            clean_folder(
                tiny_model_path,
                "--input-dir",
                tree,
                "--output-dir",
                out,
                "--mask-dir",
                masks,
                "--recursive",
                "--manifest",
                manifest,
                "--jobs",
                str(jobs),
                "--threads",
                "1",
            )
            == 0
        )
        outputs[jobs] = {name: (out / name).read_bytes() for name in files_under(out)}
        outputs[jobs].update({f"mask:{name}": (masks / name).read_bytes() for name in files_under(masks)})
        records = sorted(read_manifest(manifest), key=lambda record: record["input"])
        outputs[jobs]["manifest"] = [
            {k: v for k, v in record.items() if k not in ("ms", "output", "mask")} for record in records
        ]
    assert pools == [2]  # --jobs 1 cleaned in this process, --jobs 2 in a pool of two
    assert outputs[1] == outputs[2]
    assert "5/5" in capsys.readouterr().err  # one progress bar in the parent


def test_threads_shared_out_between_processes(monkeypatch):
    from memeclean_core.cli import clean_folder as cli_clean_folder

    monkeypatch.setattr(cli_clean_folder, "usable_cores", lambda: 8)
    assert cli_clean_folder.threads_per_process(1) is None  # one process: torch's own default
    assert [cli_clean_folder.threads_per_process(jobs) for jobs in (2, 3, 8, 16)] == [4, 2, 1, 1]
    assert cli_clean_folder.threads_per_process(4, threads=3) == 3


def test_command_line_errors(tmp_path, tree, tiny_model_path, capsys):
    one = make_image(tmp_path / "one.png")
    cases = [
        (["--input-dir", tree, one, "--output-dir", tmp_path / "o"], "not both"),
        (["--input-dir", tree], "--input-dir needs --output-dir"),
        (["--input-dir", tree, "--output-dir", tree], "must not be the input folder"),
        (["--input-dir", tmp_path / "missing", "--output-dir", tmp_path / "o"], "does not exist"),
        (["--input-dir", tree, "--output-dir", tmp_path / "o", "--jobs", "0"], "--jobs must be at least 1"),
        ([one, "--resume"], "--resume works with --input-dir"),
        ([one, "--jobs", "2"], "--jobs works with --input-dir"),
    ]
    for args, message in cases:
        assert clean_folder(tiny_model_path, *args) == 1, args
        err = capsys.readouterr().err
        assert err.startswith("memeclean: ") and message in err and err.count("\n") == 1, (args, err)
    not_a_manifest = tmp_path / "notes.jsonl"
    not_a_manifest.write_text("hello\n")
    assert (
        clean_folder(tiny_model_path, "--input-dir", tree, "--output-dir", tmp_path / "o", "--manifest", not_a_manifest)
        == 1
    )
    assert "is not a MemeClean manifest" in capsys.readouterr().err
    assert not_a_manifest.read_text() == "hello\n"
    not_a_manifest.write_text("no newline at the end")  # not a torn record: never cut
    assert (
        clean_folder(tiny_model_path, "--input-dir", tree, "--output-dir", tmp_path / "o", "--manifest", not_a_manifest)
        == 1
    )
    assert "is not a MemeClean manifest" in capsys.readouterr().err
    assert not_a_manifest.read_text() == "no newline at the end"
    with pytest.raises(SystemExit) as stop:  # neither files nor a folder: argparse's usage error, as before
        main(["clean"])
    assert stop.value.code == 2
    assert "the following arguments are required: INPUT" in capsys.readouterr().err


def test_plan_names_and_rows(tmp_path):
    source = tmp_path / "in"
    make_gif(source / "moving.gif", frames=3)
    make_gif(source / "still.gif", frames=1)
    make_image(source / "x" / "pic.jpeg")
    plan = batch_folder.plan_folder(source, tmp_path / "out", tmp_path / "masks", recursive=True)
    names = {item.relative: Path(item.output).relative_to(tmp_path / "out").as_posix() for item in plan.items}
    assert names == {"moving.gif": "moving.gif", "still.gif": "still.png", "x/pic.jpeg": "x/pic.png"}
    item = plan.items[0]
    assert batch_folder.FolderItem.from_row(json.loads(json.dumps(item.to_row()))) == item
    options = CleanOptions(resolution=64, crop_bars=True)
    cleaner = batch_folder.ItemCleaner(batch_folder.CleanSettings(options), model=object())
    shipped = pickle.loads(pickle.dumps(cleaner))
    assert cleaner.holder.loaded and not shipped.holder.loaded  # each process loads its own model
    assert shipped.settings.options == options  # the clean asked for reaches every process and Ray actor


def test_engine_seam_runs_any_callable(tmp_path):
    """An engine gets the planned items and a clean_one callable; run_plan records whatever it yields."""
    source = tmp_path / "in"
    make_image(source / "a.png")
    make_image(source / "b.png")
    (source / "c.txt").write_text("x")
    plan = batch_folder.plan_folder(source, tmp_path / "out")
    seen = []

    def clean_one(item):
        seen.append(item.relative)
        return batch_folder.new_record(item.input, item.output, item.mask, status="failed", error="no")

    def reversed_engine(items, clean):
        for item in reversed(items):
            yield clean(item)

    with batch_folder.open_manifest(tmp_path / "m.jsonl") as manifest:
        summary = batch_folder.run_plan(plan, clean_one, reversed_engine, manifest=manifest)
    assert seen == ["b.png", "a.png"]
    assert (summary.cleaned, summary.failed, summary.skipped, summary.images) == (0, 2, 1, 2)
    assert [Path(r["input"]).name for r in read_manifest(tmp_path / "m.jsonl")] == ["c.txt", "b.png", "a.png"]


def test_manifest_takes_rows_from_any_engine(tmp_path):
    """Records that went through Arrow (numpy values, another key order) are written as plain JSON, in field order."""
    with batch_folder.open_manifest(tmp_path / "m.jsonl") as manifest:
        manifest.write(
            {"status": "done", "size": np.array([4, 3]), "ms": np.float64(1.5), "input": "a.png", "output": "out/a.png"}
        )
    (record,) = read_manifest(tmp_path / "m.jsonl")
    assert list(record) == list(batch_folder.MANIFEST_FIELDS)
    assert record["size"] == [4, 3] and record["ms"] == 1.5 and record["mask"] is None
    with batch_folder.open_manifest(tmp_path / "m.jsonl") as reopened:
        assert reopened.done == {("a.png", "out/a.png")}


def test_in_process_engine_cleans_two_pictures_at_once_and_keeps_their_order():
    """`run_in_process` has two pictures in flight (one in a network, the other's single-threaded steps beside it):
    each clean here waits for the other to start, which one picture at a time never would; the records still come
    in the items' order, whichever finishes first."""
    import threading

    items = [f"item{i}" for i in range(5)]
    both_started = threading.Barrier(2, timeout=10)

    def clean_one(item):
        if item in ("item0", "item1", "item2", "item3"):
            both_started.wait()  # item0 with item1, then item2 with item3
        if item == "item0":
            time.sleep(0.05)  # item1 finishes first
        return {"input": item}

    assert [record["input"] for record in batch_folder.run_in_process(items, clean_one)] == items


def test_in_process_engine_stopped_early_finishes_the_pictures_it_started_and_starts_no_more():
    """Ctrl+C (or any stop of the run) while a picture is handed on: the ones being cleaned finish whole, the rest
    are dropped."""
    import threading

    started, finished, lock = [], [], threading.Lock()

    def clean_one(item):
        with lock:
            started.append(item)
        time.sleep(0.02)
        with lock:
            finished.append(item)
        return {"input": item}

    records = batch_folder.run_in_process([f"item{i}" for i in range(10)], clean_one)
    assert next(records)["input"] == "item0"
    records.close()
    assert sorted(started) == sorted(finished)
    assert len(started) <= batch_folder.IN_FLIGHT + 1
