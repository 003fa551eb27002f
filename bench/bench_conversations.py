"""Time to play every conversation script in tests/conversations/ (content already loaded).

Run alone: `python -m bench.bench_conversations`.
"""

from __future__ import annotations

from pathlib import Path

from bench.harness import time_repeated
from bot.authoring.runner import run_scripts
from bot.authoring.script import find_scripts
from bot.config import Settings
from bot.startup import load_responder

SCRIPTS = Path(__file__).resolve().parent.parent / "tests" / "conversations"


def run() -> str:
    responder = load_responder(Settings.from_env({}))
    paths = find_scripts([SCRIPTS])
    turns = sum(len(p.read_text(encoding="utf-8").split("expect")) - 1 for p in paths)
    timing = time_repeated(lambda: run_scripts([SCRIPTS], responder), repeat=5)
    return "\n".join(
        [
            "## Conversation scripts",
            "",
            f"All {len(paths)} scripts in tests/conversations/ ({turns} turns), played through the "
            "real Application and the fake Bot API, 5 runs (content load excluded; it is in the "
            "table above).",
            "",
            "| what | median | p95 | p99 | max |",
            "|---|---|---|---|---|",
            f"| all scripts (s) | {timing.row(unit=1.0)} |",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
