"""How long `/meet` text takes to read: every phrase of the grammar corpus, many times.

Each phrase of tests/unit/grammar_corpus.txt (readings and refusals alike, each with the
injected now and zone its section gives) is parsed `--rounds` times; every call is timed
on its own. Reported: median and p99 per command over all calls, the same for readings
and for refusals (a refusal also checks that its suggestion reads), and the slowest
phrases by median. Baseline, measured in the same run: `str.split` plus
`datetime.strptime` of the plain time in "Retro at 15:00", the least a parser can do.
Target: p99 under 1 ms per command.

    .venv/bin/python bench/parse_speed.py [--quick] [--rounds 200]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.grammar import parse  # noqa: E402
from bot.requests import GrammarError  # noqa: E402
from tests.unit.test_grammar_corpus import Case, load  # noqa: E402

PLAIN = "Retro at 15:00"


def _once(case: Case) -> float:
    start = time.perf_counter_ns()
    with contextlib.suppress(GrammarError):
        parse(case.phrase, now=case.now, tz=case.tz)
    return (time.perf_counter_ns() - start) / 1e6


def _baseline() -> float:
    start = time.perf_counter_ns()
    words = PLAIN.split()
    datetime.strptime(words[words.index("at") + 1], "%H:%M")  # noqa: DTZ007
    return (time.perf_counter_ns() - start) / 1e6


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _row(name: str, values: list[float]) -> str:
    return (
        f"{name:<22} {len(values):>8} {statistics.median(values):>10.3f} "
        f"{_p(values, 0.99):>10.3f} {max(values):>10.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20 rounds")
    args = parser.parse_args()
    rounds = 20 if args.quick else args.rounds
    cases = load()
    for case in cases:  # warm caches (zone files, abbreviation tables) before timing
        _once(case)
    gc.collect()
    gc.disable()
    per_case: dict[int, list[float]] = {c.line: [] for c in cases}
    baseline: list[float] = []
    for _ in range(rounds):
        for case in cases:
            per_case[case.line].append(_once(case))
            baseline.append(_baseline())
    gc.enable()
    readings = [t for c in cases if c.refusal is None for t in per_case[c.line]]
    refusals = [t for c in cases if c.refusal is not None for t in per_case[c.line]]
    everything = readings + refusals
    print(f"{len(cases)} phrases x {rounds} rounds; times in ms per command")
    print(f"{'':<22} {'calls':>8} {'median':>10} {'p99':>10} {'max':>10}")
    print(_row("all commands", everything))
    print(_row("readings", readings))
    print(_row("refusals", refusals))
    print(_row("baseline split+strptime", baseline))
    ratio = statistics.median(everything) / statistics.median(baseline)
    print(f"median ratio parse/baseline: {ratio:.0f}x")
    verdict = "met" if _p(everything, 0.99) < 1.0 else "MISSED"
    print(f"target p99 < 1 ms: {verdict}")
    slowest = sorted(cases, key=lambda c: statistics.median(per_case[c.line]), reverse=True)
    print("slowest phrases (median ms):")
    for case in slowest[:5]:
        print(f"  {statistics.median(per_case[case.line]):.3f}  {case.phrase}")


if __name__ == "__main__":
    main()
