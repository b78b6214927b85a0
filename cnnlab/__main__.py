"""``python -m cnnlab``: see :mod:`cnnlab.cli`."""

from __future__ import annotations

import sys

from cnnlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
