"""A spawned worker reads its own command line without argparse (CPU at every worker start).

Only the exact shape mt5guard gives a worker takes the short path; anything
else is left to argparse, so its errors and forms (``--fd=3``) are unchanged.
"""

from __future__ import annotations

import pytest

from mt5guard.terminal.bridge import server


@pytest.mark.parametrize(("argv", "parsed"), [
    (["--child", "--parent", "4242", "--fd", "7"], (7, 4242)),  # POSIX, as _processes spawns it
    (["--child", "--parent", "4242"], (None, 4242)),  # Windows: a named pipe, no --fd
    (["--child", "--fd", "7", "--parent", "4242"], (7, 4242)),
    (["--child"], (None, 0)),
])
def test_the_command_line_mt5guard_gives_a_worker_is_read_without_argparse(
        argv: list[str], parsed: tuple[int | None, int]) -> None:
    assert server._spawned_child(argv) == parsed


@pytest.mark.parametrize("argv", [
    [], ["--listen", "127.0.0.1:18812"], ["--child", "--fd=7"], ["--child", "--fd"],
    ["--child", "--fd", "x"], ["--child", "--fd", "-1"], ["--child", "--fd", "1", "--fd", "2"],
    ["--child", "--backend", "simulated"], ["--fd", "7", "--child"], ["--child", "--parent", "٣"],
])
def test_any_other_command_line_is_left_to_argparse(argv: list[str]) -> None:
    assert server._spawned_child(argv) is None


def test_argparse_still_refuses_a_child_command_line_it_does_not_know(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        server.main(["--child", "--fd", "x"])
    assert exited.value.code == 2
    assert "--fd: invalid int value: 'x'" in capsys.readouterr().err


def test_the_zygote_command_line_is_read_the_same_way_and_is_never_a_worker() -> None:
    argv = ["--zygote", "--parent", "4242", "--fd", "7"]  # as _zygote_link starts it (Linux)
    assert server._spawned_child(argv, "--zygote") == (7, 4242)
    assert server._spawned_child(argv) is None
    assert server._spawned_child(["--child", "--fd", "7"], "--zygote") is None
