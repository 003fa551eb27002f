"""The matcher's settings and per-language rewrites (content/matching.yaml)."""

from __future__ import annotations

from typing import Any

from bot.content.model import LANGUAGES
from bot.content.reader import SchemaReader

# The lexical stage's thresholds (bot.core.matcher.MatchSettings), then the fitted decision
# that combines it with the semantic stage (bot.core.decision.BlendSettings).
MATCHING_SETTINGS = {"threshold", "margin", "suggest_floor", "clear_lead", "clear_ratio"} | {
    "semantic_weight",
    "semantic_floor",
    "semantic_c",
    "answer_at",
    "suggest_at",
    "skip_model_score",
    "skip_model_length",
    "bias",
    "w_combined",
    "w_lead",
    "w_semantic",
    "w_semantic_lead",
    "w_agree",
    "w_decline_gap",
    "w_latin",
}


def read_setting(reader: SchemaReader, key: str, value: Any, line: int) -> float | None:
    if key not in MATCHING_SETTINGS:
        reader.error(line, f"unknown matching setting {key!r}")
    elif not reader.number(value):
        reader.error(line, f"matching.{key} must be a number")
    else:
        return float(value)
    return None


def read_rewrites(reader: SchemaReader, key: str, value: Any, line: int) -> dict[str, str] | None:
    if key not in LANGUAGES:
        reader.error(line, f"rewrites are per language ({', '.join(LANGUAGES)}), not {key!r}")
        return None
    mapping = reader.mapping(value, line, f"rewrites.{key}")
    if mapping is None:
        return None
    return {str(k): reader.text(mapping, k, f"rewrites.{key}") for k in mapping}
