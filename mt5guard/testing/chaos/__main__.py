"""``python -m mt5guard.testing.chaos``: run many seeds, or replay one."""

from __future__ import annotations

import argparse
import hashlib
import logging
import multiprocessing
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from mt5guard.testing.chaos._run import ChaosResult, passes, run
from mt5guard.testing.chaos._schedule import Fault, shrink


def _digest(result: ChaosResult) -> str:
    return hashlib.sha256("\n".join(result.log).encode()).hexdigest()[:16]


def _report_failure(result: ChaosResult, days: float, accounts: int) -> None:
    print(f"seed {result.seed} FAILED ({len(result.violations)} violation(s)):")
    for line in result.violations[:10]:
        print(f"  {line}")

    def fails(schedule: tuple[Fault, ...]) -> bool:
        return not run(result.seed, days=days, accounts=accounts, schedule=schedule).ok

    small = shrink(result.schedule, fails)
    print(f"  shrunk schedule ({len(small)} of {len(result.schedule)} faults):")
    for fault in small:
        print(f"    {fault}")
    print(f"  replay: python -m mt5guard.testing.chaos --replay {result.seed} "
          f"--days {days:g} --accounts {accounts}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mt5guard.testing.chaos",
                                     description="Seeded chaos on the deterministic runtime.")
    parser.add_argument("--seeds", type=int, default=100, help="how many seeds (from --first)")
    parser.add_argument("--first", type=int, default=0, help="first seed")
    parser.add_argument("--days", type=float, default=2.0, help="simulated days per seed")
    parser.add_argument("--accounts", type=int, default=3, help="accounts per tree")
    parser.add_argument("--replay", type=int, default=None, metavar="SEED",
                        help="run SEED twice, compare the event logs, print the violations")
    parser.add_argument("--no-shrink", action="store_true", help="print failures unshrunk")
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes running seeds side by side (a failing seed is rerun "
                             "here, with the same result, to report and shrink it)")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # a chaos run crashes sessions on purpose, thousands of times
    if args.replay is not None:
        first = run(args.replay, days=args.days, accounts=args.accounts)
        second = run(args.replay, days=args.days, accounts=args.accounts)
        same = first.log == second.log
        print(f"seed {args.replay}: {first.steps} steps, {len(first.schedule)} faults, "
              f"log {_digest(first)} then {_digest(second)}: {'identical' if same else 'DIFFERENT'}")
        for fault in first.schedule:
            print(f"  fault {fault}")
        for line in first.violations:
            print(f"  violation {line}")
        return 0 if same and first.ok else 1
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    started, failed = time.perf_counter(), 0
    seeds = range(args.first, args.first + args.seeds)
    for done, (seed, result) in enumerate(_results(seeds, args.days, args.accounts, args.jobs)):
        if done and done % _PROGRESS_EVERY == 0:
            _progress(done, args.seeds, failed, time.perf_counter() - started)
        if result is not True:
            if result is False:  # failed in a pool process: the same seed fails the same way here
                result = run(seed, days=args.days, accounts=args.accounts)
            failed += 1
            if args.no_shrink:
                print(f"seed {seed} FAILED: {result.violations[0]}")
            else:
                _report_failure(result, args.days, args.accounts)
            sys.stdout.flush()
    wall = time.perf_counter() - started
    print(f"{args.seeds} seeds ({args.days:g} days, {args.accounts} accounts): {failed} failed; "
          f"{wall:.1f} s, {args.seeds / wall * 60:.0f} seeds per minute")
    return 1 if failed else 0


_PROGRESS_EVERY = 25  # seeds between progress lines on stderr


def _results(seeds: range, days: float, accounts: int,
             jobs: int) -> Iterator[tuple[int, ChaosResult | bool]]:
    """(seed, True if it passed, else its result or False) in seed order.

    ``jobs`` > 1 runs seeds in fresh spawned processes, which send back only
    whether a seed passed.
    """
    if jobs == 1:
        for seed in seeds:
            result = run(seed, days=days, accounts=accounts)
            yield seed, True if result.ok else result
        return
    context = multiprocessing.get_context("spawn")  # never fork a process with actor threads
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=logging.disable,
                             initargs=(logging.CRITICAL,)) as pool:
        verdicts = pool.map(passes, seeds, [days] * len(seeds), [accounts] * len(seeds),
                            chunksize=4)
        yield from zip(seeds, verdicts, strict=True)


def _progress(done: int, total: int, failed: int, wall: float) -> None:
    """One status line on stderr, so a long run shows it is alive and when it ends."""
    left = wall / done * (total - done)
    print(f"chaos: {done}/{total} seeds, {failed} failed, {wall / 60:.1f} min so far, "
          f"about {left / 60:.1f} min left", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
