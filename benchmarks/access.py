"""Access anomaly detectors over a large synthetic access log, beside the naive per-event loop.

Run: ``.venv/bin/python benchmarks/access.py [--residents 2000] [--days 90]
[--naive-events N] [--seed 2026]``

No database: the detectors are pure numpy code (:mod:`anwang.access.detectors`).

1. A seeded synthetic log (:mod:`anwang.access.synthetic`): 2,000 residents and 8 guards, 20
   access points, 90 days, about 10 million events, with 200 labelled anomalies of each kind.
2. ``detect_all`` and each detector: seconds (without tracing), then the peak of memory
   allocated while running them (``tracemalloc``, which sees numpy's arrays) and the process's
   peak resident memory (``ru_maxrss``, which includes generating the log).
3. The naive per-event Python loops (:mod:`anwang.access.detectors_naive`) over the same log
   (or over the first ``--naive-events`` events, with the detectors run on the same slice to
   compare findings, and the full-log time extrapolated per event), and whether the findings
   are the same.
4. Precision and recall of each detector against the injected anomalies.

Targets: every detector together under 5 s and under 2 GiB, with the naive loop's findings.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
import tracemalloc

import numpy as np
from _common import print_table

from anwang.access import detectors, detectors_naive
from anwang.access.detectors import DETECTORS, AccessLog
from anwang.access.synthetic import SyntheticSpec, generate, score

TARGET_SECONDS = 5.0
TARGET_BYTES = 2 * 2**30
MIB = 2**20


def _slice(log: AccessLog, count: int) -> AccessLog:
    return AccessLog(
        log.at[:count],
        log.point[:count],
        log.credential[:count],
        log.person[:count],
        log.granted[:count],
    )


def main() -> None:
    """Generate, detect, compare, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--anomalies", type=int, default=200, help="injected, of each kind")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--naive-events",
        type=int,
        default=0,
        help="run the naive loop on the first N events only (default: the whole log)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    synthetic = generate(
        SyntheticSpec(
            residents=args.residents, days=args.days, anomalies=args.anomalies, seed=args.seed
        )
    )
    generated = time.perf_counter() - started
    log, points, params = synthetic.log, synthetic.points, synthetic.params
    log_bytes = sum(
        column.nbytes for column in (log.at, log.point, log.credential, log.person, log.granted)
    )
    print(
        f"access: {len(log):,} events, {args.residents:,} residents, {len(points)} access points,"
        f" {args.days} days; generated in {generated:.1f} s ({log_bytes / MIB:.0f} MiB of columns)"
    )
    print(f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print()

    rows = []
    findings_by_detector = {}
    total_seconds = 0.0
    for name in DETECTORS:
        detector = getattr(detectors, name)
        began = time.perf_counter()
        found = detector(log, points, params)
        seconds = time.perf_counter() - began
        total_seconds += seconds
        findings_by_detector[name] = found
        precision, recall = score(found, synthetic.labels, name)
        rows.append([name, f"{seconds:.2f}", len(found), f"{precision:.3f}", f"{recall:.3f}"])
    began = time.perf_counter()
    fast = detectors.detect_all(log, points, params)
    all_seconds = time.perf_counter() - began
    rows.append(["detect_all", f"{all_seconds:.2f}", len(fast), "", ""])

    tracemalloc.start()
    detectors.detect_all(log, points, params)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB

    print_table(["detector", "seconds", "findings", "precision", "recall"], rows)
    print()
    print(f"peak allocated while detecting (tracemalloc): {traced_peak / MIB:,.0f} MiB")
    print(f"  + the log's columns: {(traced_peak + log_bytes) / MIB:,.0f} MiB")
    print(f"process peak resident (ru_maxrss, includes generating): {rss_peak / MIB:,.0f} MiB")
    print()

    naive_count = args.naive_events or len(log)
    naive_log = log if naive_count >= len(log) else _slice(log, naive_count)
    print(f"naive per-event loop over {len(naive_log):,} events ...", flush=True)
    began = time.perf_counter()
    naive = detectors_naive.detect_all(naive_log, points, params)
    naive_seconds = time.perf_counter() - began
    reference = fast if naive_log is log else detectors.detect_all(naive_log, points, params)
    same = naive == reference
    if naive_log is log:
        naive_note = "whole log"
        naive_full = naive_seconds
    else:
        naive_full = naive_seconds * len(log) / len(naive_log)
        naive_note = f"first {len(naive_log):,} events, extrapolated per event"
    print_table(
        ["run", "seconds", "events/s", "findings"],
        [
            ["numpy detect_all", f"{all_seconds:.2f}", f"{len(log) / all_seconds:,.0f}", len(fast)],
            [
                f"naive loop ({naive_note})",
                f"{naive_full:.1f}",
                f"{len(naive_log) / naive_seconds:,.0f}",
                len(naive),
            ],
        ],
    )
    print(f"speed-up: {naive_full / all_seconds:.0f}x; same findings as the naive loop: {same}")
    print()
    memory = traced_peak + log_bytes
    meets = all_seconds < TARGET_SECONDS and memory < TARGET_BYTES and same
    print(
        f"target: all detectors < {TARGET_SECONDS:.0f} s ({all_seconds:.2f} s), "
        f"< 2 GiB ({memory / MIB:,.0f} MiB with the log), same findings ({same}): "
        + ("met" if meets else "NOT met")
    )


if __name__ == "__main__":
    main()
