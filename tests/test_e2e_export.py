"""End to end: /export through the real bot and the fake servers (P9.7).

Every export is checked against the JSON Schema published in docs/export-format.md, parsed out of
that very document, with the small structural checker below (the project has no jsonschema
dependency), so the documentation cannot drift from the file users receive.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_bot, repository
from bot.config import Settings
from core.clock import FrozenClock
from storage.crypto import Vault, parse_master_key
from tests.conftest import CANARY, MASTER_KEY, Bot, make_settings
from tests.e2e import onboard, say
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.fakes.telegram import SentMessage

ALICE, BOB = 601, 602
BOB_CANARY = "CANARY-0b0b51-green-giraffe"  # shares nothing with CANARY but the word
DOC = Path(__file__).resolve().parent.parent / "docs" / "export-format.md"

Json = Any


# -- the schema, out of the documentation ---------------------------------------------------------


def documented_json_blocks() -> list[Json]:
    """Every ```json block of docs/export-format.md, parsed."""
    blocks = re.findall(r"^```json\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.S | re.M)
    return [json.loads(block) for block in blocks]


def documented_schema() -> dict[str, Json]:
    schemas = [b for b in documented_json_blocks() if isinstance(b, dict) and "$schema" in b]
    assert len(schemas) == 1, "docs/export-format.md must hold exactly one JSON Schema block"
    schema: dict[str, Json] = schemas[0]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return schema


# -- a minimal JSON Schema checker: the keywords the documented schema uses, nothing more -----------

_JSON_TYPES: dict[str, Callable[[Json], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "format"}
_ASSERTIONS = {
    "$ref",
    "type",
    "const",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "minItems",
    "required",
    "properties",
    "additionalProperties",
    "items",
}


def _same(a: Json, b: Json) -> bool:
    """JSON equality: true is not 1, and 1 is not "1"."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def schema_errors(
    value: Json, schema: dict[str, Json], root: dict[str, Json], where: str = "$"
) -> list[str]:
    """What in `value` breaks `schema` (draft 2020-12 semantics, for the keywords it knows)."""
    unknown = set(schema) - _ANNOTATIONS - _ASSERTIONS
    assert not unknown, f"the checker does not know the keyword(s) {unknown} at {where}"
    errors: list[str] = []
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), f"only local $ref is supported, not {ref}"
        target: Json = root
        for part in ref[2:].split("/"):
            target = target[part]
        errors += schema_errors(value, target, root, where)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_JSON_TYPES[t](value) for t in types):
            return [*errors, f"{where}: {value!r} is not of type {types}"]
    if "const" in schema and not _same(value, schema["const"]):
        errors.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{where}: {value!r} is shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{where}: {value!r} is longer than {schema['maxLength']}")
    if _JSON_TYPES["number"](value) and "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{where}: {value!r} is less than {schema['minimum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                errors += schema_errors(item, schema["items"], root, f"{where}[{i}]")
    if isinstance(value, dict):
        properties: dict[str, Json] = schema.get("properties", {})
        errors += [f"{where}: missing {k!r}" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected key {key!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += schema_errors(
                    item, schema["additionalProperties"], root, f"{where}.{key}"
                )
    return errors


def assert_matches_documented_schema(export: Json) -> None:
    schema = documented_schema()
    errors = schema_errors(export, schema, schema)
    assert not errors, "the export breaks docs/export-format.md:\n" + "\n".join(errors)


# -- steps -----------------------------------------------------------------------------------------


def settings_for(tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI, **env: str) -> Settings:
    return make_settings(
        tmp_path,
        AMIGO_TELEGRAM__API_BASE_URL=tg.base_url.removesuffix("/bot"),
        AMIGO_LLM__BASE_URL=llm.base_url,
        **env,
    )


async def export(tg: FakeTelegram, user_id: int) -> tuple[SentMessage, Json]:
    """Send /export; return the document message and the parsed file."""
    mark = tg.mark()
    tg.send_text(user_id, "/export")
    msg = await tg.wait_for_message(user_id, lambda m: m.document_bytes is not None, after=mark)
    assert msg.document_bytes is not None
    assert not msg.document_bytes.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    assert msg.document_bytes.endswith(b"\n")
    return msg, json.loads(msg.document_bytes.decode("utf-8"))


async def settled(tg: FakeTelegram, user_id: int) -> None:
    """Wait until the user's earlier updates are fully handled: the router serves one user's
    updates in order, so once /help is answered the export handler has returned (the document
    reaches the fake before the handler's clean-up runs)."""
    assert "/export" in (await say(tg, user_id, "/help")).text


async def record_staff_access(settings: Settings, tg_id: int, role: str, reason: str) -> None:
    """What a staff tool would do: a second repository on the same database, through its API."""
    repo = repository(settings, Vault(parse_master_key(MASTER_KEY)))
    await repo.open()
    try:
        account = await repo.find_account(tg_id)
        assert account is not None
        await repo.record_staff_access(account.id, role, reason)
    finally:
        await repo.close()


def chat_log(export: Json) -> list[list[tuple[str, str]]]:
    """(role, text) of each non-empty conversation, in file order."""
    return [
        [(m["role"], m["text"]) for m in c["messages"]]
        for c in export["conversations"]
        if c["messages"]
    ]


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


# -- the documentation itself ----------------------------------------------------------------------


@pytest.mark.promise("P9.7")
def test_documented_example_matches_the_documented_schema_and_the_checker_bites() -> None:
    examples = [b for b in documented_json_blocks() if isinstance(b, dict) and "format" in b]
    assert len(examples) == 1
    example = examples[0]
    assert_matches_documented_schema(example)
    schema = documented_schema()
    broken: list[Json] = [
        {k: v for k, v in example.items() if k != "recipients"},  # a missing key
        {**example, "extra": 1},  # an undocumented key
        {**example, "version": True},  # true is not 1
        {**example, "generated_at": "yesterday"},
        {**example, "conversations": [{"id": 1, "started_at": example["generated_at"]}]},
        {**example, "companion": {"name": "X", "gender": "robot", "tone": "warm"}},
    ]
    for bad in broken:
        assert schema_errors(bad, schema, schema), bad


# -- the export --------------------------------------------------------------------------------------


@pytest.mark.promise("P9.7")
@pytest.mark.promise("P9.5")
@pytest.mark.promise("B3")
@pytest.mark.promise("P7.1")
async def test_export_holds_everything_held_and_matches_the_documented_format(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_LLM__PROVIDER_NAME="Acme Local Models")
    async with Bot(settings, tg).running():
        await onboard(tg, ALICE, name="Meera")
        await say(tg, ALICE, f"hello {CANARY}")
        await say(tg, ALICE, 'second message, ünïcödé ✓ and a "quote"\nnew line')
        assert "Fresh start" in (await say(tg, ALICE, "/new")).text
        await say(tg, ALICE, "after new")
        assert "Saved" in (await say(tg, ALICE, "/profile name Ravi")).text
        reply = await say(tg, ALICE, "/nominate Asha Rao, asha@example.com")
        assert "Asha Rao is your nominee" in reply.text
        reply = await say(tg, ALICE, "/grievance some text")
        ticket = re.search(r"G-\d{6}", reply.text)
        assert ticket, reply.text
        await record_staff_access(settings, ALICE, "support", "grievance")
        msg, data = await export(tg, ALICE)

    assert re.fullmatch(r"amigo-export-\d{8}\.json", msg.document_name or "")
    assert "format version 3" in msg.text
    assert_matches_documented_schema(data)
    assert (data["format"], data["version"]) == ("amigo-export", 3)
    assert list(data)[-1] == "conversations", "documented: conversations is the last key"
    assert CANARY in (msg.document_bytes or b"").decode("utf-8")

    # every conversation, including the one after /new, messages in order
    assert chat_log(data) == [
        [
            ("user", f"hello {CANARY}"),
            ("assistant", f"echo: hello {CANARY}"),
            ("user", 'second message, ünïcödé ✓ and a "quote"\nnew line'),
            ("assistant", 'echo: second message, ünïcödé ✓ and a "quote"\nnew line'),
        ],
        [("user", "after new"), ("assistant", "echo: after new")],
    ]
    ids = [c["id"] for c in data["conversations"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stamps = [when(m["at"]) for c in data["conversations"] for m in c["messages"]]
    assert stamps == sorted(stamps)

    assert data["account"]["status"] == "active"
    assert data["account"]["policy_version_accepted"] == data["policy_version"]
    assert data["profile"] == {
        "display_name": "Ravi",
        "gender": None,
        "country": None,
        "time_zone": None,
    }
    assert data["account"]["memory_enabled"] is True
    assert data["derived"] == {"memories": [], "summaries": []}  # memory is off in these tests
    assert data["companion"] == {"name": "Meera", "gender": "female", "tone": "warm"}
    ledger = [(c["purpose"], c["granted"]) for c in data["consents"]]
    assert ledger == [
        ("age_18_plus", True),
        ("terms_and_privacy", True),
        ("model_improvement", False),
        ("marketing", False),
    ]
    nominee = data["nominee"]
    assert (nominee["name"], nominee["contact"]) == ("Asha Rao", "asha@example.com")
    [grievance] = data["grievances"]
    assert grievance["text"] == "some text" and grievance["status"] == "open"
    assert grievance["ticket"] == ticket.group(0)
    assert when(grievance["created_at"]) < when(grievance["ack_due"])
    [access] = data["staff_accesses"]
    assert (access["role"], access["reason_category"]) == ("support", "grievance")
    assert data["recipients"] == [
        {"name": "Acme Local Models", "purpose": "generating replies"},
        {"name": "Telegram", "purpose": "carrying every message between you and Amigo"},
    ]
    assert data["safety_records"] == [] and data["payment_records"] == []


@pytest.mark.promise("P9.7")
async def test_export_of_an_account_without_messages(bot: Bot, tg: FakeTelegram) -> None:
    await onboard(tg, ALICE)
    _, data = await export(tg, ALICE)
    assert_matches_documented_schema(data)
    assert all(c["messages"] == [] for c in data["conversations"])
    assert data["nominee"] is None and data["grievances"] == [] and data["staff_accesses"] == []
    assert data["companion"] is not None
    assert data["recipients"][0]["name"].startswith("the server at 127.0.0.1:")  # not "OpenAI"


@pytest.mark.promise("P9.7")
async def test_one_export_per_interval_and_the_reply_says_when(
    tmp_path: Path, tg: FakeTelegram, llm: FakeOpenAI
) -> None:
    settings = settings_for(tmp_path, tg, llm, AMIGO_PRIVACY__EXPORT_INTERVAL_HOURS="6")
    clock = FrozenClock(datetime(2026, 5, 1, 9, 30, tzinfo=UTC))
    harness = Bot(settings, tg)
    async with build_bot(settings, harness.secrets, clock=clock).running():
        await onboard(tg, ALICE)
        _, first = await export(tg, ALICE)
        assert when(first["generated_at"]) == clock.now()
        for later in (timedelta(0), timedelta(hours=5, minutes=59)):
            clock.advance(seconds=later.total_seconds())
            mark = tg.mark()
            reply = await say(tg, ALICE, "/export")
            assert "once every 6 hours" in reply.text, reply.text
            assert "next export is possible after 01 May 2026, 15:30 UTC" in reply.text
            assert reply.document_bytes is None
            assert not [c for c in tg.calls[mark:] if c.method == "sendDocument"]
        clock.advance(minutes=1)
        _, second = await export(tg, ALICE)
        assert when(second["generated_at"]) == datetime(2026, 5, 1, 15, 30, tzinfo=UTC)


@pytest.mark.promise("P9.7")
async def test_the_temporary_file_is_removed_after_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bot: Bot, tg: FakeTelegram
) -> None:
    temp = tmp_path / "system-tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # the process's temp dir, for this test
    created: list[Path] = []
    real_mkstemp = tempfile.mkstemp

    def spy(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)
        created.append(Path(name))
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    await onboard(tg, ALICE)
    await say(tg, ALICE, f"hello {CANARY}")
    before = set(Path(tempfile.gettempdir()).glob("amigo-export-*"))
    msg, _ = await export(tg, ALICE)
    await settled(tg, ALICE)
    after = set(Path(tempfile.gettempdir()).glob("amigo-export-*"))
    assert before == after == set()
    written = [p for p in created if p.name.startswith("amigo-export-")]
    assert len(written) == 1 and written[0].parent == temp, created
    assert not written[0].exists()
    assert CANARY.encode() in (msg.document_bytes or b"")
    assert not any(CANARY.encode() in p.read_bytes() for p in temp.rglob("*") if p.is_file())


@pytest.mark.promise("P9.7")
async def test_export_goes_only_to_its_owner_and_holds_nobody_elses_data(
    bot: Bot, tg: FakeTelegram
) -> None:
    await onboard(tg, ALICE)
    await onboard(tg, BOB)
    await say(tg, ALICE, f"alice says {CANARY}")
    await say(tg, BOB, f"bob says {BOB_CANARY}")
    await say(tg, BOB, f"/grievance {BOB_CANARY}")
    await say(tg, BOB, f"/nominate {BOB_CANARY}, bob@example.com")
    await record_staff_access(bot.settings, BOB, "reviewer", "safety")

    alice_msg, alice = await export(tg, ALICE)
    assert [c.chat_id for c in tg.calls_of("sendDocument")] == [ALICE]
    assert [m for m in tg.messages_to(BOB) if m.document_bytes is not None] == []
    alice_raw = (alice_msg.document_bytes or b"").decode("utf-8")
    assert (
        CANARY in alice_raw and BOB_CANARY not in alice_raw and "bob@example.com" not in alice_raw
    )
    assert alice["staff_accesses"] == [] and alice["grievances"] == []
    assert alice["nominee"] is None

    bob_msg, bob = await export(tg, BOB)
    assert [c.chat_id for c in tg.calls_of("sendDocument")] == [ALICE, BOB]
    bob_raw = (bob_msg.document_bytes or b"").decode("utf-8")
    assert BOB_CANARY in bob_raw and CANARY not in bob_raw
    assert [a["role"] for a in bob["staff_accesses"]] == ["reviewer"]
    assert_matches_documented_schema(bob)
