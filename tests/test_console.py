"""`python -m bot console`: the same handlers, onboarding and storage, in a terminal."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.conftest import MASTER_KEY
from tests.fakes import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent


async def test_console_onboards_and_chats(tmp_path: Path, llm: FakeOpenAI) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMIGO_", "OPENAI_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        AMIGO_MASTER_KEY=MASTER_KEY,
        AMIGO_STORAGE__DATABASE_PATH=str(tmp_path / "amigo.db"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        OPENAI_API_KEY="test",
    )
    script = "\n".join(["/start", "1", "1", "2", "2", "Sam", "1", "1", "hello there", ""])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "console",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(script.encode()), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "[1] I'm 18 or older" in text
    assert "All set! I'm Sam" in text
    assert "echo: hello there" in text
    assert "Traceback" not in text + err.decode()
    assert llm.requests[-1]["messages"][-1]["content"] == "hello there"
