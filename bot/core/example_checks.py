"""Content checks that need the matcher: examples that collide across intents.

Rasa's validator catches an example listed under two intents; this goes one step further
and catches an example that the bot itself would answer with another intent were the example
not there. The lexical stage's verdict is an error (the content does not load), as it always
was; the combined matcher's (lexical and semantic stages, as the bot answers residents) is a
warning: a statistical near miss that rewording or a clearer example fixes, reported with
file and line by `antifraud-bot validate` without stopping the bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.content.model import Content
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
        for lang, examples in intent.examples.items():
            lines = intent.example_lines.get(lang, ())
            for number, example in enumerate(examples):
                line = lines[number] if number < len(lines) else intent.where.line
                key = normalize_text(example)
                if key in seen and seen[key][0] != intent.id:
                    errors.append(
                        ContentError(
                            intent.where.path,
                            line,
                            f"example {example!r} of {intent.id} is also an example of "
                            f"{seen[key][0]} (line {seen[key][1]})",
                        )
                    )
                    continue
                seen.setdefault(key, (intent.id, line))
                row = index.example_rows.get((intent.id, lang, number))
                if row is None:
                    continue
                decision = index.decide(index.scores(example, exclude=row), lang)
                warning = False
                if (
                    combined
                    and matcher.semantic is not None
                    and decision.intent in (None, intent.id)
                ):
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
        for lang, examples in decline.examples.items():
            lines = decline.example_lines.get(lang, ())
            for number, example in enumerate(examples):
                line = lines[number] if number < len(lines) else decline.where.line
                key = normalize_text(example)
                if key in seen and seen[key][0] != decline.id:
                    errors.append(
                        ContentError(
                            decline.where.path,
                            line,
                            f"declined example {example!r} of {decline.id} is also an example "
                            f"of {seen[key][0]} (line {seen[key][1]})",
                        )
                    )
                seen.setdefault(key, (decline.id, line))
    return errors
