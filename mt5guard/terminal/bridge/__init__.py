"""The terminal server: a worker process per terminal, or a TCP bridge (``server``).

Standard library only: ``server.py`` runs as a plain file under a Windows
Python in Wine, with ``_processes.py`` (worker processes) and ``_watch.py``
(a worker watches its parent) beside it. Run it as ``python -m
mt5guard.terminal.bridge.server``; this package re-exports nothing.
"""
