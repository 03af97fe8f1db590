"""Section 3: N accounts in one process on the SystemClock and simulated terminals.

Run once per N in a fresh process (``python bench/_scale.py 1000``), so the
memory figures start from a clean interpreter; prints one JSON object.

Probe cycle cost: at the real 30 s interval a probe burst is too rare to
time well, so a second tree of the same N probes every ``FAST_INTERVAL``
seconds while the process CPU time (user + system, every thread) is read
over a window. The probes done in that window are counted from the
published ``ProbeRecorded`` events; the idle CPU rate of the 30 s tree is
subtracted. CPU per probe x N is the CPU cost of one probe cycle of all
accounts; divided by 30 s it is the share of one core probing costs.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from typing import Any

from _stats import median, progress
from _trees import accounts_config, process_memory_kb, wait_answered

from mt5guard import EventBus, start
from mt5guard.health.messages import ProbeRecorded

INTERVAL = 30.0
FAST_INTERVAL = 1.0
IDLE_WINDOW = 2.0
PROBE_WINDOW = 3.0


def measure(n: int) -> dict[str, Any]:
    gc.collect()
    memory0 = process_memory_kb()
    threads0 = threading.active_count()

    t0 = time.perf_counter()
    guard = start(accounts_config(n, interval=INTERVAL))
    wait_answered(guard.sessions.values())
    answered = time.perf_counter() - t0
    while not guard.status.ready():  # every account's health SERVING
        time.sleep(0.005)
    serving = time.perf_counter() - t0
    progress(f"scale N={n}: all answered in {answered:.2f} s")

    time.sleep(1.0)  # let start-up garbage and queues drain before reading memory
    gc.collect()
    memory1 = process_memory_kb()
    threads1 = threading.active_count()
    cpu0, w0 = time.process_time(), time.perf_counter()
    time.sleep(IDLE_WINDOW)  # between two 30 s probe bursts: the idle cost of N trees
    idle_cpu_rate = (time.process_time() - cpu0) / (time.perf_counter() - w0)

    t1 = time.perf_counter()
    guard.stop()
    stopped = time.perf_counter() - t1
    threads_after = threading.active_count()
    progress(f"scale N={n}: stopped in {stopped:.2f} s")

    probe = _probe_cost(n, idle_cpu_rate)
    return {
        "accounts": n,
        "startup_s": answered,
        "startup_serving_s": serving,
        "rss_mb_per_session": (memory1["VmRSS"] - memory0["VmRSS"]) / 1024 / n,
        "rss_mb_total": (memory1["VmRSS"] - memory0["VmRSS"]) / 1024,
        "virtual_mb_per_session": (memory1["VmSize"] - memory0["VmSize"]) / 1024 / n,
        "threads_per_session": (threads1 - threads0) / n,
        "threads_total": threads1,
        "threads_left_after_stop": threads_after - threads0,
        "idle_cpu_pct": 100 * idle_cpu_rate,
        "stop_s": stopped,
        **probe,
    }


def _probe_cost(n: int, idle_cpu_rate: float) -> dict[str, Any]:
    bus = EventBus()
    latencies: list[float] = []
    lock = threading.Lock()

    def on_event(event: Any) -> None:
        if isinstance(event, ProbeRecorded) and not event.result.skipped:
            with lock:
                latencies.append(event.result.latency_ms)

    bus.subscribe(on_event)
    guard = start(accounts_config(n, interval=FAST_INTERVAL, timeout=FAST_INTERVAL / 2), bus=bus)
    try:
        wait_answered(guard.sessions.values())
        time.sleep(FAST_INTERVAL)
        with lock:
            first = len(latencies)
        cpu0, w0 = time.process_time(), time.perf_counter()
        time.sleep(PROBE_WINDOW)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - w0
        with lock:
            window = latencies[first:]
    finally:
        guard.stop()
    probes = len(window)
    cpu_per_probe = max(0.0, cpu - idle_cpu_rate * wall) / max(probes, 1)
    cycle_cpu = cpu_per_probe * n
    progress(f"scale N={n}: {probes} probes in {wall:.1f} s, {cpu_per_probe * 1e6:.0f} us CPU each")
    return {
        "probes_in_window": probes,
        "probe_cpu_us": cpu_per_probe * 1e6,
        "probe_cycle_cpu_ms": cycle_cpu * 1e3,
        "probe_cpu_pct_of_core_at_30s": 100 * cycle_cpu / INTERVAL,
        "probe_terminal_ms_p50": median(window) if window else float("nan"),
    }


def thread_baseline(n_threads: int) -> dict[str, Any]:
    """What ``n_threads`` idle Python threads alone cost: the share of thread-per-actor."""
    gc.collect()
    memory0 = process_memory_kb()
    release = threading.Event()
    threads = [threading.Thread(target=release.wait) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    memory1 = process_memory_kb()
    release.set()
    for thread in threads:
        thread.join()
    return {
        "threads": n_threads,
        "rss_kb_per_thread": (memory1["VmRSS"] - memory0["VmRSS"]) / n_threads,
        "virtual_kb_per_thread": (memory1["VmSize"] - memory0["VmSize"]) / n_threads,
    }


if __name__ == "__main__":
    if sys.argv[1] == "--threads-only":
        progress(f"section 3: {sys.argv[2]} idle threads alone (fresh process)")
        json.dump(thread_baseline(int(sys.argv[2])), sys.stdout)
    else:
        count = int(sys.argv[1])
        progress(f"section 3: scale, N={count} (fresh process)")
        json.dump(measure(count), sys.stdout)
    print()
