"""An rpyc classic server (SlaveService, as mt5linux runs it) serving the fake MetaTrader5.

``python serve.py PORT`` (0 picks a free port) puts this directory first on
sys.path, so ``import MetaTrader5`` on the server finds the fake (imported up
front: it takes a while), binds 127.0.0.1, prints ``listening on PORT`` and
starts serving (rpyc calls listen() only then: the tests wait until a
connection is accepted).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import MetaTrader5  # noqa: F401  imported before listening: the tests' deadlines are for calls
from rpyc.utils.classic import SlaveService
from rpyc.utils.server import ThreadedServer


def main() -> None:
    server = ThreadedServer(SlaveService, hostname="127.0.0.1", port=int(sys.argv[1]),
                            reuse_addr=True)
    print(f"listening on {server.port}", flush=True)
    server.start()


if __name__ == "__main__":
    main()
