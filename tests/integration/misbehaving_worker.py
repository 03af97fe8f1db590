"""A real worker process that misbehaves on cue: the server module, with its answers altered.

Spawned as ``python misbehaving_worker.py --child`` (like the real worker).
Per function: ``account_info`` answers garbage bytes, ``orders_get`` first
answers a reply for an old request id, ``symbol_info`` closes the
connection and stays alive until killed, ``order_send`` executes the order and then stops
its own process (SIGSTOP) before the reply leaves: a real hang, reply lost.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from mt5guard.terminal.bridge import server

_real_answer = server._answer


def _serve(conn, backend):  # type: ignore[no-untyped-def]
    shapes = server._sibling("_shapes").Shapes()  # the real worker's frame encoding
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        name = request[4]
        if name == "account_info":
            conn.send_bytes(b"\x80\x04garbage, not JSON")
            continue
        if name == "symbol_info":
            conn.close()
            while True:  # alive, but its connection is gone: until killed (or its parent ends)
                signal.pause()
        if name == "order_send":
            reply = _real_answer(backend, request)  # the order is executed...
            os.kill(os.getpid(), signal.SIGSTOP)  # ...and its reply never leaves
            conn.send_bytes(shapes.frame(reply))
            continue
        if name == "orders_get":
            conn.send_bytes(json.dumps(["ok", request[1] - 1, [], None]).encode())
        conn.send_bytes(shapes.frame(_real_answer(backend, request)))


server.serve = _serve
if __name__ == "__main__":
    sys.exit(server.main())
