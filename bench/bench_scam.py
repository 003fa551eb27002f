"""The scam checker: recall and false alarms per type on tests/data/scam_eval.yaml, on the
third-party development set in ../shared/data/scam_dev/ when it is there (per language and
per source, with 95% Wilson intervals), and speed.

Run alone: `python -m bench.bench_scam`. The development texts are read at run time only;
none of them is copied into the repository.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from pathlib import Path

import yaml

from bench.harness import forget_recent, time_each
from bot.config import Settings
from bot.core.responder import Responder
from bot.startup import load_responder

EVAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "scam_eval.yaml"
MAX = 4096  # Telegram's longest text message
DEV = Path(
    os.environ.get("SCAM_DEV_DIR", Path(__file__).resolve().parents[2] / "shared/data/scam_dev")
)
DEV_FILES = ("scams_zh", "scams_en", "benign_zh", "benign_en", "spam_en")
# The development set's scam labels, as the bot's scam types (README of the set).
DEV_TYPES = {
    "impersonate_authority": "fraud.police_impersonation",
    "fake_loan": "fraud.loan",
    "fake_customer_service": "fraud.customer_service",
    "impersonate_acquaintance": "fraud.acquaintance",
}


def wilson(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if total == 0:
        return 0.0, 0.0
    share = hits / total
    centre = share + z * z / (2 * total)
    spread = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    scale = 1 + z * z / total
    return (centre - spread) / scale, (centre + spread) / scale


def _share(hits: int, total: int) -> str:
    low, high = wilson(hits, total)
    return f"{hits / max(1, total):.1%} ({low:.1%}–{high:.1%})"


def _source_name(row: dict) -> str:
    source = str(row.get("source", "?"))
    return source.split("/")[1] if source.count("/") >= 1 else source


def dev_rows(responder: Responder, folder: Path = DEV) -> list[str]:
    """One table row per file and per source in it: flagged, high, type named right."""
    rows = []
    for name in DEV_FILES:
        path = folder / f"{name}.jsonl"
        if not path.exists():
            continue
        groups: dict[str, list[tuple[dict, object]]] = defaultdict(list)
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                result = responder.checker.check(str(row.get("text", "")))
                groups["all"].append((row, result))
                groups[_source_name(row)].append((row, result))
        if len(groups) == 2:  # one source: its row says the same as "all"
            groups = {"all": groups["all"]}
        for source, results in groups.items():
            total = len(results)
            flagged = sum(r.risk != "low" for _, r in results)
            high = sum(r.risk == "high" for _, r in results)
            typed = [
                (row, r) for row, r in results if r.risk != "low" and row.get("label") in DEV_TYPES
            ]
            right = sum(r.type == DEV_TYPES[row["label"]] for row, r in typed)
            type_text = _share(right, len(typed)) if typed else "—"
            rows.append(
                f"| {name} | {source} | {total} | {_share(flagged, total)} | "
                f"{_share(high, total)} | {type_text} |"
            )
    return rows


def dev_section(responder: Responder) -> list[str]:
    if not DEV.is_dir():
        return [f"Development set not found at {DEV}: skipped.", ""]
    return [
        f"Third-party development set ({DEV.name}/, read at run time, never copied; its "
        "README gives sources and licences). Flagged = rated high or medium; for scams that is "
        "recall, for the others false alarms. 95% Wilson intervals in brackets. The weights "
        "are fitted on the project's own messages only (`python -m bench.fit_scam`).",
        "",
        "| file | source | messages | flagged | high | type named right (of caught, labelled) |",
        "|---|---|---|---|---|---|",
        *dev_rows(responder),
        "",
    ]


def _long_messages() -> list[str]:
    """4,096-character messages: scam texts, ordinary texts, and both mixed, repeated."""
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    scams = [m for g in data["scams"].values() for m in g["messages"]]
    ordinary = [m for g in data["ordinary"].values() for m in g["messages"]]
    texts = []
    for start in range(0, 40, 4):
        for pool in (scams, ordinary, scams[start::7] + ordinary[start::7]):
            text = "\n".join(pool[start:] + pool[:start])
            texts.append((text * (MAX // max(1, len(text)) + 1))[:MAX])
    # Shapes that make careless patterns backtrack: one long word, a long link, dotted runs.
    for unit in ("a", "1", "a.", "a-", "a1", "http://" + "a" * 40, "www.", "1 1-"):
        texts.append((unit * (MAX // len(unit) + 1))[:MAX])
    return texts


def _check_uncached(responder: Responder, text: str) -> object:
    forget_recent()
    return responder.checker.check(text)


def run() -> str:
    responder = load_responder(Settings.from_env({}))
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    rows = []
    caught = total = 0
    for scam_type, group in data["scams"].items():
        results = [responder.checker.check(m) for m in group["messages"]]
        hit = sum(r.risk in ("high", "medium") for r in results)
        high = sum(r.risk == "high" for r in results)
        named = sum(r.type == scam_type for r in results if r.risk != "low")
        caught, total = caught + hit, total + len(results)
        named_text = f"{named}/{hit}" if scam_type.startswith("fraud.") else "—"
        rows.append(
            f"| scam: {scam_type} | {len(results)} | {hit / len(results):.1%} | "
            f"{high / len(results):.1%} | {named_text} |"
        )
    alarms = total_ordinary = 0
    for kind, group in data["ordinary"].items():
        results = [responder.checker.check(m) for m in group["messages"]]
        high = sum(r.risk == "high" for r in results)
        medium = sum(r.risk == "medium" for r in results)
        alarms, total_ordinary = alarms + high, total_ordinary + len(results)
        rows.append(
            f"| ordinary: {kind} | {len(results)} | {medium / len(results):.1%} "
            f"(medium) | {high / len(results):.1%} (false alarm) | — |"
        )
    timing = time_each(
        lambda t: _check_uncached(responder, str(t)), list(_long_messages()), rounds=3
    )
    return "\n".join(
        [
            "## Scam checker",
            "",
            f"tests/data/scam_eval.yaml: {total} scam and {total_ordinary} ordinary messages. "
            f"Recall (high or medium) **{caught / total:.1%}**; false alarms (high) on ordinary "
            f"messages **{alarms / total_ordinary:.1%}**. The weights are fitted on this set, so "
            "these figures are optimistic for new messages; see the development set below "
            "and docs/scam-checker.md.",
            "",
            "| group | messages | flagged (high or medium) | high | type named right |",
            "|---|---|---|---|---|",
            *rows,
            "",
            *dev_section(responder),
            f"Checking a {MAX:,}-character message ({len(_long_messages())} different ones, "
            "3 rounds, caches cleared before each):",
            "",
            "| what | median | p95 | p99 | max |",
            "|---|---|---|---|---|",
            f"| check one 4,096-character message (ms) | {timing.row()} |",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
