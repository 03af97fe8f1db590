"""A terminal worker starts numpy's BLAS with one thread (issue 21).

Workers do no linear algebra; a BLAS pool of one thread per core made the
numpy import of every worker cost about 15 % more CPU, paid N times when N
process-isolated accounts start together. A value the user set is kept.
"""

from __future__ import annotations

import sys

import pytest

from mt5guard.terminal.bridge._processes import spawn_worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

SPEC = {"backend": "simulated", "login": 5001, "server": "MetaQuotes-Demo"}


def _environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as raw:
        pairs = [item.split(b"=", 1) for item in raw.read().split(b"\0") if b"=" in item]
    return {key.decode(): value.decode() for key, value in pairs}


@pytest.mark.parametrize(("ours", "expected"), [(None, "1"), ("3", "3")])
def test_a_worker_gets_one_blas_thread_unless_the_user_chose(
        monkeypatch: pytest.MonkeyPatch, ours: str | None, expected: str) -> None:
    if ours is None:
        monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", ours)
    worker = spawn_worker(dict(SPEC))
    try:
        assert _environ(worker.pid)["OPENBLAS_NUM_THREADS"] == expected
    finally:
        worker.kill()
        worker.reap()
