"""``python -m monitor``: see :mod:`monitor.cli.main` and docs/cli.md."""

import sys

from monitor.cli.main import main

sys.exit(main())
