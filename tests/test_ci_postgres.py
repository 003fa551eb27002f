"""The PostgreSQL tests skip only on a developer's machine without a server: under CI=true a
missing ANTIFRAUD_TEST_PG fails them, so CI can never pass without having run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_one_postgres_test(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTIFRAUD_TEST_PG", "CI")}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_store_backends.py::test_group_guard[postgresql]"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_without_a_server_ci_fails() -> None:
    run = _run_one_postgres_test("true")
    assert run.returncode == 1, run.stdout
    assert "ANTIFRAUD_TEST_PG is not set" in run.stdout


def test_without_a_server_a_developer_skips() -> None:
    run = _run_one_postgres_test(None)
    assert run.returncode == 0, run.stdout
    assert "1 skipped" in run.stdout
