"""`python -m bench`: run every benchmark and write docs/benchmarks.md from scratch."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    bench_accuracy,
    bench_baselines,
    bench_broadcast,
    bench_conversations,
    bench_end_to_end,
    bench_matching,
    bench_memory,
    bench_ocr,
    bench_postgres,
    bench_scaling,
    bench_scam,
)
from bench.harness import machine_description

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BENCHMARKS = (
    bench_baselines,
    bench_accuracy,
    bench_matching,
    bench_scaling,
    bench_end_to_end,
    bench_memory,
    bench_conversations,
    bench_scam,
    bench_broadcast,
    bench_ocr,
    bench_postgres,
)


def main() -> int:
    started = time.perf_counter()
    sections = []
    for module in BENCHMARKS:
        print(f"running {module.__name__} ...", file=sys.stderr, flush=True)
        sections.append(module.run())
    elapsed = time.perf_counter() - started
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand.",
        "",
        f"- machine: {machine_description()}",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {elapsed:.0f} s in all",
        "- timings are medians with tail percentiles over repeated runs; this machine is "
        "shared and noisy, so compare ratios rather than single figures.",
        "",
    ]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(header + sections), encoding="utf-8")
    print(f"wrote {REPORT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
