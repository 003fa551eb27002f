"""Accuracy of the matcher on the held-out sets in tests/data, and on the real third-party
questions in ../shared/data/questions_dev/ when present (checked there, never fitted).

Run alone: `python -m bench.bench_accuracy`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bench import dev_questions
from bot.config import Settings
from bot.core.responder import Responder
from bot.startup import load_responder

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {
    "heldout.yaml": "held-out (tests/data/heldout.yaml; seen while tuning)",
    "heldout_blind.yaml": "blind (tests/data/heldout_blind.yaml; never used for tuning)",
    "heldout_blind2.yaml": "blind 2 (tests/data/heldout_blind2.yaml; written for issue 14)",
}


def measure(responder: Responder, name: str) -> dict[str, float]:
    data = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    pairs = [(e, t) for e, texts in data["paraphrases"].items() for t in texts]
    results = [(expected, responder.match(text)) for expected, text in pairs]
    answered = sum(r.intent == e for e, r in results)
    ranked = sum(r.best == e for e, r in results)
    asked = sum(r.intent is None and bool(r.choices) for _, r in results)
    wrong = sum(r.intent is not None and r.intent != e for e, r in results)
    oos = [responder.match(t) for t in data["out_of_scope"]]
    return {
        "n": len(pairs),
        "answered": answered / len(pairs),
        "ranked": ranked / len(pairs),
        "asked": asked / len(pairs),
        "wrong": wrong / len(pairs),
        "n_oos": len(oos),
        "fallback": sum(r.intent is None for r in oos) / len(oos),
    }


def _dev_row(label: str, score: dev_questions.Score) -> str:
    in_scope = f"{score.right:.1%} | {score.wrong:.1%}" if score.n else "– | –"
    oos = f"{score.fallback:.1%} | {score.precision:.1%}" if score.n_oos else "– | –"
    return f"| {label} | {score.n} | {in_scope} | {score.n_oos} | {oos} |"


def dev_section(responder: Responder, lexical: Responder) -> list[str]:
    questions = dev_questions.load()
    if questions is None:
        return ["", f"(No development set at {dev_questions.DEV_QUESTIONS}: skipped.)", ""]
    decided = {q.text: responder.match(q.text) for q in questions}
    combined = lambda text: decided[text].intent  # noqa: E731
    alone = lambda text: lexical.match(text).intent  # noqa: E731
    stages = [decided[q.text].stage for q in questions]
    rows = [
        _dev_row("**all**, lexical + semantic", dev_questions.score(combined, questions)),
        _dev_row("all, lexical stage alone", dev_questions.score(alone, questions)),
    ]
    for lang in ("zh", "en"):
        subset = [q for q in questions if q.lang == lang]
        rows.append(_dev_row(f"{lang}", dev_questions.score(combined, subset)))
    for area in ("fraud", "safety", "helmet", "bot"):
        in_area = [q for q in questions if q.area == area]
        if in_area:
            rows.append(_dev_row(f"area {area}", dev_questions.score(combined, in_area)))
    for stage in ("lexical", "blend"):
        subset = [q for q, s in zip(questions, stages, strict=True) if s == stage]
        rows.append(
            _dev_row(f"decided by the {stage} stage", dev_questions.score(combined, subset))
        )
    return [
        "",
        "### Real third-party questions (development set)",
        "",
        f"{len(questions)} questions from ../shared/data/questions_dev/ (not in the repository; "
        "see its README), used only to check, never to fit. *right* / *wrong*: in-scope "
        "questions answered with the labelled / another intent; *fallback*: out-of-scope "
        'questions with no answer (fallback or "did you mean"); *precision*: of all the '
        "questions left without an answer, the share that was out of scope. Per language and "
        "area rows are the combined matcher; the area rows have no out-of-scope questions.",
        "",
        "| questions | in scope | right | wrong | out of scope | fallback | precision |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def run() -> str:
    responder = load_responder(Settings.from_env({}))
    lexical = load_responder(Settings.from_env({"ANTIFRAUD_SEMANTIC": "off"}))
    lines = [
        "## Matching accuracy",
        "",
        "*answered right*: the bot answered with the expected intent (the figure the tests "
        "hold to); *top-ranked right*: the expected intent ranked first, answered or offered "
        'first in a "did you mean"; *asked*: a "did you mean" instead of an answer; '
        "*answered wrong*: a confident wrong answer; *out-of-scope fallback*: out-of-scope "
        "questions that got no intent.",
        "",
        "| set | paraphrases | answered right | top-ranked right | asked | answered wrong "
        "| out-of-scope | out-of-scope fallback |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in SETS.items():
        if not (DATA / name).exists():
            continue
        for matcher, how in ((responder, "lexical + semantic"), (lexical, "lexical alone")):
            m = measure(matcher, name)
            lines.append(
                f"| {label}, {how} | {m['n']} | {m['answered']:.1%} | {m['ranked']:.1%} "
                f"| {m['asked']:.1%} | {m['wrong']:.1%} | {m['n_oos']} | {m['fallback']:.1%} |"
            )
    return "\n".join([*lines, *dev_section(responder, lexical)])


if __name__ == "__main__":
    print(run())
