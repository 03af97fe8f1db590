"""The terminal server: a worker process per terminal, or a TCP bridge (``server``).

Standard library only: ``server.py`` runs as a plain file under a Windows
Python in Wine, with ``_processes.py`` and ``_watch.py`` beside it.
"""
