"""Entry point of the frozen `memeclean` console executable (see memeclean.spec)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # training's data-loading workers re-enter the executable where spawn is used
    from memeclean_core.cli import main

    sys.exit(main())
