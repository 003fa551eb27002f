"""Time to play every conversation script in tests/conversations/ (content already loaded),
and how the conversations went: the share of in-scope turns that got the generic fallback or
the same text as the bot's previous message, and the median reply length per card.

Run alone: `python -m bench.bench_conversations`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from bench.harness import time_repeated
from bot.authoring.runner import ScriptResult, run_scripts
from bot.authoring.script import ScriptError, find_scripts
from bot.config import Settings
from bot.core.types import ReplyKind
from bot.startup import load_responder

SCRIPTS = Path(__file__).resolve().parent.parent / "tests" / "conversations"


def run() -> str:
    responder = load_responder(Settings.from_env({}))
    paths = find_scripts([SCRIPTS])
    turns = sum(len(p.read_text(encoding="utf-8").split("expect")) - 1 for p in paths)
    timing = time_repeated(lambda: run_scripts([SCRIPTS], responder), repeat=5)
    quality = conversation_quality(run_scripts([SCRIPTS], responder), responder.content.replies)
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
            *quality,
        ]
    )


def conversation_quality(
    results: Iterable[ScriptResult | ScriptError], cards: Iterable[str]
) -> list[str]:
    """Over every script: in-scope turns (a resident's message or press answered by the
    question answering, not by a report step's prompt, and not written to test the fallback)
    that got the generic fallback or a repeat of the bot's previous text; then the median
    first-message length per card and language."""
    cards = set(cards)
    in_scope = fallbacks = repeats = 0
    lengths: dict[tuple[str, str], list[int]] = defaultdict(list)
    for result in results:
        if isinstance(result, ScriptError):
            continue
        for played in result.played:
            reply = played.reply
            if played.turn.action not in ("say", "press", "forward") or not played.said:
                continue
            if reply is None or (reply.kind is ReplyKind.NOTICE and reply.intent is None):
                continue  # a report step's own prompt (asked again after a wrong input), a hint
            if reply is not None and reply.intent in cards and reply.kind is ReplyKind.ANSWER:
                lengths[(reply.intent, reply.lang)].append(len(played.said[0]))
            if played.turn.expect.get("intent") in ("fallback", "did_you_mean"):
                continue  # a turn written to be out of scope or ambiguous
            in_scope += 1
            fallbacks += reply is not None and reply.kind is ReplyKind.FALLBACK
            repeats += played.repeated
    share = lambda n: f"{n} ({n / in_scope:.1%})" if in_scope else "0"  # noqa: E731
    lines = [
        "### How the conversations went",
        "",
        f"Over all scripts, {in_scope} in-scope turns (a resident's message or button press "
        "answered by the question answering, not by a citizen report's own step prompts; not "
        "written to test the fallback or a 'did you mean').",
        "",
        "| what | turns |",
        "|---|---|",
        f"| got the generic fallback | {share(fallbacks)} |",
        f"| got the same text as the bot's previous message | {share(repeats)} |",
        "",
        "Median length of the first message of each card's reply, in characters "
        "(turns of all scripts; `-` where no script reached that card in that language).",
        "",
        "| card | zh | en |",
        "|---|---|---|",
    ]
    for card in sorted({c for c, _ in lengths}):
        cells = [
            f"{statistics.median(lengths[(card, lang)]):.0f}" if lengths[(card, lang)] else "-"
            for lang in ("zh", "en")
        ]
        lines.append(f"| {card} | {' | '.join(cells)} |")
    lines.append("")
    return lines


if __name__ == "__main__":
    print(run())
