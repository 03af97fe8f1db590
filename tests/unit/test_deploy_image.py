"""deploy/Dockerfile, linted by reading it (no docker daemon runs in CI): slim,
non-root with the uid the manifests expect, a command the CLI accepts, and
nothing written outside the state volume."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from mt5guard.cli import EXIT_OK, main

REPO = Path(__file__).resolve().parents[2]
TEXT = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
LINES = [line for line in re.sub(r"\\\n\s*", " ", TEXT).splitlines()
         if line.strip() and not line.lstrip().startswith("#")]


def instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in LINES if line.split(None, 1)[0] == name]


def test_slim_bases_pinned_to_a_python_and_a_debian_release() -> None:
    for base in instructions("FROM"):
        image = base.split()[0]
        assert re.fullmatch(r"python:3\.11-slim-bookworm", image), image
    assert not instructions("ADD")  # COPY only: no remote fetches into the image


def test_it_runs_as_the_non_root_uid_the_pods_run_as() -> None:
    (user,) = instructions("USER")
    uid = int(user.split(":")[0])
    assert uid >= 10000
    statefulset = next(d for d in yaml.safe_load_all((REPO / "deploy" / "kubernetes-statefulset.yaml")
                                                     .read_text()) if d["kind"] == "StatefulSet")
    assert statefulset["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == uid
    assert LINES.index(next(line for line in LINES if line.startswith("USER"))) > max(
        i for i, line in enumerate(LINES) if line.startswith("RUN"))  # nothing runs as root after


def test_its_command_is_one_the_cli_accepts(tmp_path: Path, capsys) -> None:
    (cmd,) = instructions("CMD")
    argv = json.loads(cmd)
    assert argv[:2] == ["mt5guard", "run"] and not instructions("ENTRYPOINT")
    args = [str(REPO / "config" / "default.yaml") if a == "/etc/mt5guard/mt5guard.yaml" else a
            for a in argv[2:]]
    args = [str(tmp_path) if a == "/var/lib/mt5guard" else a for a in args]
    assert main(["check", *[a for a in args if a not in ("--log-format", "json")]]) == EXIT_OK
    assert f"state_dir: {tmp_path}" in capsys.readouterr().out
    (workdir,) = [w for w in instructions("WORKDIR") if w != "/src"]
    assert workdir == "/var/lib/mt5guard" and "--state-dir /var/lib/mt5guard" in cmd.replace('", "', " ")


def test_the_build_context_leaves_out_virtualenvs_and_state() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv*", "state"} <= set(ignored)
