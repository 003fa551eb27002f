"""The real third-party questions in ../shared/data/questions_dev/ (development use only).

They are read from beside the repository when present and never copied into it; every
benchmark that uses them skips cleanly when they are absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.core.normalize import has_han

DEV_QUESTIONS = (
    Path(__file__).resolve().parent.parent.parent
    / "shared"
    / "data"
    / "questions_dev"
    / "questions.tsv"
)
OUT_OF_SCOPE = "-"


@dataclass(frozen=True)
class Question:
    intent: str | None  # None: out of scope
    text: str

    @property
    def lang(self) -> str:
        return "zh" if has_han(self.text) else "en"

    @property
    def area(self) -> str:
        return self.intent.split(".")[0] if self.intent else "out of scope"


def load(path: Path = DEV_QUESTIONS) -> list[Question] | None:
    if not path.is_file():
        return None
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        intent, text, _source = line.split("\t")
        questions.append(Question(None if intent == OUT_OF_SCOPE else intent, text))
    return questions


@dataclass(frozen=True)
class Score:
    n: int
    n_oos: int
    right: float  # in scope: answered with the labelled intent
    wrong: float  # in scope: answered with another intent
    fallback: float  # out of scope: no answer (fallback or "did you mean")
    precision: float  # of all the questions without an answer, the share out of scope


def score(predict: Callable[[str], str | None], questions: list[Question]) -> Score:
    got = [(q, predict(q.text)) for q in questions]
    in_scope = [(q, g) for q, g in got if q.intent]
    oos = [(q, g) for q, g in got if not q.intent]
    declined = [q for q, g in got if g is None]
    declined_oos = sum(1 for q in declined if not q.intent)
    return Score(
        n=len(in_scope),
        n_oos=len(oos),
        right=sum(g == q.intent for q, g in in_scope) / max(1, len(in_scope)),
        wrong=sum(g is not None and g != q.intent for q, g in in_scope) / max(1, len(in_scope)),
        fallback=sum(g is None for _, g in oos) / max(1, len(oos)),
        precision=declined_oos / max(1, len(declined)),
    )
