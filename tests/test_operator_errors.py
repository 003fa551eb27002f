"""What an operator sees when something is wrong: one plain line and an exit code, never a
traceback with the token in it (issue 12, findings 2, 6, 8-12)."""

from __future__ import annotations

import io
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.error import InvalidToken

from bot import cli
from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import text_update
from bot.cli import build_parser, main
from bot.config import Settings
from bot.core.responder import Responder
from bot.store.database import Database
from bot.telegram.app import build_application
from bot.telegram.flow import FloodGuard
from tests.bot_api_server import BotApiServer

ROOT = Path(__file__).resolve().parent.parent
ALERT = ROOT / "alerts" / "example-fake-refund.yaml"
# Distinctive, so that finding it anywhere can only mean it leaked.
TOKEN = "7654321098:AAHleakedTokenPartNeverToBeSeen_x9"
SECRET_PART = TOKEN.split(":")[1]
REJECTED = "the Bot API rejected the token; check TELEGRAM_BOT_TOKEN"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "bot.db"
    monkeypatch.setenv("ANTIFRAUD_DB", str(path))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    return path


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    """No redacting handler left by an earlier test: main() must set one up on this
    test's stderr, and leave the root logger as it found it."""
    root = logging.getLogger()
    level = root.level

    def ours() -> list[logging.Handler]:
        return [h for h in root.handlers if getattr(h, "antifraud", False)]

    for handler in ours():
        root.removeHandler(handler)
    yield
    for handler in ours():
        root.removeHandler(handler)
    root.setLevel(level)


def _run(argv: list[str], stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out, inp=io.StringIO(stdin)), out.getvalue()


# -- finding 2: the token -------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["run"], ["broadcast", str(ALERT)]])
def test_a_rejected_token_is_one_line_and_never_printed(db: Path, argv: list[str]) -> None:
    """A real process against a loopback Bot API that answers 401 to everything."""
    Database(str(db))
    with BotApiServer(reject_token=True) as server:
        env = {**os.environ, "TELEGRAM_BASE_URL": server.base_url}
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *argv],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    printed = done.stdout + done.stderr
    assert done.returncode == 2, printed
    assert done.stderr.strip().splitlines()[-1] == REJECTED
    assert "Traceback" not in done.stderr  # python-telegram-bot's own log of it: one line too
    assert TOKEN not in printed and SECRET_PART not in printed


def _placeholder_argv(name: str, command: object) -> list[str]:
    """The subcommand with a value for each required positional argument."""
    if name == "db":  # a command with commands of its own
        return ["db", "copy", "--from", "x.db", "--to", "postgresql://u@127.0.0.1:1/x"]
    values = [
        "x"
        for action in command._actions  # type: ignore[attr-defined]
        if not action.option_strings and action.nargs in (None, "+")
    ]
    return [name, *values]


COMMAND_FUNCTIONS = {
    "run": "cmd_run",
    "chat": "cmd_chat",
    "match": "cmd_match",
    "validate": "cmd_validate",
    "check": "cmd_check",
    "broadcast": "cmd_broadcast",
    "insights": "cmd_insights",
    "broadcast-status": "cmd_broadcast_status",
    "reports": "cmd_reports",
    "converse": "cmd_converse",
    "db": "cmd_db_copy",
    "campaign-link": "cmd_campaign_link",
}


def _subcommands() -> dict[str, object]:
    subparsers = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    return dict(subparsers.choices)


def test_every_command_is_covered_below() -> None:
    assert set(_subcommands()) == set(COMMAND_FUNCTIONS)  # a new command needs a line here


@pytest.mark.parametrize("name", sorted(COMMAND_FUNCTIONS))
def test_no_command_lets_an_exception_print_the_token(
    name: str, db: Path, monkeypatch: pytest.MonkeyPatch, capsys, fresh_logging: None
) -> None:
    def explode(*args: object, **kwargs: object) -> int:
        raise RuntimeError(f"exploded calling https://api.telegram.org/bot{TOKEN}/getMe")

    monkeypatch.setattr(cli, COMMAND_FUNCTIONS[name], explode)
    code, out = _run(_placeholder_argv(name, _subcommands()[name]))
    err = capsys.readouterr().err
    assert code == 1
    assert "antifraud-bot stopped on an unexpected error: RuntimeError: exploded" in err
    assert "Traceback" in err  # logged for a bug report, through the redacting formatter
    assert TOKEN not in out + err and SECRET_PART not in out + err


@pytest.mark.parametrize("name", sorted(COMMAND_FUNCTIONS))
def test_no_command_lets_invalid_token_print_the_token(
    name: str, db: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def rejected(*args: object, **kwargs: object) -> int:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")

    monkeypatch.setattr(cli, COMMAND_FUNCTIONS[name], rejected)
    code, out = _run(_placeholder_argv(name, _subcommands()[name]))
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == REJECTED
    assert SECRET_PART not in out + err


# -- finding 6: reports, and read-only commands on a missing file ---------------------------


def test_reports_with_nothing_queued(db: Path) -> None:
    Database(str(db))
    code, out = _run(["reports"])
    assert code == 0 and out.splitlines() == ["waiting for the review chat: 0"]


@pytest.mark.parametrize(
    "argv",
    [["reports"], ["insights"], ["broadcast-status", "x"], ["broadcast", str(ALERT), "--dry-run"]],
)
def test_read_only_commands_refuse_a_missing_database(db: Path, argv: list[str], capsys) -> None:
    code, _ = _run(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"ANTIFRAUD_DB={str(db)!r} cannot be used: there is no such file\n"
    assert not db.exists()  # a mistyped path does not become an empty database


# -- finding 8: chat ------------------------------------------------------------------------


def test_chat_survives_a_lone_slash_and_odd_digits(db: Path) -> None:
    code, out = _run(["chat"], stdin="/\n/   \n²\n١\n/quit\n")
    assert code == 0
    # a lone slash is text, and so is a digit that is no ASCII button number: each of the
    # four lines gets the honest fallback (with its menu), none a crash or a button press
    assert out.count("这个问题我还答不上来") == 4


# -- findings 9 and 10: configuration -------------------------------------------------------

BAD_SETTINGS = [
    ("ANTIFRAUD_REVIEW_CHAT", "--100"),
    ("ANTIFRAUD_REVIEW_CHAT", "-１００"),
    ("ANTIFRAUD_REVIEW_CHAT", "0"),
    ("ANTIFRAUD_INSIGHTS_DAYS", "²"),
    ("ANTIFRAUD_INSIGHTS_DAYS", "9" * 5000),  # int() refuses strings this long
    ("ANTIFRAUD_LOG_LEVEL", "VERBOSE"),
    ("ANTIFRAUD_ADMINS", ",,,"),
    ("ANTIFRAUD_ADMINS", "-5"),
    ("ANTIFRAUD_ADMINS", "١٢٣"),
    ("ANTIFRAUD_ADMINS", "12, 0"),
    ("ANTIFRAUD_REVIEWERS", " , "),
    ("ANTIFRAUD_REPORT_DAYS", "٣٠"),
    ("ANTIFRAUD_FLOOD_WINDOW", "nan"),
    ("ANTIFRAUD_FLOOD_WINDOW", "inf"),
    ("ANTIFRAUD_FLOOD_WINDOW", "-1"),
    ("ANTIFRAUD_FLOOD_WINDOW", "٣"),
    ("ANTIFRAUD_FLOOD_MESSAGES", "٢٠"),
    ("ANTIFRAUD_BROADCAST_RATE", "1e2"),
    ("ANTIFRAUD_WEBHOOK_PORT", "٨٠"),
    ("ANTIFRAUD_WEBHOOK_PORT", "99999"),
    ("ANTIFRAUD_SUGGESTIONS_CHAT", "0"),
    ("ANTIFRAUD_SUGGESTIONS_CHAT", "-１００"),
    ("ANTIFRAUD_SUGGESTION_DAILY_LIMIT", "٣"),
    ("ANTIFRAUD_SUGGESTION_DAYS", "0"),
    ("ANTIFRAUD_BOT_USERNAME", "not a bot"),
]


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_bad_setting_is_named_with_exit_code_2(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv(name, value)
    code, _ = _run(["validate"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"configuration error: {name} ") and err.count("\n") == 1


def test_good_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "ANTIFRAUD_REVIEW_CHAT": "-1001234567890",
            "ANTIFRAUD_ADMINS": "12, 34,",
            "ANTIFRAUD_FLOOD_WINDOW": "0.5",
            "ANTIFRAUD_LOG_LEVEL": "debug",
            "ANTIFRAUD_BROADCAST_RATE": "2.5",
        }
    )
    assert settings.review_chat == -1001234567890 and settings.admins == {12, 34}
    assert settings.flood_window == 0.5 and settings.log_level == "DEBUG"
    assert settings.broadcast_rate == 2.5 and settings.warnings() == []


def test_a_review_chat_nobody_may_decide_in_is_warned_about() -> None:
    settings = Settings.from_env({"ANTIFRAUD_REVIEW_CHAT": "-100123"})
    assert settings.warnings() == [
        "ANTIFRAUD_REVIEW_CHAT is set but neither ANTIFRAUD_REVIEWERS nor ANTIFRAUD_ADMINS "
        "names anyone: nobody can accept or reject reports"
    ]


def test_flood_state_stays_bounded() -> None:
    now = [0.0]
    guard = FloodGuard(limit=3, window=10, clock=lambda: now[0])
    verdicts = [guard.admit(1) for _ in range(1000)]
    assert verdicts[:5] == ["ok", "ok", "ok", "warn", "drop"] and set(verdicts[5:]) == {"drop"}
    assert len(guard._seen[1]) <= 4  # a flooder costs limit + 1 timestamps, not 1000
    for user_id in range(2, 1002):
        guard.admit(user_id)
    now[0] = 10.0  # a whole window later
    assert guard.admit(5000) == "ok"
    assert guard.tracked() == 1  # idle residents forgotten
    assert guard.admit(1) == "ok"  # and the flooder served again


# -- finding 11: an unusable database file --------------------------------------------------


def _random_bytes(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 16)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_random_bytes, "this file is not an SQLite database"),
        (_folder, "this is a folder, not a database file"),
        (lambda path: path / "missing" / "bot.db", "does not exist"),
    ],
)
@pytest.mark.parametrize("argv", [["reports"], ["broadcast", str(ALERT), "--dry-run"]])
def test_unusable_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, make, reason: str, argv: list[str]
) -> None:
    path = make(tmp_path / "bot.db")
    monkeypatch.setenv("ANTIFRAUD_DB", str(path))
    code, _ = _run(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"ANTIFRAUD_DB={str(path)!r} cannot be used: ") and reason in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write read-only files")
def test_read_only_database_is_one_line(db: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    Database(str(db)).close()
    for leftover in db.parent.glob("bot.db-*"):
        leftover.unlink()
    db.chmod(0o400)
    code, _ = _run(["broadcast", str(ALERT)])  # a command that writes: refused before sending
    assert code == 2 and "read-only" in capsys.readouterr().err


# -- finding 12: arguments and the file's permissions ---------------------------------------


@pytest.mark.parametrize("days", ["99999999999", "-5", "0", "²", "seven"])
def test_insights_days_are_bounded(days: str, db: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["insights", "--days", days])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "argument --days: must be a whole number from 1 to 3650" in err


def test_insights_days_at_the_bound(db: Path) -> None:
    Database(str(db))
    code, out = _run(["insights", "--days", "3650", "--lang", "zh"])
    assert code == 0 and "最近 3650 天" in out


async def test_insights_in_telegram_with_a_huge_number(responder: Responder) -> None:
    api = FakeBotApi()
    admin = 88
    app = build_application(
        Settings(token=TOKEN, admins=frozenset({admin})),
        responder,
        Database(":memory:"),
        request=api,
    )
    async with app:
        await app.process_update(text_update(app.bot, "/insights 99999999999", user_id=admin))
    assert "最近 3650 天" in api.sent()[-1]["text"]


@pytest.mark.parametrize("line", ["[1,2]", '{"text": 5}', '"text"', "{"])
def test_match_jsonl_says_plainly_what_it_expects(line: str, capsys) -> None:
    code, _ = _run(["match", "--jsonl"], stdin=f'{{"text": "你好"}}\n{line}\n')
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err == 'stdin:2: expected a JSON object like {"text": "..."} with the message as a string\n'
    )


def test_run_warns_about_a_database_file_others_can_read(db: Path) -> None:
    """A file made before files were created 0600 keeps its mode; `run` says so."""
    Database(str(db)).close()
    db.chmod(0o644)
    with BotApiServer(reject_token=True) as server:  # so that `run` stops by itself
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "run"],
            env={**os.environ, "TELEGRAM_BASE_URL": server.base_url},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert "can be read by other users" in done.stderr and "chmod 600" in done.stderr
    db.chmod(0o600)
    assert not Database(str(db)).readable_by_others()


def test_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask, which alone would give 0644
    try:
        database = Database(str(tmp_path / "bot.db"))
        database.execute("INSERT INTO user_language (user_id, lang) VALUES (1, 'zh')")
        files = sorted(tmp_path.iterdir())
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
        database.close()
    finally:
        os.umask(old_umask)
    assert set(modes) == {"bot.db", "bot.db-wal", "bot.db-shm"}
    assert set(modes.values()) == {0o600}, modes
