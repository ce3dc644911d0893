"""MemeClean's desktop app (Qt). Widgets mirror a Qt-free document; the model runs in worker threads.

Importing this package is cheap and never imports torch: the network is loaded by the first clean, in a worker.
"""

from memeclean_core import __version__

__all__ = ["__version__"]
