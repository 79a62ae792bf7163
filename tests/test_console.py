"""The command line: `python -m bot console` (the same handlers, onboarding and storage, in a
terminal) and `python -m bot run` (the real bot), each as a subprocess."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.conftest import MASTER_KEY
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.processes import bot, clean_env, run_env


async def test_console_onboards_and_chats(tmp_path: Path, llm: FakeOpenAI) -> None:
    env = clean_env(
        AMIGO_MASTER_KEY=MASTER_KEY,
        AMIGO_STORAGE__DATABASE_PATH=str(tmp_path / "amigo.db"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        OPENAI_API_KEY="test",
    )
    script = "\n".join(["/start", "1", "1", "2", "2", "Sam", "1", "1", "hello there", ""])
    proc = await bot("console", tmp_path, env)
    out, err = await asyncio.wait_for(proc.communicate(script.encode()), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "[1] I'm 18 or older" in text
    assert "All set! I'm Sam" in text
    assert "echo: hello there" in text
    assert "Traceback" not in text + err.decode()
    assert llm.requests[-1]["messages"][-1]["content"] == "hello there"


async def test_console_answers_lines_typed_in_a_row_together(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    """As in Telegram: texts typed while a reply is on its way are one burst, one reply."""
    env = clean_env(
        AMIGO_MASTER_KEY=MASTER_KEY,
        AMIGO_STORAGE__DATABASE_PATH=str(tmp_path / "amigo.db"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        AMIGO_COMPANION__BURST_WINDOW_SECONDS="1",
    )
    onboarding = ["/start", "1", "1", "2", "2", "1", "1", "1"]
    script = "\n".join([*onboarding, "hey", "so", "guess what", ""])
    proc = await bot("console", tmp_path, env)
    out, err = await asyncio.wait_for(proc.communicate(script.encode()), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "All set!" in text
    assert text.count("echo:") == 1 and "echo: guess what" in text
    chat = [m for m in llm.requests[-1]["messages"] if m["role"] == "user"]
    assert [m["content"] for m in chat[-3:]] == ["hey", "so", "guess what"]


async def test_without_a_master_key_one_is_created_owner_only_with_a_loud_warning(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    env = clean_env(AMIGO_LLM__BASE_URL=llm.base_url)
    proc = await bot("console", tmp_path, env)
    _, err = await asyncio.wait_for(proc.communicate(b"/help\n"), timeout=60)
    key = tmp_path / "data" / "master.key"
    assert key.exists() and key.stat().st_mode & 0o077 == 0
    assert "BACK IT UP" in err.decode()
    db = tmp_path / "data" / "amigo.db"
    assert db.exists() and db.stat().st_mode & 0o077 == 0
    # A different key than the database was made with is refused in one line.
    proc = await bot("console", tmp_path, {**env, "AMIGO_MASTER_KEY": "00" * 32})
    _, err = await asyncio.wait_for(proc.communicate(b""), timeout=60)
    assert proc.returncode == 2 and "does not match this database" in err.decode()
    assert "Traceback" not in err.decode()


async def test_the_run_command_serves_telegram_and_stops_cleanly(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """`python -m bot run` end to end: long polling, logs without the token, a clean Ctrl-C."""
    proc = await bot("run", tmp_path, run_env(tg, llm))
    try:
        await tg.wait_for_call("setMyCommands", timeout=30)
        tg.send_text(77, "/start")
        await tg.wait_for_message(77, lambda m: "18 or older?" in m.text, timeout=30)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    logs = err.decode()
    assert '"event": "bot.started"' in logs and tg.token not in logs
    assert "Traceback" not in logs
