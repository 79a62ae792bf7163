"""Several `python -m bot run` processes in webhook mode sharing one PostgreSQL, behind the fake
Bot API standing for Telegram and a load balancer (tests/test_e2e_workers.py, the benchmarks)."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

from tests.fakes import FakeOpenAI, FakeTelegram
from tests.processes import bot, run_env
from tests.webhook_helpers import PATH, PUBLIC_URL, SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Workers:
    """`python -m bot run` in webhook mode, one process per worker, sharing `url`."""

    def __init__(self, tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, url: str) -> None:
        self.tmp_path, self.tg, self.llm, self.url = tmp_path, tg, llm, url
        self.procs: list[asyncio.subprocess.Process] = []
        self.targets: list[str] = []

    async def start(self, **env: str) -> asyncio.subprocess.Process:
        n = len(self.procs)
        port = free_port()
        folder = self.tmp_path / f"worker{n}"
        folder.mkdir()
        settings = {
            "AMIGO_STORAGE__URL": self.url,
            "AMIGO_TELEGRAM__MODE": "webhook",
            "AMIGO_TELEGRAM__WEBHOOK_URL": PUBLIC_URL,
            "AMIGO_TELEGRAM__WEBHOOK_LISTEN": f"127.0.0.1:{port}",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "AMIGO_TELEGRAM__REQUESTS_PER_SECOND": "0",
            "AMIGO_COMPANION__BURST_WINDOW_SECONDS": "0",
            "AMIGO_MEMORY__ENABLED": "false",
            "AMIGO_LLM__STREAM": "false",
            "AMIGO_LLM__DEADLINE_SECONDS": "5",
            "AMIGO_WORKERS__LEASE_SECONDS": "6",
            "AMIGO_WORKERS__SWEEP_SECONDS": "0.5",
            "AMIGO_LIMITS__BURST": "1000",
            "AMIGO_LIMITS__PER_MINUTE": "100000",
            "AMIGO_LIMITS__REPEAT_THRESHOLD": "1000",
            **env,
        }
        mark = self.tg.mark()
        proc = await bot("run", folder, run_env(self.tg, self.llm, **settings))
        self.procs.append(proc)
        await self.tg.wait_for_call("setWebhook", timeout=30, after=mark)
        self.targets.append(f"http://127.0.0.1:{port}{PATH}")
        self.tg.webhook_targets = list(self.targets)
        return proc

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
            assert "Traceback" not in err.decode(), err.decode()[-3000:]
