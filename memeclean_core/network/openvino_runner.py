"""The OpenVINO network runner: the checkpoint's two networks converted for OpenVINO's CPU runtime.

Conversion (`convert`) traces `torch_runner.MaskProbability` and `FillCorrection` (exactly what the torch runner
calls) with OpenVINO's PyTorch frontend, inputs of any height and width, weights kept in float32. It needs torch
and takes a second or two, so its result is cached in the user cache folder (`cache_root()`), one folder per
weights file content and OpenVINO version:

    <cache>/MemeClean/openvino/<sha256 of the weights, 32 hex>-ov<OpenVINO version>/
        mask.xml mask.bin fill.xml fill.bin   the converted networks (OpenVINO IR)
        manifest.json                         written last: what was converted, and the SHA-256 of each file
        compiled-<net>-<precision>-<threads>t-<CPU key>.blob, .sha256
                                              a network compiled for this CPU (OpenVINO's export), and its digest

A cache entry is trusted only when its manifest names the same weights digest, OpenVINO version and conversion
version, and every file's digest matches: a corrupt, partial or foreign entry is converted again and rewritten
(each file through `safe_write`, so a file is never half-written; the manifest last). A cache hit needs neither
torch nor the checkpoint's loader: the app's first clean does not wait for torch's import (about 1 s).

`OpenVINORunner` compiles each network for the CPU on first use, once per thread count, and keeps the compiled
network in the cache entry: a later process imports it (checked against its digest first) instead of compiling
again, which shortens the app's launch to its first clean; `threads.threads_for`
gives small pictures (animation frames) fewer threads, as the torch runner does. Inference requests are pooled, so
two threads (the app's clean and its queue) can clean at once.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MemeCleanError, ModelLoadError
from ..files.safe_write import write_file, write_json
from ..threads import threads_for, usable_cores
from .model_config import UNetConfig
from .signal_stack import kept_signal_stack

CONVERSION_VERSION = 1  # raise when the converted graph changes (wrappers, input shapes, precision of weights)
MANIFEST_FORMAT = "memeclean-openvino-cache-v1"
NETWORKS = ("mask", "fill")
# Precision per network. bf16 for both lost up to 0.23 dB of text-region PSNR on three of memeclean eval's rows; bf16
# for the fill network alone moved no row by 0.01 dB and no mask IoU at all (bench/bench_precision.py --candidate
# fill-bf16, docs/MODEL.md "Speed"), so the fill runs in bf16 where the CPU computes it natively (AVX-512 BF16, AMX)
# and everything else in f32.
PRECISION = "f32"
FILL_PRECISION_WITH_BF16 = {"mask": "f32", "fill": "bf16"}


def default_precision(core: Any) -> dict[str, str]:
    """FILL_PRECISION_WITH_BF16 on a CPU with native bf16 (OpenVINO lists "BF16" in its capabilities), else f32."""
    if "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        return dict(FILL_PRECISION_WITH_BF16)
    return {name: PRECISION for name in NETWORKS}


DEVICE_NAME = "CPU (OpenVINO)"


def openvino_version() -> str:
    import openvino

    return openvino.get_version().split("-")[0]


def cache_root() -> Path:
    """<user cache dir>/MemeClean/openvino (platformdirs); tests point XDG_CACHE_HOME elsewhere."""
    import platformdirs

    return platformdirs.user_cache_path("MemeClean", appauthor=False) / "openvino"


def weights_digest(path: Path) -> str:
    """SHA-256 of the weights file's bytes: the cache key (the same weights under another name share it)."""
    hasher = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def cache_folder(digest: str, version: str, root: Path | None = None) -> Path:
    return (cache_root() if root is None else root) / f"{digest[:32]}-ov{version}"


def expected_manifest(digest: str, version: str) -> dict[str, Any]:
    return {"format": MANIFEST_FORMAT, "weights_sha256": digest, "openvino": version, "conversion": CONVERSION_VERSION}


def read_cache(folder: Path, digest: str, version: str) -> tuple[dict, dict[str, bytes]] | None:
    """(the stored network config, {file name: bytes}) of a cache entry that checks out; None for anything else
    (missing, partial, corrupt, another OpenVINO or conversion version)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or any(
            manifest.get(key) != value for key, value in expected_manifest(digest, version).items()
        ):
            return None
        files = {}
        for name, sha in manifest["files"].items():
            data = (folder / name).read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                return None
            files[name] = data
        if sorted(files) != sorted(f"{net}.{suffix}" for net in NETWORKS for suffix in ("xml", "bin")):
            return None
        UNetConfig.from_dict(manifest["config"])
        return manifest["config"], files
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def convert(path: Path) -> tuple[dict, dict[str, bytes], dict[str, Any]]:
    """Convert the checkpoint at `path`: (its network config, {file name: IR bytes} or {} where they could not be
    written, {network name: openvino.Model}). Imports torch. ModelLoadError for a file that is not a checkpoint."""
    import openvino
    import torch
    from openvino.frontend import FrontEndManager
    from openvino.frontend.pytorch.ts_decoder import TorchScriptPythonDecoder

    from .torch_runner import FillCorrection, MaskProbability
    from .weights import build_net, read_checkpoint

    net = build_net(read_checkpoint(path), path).eval()
    side = 2 * net.config.multiple  # any multiple traces the same graph: every size comes from the input's shape
    image, hole = torch.rand(1, 3, side, side), torch.zeros(1, 1, side, side)
    frontend = FrontEndManager().load_by_framework("pytorch")
    files: dict[str, bytes] = {}
    models: dict[str, Any] = {}
    with (
        torch.no_grad(),
        warnings.catch_warnings(),  # the tracer's notes on shapes read as numbers: every size is traced from input
        tempfile.TemporaryDirectory(prefix="memeclean-openvino-") as temporary,
    ):
        warnings.simplefilter("ignore")
        for name, module, example, channels in (
            ("mask", MaskProbability(net), (image,), (3,)),
            ("fill", FillCorrection(net), (image, hole), (3, 1)),
        ):
            traced = torch.jit.trace(module.eval(), example, check_trace=False)
            decoder = TorchScriptPythonDecoder(traced)  # kept referenced: the frontend calls back into it
            converted = frontend.convert(frontend.load(decoder))
            converted.reshape({i: openvino.PartialShape([1, c, -1, -1]) for i, c in enumerate(channels)})
            models[name] = converted
            xml = Path(temporary) / f"{name}.xml"
            try:
                openvino.save_model(converted, xml, compress_to_fp16=False)  # keep the weights float32
                files[xml.name] = xml.read_bytes()
                files[f"{name}.bin"] = xml.with_suffix(".bin").read_bytes()
            except (OSError, RuntimeError):  # a full disk or a file-size limit: run it, cache nothing
                files = {}
    return net.config.to_dict(), files if len(files) == 2 * len(NETWORKS) else {}, models


def write_cache(folder: Path, manifest: dict, files: dict[str, bytes]) -> None:
    """Each file atomically, the manifest (with every file's digest) last: a reader trusts all or nothing."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_file(folder / name, data, overwrite=True)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    write_json(folder / "manifest.json", {**manifest, "files": digests}, overwrite=True)


def load_openvino(path: Path, threads: int | None = None) -> tuple[OpenVINORunner, UNetConfig]:
    """The runner for the checkpoint at `path` and its config: from the cache, or converted now and cached.
    ModelLoadError for a bad checkpoint; any other exception means OpenVINO cannot run it here."""
    import openvino

    version = openvino_version()
    try:
        digest = weights_digest(path)
    except OSError as error:
        raise ModelLoadError(f"cannot read model file '{path}': {error.strerror or error}") from None
    folder = cache_folder(digest, version)
    cached = read_cache(folder, digest, version)
    core = openvino.Core()
    kept = None  # where compiled networks are kept: beside an entry that checks out, not after a failed write
    if cached is None:
        config, files, models = convert(path)
        try:
            if files:
                write_cache(folder, {**expected_manifest(digest, version), "config": config}, files)
                kept = folder
        except (OSError, ValueError, MemeCleanError) as error:  # a read-only or full cache: convert again next time
            import logging

            logging.getLogger(__name__).info("OpenVINO cache not written: %s", error)
    else:
        config, files = cached
        kept = folder
        models = {
            name: core.read_model(files[f"{name}.xml"], openvino.Tensor(np.frombuffer(files[f"{name}.bin"], np.uint8)))
            for name in NETWORKS
        }
    return OpenVINORunner(core, models, threads, cache=kept), UNetConfig.from_dict(config)


def cpu_key(core: Any) -> str:
    """What a compiled network depends on besides the model and its settings: the CPU's name and capabilities (a
    cache folder on a network drive may be read by other machines)."""
    name = core.get_property("CPU", "FULL_DEVICE_NAME")
    capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return hashlib.sha256(f"{name}|{sorted(capabilities)}".encode()).hexdigest()[:12]


def import_compiled(core: Any, path: Path, properties: dict[str, Any]) -> Any | None:
    """The compiled network kept at `path` when it and its digest file agree; None otherwise (never trusted
    unchecked: OpenVINO imports a damaged blob without complaint and then computes NaNs)."""
    import io

    try:
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != path.with_suffix(".sha256").read_text(encoding="ascii").strip():
            return None
        return core.import_model(io.BytesIO(data), "CPU", properties)
    except (OSError, ValueError, RuntimeError):
        return None


def keep_compiled(compiled: Any, path: Path) -> None:
    """Export a compiled network to `path` (the blob first, its digest last); a full or read-only cache is skipped."""
    try:
        data = compiled.export_model().getvalue()
        write_file(path, data, overwrite=True)
        write_file(path.with_suffix(".sha256"), hashlib.sha256(data).hexdigest().encode("ascii"), overwrite=True)
    except (OSError, RuntimeError, MemeCleanError) as error:
        import logging

        logging.getLogger(__name__).info("compiled network not kept: %s", error)


class OpenVINORunner:
    """Runs the converted networks on the CPU (see the module docstring)."""

    runtime = "openvino"
    device_name = DEVICE_NAME
    net = None  # no torch network here
    device = None
    half = False

    def __init__(
        self,
        core: Any,
        models: dict[str, Any],
        threads: int | None = None,
        precision: str | dict[str, str] | None = None,
        cache: Path | None = None,
    ):
        # one precision for both networks ("f32", "bf16"), one per network ({"mask": "f32", "fill": "bf16"}), or
        # None: `default_precision` for this CPU, read when a network is first compiled
        self.core, self.models, self.precision = core, models, precision
        # Where compiled networks are kept (the conversion's cache entry): importing one takes about a quarter of
        # compiling it, which the app's launch waits for.
        self.cache = cache
        self.threads = threads if threads is not None else usable_cores()
        self._compiled: dict[tuple[str, int], Any] = {}
        self._idle: dict[tuple[str, int], list[Any]] = {}
        self._lock = threading.Lock()

    def precision_of(self, name: str) -> str:
        if self.precision is None:
            with kept_signal_stack():  # reading a CPU property loads the CPU plugin (signal_stack.py)
                self.precision = default_precision(self.core)
        return self.precision if isinstance(self.precision, str) else self.precision[name]

    def compiled(self, name: str, threads: int) -> Any:
        """The network `name` compiled for `threads` CPU threads (compiled once, on first use)."""
        key = (name, threads)
        with self._lock:
            if key not in self._compiled:
                properties = {
                    "INFERENCE_NUM_THREADS": threads,
                    "INFERENCE_PRECISION_HINT": self.precision_of(name),
                    "PERFORMANCE_HINT": "LATENCY",
                    "NUM_STREAMS": 1,
                }
                # Loading the CPU plugin (its first use by this Core) replaces the thread's signal stack: see
                # signal_stack.py.
                with kept_signal_stack():
                    kept = None
                    if self.cache is not None:
                        kept = self.cache / f"compiled-{name}-{properties['INFERENCE_PRECISION_HINT']}-{threads}t-"
                        kept = Path(f"{kept}{cpu_key(self.core)}.blob")
                    compiled = import_compiled(self.core, kept, properties) if kept is not None else None
                    if compiled is None:
                        compiled = self.core.compile_model(self.models[name], "CPU", properties)
                        if kept is not None:
                            keep_compiled(compiled, kept)
                self._compiled[key] = compiled
                self._idle[key] = []
            return self._compiled[key]

    def warm_up(self) -> None:
        """Compile both networks for full-size work and run each once on a small picture (the app's preload): the
        first inference of a process costs several times a later one at a new size (docs/MODEL.md, "Speed")."""
        side = 384  # large enough for every thread (`threads_for`), so the compiled models warmed are the ones used
        for name in NETWORKS:
            self.compiled(name, self.threads)
        empty = np.zeros((side, side, 3), np.uint8)
        self.mask_probability(empty)
        self.fill_correction(empty, np.zeros((side, side), np.float32))

    def infer(self, name: str, inputs: list[np.ndarray]) -> np.ndarray:
        height, width = inputs[0].shape[-2:]
        key = (name, threads_for(height * width, self.threads))
        compiled = self.compiled(*key)
        with self._lock:
            request = self._idle[key].pop() if self._idle[key] else compiled.create_infer_request()
        try:
            return request.infer(inputs)[0]
        finally:
            with self._lock:
                self._idle[key].append(request)

    def mask_probability(self, image: np.ndarray) -> np.ndarray:
        return self.infer("mask", [_planar(image)])[0, 0]

    def fill_correction(self, prefill: np.ndarray, hole: np.ndarray) -> np.ndarray:
        correction = self.infer("fill", [_planar(prefill), np.ascontiguousarray(hole, np.float32)[None, None]])
        return correction[0].transpose(1, 2, 0) * 255.0


def _planar(image: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 -> 1×3×H×W float32 in [0, 1], the same values as the torch runner's tensor."""
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255.0)
