"""Rendering: figures with sources, hotlines, configurable contacts, languages, menus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.content.model import Content
from bot.content.replies import PLACEHOLDER
from bot.core.responder import Responder
from bot.core.types import ReplyKind, Turn

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_8b7804f0e1f56fcb.txt"


def test_every_figure_in_a_reply_is_followed_by_its_source(responder: Responder) -> None:
    for intent_id in responder.content.replies:
        for lang in ("zh", "en"):
            text = responder.answer(intent_id, lang).text
            markers = set(re.findall(r"\[(\d+)\]", text.split("\n\n")[0]))
            for number in markers:
                assert f"\n[{number}] " in text, (intent_id, lang, number)


def test_citation_names_place_and_period(responder: Responder) -> None:
    text = responder.answer("fraud.stats", "en").text
    assert "Baoting County PSB, 2023" in text
    assert "Qiongzhong County PSB, 2022" in text


def test_a_figure_changed_once_changes_everywhere(content: Content) -> None:
    from dataclasses import replace

    figure = content.figures["bt.helmet_camera_catches"]
    changed = replace(figure, display={"zh": "99999 起", "en": "99,999"})
    edited = replace(content, figures={**content.figures, figure.key: changed})
    responder = Responder(edited)
    for intent_id in ("helmet.cameras", "helmet.stats"):
        assert "99999 起" in responder.answer(intent_id, "zh").text


def test_unset_contact_lines_are_left_out(responder: Responder) -> None:
    text = responder.answer("helmet.report", "zh").text
    assert "举报邮箱" not in text and "{contact" not in text


def test_configured_contacts_are_shown(content: Content) -> None:
    responder = Responder(content, {"helmet_report_email": "report@example.org"})
    text = responder.answer("helmet.report", "en").text
    assert "report@example.org" in text and "Report WeChat" not in text


def test_no_placeholder_survives_rendering(responder: Responder) -> None:
    for intent_id in responder.content.replies:
        for lang in ("zh", "en"):
            assert not PLACEHOLDER.search(responder.answer(intent_id, lang).text)


def test_fallback_has_hotlines_and_the_topic_menu(responder: Responder) -> None:
    reply = responder.respond(Turn("asdfghjkl"))
    assert reply.kind is ReplyKind.FALLBACK
    assert "110" in reply.text and "96110" in reply.text
    assert [b.action for b in reply.buttons][:3] == ["menu:fraud", "menu:traffic", "menu:safety"]


def test_reply_language_follows_the_text_then_the_hint(responder: Responder) -> None:
    assert responder.respond(Turn("thanks", lang_hint="zh")).lang == "en"
    assert responder.respond(Turn("谢谢", lang_hint="en")).lang == "zh"
    assert responder.respond(Turn("👍", lang_hint="en")).lang == "en"
    assert responder.respond(Turn("👍", lang_hint="fr")).lang == "zh"  # unknown: default


def test_unknown_button_action_is_refused(responder: Responder) -> None:
    assert responder.press("intent:nope", "zh") is None
    assert responder.press("drop table", "zh") is None


@pytest.mark.skipif(not SEEDS.exists(), reason="shared/seeds is not beside the checkout")
def test_every_figure_value_appears_in_the_source_document(content: Content) -> None:
    """Guards against an invented figure: each display's number is in the seed report."""
    source = SEEDS.read_text(encoding="utf-8")
    digits_in_source = set(re.findall(r"\d+(?:\.\d+)?", source))
    for key, figure in content.figures.items():
        for number in re.findall(r"\d+(?:\.\d+)?", figure.display["zh"]):
            assert number in digits_in_source, (key, number)
