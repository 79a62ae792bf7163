"""Memory: facts made in the background (handlers/memory.py), /memory (handlers/memory_command.py),
and JSON mode in the LLM client. Handler tests with a real SQLite file, then the real bot over HTTP."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import LLMSettings
from bot.llm import OpenAIChatModel
from handlers.memory import EXTRACT_PROMPT, near_duplicate, parse_answer
from handlers.ports import Turn
from handlers.router import Dispatcher
from jobs.memory import run_memory_idle
from safety.sensitive import sensitive_kind
from storage.models import Memory
from storage.sqlite import SqliteRepository
from tests import canary
from tests import db as stored
from tests.conftest import Bot, settings_for
from tests.doubles import FakeModel, RecordingChannel
from tests.e2e import onboard as onboard_e2e
from tests.e2e import press as press_e2e
from tests.e2e import press_for_edit
from tests.e2e import say as say_e2e
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.test_onboarding import USER, onboard, press, say

MARK = EXTRACT_PROMPT[:30]


class MemoryModel(FakeModel):
    """Replies echo; extraction calls (the fixed prompt) are kept apart and answered from
    `answers` (then with no facts)."""

    def __init__(self) -> None:
        super().__init__()
        self.extractions: list[list[Turn]] = []
        self.answers: list[str] = []

    async def complete(
        self, messages: Sequence[Turn], *, max_tokens: int, json_object: bool = False
    ) -> str:
        if messages[0]["content"].startswith(MARK):
            assert json_object
            self.extractions.append(list(messages))
            return self.answers.pop(0) if self.answers else '{"facts": []}'
        return await super().complete(messages, max_tokens=max_tokens)


def facts(*texts: str, replaces: int | None = None, summary: str | None = None) -> str:
    body: dict[str, Any] = {"facts": [{"text": t, "replaces": replaces} for t in texts]}
    if summary is not None:
        body["summary"] = summary
    return json.dumps(body)


def with_memory(dispatcher: Dispatcher, model: FakeModel, **memory: Any) -> Dispatcher:
    deps = dispatcher.deps
    settings = {"enabled": True, "extract_every_messages": 3, **memory}
    config = replace(deps.config, memory=replace(deps.config.memory, **settings))
    return Dispatcher(replace(deps, config=config, model=model))


async def chat(d: Dispatcher, ch: RecordingChannel, *texts: str) -> None:
    """Say each text, waiting for the background memory work after each reply."""
    for text in texts:
        await say(d, ch, text)
        await d.memory.drain()


async def account_id(repo: SqliteRepository) -> int:
    account = await repo.find_account(USER.tg_id)
    assert account is not None
    return account.id


async def remembered(repo: SqliteRepository) -> list[Memory]:
    return await repo.memories(await account_id(repo))


@pytest.fixture
def model_m() -> MemoryModel:
    return MemoryModel()


@pytest.fixture
async def d(dispatcher: Dispatcher, model_m: MemoryModel) -> Dispatcher:
    memory = with_memory(dispatcher, model_m)
    await onboard(memory, RecordingChannel())
    return memory


# -- extraction ----------------------------------------------------------------------------------


async def test_facts_are_asked_for_once_every_n_messages(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    model_m.answers.append(facts("Is called Asha."))
    await chat(d, RecordingChannel(), *[f"message {i}" for i in range(7)])
    assert len(model_m.extractions) == 2  # after the 3rd and the 6th; the 7th waits
    transcript = model_m.extractions[0][1]["content"]
    assert "Person: message 0" in transcript and "Person: message 2" in transcript
    assert "message 3" not in transcript
    assert "message 3" in model_m.extractions[1][1]["content"]
    assert "message 2" not in model_m.extractions[1][1]["content"]
    [memory] = await remembered(repo)
    account = await repo.find_account(USER.tg_id)
    assert account is not None
    assert (memory.text, memory.manual) == ("Is called Asha.", False)
    assert memory.conversation_id == account.conversation_id


async def test_facts_from_history_deleted_while_the_model_read_it_are_not_kept(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    """/delete runs beside background extraction: what it learnt from deleted messages is
    dropped, not stored."""
    user = await account_id(repo)

    class DeletingModel(MemoryModel):
        async def complete(
            self, messages: Sequence[Turn], *, max_tokens: int, json_object: bool = False
        ) -> str:
            if messages[0]["content"].startswith(MARK):  # meanwhile: one more message, then
                # /delete "this conversation" as shown before it: the conversation stays
                account = await repo.find_account(USER.tg_id)
                assert account is not None and account.conversation_id is not None
                conversation = account.conversation_id
                read = (await repo.messages_after(user, 0, 1000))[-1][1].id
                await repo.accept_message(
                    user, conversation, "a newer message", claimed_until=datetime.now(UTC)
                )
                await repo.delete_conversation(
                    user, conversation, through_message=read, shown_at=datetime.now(UTC)
                )
            return await super().complete(messages, max_tokens=max_tokens, json_object=json_object)

    model = DeletingModel()
    model.answers.append(facts("Has a dog called Bruno."))
    deleting = with_memory(d, model)
    await chat(deleting, RecordingChannel(), "one", "two", "I have a dog called Bruno")
    assert len(model.extractions) == 1
    assert await remembered(repo) == []


@pytest.mark.promise("P6.1")
async def test_a_fact_told_before_new_is_in_the_next_conversations_request(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await chat(d, ch, "my sister Meera visits on Friday")
    model_m.answers.append(
        facts("Has a sister called Meera.", summary="They talked about Meera's visit.")
    )
    await say(d, ch, "/new")
    await d.memory.drain()
    assert len(model_m.extractions) == 1  # the conversation ended: read, and summarised
    assert "Summary: the conversation has ended" in model_m.extractions[0][0]["content"]
    [summary] = await repo.summaries(await account_id(repo), 5)
    assert summary.text == "They talked about Meera's visit."
    await say(d, ch, "who visits me?")
    request = "\n".join(turn["content"] for turn in model_m.history[-1])
    assert "Has a sister called Meera." in request


@pytest.mark.promise("P6.1")
async def test_a_fact_outlives_500_messages_and_forgetting_it_removes_it_everywhere(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    marker = canary.new("pet")
    model_m.answers.append(facts(f"Has a cat called {marker}."))
    await chat(d, ch, "hello", "you know", f"my cat is called {marker}")
    await chat(d, ch, *[f"small talk {i}" for i in range(500)])
    await say(d, ch, "/new")
    await d.memory.drain()
    await say(d, ch, "what is my cat called?")
    request = "\n".join(turn["content"] for turn in model_m.history[-1])
    assert f"Has a cat called {marker}." in request  # 500 messages and a /new later

    await say(d, ch, "/memory forget 1")
    await say(d, ch, "and now?")
    request = "\n".join(turn["content"] for turn in model_m.history[-1])
    assert f"Has a cat called {marker}." not in request
    assert await remembered(repo) == []  # the row is gone (and its text was only ever sealed)
    assert stored.cells_containing(repo, marker) == []
    if not stored.is_postgres(repo):  # every file of the data directory too, byte for byte
        assert canary.files_containing(repo.path.parent, marker) == []


async def test_a_sensitive_fact_is_not_kept_but_memory_add_keeps_it(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    model_m.answers.append(
        facts(
            "Has diabetes.",
            "Is a practising Hindu.",
            "Her Aadhaar number is 1234 5678 9012.",
            "Votes for the BJP.",
            "Her password is tiger99.",
            "Has a sister called Meera.",
        )
    )
    ch = RecordingChannel()
    await chat(d, ch, "one", "two", "three")
    assert "NEVER include: health" in model_m.extractions[0][0]["content"]
    assert [m.text for m in await remembered(repo)] == ["Has a sister called Meera."]
    await say(d, ch, "/memory add I have diabetes")
    assert ch.texts[-1] == "I'll remember: I have diabetes"
    kept = await remembered(repo)
    assert [(m.text, m.manual, m.conversation_id) for m in kept][-1] == (
        "I have diabetes",
        True,
        None,
    )


async def test_a_distress_message_is_never_sent_for_extraction(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    await chat(
        d, RecordingChannel(), "I love painting", "I want to kill myself", "my cat is Biscuit"
    )
    [turns] = model_m.extractions
    transcript = turns[1]["content"]
    assert "painting" in transcript and "Biscuit" in transcript
    assert "kill myself" not in transcript  # nor the reply that echoed it
    assert transcript.count("Person:") == 2


async def test_a_malformed_answer_changes_nothing_and_is_not_asked_again(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository, caplog: pytest.LogCaptureFixture
) -> None:
    ch = RecordingChannel()
    await say(d, ch, "/memory add I'm vegetarian")
    model_m.answers += ["Sure! Here are the facts: Has a cat.", '{"facts": "nope"}', ""]
    with caplog.at_level("INFO", logger="amigo.memory"):
        await chat(d, ch, *[f"m{i}" for i in range(9)])
    assert len(model_m.extractions) == 3
    assert [m.text for m in await remembered(repo)] == ["I'm vegetarian"]
    malformed = [r for r in caplog.records if r.msg == "memory.malformed"]
    assert len(malformed) == 3
    assert all("Has a cat" not in r.getMessage() for r in caplog.records)


async def test_memory_off_for_the_person_or_the_service_extracts_nothing(
    dispatcher: Dispatcher, d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await say(d, ch, "/memory off")
    await press(d, ch, ch.button("mem:offkeep"))
    assert "Memory is off" in ch.texts[-1]
    await chat(d, ch, "a", "b", "c", "d")
    await say(d, ch, "/new")
    await d.memory.drain()
    assert model_m.extractions == []
    # Switched on again: what was said while off is never read.
    await say(d, ch, "/memory on")
    assert ch.texts[-1].startswith("Memory is on")
    await chat(d, ch, "e", "f", "g")
    [turns] = model_m.extractions
    assert "Person: a" not in turns[1]["content"] and "Person: e" in turns[1]["content"]
    # Off for everyone (the tests' default): nothing at all.
    plain = MemoryModel()
    off = Dispatcher(replace(dispatcher.deps, model=plain))
    await chat(off, ch, "h", "i", "j", "k")
    await say(off, ch, "/new")
    await off.memory.drain()
    assert plain.extractions == []


async def test_near_duplicates_merge_and_a_correction_replaces(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    model_m.answers += [
        facts("Has a sister called Meera.", "Likes green tea."),
        facts("has a sister called meera", "Has a sister called Meera who lives in Pune."),
        facts("Lives in Mumbai.", replaces=2),
    ]
    await chat(d, RecordingChannel(), *[f"m{i}" for i in range(9)])
    texts = [m.text for m in await remembered(repo)]
    assert texts == ["Has a sister called Meera who lives in Pune.", "Lives in Mumbai."]


async def test_the_cap_forgets_the_least_used_oldest_and_memory_says_so(
    dispatcher: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    d = with_memory(dispatcher, model_m, max_items=10)
    ch = RecordingChannel()
    await onboard(d, ch)
    uid = await account_id(repo)
    for i in range(10):
        await repo.add_memory(uid, f"Old fact number {i}.", conversation_id=None, manual=False)
    first = (await repo.memories(uid))[0].id
    await repo.mark_memories_used(uid, [first])
    model_m.answers.append(facts("Plays the violin."))
    await chat(d, ch, "x", "y", "z")
    texts = [m.text for m in await repo.memories(uid)]
    assert len(texts) == 10
    assert "Plays the violin." in texts and "Old fact number 0." in texts  # used: kept
    assert "Old fact number 1." not in texts
    await say(d, ch, "/memory")
    assert "The list is full (10)" in ch.texts[-1]
    assert "10 of at most 10" in ch.texts[-1]


async def test_an_idle_conversation_is_read_and_summarised_once(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository, clock: Any
) -> None:
    await chat(d, RecordingChannel(), "I start my new job on Monday")
    model_m.answers.append(facts("Starts a new job on Monday.", summary="About the new job."))
    hours = d.deps.config.memory.idle_hours
    assert await run_memory_idle(repo, d.memory.end_idle, clock.now(), hours) == 0
    clock.advance(hours=7)
    assert await run_memory_idle(repo, d.memory.end_idle, clock.now(), hours) == 1
    assert await run_memory_idle(repo, d.memory.end_idle, clock.now(), hours) == 0
    await d.memory.drain()
    assert len(model_m.extractions) == 1
    assert [m.text for m in await remembered(repo)] == ["Starts a new job on Monday."]
    assert [s.text for s in await repo.summaries(await account_id(repo), 3)] == [
        "About the new job."
    ]


# -- /memory -------------------------------------------------------------------------------------


async def test_memory_lists_numbered_with_date_and_source(
    d: Dispatcher, model_m: MemoryModel, repo: SqliteRepository
) -> None:
    ch = RecordingChannel()
    await say(d, ch, "/memory")
    assert ch.texts[-1].startswith("I don't remember anything about you yet (memory is on)")
    model_m.answers.append(facts("Has a dog called Bruno."))
    await chat(d, ch, "a", "b", "c")
    await say(d, ch, "/memory add I'm vegetarian")
    await say(d, ch, "/memory")
    shown = ch.replies[-1]
    day = (await remembered(repo))[0].created_at.strftime("%d %b %Y")
    assert shown.text.startswith("What I remember about you (memory is on; 2 of at most 200):")
    assert f"1. Has a dog called Bruno.\n    {day}, from our conversation of {day}" in shown.text
    assert f"2. I'm vegetarian\n    {day}, added by you" in shown.text
    labels = [b.label for row in shown.buttons for b in row]
    assert labels == ["Forget 1", "Forget 2", "Forget everything", "Switch memory off"]


async def test_forget_fix_add_and_forget_all(d: Dispatcher, repo: SqliteRepository) -> None:
    ch = RecordingChannel()
    for fact in ("Likes tea", "Lives in Pune", "Has a cat"):
        await say(d, ch, f"/memory add {fact}")
    await say(d, ch, "/memory forget 2")
    assert ch.texts[-1] == "Forgotten: Lives in Pune"
    await say(d, ch, "/memory fix 2 Has two cats")
    assert ch.texts[-1] == "Corrected: Has two cats"
    await say(d, ch, "/memory forget 9")
    assert ch.texts[-1] == "There is no memory number 9. /memory shows the list."
    await say(d, ch, "/memory fix 1")
    assert ch.texts[-1].startswith("Try: /memory")
    assert [m.text for m in await remembered(repo)] == ["Likes tea", "Has two cats"]
    await say(d, ch, "/memory")
    await press(d, ch, ch.button("mem:f"))  # the button of number 1
    assert "Forgotten: Likes tea" in ch.texts
    await say(d, ch, "/memory forget all")
    assert "This cannot be undone" in ch.texts[-1]
    await press(d, ch, ch.button("mem:keep"))
    assert len(await remembered(repo)) == 1
    await say(d, ch, "/memory forget all")
    await press(d, ch, ch.button("mem:allok"))
    assert ch.texts[-1].startswith("Done: I forgot everything (1)")
    assert await remembered(repo) == []


async def test_memory_off_can_delete_what_is_kept(d: Dispatcher, repo: SqliteRepository) -> None:
    ch = RecordingChannel()
    await say(d, ch, "/memory add Likes tea")
    await say(d, ch, "/memory off")
    assert "Should I also delete what I remember now (1)?" in ch.texts[-1]
    await press(d, ch, ch.button("mem:offdel"))
    assert ch.texts[-1] == "Memory is off, and I forgot everything (1)."
    assert await remembered(repo) == []
    assert not await repo.memory_enabled(await account_id(repo))
    await say(d, ch, "/memory")
    assert "(memory is off)" in ch.texts[-1]


# -- pieces --------------------------------------------------------------------------------------


def test_parse_answer_takes_the_shape_and_nothing_else() -> None:
    fenced = '```json\n{"facts": [{"text": " Likes  tea. ", "replaces": 2}, {"x": 1}, "Has a cat."]}\n```'
    answer = parse_answer(fenced)
    assert answer is not None
    assert [(f.text, f.replaces) for f in answer.facts] == [("Likes tea.", 2), ("Has a cat.", None)]
    for bad in ("", "no json", "[1, 2]", '{"facts": 3}', "{broken"):
        assert parse_answer(bad) is None


def test_near_duplicates() -> None:
    now = __import__("datetime").datetime(2025, 1, 1)
    kept = [Memory(1, "Has a sister called Meera.", 1, False, now, now)]
    assert near_duplicate("has a sister called meera", kept) == (kept[0], True)
    assert near_duplicate("Has a sister called Meera in Pune.", kept) == (kept[0], False)
    assert near_duplicate("Likes green tea.", kept) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Takes medication for anxiety.", "health"),
        ("Is bisexual.", "sexual"),
        ("Goes to the mosque every Friday.", "religion"),
        ("Is a Dalit.", "caste"),
        ("Supports the Congress party.", "political"),
        ("PAN is ABCDE1234F.", "government_id"),
        ("Card 4111 1111 1111 1111.", "government_id"),
        ("Bank account 123456789012345.", "financial"),
        ("Wifi password is tiger99.", "password"),
        ("Has a sister called Meera.", None),
        ("Loves Taylor Swift.", None),
        ("Still studying for the exam on 14 March 2025.", None),
    ],
)
def test_the_sensitive_screen(text: str, kind: str | None) -> None:
    assert sensitive_kind(text) == kind


# -- the real bot, over HTTP ---------------------------------------------------------------------

ALICE = 9101


def extraction_aware(body: dict[str, Any]) -> str:
    """The fake model: JSON facts for the extraction prompt, an echo otherwise."""
    if str(body["messages"][0]["content"]).startswith(MARK):
        summary = "They talked about cricket."
        if "Meera" in body["messages"][1]["content"]:
            return facts("Has a sister called Meera.", "Has diabetes.", summary=summary)
        return facts(summary=summary)
    return "echo: " + str(body["messages"][-1]["content"])


@pytest.mark.promise("P6.1")
async def test_e2e_remembering_across_conversations_and_memory_command(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(
        tmp_path,
        tg,
        llm,
        AMIGO_MEMORY__ENABLED="true",
        AMIGO_MEMORY__EXTRACT_EVERY_MESSAGES="2",
        AMIGO_LLM__STREAM="false",
    )
    llm.default_reply = extraction_aware
    async with Bot(settings, tg).running():
        await onboard_e2e(tg, ALICE)
        await say_e2e(tg, ALICE, "my sister Meera is visiting")
        await say_e2e(tg, ALICE, "I have diabetes")
        await llm.wait_for_requests(3)
        for _ in range(5):
            await say_e2e(tg, ALICE, "ok")  # one more extraction after the 4th (cricket, no facts)
        extractions = llm.requests_starting(MARK)
        # After messages 2, 4 and 6 of 7; 2 if a round read a message sent right after a reply
        # (the exact count, with the rounds awaited, is test_facts_are_asked_for_once_every_n...).
        assert len(extractions) in (2, 3)
        assert all(body["response_format"] == {"type": "json_object"} for body in extractions)
        shown = await say_e2e(tg, ALICE, "/memory")
        assert "1. Has a sister called Meera." in shown.text
        assert "diabetes" not in shown.text  # the sensitive one was screened out
        msg = await say_e2e(tg, ALICE, "/memory add I have diabetes")
        assert msg.text == "I'll remember: I have diabetes"
        await say_e2e(tg, ALICE, "/new")
        reply = await say_e2e(tg, ALICE, "who is visiting?")
        assert reply.text == "echo: who is visiting?"
        request = json.dumps(llm.requests[-1]["messages"])
        assert "Has a sister called Meera." in request and "I have diabetes" in request
        shown = await say_e2e(tg, ALICE, "/memory")
        msg = await press_e2e(tg, ALICE, shown, "Switch memory off")
        msg = await press_for_edit(tg, ALICE, msg, "Off, and delete it")
        assert msg.text.startswith("Memory is off, and I forgot everything (2)")
        before = len(llm.requests_starting(MARK))
        for text in ("one", "two", "three"):
            await say_e2e(tg, ALICE, text)
        await say_e2e(tg, ALICE, "/new")
        await say_e2e(tg, ALICE, "are you there?")
        assert len(llm.requests_starting(MARK)) == before
        assert "Meera" not in json.dumps(llm.requests[-1]["messages"])
        help_text = (await say_e2e(tg, ALICE, "/help")).text
        assert "/memory" in help_text
        call = await tg.wait_for_call("setMyCommands")
        assert "memory" in [c["command"] for c in call.params["commands"]]


async def test_json_mode_is_sent_and_a_server_refusing_it_is_asked_once_without(
    llm: FakeOpenAI,
) -> None:
    settings = LLMSettings(base_url=llm.base_url, backoff_seconds=0.01, stream=False)
    model = OpenAIChatModel(settings, api_key="test-key")
    llm.default_reply = lambda body: '{"facts": []}'
    messages: list[Turn] = [{"role": "user", "content": "hi"}]
    try:
        assert await model.complete(messages, max_tokens=20, json_object=True) == '{"facts": []}'
        assert llm.requests[-1]["response_format"] == {"type": "json_object"}
        llm.refuse_json_mode = True
        assert await model.complete(messages, max_tokens=20, json_object=True) == '{"facts": []}'
        assert ["response_format" in body for body in llm.requests] == [True, True, False]
        assert await model.complete(messages, max_tokens=20) == '{"facts": []}'
        assert "response_format" not in llm.requests[-1]
    finally:
        await model.close()
