"""Small actors for supervision tests, scripted through a shared Script."""

from __future__ import annotations

import threading
from typing import Any

import pykka


class Script:
    """What each named worker does, shared by all its incarnations."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.start_failures: dict[str, int] = {}
        self.always_fail: set[str] = set()
        self.journal: list[str] = []  # "start a", "stop a", ...

    def note(self, entry: str) -> None:
        with self.lock:
            self.journal.append(entry)

    def should_fail_start(self, name: str) -> bool:
        with self.lock:
            if name in self.always_fail:
                return True
            left = self.start_failures.get(name, 0)
            if left:
                self.start_failures[name] = left - 1
                return True
            return False


class Worker(pykka.ThreadingActor):
    """Answers ``"who"`` with its incarnation; ``"crash"``/``"exit"`` end it."""

    incarnations = 0

    def __init__(self, name: str, script: Script) -> None:
        super().__init__()
        self.name = name
        self.script = script
        Worker.incarnations += 1
        self.incarnation = Worker.incarnations

    def on_start(self) -> None:
        if self.script.should_fail_start(self.name):
            raise RuntimeError(f"{self.name} cannot start")
        self.script.note(f"start {self.name}")

    def on_stop(self) -> None:
        self.script.note(f"stop {self.name}")

    def on_receive(self, message: Any) -> Any:
        if message == "who":
            return (self.name, self.incarnation)
        if message == "crash":
            raise RuntimeError(f"{self.name} crashed")
        if message == "exit":
            self.stop()
            return None
        if message == "bad question":
            raise ValueError("the caller gets this, the actor lives on")
        return None


class Sleeper(pykka.ThreadingActor):
    """Sleeps on ``clock`` for each message (a slow terminal call), then notes when it woke."""

    def __init__(self, clock: Any, woke: list[float]) -> None:
        super().__init__()
        self.clock, self.woke = clock, woke

    def on_receive(self, message: Any) -> None:
        self.clock.sleep(message)
        self.woke.append(self.clock.monotonic())
