"""bench.dev_echoes: an example that repeats a development-set line is found, with its line."""

from __future__ import annotations

from bench.dev_echoes import echoes
from bench.dev_questions import Question
from bot.config import Settings


def test_an_example_repeated_with_other_punctuation_is_an_echo() -> None:
    settings = Settings.from_env({})
    questions = [
        Question(None, "明天会下雨吗"),
        Question("safety.drugs", "怎么举报贩毒的？？"),  # intents/safety.yaml, without "?"
    ]
    found = echoes(settings, questions)
    assert len(found) == 1, found
    assert "intents/safety.yaml:" in found[0] and "development line 2" in found[0]


def test_a_question_on_the_same_topic_in_other_words_is_not() -> None:
    questions = [Question("safety.drugs", "村里有个人好像在卖毒品，我应该找谁说这个事情")]
    assert echoes(Settings.from_env({}), questions) == []
