"""``python -m mt5guard``: the same as the ``mt5guard`` command."""

import sys

from mt5guard.cli import main

if __name__ == "__main__":
    sys.exit(main())
