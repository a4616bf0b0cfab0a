"""``python -m app.sync serve|sync|connect``: see :mod:`app.composition.sync_cli`."""

import sys

from app.composition.sync_cli import main

sys.exit(main())
