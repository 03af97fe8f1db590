"""The terminal server: a worker process per terminal, or a TCP bridge (``server``).

Standard library only: ``server.py`` runs as a plain file under a Windows
Python in Wine, with the other ``_*.py`` files of this folder beside it (not
``certs.py``, which makes the TLS certificates and needs ``cryptography``).
Run it as ``python -m mt5guard.terminal.bridge.server``; this package
re-exports nothing.
"""
