"""Loading a module of this folder in whichever way this folder itself was loaded.

Inside mt5guard the bridge's modules are the package ``mt5guard.terminal.bridge``.
Under a Windows Python in Wine, ``server.py`` runs as a plain file with the
folder's other files beside it and no mt5guard installed: then every module
of the folder is loaded by path, as ``_mt5guard<name>``, without any package
``__init__``. ``server.py`` loads this module first (as ``_mt5guard_siblings``);
the others take :func:`sibling` from it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

__all__ = ["sibling"]


def sibling(name: str) -> Any:
    """The module ``name`` (e.g. ``"_channel"``) of this folder, loaded at most once."""
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    if f"_mt5guard{name}" in sys.modules:
        return sys.modules[f"_mt5guard{name}"]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_mt5guard{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
