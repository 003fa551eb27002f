"""Content checks that need the matcher: examples that collide across intents.

Rasa's validator catches an example listed under two intents; this goes one step further
and catches an example that the bot itself would answer with another intent were the example
not there. The lexical stage's verdict is an error (the content does not load), as it always
was; the combined matcher's (lexical and semantic stages, as the bot answers residents) is a
warning: a statistical near miss that rewording or a clearer example fixes, reported with
file and line by `antifraud-bot validate` without stopping the bot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.content.model import Content, Decline, Intent
from bot.content.reader import ContentError
from bot.core.normalize import normalize_text

if TYPE_CHECKING:
    from bot.core.decision import Matcher


def example_conflicts(
    content: Content, matcher: Matcher, combined: bool = True
) -> list[ContentError]:
    """Every collision; with `combined` False, only those that stop the content loading
    (the combined matcher's warnings cost a second per start and change nothing)."""
    errors: list[ContentError] = []
    seen: dict[str, tuple[str, int]] = {}
    index = matcher.lexical
    # Semantic rows follow the order of the lexical index's example rows.
    semantic_rows = {key: n for n, key in enumerate(index.example_rows)}
    for intent in content.intents.values():
        for lang, number, example, line in located(intent):
            twice = _twice(intent, example, line, seen, "example")
            if twice is not None:
                errors.append(twice)
                continue
            row = index.example_rows.get((intent.id, lang, number))
            if row is None:
                continue
            decision = index.decide(index.scores(example, exclude=row), lang)
            warning = False
            if combined and matcher.semantic is not None and decision.intent in (None, intent.id):
                semantic_row = semantic_rows[(intent.id, lang, number)]
                decision = matcher.match_example(example, lang, row, semantic_row)
                warning = True
            if decision.intent is not None and decision.intent != intent.id:
                errors.append(
                    ContentError(
                        intent.where.path,
                        line,
                        f"example {example!r} of {intent.id} matches {decision.intent} "
                        f"better ({decision.stage} stage, score {decision.score}); "
                        "reword it or move it",
                        warning=warning,
                    )
                )
    errors += _declined_twice(content, seen)
    return errors


def _declined_twice(content: Content, seen: dict[str, tuple[str, int]]) -> list[ContentError]:
    """A near miss to decline that is also an intent's example (or another group's)."""
    errors = []
    for decline in content.declines.values():
        for _, _, example, line in located(decline):
            twice = _twice(decline, example, line, seen, "declined example")
            if twice is not None:
                errors.append(twice)
    return errors


def located(entry: Intent | Decline) -> Iterator[tuple[str, int, str, int]]:
    """Each example of an intent or a decline group: language, number, text, line."""
    for lang, examples in entry.examples.items():
        lines = entry.example_lines.get(lang, ())
        for number, example in enumerate(examples):
            yield lang, number, example, lines[number] if number < len(lines) else entry.where.line


def _twice(
    entry: Intent | Decline,
    example: str,
    line: int,
    seen: dict[str, tuple[str, int]],
    what: str,
) -> ContentError | None:
    """The error for a text another entry already has; else remember where this one is."""
    key = normalize_text(example)
    if key in seen and seen[key][0] != entry.id:
        return ContentError(
            entry.where.path,
            line,
            f"{what} {example!r} of {entry.id} is also an example of "
            f"{seen[key][0]} (line {seen[key][1]})",
        )
    seen.setdefault(key, (entry.id, line))
    return None
