"""Training: the loop (train), its checks, data-parallel runs (ddp), hand-made fixes, evaluation and the stop
signals."""
