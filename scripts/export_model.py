"""Turn a training checkpoint into shipped weights: fp16 state dict with its config, no optimiser state.

python scripts/export_model.py runs/mine.pt mine-fp16.pt
"""

import sys

from memeclean_core.network.weights import build_net, read_checkpoint, save_checkpoint

source, target = sys.argv[1], sys.argv[2]
payload = read_checkpoint(source)
net = build_net(payload, source)
step = (payload.get("train") or {}).get("step")
save_checkpoint(target, net, {"step": step, "source": "memeclean train"}, half=True)
print(f"exported step {step} of {source} to {target}")
