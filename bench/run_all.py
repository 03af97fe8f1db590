"""Issue 21's table: every figure, its goal, now, and the floor it is measured against.

``make bench`` runs this. Each group of ``_floors.py`` runs in a fresh
interpreter (memory and threads start clean), and the whole set runs
``REPEATS`` times; a figure's "now" is the median over the repeats and the
spread is their min-max. Ratios are taken inside one process, in
alternating rounds, so a loaded machine moves both sides alike. Goals are
reported as met or missed, never asserted: the run exits 0 unless a group
crashes. Writes ``bench/results/latest.json``.

The older, deeper sections (``_request.py``, ``_scale.py``, ``_journal.py``,
``_quotes.py``, ``_workers.py``, ``_simulated_time.py``, ``_deterministic.py``)
still run alone; docs/performance.md says what each adds.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
SESSIONS = 1000
#: Worker accounts started per run; the figure is for 100 and worker start is CPU-bound
#: per interpreter (linear in N), so the goal is scaled to WORKERS / 100 x 3 s.
WORKERS = int(os.environ.get("BENCH_WORKERS", "20"))
#: Seeds of ``make chaos``'s command timed per run, projected to the 1,000 of its goal.
CHAOS_SEEDS = int(os.environ.get("BENCH_CHAOS_SEEDS", "10"))
GROUPS: tuple[tuple[str, ...], ...] = (
    ("request",), ("worker",), ("journal",), ("deterministic",),
    ("chaos", str(CHAOS_SEEDS)), ("scale", str(SESSIONS)), ("scale-floor", str(SESSIONS)), ("workers", str(WORKERS)),
)


@dataclass(frozen=True)
class Row:
    key: str
    figure: str
    goal: float
    unit: str  # "x" (now is a ratio to the floor), "s", "MB", "" (a plain ratio)
    floor_unit: str
    floor_is: str

    def met(self, now: float) -> bool:
        return now < self.goal if self.key == "worker_vs_rpyc" else now <= self.goal


ROWS = (
    Row("worker_vs_pipe", "guarded get_price, process worker / bare multiprocessing Pipe echo p50",
        1.3, "x", "us", "Pipe echo p50"),
    Row("worker_vs_tick_echo", "same / a Pipe child making the same simulated call (tick echo) p50",
        1.3, "x", "us", "tick echo p50"),
    Row("worker_vs_rpyc", "same / rpyc call to an mt5linux-style server (SlaveService) p50",
        1.0, "x", "us", "rpyc call p50"),
    Row("worker_vs_call", "same / the same call on a bare WorkerTerminal (no session) p50",
        1.3, "x", "us", "bare worker call p50"),
    Row("guarded_vs_actor", "guarded get_price / terminal-calling pykka actor p50, same core",
        1.3, "x", "us", "actor ask p50"),
    Row("fast_fail_tail", "fast-fail p99 / p50 while OPEN, threads placed by the OS", 1.5, "",
        "", "Python work of the same p50, p99/p50"),
    Row("rss", f"RSS per session, {SESSIONS:,} sessions with their journals", 0.25, "MB", "MB",
        "4 actors + 1 WAL file"),
    Row("start", f"start {SESSIONS:,} sessions (until each answered once)", 5.0, "s", "s",
        "4 actors + 1 WAL file each"),
    Row("workers_start", f"start {WORKERS} worker accounts (goal: 3 s per 100)",
        3.0 * WORKERS / 100, "s", "s", f"{WORKERS} bare `python -S`"),
    Row("worker_memory", f"memory per worker account (PSS), {WORKERS} workers", 38.0, "MB", "MB",
        "an idle bare `python -S`"),
    Row("journal", "journal writes of one order / same 3 bare WAL commits (NORMAL)", 2.0, "x",
        "us", "bare 3 commits p50"),
    Row("chaos_seed", "one chaos seed, 3 accounts x 2 simulated days", 0.5, "s", "s",
        "the least probe flow, same terminals and faults"),
    Row("chaos_1000", "`make chaos`, 1,000 seeds on 2 cores (projected from "
        f"{CHAOS_SEEDS})", 600.0, "s", "s", "its CPU / 2 cores: idle cores"),
    Row("story", "24 h story, 10 accounts, deterministic runtime", 0.5, "s", "s",
        "the least probe flow, same terminals and outages"),
)


def run_group(args: Sequence[str]) -> dict[str, Any]:
    """One group of ``_floors.py`` in a fresh interpreter; its last stdout line is JSON."""
    done = subprocess.run([sys.executable, str(BENCH / "_floors.py"), *args],
                          stdout=subprocess.PIPE, text=True, check=True, timeout=240)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH,
                            capture_output=True, text=True, check=False).stdout.strip()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "pykka": version("pykka"),
        "commit": commit,
        "load_average": os.getloadavg(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def collect(repeats: int) -> list[dict[str, dict[str, Any]]]:
    """``repeats`` runs of every group: per run, figure key -> {"now", "floor", ...}."""
    runs: list[dict[str, dict[str, Any]]] = []
    for repeat in range(repeats):
        merged: dict[str, dict[str, Any]] = {}
        for args in GROUPS:
            started = time.perf_counter()
            for key, values in run_group(args).items():
                merged.setdefault(key, {}).update(values)
            print(f"  .. run {repeat + 1}/{repeats}: {' '.join(args)} "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        runs.append(merged)
    return runs


def _fmt(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "us":
        return f"{value:.1f} us"
    if unit == "MB":
        return f"{value:.3f} MB" if value < 1 else f"{value:.1f} MB"
    if unit == "s":
        if value >= 100:
            return f"{value / 60:.1f} min"
        return f"{value * 1000:.1f} ms" if value < 0.1 else f"{value:.2f} s"
    return f"{value:.2f}"


def summarize(runs: list[dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    out = []
    for row in ROWS:
        nows = [run[row.key]["now"] for run in runs]
        floors = [run[row.key]["floor"] for run in runs]
        now, floor = statistics.median(nows), statistics.median(floors)
        out.append({
            "key": row.key, "figure": row.figure, "goal": row.goal, "unit": row.unit,
            "now": now, "min": min(nows), "max": max(nows), "floor": floor,
            "floor_is": row.floor_is,
            "over_floor": None if row.unit == "x" else
            statistics.median([n / f for n, f in zip(nows, floors, strict=True)]),
            "met": row.met(now),
        })
    return out


def render(summary: list[dict[str, Any]], repeats: int) -> str:
    headers = ("figure", "goal", "now", f"spread ({repeats} runs)", "floor", "now / floor", "")
    lines = []
    for s, row in zip(summary, ROWS, strict=True):
        goal = ("< " if row.key == "worker_vs_rpyc" else "<= ") + _fmt(row.goal, row.unit)
        floor = f"{_fmt(s['floor'], row.floor_unit)} ({row.floor_is})"
        ratio = _fmt(s["now"], "x") if row.unit == "x" else (
            "-" if s["over_floor"] is None else _fmt(s["over_floor"], "x"))
        lines.append([row.figure, goal, _fmt(s["now"], row.unit),
                      f"{_fmt(s['min'], row.unit)} - {_fmt(s['max'], row.unit)}", floor, ratio,
                      "met" if s["met"] else "MISSED"])
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join([cells[0].ljust(widths[0]),
                          *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, lines)])


def notes(runs: list[dict[str, dict[str, Any]]]) -> str:
    """What the table's floors say about goals below them, from the same runs."""
    least = [run["worker_vs_tick_echo"]["vs_pipe"] for run in runs]
    bare_ask = [run["fast_fail_tail"]["bare_ask"] for run in runs]
    raising = [run["fast_fail_tail"]["raise"] for run in runs]
    below = statistics.median(least) > ROWS[0].goal
    rss = statistics.median([run["rss"]["now"] for run in runs])
    worker = statistics.median([run["worker_memory"]["now"] for run in runs])
    host_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "\n".join([
        f"scale: {1024 / rss:,.0f} sessions per GiB (in-process terminals); "
        f"{1024 / worker:,.0f} worker accounts per GiB, {host_gib * 1024 / worker:,.0f} on this "
        f"host's {host_gib:.0f} GiB (memory only: a worker starts in CPU, see the start row)",
        f"tick echo / Pipe echo p50: {statistics.median(least):.2f}x "
        f"({min(least):.2f}x - {max(least):.2f}x): the least a worker that calls the terminal "
        "does, against the bare echo; the Pipe row's goal is "
        + (f"below it (no worker design reaches {ROWS[0].goal:.2f}x)" if below else "above it"),
        _placement_note(runs),
        f"bare echo ask p99/p50 in the fast-fail rounds: {statistics.median(bare_ask):.2f} "
        "(a refusal makes no hop; the floor is work of the same length on the caller's thread); "
        f"raising and catching the refusal's typed error for the same p50: "
        f"{statistics.median(raising):.2f} (the least a refusal does, as it must raise)",
        *[_probe_floor_note(runs, key, label) for key, label in (("chaos_seed", "chaos seed"),
                                                                  ("story", "story"))],
        _quiet_story_note(runs),
    ])


def _placement_note(runs: list[dict[str, dict[str, Any]]]) -> str:
    """The worker rows again with both sides' processes pinned alike (medians of the runs)."""
    parts = []
    for placement in ("os", "same-core", "cross-core"):
        got = [run["worker_by_placement"][placement] for run in runs
               if run["worker_by_placement"].get(placement)]
        if not got:
            continue
        cell = {key: statistics.median([g[key] for g in got])
                for key in ("guarded_p50_us", "pipe", "tick_echo", "call", "rpyc")}
        parts.append(f"{placement}: guarded {cell['guarded_p50_us']:.1f} us, / Pipe echo "
                     f"{cell['pipe']:.2f}x, / tick echo {cell['tick_echo']:.2f}x, / bare worker "
                     f"call {cell['call']:.2f}x, / rpyc {cell['rpyc']:.2f}x")
    return ("worker rows by placement (both sides' processes pinned alike; os = the rows "
            "above): " + "; ".join(parts))


def _probe_floor_note(runs: list[dict[str, dict[str, Any]]], key: str, label: str) -> str:
    """The deterministic rows' floor (the least probe flow), its parts, against the goal."""
    calls = statistics.median([run[key]["calls"] for run in runs])
    runtime = statistics.median([run[key]["runtime_floor"] for run in runs])
    floor = statistics.median([run[key]["floor"] for run in runs])
    goal = next(row.goal for row in ROWS if row.key == key)
    return (f"{label} floor: the least probe flow (two plain actors per account, the design's two "
            f"messages and two timers per probe, same terminals) {floor:.2f} s, of which its "
            f"terminal calls alone {calls:.2f} s and the runtime passing as many messages "
            f"{runtime:.2f} s; the {goal:g} s goal is "
            + (f"below it (the floor is {floor / goal:.0%} of the goal)" if floor > goal
               else f"above it by {goal - floor:.2f} s (the floor is {floor / goal:.0%} of it)"))


def _quiet_story_note(runs: list[dict[str, dict[str, Any]]]) -> str:
    """The story without its outages, ours and the least flow: the probe path's own ratio, and
    what the outages add to each (medians of the runs)."""
    if not all("quiet" in run["story"] for run in runs):
        return "story without outages: not measured"

    def median_of(field: str) -> float:
        return float(statistics.median([run["story"][field] for run in runs]))

    quiet, least = median_of("quiet"), median_of("quiet_floor")
    added, least_added = median_of("now") - quiet, median_of("floor") - least
    trips, outages, restarts = (median_of(f) for f in ("breaker_trips", "outages", "restarts"))
    restart_us = median_of("restart_floor_us")
    least_answer = restarts * 2 * restart_us / 1e6
    floor, goal = median_of("floor"), next(row.goal for row in ROWS if row.key == "story")
    return (f"story without its outages (same day, same probes): ours {quiet:.2f} s, the least "
            f"probe flow {least:.2f} s ({quiet / least:.2f}x); the {outages:.0f} outages add "
            f"{added:.2f} s to ours ({trips:.0f} breaker trips, {restarts:.0f} restarts of the "
            f"session and its health actor, the trials) and {least_added:+.2f} s to the least "
            f"flow (no breaker, no restart); the least of those restarts alone (a plain actor "
            f"started and stopped on the runtime: {restart_us:.0f} us, two a restart) is "
            f"{least_answer:.3f} s, and the least flow with it {floor + least_answer:.2f} s "
            f"against the {goal:g} s goal")


def main() -> int:
    started = time.perf_counter()
    meta = machine()
    print(f"mt5guard bench (issue 21): {meta['nproc']} cores, Python {meta['python']}, "
          f"pykka {meta['pykka']}, load average {meta['load_average'][0]:.1f}", flush=True)
    runs = collect(REPEATS)
    summary = summarize(runs)
    duration = time.perf_counter() - started
    print(render(summary, REPEATS))
    print("\n" + notes(runs))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps({"machine": meta, "runs": runs, "summary": summary,
                               "duration_s": duration}, indent=2) + "\n", encoding="utf-8")
    print(f"\n{REPEATS} runs in {duration:.0f} s; wrote {out.relative_to(BENCH.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
