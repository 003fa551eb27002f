"""Examples in intents/ that echo a line of the development set (../shared/data/questions_dev/).

The development questions are for measuring, never for copying: an example that repeats one
(or nearly: the same words with a changed particle or punctuation) makes the development
figures flatter the bot and teaches it nothing about the hidden set. Run after writing
examples: `python -m bench.dev_echoes`; exit 1 lists every echo as file:line, 0 when none.
Skips cleanly (exit 0) when the development set is absent.

The measure is character similarity after lower-casing and dropping punctuation and spaces
(rapidfuzz's normalised Indel ratio). Sentence-vector cosine is not used: the model puts any
two questions on one topic close together, so it cannot tell an echo from a neighbour.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

from rapidfuzz import fuzz, process

from bench import dev_questions
from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.core.example_checks import located

ECHO_AT = 85.0  # ratio, 0-100: "appreciate it" vs "i appreciate it" is 96


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _examples(settings: Settings) -> Iterator[tuple[str, int, str]]:
    """(file, line, example) for every intent and decline example, but an intent's examples
    that are one of its own keywords: "thanks" or 晚安 is vocabulary that anyone's text shares."""
    content = load_content(settings.intents_dir, settings.content_dir, CONTACT_VARIABLES)
    vocabulary = {
        intent.id: {k for words in intent.keywords.values() for k in words}
        for intent in content.intents.values()
    }
    for entry in (*content.intents.values(), *content.declines.values()):
        for _, _, text, line in located(entry):
            if text not in vocabulary.get(entry.id, ()):
                yield str(entry.where.path), line, text


def echoes(settings: Settings, questions: list[dev_questions.Question]) -> list[str]:
    plain = [_plain(q.text) for q in questions]
    found = []
    for path, line, text in _examples(settings):
        best = process.extractOne(_plain(text), plain, scorer=fuzz.ratio)
        if best is not None and best[1] >= ECHO_AT:
            found.append(f"{path}:{line}: {text!r} echoes development line {best[2] + 1}")
    return found


def main() -> int:
    questions = dev_questions.load()
    if questions is None:
        print(f"no development set at {dev_questions.DEV_QUESTIONS}: skipped")
        return 0
    found = echoes(Settings.from_env({}), questions)
    print("\n".join(found) or "no example echoes a development line")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
