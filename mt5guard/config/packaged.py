"""The default config that ships inside the package (two simulated accounts)."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["default_config_path"]


def default_config_path() -> Path:
    """The packaged ``default.yaml``: what ``mt5guard run`` and ``check`` use without ``--config``.

    The same text as the repository's ``config/default.yaml``; it needs no
    repository, no MetaTrader 5 and no secrets.
    """
    with as_file(files("mt5guard.config").joinpath("default.yaml")) as path:
        return Path(path)  # a wheel installs it as a plain file, so the path outlives the block
