"""The scam checker's red flags, their shared word lists and the risk levels
(content/red_flags.yaml).

A flag's patterns may use `{name}` for a word list written once under `red_flag_words:`; the
lists can be defined after the flags (or in another file), so a flag is read as a draft and
compiled once every list is known (`compile_red_flags`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.content.model import Intent, Location, RedFlag
from bot.content.reader import ContentError, SchemaReader
from bot.content.yaml_lines import LineDict

RISK_LEVELS = ("high", "medium")
FLAG_WEIGHTS = ("high", "medium", "low")
FLAG_KEYS = (
    "weight",
    "family",
    "detector",
    "suggests",
    "patterns",
    "unless",
    "unless_not_with",
    "only_with",
    "explain",
)
FAMILIES = ("pretext", "ask", "pressure", "link", "number", "warning", "marketing")
# Signs found by code (bot.core.anatomy) rather than by patterns: a flag names one of these.
DETECTORS = (
    "link_userinfo",
    "link_punycode",
    "link_ip",
    "lookalike",
    "link_brand",
    "link_ddns",
    "link_shortener",
    "link_odd_tld",
    "link_plain",
    "number_premium",
    "number_personal_as_service",
    "number_foreign",
    "number_virtual",
)
RED_FLAG_WORD = re.compile(r"\{([a-z][a-z_]*)\}")  # {name}; regex counts are {2} or {0,8}

PatternTexts = tuple[tuple[str, Location], ...]  # as written, each with its file and line


@dataclass(frozen=True)
class RedFlagDraft:
    """A flag as read: everything but its patterns, which wait for the word lists."""

    flag: RedFlag  # with empty patterns and unless
    patterns: PatternTexts
    unless: PatternTexts


def read_risk(reader: SchemaReader, key: str, value: Any, line: int) -> float | None:
    if key not in RISK_LEVELS:
        reader.error(line, f"risk levels are 'high' and 'medium', not {key!r}")
    elif not reader.number(value):
        reader.error(line, f"risk.{key} must be a number of points")
    else:
        return float(value)
    return None


def read_scam_weight(reader: SchemaReader, key: str, value: Any, line: int) -> float | None:
    """A fitted weight: `bias`, a flag id, `family.<name>` or `combo.<families>`."""
    if not reader.number(value):
        reader.error(line, f"scam_weights.{key} must be a number")
        return None
    return float(value)


def read_link_brand(
    reader: SchemaReader, key: str, value: Any, line: int
) -> tuple[str, ...] | None:
    """A brand a link may name, and its official domains (`link_brands:`)."""
    domains, _ = reader.string_list(value, line, f"link_brands.{key}")
    return tuple(d.casefold() for d in domains)


def read_anatomy_list(
    reader: SchemaReader, key: str, value: Any, line: int
) -> tuple[str, ...] | None:
    """A named list the link and number anatomy reads (`anatomy_lists:`)."""
    items, _ = reader.string_list(value, line, f"anatomy_lists.{key}")
    return tuple(i.casefold() for i in items)


def read_red_flag_word(reader: SchemaReader, key: str, value: Any, line: int) -> str | None:
    """A named regex fragment (`red_flag_words:`), written once and used as {name}."""
    what = f"red_flag_words.{key}"
    if not RED_FLAG_WORD.fullmatch(f"{{{key}}}"):
        reader.error(line, f"{what}: a word list's name is lower-case letters and _")
    elif not isinstance(value, str) or not value.strip():
        reader.error(line, f"{what} must be a non-empty regular expression")
    elif RED_FLAG_WORD.search(value):
        reader.error(line, f"{what} uses another word list; write it out instead")
    else:
        try:
            re.compile(value)
        except re.error as exc:
            reader.error(line, f"{what}: bad regular expression: {exc}")
        else:
            return value.strip()
    return None


def read_red_flag(reader: SchemaReader, key: str, value: Any, line: int) -> RedFlagDraft | None:
    what = f"red_flags.{key}"
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return None
    reader.keys(mapping, FLAG_KEYS, ("weight", "family", "explain"), what)
    weight = str(mapping.get("weight", ""))
    if weight not in FLAG_WEIGHTS:
        reader.error(mapping.line_of("weight"), f"{what}.weight must be one of {FLAG_WEIGHTS}")
    family = str(mapping.get("family", ""))
    if family not in FAMILIES:
        reader.error(mapping.line_of("family"), f"{what}.family must be one of {FAMILIES}")
    detector = mapping.get("detector")
    if detector is not None and detector not in DETECTORS:
        reader.error(mapping.line_of("detector"), f"{what}.detector must be one of {DETECTORS}")
    if (detector is None) == ("patterns" not in mapping):
        reader.error(mapping.line, f"{what} needs either patterns or a detector, not both")
    suggests = mapping.get("suggests")
    flag = RedFlag(
        key,
        weight,
        str(suggests) if suggests else None,
        (),
        (),
        reader.localized(mapping, "explain", what),
        _flag_ids(reader, mapping, "unless_not_with", key),
        _flag_ids(reader, mapping, "only_with", key),
        family,
        str(detector) if detector is not None else None,
    )
    return RedFlagDraft(
        flag,
        _pattern_texts(reader, mapping, "patterns", what, required=False),
        _pattern_texts(reader, mapping, "unless", what, required=False),
    )


def _pattern_texts(
    reader: SchemaReader, mapping: LineDict, key: str, what: str, required: bool
) -> PatternTexts:
    if key not in mapping:
        if required:
            reader.error(mapping.line, f"{what} is missing {key!r}")
        return ()
    texts, lines = reader.string_list(mapping[key], mapping.line_of(key), f"{what}.{key}")
    return tuple(
        (text, Location(reader.path, line)) for text, line in zip(texts, lines, strict=True)
    )


def _flag_ids(reader: SchemaReader, mapping: LineDict, key: str, flag_id: str) -> tuple[str, ...]:
    """Other flags' ids (`unless_not_with`, `only_with`), checked once every flag is read."""
    if key not in mapping:
        return ()
    ids, _ = reader.string_list(mapping[key], mapping.line_of(key), f"red_flags.{flag_id}.{key}")
    reader.where[(f"red_flags.{key}", flag_id)] = Location(reader.path, mapping.line_of(key))
    return ids


def compile_red_flags(
    drafts: dict[str, RedFlagDraft], words: dict[str, str], errors: list[ContentError]
) -> dict[str, RedFlag]:
    """Each flag with its {word} lists written in and its patterns compiled."""
    return {
        key: replace(
            draft.flag,
            patterns=_compiled(draft.patterns, f"red_flags.{key}.patterns", words, errors),
            unless=_compiled(draft.unless, f"red_flags.{key}.unless", words, errors),
        )
        for key, draft in drafts.items()
    }


def _compiled(
    texts: PatternTexts, what: str, words: dict[str, str], errors: list[ContentError]
) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for text, where in texts:
        unknown = [m[1] for m in RED_FLAG_WORD.finditer(text) if m[1] not in words]
        if unknown:
            known = ", ".join(sorted(words)) or "none"
            message = f"{what}: unknown word list {{{unknown[0]}}} (red_flag_words: {known})"
            errors.append(ContentError(where.path, where.line, message))
            continue
        expanded = RED_FLAG_WORD.sub(lambda m: f"(?:{words[m[1]]})", text)
        try:
            compiled.append(re.compile(expanded, re.IGNORECASE))
        except re.error as exc:
            message = f"{what}: bad regular expression: {exc}"
            errors.append(ContentError(where.path, where.line, message))
    return tuple(compiled)


def check_scam_weights(
    weights: dict[str, float],
    drafts: dict[str, RedFlagDraft],
    where: dict[tuple[str, str], Location],
    error: Callable[[Location, str], None],
) -> None:
    """Every fitted weight names something the checker can find: `bias`, a flag,
    `family.<family>` or `combo.<family>+<family>…` (a stale weight means: re-fit)."""
    for key in weights:
        kind, _, name = key.partition(".")
        known = (
            key == "bias"
            or key in drafts
            or (kind == "family" and name in FAMILIES)
            or (kind == "combo" and all(part in FAMILIES for part in name.split("+")))
        )
        if not known:
            error(
                where[("scam_weights", key)],
                f"scam weight {key!r} names no red flag, family or combination; "
                "re-fit with `python -m bench.fit_scam`",
            )


def check_red_flags(
    drafts: dict[str, RedFlagDraft],
    intents: dict[str, Intent],
    where: dict[tuple[str, str], Location],
    error: Callable[[Location, str], None],
) -> None:
    """Every intent a flag suggests, and every flag it names, exists."""
    for draft in drafts.values():
        flag = draft.flag
        if flag.suggests and flag.suggests not in intents:
            error(
                where[("red_flags", flag.id)],
                f"red flag {flag.id!r} suggests unknown intent {flag.suggests!r}",
            )
        for key, others in (
            ("unless_not_with", flag.unless_not_with),
            ("only_with", flag.only_with),
        ):
            for other in others:
                if other not in drafts or other == flag.id:
                    error(
                        where[(f"red_flags.{key}", flag.id)],
                        f"red flag {flag.id!r}: {key} names {other!r}, "
                        "which is not another red flag",
                    )
