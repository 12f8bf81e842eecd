"""Entry point for ``python -m rebours.lint``."""

import sys

from .cli import main

sys.exit(main())
