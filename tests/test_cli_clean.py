"""`memeclean clean`: outputs where the user asked, masks, animations, one bad file does not stop the rest, and
nothing is ever overwritten without --overwrite (inputs never). Uses a tiny random network at resolution 64."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.cli import clean as cli_clean
from memeclean_core.cli import main
from memeclean_core.progress import ProgressBar

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from memeclean_core.network.model import MemeCleanNet, UNetConfig
    from memeclean_core.network.weights import save_checkpoint

    return save_checkpoint(tmp_path_factory.mktemp("model") / "tiny.pt", MemeCleanNet(UNetConfig.tiny()))


def make_image(path: Path, size=(56, 40), seed: int = 0) -> Path:
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def make_gif(path: Path, frames: int = 3, size=(30, 20)) -> Path:
    pictures = [Image.new("RGB", size, (40 * i, 200 - 40 * i, 90)) for i in range(frames)]
    pictures[0].save(
        path, save_all=True, append_images=pictures[1:], duration=[30 + 10 * i for i in range(frames)], loop=0
    )
    return path


def clean_cli(model: Path, *args: str | Path) -> int:
    return main(["clean", *map(str, args), "--model", str(model), "--resolution", "64", "--device", "cpu"])


def test_one_input_with_output(tmp_path, tiny_model, capsys):
    source = make_image(tmp_path / "meme.jpg")
    before = source.read_bytes()
    assert clean_cli(tiny_model, source, "--output", tmp_path / "new" / "clean.png") == 0
    with Image.open(tmp_path / "new" / "clean.png") as out:
        assert out.size == (56, 40) and out.format == "PNG"
    assert source.read_bytes() == before
    captured = capsys.readouterr()
    assert "cleaned 1 of 1 file" in captured.out
    assert captured.err == ""  # one file, not a terminal: no progress bar


def test_default_output_next_to_input(tmp_path, tiny_model):
    source = make_image(tmp_path / "meme.png")
    assert clean_cli(tiny_model, source) == 0
    assert (tmp_path / "meme.clean.png").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meme.clean.png", "meme.png"]


def test_output_dir_with_a_corrupt_input(tmp_path, tiny_model, capsys):
    good = [make_image(tmp_path / "one.png", seed=1), make_image(tmp_path / "two.jpg", seed=2)]
    bad = tmp_path / "broken.png"
    bad.write_bytes(good[0].read_bytes()[:200])
    status = clean_cli(tiny_model, good[0], bad, good[1], "--output-dir", tmp_path / "out")
    assert status == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one.png", "two.png"]
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("memeclean:")]
    assert len(errors) == 1 and "broken.png" in errors[0] and "truncated or corrupt" in errors[0]
    assert "Traceback" not in captured.err
    assert "cleaned 2 of 3 files" in captured.out
    assert "3/3" in captured.err  # the progress bar ran over the files


def test_mask_dir_writes_binary_mask(tmp_path, tiny_model):
    source = make_image(tmp_path / "meme.png", size=(70, 50))
    assert clean_cli(tiny_model, source, "--output-dir", tmp_path / "out", "--mask-dir", tmp_path / "masks") == 0
    with Image.open(tmp_path / "masks" / "meme.png") as mask:
        assert mask.format == "PNG" and mask.size == (70, 50)
        values = np.unique(np.asarray(mask.convert("L")))
    assert set(values.tolist()) <= {0, 255}


def test_animated_gif_stays_animated(tmp_path, tiny_model):
    from memeclean_core.files.imageio import load_image

    source = make_gif(tmp_path / "anim.gif", frames=3)
    assert clean_cli(tiny_model, source, "--output-dir", tmp_path / "out", "--mask-dir", tmp_path / "masks") == 0
    result = load_image(tmp_path / "out" / "anim.gif")
    assert result.format == "GIF" and len(result.frames) == 3
    assert [f.duration_ms for f in result.frames] == [30, 40, 50]
    assert result.loop == 0 and (result.width, result.height) == (30, 20)
    assert (tmp_path / "masks" / "anim.png").is_file()


def test_missing_model_is_one_line(tmp_path, capsys):
    source = make_image(tmp_path / "meme.png")
    status = main(["clean", str(source), "--model", str(tmp_path / "missing.pt"), "--device", "cpu"])
    assert status == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("memeclean: ") and "missing.pt" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meme.png"]


def test_missing_model_from_the_command_line(tmp_path):
    source = make_image(tmp_path / "meme.png")
    process = subprocess.run(
        [sys.executable, "-m", "memeclean_core", "clean", str(source), "--model", str(tmp_path / "missing.pt")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    assert len(process.stderr.strip().splitlines()) == 1 and "missing.pt" in process.stderr


def test_refuses_to_overwrite(tmp_path, tiny_model, capsys):
    source = make_image(tmp_path / "meme.png")
    target = tmp_path / "meme.clean.png"
    target.write_bytes(b"keep me")
    assert clean_cli(tiny_model, source) == 1
    err = capsys.readouterr().err
    assert "meme.clean.png" in err and "--overwrite" in err
    assert target.read_bytes() == b"keep me"
    assert clean_cli(tiny_model, source, "--overwrite") == 0
    with Image.open(target) as out:
        assert out.size == (56, 40)


def test_never_overwrites_an_input(tmp_path, tiny_model, capsys):
    source = make_image(tmp_path / "meme.png")
    before = source.read_bytes()
    assert clean_cli(tiny_model, source, "--output", source, "--overwrite") == 1
    # the mask would land on the input itself
    assert clean_cli(tiny_model, source, "--mask-dir", tmp_path, "--overwrite") == 1
    assert source.read_bytes() == before
    assert "never overwrites" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meme.png"]


def test_same_output_name_twice_in_one_run(tmp_path, tiny_model, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_image(tmp_path / "a" / "meme.png", seed=3)
    second = make_image(tmp_path / "b" / "meme.jpg", seed=4)
    assert clean_cli(tiny_model, first, second, "--output-dir", tmp_path / "out", "--overwrite") == 1
    err = capsys.readouterr().err
    assert "already written" in err and str(second) in err


def test_command_line_errors(tmp_path, tiny_model, capsys):
    one, two = make_image(tmp_path / "one.png"), make_image(tmp_path / "two.png")
    assert clean_cli(tiny_model, one, two, "--output", tmp_path / "x.png") == 1
    assert "--output" in capsys.readouterr().err
    for resolution in ("63", "4097"):
        assert main(["clean", str(one), "--resolution", resolution, "--model", str(tiny_model)]) == 1
        assert "between 64 and 4096" in capsys.readouterr().err
    assert clean_cli(tiny_model, one, "--output", tmp_path / "x.tiffy") == 1
    assert ".png" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["clean", str(one), "--output", "x.png", "--output-dir", "d"])  # argparse: mutually exclusive
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.png", "two.png"]


def test_model_loaded_once(tmp_path, tiny_model, monkeypatch):
    import memeclean_core.network.checkpoint as checkpoint

    calls = []
    real = checkpoint.load_model

    def counting(path=None, device="auto", **options):  # options: the runtime
        calls.append((path, device))
        return real(path, device=device, **options)

    monkeypatch.setattr(checkpoint, "load_model", counting)
    sources = [make_image(tmp_path / f"{n}.png", seed=n) for n in range(3)]
    assert clean_cli(tiny_model, *sources, "--output-dir", tmp_path / "out") == 0
    assert calls == [(str(tiny_model), "cpu")]


def test_wildcards_expanded_when_the_shell_did_not(tmp_path):
    make_image(tmp_path / "x1.png")
    make_image(tmp_path / "x2.png")
    paths = cli_clean.expand_inputs([str(tmp_path / "x*.png"), str(tmp_path / "none*.png")])
    assert [p.name for p in paths] == ["x1.png", "x2.png", "none*.png"]


def test_progress_bar_on_a_terminal():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = ProgressBar(stream, min_interval=0)
    bar.update(0, "1/2 a.png")
    bar.update(0.25, "1/2 a.png")
    bar.message("memeclean: a.png: oops")
    bar.update(1, "2/2 " + "done " * 40, force=True)  # longer than the terminal: cut, not wrapped
    bar.clear()
    text = stream.getvalue()
    assert text.count("\r") >= 4 and "memeclean: a.png: oops\n" in text
    assert "100.0% 2/2 done" in text and max(len(line) for line in text.split("\r")) < 90


def test_progress_bar_in_a_log_writes_a_line_now_and_then():
    import io

    stream = io.StringIO()
    bar = ProgressBar(stream, log_interval=3600)
    for step in range(100):
        bar.update(step / 100, f"step {step}")
    bar.update(1.0, "done", force=True)
    bar.message("saved")
    assert stream.getvalue().splitlines() == [
        "[............................]   0.0% step 0",
        "[############################] 100.0% done",
        "saved",
    ]
    quiet = io.StringIO()
    disabled = ProgressBar(quiet, enabled=False)
    disabled.update(0.5, "half", force=True)
    disabled.message("only this")
    assert quiet.getvalue() == "only this\n"
