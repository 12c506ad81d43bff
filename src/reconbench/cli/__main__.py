"""`python -m reconbench.cli`, the same as `reconbench` and `python -m reconbench`."""

import sys

from reconbench.cli import main

sys.exit(main())
