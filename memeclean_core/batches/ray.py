"""The folder mode on Ray Data: `memeclean clean --input-dir DIR --output-dir OUT --engine ray [--address ADDR]`.

The plan is `batches.folder`'s, made by the driver (names, skips, the resume rule); Ray Data only runs its items. Each
actor gets a pickled copy of the plan's `clean_one` (an `ItemCleaner`), so it loads the model once and cleans with
`batch_folder.clean_item`, the very function the plain folder mode calls: outputs are the same, pixel for pixel,
and written the same way (atomically, mask first). The driver writes the manifest as records come back, in the
order pictures finish.

Without `address` a local Ray is started for the run with the CPUs this process may use, and stopped after it; with
one, the run joins that cluster (`auto` or `HOST:6379`) and leaves it running. On a cluster
every node must see the input and output folders (and `--model`) at the same paths, a shared file system, and
have memeclean installed. Actors: one per CPU (per T CPUs with --threads T), or one per GPU when the cluster
has GPUs and the device allows.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import MemeCleanError, first_line
from ..threads import usable_cores
from .folder import CleanOne, Engine, FolderItem, Record

RAY_MISSING = "--engine ray needs Ray, an optional extra: pip install 'memeclean[cluster]' (or 'ray[data]>=2.9')"


def import_ray() -> Any:
    """The `ray` module with Ray Data, or a MemeCleanError saying how to install it."""
    try:
        import ray
        import ray.data  # the Data library: the part of the extra that is needed
    except ImportError:
        if getattr(sys, "frozen", False):  # the packaged app leaves Ray out
            raise MemeCleanError(
                "the packaged app has no Ray engine: install MemeClean with pip, pip install 'memeclean[cluster]'"
            ) from None
        raise MemeCleanError(RAY_MISSING) from None
    return ray


class PlannedItems:
    """Ray Data actor: a batch of planned items ({"item": JSON}) -> their manifest records ({"record": JSON}).

    JSON keeps the columns plain strings: a record's fields are often null in one block and set in another,
    which Arrow could not merge into one column type."""

    def __init__(self, clean_one: CleanOne, cwd: str | None = None):
        self.clean_one = clean_one  # an ItemCleaner loads its model on the first picture, once per actor
        if cwd and os.path.isdir(cwd):
            os.chdir(cwd)  # relative paths in the plan mean what they mean to the driver

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        records = [json.dumps(self.clean_one(FolderItem.from_row(json.loads(str(row))))) for row in batch["item"]]
        return {"record": np.array(records, dtype=object)}


@dataclass
class RayLayout:
    actors: int
    gpus_per_actor: float  # 0 on CPUs


def layout(resources: dict[str, float], device: str, requested: int | None, items: int, threads: int = 1) -> RayLayout:
    """How many actors, and on what: one per GPU where there are GPUs (and the device is auto or cuda), else one
    per `threads` CPUs; `requested` (--jobs) caps it, and so does the number of pictures."""
    cpus, gpus = int(resources.get("CPU", 0)), int(resources.get("GPU", 0))
    if device == "cuda" and gpus == 0:
        raise MemeCleanError("--device cuda: the Ray cluster has no GPU")
    on_gpus = gpus > 0 and device in ("auto", "cuda")
    available = gpus if on_gpus else cpus // threads
    if available < 1:
        raise MemeCleanError(f"the Ray cluster has {cpus} CPUs, fewer than --threads {threads}")
    actors = min(available, requested or available, max(1, items))
    return RayLayout(actors, 1.0 if on_gpus else 0.0)


def ray_engine(address: str | None = None, jobs: int | None = None, device: str = "auto", threads: int = 1) -> Engine:
    """An engine (see `batch_folder.Engine`) that runs the items on Ray Data, on a local Ray or at `address`, with
    `threads` CPUs per actor (which `clean_one` should use as its thread count)."""

    def run(items: Sequence[FolderItem], clean_one: CleanOne) -> Iterator[Record]:
        if not items:
            return
        ray = import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            connect(ray, address)
        try:
            plan = layout(ray.cluster_resources(), device, jobs, len(items), threads)
            rows = [{"item": json.dumps(item.to_row())} for item in items]
            # Small blocks (at most 32 pictures), one picture per batch: pictures differ in size, so actors take
            # work as they free up, and records come back (to the manifest and the progress bar) block by block.
            blocks = min(len(rows), max(16 * plan.actors, -(-len(rows) // 32)))
            dataset = ray.data.from_items(rows, override_num_blocks=blocks)
            with warnings.catch_warnings():  # extra remote options are deprecated, yet the one way to set this
                warnings.simplefilter("ignore", DeprecationWarning)
                cleaned = dataset.map_batches(
                    PlannedItems,
                    fn_constructor_args=(clean_one, os.getcwd()),
                    batch_size=1,
                    batch_format="numpy",
                    compute=ray.data.ActorPoolStrategy(size=plan.actors),
                    num_cpus=threads,
                    num_gpus=plan.gpus_per_actor or None,
                    max_task_retries=TASK_RETRIES,  # Ray Data's default retries forever
                )
            for row in cleaned.iter_rows():
                yield json.loads(row["record"])
        except ray.exceptions.RayError as error:
            raise MemeCleanError(
                f"the Ray run failed: {describe_failure(ray, error)} (run again with --resume to go on)"
            ) from None
        finally:
            if started_here:
                ray.shutdown()

    return run


TASK_RETRIES = 2  # a batch whose worker died (killed, out of memory, lost node) is sent again this often, then
# the run stops in one line (--resume goes on): a picture that kills every worker must not loop forever
PROBE_SECONDS = 10.0  # a cluster address must accept a connection this soon (Ray itself retries for minutes)


def check_address(address: str, timeout: float = PROBE_SECONDS) -> None:
    """One line at once when nothing answers at HOST:PORT (or ray://HOST:PORT), before Ray tries to join it:
    ray.init keeps retrying an address where nothing listens, printing warnings, for minutes. `auto` is left to
    Ray (it looks the cluster up locally and says at once when there is none)."""
    import socket

    target = address.removeprefix("ray://")
    host, colon, port = target.rpartition(":")
    if not colon or not port.isdigit() or not host:
        return  # `auto`, or a form Ray knows and this check does not: Ray says what is wrong with it
    host = host.strip("[]")  # [IPv6]:PORT
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except TimeoutError:
        raise MemeCleanError(
            f"cannot reach the Ray cluster at '{address}': nothing answered within {timeout:.0f} s"
        ) from None
    except OSError as error:
        reason = (error.strerror or str(error) or type(error).__name__).lower()
        raise MemeCleanError(f"cannot reach the Ray cluster at '{address}': {reason}") from None


def describe_failure(ray: Any, error: BaseException) -> str:
    """What stopped a Ray run, in words: a worker that kept dying, or the first line of the error that did."""
    lost = (
        ray.exceptions.ActorDiedError,
        ray.exceptions.ActorUnavailableError,
        ray.exceptions.WorkerCrashedError,
        ray.exceptions.NodeDiedError,
        ray.exceptions.OutOfMemoryError,
    )
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    if any(isinstance(link, lost) for link in chain):
        return (
            f"a worker died {TASK_RETRIES + 1} times on the same picture (killed, out of memory, or its machine "
            f"was lost)"
        )
    return first_line(chain[-1], type(chain[-1]).__name__)


def connect(ray: Any, address: str | None) -> None:
    """Join the cluster at `address`, or start a local Ray limited to the CPUs this process may use; quietly."""
    options = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
        "configure_logging": True,
    }
    try:
        if address:
            check_address(address)
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=usable_cores(), **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"the Ray cluster at '{address}'" if address else "a local Ray"
        raise MemeCleanError(f"cannot start {where}: {first_line(error, type(error).__name__)}") from None
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the CLI shows its own
    context.print_on_execution_start = False
    # ERROR too: a failed run is said in one line by the engine, not with Ray Data's logged traceback
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)
