"""Fit the combined matcher's decision on the project's own data, and write it to
content/matching.yaml.

    python -m bench.fit_matching           # fit and print what it would write
    python -m bench.fit_matching --write   # ... and write it

Data: every example in intents/, matched with itself left out of both the lexical and the
semantic index built without its fold (3-fold cross-validation), and the out-of-scope questions in
tests/data/dev_out_of_scope.yaml. Nothing from ../shared/data is used here: that set only
checks the result (python -m bench.bench_accuracy).

What is fitted, in order:
1. the semantic weight and floor that rank the right intent first most often;
2. a logistic regression (numpy, Newton steps, light L2) over the candidate's features
   (bot.core.decision.FEATURES) for "the candidate is right"; out-of-scope questions weigh as
   much in total as all the examples, so falling back on them counts as much as answering;
3. `answer_at`: the probability that maximises (right - wrong answers) on examples plus
   (fallbacks - answers) on out-of-scope questions; a wrong answer costs as much as a right
   one gains; `suggest_at`: at most 10 % of out-of-scope questions get a "did you mean";
4. the cascade: the widest "lexical answer, short message" rule that skips the model while
   losing at most half a point of that utility.
Run it again after adding examples; `make test` then checks the content with the new figures.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.content.model import Content
from bot.core.decision import (
    FEATURES,
    MIN_SEMANTIC_LENGTH,
    BlendSettings,
    Evidence,
    Matcher,
    combine,
    text_length,
)
from bot.core.matcher import IntentIndex
from bot.core.responder import Responder
from bot.models.cache import CachedExampleVectors
from bot.models.loader import load_encoder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
OUT_OF_SCOPE, PARAPHRASES = "dev_out_of_scope.yaml", "heldout.yaml"
FOLDS = 3
BEGIN, END = "# -- fitted by python -m bench.fit_matching", "# -- end of fitted settings"
_FITTED = re.compile(rf"  {re.escape(BEGIN)}.*?{re.escape(END)}\n?", re.S)


def _samples(
    responder: Responder, folder: Path, folds: int = FOLDS
) -> tuple[list[Evidence], list[int], list[Evidence]]:
    """K-fold evidence for every example (with its intent): each fold's examples matched
    against both indexes built without that fold; and out-of-scope evidence (full index).

    Not leave-one-out: an intent's examples paraphrase each other, so with one left out its
    near twin is still there and the lexical stage looks better than it is on new words."""
    matcher = responder.matcher
    index = matcher.lexical
    semantic = matcher.semantic
    if semantic is None:
        raise ValueError("fitting needs the semantic stage")
    content = responder.content
    position = {intent_id: n for n, intent_id in enumerate(index.intent_ids)}
    keys = list(index.example_rows)
    fold_of = np.arange(len(keys)) % folds
    np.random.default_rng(7).shuffle(fold_of)
    evidence: list[Evidence | None] = [None] * len(keys)
    for fold in range(folds):
        held = {keys[n] for n in np.flatnonzero(fold_of == fold)}
        kept = {
            intent_id: replace(
                intent,
                examples={
                    lang: tuple(e for n, e in enumerate(texts) if (intent_id, lang, n) not in held)
                    for lang, texts in intent.examples.items()
                },
            )
            for intent_id, intent in content.intents.items()
        }
        lexical = IntentIndex(kept, index.settings, content.rewrites)
        excluded = np.flatnonzero(fold_of == fold)
        for n in excluded:
            intent_id, lang, number = keys[n]
            text = content.intents[intent_id].examples[lang][number]
            ranked = dict(lexical.scores(text))
            scores = np.array([ranked[i] for i in index.intent_ids])
            cosines = semantic.scores_for(semantic.vectors[n], exclude=excluded)
            evidence[n] = Evidence(scores, cosines, text_length(text))
    examples = [e for e in evidence if e is not None]
    labels = [position[intent_id] for intent_id, _, _ in keys]
    data = yaml.safe_load((folder / OUT_OF_SCOPE).read_text(encoding="utf-8"))
    out_of_scope = [_evidence(matcher, t) for t in data["out_of_scope"]]
    return examples, labels, out_of_scope


def _evidence(matcher: Matcher, text: str) -> Evidence:
    if matcher.semantic is None:
        raise ValueError("fitting needs the semantic stage")
    ranked = dict(matcher.lexical.scores(text))
    lexical = np.array([ranked[i] for i in matcher.lexical.intent_ids])
    return Evidence(lexical, matcher.semantic.scores(text.strip()), text_length(text))


def _rows(samples: list[Evidence], blend: BlendSettings) -> tuple[np.ndarray, np.ndarray]:
    tops, rows = [], []
    for evidence in samples:
        combined, row = combine(evidence, blend)
        tops.append(int(np.argmax(combined)))
        rows.append(row)
    return np.array(tops), np.array(rows)


def _fit_ranking(
    examples: list[Evidence],
    labels: np.ndarray,
    paraphrases: list[Evidence],
    paraphrase_labels: np.ndarray,
) -> tuple[float, float, float]:
    best = (-1.0, 0.0, 0.0)
    for floor in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9):
        for weight in np.linspace(0, 1, 21):
            blend = BlendSettings(semantic_weight=float(weight), semantic_floor=floor)
            tops, _ = _rows(examples, blend)
            paraphrase_tops, _ = _rows(paraphrases, blend)
            accuracy = float(
                ((tops == labels).mean() + (paraphrase_tops == paraphrase_labels).mean()) / 2
            )
            best = max(best, (accuracy, float(weight), floor))
    return best


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 0.1) -> np.ndarray:
    """Weighted L2 logistic regression by Newton steps; returns [bias, weights...]."""
    design = np.hstack([np.ones((len(x), 1)), x])
    theta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(design @ theta, -50, 50)))
        gradient = design.T @ (w * (p - y)) + penalty * theta
        hessian = (design * (w * p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta


def _utility(right: np.ndarray, answered: np.ndarray, oos_answered: np.ndarray) -> float:
    wrong = answered & ~right
    return float((right & answered).mean() - wrong.mean() + 1 - 2 * oos_answered.mean())


def _paraphrases(responder: Responder, folder: Path) -> tuple[list[Evidence], list[int]]:
    """tests/data/heldout.yaml's paraphrases: the project's own words, written apart from the
    examples, so they say how the stages carry over to new phrasing (the blind sets are never
    read here)."""
    matcher = responder.matcher
    data = yaml.safe_load((folder / PARAPHRASES).read_text(encoding="utf-8"))
    pairs = [(i, t) for i, texts in data["paraphrases"].items() for t in texts]
    ids = matcher.lexical.intent_ids
    return [_evidence(matcher, t) for _, t in pairs], [ids.index(i) for i, _ in pairs]


def fit(responder: Responder, folder: Path = DATA) -> tuple[BlendSettings, dict[str, float]]:
    examples, label_list, out_of_scope = _samples(responder, folder)
    paraphrases, paraphrase_labels = _paraphrases(responder, folder)
    labels = np.array(label_list)
    # The ranking weighs the paraphrases as much as all the examples together.
    accuracy, weight, floor = _fit_ranking(
        examples, labels, paraphrases, np.array(paraphrase_labels)
    )
    blend = BlendSettings(semantic_weight=weight, semantic_floor=floor)
    tops, rows = _rows(examples, blend)
    _, oos_rows = _rows(out_of_scope, blend)
    x = np.vstack([rows, oos_rows])
    y = np.concatenate([(tops == labels).astype(float), np.zeros(len(oos_rows))])
    w = np.concatenate([np.ones(len(rows)), np.full(len(oos_rows), len(rows) / len(oos_rows))])
    theta = _logistic(x, y, w)
    blend = replace(
        blend,
        bias=float(theta[0]),
        **{f"w_{name}": float(value) for name, value in zip(FEATURES, theta[1:], strict=True)},
    )
    p = 1 / (1 + np.exp(-(blend.bias + rows @ blend.weights)))
    p_oos = 1 / (1 + np.exp(-(blend.bias + oos_rows @ blend.weights)))
    right = tops == labels
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    utilities = [_utility(right, p >= t, p_oos >= t) for t in grid]
    answer_at = float(grid[int(np.argmax(utilities))])
    suggest_at = float(min(answer_at, max(0.05, np.quantile(p_oos, 0.9))))
    blend = replace(blend, answer_at=answer_at, suggest_at=round(suggest_at, 3))
    skip = _fit_cascade(responder, examples, labels, out_of_scope, blend, p, p_oos)
    blend = replace(blend, skip_model_score=skip[0], skip_model_length=skip[1])
    report = {
        "examples": len(examples),
        "out_of_scope": len(out_of_scope),
        "ranking_top1": accuracy,
        "answered_right": float((right & (p >= answer_at)).mean()),
        "answered_wrong": float((~right & (p >= answer_at)).mean()),
        "oos_fallback": float((p_oos < answer_at).mean()),
        "skipped_model": skip[2],
    }
    return blend, report


def _fit_cascade(
    responder: Responder,
    examples: list[Evidence],
    labels: np.ndarray,
    out_of_scope: list[Evidence],
    blend: BlendSettings,
    p: np.ndarray,
    p_oos: np.ndarray,
) -> tuple[float, float, float]:
    """(skip_model_score, skip_model_length, share of examples that skip the model)."""
    index = responder.index
    ids = index.intent_ids

    def lexical_decisions(samples: list[Evidence]) -> tuple[list[str | None], np.ndarray]:
        decided, scores = [], []
        for evidence in samples:
            order = np.argsort(-evidence.lexical, kind="stable")
            ranked = [(ids[int(n)], float(evidence.lexical[int(n)])) for n in order]
            decided.append(index.decide(ranked).intent)
            scores.append(ranked[0][1])
        return decided, np.array(scores)

    lex, lex_scores = lexical_decisions(examples)
    lex_oos, lex_oos_scores = lexical_decisions(out_of_scope)
    lengths = np.array([e.length for e in examples])
    lengths_oos = np.array([e.length for e in out_of_scope])
    tops, _ = _rows(examples, blend)
    blend_answer = p >= blend.answer_at
    blend_right = (tops == labels) & blend_answer
    lex_answered = np.array([d is not None for d in lex])
    lex_right = np.array([d == ids[label] for d, label in zip(lex, labels, strict=True)])
    lex_oos_answered = np.array([d is not None for d in lex_oos])
    full = _utility(tops == labels, blend_answer, p_oos >= blend.answer_at)
    best = (101.0, 0.0, 0.0)
    for score in range(30, 101, 5):
        for length in (2, 4, 6, 8, 12, 16, 24):
            skip = (lex_answered & (lex_scores >= score) & (lengths <= length)) | (
                lengths < MIN_SEMANTIC_LENGTH
            )
            skip_oos = (lex_oos_answered & (lex_oos_scores >= score) & (lengths_oos <= length)) | (
                lengths_oos < MIN_SEMANTIC_LENGTH
            )
            answered = np.where(skip, lex_answered, blend_answer)
            right = np.where(skip, lex_right, blend_right)
            oos_answered = np.where(skip_oos, lex_oos_answered, p_oos >= blend.answer_at)
            utility = _utility(right, answered, oos_answered)
            share = float(skip.mean())
            if utility >= full - 0.005 and share > best[2]:
                best = (float(score), float(length), share)
    return best


def write(blend: BlendSettings, report: dict[str, float], path: Path) -> None:
    """Replace the fitted block inside the `matching:` section of content/matching.yaml."""
    text = path.read_text(encoding="utf-8")
    names = [f for f in BlendSettings.__dataclass_fields__]
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    block = [
        f"{BEGIN} on {when}: 3-fold cross-validation over {report['examples']} intents/",
        f"  # examples and {report['out_of_scope']} questions of tests/data/dev_out_of_scope.yaml.",
        "  # Cross-validated:",
        f"  # top-1 ranking {report['ranking_top1']:.1%}, answered right "
        f"{report['answered_right']:.1%}, wrong {report['answered_wrong']:.1%}, "
        f"out-of-scope fallback {report['oos_fallback']:.1%}.",
        "  # Do not edit by hand: re-run it after changing examples.",
        *(f"  {name}: {round(getattr(blend, name), 4)}" for name in names),
        f"  {END}",
    ]
    if _FITTED.search(text):
        text = _FITTED.sub(lambda _: "  " + "\n".join(block).lstrip() + "\n", text)
    else:
        text = text.replace("matching:\n", "matching:\n  " + "\n".join(block).lstrip() + "\n", 1)
    path.write_text(text, encoding="utf-8")


def _content_without_fit(settings: Settings) -> Content:
    """The content with the previous fit taken out (it may name settings that no longer
    exist, and it must not influence its successor)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "content"
        shutil.copytree(settings.content_dir, copy)
        matching = copy / "matching.yaml"
        matching.write_text(_FITTED.sub("", matching.read_text("utf-8")), encoding="utf-8")
        return load_content(settings.intents_dir, copy, CONTACT_VARIABLES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fit_matching", description=__doc__)
    parser.add_argument("--write", action="store_true", help="write content/matching.yaml")
    parser.add_argument(
        "--data", type=Path, default=DATA, help="folder with dev_out_of_scope.yaml, heldout.yaml"
    )
    args = parser.parse_args(argv)
    import os

    settings = Settings.from_env(os.environ)
    encoder = load_encoder(settings.semantic)
    if encoder is None:
        print("fit_matching needs the semantic model (ANTIFRAUD_SEMANTIC)", file=sys.stderr)
        return 2
    content = _content_without_fit(settings)
    vectors = CachedExampleVectors(encoder, settings.cache_dir)
    responder = Responder(content, encoder=encoder, encode_examples=vectors)
    blend, report = fit(responder, args.data)
    for name, value in report.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    for name in BlendSettings.__dataclass_fields__:
        print(f"  {name}: {round(getattr(blend, name), 4)}")
    if args.write:
        write(blend, report, settings.content_dir / "matching.yaml")
        print(f"wrote {settings.content_dir / 'matching.yaml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
