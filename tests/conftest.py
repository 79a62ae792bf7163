"""Fixtures that start real things: a real database, the real bot against fake servers on loopback.

The database is a SQLite file, or with AMIGO_TEST_BACKEND=postgres a throwaway PostgreSQL database
(tests/postgres.py) for every test; tests about the SQLite file itself are marked `sqlite_only`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from bot.app import Services, build_bot, handler_config, repository
from bot.config import Secrets, Settings, load_settings
from bot.logs import quiet_libraries
from bot.ptb_adapter import PTB_TIMEDELTA
from bot.runtime import TelegramBot
from bot.tokens import EstimateCounter
from core.clock import FrozenClock
from handlers.deps import Deps
from handlers.router import Dispatcher
from storage.crypto import Vault
from storage.sqlite import SqlRepository
from tests import postgres
from tests.doubles import FakeModel
from tests.fakes import FakeOpenAI, FakeTelegram


def pytest_configure(config: pytest.Config) -> None:
    """PTB's durations as timedelta, as bot/ptb_adapter.py sets for the bot; deprecation
    warnings are errors (pyproject.toml), so a new one fails here instead of being filtered."""
    os.environ[PTB_TIMEDELTA] = "1"
    config.addinivalue_line(
        "markers", "sqlite_only: about the SQLite file itself; skipped on PostgreSQL"
    )
    config.addinivalue_line(
        "markers",
        "postgres_always: runs on PostgreSQL in every run; not run a second time when the "
        "whole suite runs on PostgreSQL",
    )


NO_DATABASE = frozenset(
    f"test_{name}.py"
    for name in [
        "admin_table",
        "config",
        "deploy_files",
        "distress",
        "distress_model",
        "fake_openai",
        "fake_telegram_drafts",
        "fake_telegram_messages",
        "fake_telegram_payments",
        "fake_telegram_server",
        "fake_telegram_webhook",
        "layers",
        "minor_and_ai",
        "render",
        "safety",
        "safety_rules",
        "split",
        "texts",
    ]
)
"""Modules that never touch a database: the same on either backend, run once."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass leaves out what the SQLite pass already ran on PostgreSQL, and what
    touches no database at all."""
    if not postgres.on_postgres():
        return

    def again(item: pytest.Item) -> bool:
        return (
            item.path.name in NO_DATABASE or item.get_closest_marker("postgres_always") is not None
        )

    if left_out := [item for item in items if again(item)]:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not again(item)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if postgres.on_postgres() and item.get_closest_marker("sqlite_only") is not None:
        pytest.skip("about the SQLite file itself (AMIGO_TEST_BACKEND=postgres)")


@pytest.fixture(autouse=True)
def _throwaway_databases() -> Iterator[None]:
    """Drop the PostgreSQL schemas a test's settings pointed at, after everything closed."""
    yield
    if postgres.on_postgres():
        postgres.drop_test_schemas()


MASTER_KEY = "q3jTuk7lX4oF1s0p2mPZ2XJmE6m0yY4vH3bQ5rX8c1A="
CANARY = "CANARY-7f3a9e-purple-elephant"


LIBRARIES = ("python-telegram-bot", "aiogram")
BOTH_LIBRARIES = frozenset(
    f"test_{name}.py"
    for name in [
        "bursts",
        "e2e_chat",
        "e2e_delete",
        "e2e_delivery",
        "e2e_export",
        "e2e_faults",
        "e2e_hindi",
        "e2e_payments",
        "e2e_rights",
        "e2e_safety",
        "screens_true",
        "webhook",
    ]
)
"""End-to-end modules run against both Telegram libraries (telegram.library): chat, bursts and
streaming, onboarding, the rights, deletion, export, Hindi, payments, faults, safety and webhook
mode. The rest run on python-telegram-bot, the default; the adapter is the only difference."""
_library = LIBRARIES[0]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Both libraries for BOTH_LIBRARIES, on the SQLite pass (the adapter does not touch
    storage: the PostgreSQL pass runs the default one)."""
    module = metafunc.definition.path.name
    wanted = "telegram_library" in metafunc.fixturenames and module in BOTH_LIBRARIES
    if wanted and not postgres.on_postgres():
        metafunc.parametrize("telegram_library", LIBRARIES, indirect=True)


@pytest.fixture(autouse=True)
def telegram_library(request: pytest.FixtureRequest) -> Iterator[str]:
    """The Telegram library the settings of this test name (make_settings reads it)."""
    global _library
    _library = str(getattr(request, "param", LIBRARIES[0]))
    try:
        yield _library
    finally:
        _library = LIBRARIES[0]


def make_settings(tmp_path: Path, **env: str) -> Settings:
    config = tmp_path / "config.toml"
    config.touch()
    base = {
        "AMIGO_STORAGE__DATABASE_PATH": str(tmp_path / "amigo.db"),
        "AMIGO_SECURITY__MASTER_KEY_FILE": str(tmp_path / "master.key"),
        "AMIGO_LLM__BACKOFF_SECONDS": "0.01",
        "AMIGO_LLM__TIMEOUT_SECONDS": "5",
        "AMIGO_TELEGRAM__POLL_TIMEOUT_SECONDS": "1",
        "AMIGO_PRIVACY__CONTACT_EMAIL": "privacy@amigo.test",
        # Tests type faster than people: limits get their own tests with their own settings.
        "AMIGO_LIMITS__BURST": "1000",
        "AMIGO_LIMITS__PER_MINUTE": "100000",
        "AMIGO_LIMITS__REPEAT_THRESHOLD": "1000",
        "AMIGO_LIMITS__DAILY_MESSAGES": "100000",
        "AMIGO_COMPANION__BURST_WINDOW_SECONDS": "0",  # one reply each; test_bursts.py merges
        "AMIGO_MEMORY__ENABLED": "false",  # no extraction calls to count; memory tests turn it on
        # The fake Bot API has no rate limit; flood control (a 429) is still handled by the limiter.
        "AMIGO_TELEGRAM__REQUESTS_PER_SECOND": "0",
        "AMIGO_TELEGRAM__LIBRARY": _library,
    }
    if postgres.on_postgres():
        base |= postgres.settings_for(tmp_path)
    return load_settings({**base, **env}, path=str(config))


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of the test's own: its URL; dropped afterwards."""
    name = postgres.create_database()
    yield postgres.url_of(name)
    postgres.drop(name)


@pytest.fixture
def secrets() -> Secrets:
    return Secrets(telegram_bot_token=None, openai_api_key="test-key", master_key=MASTER_KEY)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def vault() -> Vault:
    return Vault(bytes(range(32)))


@pytest.fixture
async def repo(tmp_path: Path, vault: Vault, clock: FrozenClock) -> AsyncIterator[SqlRepository]:
    """The repository the settings of `tmp_path` name (SQLite file or PostgreSQL database)."""
    opened = repository(make_settings(tmp_path), vault, clock)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def dispatcher(
    tmp_path: Path, repo: SqlRepository, vault: Vault, clock: FrozenClock, model: FakeModel
) -> Dispatcher:
    """Handlers with a real repository and a fake model: fast tests of the logic."""
    deps = Deps(
        repo=repo,
        model=model,
        tokens=EstimateCounter(),
        clock=clock,
        config=handler_config(make_settings(tmp_path)),
        sign=lambda text: vault.pseudonym("sign", text),
    )
    return Dispatcher(deps)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def e2e_settings(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI) -> Settings:
    return make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
    )


def settings_for(
    tmp_path: Path,
    tg: FakeTelegram,
    llm: FakeOpenAI,
    *,
    staff: dict[int, str] | None = None,
    **env: str,
) -> Settings:
    """Settings pointing at the fakes; `staff` is written to the config file as [[admin.staff]]."""
    tables = (staff or {}).items()
    (tmp_path / "config.toml").write_text(
        "".join(f'[[admin.staff]]\nuser_id = {uid}\nrole = "{role}"\n\n' for uid, role in tables)
    )
    return make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        **env,
    )


class Bot:
    """Starts and stops the real bot (the library of `telegram.library`) against the fakes,
    optionally with a clock the test moves."""

    def __init__(
        self, settings: Settings, tg: FakeTelegram, clock: FrozenClock | None = None
    ) -> None:
        self.settings = settings
        self.secrets = Secrets(tg.token, "test-key", MASTER_KEY)
        self.clock = clock

    def running(self, settings: Settings | None = None) -> AbstractAsyncContextManager[TelegramBot]:
        settings = settings or self.settings
        return build_bot(settings, self.secrets, clock=self.clock).running()


@pytest.fixture
async def bot(e2e_settings: Settings, tg: FakeTelegram) -> AsyncIterator[Bot]:
    """The real bot, polling the fake Telegram and asking the fake LLM."""
    harness = Bot(e2e_settings, tg)
    async with harness.running():
        yield harness


@pytest.fixture
def caplog_all(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record at DEBUG from our loggers, libraries at the level production allows."""
    caplog.set_level(logging.DEBUG)
    quiet_libraries()
    yield caplog


__all__ = ["CANARY", "Services"]
