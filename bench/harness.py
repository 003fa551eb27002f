"""A small timing harness on time.perf_counter: repeated runs, medians and tail percentiles."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from bot.core.normalize import han_tokens, normalize_text
from bot.core.semantic import SemanticIndex


@dataclass(frozen=True)
class Timing:
    samples: list[float]  # seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
        return ordered[index]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def row(self, unit: float = 1e-3) -> str:
        """median | p95 | p99 | max, in `unit` seconds (ms by default)."""
        return " | ".join(
            f"{v / unit:.3f}"
            for v in (self.median, self.percentile(0.95), self.percentile(0.99), max(self.samples))
        )


def forget_recent(*semantic: SemanticIndex | None) -> None:
    """Empty the per-message caches, normalisation's and each given semantic index's recent
    vectors: residents rarely send the same text twice, so a timing measures the cold path."""
    normalize_text.cache_clear()
    han_tokens.cache_clear()
    for index in semantic:
        if index is not None:
            index.cache_clear()


def time_each(
    function: Callable[[object], object], inputs: list[object], rounds: int = 5
) -> Timing:
    """Time `function` on every input, `rounds` times over; one sample per call."""
    samples: list[float] = []
    for _ in range(rounds):
        for item in inputs:
            start = time.perf_counter()
            function(item)
            samples.append(time.perf_counter() - start)
    return Timing(samples)


def time_repeated(function: Callable[[], object], repeat: int) -> Timing:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return Timing(samples)


def machine_description() -> str:
    import os

    packages = ", ".join(
        f"{name} {version(name)}"
        for name in ("python-telegram-bot", "rapidfuzz", "numpy", "pypinyin", "opencc")
    )
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        f" on {platform.system()}; {packages}"
    )


def status_mib(pid: int | str, field: str) -> float:
    """A memory figure of a process from /proc/PID/status ("VmRSS" now, "VmHWM" its peak), in
    MiB. Not getrusage's ru_maxrss: Linux keeps that across exec, so a process spawned by a
    big one reports its parent's peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0
