"""The README's tour is real code: run it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_tour_runs(monkeypatch, tmp_path: Path) -> None:
    # A copy of the repo's config folder, so the tour's ./state stays the test's own.
    shutil.copytree(README.parent / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    (block,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["order"].retcode == 10009  # type: ignore[attr-defined]
    assert namespace["tick"].ask > namespace["tick"].bid  # type: ignore[attr-defined]
    assert namespace["bars"].dtype.names[:2] == ("time", "open")  # type: ignore[attr-defined]
    assert len(namespace["bars"]) == 24  # type: ignore[arg-type]
    assert namespace["closed"].volume == 0.05  # type: ignore[attr-defined]
    assert namespace["limit"].retcode == 10008  # type: ignore[attr-defined]
    sent = namespace["sent"]
    assert (namespace["spec"].filling_mode, sent.type_filling) == (1, 0)  # type: ignore[attr-defined]
    assert sent.comment.startswith("mg-") and len(sent.comment) == 29  # type: ignore[attr-defined]
    assert not namespace["guard"].running  # type: ignore[attr-defined]
