"""The small pieces with one home each (issue 28): the same file, the file dialogs' filters, an exception on one
line, a model loaded once per process."""

from __future__ import annotations

import os
import pickle
import re

import pytest

from memeclean_core.errors import describe_unexpected, first_line
from memeclean_core.files.filenames import IMAGE_SUFFIXES, SAVE_FORMATS, open_filter, path_key, same_file, save_filters


def test_the_open_filter_lists_every_suffix_the_core_reads():
    patterns = re.fullmatch(r"Images \(([^)]*)\);;All files \(\*\)", open_filter()).group(1).split()
    assert sorted(patterns) == sorted(f"*{suffix}" for suffix in IMAGE_SUFFIXES) and len(patterns) == 17


def test_the_weights_filter_lists_the_suffix_the_model_folder_lists(tmp_path):
    from memeclean_core.files.filenames import weights_filter
    from memeclean_core.resources import user_models

    pattern = re.fullmatch(r"MemeClean weights \(\*(\.\w+)\);;All files \(\*\)", weights_filter()).group(1)
    (tmp_path / f"mine{pattern}").write_bytes(b"x")
    (tmp_path / "other.pth").write_bytes(b"x")
    assert [path.name for path in user_models(tmp_path)] == [f"mine{pattern}"]


def test_save_filters_name_every_suffix_of_a_format_and_only_formats_written():
    filters = save_filters()
    assert filters == {
        "PNG image (*.png)": ".png",
        "JPEG image (*.jpg *.jpeg)": ".jpg",
        "WebP image (*.webp)": ".webp",
        "GIF animation (*.gif)": ".gif",
    }
    assert list(save_filters((".png", ".jpg"))) == ["PNG image (*.png)", "JPEG image (*.jpg *.jpeg)"]
    assert set(filters.values()) <= set(SAVE_FORMATS)
    with pytest.raises(KeyError):
        save_filters((".bmp",))  # read, never written


def test_same_file_sees_through_links_and_dots_and_compares_paths_not_yet_made(tmp_path):
    real = tmp_path / "a.png"
    real.write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(real)
    os.link(real, tmp_path / "hard.png")
    assert same_file(real, tmp_path / "link.png") and same_file(real, tmp_path / "hard.png")
    assert same_file(real, tmp_path / "sub" / ".." / "a.png")
    assert same_file(tmp_path / "new.png", tmp_path / "." / "new.png")  # neither exists yet
    assert not same_file(real, tmp_path / "b.png")
    assert path_key(tmp_path / "link.png") == path_key(real)  # a key for sets and dicts of paths
    assert path_key(tmp_path / "x" / ".." / "new.png") == path_key(tmp_path / "new.png")


def test_first_line_is_the_first_line_of_the_message_or_of_the_error_it_carries():
    assert first_line(ValueError("Expecting value: line 1 column 1\n  context")) == "Expecting value: line 1 column 1"
    assert first_line(ValueError("  "), "ValueError") == "ValueError"
    worker = ValueError(
        "Caught UsageError in DataLoader worker process 0.\n"
        "Original Traceback (most recent call last):\n"
        '  File "dataset.py", line 3, in load\n'
        "    raise UsageError(message)\n"
        "memeclean_core.errors.UsageError: --data 'x': no pictures\n"
        "more of the message"
    )
    assert first_line(worker) == "--data 'x': no pictures"
    openvino = RuntimeError(
        "Exception from src/inference/src/cpp/core.cpp:105:\n"
        "Exception from src/plugins/intel_cpu/src/graph.cpp:12:\n"
        "Cannot compile the model: out of memory\n"
    )
    assert first_line(openvino) == "Cannot compile the model: out of memory"
    assert describe_unexpected(openvino) == "RuntimeError: Cannot compile the model: out of memory"


def test_a_lazy_model_loads_once_and_a_pickled_copy_loads_its_own(monkeypatch):
    from memeclean_core.network import checkpoint, lazy

    loads = []
    monkeypatch.setattr(checkpoint, "load_model", lambda *args, **kwargs: loads.append(args) or object())
    holder = lazy.LazyModel("weights.pt", "cpu", "torch")
    assert not holder.loaded
    first = holder.get()
    assert holder.get() is first and loads == [("weights.pt", "cpu", "torch")]
    copy = pickle.loads(pickle.dumps(holder))
    assert not copy.loaded and copy.get() is not first and len(loads) == 2
