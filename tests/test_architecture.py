"""The import contracts in pyproject.toml hold, and they can fail: a back-arrow breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts, over the `bot` package found in
    package_parent (it comes first on the path, ahead of the installed one)."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _add_import(module: Path, statement: str) -> None:
    module.write_text(module.read_text(encoding="utf-8") + f"\n{statement}\n", encoding="utf-8")


def test_the_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "broken"),
    [
        # the core reaching up into storage: the arrow issue 13 removed
        ("core/report_replies.py", "import bot.store.reports", "bot.core.report_replies"),
        # content leaning on the core
        ("content/loader.py", "import bot.core.types", "bot.content.loader"),
        # the broadcaster borrowing from the front end
        ("broadcast/sender.py", "import bot.telegram.handlers", "bot.broadcast.sender"),
        # /reload taking its loader from the command line: the old four-module loop
        ("telegram/reload.py", "import bot.cli", "bot.telegram.reload"),
        # configuration importing the package
        ("config.py", "import bot.content.model", "bot.config"),
        # the number parser everyone uses leaning on what uses it
        ("numbers.py", "import bot.core.types", "bot.numbers"),
        # a pure core using Telegram
        ("core/matcher.py", "import telegram", "bot.core"),
        # the core reaching for the OCR model, or the model for the core (issue 17)
        ("core/check_replies.py", "import rapidocr", "bot.core.check_replies"),
        ("core/scam_check.py", "import bot.workers.ocr", "bot.core.scam_check"),
        ("models/ocr.py", "import bot.core.types", "bot.models.ocr"),
        ("workers/ocr.py", "import telegram", "bot.workers.ocr"),
        # two front-end modules importing each other
        ("telegram/handlers.py", "import bot.telegram.admin", "No cycles are allowed"),
    ],
)
def test_a_back_arrow_breaks_the_build(
    tmp_path: Path, module: str, statement: str, broken: str
) -> None:
    parent = _copy_of_the_package(tmp_path)
    _add_import(parent / "bot" / module, statement)
    result = _lint_imports(parent)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert broken in result.stdout
