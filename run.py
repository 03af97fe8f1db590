#!/usr/bin/env python3
"""Run mt5guard as a standalone process: ``python run.py --config config/default.yaml``."""

import sys

from mt5guard.cli import main

if __name__ == "__main__":
    sys.exit(main())
