"""Running ``run.py`` as a real process: configs derived from default.yaml, log waits, HTTP.

Shared by the subprocess tests in this directory. Every wait has a real-time
deadline of a few seconds; nothing sleeps longer than a few milliseconds.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
RUN_PY = REPO / "run.py"
DEFAULT_YAML = REPO / "config" / "default.yaml"
URL_LINE = re.compile(r"health endpoint listening on (http://127\.0\.0\.1:\d+)")


def default_config(**overrides: Any) -> dict[str, Any]:
    """config/default.yaml as data, with a free port, a 200 ms status line and ``overrides``
    (top-level sections, merged one level deep)."""
    data: dict[str, Any] = yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))
    data["observability"]["http"]["port"] = 0
    data["observability"]["status_interval"] = "200ms"
    for section, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(data.get(section), dict):
            data[section] = {**data[section], **copy.deepcopy(dict(value))}
        else:
            data[section] = copy.deepcopy(value)
    return data


def write_config(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(data), sort_keys=False), encoding="utf-8")
    return path


def process_env(
    extra: Mapping[str, str] | None = None, drop: tuple[str, ...] = ()
) -> dict[str, str]:
    """os.environ without ``drop``, plus ``extra`` and unbuffered output."""
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def check(
    config: Path | str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``run.py --check --config <config>``, to completion."""
    return subprocess.run(
        [sys.executable, str(RUN_PY), "--check", "--config", str(config)],
        cwd=REPO, env=dict(env or process_env()), capture_output=True, text=True, timeout=10,
    )


class RunPy:
    """``run.py --config <config>`` running in the background; stdout and stderr merged."""

    def __init__(self, config: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
        """Runs in the config's folder, so ``./state`` (the order journals) is the test's own."""
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, str(RUN_PY), "--config", str(config), *args],
            cwd=Path(config).parent, env=dict(env or process_env()), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, errors="backslashreplace",
        )
        self._reader = threading.Thread(target=self._read, name="run.py-output", daemon=True)
        self._reader.start()

    def __enter__(self) -> RunPy:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        self._reader.join(timeout=5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                with self._cond:
                    self._lines.append(line)
                    self._cond.notify_all()
        except Exception as exc:  # a reader that dies must say so, not look like silence
            with self._cond:
                self._lines.append(f"[process_kit: reading the output failed: {exc!r}]\n")
        finally:
            with self._cond:
                self._lines.append("")  # end of output
                self._cond.notify_all()

    @property
    def output(self) -> str:
        with self._cond:
            return "".join(self._lines)

    def wait_for(self, pattern: str, timeout: float = 5.0) -> re.Match[str]:
        """The first output line matching ``pattern`` (a regex), waiting up to ``timeout`` s."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self._lines[seen:]:
                    if (match := regex.search(line)) is not None:
                        return match
                seen = len(self._lines)
                ended = bool(self._lines) and self._lines[-1] == ""
                left = deadline - time.monotonic()
                if ended or left <= 0:
                    raise AssertionError(
                        f"no line matching {pattern!r} within {timeout} s; output:\n{self.output}"
                    )
                self._cond.wait(left)

    def url(self) -> str:
        return self.wait_for(URL_LINE.pattern).group(1)

    def get(self, path: str) -> tuple[int, str]:
        """GET ``path`` on the health endpoint: (status, body)."""
        try:
            with urllib.request.urlopen(self.url() + path, timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def poll_json(self, path: str, until: Callable[[int, Any], bool], timeout: float = 5.0) -> Any:
        """GET ``path`` every few ms until ``until(status, body)`` holds; the last JSON body."""
        deadline = time.monotonic() + timeout
        while True:
            status, text = self.get(path)
            body = json.loads(text)
            if until(status, body):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} still {status} {body} after {timeout} s")
            time.sleep(0.02)

    def signal(self, signum: signal.Signals) -> None:
        self.proc.send_signal(signum)

    def exit_status(self, timeout: float = 5.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"run.py still running after {timeout} s; output:\n{self.output}"
            ) from None
