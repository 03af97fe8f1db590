"""The printed table and the goal check of issue 5 (reported, never asserted)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["goals", "render"]

GUARDED = "guarded Session.get_price"
BARE = "bare pykka ask (echo actor)"
REJECTED = "rejected Session.get_price (OPEN)"
WORKER_GUARDED = "guarded Session.get_price, worker process"


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of issue 5 with the measured value and whether it was met."""
    at_1000 = next(row for row in results["scale"] if row["accounts"] == 1000)

    def goal(name: str, value: float, limit: float, unit: str) -> dict[str, Any]:
        return {"goal": name, "value": value, "limit": limit, "unit": unit, "met": value <= limit}

    rows = [
        goal(
            f"guarded p50 / bare ask p50, threads {where}",
            request["single_caller"][GUARDED]["p50_ratio"],
            1.3,
            "x",
        )
        for where, request in results["request"].items()
    ]
    leaked = max(
        r["fast_fail"]["terminal_calls_while_open"] + r["fast_fail"]["answered_while_open"]
        for r in results["request"].values()
    )
    rows += [
        goal("terminal calls or answers while OPEN (all runs)", leaked, 0, "calls"),
        goal("RSS per session at 1,000 sessions", at_1000["rss_mb_per_session"], 0.25, "MB"),
        goal("start-up of 1,000 sessions", at_1000["startup_s"], 5.0, "s"),
        goal("stop of 1,000 sessions", at_1000["stop_s"], 3.0, "s"),
    ]
    rows += [
        goal(f"24 h story, 10 accounts, threads {where}", story["wall_s"], 2.0, "s wall")
        for where, story in results["simulated_time"].items()
    ]
    if "workers" in results:
        request, scale = results["workers"]["request"]["rows"], results["workers"]["scale"]
        rows += [
            goal("worker: guarded get_price p50 / bare echo p50", request[WORKER_GUARDED]["p50_ratio"],
                 1.3, "x"),
            goal(f"worker: start-up of {scale['accounts']} accounts", scale["startup_s"], 10.0, "s"),
            goal(f"worker: stop of {scale['accounts']} accounts", scale["stop_s"], 3.0, "s"),
        ]
    if "deterministic" in results:
        det = results["deterministic"]
        rows += [
            goal("24 h story, 10 accounts, deterministic runtime", det["story"]["wall_s"], 0.5, "s wall"),
            goal("one chaos seed, 3 accounts x 2 days (median)", det["chaos"]["median_s_per_seed"], 1.0,
                 "s wall"),
        ]
    if "journal" in results:
        rows.append(goal("durable journal: added place_order p50 (synchronous=NORMAL)",
                         results["journal"]["added_p50_ms"]["NORMAL"], 2.0, "ms"))
    return rows


def _journal_section(results: dict[str, Any]) -> list[str]:
    if "journal" not in results:
        return []
    j = results["journal"]
    rows = [[name, f"{j['place_order'][name]['p50_us'] / 1000:.2f}",
             f"{j['place_order'][name]['p99_us'] / 1000:.2f}",
             "-" if name == "memory" else f"{j['added_p50_ms'][name]:+.2f}",
             f"{j['journal_only'][name]['p50_us'] / 1000:.3f}"] for name in j["place_order"]]
    return [
        f"\n7. Order journal: place_order through a tree, {j['orders_per_variant']} orders per "
        "variant (SQLite WAL, files on the repository's disk)",
        _table(("journal", "p50 ms", "p99 ms", "added p50 ms", "journal alone p50 ms"), rows),
    ]


def _deterministic_section(results: dict[str, Any]) -> list[str]:
    if "deterministic" not in results:
        return []
    story, chaos = results["deterministic"]["story"], results["deterministic"]["chaos"]
    return [
        "\n6. Deterministic runtime (one thread, seeded order, time jumps)",
        _table(
            ("run", "wall s", "messages", "us/message", "result"),
            [
                [f"24 h story, {story['accounts']} accounts", f"{story['wall_s']:.2f}",
                 f"{story['messages']:,}", f"{story['us_per_message']:.1f}",
                 "recovered" if story["recovered"] else "NOT recovered"],
                [f"chaos seed, {chaos['accounts']} accounts x {chaos['days']:g} days (median of "
                 f"{chaos['seeds']})", f"{chaos['median_s_per_seed']:.2f}",
                 f"{chaos['messages_per_seed']:,.0f}",
                 f"{chaos['median_s_per_seed'] / chaos['messages_per_seed'] * 1e6:.1f}",
                 f"{chaos['failed']} failed; {chaos['seeds_per_minute']:.0f} seeds/min"],
            ],
        ),
    ]


def _workers_section(results: dict[str, Any]) -> list[str]:
    if "workers" not in results:
        return []
    request, scale = results["workers"]["request"], results["workers"]["scale"]
    rows = [[name, f"{r['p50_us']:.1f}", f"{r['p99_us']:.1f}", f"{r['ops_per_s']:,.0f}",
             f"{r['p50_ratio']:.2f}"] for name, r in request["rows"].items()]
    return [
        f"\n9. Terminal workers (issue 9): 1 caller, {request['rounds']} rounds x "
        f"{request['calls_per_round']} calls; x = ratio to the bare echo of the same round",
        _table(("variant", "p50 us", "p99 us", "calls/s", "p50 x"), rows),
        f"{scale['accounts']} process-isolated accounts in one tree: start {scale['startup_s']:.1f} s, "
        f"stop {scale['stop_s']:.2f} s, worker RSS {scale['worker_rss_mb_median']:.1f} MB (median; "
        f"max {scale['worker_rss_mb_max']:.1f}), CPU {scale['worker_cpu_s']:.2f} s per "
        f"worker, mt5guard RSS {scale['parent_rss_mb_per_account']:.2f} MB per account, "
        f"{scale['workers_left_after_stop']} workers left after stop",
    ]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _latency_rows(summary: dict[str, dict[str, float]]) -> list[list[str]]:
    return [
        [
            name,
            f"{r['p50_us']:.1f}",
            f"{r['p99_us']:.1f}",
            f"{r['ops_per_s']:,.0f}",
            f"{r['p50_ratio']:.2f}",
            f"{r['p99_ratio']:.2f}",
            f"{r['ops_ratio']:.2f}",
        ]
        for name, r in summary.items()
    ]


_LATENCY_HEADERS = ("variant", "p50 us", "p99 us", "calls/s", "p50 x", "p99 x", "calls/s x")


def _request_sections(results: dict[str, Any]) -> list[str]:
    by_placement = results["request"]
    request = by_placement["os"]
    ff = request["fast_fail"]
    placement_rows = []
    for where, r in by_placement.items():
        single, multi = r["single_caller"], r["multi_caller"]
        placement_rows.append(
            [
                where,
                f"{single[GUARDED]['p50_us']:.1f}",
                f"{single[BARE]['p50_us']:.1f}",
                f"{single[GUARDED]['p50_ratio']:.2f}",
                f"{single[GUARDED]['p99_ratio']:.2f}",
                f"{single[GUARDED]['ops_ratio']:.2f}",
                f"{multi[GUARDED]['ops_ratio']:.2f}",
                f"{r['fast_fail']['rows'][REJECTED]['p50_ratio']:.2f}",
                f"{r['pybreaker']['guarded_over_pybreaker_p50']:.1f}",
            ]
        )
    return [
        f"\n1. Guarded request, 1 caller, threads placed by the OS ({request['rounds']} rounds x "
        f"{request['calls_per_round']} calls; medians; x = ratio to the bare ask of the same round)",
        _table(_LATENCY_HEADERS, _latency_rows(request["single_caller"])),
        f"\n1b. Same, {request['threads']} caller threads x {request['calls_per_thread']} calls each "
        "(the terminal takes one caller at a time: direct rows hold a lock)",
        _table(_LATENCY_HEADERS, _latency_rows(request["multi_caller"])),
        "\n1c. By thread placement (same-core: every thread on one CPU = software cost; "
        "cross-core: callers on one CPU, actors on the other)",
        _table(
            (
                "threads",
                "guarded p50 us",
                "bare p50 us",
                "p50 x",
                "p99 x",
                "calls/s x",
                f"{request['threads']}-caller calls/s x",
                "fast-fail p50 x",
                "guarded/pybreaker p50",
            ),
            placement_rows,
        ),
        "\n2. Fast-fail while OPEN (force_open), threads placed by the OS",
        _table(_LATENCY_HEADERS, _latency_rows(ff["rows"])),
        "while OPEN: "
        + "; ".join(
            f"{w}: {r['fast_fail']['rejected_requests']:,} rejected, "
            f"{r['fast_fail']['answered_while_open']} answered, "
            f"{r['fast_fail']['terminal_calls_while_open']} terminal calls"
            for w, r in by_placement.items()
        )
        + f"; rejections counted by the breaker (os run): {ff['breaker_counted_rejections']:,}",
    ]


def _scale_section(results: dict[str, Any]) -> list[str]:
    rows = [
        [
            f"{r['accounts']:,}",
            f"{r['startup_s']:.2f}",
            f"{r['rss_mb_per_session']:.3f}",
            f"{r['threads_per_session']:.2f}",
            f"{r['virtual_mb_per_session']:.1f}",
            f"{r['probe_cpu_us']:.0f}",
            f"{r['probe_cycle_cpu_ms']:.1f}",
            f"{r['probe_cpu_pct_of_core_at_30s']:.3f}",
            f"{r['idle_cpu_pct']:.3f}",
            f"{r['probe_terminal_ms_p50']:.3f}",
            f"{r['stop_s']:.2f}",
        ]
        for r in results["scale"]
    ]
    tb = results["thread_baseline"]
    return [
        "\n3. Scale: N accounts in one process (SystemClock, simulated terminals, fresh process per N)",
        _table(
            (
                "N",
                "start s",
                "RSS MB/sess",
                "threads/sess",
                "virt MB/sess",
                "probe CPU us",
                "cycle CPU ms",
                "% core @30s",
                "idle % core",
                "probe ms",
                "stop s",
            ),
            rows,
        ),
        f"{tb['threads']:,} idle Python threads alone: {tb['rss_kb_per_thread']:.1f} KiB RSS and "
        f"{tb['virtual_kb_per_thread'] / 1024:.1f} MiB address space per thread",
    ]


def _story_section(results: dict[str, Any]) -> list[str]:
    stories = results["simulated_time"]
    first = stories["os"]
    rows = [
        [
            where,
            f"{s['wall_s']:.2f}",
            f"{s['speedup']:,.0f}",
            f"{s['cpu_s']:.2f}",
            f"{s['wall_us_per_probe']:.0f}",
            f"{s['context_switches_per_probe']:.1f}",
            str(s["all_serving_at_end"] and s["all_breakers_closed_at_end"] and not s["gave_up"]),
        ]
        for where, s in stories.items()
    ]
    events = ", ".join(f"{k}: {v:,}" for k, v in first["events"].items())
    return [
        f"\n4. Simulated time: {first['simulated_hours']} h, {first['accounts']} accounts, "
        "30 s probes, one outage per account per hour",
        _table(
            ("threads", "wall s", "x real time", "CPU s", "us/probe", "ctx switches/probe", "recovered"), rows
        ),
        f"events (os run): {events}",
    ]


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    pb = results["request"]["os"]["pybreaker"]
    out = [
        f"\nmachine: {m['nproc']} cores (nproc), Python {m['python']}, pykka {m['pykka']}, "
        f"pybreaker {m['pybreaker']}, commit {m['commit'] or '?'}",
        *_request_sections(results),
        *_scale_section(results),
        *_story_section(results),
        *_deterministic_section(results),
        *_journal_section(results),
        *_workers_section(results),
        "\n5. pybreaker (lock-based, on the caller's thread) vs the actor design, threads by the OS",
        f"guarded get_price p50 / pybreaker p50: {pb['guarded_over_pybreaker_p50']:.1f}x; "
        f"pybreaker calls/s / guarded calls/s: {pb['guarded_over_pybreaker_ops']:.1f}x",
        "\nGoals (issue 5; reported, not asserted)",
        _table(
            ("goal", "measured", "limit", "met"),
            [
                [
                    g["goal"],
                    f"{g['value']:.3g} {g['unit']}",
                    f"{g['limit']:g}",
                    "met" if g["met"] else "MISSED",
                ]
                for g in results["goals"]
            ],
        ),
    ]
    return "\n".join(out)
