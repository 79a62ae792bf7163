"""Encryption at rest, token counting without downloads, and the token-budgeted window."""

from __future__ import annotations

import logging
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.tokens import EstimateCounter, TiktokenCounter, load_bpe_file, make_counter
from handlers.window import PromptTooLarge, build_window, window_cost
from storage.crypto import (
    DecryptionError,
    MasterKeyError,
    Vault,
    load_or_create_key_file,
    parse_master_key,
)
from storage.models import ChatMessage

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.promise("P12.2")
def test_sealed_values_are_bound_to_user_and_place() -> None:
    vault = Vault(bytes(32))
    key = vault.new_data_key()
    sealed = vault.seal(key, "secret words", "messages.body", 1)
    assert b"secret" not in sealed
    assert vault.open(key, sealed, "messages.body", 1) == "secret words"
    with pytest.raises(DecryptionError):
        vault.open(key, sealed, "messages.body", 2)
    with pytest.raises(DecryptionError):
        vault.open(key, sealed, "companions.name", 1)
    with pytest.raises(DecryptionError):
        Vault(bytes([1] * 32)).unwrap(vault.wrap(key, 1), 1)


def test_master_key_parsing_and_owner_only_key_file(tmp_path: Path) -> None:
    assert parse_master_key("00" * 32) == bytes(32)
    with pytest.raises(MasterKeyError):
        parse_master_key("too-short")
    path = tmp_path / "keys" / "master.key"
    key, created = load_or_create_key_file(path)
    assert created and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key_file(path) == (key, False)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_estimate_never_undercounts_bytes_of_non_ascii(text: str) -> None:
    counter = EstimateCounter()
    non_ascii_bytes = sum(len(c.encode()) for c in text if not c.isascii())
    assert counter.count(text) >= non_ascii_bytes


def test_tokenizer_file_gives_exact_counts_and_a_bad_file_degrades(tmp_path: Path) -> None:
    """Offline: a local BPE file is used when given; anything else falls back to the estimate."""
    import base64

    bpe = tmp_path / "tiny.tiktoken"
    bpe.write_text("\n".join(f"{base64.b64encode(bytes([i])).decode()} {i}" for i in range(256)))
    counter = make_counter(str(bpe))
    assert isinstance(counter, TiktokenCounter) and counter.exact
    assert counter.count("abc") == 3  # byte-level ranks only: one token per byte
    assert load_bpe_file(bpe).name == "tiny"
    assert isinstance(make_counter(str(tmp_path / "missing.tiktoken")), EstimateCounter)
    (tmp_path / "bad.tiktoken").write_text("not base64 at all\n")
    assert isinstance(make_counter(str(tmp_path / "bad.tiktoken")), EstimateCounter)


def test_without_the_tokenizer_extra_a_tokenizer_file_degrades_to_the_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """tiktoken is optional (amigo[tokenizer]): a configured file without it still starts."""
    import base64

    bpe = tmp_path / "tiny.tiktoken"
    bpe.write_text("\n".join(f"{base64.b64encode(bytes([i])).decode()} {i}" for i in range(256)))
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # what `import tiktoken` sees uninstalled
    with caplog.at_level(logging.WARNING, logger="amigo.tokens"):
        counter = make_counter(str(bpe))
    assert isinstance(counter, EstimateCounter) and not counter.exact
    assert [r.getMessage() for r in caplog.records] == ["tokens.tiktoken_missing"]
    assert counter.count("abc") >= 3


def history(*texts: str) -> list[ChatMessage]:
    """Newest first, alternating roles from the newest (user)."""
    return [
        ChatMessage(i, "user" if i % 2 == 0 else "assistant", text, NOW)
        for i, text in enumerate(texts)
    ]


@pytest.mark.promise("P6.2")
@given(
    st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=40),
    st.integers(min_value=300, max_value=3000),
)
@settings(max_examples=150, deadline=None)
def test_window_never_exceeds_budget_and_keeps_newest(texts: list[str], budget: int) -> None:
    """P6.2: system prompt whole, newest messages that fit, the budget never exceeded."""
    counter = EstimateCounter()
    system = "You are Amigo."
    turns = build_window(system, history(*texts), counter, context_tokens=budget, reply_tokens=100)
    assert turns[0] == {"role": "system", "content": system}
    assert window_cost(turns, counter) <= budget - 100
    kept = [t["content"] for t in turns[1:]]
    if len(kept) == 1 and kept[0] != texts[0]:  # only the newest, cut to fit
        assert kept[0].endswith("[…]") and texts[0].startswith(kept[0].removesuffix(" […]"))
    else:
        assert kept == list(reversed(texts[: len(kept)]))


def test_window_is_contiguous_and_older_messages_are_never_sent() -> None:
    counter = EstimateCounter()
    texts = [f"message number {i} " + "word " * 30 for i in range(50)]
    turns = build_window("sys", history(*texts), counter, context_tokens=600, reply_tokens=100)
    contents = [t["content"] for t in turns[1:]]
    n = len(contents)
    assert 1 < n < 50
    assert contents == list(reversed(texts[:n]))


def test_an_overlong_newest_message_is_truncated_not_dropped() -> None:
    counter = EstimateCounter()
    turns = build_window(
        "sys", history("x" * 10_000), counter, context_tokens=400, reply_tokens=100
    )
    assert turns[1]["content"].startswith("xxx") and turns[1]["content"].endswith("[…]")
    assert window_cost(turns, counter) <= 300


def test_a_system_prompt_larger_than_the_budget_is_a_clear_error() -> None:
    with pytest.raises(PromptTooLarge):
        build_window(
            "s " * 2000, history("hi"), EstimateCounter(), context_tokens=300, reply_tokens=100
        )


@pytest.mark.promise("P12.2")
@pytest.mark.sqlite_only  # PostgreSQL: tests/test_pg_contract.py (the keys schema)
async def test_wrapped_keys_live_outside_the_main_database_file(tmp_path: Path) -> None:
    """The master key is never stored; wrapped data keys sit in their own owner-only file."""
    import sqlite3

    from storage.sqlite import SqliteRepository

    vault = Vault(bytes(range(32)))
    repo = SqliteRepository(tmp_path / "amigo.db", vault)
    await repo.open()
    try:
        account = await repo.create_account(42, 42, policy_version="v", age_confirmed_at=NOW)
        await repo.add_message(account.id, await repo.start_conversation(account.id), "user", "hi")
    finally:
        await repo.close()
    with sqlite3.connect(tmp_path / "amigo.db") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "user_keys" not in tables
    assert repo.keys_path.exists() and repo.keys_path.stat().st_mode & 0o077 == 0
    with sqlite3.connect(repo.keys_path) as db:
        assert db.execute("SELECT COUNT(*) FROM user_keys").fetchone() == (1,)
    for file in tmp_path.iterdir():
        assert bytes(range(32)) not in file.read_bytes()
