"""``python -m monitor``: see :mod:`monitor.cli` and docs/cli.md."""

import sys

from monitor.cli import main

sys.exit(main())
