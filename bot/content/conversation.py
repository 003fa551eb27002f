"""Turn signals (content/conversation.yaml): what a turn is doing in a conversation, written
as patterns by content authors, so the detector of "still on the call" or "already paid" is
data, not phrase lists in code."""

from __future__ import annotations

import re
from typing import Any

from bot.content.model import TurnSignal
from bot.content.reader import SchemaReader

# What each kind means (bot.core.conversation acts on them):
SIGNAL_KINDS = (
    "paid",  # money already gone: "I already transferred 3000", "我被骗了"
    "in_progress",  # the scammer is still on the call or the chat
    "asked_to_pay",  # asked to pay, or to pay more, right now
    "asked_to_act",  # asked to click, install, scan, share the screen or tell a code
    "clicked",  # already clicked, installed, scanned, shared the screen or a code
    "should_pay",  # "should I pay / transfer / do it?"
    "greeting",  # a greeting at the start of a message ("你好，", "hi,")
    "more",  # "then what?", "然后呢": carry on from the last card
    "yes",  # "是的", "yes"
    "no",  # "没有", "no"
    "ack",  # "好", "ok, I'll go to the police station"
    "tell_family",  # how do I tell my family / I dare not tell my parents
    "recovery_offer",  # someone offers to get the money back for a fee
    "blocked",  # the scammer blocked me / cannot be reached
    "share",  # how do I warn my family / friends?
    "go_police",  # should I go to the police station / call the police?
    "line_busy",  # 110 does not answer
    "in_baoting",  # the resident says they live in Baoting
    "in_qiongzhong",  # ... in Qiongzhong
    "own_township",  # "我们镇上", "my township": alerts for a township, which one to ask
    "helmet_violation",  # a photo caption describing a rider without a helmet: a report
    "pinyin_syllable",  # one syllable of Chinese written in Latin letters ("wo hen pa")
)
SIGNAL_KEYS = ("kind", "patterns", "unless")


def _compile(reader: SchemaReader, texts: tuple[str, ...], lines: tuple[int, ...], what: str):
    compiled = []
    for text, line in zip(texts, lines, strict=True):
        try:
            compiled.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            reader.error(line, f"{what}: bad regular expression {text!r}: {exc}")
    return tuple(compiled)


def read_turn_signal(reader: SchemaReader, key: str, value: Any, line: int) -> TurnSignal | None:
    what = f"turn_signals.{key}"
    mapping = reader.mapping(value, line, what)
    if mapping is None:
        return None
    reader.keys(mapping, SIGNAL_KEYS, ("kind", "patterns"), what)
    kind = reader.text(mapping, "kind", what)
    if kind and kind not in SIGNAL_KINDS:
        reader.error(
            mapping.line_of("kind"),
            f"{what}.kind {kind!r} is not one of: {', '.join(SIGNAL_KINDS)}",
        )
        return None
    patterns = _compile(
        reader,
        *reader.string_list(mapping.get("patterns"), mapping.line_of("patterns"), what),
        what,
    )
    unless: tuple[re.Pattern[str], ...] = ()
    if "unless" in mapping:
        unless = _compile(
            reader,
            *reader.string_list(mapping.get("unless"), mapping.line_of("unless"), what),
            what,
        )
    return TurnSignal(key, kind, patterns, unless)
