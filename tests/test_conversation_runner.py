"""The conversation runner itself: coverage of the shipped scripts, and how it fails."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bot.authoring.runner import run_scripts
from bot.authoring.script import ScriptError, load_script
from bot.cli import main
from bot.core.normalize import has_han
from bot.core.responder import Responder

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "conversations"


def _converse(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["converse", *argv], out=out), out.getvalue()


def test_scripts_cover_every_intent_in_both_languages(content) -> None:
    seen: set[tuple[str, str]] = set()
    kinds: set[str] = set()
    for path in sorted(SCRIPTS.glob("*.yaml")):
        for turn in load_script(path).turns:
            kinds.add(turn.action)
            intent = turn.expect.get("intent")
            if intent and turn.action == "say":
                seen.add((intent, "zh" if has_han(turn.value) else "en"))
            if intent in ("fallback", "did_you_mean"):
                kinds.add(intent)
            if turn.action == "command" and turn.value.startswith("/lang"):
                kinds.add("/lang")
    missing = [(i, lang) for i in content.intents for lang in ("zh", "en") if (i, lang) not in seen]
    assert missing == []
    assert {"press", "fallback", "did_you_mean", "/lang", "send", "command"} <= kinds


def test_shipped_scripts_pass_through_the_cli() -> None:
    code, out = _converse(str(SCRIPTS))
    assert code == 0, out
    assert out.strip().endswith("0 failed")


def test_a_changed_reply_fails_and_names_script_turn_and_difference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    replies = tmp_path / "content" / "fraud.yaml"
    text = replies.read_text(encoding="utf-8")
    # An author rewords the fake-loan reply and drops the word a script relies on.
    replies.write_text(text.replace("“解冻费”", "“手续费”", 1), encoding="utf-8")
    monkeypatch.setenv("ANTIFRAUD_CONTENT_DIR", str(tmp_path / "content"))
    code, out = _converse(str(SCRIPTS / "fraud_zh.yaml"))
    assert code == 1
    assert "FAIL Fraud questions in Chinese" in out
    assert "fraud_zh.yaml:13" in out  # the turn about the unfreezing fee
    assert "expected the reply to contain ['解冻费']" in out
    assert "手续费" in out  # what the bot said instead
    assert out.strip().endswith("0 passed, 1 failed")


@pytest.mark.parametrize(
    ("script", "line", "message"),
    [
        (
            "version: 1\nname: x\nturns:\n  - say: 你好\n    expcet: {intent: bot.greeting}\n",
            5,
            "unknown key 'expcet'",
        ),
        ("version: 1\nname: x\nturns:\n  - say: 你好\n  - say: 谢谢\n", 4, "needs an 'expect:'"),
        (
            "version: 1\nname: x\nturns:\n  - say: 你好\n    expect: {intnet: bot.greeting}\n",
            5,
            "unknown expectation 'intnet'",
        ),
        (
            "version: 1\nname: x\nturns:\n  - say: hi\n    press: Menu\n    expect: {replies: 1}\n",
            4,
            "exactly one of",
        ),
    ],
)
def test_bad_scripts_are_errors_with_file_and_line(
    tmp_path: Path, script: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(script, encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert (caught.value.path, caught.value.line) == (path, line)
    assert message in caught.value.message


def test_a_button_that_is_not_offered_is_an_error_with_line(
    tmp_path: Path, responder: Responder
) -> None:
    path = tmp_path / "press.yaml"
    path.write_text(
        "version: 1\nname: press\nturns:\n"
        "  - command: /start\n    expect: {replies: 1}\n"
        "  - press: 不存在的按钮\n    expect: {replies: 1}\n",
        encoding="utf-8",
    )
    (result,) = run_scripts([path], responder)
    assert isinstance(result, ScriptError)
    assert result.line == 6 and "不存在的按钮" in result.message and "🛡 防诈骗" in result.message


def test_replying_to_a_message_the_bot_never_sent_is_an_error_with_line(
    tmp_path: Path, responder: Responder
) -> None:
    path = tmp_path / "reply.yaml"
    path.write_text(
        "version: 1\nname: reply\nusers:\n  officer: {chat: review, role: reviewer}\nturns:\n"
        "  - reply_to_bot: 居民建议\n    say: 好的\n    expect: {replies: 1}\n",
        encoding="utf-8",
    )
    (result,) = run_scripts([path], responder)
    assert isinstance(result, ScriptError)
    assert result.line == 6 and "no message of the bot in officer's chat contains" in result.message


def test_a_turn_replies_to_one_message_and_roles_are_known(tmp_path: Path) -> None:
    both = tmp_path / "both.yaml"
    both.write_text(
        "version: 1\nname: x\nturns:\n"
        "  - say: 好\n    reply_to: a\n    reply_to_bot: b\n    expect: {replies: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScriptError, match="reply_to or reply_to_bot"):
        load_script(both)
    role = tmp_path / "role.yaml"
    role.write_text(
        "version: 1\nname: x\nusers:\n  boss: {role: chief}\nturns:\n"
        "  - say: 好\n    expect: {replies: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScriptError, match="'reviewer' or 'admin'"):
        load_script(role)


def test_cli_reports_a_broken_script_as_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("version: 1\nname: [unclosed\n", encoding="utf-8")
    code, out = _converse(str(tmp_path))
    assert code == 1 and "ERROR" in out and "broken.yaml:" in out


def test_cli_with_no_scripts_fails(tmp_path: Path) -> None:
    code, _ = _converse(str(tmp_path))
    assert code == 2
