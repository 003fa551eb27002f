"""Choose how much of the Universal Sentence Encoder goes beside e5 (bot/models/blend.py).

For each weight w, the cosine of a question to an example is (1 - w) * e5 + w * USE, and the
question goes to the intent of its nearest example (no threshold). The weight chosen is the one
with the most right answers over the project's own question sets in tests/data, which are not
examples, so nothing they are scored on was fitted to them. The development set of real
questions (../shared/data/questions_dev/) is scored too when present, as a check: it never
chooses.

Run: `python -m bench.fit_encoder_blend` (a minute once both models' example vectors are cached).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from bench import dev_questions
from bot.config import Settings
from bot.core.responder import semantic_examples
from bot.models.cache import CachedExampleVectors
from bot.models.e5 import E5Encoder
from bot.models.use import UseEncoder
from bot.startup import load_responder

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
OWN_SETS = ("tuning_register.yaml", "heldout.yaml", "heldout_blind.yaml", "heldout_blind2.yaml")
WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0)


def own_questions(intent_ids: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Per set, its in-scope questions and their intents' positions."""
    position = {intent_id: n for n, intent_id in enumerate(intent_ids)}
    sets = {}
    for name in OWN_SETS:
        data = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        paraphrases = data["paraphrases"].items()
        sets[name] = [(text, position[intent]) for intent, texts in paraphrases for text in texts]
    return sets


def nearest_right(e5: np.ndarray, use: np.ndarray, owners: np.ndarray, gold: np.ndarray, w: float):
    """The share of questions whose nearest example (by the blended cosine) has their intent."""
    cosines = (1.0 - w) * e5 + w * use
    return float((owners[cosines.argmax(axis=1)] == gold).mean())


def run() -> str:
    settings = Settings.from_env({})
    lexical = load_responder(Settings.from_env({"ANTIFRAUD_SEMANTIC": "off"}))
    content, index = lexical.content, lexical.index
    texts, owners, n_intents = semantic_examples(content, index)
    is_intent = np.array(owners) < n_intents  # near misses are not answers
    owner_of = np.array(owners)[is_intent]
    encoders = {"e5": E5Encoder(), "use": UseEncoder()}
    examples = {
        name: CachedExampleVectors(encoder, settings.cache_dir)(texts)[is_intent]
        for name, encoder in encoders.items()
    }
    sets = own_questions(index.intent_ids)
    dev = dev_questions.load()
    if dev is not None:
        ids = {intent_id: n for n, intent_id in enumerate(index.intent_ids)}
        sets["development set (check only)"] = [(q.text, ids[q.intent]) for q in dev if q.intent]
    scores: dict[str, dict[float, float]] = {}
    for name, questions in sets.items():
        gold = np.array([intent for _, intent in questions])
        cosines = {
            model: encoder.encode([text.strip() for text, _ in questions]) @ examples[model].T
            for model, encoder in encoders.items()
        }
        scores[name] = {
            w: nearest_right(cosines["e5"], cosines["use"], owner_of, gold, w) for w in WEIGHTS
        }
    own = [name for name in sets if name in OWN_SETS]
    mean = {w: np.mean([scores[name][w] for name in own]) for w in WEIGHTS}
    chosen = max(WEIGHTS, key=lambda w: (mean[w], -w))
    header = "| USE weight | " + " | ".join(sets) + " | own sets, mean |"
    lines = [header, "|---" * (len(sets) + 2) + "|"]
    for w in WEIGHTS:
        cells = " | ".join(f"{scores[name][w]:.1%}" for name in sets)
        mark = " **chosen**" if w == chosen else ""
        lines.append(f"| {w:g}{mark} | {cells} | {mean[w]:.1%} |")
    return "\n".join(lines) + f"\n\nChosen USE weight: {chosen:g}\n"


if __name__ == "__main__":
    print(run())
