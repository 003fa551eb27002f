"""Matching speed with the full content loaded (with the semantic model, and lexical only),
and content load time (a warm start: example vectors from the cache).

Run alone: `python -m bench.bench_matching`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.harness import forget_recent, time_each, time_repeated
from bot.config import Settings
from bot.core.responder import Responder
from bot.startup import load_responder

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# Telegram's longest message, as a story told at length: the model reads its head and tail only
# (bot/core/semantic.py MODEL_HEAD_CHARS), so it costs what a 200-character one does.
STORY = "昨天我在抖音上看到一个兼职广告，说刷单返利，先让我转了两千块，"
LONGEST = (STORY * 140)[:4091] + "还能追回吗"


def questions() -> list[str]:
    texts: list[str] = []
    for name in ("heldout.yaml", "heldout_blind.yaml"):
        data = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        texts += [t for group in data["paraphrases"].values() for t in group]
        texts += data["out_of_scope"]
    return texts


def _match_uncached(responder: Responder, text: str) -> object:
    forget_recent(responder.matcher.semantic)
    return responder.match(text)


def run() -> str:
    settings = Settings.from_env({})
    lexical_settings = Settings.from_env({"ANTIFRAUD_SEMANTIC": "off"})
    responder = load_responder(settings)  # a cold start, if the cache is empty
    load = time_repeated(lambda: load_responder(settings), repeat=7)
    lexical_load = time_repeated(lambda: load_responder(lexical_settings), repeat=7)
    lexical = load_responder(lexical_settings)
    texts = questions()
    match = time_each(lambda t: _match_uncached(responder, str(t)), list(texts), rounds=5)
    alone = time_each(lambda t: _match_uncached(lexical, str(t)), list(texts), rounds=5)
    longest = time_repeated(lambda: _match_uncached(responder, LONGEST), repeat=7)
    blended = sum(responder.match(t).stage == "blend" for t in texts) / len(texts)
    return "\n".join(
        [
            "## Matching speed and content load",
            "",
            f"{len(texts)} distinct questions (both held-out sets, in scope and out of scope), "
            f"each matched 5 times with the full content loaded ({len(responder.content.intents)} "
            f"intents), caches cleared; the model was asked for {blended:.0%} of them (the rest "
            "the lexical stage decided alone). Content load = parse + validate + build the "
            "indexes, 7 runs; with the model it is a warm start (example vectors from the cache).",
            "",
            "| what | median | p95 | p99 | max |",
            "|---|---|---|---|---|",
            f"| match one message, lexical + semantic (ms) | {match.row()} |",
            f"| match one message, lexical stage only (ms) | {alone.row()} |",
            f"| match one 4,096-character message, 7 runs (ms) | {longest.row()} |",
            f"| load all content, warm start with the model (ms) | {load.row()} |",
            f"| load all content, lexical only (ms) | {lexical_load.row()} |",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
