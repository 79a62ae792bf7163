"""Shared by the tests/test_fake_telegram_*.py files: the fake server and a real PTB Bot
pointed at it, kept in one place so neither test file copies the other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram

from tests.fakes.telegram import FakeTelegram

USER = 4242


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def ptb_bot(telegram_api: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    bot = telegram.Bot(
        telegram_api.token,
        base_url=telegram_api.base_url,
        base_file_url=telegram_api.base_file_url,
    )
    async with bot:
        yield bot
