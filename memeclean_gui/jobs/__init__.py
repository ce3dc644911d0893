"""What the worker threads run: plain functions over `memeclean_core` (clean, refill, load and save, caption
export, training, the queue's and the template library's jobs). No Qt here (tests/test_layering.py); the
runner in `memeclean_gui.workers.runner` calls them and hands their results back on the GUI thread."""
