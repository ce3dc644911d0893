"""One process of the distributed-training test (tests/test_train_distributed.py), launched by torchrun.

    torchrun --standalone --nproc-per-node 2 tests/distributed_worker.py DATA OUT_DIR STEPS

Trains the tiny network with the library's hook and leaves what the test compares: the rank's final weights and
buffers and its mask losses in OUT_DIR/rank<R>.pt; rank 0 also writes the checkpoint OUT_DIR/model.pt.
"""

import sys

import torch

from memeclean_core.network.model import UNetConfig
from memeclean_core.training.ddp import DataParallel
from memeclean_core.training.train import TrainConfig, training_run

data, out, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(1)
config = TrainConfig(
    data=[data],
    out=f"{out}/model.pt",
    steps=steps,
    batch=4,
    crop=64,
    min_side=96,
    max_side=160,
    workers=0,
    model=UNetConfig.tiny().to_dict(),
    progress_every=1,
    preview_every=0,
    lr=5e-3,
    warmup_steps=0,
    device="cpu",
)
parallel = DataParallel.from_environment("cpu")
losses = [report.mask_loss for report in training_run(config, parallel=parallel) if not report.done]
parallel.share_buffers()
torch.save(
    {"state": parallel.net.state_dict(), "mask_losses": losses, "world_size": parallel.world_size},
    f"{out}/rank{parallel.rank}.pt",
)
parallel.close()
