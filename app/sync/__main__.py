"""``python -m app.sync serve|sync|connect``: see :mod:`app.sync.cli`."""

import sys

from app.sync.cli import main

sys.exit(main())
