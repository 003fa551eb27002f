"""Stand-in readers for the OCR worker's child process (it imports this module by name), for
the paths a real model cannot be made to take on purpose: slow, and not installed."""

from __future__ import annotations

import time

SLOW_SECONDS = 60.0  # far beyond any time-out a test sets: only a time-out ends it


class SlowReader:
    def read_text(self, image_bytes: bytes) -> str:
        time.sleep(SLOW_SECONDS)
        return "never returned"


def slow_reader() -> SlowReader:
    return SlowReader()


def missing_reader() -> SlowReader:
    raise ImportError("No module named 'rapidocr'")
