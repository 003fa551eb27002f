"""Matching speed with the full content loaded, and content load time.

Run alone: `python -m bench.bench_matching`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.harness import time_each, time_repeated
from bot.config import Settings
from bot.core.normalize import han_tokens, normalize_text
from bot.core.responder import Responder
from bot.startup import load_responder

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def questions() -> list[str]:
    texts: list[str] = []
    for name in ("heldout.yaml", "heldout_blind.yaml"):
        data = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        texts += [t for group in data["paraphrases"].values() for t in group]
        texts += data["out_of_scope"]
    return texts


def _match_uncached(responder: Responder, text: str) -> object:
    # Residents rarely send the same text twice: time the cold path, not the caches.
    normalize_text.cache_clear()
    han_tokens.cache_clear()
    return responder.match(text)


def run() -> str:
    settings = Settings.from_env({})
    load = time_repeated(lambda: load_responder(settings), repeat=7)
    responder = load_responder(settings)
    texts = questions()
    match = time_each(lambda t: _match_uncached(responder, str(t)), list(texts), rounds=5)
    return "\n".join(
        [
            "## Matching speed and content load",
            "",
            f"{len(texts)} distinct questions (both held-out sets, in scope and out of scope), "
            f"each matched 5 times with the full content loaded ({len(responder.content.intents)} "
            "intents); content load = parse + validate + build the index, 7 runs.",
            "",
            "| what | median | p95 | p99 | max |",
            "|---|---|---|---|---|",
            f"| match one message (ms) | {match.row()} |",
            f"| load all content (ms) | {load.row()} |",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
