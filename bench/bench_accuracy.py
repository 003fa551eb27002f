"""Accuracy of the matcher on the held-out sets in tests/data.

Run alone: `python -m bench.bench_accuracy`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import Settings
from bot.core.responder import Responder
from bot.startup import load_responder

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {
    "heldout.yaml": "held-out (tests/data/heldout.yaml; seen while tuning)",
    "heldout_blind.yaml": "blind (tests/data/heldout_blind.yaml; never used for tuning)",
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


def run() -> str:
    responder = load_responder(Settings.from_env({}))
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
        m = measure(responder, name)
        lines.append(
            f"| {label} | {m['n']} | {m['answered']:.1%} | {m['ranked']:.1%} | {m['asked']:.1%} "
            f"| {m['wrong']:.1%} | {m['n_oos']} | {m['fallback']:.1%} |"
        )
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    print(run())
