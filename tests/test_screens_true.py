"""Every screen is true (issue 13, item 1): who receives data, the privacy contact, the lawful
basis under the DPDP Act 2023 and the route to the Data Protection Board of India."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from bot.config import LLMSettings, is_example_address
from handlers.texts import t
from tests.conftest import MASTER_KEY, Bot, settings_for
from tests.e2e import onboard, press, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import SentMessage
from tests.processes import bot as start
from tests.processes import clean_env, run_env

ALICE = 1301
BOARD = "Data Protection Board of India"


async def privacy_screens(tg: FakeTelegram, user: int) -> tuple[SentMessage, SentMessage]:
    """/privacy's two messages: the summary, then purposes with the rights buttons."""
    mark = tg.mark()
    tg.send_text(user, "/privacy")
    summary = await tg.wait_for_message(user, lambda m: "Your privacy" in m.text, after=mark)
    purposes = await tg.wait_for_message(
        user, lambda m: any("/mydata" in label for label, _ in m.buttons()), after=mark
    )
    return summary, purposes


async def exported(tg: FakeTelegram, user: int) -> dict[str, Any]:
    mark = tg.mark()
    tg.send_text(user, "/export")
    msg = await tg.wait_for_message(user, lambda m: m.document_bytes is not None, after=mark)
    assert msg.document_bytes is not None
    data: dict[str, Any] = json.loads(msg.document_bytes)
    return data


# -- recipients ------------------------------------------------------------------------------------


@pytest.mark.promise("P7.1")
@pytest.mark.promise("P9.1")
async def test_privacy_mydata_and_export_name_every_recipient(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """The model provider by its configured name, Telegram, and the moderation endpoint (set)."""
    settings = settings_for(
        tmp_path,
        tg,
        llm,
        AMIGO_LLM__PROVIDER_NAME="Acme Local Models",
        AMIGO_SAFETY__MODERATION_MODEL="omni-moderation-latest",
    )
    lines = [
        "• Our AI model provider (Acme Local Models): your recent messages, to generate replies",
        "• Telegram: it carries every message between you and Amigo",
        "• The moderation endpoint of Acme Local Models: each message you send",
    ]
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        summary, _ = await privacy_screens(tg, ALICE)
        mydata = await say(tg, ALICE, "/mydata")
        data = await exported(tg, ALICE)
    for screen in (summary.text, mydata.text):
        assert all(line in screen for line in lines), screen
        assert "OpenAI" not in screen
    assert data["recipients"] == [
        {"name": "Acme Local Models", "purpose": "generating replies"},
        {"name": "Telegram", "purpose": "carrying every message between you and Amigo"},
        {
            "name": "Acme Local Models (moderation endpoint)",
            "purpose": "checking each message you send for signs of distress",
        },
    ]


@pytest.mark.promise("P7.1")
async def test_without_a_moderation_model_no_moderation_endpoint_is_named(
    bot: Bot, tg: FakeTelegram
) -> None:
    await onboard(tg, ALICE)
    summary, _ = await privacy_screens(tg, ALICE)
    mydata = await say(tg, ALICE, "/mydata")
    data = await exported(tg, ALICE)
    for screen in (summary.text, mydata.text):
        assert "• Telegram: it carries every message" in screen
        assert "moderation" not in screen
    assert [r["name"] for r in data["recipients"]][1:] == ["Telegram"]


@pytest.mark.promise("P7.1")
async def test_a_server_that_is_not_openai_is_never_called_openai(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """provider_name left at "OpenAI" with a loopback base_url: start-up warns, naming the key,
    and every screen says "the server at <host>". Control: OpenAI's own URL keeps "OpenAI"."""
    settings = settings_for(tmp_path, tg, llm)
    host = llm.base_url.removeprefix("http://").removesuffix("/v1")
    label = f"the server at {host}"
    caplog.set_level(logging.WARNING, logger="amigo.app")
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE)
        summary, _ = await privacy_screens(tg, ALICE)
        mydata = await say(tg, ALICE, "/mydata")
        data = await exported(tg, ALICE)
    [warning] = [r for r in caplog.records if r.getMessage() == "config.provider_name_unset"]
    assert warning.levelno == logging.WARNING
    assert warning.__dict__["set"] == "llm.provider_name"
    assert warning.__dict__["env"] == "AMIGO_LLM__PROVIDER_NAME"
    for screen in (summary.text, mydata.text):
        assert f"Our AI model provider ({label})" in screen and "OpenAI" not in screen
    assert data["recipients"][0]["name"] == label

    assert LLMSettings().provider_label == "OpenAI" and not LLMSettings().provider_unnamed
    assert LLMSettings(base_url="http://x:1/v1", provider_name="Ollama").provider_label == "Ollama"
    secret = LLMSettings(base_url="https://user:s3cret@LLM.internal:8443/v1")
    assert secret.provider_unnamed and secret.provider_label == "the server at llm.internal:8443"


# -- the privacy contact ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "example"),
    [
        ("privacy@example.com", True),
        ("dpo@EXAMPLE.org", True),
        ("dpo@mail.example.net", True),
        ("dpo@amigo.example", True),
        ("privacy@amigo.test", False),
        ("privacy@allamigo.in", False),
        ("example@allamigo.in", False),
        ("dpo@myexample.com", False),
    ],
)
def test_example_addresses_are_recognised(address: str, example: bool) -> None:
    assert is_example_address(address) is example


@pytest.mark.promise("P18.1")
@pytest.mark.parametrize("address", ["privacy@example.com", "dpo@mail.example.org"])
async def test_run_refuses_an_example_privacy_contact_in_one_line(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, address: str
) -> None:
    env = run_env(tg, llm, AMIGO_PRIVACY__CONTACT_EMAIL=address)
    proc = await start("run", tmp_path, env)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "privacy.contact_email" in lines[0] and "AMIGO_PRIVACY__CONTACT_EMAIL" in lines[0]
    assert "Traceback" not in err.decode() + out.decode()
    assert tg.calls == []  # refused before a single request to Telegram


async def test_the_console_may_use_the_example_contact(tmp_path: Path, llm: FakeOpenAI) -> None:
    env = clean_env(
        AMIGO_MASTER_KEY=MASTER_KEY,
        AMIGO_STORAGE__DATABASE_PATH=str(tmp_path / "amigo.db"),
        AMIGO_LLM__BASE_URL=llm.base_url,
    )
    proc = await start("console", tmp_path, env)
    out, err = await asyncio.wait_for(proc.communicate(b"/help\n"), timeout=60)
    assert proc.returncode == 0, err.decode()
    assert "privacy@example.com" in out.decode()


# -- lawful basis and the route to the Board -------------------------------------------------------


@pytest.mark.promise("P5.1")
async def test_each_purpose_keeps_the_policys_basis_and_adds_its_dpdp_basis(
    bot: Bot, tg: FakeTelegram
) -> None:
    _, screen = await privacy_screens(tg, ALICE)
    shown = [line for line in screen.text.splitlines() if line.startswith("• ")]
    assert shown == t("privacy.purpose_list").splitlines()
    policy_bases = {
        "Providing the Service": "performance of contract / your consent",
        "Account management": "performance of contract",
        "Payments": "performance of contract / legal obligation",
        "Safety and abuse prevention": "legitimate interests / legal obligation",
        "Service improvement": "legitimate interests",
        "Model improvement": "your consent where required",
        "Communications": "performance of contract / legitimate interests",
        "Marketing": "your consent",
        "Legal compliance": "legal obligation",
    }
    assert len(shown) == len(policy_bases)
    for line, (purpose, basis) in zip(shown, policy_bases.items(), strict=True):
        policy_part, _, dpdp = line.partition(". DPDP: ")
        assert policy_part.startswith(f"• {purpose}") and policy_part.endswith(f": {basis}")
        assert re.search(r"\(s\. (6|7\([a-i]\))", dpdp), line  # consent or a s. 7 legitimate use
    optional = [line for line in shown if "opt in" in line]
    assert len(optional) == 2 and all("DPDP: your consent (s. 6)" in line for line in optional)
    legal = shown[-1]
    assert "s. 7(d)" in legal and "s. 7(e)" in legal


def names_the_board_after_the_grievance_route(text: str) -> bool:
    return t("policy.complain") in text and text.index("/grievance") < text.index(BOARD)


async def test_every_notice_screen_names_the_board_after_the_grievance_route(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    """Onboarding's terms screen, /privacy, /mydata and the policy-change screen."""
    async with Bot(settings_for(tmp_path, tg, llm), tg).running():
        ask = await say(tg, ALICE, "/start")
        terms = await press(tg, ALICE, ask, "I'm 18 or older")
        assert "accept the Terms" in terms.text
        assert names_the_board_after_the_grievance_route(terms.text)
        await onboard(tg, ALICE + 1)
        summary, _ = await privacy_screens(tg, ALICE + 1)
        mydata = await say(tg, ALICE + 1, "/mydata")
        for screen in (summary, mydata):
            assert names_the_board_after_the_grievance_route(screen.text), screen.text
    for version, material in (("2026-12-01", "false"), ("2026-12-02", "true")):
        changed = settings_for(
            tmp_path,
            tg,
            llm,
            AMIGO_PRIVACY__POLICY_VERSION=version,
            AMIGO_PRIVACY__POLICY_MATERIAL=material,
        )
        async with Bot(changed, tg).running():
            notice = await say(tg, ALICE + 1, "hello", containing="privacy policy")
            assert names_the_board_after_the_grievance_route(notice.text), notice.text
