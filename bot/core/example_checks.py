"""Content checks that need the matcher: examples that collide across intents.

Rasa's validator catches an example listed under two intents; this goes one step further
and catches an example that the bot itself would answer with another intent.
"""

from __future__ import annotations

from bot.content.model import Content
from bot.content.reader import ContentError
from bot.core.matcher import IntentIndex, MatchSettings
from bot.core.normalize import normalize_text


def example_conflicts(
    content: Content, settings: MatchSettings, index: IntentIndex | None = None
) -> list[ContentError]:
    errors: list[ContentError] = []
    seen: dict[str, tuple[str, int]] = {}
    index = index or IntentIndex(content.intents, settings, content.rewrites)
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
                if decision.intent is not None and decision.intent != intent.id:
                    errors.append(
                        ContentError(
                            intent.where.path,
                            line,
                            f"example {example!r} of {intent.id} matches {decision.intent} "
                            f"better (score {decision.score}); reword it or move it",
                        )
                    )
    return errors
