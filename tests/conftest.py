from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import cache
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.runner import ScriptResult, run_script
from bot.authoring.script import ScriptError, load_script
from bot.config import CONTACT_VARIABLES, Settings
from bot.content.loader import load_content
from bot.content.model import Content
from bot.core.responder import Responder
from bot.startup import load_responder
from bot.store.database import Database
from bot.telegram.app import build_application
from tests import loop_guard

ROOT = Path(__file__).resolve().parent.parent
TEST_TOKEN = "123456789:AAF-test-token-never-real-0123456789"


# -- no query and no model call on the event loop (tests/loop_guard.py) ----------------------


def pytest_configure(config: pytest.Config) -> None:
    loop_guard.install()


def _fail_on_queries_on_the_loop() -> None:
    found, loop_guard.violations[:] = list(loop_guard.violations), []
    if found:
        calls = "\n".join(found)
        pytest.fail(f"{len(found)} queries or model calls ran on the event loop:\n{calls}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    loop_guard.violations.clear()
    try:
        result = yield
    except BaseException:
        # The test failed, maybe because a handler stopped at the guard: say so, with it.
        _fail_on_queries_on_the_loop()
        raise
    _fail_on_queries_on_the_loop()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> object:
    result = yield  # the app fixture stops the Application: its tasks are watched too
    _fail_on_queries_on_the_loop()
    return result


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(ROOT / "intents", ROOT / "content", CONTACT_VARIABLES)


@pytest.fixture(scope="session")
def responder(content: Content) -> Responder:
    """The lexical stage alone: fast, for the plumbing (the semantic stage has `shipped`)."""
    return Responder(content)


@pytest.fixture(scope="session")
def shipped() -> Responder:
    """As the bot starts: the shipped content, the semantic model, the vector cache."""
    return _shipped_responder()


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
async def app(responder: Responder, api: FakeBotApi) -> AsyncIterator[Application]:
    # Screenshots are read only where a test asks (tests/test_screenshots.py shares one reader).
    settings = Settings(token=TEST_TOKEN, ocr=False)
    application = build_application(settings, responder, Database(":memory:"), request=api)
    async with application:
        await application.start()  # running, as in production (no updater: nothing polls)
        api.clear()  # forget initialize()'s getMe: tests look at what the handlers sent
        yield application
        await application.stop()


# -- the two storage backends ----------------------------------------------------------------
# PostgreSQL tests need a server: ANTIFRAUD_TEST_PG names one (.ci/run starts one and sets it).
# Locally, without it, they are skipped; in CI (CI=true) its absence fails them.
PG_VARIABLE = "ANTIFRAUD_TEST_PG"


def postgres_server() -> str:
    url = os.environ.get(PG_VARIABLE)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_VARIABLE} is not set: CI must run the PostgreSQL tests")
        pytest.skip(f"no PostgreSQL server ({PG_VARIABLE} unset; .ci/postgres starts one)")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to an empty schema of its own on the test server, dropped afterwards."""
    import psycopg

    server = postgres_server()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """ANTIFRAUD_DB for each backend: a file, and a PostgreSQL URL (a schema of its own)."""
    if request.param == "sqlite":
        return str(tmp_path / "bot.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def database(backend: str) -> Iterator[Database]:
    db = Database(backend)
    yield db
    db.close()


# -- conversation scripts: each tests/conversations/*.yaml is one test item ------------------


@cache
def _shipped_responder() -> Responder:
    return load_responder(Settings.from_env({}))


class ConversationFailed(Exception):
    def __init__(self, result: ScriptResult) -> None:
        super().__init__(result.describe())


class ConversationItem(pytest.Item):
    def runtest(self) -> None:
        script = load_script(self.path)
        result = asyncio.run(run_script(script, _shipped_responder()))
        if not result.passed:
            raise ConversationFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, (ConversationFailed, ScriptError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"conversation {self.path.name}"


class ConversationFile(pytest.File):
    def collect(self):
        yield ConversationItem.from_parent(self, name=self.path.stem)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "conversations":
        return ConversationFile.from_parent(parent, path=file_path)
    return None
