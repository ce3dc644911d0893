"""Speed and memory of MemeClean at working resolutions 256 / 512 / 1024, on the CPU (and CUDA when present), with
each network runtime side by side (torch, OpenVINO).

    python bench/bench_speed.py [--model WEIGHTS] [--threads N] [--runs 5] [--resolution 256 512 1024]
                                [--device auto|cpu|cuda] [--runtime torch openvino] [--pictures DIR]
                                [--folder [--jobs 1 2]] [--json FILE]

Modes per runtime and resolution:
- end-to-end: `clean()` on a generated 1200×900 meme (resize, mask network, Telea prefill, fill network, full-size
  Telea + correction composited back), i.e. what a user waits for; also its stages (prepare, mask, fill,
  composite), the first call at this size (the warm-up: a new size costs OpenVINO a shape of its own) and the
  model's load (for OpenVINO with the networks' compile; a cached conversion);
- photo: the same on a 4032×3024 picture (a 12 MP phone photo's size, with sensor-like noise), where the
  full-resolution stages (edge refinement, fill, compositing) outweigh the networks;
- net-only: the mask network and the fill network (the runtime's runner) on random arrays of the padded working
  size of that meme;
- pictures (`--pictures DIR`): `clean()` of every picture in DIR (first frame): per picture the first call and the
  median of the runs after it, per stage; the table shows the medians over the pictures;
- folder (`--folder`): `memeclean clean --input-dir` throughput, images/s, with `--jobs` 1 and 2 on 12 generated
  640×480 memes (bench_folder.py's measurement, one row per runtime and jobs).

Times are the median (and minimum) of `--runs` runs after one warm-up run. Every (device, mode, resolution) runs in
a fresh child process, so that its peak memory is its own: on the CPU the peak resident set above the resident set
just before the first run (Linux: VmHWM reset through /proc/self/clear_refs; elsewhere the ru_maxrss increase,
which under-reports when loading peaked higher); on CUDA `torch.cuda.max_memory_allocated` above the allocation
before the first run. Multiply-accumulates count the Conv2d layers only (out_h·out_w·out_c·in_c/groups·kh·kw) of
both networks at the padded working size. Speed does not depend on the weights: without the bundled model (and no
--model) a randomly initialised default-config network is timed, with a note.

Run it on an otherwise idle machine (e.g. `nice -n 19` is fine when nothing else runs): numbers taken while
another job uses the CPU are contended and say so only if you do.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, arguments

MEME_SIZE = (1200, 900)  # width, height of the generated meme cleaned end to end
PHOTO_SIZE = (4032, 3024)  # the photo mode's: the same 4:3 shape, so the same working size
CPU_TARGETS_MS = {512: 400.0, 1024: 1600.0}  # end to end on the 2-core development CPU


# ------------------------------------------------------------------------------------------------- child side


def make_meme(seed: int = 0, size: tuple[int, int] = MEME_SIZE):
    """A meme of `size` (1200×900): a procedural picture with captions in the bundled font (deterministic); larger
    than 1200 px, the picture is upscaled and gets sensor-like noise, as a photo has."""
    import cv2
    import numpy as np

    from memeclean_core.data.backgrounds import procedural
    from memeclean_core.data.font_pool import FontPool
    from memeclean_core.data.synth import caption_image

    rng = np.random.default_rng(seed)
    side = min(max(size), max(MEME_SIZE))
    picture = cv2.resize(
        procedural(rng, side), size, interpolation=cv2.INTER_AREA if side >= max(size) else cv2.INTER_CUBIC
    )
    if side < max(size):
        picture = np.clip(picture + rng.normal(0, 3, picture.shape), 0, 255).astype(np.uint8)
    meme, _ = caption_image(picture, FontPool.from_folder(ROOT / "no-fonts-here"), rng)  # bundled Anton
    return meme


def build_model(path: str | None, device_name: str, runtime: str = "torch", threads: int | None = None):
    """(LoadedModel, note): the weights asked for, the bundled ones, or a random default-config network (torch)."""
    import torch

    from memeclean_core.network.checkpoint import LoadedModel, load_model
    from memeclean_core.network.device import pick_device
    from memeclean_core.network.model import MemeCleanNet
    from memeclean_core.resources import bundled_model_path

    if path is not None or bundled_model_path().is_file():
        model = load_model(path, device=device_name, runtime=runtime, threads=threads)  # OpenVINO's threads
        if model.runtime != runtime:
            raise SystemExit(f"the {runtime} runtime did not load: {model.note}")
        return model, str(model.path)
    device = pick_device(device_name)
    torch.manual_seed(0)
    net = MemeCleanNet().to(device).eval()
    half = device.type == "cuda"  # as load_model does
    model = LoadedModel.of_net(net.half() if half else net, device, half=half)
    return model, "random default-config MemeCleanNet (bundled weights missing; speed does not depend on weights)"


def padded_working_size(resolution: int, multiple: int) -> tuple[int, int]:
    from memeclean_core.geometry import padded_size, working_size

    return padded_size(*working_size(*MEME_SIZE, resolution), multiple)


def count_macs(config, width: int, height: int) -> int:
    """Convolution multiply-accumulates of both networks for one image of width×height (torch's FLOP counter, which
    sees every convolution, also those the UNet applies part by part; meta tensors, so nothing is computed)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from memeclean_core.network.model import MemeCleanNet

    net = MemeCleanNet(config).to("meta").eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net.predict_mask(torch.zeros(1, 3, height, width, device="meta"))
        net.fill(torch.zeros(1, 3, height, width, device="meta"), torch.zeros(1, 1, height, width, device="meta"))
    return counter.get_total_flops() // 2  # a multiply-accumulate is two floating-point operations


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class CpuPeak:
    """Peak resident memory above the current resident set, from here to `stop()`."""

    def __init__(self):
        self.method = "ru_maxrss"
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
            if _status_kib("VmHWM") is not None:
                self.method = "VmHWM"
        except OSError:
            pass
        self.start_kib = _status_kib("VmRSS") if self.method == "VmHWM" else self._maxrss_kib()

    @staticmethod
    def _maxrss_kib() -> int:
        value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return value // 1024 if sys.platform == "darwin" else value  # bytes on macOS, KiB elsewhere

    def stop(self) -> float:
        end = _status_kib("VmHWM") if self.method == "VmHWM" else self._maxrss_kib()
        return max(0, end - self.start_kib) / 1024.0


def child(spec: dict) -> dict:
    import cv2
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
        cv2.setNumThreads(spec["threads"])
    load_started = time.perf_counter()
    model, note = build_model(spec["model"], spec["device"], spec.get("runtime", "torch"), spec["threads"] or None)
    warm_up = getattr(model.runner, "warm_up", None)
    if warm_up is not None:
        warm_up()  # as the app's preload does: the first clean pays its size, not the compile
    load_ms = 1000.0 * (time.perf_counter() - load_started)
    cuda = model.device is not None and model.device.type == "cuda"
    resolution = spec["resolution"]
    width, height = padded_working_size(resolution, model.config.multiple)
    stages: list[dict[str, float]] = []

    if spec["mode"] == "pictures":
        return pictures_child(spec, model, note, load_ms)
    if spec["mode"] in ("end-to-end", "photo"):
        from memeclean_core.cleaning.inference import clean

        meme = make_meme(size=PHOTO_SIZE if spec["mode"] == "photo" else MEME_SIZE)

        def once() -> None:
            stages.append(clean(meme, resolution=resolution, model=model).timings)
    else:
        import numpy as np

        rng = np.random.default_rng(0)
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        hole = (rng.random((height, width)) > 0.9).astype(np.float32)

        def once() -> None:
            model.runner.mask_probability(image)
            model.runner.fill_correction(image, hole)
            if cuda:
                torch.cuda.synchronize()

    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        peak = CpuPeak()
    started = time.perf_counter()
    once()  # warm-up: kernel selection for this size, lazy initialisation
    first_ms = 1000.0 * (time.perf_counter() - started)
    stages.clear()
    times = []
    for _ in range(spec["runs"]):
        started = time.perf_counter()
        once()
        times.append(1000.0 * (time.perf_counter() - started))
    if cuda:
        peak_mib, peak_method = (torch.cuda.max_memory_allocated() - base) / 2**20, "cuda.max_memory_allocated"
    else:
        peak_mib, peak_method = peak.stop(), peak.method
    return {
        "device": model.device_name,
        "runtime": model.runtime,
        "first_ms": first_ms,
        "load_ms": load_ms,
        "stages": {name: 1000.0 * statistics.median(t[name] for t in stages) for name in stages[0]} if stages else {},
        "mode": spec["mode"],
        "resolution": resolution,
        "working": [width, height],
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "runs": times,
        "peak_mib": peak_mib,
        "peak_method": peak_method,
        "threads": getattr(model.runner, "threads", None) or torch.get_num_threads(),
        "model": note,
        "parameters": count_parameters(model.config),
        "macs": count_macs(model.config, width, height),
    }


def count_parameters(config) -> int:
    from memeclean_core.network.model import MemeCleanNet

    return MemeCleanNet(config).num_parameters()


def picture_files(folder: str) -> list[Path]:
    from memeclean_core.files.filenames import IMAGE_SUFFIXES

    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def pictures_child(spec: dict, model, note: str, load_ms: float) -> dict:
    """Every picture of `spec["pictures"]` cleaned: its first call, then `runs` more; medians over the pictures."""
    import torch

    from memeclean_core.cleaning.inference import clean
    from memeclean_core.files.imageio import load_image

    per_picture = []
    for path in picture_files(spec["pictures"]):
        rgb = load_image(path).frames[0].pixels[..., :3]
        first = clean(rgb, resolution=spec["resolution"], model=model).timings["total"]
        runs = [clean(rgb, resolution=spec["resolution"], model=model).timings for _ in range(spec["runs"])]
        medians = {name: statistics.median(t[name] for t in runs) for name in runs[0]}
        per_picture.append({"name": path.name, "size": list(rgb.shape[1::-1]), "first": first, **medians})
    if not per_picture:
        raise SystemExit(f"no pictures in '{spec['pictures']}'")
    names = [name for name in per_picture[0] if name not in ("name", "size")]
    over = {name: 1000.0 * statistics.median(p[name] for p in per_picture) for name in names}
    sides = sorted(max(p["size"]) for p in per_picture)
    return {
        "device": model.device_name,
        "runtime": model.runtime,
        "mode": "pictures",
        "resolution": spec["resolution"],
        "working": [0, 0],
        "median_ms": over["total"],
        "min_ms": 1000.0 * min(p["total"] for p in per_picture),
        "first_ms": over.pop("first"),
        "load_ms": load_ms,
        "stages": over,
        "runs": [1000.0 * p["total"] for p in per_picture],
        "pictures": f"{len(per_picture)} pictures, long side {sides[0]}-{sides[-1]} px",
        "peak_mib": float("nan"),
        "peak_method": "not measured",
        "threads": getattr(model.runner, "threads", None) or torch.get_num_threads(),
        "model": note,
        "parameters": count_parameters(model.config),
        "macs": 0,
    }


# ------------------------------------------------------------------------------------------------ parent side


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure(spec: dict) -> dict:
    """Run one measurement in a fresh interpreter (its peak memory is its own)."""
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measurement {spec} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def format_results(results: list[dict], header: list[str]) -> str:
    columns = ["device", "mode", "resolution", "working", "GMAC", "median ms", "min ms", "peak MiB", "CPU target"]
    lines = [columns]
    for r in results:
        target = CPU_TARGETS_MS.get(r["resolution"]) if r["device"] == "CPU" and r["mode"] == "end-to-end" else None
        verdict = "" if target is None else f"<= {target:.0f} ms {'ok' if r['median_ms'] <= target else 'MISSED'}"
        lines.append(
            [
                r["device"],
                r["mode"],
                str(r["resolution"]),
                f"{r['working'][0]}x{r['working'][1]}",
                f"{r['macs'] / 1e9:.2f}",
                f"{r['median_ms']:.1f}",
                f"{r['min_ms']:.1f}",
                f"{r['peak_mib']:.0f}",
                verdict,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    rows = [
        "  ".join(
            cell.ljust(w) if i < 2 or i == len(columns) - 1 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths))
        ).rstrip()
        for line in lines
    ]
    rows.insert(1, "-" * max(len(row) for row in rows))
    return "\n".join(header + [""] + rows)


STAGES = ("prepare", "mask", "fill", "composite", "total")


def side_by_side(results: list[dict], folder_rows: list[dict]) -> str:
    """Markdown: per mode and resolution, each stage's median ms per runtime, and the speed-up of the last runtime
    over the first; then the folder mode's images/s."""
    runtimes = list(dict.fromkeys(r["runtime"] for r in results))
    lines = [
        f"| mode | resolution | ms | {' | '.join(runtimes)} | speed-up |",
        "|---|---:|---|" + "---:|" * len(runtimes) + "---:|",
    ]
    for mode, resolution in dict.fromkeys((r["mode"], r["resolution"]) for r in results):
        by_runtime = {r["runtime"]: r for r in results if (r["mode"], r["resolution"]) == (mode, resolution)}
        keys = ["median_ms"] if mode == "net-only" else list(STAGES)
        for key in keys + ["first_ms", "load_ms"]:
            values = [_value(by_runtime.get(name), key) for name in runtimes]
            cells = ["-" if v is None else f"{v:.0f}" for v in values]
            ratio = f"{values[0] / values[-1]:.2f}x" if values[0] and values[-1] else ""
            lines.append(f"| {mode} | {resolution} | {MEASURES.get(key, key)} | {' | '.join(cells)} | {ratio} |")
    for row in folder_rows:
        cells = [f"{row['rate']:.2f}" if name == row["runtime"] else "" for name in runtimes]
        lines.append(f"| folder | {row['resolution']} | images/s, --jobs {row['jobs']} | {' | '.join(cells)} | |")
    return "\n".join(lines)


MEASURES = {"median_ms": "both networks", "first_ms": "first call at this size", "load_ms": "load (+ compile)"}


def _value(result: dict | None, key: str) -> float | None:
    if result is None:
        return None
    return result["stages"].get(key) if key in STAGES else result.get(key)


def measure_folder(runtimes: list[str], jobs: list[int], resolution: int, model: str | None) -> list[dict]:
    """bench_folder.py's measurement: 12 generated 640×480 memes, each runtime with each --jobs value."""
    import shutil
    import tempfile

    import bench_folder

    rows = []
    work = Path(tempfile.mkdtemp(prefix="bench_speed_folder_"))
    try:
        source = work / "in"
        bench_folder.make_folder(source, 12, (640, 480))
        for runtime in runtimes:
            for count in jobs:
                args = argparse.Namespace(
                    resolution=resolution, model=model, device="cpu", threads=None, runtime=runtime
                )
                out = work / f"out-{runtime}-{count}"
                row = bench_folder.run_once(source, out, count, args)
                rows.append({**row, "runtime": runtime, "resolution": resolution})
                print(f"  folder {runtime} --jobs {count}: {row['rate']:.2f} images/s", file=sys.stderr, flush=True)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--model", metavar="WEIGHTS", help="weights file (default: the bundled model)")
    parser.add_argument(
        "--threads", type=int, default=0, metavar="N", help="torch/OpenCV/OpenVINO threads (default: the libraries')"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the warm-up (default 5)")
    parser.add_argument("--resolution", type=int, nargs="+", default=[256, 512, 1024], metavar="N")
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="auto: the CPU, and CUDA too when present (default)",
    )
    parser.add_argument(
        "--mode", nargs="+", default=["end-to-end", "net-only", "photo"], choices=["end-to-end", "net-only", "photo"]
    )
    parser.add_argument(
        "--runtime",
        nargs="+",
        choices=["torch", "openvino"],
        help="network runtimes to compare (default: torch, and OpenVINO when it is installed; CUDA: torch only)",
    )
    parser.add_argument("--pictures", metavar="DIR", help="also clean every picture in DIR (per-stage medians)")
    parser.add_argument("--folder", action="store_true", help="also the folder mode's images/s (12 pictures)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], metavar="N", help="--folder: jobs (1 2)")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements to FILE")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0

    import torch

    busy_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    devices = [args.device] if args.device != "auto" else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    runtimes = args.runtime or ["torch"] + (["openvino"] if importlib.util.find_spec("openvino") else [])
    modes = args.mode + (["pictures"] if args.pictures else [])
    results = []
    for device in devices:
        for runtime in runtimes if device == "cpu" else ["torch"]:
            for mode in modes:
                for resolution in args.resolution:
                    spec = {
                        "device": device,
                        "runtime": runtime,
                        "mode": mode,
                        "resolution": resolution,
                        "runs": max(1, args.runs if mode != "pictures" else min(args.runs, 2)),
                        "threads": args.threads,
                        "model": args.model,
                        "pictures": args.pictures,
                    }
                    results.append(measure(spec))
                    r = results[-1]
                    print(
                        f"  {r['device']} {mode} {resolution}: {r['median_ms']:.1f} ms (first {r['first_ms']:.0f})",
                        file=sys.stderr,
                        flush=True,
                    )
    folder_rows = measure_folder(runtimes, args.jobs, 512, args.model) if args.folder else []
    first = results[0]
    busy_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    # The benchmark itself keeps about `threads` cores busy; much more than that means another job competed.
    own = first["threads"]
    contended = busy_before > 0.5 or busy_after > own + 0.75
    header = [
        f"MemeClean speed: {first['model']}",
        f"{first['parameters'] / 1e6:.2f} M parameters; torch {torch.__version__}; {first['threads']} threads; "
        f"CPU: {cpu_name()} ({os.cpu_count()} logical cores); 1-min load average {busy_before:.2f} before, "
        f"{busy_after:.2f} after",
        f"end-to-end = clean() on a {MEME_SIZE[0]}x{MEME_SIZE[1]} generated meme incl. compositing (photo: on a "
        f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} one); net-only = mask + "
        f"fill networks on the padded working size; median/min of {max(1, args.runs)} runs after 1 warm-up; "
        "GMAC = convolution multiply-accumulates (both networks); "
        f"peak = memory above the loaded model ({first['peak_method']}"
        + (", cuda.max_memory_allocated on CUDA)" if "cuda" in devices else ")"),
    ]
    if contended:
        header.append(
            "WARNING: other processes were using the CPU (load average above): these timings are "
            "contended, not the machine's speed"
        )
    if args.pictures:
        pictures = next(r["pictures"] for r in results if r["mode"] == "pictures")
        header.append(f"pictures = clean() of {pictures} in {args.pictures}: medians over the pictures")
    print(format_results(results, header))
    print()
    print(side_by_side(results, folder_rows))
    if args.json:
        payload = {"header": header, "results": results, "folder": folder_rows}
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
