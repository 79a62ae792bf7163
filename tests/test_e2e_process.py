"""The bot as a real process (`python -m bot run`) under many concurrent users, with Telegram's
pacing and a flood-control refusal on the way: each user's burst gets one reply, whose request
carries that user's messages in order, once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.e2e import onboard
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.processes import bot, run_env

USERS = list(range(9100, 9120))
MESSAGES = 3  # each user writes a burst of this many before any answer comes: one reply


async def test_twenty_users_in_bursts_each_get_their_own_answers_in_order(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    env = run_env(
        tg,
        llm,
        AMIGO_LIMITS__BURST="100",  # the test writes faster than a person may
        AMIGO_LIMITS__REPEAT_THRESHOLD="100",
    )  # telegram.requests_per_second stays at its production default (30)
    proc = await bot("run", tmp_path, env)
    try:
        await tg.wait_for_call("setMyCommands", timeout=30)
        await asyncio.gather(*(onboard(tg, u) for u in USERS))
        llm.default_delay = 0.3
        tg.fail_next("sendMessage", status=429, retry_after=1)  # flood control, mid-run
        mark = tg.mark()
        for i in range(MESSAGES):
            for user in USERS:
                tg.send_text(user, f"message {i} from {user}")
        await asyncio.gather(
            *(
                tg.wait_for_message(
                    u,
                    lambda m: m.text.startswith(f"echo: message {MESSAGES - 1}"),
                    after=mark,
                    timeout=60,
                )
                for u in USERS
            )
        )
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    for user in USERS:
        echoes = [m.text for m in tg.messages_to(user) if m.text.startswith("echo: ")]
        assert echoes == [f"echo: message {MESSAGES - 1} from {user}"], echoes
        (request,) = [r for r in llm.requests if f"from {user}" in r["messages"][-1]["content"]]
        said = [m["content"] for m in request["messages"] if m["role"] == "user"]
        assert said[-MESSAGES:] == [f"message {i} from {user}" for i in range(MESSAGES)]
    assert any(c.status == 429 for c in tg.calls[mark:])
    assert "Traceback" not in err.decode()
