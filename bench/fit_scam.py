"""Fit the scam checker's weights on the project's own labelled messages.

Run: `python -m bench.fit_scam` (rewrites content/scam_weights.yaml; `--check` only reports).

Data: tests/data/scam_eval.yaml, written for this project: every `scams` message is a scam
(1), every `ordinary` message is not (0), marketing spam and residents' warnings included.
Never the third-party development set: that one is only for checking (bench/bench_scam.py).

Model: logistic regression over what the checker finds (each flag, each family of flags,
families seen together), L2-regularised, fitted by Newton's method in numpy. The strength
of the regularisation is chosen by 5-fold cross-validation (log loss); the thresholds from
the out-of-fold probabilities keep the ratings' meaning:
  high   = stop: ordinary messages rated high <= HIGH_FALSE (and marketing spam too);
  medium = verify first: ordinary messages flagged <= MEDIUM_FALSE, catching the most scams.
At run time the checker only adds the weights (bot/core/scam_check.py; no numpy there).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
import yaml

from bot.config import Settings
from bot.core.scam_check import ScamChecker
from bot.startup import load_responder

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "scam_eval.yaml"
OUT = ROOT / "content" / "scam_weights.yaml"
PENALTIES = (0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5
HIGH_FALSE = 0.01
MEDIUM_FALSE = 0.04


def labelled() -> tuple[list[str], list[int], list[str]]:
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    texts, labels, groups = [], [], []
    for label, section in ((1, "scams"), (0, "ordinary")):
        for name, group in data[section].items():
            texts += group["messages"]
            labels += [label] * len(group["messages"])
            groups += [name] * len(group["messages"])
    return texts, labels, groups


def feature_sets(checker: ScamChecker, texts: list[str]) -> list[set[str]]:
    """What the model reads of each message: the checker's flags, families and combinations."""
    return [checker.features(checker.flag_ids(text)) for text in texts]


def fit(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """Weights (bias first) of an L2 logistic regression, by Newton's method."""
    weights = np.zeros(x.shape[1])
    ridge = penalty * np.eye(x.shape[1])
    ridge[0, 0] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ weights)))
        gradient = x.T @ (p - y) + ridge @ weights
        hessian = (x.T * (p * (1 - p))) @ x + ridge + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights


def out_of_fold(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    order = list(range(len(y)))
    random.Random(15).shuffle(order)
    probabilities = np.zeros(len(y))
    for fold_no in range(FOLDS):
        test = np.array([i for k, i in enumerate(order) if k % FOLDS == fold_no])
        train = np.array([i for k, i in enumerate(order) if k % FOLDS != fold_no])
        weights = fit(x[train], y[train], penalty)
        probabilities[test] = 1 / (1 + np.exp(-(x[test] @ weights)))
    return probabilities


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def threshold(p: np.ndarray, y: np.ndarray, flagged: np.ndarray, most_false: float) -> float:
    """The lowest threshold (catching most scams) at which ordinary messages that the checker
    flags at all stay within the false-alarm share."""
    ordinary = np.sort(p[(y == 0) & flagged])[::-1]
    allowed = int(most_false * int((y == 0).sum()))
    above = ordinary[allowed] if allowed < len(ordinary) else 0.0
    return round(float(min(0.99, max(0.05, above + 1e-3))), 3)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only; write nothing")
    args = parser.parse_args(argv)
    checker = load_responder(Settings.from_env({})).checker
    texts, labels, _ = labelled()
    sets = feature_sets(checker, texts)
    names = sorted(set().union(*sets))
    x = np.array([[1.0] + [float(n in s) for n in names] for s in sets])
    y = np.array(labels, dtype=float)
    flagged = np.array([bool(s) for s in sets])
    scores = {pen: log_loss(out_of_fold(x, y, pen), y) for pen in PENALTIES}
    penalty = min(scores, key=lambda pen: scores[pen])
    oof = np.where(flagged, out_of_fold(x, y, penalty), 0.0)
    high = threshold(oof, y, flagged, HIGH_FALSE)
    medium = min(high, threshold(oof, y, flagged, MEDIUM_FALSE))
    weights = fit(x, y, penalty)
    recall = float(((oof >= medium) & (y == 1)).sum() / (y == 1).sum())
    false_flag = float(((oof >= medium) & (y == 0)).sum() / (y == 0).sum())
    report = (
        f"{len(y)} messages ({int(y.sum())} scams), {len(names)} features; penalty {penalty} "
        f"(5-fold log loss {scores[penalty]:.3f}); thresholds high {high}, medium {medium}; "
        f"out-of-fold recall {recall:.1%}, ordinary flagged {false_flag:.1%}"
    )
    if not args.check:
        lines = [
            "# The scam checker's fitted weights. GENERATED: do not edit by hand.",
            "# Re-fit with `python -m bench.fit_scam` after changing content/red_flags.yaml,",
            "# content/anatomy.yaml or tests/data/scam_eval.yaml (see docs/scam-checker.md).",
            f"# {report}",
            "version: 1",
            "risk:",
            f"  high: {high}",
            f"  medium: {medium}",
            "scam_weights:",
            f"  bias: {weights[0]:.4f}",
            *(f'  "{n}": {w:.4f}' for n, w in zip(names, weights[1:], strict=True)),
        ]
        OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(report)
    return report


if __name__ == "__main__":
    main()
