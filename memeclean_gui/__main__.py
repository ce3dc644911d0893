"""`python -m memeclean_gui [FILE]`: the same as `memeclean-gui`."""

import sys

from .app import main

sys.exit(main())
