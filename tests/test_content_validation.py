"""The validator: the shipped content passes, and each class of error names file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import CONTACT_VARIABLES
from bot.content.checks import example_conflicts
from bot.content.loader import ContentError, InvalidContent, load_content
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
