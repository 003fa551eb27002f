"""How matching and loading cost grow with the content: the real content, then synthetic
content with 10x and 100x the examples (copies of every intent, each example with one
character changed, so no two are identical).

Run alone: `python -m bench.bench_scaling`.
"""

from __future__ import annotations

import multiprocessing
import random
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from bench.bench_matching import questions
from bench.harness import forget_recent, time_each
from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.core.responder import Responder

FILLER = "的一是在有人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"


def _mutate(text: str, rng: random.Random) -> str:
    if not text:
        return text
    at = rng.randrange(len(text))
    return text[:at] + rng.choice(FILLER) + text[at + 1 :]


def _letters(number: int) -> str:
    """1 -> a, 26 -> z, 27 -> ba: intent ids allow letters only."""
    text = ""
    while number:
        number, digit = divmod(number, 26)
        text = "abcdefghijklmnopqrstuvwxyz"[digit] + text
    return text or "a"


def _synthetic_content(source: Path, target: Path, copies: int) -> None:
    """intents/ and content/ with `copies` extra copies of every intent and its reply."""
    shutil.copytree(source / "content", target / "content")
    (target / "intents").mkdir()
    rng = random.Random(copies)
    replies: dict[str, dict] = {}
    fraud = yaml.safe_load((source / "content" / "fraud.yaml").read_text("utf-8"))["replies"]
    for path in sorted((source / "intents").glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        if "intents" not in data:  # the near misses to decline: as they are
            shutil.copy(path, target / "intents" / path.name)
            continue
        intents = list(data["intents"])
        for copy in range(1, copies + 1):
            for intent in data["intents"]:
                topic, name = intent["id"].split(".")
                clone_id = f"{topic}.{name}_copy{_letters(copy)}"
                intents.append(
                    {
                        "id": clone_id,
                        "examples": {
                            lang: [_mutate(t, rng) for t in texts]
                            for lang, texts in intent["examples"].items()
                        },
                    }
                )
                replies[clone_id] = {
                    "title": {"zh": f"副本{copy}", "en": f"copy {copy}"},
                    "text": fraud["fraud.tips"]["text"],
                }
        (target / "intents" / path.name).write_text(
            yaml.safe_dump({"version": 1, "intents": intents}, allow_unicode=True), "utf-8"
        )
    (target / "content" / "synthetic.yaml").write_text(
        yaml.safe_dump({"version": 1, "replies": replies}, allow_unicode=True), "utf-8"
    )


def _resident_mib() -> float:
    """The process's resident memory now (Linux /proc), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _measure(root: Path) -> tuple[int, int, float, float, float, float]:
    start = time.perf_counter()
    content = load_content(root / "intents", root / "content", CONTACT_VARIABLES)
    parsed = time.perf_counter() - start
    before = _resident_mib()
    start = time.perf_counter()
    responder = Responder(content)
    built = time.perf_counter() - start
    memory = _resident_mib() - before

    def match(text: object) -> object:
        forget_recent()
        return responder.match(str(text))

    timing = time_each(match, questions()[:150], rounds=2)
    examples = sum(len(t) for i in content.intents.values() for t in i.examples.values())
    return len(content.intents), examples, parsed, built, memory, timing.median * 1e3


def _measure_size(copies: int) -> tuple[int, int, float, float, float, float]:
    """One content size, measured in a fresh process so its memory is its own."""
    source = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if copies:
            _synthetic_content(source, root, copies)
        else:
            settings = Settings.from_env({})
            shutil.copytree(settings.intents_dir, root / "intents")
            shutil.copytree(settings.content_dir, root / "content")
        return _measure(root)


def run() -> str:
    rows = []
    base = None
    context = multiprocessing.get_context("spawn")
    for label, copies in (("real content", 0), ("10x", 9), ("100x", 99)):
        with context.Pool(1) as pool:
            intents, examples, parsed, built, memory, match_ms = pool.apply(
                _measure_size, (copies,)
            )
        base = base or (examples, match_ms, parsed + built)
        rows.append(
            f"| {label} | {intents:,} | {examples:,} | {parsed:.2f} | {built:.2f} | "
            f"{memory:.1f} | {match_ms:.2f} | {match_ms / base[1]:.1f}x |"
        )
    return "\n".join(
        [
            "## Scaling with the amount of content",
            "",
            "Load = parse and validate the YAML; build = normalise every example and build the "
            "index (memory: growth of a fresh process's resident memory while building, "
            "pypinyin's and OpenCC's dictionaries included). The "
            "leave-one-out example "
            "check that `validate` runs is left out here: it grows with the square of the "
            "examples. Matching: 150 held-out questions, 2 rounds, caches cleared.",
            "",
            "| content | intents | examples | load s | build s | index MiB (RSS) | match median ms "
            "| vs real |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "A message costs a fixed part (normalising and reading the question, keyword look-up) "
            "plus a part linear in the number of examples (one numpy and rapidfuzz pass over "
            "them), so per-message cost grows more slowly than the content (last column). "
            "Loading, building and index memory grow linearly with the examples.",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
