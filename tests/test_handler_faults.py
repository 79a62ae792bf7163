"""Faults found by outside fault and load runs, shown through the dispatcher (fast).

A flood is told "slow down" once, not message for message; a failing handler is logged under its
own event name, which no `extra` field can overwrite; an export counts only once delivered; a
confirmation shown before confirmations carried their bounds is asked again, not carried out.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.app import handler_config
from bot.logs import JsonFormatter, TextFormatter
from bot.tokens import EstimateCounter
from core.clock import FrozenClock
from handlers.deletion import stamp
from handlers.deps import Deps
from handlers.limits import MemoryLimitStore
from handlers.router import Dispatcher
from handlers.texts import t
from storage.crypto import Vault
from storage.sqlite import SqliteRepository
from tests.conftest import make_settings
from tests.doubles import FakeModel, RecordingChannel
from tests.test_onboarding import USER, onboard, press, say

SLOW_DOWN = t("limits.slow_down", seconds=0).split("0 s")[0]


def tight_dispatcher(
    tmp_path: Path, repo: SqliteRepository, vault: Vault, clock: FrozenClock, model: FakeModel
) -> Dispatcher:
    """The handlers under a limit a person reaches: 3 at once, then one a minute."""
    settings = make_settings(tmp_path, AMIGO_LIMITS__BURST="3", AMIGO_LIMITS__PER_MINUTE="1")
    deps = Deps(
        repo=repo,
        model=model,
        tokens=EstimateCounter(),
        clock=clock,
        config=handler_config(settings),
        sign=lambda text: vault.pseudonym("sign", text),
    )
    return Dispatcher(deps)


def slow_downs(ch: RecordingChannel, since: int = 0) -> int:
    return sum(text.startswith(SLOW_DOWN) for text in ch.texts[since:])


# -- 2. a flood is told once ---------------------------------------------------------------------


async def test_a_flood_is_told_to_slow_down_once_per_refusal_window(
    tmp_path: Path,
    repo: SqliteRepository,
    vault: Vault,
    clock: FrozenClock,
    model: FakeModel,
) -> None:
    dispatcher = tight_dispatcher(tmp_path, repo, vault, clock, model)
    ch = RecordingChannel()
    await onboard(dispatcher, ch)  # "/start" takes one of the 3 tokens; buttons take none
    account = await repo.find_account(USER.tg_id)
    assert account is not None
    before = len(ch.texts)

    for n in range(50):
        await say(dispatcher, ch, f"flood {n}")
    answered = [text for text in ch.texts[before:] if text.startswith("echo: ")]
    assert answered == ["echo: flood 0", "echo: flood 1"]
    assert slow_downs(ch, before) == 1, ch.texts[before:]
    assert len(ch.texts) - before == 3  # two answers, one "slow down", 48 refused in silence
    # Still refused, counted and flagged as before: the flag needs `burst` refusals.
    limiter = dispatcher.limiter
    assert isinstance(limiter.store, MemoryLimitStore)
    bucket = limiter.store.buckets[limiter.bucket_key(USER.tg_id)]
    assert bucket.refused == 48 and bucket.flagged
    [flag] = await repo.open_flags()
    assert flag.category == "abuse.flood"

    # Once a token is back, the next message is answered, and the next flood is told once again.
    clock.advance(seconds=61)
    before = len(ch.texts)
    for n in range(20):
        await say(dispatcher, ch, f"again {n}")
    assert ch.texts[before] == "echo: again 0"
    assert slow_downs(ch, before) == 1 and len(ch.texts) - before == 2


# -- 3. a failing handler is logged as handler.failed --------------------------------------------


async def test_a_failing_handler_is_logged_as_handler_failed(
    dispatcher: Dispatcher,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a message that may quote the user")

    monkeypatch.setattr(dispatcher.info, "help", broken)
    caplog.set_level(logging.INFO, logger="amigo.router")
    ch = RecordingChannel()
    await say(dispatcher, ch, "/help")
    assert ch.texts == [t("error.generic")]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    line = json.loads(JsonFormatter().format(record))  # as the bot writes it
    assert line["event"] == "handler.failed", line
    assert line["kind"] == "Text" and "builtins.RuntimeError" in line["error"]
    assert "quote the user" not in json.dumps(line)


@pytest.mark.parametrize("key", ["event", "level", "logger", "ts"])
def test_no_extra_field_overwrites_what_a_log_line_is(key: str) -> None:
    record = logging.LogRecord("amigo.test", logging.INFO, __file__, 1, "thing.done", None, None)
    record.__dict__[key] = "from extra"  # what logging does with extra={key: ...}
    line = json.loads(JsonFormatter().format(record))
    assert (line["event"], line["level"], line["logger"]) == ("thing.done", "INFO", "amigo.test")
    assert line["ts"] != "from extra" and line[f"extra_{key}"] == "from extra"
    text = TextFormatter().format(record)
    assert " thing.done " in text and f"extra_{key}=from extra" in text


# -- 1. an export that was not delivered does not count -------------------------------------------


async def test_an_undelivered_export_is_not_counted(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    ch.undeliverable = 1  # the document
    await say(dispatcher, ch, "/export")
    [lost] = ch.undelivered
    assert lost.document is not None and ch.texts[-1] == t("export.failed")
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.last_export_at is None
    await say(dispatcher, ch, "/export")
    assert ch.replies[-1].document is not None
    account = await repo.find_account(USER.tg_id)
    assert account is not None and account.last_export_at is not None


# -- 5. a confirmation shown before confirmations carried their bounds --------------------------


async def test_a_confirmation_without_bounds_is_asked_again_not_carried_out(
    dispatcher: Dispatcher, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await onboard(dispatcher, ch)
    await say(dispatcher, ch, "keep me")
    account = await repo.find_account(USER.tg_id)
    assert account is not None
    [conversation] = await repo.conversations(account.id)

    await press(dispatcher, ch, f"delok:all.{stamp(account.created_at)}")
    assert ch.texts[-1] == t("delete.confirm.history", conversations=1, n=2)
    await press(dispatcher, ch, f"delok:c{conversation.id}.{stamp(conversation.started_at)}")
    assert ch.texts[-1].startswith(t("delete.confirm.conversation", date="", n=2)[:20])
    assert (await repo.inventory(account.id)).messages == 2

    await press(dispatcher, ch, ch.button("delok:c"))  # the fresh one is carried out
    assert ch.texts[-1].startswith(t("delete.done", conversations=1, n=2)), ch.texts[-1]
