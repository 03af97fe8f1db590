"""Every name the README, the docs and the examples tell users to import exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").glob("*.py"))]

FROM_IMPORT = re.compile(r"from (mt5guard(?:\.\w+)*) import (\([^)]*\)|[^\n]+)")
# a dotted use: mt5guard.x.Name (a class) or mt5guard.x.fn( (a call); logger names and
# file names such as mt5guard.events or deploy/mt5guard.service are neither
DOTTED = re.compile(r"(?<![/\w])mt5guard((?:\.[a-z_]\w*)*\.(?:[A-Z]\w*|\w+(?=\()))")


def documented_imports() -> set[tuple[str, str]]:
    """(module, name) pairs: ``from m import a, b`` and dotted ``mt5guard.x.Y`` uses."""
    found: set[tuple[str, str]] = set()
    for path in SOURCES:
        text = path.read_text()
        for module, names in FROM_IMPORT.findall(text):
            for name in re.split(r"[,\s()]+", names.split("#")[0]):
                if name and name != "as" and name.isidentifier():
                    found.add((module, name))
        for tail in DOTTED.findall(text):
            module, _, name = f"mt5guard{tail}".rpartition(".")
            found.add((module, name))
    return found


def resolve(module: str, name: str) -> bool:
    """``module.name`` is an attribute, or ``module`` itself is a path prefix of one."""
    parts = f"{module}.{name}".split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_the_docs_name_some_imports() -> None:
    assert len(documented_imports()) > 20


@pytest.mark.parametrize(("module", "name"), sorted(documented_imports()))
def test_every_documented_import_exists(module: str, name: str) -> None:
    assert resolve(module, name), f"docs tell users to use {module}.{name}, which does not exist"


def test_the_package_root_offers_every_config_class() -> None:
    import mt5guard
    import mt5guard.config

    config_classes = {n for n in mt5guard.config.__all__ if n.endswith("Config")}
    assert config_classes <= set(mt5guard.__all__)
    assert all(getattr(mt5guard, n) is getattr(mt5guard.config, n) for n in config_classes)


def test_every_source_file_the_docs_point_to_exists() -> None:
    mentioned = {
        (path.name, match)
        for path in SOURCES
        for match in re.findall(r"(?<![\w/])((?:mt5guard|tests|bench)/[\w/]+\.py)", path.read_text())
    }
    assert mentioned, "the docs point to no source file at all"
    missing = sorted(m for m in mentioned if not (ROOT / m[1]).exists())
    assert missing == []
