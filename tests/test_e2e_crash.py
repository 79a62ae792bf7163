"""The bot as a real process, killed with SIGKILL while a message is in flight: after the restart
the message is answered exactly once, and the model is asked again only when it never answered.

The three moments: (a) after the message was stored, before the model was asked (held open by a
long burst window, during which the bot waits for more texts before asking); (b) during the model
call; (c) after the reply was stored, before Telegram took it.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from tests.e2e import onboard
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.processes import bot, run_env

USER = 9301


def count(db: Path, sql: str) -> int:
    """One number from the bot's database (rows counted, never read)."""
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


ACCEPTED = "SELECT count(*) FROM messages WHERE status = 'accepted'"
REPLIES = "SELECT count(*) FROM messages WHERE role = 'assistant' AND reply_to IS NOT NULL"


async def start(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, **env: str
) -> asyncio.subprocess.Process:
    mark = tg.mark()
    proc = await bot("run", tmp_path, run_env(tg, llm, **env))
    await tg.wait_for_call("setMyCommands", timeout=30, after=mark)
    return proc


async def kill(proc: asyncio.subprocess.Process) -> None:
    proc.kill()  # SIGKILL: no shutdown, no cleanup
    await asyncio.wait_for(proc.communicate(), timeout=30)


async def stop(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "Traceback" not in err.decode()


def sent_to(tg: FakeTelegram, mark: int) -> list[str]:
    """Texts that reached USER since `mark` (refused sends are not messages)."""
    return [
        c.message.text
        for c in tg.calls[mark:]
        if c.method == "sendMessage" and c.ok and c.message and c.message.chat_id == USER
    ]


async def wait_rows(db: Path, sql: str, n: int, seconds: float = 20) -> None:
    for _ in range(int(seconds * 20)):
        if db.exists() and count(db, sql) >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {n} rows of: {sql}")


async def restart_and_expect(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, mark: int, reply: str
) -> None:
    """Start the bot again; `reply` arrives, once, and nothing else since `mark`."""
    proc = await start(tmp_path, tg, llm)
    try:
        await tg.wait_for_message(USER, lambda m: reply in m.text, after=mark, timeout=30)
        await asyncio.sleep(1)  # time for a duplicate to show, if there were one
    finally:
        await stop(proc)
    assert sent_to(tg, mark) == [reply]


async def test_a_kill_after_storing_before_the_model_call_is_answered_after_the_restart(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = tmp_path / "data" / "amigo.db"
    proc = await start(tmp_path, tg, llm, AMIGO_COMPANION__BURST_WINDOW_SECONDS="10")
    try:
        await onboard(tg, USER)
        asked = len(llm.requests)
        mark = tg.mark()
        tg.send_text(USER, "did you get this?")
        await wait_rows(db, ACCEPTED, 1)  # stored; the bot now waits for the rest of a burst
        assert len(llm.requests) == asked
    finally:
        await kill(proc)
    assert count(db, ACCEPTED) == 1 and count(db, REPLIES) == 0

    await restart_and_expect(tmp_path, tg, llm, mark, "echo: did you get this?")
    assert len(llm.requests) == asked + 1  # asked once, after the restart
    assert count(db, ACCEPTED) == 0 and count(db, REPLIES) == 1


async def test_a_kill_during_the_model_call_is_answered_after_the_restart_by_asking_again(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = tmp_path / "data" / "amigo.db"
    proc = await start(tmp_path, tg, llm)
    try:
        await onboard(tg, USER)
        asked = len(llm.requests)
        llm.enqueue("this answer never arrives", delay=5)
        mark = tg.mark()
        tg.send_text(USER, "are you still there?")
        await llm.wait_for_requests(asked + 1, timeout=15)
    finally:
        await kill(proc)
    assert count(db, ACCEPTED) == 1 and count(db, REPLIES) == 0

    await restart_and_expect(tmp_path, tg, llm, mark, "echo: are you still there?")
    assert len(llm.requests) == asked + 2  # asked again after the restart, once
    assert llm.requests[-1]["messages"][-1]["content"] == "are you still there?"
    assert count(db, ACCEPTED) == 0 and count(db, REPLIES) == 1


async def test_a_kill_after_the_reply_was_stored_sends_it_after_the_restart_without_the_model(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    db = tmp_path / "data" / "amigo.db"
    proc = await start(tmp_path, tg, llm)
    try:
        await onboard(tg, USER)
        llm.enqueue("the stored answer")
        # Telegram refuses this chat's messages, so the reply is stored but never arrives.
        tg.fail_always(
            "sendMessage",
            status=403,
            description="Forbidden: bot was blocked by the user",
            when=lambda params: str(params.get("chat_id")) == str(USER),
        )
        mark = tg.mark()
        tg.send_text(USER, "remember this")
        await wait_rows(db, REPLIES, 1)
        asked = len(llm.requests)
    finally:
        await kill(proc)
    tg.clear_failures()
    assert count(db, ACCEPTED) == 1 and count(db, REPLIES) == 1

    await restart_and_expect(tmp_path, tg, llm, mark, "the stored answer")
    assert len(llm.requests) == asked  # no new model call
    assert count(db, ACCEPTED) == 0 and count(db, REPLIES) == 1  # stored once
