"""/healthz and /metrics: in webhook mode on the webhook server, in polling mode on ops.listen;
no metric carries a user id, chat id, name or text. Also `python -m bot run` in both modes."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.config import ConfigError
from bot.metrics import Metrics
from bot.ops import Ops, Server, ops_app, parse_listen, repository_ops
from core.clock import FrozenClock
from tests.conftest import CANARY, Bot, settings_for
from tests.e2e import onboard, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.processes import bot as start_bot
from tests.processes import run_env
from tests.webhook_helpers import SECRET, data_of, webhook_bot, webhook_settings

USER = 987_654_321  # distinctive digits, searched for in /metrics
NAME = "Zyxwvutsrq"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_webhook_server_serves_health_and_metrics_without_personal_data(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = webhook_settings(tmp_path, tg, llm)
    async with webhook_bot(settings, tg) as app:
        base = data_of(app).ops_url
        status, body = await get(base + "/healthz")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok" and health["database"] is True
        if health["last_retention_run"] is not None:  # the start-up purge may have run already
            datetime.fromisoformat(health["last_retention_run"])
        mark = tg.mark()
        tg.send_text(USER, "/start", first_name=NAME, username="zyx_handle")
        await tg.wait_for_message(USER, after=mark)
        await onboard(tg, USER)
        llm.enqueue(status=500)  # one failed attempt, then the answer
        llm.enqueue(f"echo {CANARY}")
        await say(tg, USER, f"secret words {CANARY}")
        async with asyncio.timeout(10):  # the start-up purge, as an operator sees it: polling
            while json.loads((await get(base + "/healthz"))[1])["last_retention_run"] is None:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        status, text = await get(base + "/metrics")
    assert status == 200
    values = samples(text)
    assert values[("amigo_retention_last_run_purged_rows", (("kind", "closed_accounts"),))] == 0
    assert values[("amigo_updates_received_total", (("kind", "text"),))] >= 1
    assert values[("amigo_updates_received_total", (("kind", "command"),))] >= 1
    assert values[("amigo_updates_received_total", (("kind", "button"),))] >= 1
    assert values[("amigo_replies_sent_total", ())] >= 3
    assert values[("amigo_model_latency_seconds_count", (("call", "stream"),))] >= 1 or (
        values[("amigo_model_latency_seconds_count", (("call", "complete"),))] >= 1
    )
    assert values[("amigo_model_errors_total", (("kind", "server"),))] == 1
    assert ("amigo_messages_waiting", ()) in values
    for personal in (str(USER), NAME, "zyx_handle", CANARY, "secret words"):
        assert personal not in text


async def test_polling_with_ops_listen_serves_health_and_metrics(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_OPS__LISTEN="127.0.0.1:0")
    async with Bot(settings, tg).running() as app:
        base = data_of(app).ops_url
        assert base.startswith("http://127.0.0.1:")
        status, body = await get(base + "/healthz")
        assert status == 200 and json.loads(body)["database"] is True
        status, text = await get(base + "/metrics")
        assert status == 200 and "amigo_updates_received_total" in text
        status, _ = await get(base + "/telegram")
        assert status == 404  # no webhook in polling mode
    assert tg.calls_of("getUpdates") and not tg.calls_of("setWebhook")


async def test_polling_without_ops_listen_serves_nothing(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    async with Bot(settings_for(tmp_path, tg, llm), tg).running() as app:
        assert data_of(app).ops_url == ""


class BrokenRepository:
    async def last_finished_run(self, job: str) -> Any:
        raise OSError("disk gone")

    async def unanswered(self, expired_by: datetime, limit: int = 1000) -> Any:
        raise OSError("disk gone")


async def test_health_is_503_when_the_database_does_not_answer() -> None:
    health, sources = repository_ops(BrokenRepository(), FrozenClock())  # type: ignore[arg-type]
    assert await health() == {"status": "fail", "database": False, "last_retention_run": None}
    metrics = Metrics()
    await metrics.refresh(sources)  # a broken database never breaks a scrape
    for ops in (Ops(metrics), Ops(metrics, health, sources)):
        server = ops_app(ops)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            status, body = await get(base + "/healthz")
            assert status == 503 and json.loads(body)["database"] is False
            status, _ = await get(base + "/metrics")
            assert status == 200
        finally:
            await runner.cleanup()


def test_labels_stay_in_their_fixed_sets() -> None:
    metrics = Metrics()
    metrics.update(str(USER))
    metrics.model_failed(CANARY)
    metrics.model_answered(NAME, 0.1)
    text = metrics.render().decode()
    assert str(USER) not in text and CANARY not in text and NAME not in text
    values = samples(text)
    assert values[("amigo_updates_received_total", (("kind", "other"),))] == 1
    assert values[("amigo_model_errors_total", (("kind", "other"),))] == 1
    fresh = samples(Metrics().render().decode())  # each bot has a registry of its own
    assert ("amigo_updates_received_total", (("kind", "other"),)) not in fresh


async def test_run_in_webhook_mode_sets_the_webhook_and_stops_on_sigterm(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    env = run_env(
        tg,
        llm,
        AMIGO_TELEGRAM__MODE="webhook",
        AMIGO_TELEGRAM__WEBHOOK_URL="https://amigo.test/telegram",
        AMIGO_TELEGRAM__WEBHOOK_LISTEN="127.0.0.1:0",
    )
    proc = await start_bot("run", tmp_path, env)  # no TELEGRAM_WEBHOOK_SECRET
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2 and len(err.decode().strip().splitlines()) == 1
    assert "TELEGRAM_WEBHOOK_SECRET" in err.decode()

    proc = await start_bot("run", tmp_path, {**env, "TELEGRAM_WEBHOOK_SECRET": SECRET})
    try:
        call = await tg.wait_for_call("setWebhook", timeout=30)
        assert call.params["secret_token"] == SECRET
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert not tg.calls_of("deleteWebhook") and not tg.calls_of("getUpdates")
    assert SECRET not in err.decode() and "Traceback" not in err.decode()


async def test_run_in_polling_mode_serves_health_on_ops_listen(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    env = run_env(tg, llm, AMIGO_OPS__LISTEN="127.0.0.1:0", AMIGO_LOGGING__FORMAT="json")
    proc = await start_bot("run", tmp_path, env)
    try:
        assert proc.stderr is not None
        port = None
        async with asyncio.timeout(30):
            while port is None:
                line = await proc.stderr.readline()
                assert line, "the bot ended before it listened"
                if b'"ops.listening"' in line:
                    port = json.loads(line)["port"]
        status, body = await get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]


async def test_a_bad_or_busy_listen_address_is_one_clear_line() -> None:
    with pytest.raises(ConfigError, match=r"ops\.listen: expected host:port"):
        parse_listen("8080", "ops.listen")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = Server(web.Application(), f"127.0.0.1:{port}", "ops.listen")
        with pytest.raises(
            ConfigError, match=rf"ops\.listen: cannot listen on 127\.0\.0\.1:{port}"
        ):
            await server.start()
