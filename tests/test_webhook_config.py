"""Webhook settings are checked at start: a bad value exits 2 naming the variable (and never
printing the secret)."""

from __future__ import annotations

import pytest

from bot.cli import main

SECRET = "correct-horse_battery"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"ANTIFRAUD_WEBHOOK_URL": "http://bot.example.org/hook"}, "ANTIFRAUD_WEBHOOK_URL"),
        ({"ANTIFRAUD_WEBHOOK_URL": "https:///hook"}, "ANTIFRAUD_WEBHOOK_URL"),
        ({"ANTIFRAUD_WEBHOOK_URL": "https://bot.example.org/h?x=1"}, "ANTIFRAUD_WEBHOOK_URL"),
        ({"ANTIFRAUD_WEBHOOK_URL": "bot.example.org/hook"}, "ANTIFRAUD_WEBHOOK_URL"),
        ({"ANTIFRAUD_WEBHOOK_URL": "https://bot.example.org/hook"}, "ANTIFRAUD_WEBHOOK_SECRET"),
        ({"ANTIFRAUD_WEBHOOK_SECRET": "has spaces " + SECRET}, "ANTIFRAUD_WEBHOOK_SECRET"),
        ({"ANTIFRAUD_WEBHOOK_SECRET": "x" * 257}, "ANTIFRAUD_WEBHOOK_SECRET"),
        ({"ANTIFRAUD_BROADCAST_LEASE": "0"}, "ANTIFRAUD_BROADCAST_LEASE"),
        ({"ANTIFRAUD_BROADCAST_LEASE": "forever"}, "ANTIFRAUD_BROADCAST_LEASE"),
    ],
)
def test_bad_webhook_settings_exit_2_naming_the_variable(
    monkeypatch, capsys, variables: dict[str, str], named: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert named in err
    assert SECRET not in err


def test_good_webhook_settings_are_accepted(monkeypatch) -> None:
    from bot.config import Settings

    monkeypatch.setenv("ANTIFRAUD_WEBHOOK_URL", "https://bot.example.org/telegram/hook")
    monkeypatch.setenv("ANTIFRAUD_WEBHOOK_SECRET", SECRET)
    settings = Settings.from_env()
    assert settings.webhook_url == "https://bot.example.org/telegram/hook"
    assert settings.webhook_secret == SECRET
