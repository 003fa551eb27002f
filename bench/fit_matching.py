"""Fit the combined matcher's decision on the project's own data, and write it to
content/matching.yaml.

    python -m bench.fit_matching           # fit and print what it would write
    python -m bench.fit_matching --write   # ... and write it

Data, all the project's own (nothing from ../shared/data, which only checks the result with
python -m bench.bench_accuracy):
- every example in intents/, matched against both indexes built without its fold (3-fold
  cross-validation; an intent's examples sharing half their wording fall in one fold);
- the paraphrases of tests/data/heldout.yaml and tests/data/tuning_register.yaml (residents'
  register: long stories, typos, pinyin), matched against the full indexes;
- out of scope: tests/data/dev_out_of_scope.yaml and heldout.yaml's out-of-scope questions,
  and the near misses of intents/declines.yaml, cross-validated like the examples.

What is fitted, in order:
1. the classifier's penalty (`semantic_c`), and the semantic weight and floor, that rank the
   right intent first most often (each in-scope group weighing the same); the classifier is
   trained again without each fold, so no sample is judged by a classifier that saw it;
2. a logistic regression (numpy, Newton steps, light L2 on standardised features) over the
   candidate's features (bot.core.decision.FEATURES) for "the candidate is right"; in scope
   and out of scope weigh the same in total;
3. `answer_at`: the lowest probability that leaves OUT_OF_SCOPE_FALLBACK of each
   out-of-scope group without an answer; `suggest_at`: at most SUGGEST_SHARE of them get a
   "did you mean";
4. the cascade: the widest "lexical answer, short message" rule that skips the model while
   losing at most half a point of (right - wrong + fallbacks - answers out of scope).
Run it again after adding examples; `make test` then checks the content with the new figures.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.content.model import Content
from bot.core.decision import (
    FEATURES,
    BlendSettings,
    Evidence,
    Matcher,
    combine,
    text_length,
    too_short_for_model,
)
from bot.core.matcher import PINYIN, IntentIndex
from bot.core.normalize import has_han, latin_words, normalize_text
from bot.core.responder import Responder
from bot.core.semantic import SemanticIndex
from bot.models.cache import CachedExampleVectors, CachedHeads
from bot.models.loader import load_encoder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
OUT_OF_SCOPE, PARAPHRASES, REGISTER = (
    "dev_out_of_scope.yaml",
    "heldout.yaml",
    "tuning_register.yaml",
)
FOLDS = 3
PENALTIES = (4.0, 16.0, 64.0)  # the classifier's C: smoother ... closer to the examples
FLOORS = (0.0, 0.05, 0.1, 0.2)  # probabilities at or below this say nothing
OUT_OF_SCOPE_FALLBACK = 0.9  # share of out-of-scope questions that must get no answer
SUGGEST_SHARE = 0.1  # at most this share of them may get a "did you mean"
WORDING_OVERLAP = 0.5  # examples sharing this much of their wording are held out together
BEGIN, END = "# -- fitted by python -m bench.fit_matching", "# -- end of fitted settings"
_FITTED = re.compile(rf"  {re.escape(BEGIN)}.*?{re.escape(END)}\n?", re.S)


@dataclass(frozen=True)
class Sample:
    """One question the fit learns from: its lexical scores (aligned with the intents), its
    vector and the semantic rows left out for it, and its label (-1: out of scope)."""

    lexical: np.ndarray
    vector: np.ndarray
    exclude: np.ndarray | None
    length: int
    label: int
    latin: bool  # written without Chinese characters
    pinyin: bool  # Chinese in Latin letters: the model's reading is left out (Matcher)


def _folds(n: int, folds: int = FOLDS) -> np.ndarray:
    fold_of = np.arange(n) % folds
    np.random.default_rng(7).shuffle(fold_of)
    return fold_of


def _units(text: str) -> set[str]:
    """Character pairs of the Han text and the Latin words: what two wordings share."""
    normalized = normalize_text(text)
    han = "".join(c for c in normalized if has_han(c))
    return {han[n : n + 2] for n in range(len(han) - 1)} | set(latin_words(normalized))


def _wording_folds(keys: list[tuple[str, str, int]], texts: list[str], folds: int) -> np.ndarray:
    """Folds that keep an intent's examples sharing much of their wording together
    (WORDING_OVERLAP of their character pairs or words, transitively), so that a held-out
    example never has a near twin left in the index.

    Residents do not write like the project's examples: judged by plain random folds, the
    lexical stage looks better than it is on new words, and the fit leans on it too much."""
    parent = list(range(len(keys)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    units = [_units(t) for t in texts]
    by_intent: dict[tuple[str, str], list[int]] = {}
    for n, (intent_id, lang, _) in enumerate(keys):
        by_intent.setdefault((intent_id, lang), []).append(n)
    for rows in by_intent.values():
        for a_pos, a in enumerate(rows):
            for b in rows[a_pos + 1 :]:
                shared = len(units[a] & units[b])
                if shared and shared >= WORDING_OVERLAP * min(len(units[a]), len(units[b])):
                    parent[root(a)] = root(b)
    groups = sorted({root(n) for n in range(len(keys))})
    group_fold = dict(zip(groups, _folds(len(groups), folds), strict=True))
    return np.array([group_fold[root(n)] for n in range(len(keys))])


def _example_samples(responder: Responder, folds: int = FOLDS) -> list[Sample]:
    """K-fold samples of every example: each fold's examples matched against both indexes
    built without that fold.

    Not leave-one-out: an intent's examples paraphrase each other, so with one left out its
    near twin is still there and the lexical stage looks better than it is on new words."""
    matcher = responder.matcher
    index, semantic, content = matcher.lexical, matcher.semantic, responder.content
    if semantic is None:
        raise ValueError("fitting needs the semantic stage")
    position = {intent_id: n for n, intent_id in enumerate(index.intent_ids)}
    keys = list(index.example_rows)
    texts = [content.intents[i].examples[lang][n] for i, lang, n in keys]
    fold_of = _wording_folds(keys, texts, folds)
    samples: list[Sample | None] = [None] * len(keys)
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
            samples[n] = Sample(
                scores,
                semantic.vectors[n],
                excluded,
                text_length(text),
                position[intent_id],
                not has_han(text),
                _pinyin(matcher, text),
            )
    return [s for s in samples if s is not None]


def _decline_samples(responder: Responder, folds: int = FOLDS) -> list[Sample]:
    """K-fold samples of the declined near misses (intents/ `declines:`): each fold's
    examples compared with the others only."""
    matcher = responder.matcher
    semantic = matcher.semantic
    if semantic is None:
        raise ValueError("fitting needs the semantic stage")
    rows = np.flatnonzero(semantic.owners == semantic.n_intents)
    texts = [
        e for d in responder.content.declines.values() for ex in d.examples.values() for e in ex
    ]
    fold_of = _folds(len(rows), folds)
    samples = []
    for n, (row, text) in enumerate(zip(rows, texts, strict=True)):
        excluded = rows[fold_of == fold_of[n]]
        samples.append(
            Sample(
                _lexical(matcher, text),
                semantic.vectors[row],
                excluded,
                text_length(text),
                -1,
                not has_han(text),
                _pinyin(matcher, text),
            )
        )
    return samples


def _pinyin(matcher: Matcher, text: str) -> bool:
    return matcher.lexical.read(text).kind == PINYIN


def _lexical(matcher: Matcher, text: str) -> np.ndarray:
    ranked = dict(matcher.lexical.scores(text))
    return np.array([ranked[i] for i in matcher.lexical.intent_ids])


def _question_samples(responder: Responder, texts: list[str], labels: list[int]) -> list[Sample]:
    """Questions written apart from the examples, matched against the full indexes."""
    matcher = responder.matcher
    semantic = matcher.semantic
    if semantic is None:
        raise ValueError("fitting needs the semantic stage")
    return [
        Sample(
            _lexical(matcher, t),
            semantic.vector(t.strip()),
            None,
            text_length(t),
            label,
            not has_han(t),
            _pinyin(matcher, t),
        )
        for t, label in zip(texts, labels, strict=True)
    ]


def _evidence(semantic: SemanticIndex, samples: list[Sample], c: float) -> list[Evidence]:
    """Each sample's evidence, its probabilities from a classifier trained without the rows
    left out for it (one training per fold, not per sample)."""
    by_fold: dict[bytes, list[int]] = {}
    for n, s in enumerate(samples):
        key = b"" if s.exclude is None else np.asarray(s.exclude, np.int64).tobytes()
        by_fold.setdefault(key, []).append(n)
    evidence: list[Evidence | None] = [None] * len(samples)
    for members in by_fold.values():
        exclude = samples[members[0]].exclude
        head = semantic.head_without(np.zeros(0, np.int64) if exclude is None else exclude, c)
        for n in members:
            s = samples[n]
            seen = semantic.unread() if s.pinyin else semantic.reading(s.vector, head)
            evidence[n] = Evidence(s.lexical, seen.intents, s.length, seen.declined, s.latin)
    return [e for e in evidence if e is not None]


def _rows(samples: list[Evidence], blend: BlendSettings) -> tuple[np.ndarray, np.ndarray]:
    tops, rows = [], []
    for evidence in samples:
        combined, row = combine(evidence, blend)
        tops.append(int(np.argmax(combined)))
        rows.append(row)
    return np.array(tops), np.array(rows)


def _labels(samples: list[Sample]) -> np.ndarray:
    return np.array([s.label for s in samples])


def _fit_ranking(
    semantic: SemanticIndex, groups: list[list[Sample]]
) -> tuple[float, BlendSettings]:
    """The classifier's penalty and the semantic weight and floor that rank the right intent
    first most often, each group (the examples, each set of questions) weighing the same."""
    best: tuple[float, BlendSettings] = (-1.0, BlendSettings())
    for c in PENALTIES:
        evidence = [_evidence(semantic, g, c) for g in groups]
        for floor in FLOORS:
            for weight in np.linspace(0, 1, 21):
                blend = BlendSettings(
                    semantic_weight=float(weight), semantic_floor=floor, semantic_c=c
                )
                accuracy = float(
                    np.mean(
                        [
                            (_rows(e, blend)[0] == _labels(g)).mean()
                            for e, g in zip(evidence, groups, strict=True)
                        ]
                    )
                )
                if accuracy > best[0] + 1e-9:
                    best = (accuracy, blend)
    return best


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 0.1) -> np.ndarray:
    """Weighted L2 logistic regression by Newton steps; returns [bias, weights...] for the
    raw features. The features are standardised for the fit: their scales differ a
    hundredfold (a probability lead of 0.02 against a score of 0.6), and the same penalty on raw
    weights would silence the small-scale ones however much they say."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    theta = _newton((x - mean) / scale, y, w, l2)
    weights = theta[1:] / scale
    return np.concatenate([[theta[0] - float(mean @ weights)], weights])


def _newton(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> np.ndarray:
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


def _paraphrases(folder: Path, name: str, ids: list[str]) -> tuple[list[str], list[int]]:
    """A file of paraphrases in the project's own words, written apart from the examples:
    tests/data/heldout.yaml, and tuning_register.yaml in residents' register (the blind sets
    are never read here)."""
    data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    pairs = [(i, t) for i, texts in data["paraphrases"].items() for t in texts]
    return [t for _, t in pairs], [ids.index(i) for i, _ in pairs]


def _out_of_scope(folder: Path) -> list[str]:
    """dev_out_of_scope.yaml's questions and heldout.yaml's out-of-scope ones."""
    return [
        *yaml.safe_load((folder / OUT_OF_SCOPE).read_text(encoding="utf-8"))["out_of_scope"],
        *yaml.safe_load((folder / PARAPHRASES).read_text(encoding="utf-8"))["out_of_scope"],
    ]


def _weights(*groups: list, total: float = 1.0) -> np.ndarray:
    """Each group weighs `total` in all, however many samples it has."""
    return np.concatenate([np.full(len(g), total / max(1, len(g))) for g in groups])


def fit(responder: Responder, folder: Path = DATA) -> tuple[BlendSettings, dict[str, float]]:
    semantic = responder.matcher.semantic
    if semantic is None:
        raise ValueError("fitting needs the semantic stage")
    ids = responder.index.intent_ids
    examples = _example_samples(responder)
    paraphrases = _question_samples(responder, *_paraphrases(folder, PARAPHRASES, ids))
    register = _question_samples(responder, *_paraphrases(folder, REGISTER, ids))
    oos_texts = _out_of_scope(folder)
    out_of_scope = _question_samples(responder, oos_texts, [-1] * len(oos_texts))
    declines = _decline_samples(responder)
    accuracy, blend = _fit_ranking(semantic, [examples, paraphrases, register])
    groups = [examples, paraphrases, register, out_of_scope, declines]
    evidence = [_evidence(semantic, g, blend.semantic_c) for g in groups]
    tops_rows = [_rows(e, blend) for e in evidence]
    right = [tops == _labels(g) for (tops, _), g in zip(tops_rows, groups, strict=True)]
    x = np.vstack([rows for _, rows in tops_rows])
    y = np.concatenate([*right[:3], np.zeros(len(out_of_scope) + len(declines))])
    # In scope and out of scope weigh the same; within each, every source the same.
    in_scope = _weights(examples, paraphrases, register, total=1 / 3)
    theta = _logistic(
        x, y.astype(float), np.concatenate([in_scope, _weights(*groups[3:], total=0.5)])
    )
    blend = replace(
        blend,
        bias=float(theta[0]),
        **{f"w_{name}": float(value) for name, value in zip(FEATURES, theta[1:], strict=True)},
    )
    p = [1 / (1 + np.exp(-(blend.bias + rows @ blend.weights))) for _, rows in tops_rows]
    # One floor per language (the model reads messages without Chinese characters less well),
    # folded into the weight of `latin` so that one answer_at holds for both.
    latin = [np.array([s.latin for s in g], dtype=bool) for g in groups]
    answer_at = _answer_at(p, [~is_latin for is_latin in latin])
    latin_at = _answer_at(p, latin)
    blend = replace(blend, w_latin=blend.w_latin + _logit(answer_at) - _logit(latin_at))
    p = [1 / (1 + np.exp(-(blend.bias + rows @ blend.weights))) for _, rows in tops_rows]
    p_oos = np.concatenate([p[3], p[4]])
    suggest_at = float(min(answer_at, max(0.05, np.quantile(p_oos, 1 - SUGGEST_SHARE))))
    blend = replace(blend, answer_at=answer_at, suggest_at=round(suggest_at, 3))
    ex_evidence = evidence[0]
    oos_evidence = evidence[3] + evidence[4]
    skip = _fit_cascade(responder, ex_evidence, _labels(examples), oos_evidence, blend, p[0], p_oos)
    blend = replace(blend, skip_model_score=skip[0], skip_model_length=skip[1])
    report = {
        "examples": len(examples),
        "paraphrases": len(paraphrases),
        "register": len(register),
        "out_of_scope": len(out_of_scope),
        "declines": len(declines),
        "ranking_top1": accuracy,
        "answered_right": float((right[0] & (p[0] >= answer_at)).mean()),
        "answered_wrong": float((~right[0] & (p[0] >= answer_at)).mean()),
        "paraphrases_right": float((right[1] & (p[1] >= answer_at)).mean()),
        "register_right": float((right[2] & (p[2] >= answer_at)).mean()),
        "oos_fallback": float((p[3] < answer_at).mean()),
        "declines_fallback": float((p[4] < answer_at).mean()),
        "skipped_model": skip[2],
    }
    return blend, report


def _answer_at(p: list[np.ndarray], in_lang: list[np.ndarray]) -> float:
    """The lowest probability to answer at that leaves OUT_OF_SCOPE_FALLBACK of each
    out-of-scope group (the questions, and the declined near misses cross-validated) without
    an answer; `in_lang` selects one language's samples of each group.

    Why a floor on the out-of-scope side rather than one utility over everything: the
    project's out-of-scope questions look like real ones to the model (their cosines have
    the same median), but its in-scope examples and paraphrases are much closer to each
    other than residents' questions are to them, so a utility over them says answering
    gains less than it does on real questions, and chooses a threshold far too cautious."""
    grid = np.round(np.arange(0.02, 0.96, 0.01), 2)
    for threshold in grid:
        fallback = min(
            float((group[chosen] < threshold).mean())
            for group, chosen in zip(p[3:], in_lang[3:], strict=True)
            if chosen.any()
        )
        if fallback >= OUT_OF_SCOPE_FALLBACK:
            return float(threshold)
    return float(grid[-1])


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


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
    too_short = np.array([too_short_for_model(e.length, e.latin) for e in examples])
    too_short_oos = np.array([too_short_for_model(e.length, e.latin) for e in out_of_scope])
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
            skip = (lex_answered & (lex_scores >= score) & (lengths <= length)) | too_short
            skip_oos = (
                lex_oos_answered & (lex_oos_scores >= score) & (lengths_oos <= length)
            ) | too_short_oos
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
        f"  # examples and {report['declines']} near misses to decline; "
        f"{report['paraphrases'] + report['register']} paraphrases",
        f"  # and {report['out_of_scope']} out-of-scope questions of tests/data. "
        f"Top-1 ranking {report['ranking_top1']:.1%};",
        f"  # answered right: examples {report['answered_right']:.1%} (wrong "
        f"{report['answered_wrong']:.1%}), residents' register {report['register_right']:.1%};",
        f"  # fallback: out-of-scope questions {report['oos_fallback']:.1%}, near misses "
        f"{report['declines_fallback']:.1%}.",
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
    heads = CachedHeads(encoder, settings.cache_dir)
    responder = Responder(content, encoder=encoder, encode_examples=vectors, train_head=heads)
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
