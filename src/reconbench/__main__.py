import sys

from reconbench.cli import main

sys.exit(main())
