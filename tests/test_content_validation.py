"""The validator: the shipped content passes, and each class of error names file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import CONTACT_VARIABLES
from bot.content.loader import load_content
from bot.content.model import Content
from bot.content.reader import ContentError, InvalidContent
from bot.core.example_checks import example_conflicts
from bot.core.responder import Responder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "intents", tmp_path / "intents")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return tmp_path


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` with `new`; return the 1-based line where it starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def _errors(tree: Path) -> list[ContentError]:
    with pytest.raises(InvalidContent) as caught:
        load_content(tree / "intents", tree / "content", CONTACT_VARIABLES)
    return caught.value.errors


def _assert_error(errors: list[ContentError], path: Path, line: int, words: str) -> None:
    located = [e for e in errors if e.path == path and e.line == line]
    assert any(words in e.message for e in located), (
        f"no error at {path.name}:{line} mentioning {words!r}; got: "
        + "; ".join(str(e) for e in errors)
    )


def test_shipped_content_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_yaml_syntax_error(tree: Path) -> None:
    path = tree / "intents" / "helmet.yaml"
    line = _edit(path, "  - id: helmet.rules\n", "  - id: helmet.rules\n    keywords: [oops\n")
    errors = _errors(tree)
    assert errors and all(e.path == path for e in errors)
    assert errors[0].line > line


def test_unknown_key(tree: Path) -> None:
    path = tree / "intents" / "helmet.yaml"
    line = _edit(path, "    follow_ups: [helmet.report,", "    folow_ups: [helmet.report,")
    _assert_error(_errors(tree), path, line, "unknown key 'folow_ups'")


def test_duplicate_intent_id(tree: Path) -> None:
    path = tree / "intents" / "helmet.yaml"
    line = _edit(path, "  - id: helmet.cameras\n", "  - id: helmet.rules\n")
    _assert_error(_errors(tree), path, line, "duplicate intent id 'helmet.rules'")


def test_duplicate_yaml_key(tree: Path) -> None:
    path = tree / "content" / "helmet.yaml"
    line = _edit(
        path,
        "    title: {zh: 头盔怎么戴, en: Helmet rules}\n",
        "    title: {zh: 头盔怎么戴, en: Helmet rules}\n    title: {zh: 重复, en: again}\n",
    )
    _assert_error(_errors(tree), path, line + 1, "duplicate key 'title'")


def test_reply_refers_to_missing_figure(tree: Path) -> None:
    path = tree / "content" / "helmet.yaml"
    _edit(path, "{fig:bt.helmet_cameras}", "{fig:bt.helmet_camera_count}")
    line = 1 + (path.read_text(encoding="utf-8").split("\n").index("  helmet.cameras:"))
    _assert_error(_errors(tree), path, line, "unknown fig 'bt.helmet_camera_count'")


def test_missing_translation(tree: Path) -> None:
    path = tree / "content" / "helmet.yaml"
    line = _edit(
        path, "    title: {zh: 头盔怎么戴, en: Helmet rules}", "    title: {zh: 头盔怎么戴}"
    )
    _assert_error(_errors(tree), path, line, "missing the 'en' translation")


def test_intent_without_reply_and_reply_without_intent(tree: Path) -> None:
    path = tree / "intents" / "helmet.yaml"
    line = _edit(path, "  - id: helmet.cameras\n", "  - id: helmet.camera\n")
    errors = _errors(tree)
    _assert_error(errors, path, line, "has no reply")
    reply_path = tree / "content" / "helmet.yaml"
    reply_line = 1 + reply_path.read_text(encoding="utf-8").split("\n").index("  helmet.cameras:")
    _assert_error(errors, reply_path, reply_line, "never used")


def test_example_that_matches_another_intent_better(tree: Path) -> None:
    path = tree / "intents" / "helmet.yaml"
    # A helmet-rules example that is really about fake police.
    line = _edit(
        path,
        "        - 骑电动车要戴头盔吗\n",
        "        - 对方自称公安局说我涉嫌洗钱要转到安全账户\n",
    )
    content = load_content(tree / "intents", tree / "content", CONTACT_VARIABLES)
    errors = example_conflicts(content, Responder(content).matcher)
    _assert_error(errors, path, line, "matches fraud.police_impersonation better")


def test_example_listed_under_two_intents(tree: Path) -> None:
    path = tree / "intents" / "helmet.yaml"
    line = _edit(path, "        - 骑电动车要戴头盔吗\n", "        - 什么是杀猪盘\n")
    content = load_content(tree / "intents", tree / "content", CONTACT_VARIABLES)
    errors = example_conflicts(content, Responder(content).matcher)
    _assert_error(errors, path, line, "is also an example of fraud.investment_romance")


def test_a_near_miss_to_decline_that_is_also_an_intents_example(tree: Path) -> None:
    path = tree / "intents" / "declines.yaml"
    line = _edit(path, '        - "离婚了孩子归谁啊 孩子才三岁"\n', "        - 什么是杀猪盘\n")
    content = load_content(tree / "intents", tree / "content", CONTACT_VARIABLES)
    errors = example_conflicts(content, Responder(content).matcher)
    _assert_error(errors, path, line, "is also an example of fraud.investment_romance")


def test_a_decline_group_needs_a_good_id_and_what_it_is_about(tree: Path) -> None:
    path = tree / "intents" / "declines.yaml"
    id_line = _edit(path, "  - id: decline.family\n", "  - id: family\n")
    about_line = _edit(path, "    about: unpaid wages", "    abut: unpaid wages")
    errors = _errors(tree)
    _assert_error(errors, path, id_line, "must look like 'decline.name'")
    _assert_error(errors, path, about_line, "abut")


def test_validate_command_prints_errors_and_fails(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tree / "content" / "helmet.yaml"
    line = _edit(path, "{fig:bt.helmet_cameras}", "{fig:nope}")
    monkeypatch.setenv("ANTIFRAUD_INTENTS_DIR", str(tree / "intents"))
    monkeypatch.setenv("ANTIFRAUD_CONTENT_DIR", str(tree / "content"))
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:" in err and "unknown fig 'nope'" in err
    assert line > 0


def test_bot_refuses_to_start_on_invalid_content(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(tree / "content" / "helmet.yaml", "{fig:bt.helmet_cameras}", "{fig:nope}")
    monkeypatch.setenv("ANTIFRAUD_CONTENT_DIR", str(tree / "content"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    assert main(["run"]) == 1
    assert "unknown fig 'nope'" in capsys.readouterr().err


def test_report_kind_with_unknown_media_rule(tree: Path) -> None:
    path = tree / "content" / "reports.yaml"
    line = _edit(path, "    media: required\n", "    media: sometimes\n")
    _assert_error(_errors(tree), path, line, "media must be required or optional")


def test_unless_not_with_naming_an_unknown_flag(tree: Path) -> None:
    path = tree / "content" / "red_flags.yaml"
    line = _edit(
        path,
        "    unless_not_with: [credentials, screen_share,",
        "    unless_not_with: [no_such_flag, screen_share,",
    )
    _assert_error(_errors(tree), path, line, "unless_not_with names 'no_such_flag'")


def test_only_with_naming_an_unknown_flag(tree: Path) -> None:
    path = tree / "content" / "red_flags.yaml"
    line = _edit(path, "    only_with: [credentials,", "    only_with: [no_such_flag,")
    _assert_error(_errors(tree), path, line, "only_with names 'no_such_flag'")


def test_pattern_using_an_unknown_word_list(tree: Path) -> None:
    path = tree / "content" / "red_flags.yaml"
    line = _edit(path, '      - "{is_a_scam}"\n', '      - "{is_a_scamm}"\n')
    _assert_error(_errors(tree), path, line, "unknown word list {is_a_scamm}")


def test_word_list_that_is_no_regular_expression(tree: Path) -> None:
    path = tree / "content" / "red_flags.yaml"
    line = _edit(path, "  scam_talk: 诈骗|", "  scam_talk: (诈骗|")
    _assert_error(_errors(tree), path, line, "red_flag_words.scam_talk: bad regular expression")


def test_a_stale_fitted_weight_is_reported(tree: Path) -> None:
    path = tree / "content" / "scam_weights.yaml"
    line = _edit(path, '  "family.ask":', '  "family.asks":')
    _assert_error(_errors(tree), path, line, "scam weight 'family.asks' names no red flag")


def test_a_flag_needs_a_family_and_patterns_or_a_detector(tree: Path) -> None:
    path = tree / "content" / "red_flags.yaml"
    line = _edit(path, "    detector: link_ip\n", "    detector: link_ipv6\n")
    _assert_error(_errors(tree), path, line, "detector must be one of")
    line = _edit(path, "    family: warning\n", "    family: gossip\n")
    _assert_error(_errors(tree), path, line, "family must be one of")


def test_word_lists_are_written_into_the_patterns(tree: Path) -> None:
    """An edit to a word list changes every flag that uses it."""
    path = tree / "content" / "red_flags.yaml"
    _edit(path, "  scam_talk: 诈骗|", "  scam_talk: 宣传月|诈骗|")
    content = load_content(tree / "intents", tree / "content", CONTACT_VARIABLES)
    assert any(u.search("宣传月") for u in content.red_flags["task_rebate"].unless)
    assert not any(u.search("宣传月") for u in content.red_flags["credentials"].unless)


# Issue 12, finding 18: the content says what the source reports say, in both languages.
@pytest.fixture(scope="module")
def shipped() -> Content:
    return load_content(ROOT / "intents", ROOT / "content", CONTACT_VARIABLES)


@pytest.mark.parametrize(
    ("reply", "lang", "wrong"),
    [
        # 17,094 captures are a separate total from the 51,803 cases, by video patrols
        ("helmet.stats", "zh", "其中摄像头抓拍"),
        ("helmet.stats", "en", "of them caught by cameras"),
        ("helmet.cameras", "en", "cameras, which have caught"),
        ("helmet.cameras", "zh", "县里还授权"),  # the bureau authorised the stations
        ("helmet.cameras", "en", "The county has also authorised"),
        ("safety.banquet", "zh", "聚餐前向村委会或派出所报备"),  # no procedure in the source
        ("safety.banquet", "en", "before a village feast"),
        ("safety.market_crime", "en", "monopolies are crimes"),  # 强迫交易等违法犯罪
        ("safety.market_crime", "zh", "垄断市场都是违法犯罪"),
        ("safety.market_crime", "en", "two men"),  # the source gives no sex
        ("fraud.elderly", "en", "retired people"),  # 退休干部
        ("fraud.dissuasion_call", "en", "from fraudsters"),  # 劝阻金额
        ("fraud.stats", "en", "from fraudsters"),
        ("fraud.victim", "en", "for a fee"),  # zh: anyone offering to recover losses
        ("bot.help", "zh", "随手拍举报"),  # the bot's channel is its own
    ],
)
def test_reply_no_longer_says_what_the_source_does_not(
    shipped: Content, reply: str, lang: str, wrong: str
) -> None:
    assert wrong not in shipped.replies[reply].text[lang]


def test_content_credits_the_source_correctly(shipped: Content) -> None:
    assert "retired officials" in shipped.replies["fraud.elderly"].text["en"]
    assert "退休干部" in shipped.replies["fraud.elderly"].text["zh"]
    assert "保亭县公安局还授权" in shipped.replies["helmet.cameras"].text["zh"]
    assert "illegal and criminal" in shipped.replies["safety.market_crime"].text["en"]
    two_cards = shipped.red_flags["two_cards"].explain
    assert "法律责任" in two_cards["zh"] and "legal responsibility" in two_cards["en"]
    assert "is a crime" not in two_cards["en"]


def test_the_bots_report_channel_is_not_called_suishoupai(shipped: Content) -> None:
    """随手拍 is Baoting's helmet scheme by mailbox or WeChat; /report is the bot's own."""
    assert shipped.replies["helmet.report"].title["zh"] != "随手拍举报"
    for lang in ("zh", "en"):
        help_text = shipped.replies["bot.help"].text[lang]
        privacy = shipped.ui["report_privacy"][lang]
        for text in (help_text, privacy):
            assert "随手拍" in text  # named only to say how it relates
        assert ("机器人自己的" if lang == "zh" else "the bot's own") in help_text
        assert ("不是保亭“随手拍”" if lang == "zh" else 'not Baoting\'s "随手拍"') in privacy
