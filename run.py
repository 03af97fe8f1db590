#!/usr/bin/env python3
"""A thin alias of the ``mt5guard`` command for a clone: ``python run.py [run|check|demo|...]``."""

import sys

from mt5guard.cli import main

if __name__ == "__main__":
    sys.exit(main())
