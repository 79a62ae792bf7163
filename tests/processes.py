"""Starting `python -m bot ...` as a real subprocess, with an environment of the test's own."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.conftest import MASTER_KEY
from tests.fakes import FakeOpenAI, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without any Amigo or OpenAI setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMIGO_", "OPENAI_"))}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


async def bot(command: str, cwd: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        command,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def run_env(tg: FakeTelegram, llm: FakeOpenAI, **extra: str) -> dict[str, str]:
    """What `python -m bot run` needs to serve the fake Telegram with the fake model."""
    # `run` refuses an example.* privacy contact; a reserved .test domain is what tests use.
    contact = {"AMIGO_PRIVACY__CONTACT_EMAIL": "privacy@amigo.test"}
    return clean_env(
        TELEGRAM_BOT_TOKEN=tg.token,
        AMIGO_MASTER_KEY=MASTER_KEY,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_TELEGRAM__POLL_TIMEOUT_SECONDS="1",
        AMIGO_LLM__BASE_URL=llm.base_url,
        **{**contact, **extra},
    )
