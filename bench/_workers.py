"""Section 7: terminals in worker processes (issue 9).

Run alone: ``python bench/_workers.py request`` or ``python bench/_workers.py scale N``
prints one JSON object on stdout (progress on stderr).

``request``: a guarded ``Session.get_price`` whose terminal is a simulated one
in a worker process, against a bare echo round trip over the same kind of
connection (one request frame to a worker and its reply, no session, no
terminal call). Also, to split the cost: the worker call alone
(``WorkerTerminal.symbol_info_tick`` from this thread) and the guarded call
with the terminal in-process. Rounds alternate the order; medians of the
per-round ratio to the echo.

``scale N``: N process-isolated simulated accounts in one tree: time from
``start()`` until every session has answered once, time for ``stop()``, and
the RSS and PSS of every worker process (from /proc; PSS counts a share of
the pages forked workers share with their zygote, whose own PSS is added to
the total).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any

import attrs
from _stats import median, progress, rounds, time_calls
from _trees import SYMBOL, accounts_config, process_memory_kb, wait_answered

from mt5guard import SystemClock, start
from mt5guard.config import Config
from mt5guard.config.orders import MEMORY, OrdersConfig
from mt5guard.terminal.bridge._processes import spawn_worker
from mt5guard.terminal.worker import WorkerTerminal
from mt5guard.terminal.worker.wire import encode_request

ROUNDS = 9
CALLS = 2000
SPEC = {"backend": "simulated", "login": 5001, "server": "MetaQuotes-Demo"}


def isolated(config: Config, isolation: str = "process") -> Config:
    accounts = tuple(
        attrs.evolve(a, terminal=attrs.evolve(a.terminal, isolation=isolation))
        for a in config.accounts
    )
    return attrs.evolve(config, accounts=accounts, orders=OrdersConfig(state_dir=MEMORY))


def request() -> dict[str, Any]:
    clock = SystemClock()
    worker_guard = start(isolated(accounts_config(1, interval=3600.0, timeout=60.0)), clock=clock)
    thread_guard = start(isolated(accounts_config(1, interval=3600.0, timeout=60.0), "thread"),
                         clock=clock)
    guarded = worker_guard.session("acc0000")
    in_thread = thread_guard.session("acc0000")
    wait_answered([guarded, in_thread])

    echo = spawn_worker(dict(SPEC))  # a worker of its own: the session owns the other one
    frame = encode_request(1, 0.0, 60.0, "ping", (None,), {})

    def bare_echo() -> None:
        echo.conn.send_bytes(frame)
        echo.conn.recv_bytes()

    direct = WorkerTerminal(lambda timeout: _local(timeout), clock, name="direct")
    direct.start()
    direct.initialize(login=5001, password="", server="MetaQuotes-Demo")
    direct.symbol_select(SYMBOL, True)

    variants = {
        "bare echo round trip (same connection kind)": lambda: time_calls(bare_echo, CALLS),
        "WorkerTerminal.symbol_info_tick (no session)":
            lambda: time_calls(lambda: direct.symbol_info_tick(SYMBOL), CALLS),
        "guarded Session.get_price, worker process":
            lambda: time_calls(lambda: guarded.get_price(SYMBOL), CALLS),
        "guarded Session.get_price, in-thread terminal":
            lambda: time_calls(lambda: in_thread.get_price(SYMBOL), CALLS),
    }
    samples = rounds(variants, ROUNDS, "workers/request")
    base = "bare echo round trip (same connection kind)"
    summary = {}
    for name, runs in samples.items():
        summary[name] = {
            "p50_us": median([s.p50_us for s in runs]),
            "p99_us": median([s.p99_us for s in runs]),
            "ops_per_s": median([s.ops_per_s for s in runs]),
            "p50_ratio": median([s.p50_us / b.p50_us for s, b in zip(runs, samples[base], strict=True)]),
        }
    direct.close()
    echo.kill()
    worker_guard.stop()
    thread_guard.stop()
    clock.close()
    return {"rounds": ROUNDS, "calls_per_round": CALLS, "rows": summary}


def _local(timeout: float) -> Any:
    from mt5guard.terminal.worker import LocalLink

    return LocalLink(spawn_worker(dict(SPEC), timeout=timeout))


def memory_kb(pid: int) -> dict[str, int]:
    """Rss and Pss of ``pid`` in KiB (Linux). Pss counts pages shared with other processes
    (the zygote's, other workers') by their share: summed, what the host holds."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                values[key] = int(rest.split()[0])
    return values


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return "State:\tZ" not in status.read()
    except OSError:
        return False


def scale(n: int) -> dict[str, Any]:
    clock = SystemClock()
    config = isolated(accounts_config(n, interval=3600.0, timeout=60.0))
    parent_before = process_memory_kb()["VmRSS"]
    started = time.perf_counter()
    guard = start(config, clock=clock, start_timeout=120.0)
    wait_answered(guard.sessions.values(), timeout=300.0, poll=0.05)
    startup_s = time.perf_counter() - started
    progress(f"workers/scale: {n} accounts answered after {startup_s:.1f} s")
    pids = [t.pid for t in guard.terminals.values() if isinstance(t, WorkerTerminal)]
    memory = [memory_kb(pid) for pid in pids if pid is not None]
    rss = sorted(m["Rss"] for m in memory)
    pss = sorted(m["Pss"] for m in memory)
    zygotes = {parent_of(pid) for pid in pids if pid is not None} - {os.getpid()}  # Linux: forked
    zygotes_kb = sum(memory_kb(pid)["Pss"] for pid in zygotes)
    parent_kb = process_memory_kb()["VmRSS"] - parent_before
    started = time.perf_counter()
    guard.stop()
    stop_s = time.perf_counter() - started
    left = sum(1 for pid in pids if pid is not None and _alive(pid))
    clock.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "worker_cpu_s": (children.ru_utime + children.ru_stime) / max(1, len(rss)),
        "accounts": n, "workers": len(rss), "startup_s": startup_s, "stop_s": stop_s,
        "worker_rss_mb_median": rss[len(rss) // 2] / 1024 if rss else 0.0,
        "worker_rss_mb_max": rss[-1] / 1024 if rss else 0.0,
        "worker_pss_mb_median": pss[len(pss) // 2] / 1024 if pss else 0.0,
        "workers_and_zygote_pss_mb": (sum(pss) + zygotes_kb) / 1024,
        "zygotes": len(zygotes),
        "parent_rss_mb_per_account": parent_kb / 1024 / n,
        "workers_left_after_stop": left,
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["request"]:
        result = request()
    elif argv[:1] == ["scale"] and len(argv) == 2:
        result = scale(int(argv[1]))
    else:
        print("usage: _workers.py request | scale N", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
