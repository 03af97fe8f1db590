"""Timing helpers: latencies of sequential calls, multi-thread throughput, medians.

Every comparison in the bench is a ratio of two things measured in the same
process, in alternating rounds, so a slow machine or a noisy neighbour moves
both sides alike. A round's ratio is taken first and the median over rounds
is reported, which also drops the odd round hit by a GC pause or a scheduler
hiccup.
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "Sample",
    "median",
    "progress",
    "rounds",
    "time_calls",
    "time_threads",
]


@dataclass(frozen=True)
class Sample:
    """One round of one variant: latencies in microseconds, throughput in calls/s."""

    p50_us: float
    p99_us: float
    ops_per_s: float


def _rank(sorted_values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile (q in 0..1) of already sorted values."""
    index = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


def time_calls(call: Callable[[], object], n: int) -> Sample:
    """Call ``call`` ``n`` times in a row on this thread; per-call latency and throughput."""
    clock = time.perf_counter_ns
    latencies = [0] * n
    started = clock()
    for i in range(n):
        t = clock()
        call()
        latencies[i] = clock() - t
    elapsed_ns = clock() - started
    latencies.sort()
    return Sample(_rank(latencies, 0.50) / 1e3, _rank(latencies, 0.99) / 1e3, n / (elapsed_ns / 1e9))


def time_threads(call: Callable[[], object], n_per_thread: int, threads: int) -> Sample:
    """``threads`` callers, ``n_per_thread`` calls each, released together.

    Latency percentiles are over every call of every thread; throughput is
    all calls over the wall time from the release to the last caller done.
    """
    barrier = threading.Barrier(threads + 1)
    per_thread: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    clock = time.perf_counter_ns

    def caller(out: list[int]) -> None:
        barrier.wait()
        try:
            for _ in range(n_per_thread):
                t = clock()
                call()
                out.append(clock() - t)
        except BaseException as exc:  # reported below, on the main thread
            errors.append(exc)

    workers = [threading.Thread(target=caller, args=(out,)) for out in per_thread]
    for w in workers:
        w.start()
    barrier.wait()
    started = clock()
    for w in workers:
        w.join()
    elapsed_ns = clock() - started
    if errors:
        raise errors[0]
    latencies = sorted(x for out in per_thread for x in out)
    total = threads * n_per_thread
    return Sample(_rank(latencies, 0.50) / 1e3, _rank(latencies, 0.99) / 1e3, total / (elapsed_ns / 1e9))


def rounds(variants: dict[str, Callable[[], Sample]], count: int, label: str) -> dict[str, list[Sample]]:
    """Run every variant once per round, rotating the order each round.

    Rotation keeps any drift (CPU frequency, a warming cache, background
    load) from always favouring the variant that runs first.
    """
    names = list(variants)
    results: dict[str, list[Sample]] = {name: [] for name in names}
    for r in range(count):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            gc.collect()
            results[name].append(variants[name]())
        progress(f"{label}: round {r + 1}/{count}")
    return results


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def progress(text: str) -> None:
    """A progress line on stderr, so a long run shows it is alive."""
    print(f"  .. {text}", file=sys.stderr, flush=True)
