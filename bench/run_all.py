"""Run every benchmark section, print one table, write bench/results/latest.json.

``make bench`` runs this. Each section runs in its own fresh interpreter
(the scale section once per N), so threads and memory of one section never
colour the next. Figures are ratios measured within one process where a
comparison is made; the goals of issue 5 are reported as met or missed,
never asserted: the run always completes and exits 0 unless a section
crashes.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _placement import PLACEMENTS
from _report import goals, render

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SCALE_N = (10, 100, 1000)


def section(script: str, *args: str) -> dict[str, Any]:
    """Run ``bench/<script>`` in a fresh interpreter; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=240,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BENCH, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "pykka": version("pykka"),
        "pybreaker": version("pybreaker"),
        "commit": commit,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> int:
    started = time.perf_counter()
    meta = machine()
    print(
        f"mt5guard bench: {meta['nproc']} cores, Python {meta['python']}, pykka {meta['pykka']}", flush=True
    )
    results: dict[str, Any] = {"machine": meta}
    results["request"] = {where: section("_request.py", where) for where in PLACEMENTS}
    results["scale"] = [section("_scale.py", str(n)) for n in SCALE_N]
    results["thread_baseline"] = section("_scale.py", "--threads-only", str(4 * SCALE_N[-1]))
    results["simulated_time"] = {where: section("_simulated_time.py", where) for where in ("os", "same-core")}
    results["deterministic"] = section("_deterministic.py")
    results["journal"] = section("_journal.py")
    results["quotes"] = section("_quotes.py")  # issue 12: quote cache and tick fan-out
    results["workers"] = {"request": section("_workers.py", "request"),
                          "scale": section("_workers.py", "scale", "100")}
    results["bridge_tls"] = section("_bridge_tls.py")  # issue 19: mutual TLS vs plaintext
    results["goals"] = goals(results)
    results["duration_s"] = time.perf_counter() - started
    print(render(results))
    q = results["quotes"]
    print(f"\nquote cache: cached get_price(max_age) p50 {q['cache']['p50_us']['cached get_price(max_age=1.0)']:.2f} us, "
          f"pybreaker + direct call {q['cache']['p50_us']['pybreaker + direct call']:.2f} us "
          f"({q['cache']['pybreaker_over_cached_p50']:.1f}x); fan-out to 100 callables "
          f"{q['fanout_callables']['ticks_per_s']:.0f} ticks/s, p99 {q['fanout_callables']['p99_delay_us']:.0f} us")
    b = results["bridge_tls"]
    print(f"bridge over mutual TLS vs plaintext (p50): connect "
          f"{b['rows']['connect, TLS']['p50_us'] / 1e3:.2f} ms vs "
          f"{b['rows']['connect, plaintext']['p50_us'] / 1e3:.2f} ms "
          f"({b['tls_over_plaintext_p50']['connect']:.1f}x), call "
          f"{b['rows']['call, TLS']['p50_us']:.0f} us vs {b['rows']['call, plaintext']['p50_us']:.0f} us "
          f"({b['tls_over_plaintext_p50']['call']:.2f}x)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(BENCH.parent)} in {results['duration_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
