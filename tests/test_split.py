"""Splitting replies into Telegram-sized messages and UTF-16 lengths (bot/split.py)."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render import markdown_to_html
from bot.split import TELEGRAM_LIMIT, fit_utf16, split_markdown, utf16_len
from tests.render_helpers import (
    ANY_TEXT,
    FAMILY,
    HINDI,
    MARKDOWNISH,
    PROPERTY,
    check_html,
)


def nonspace(text: str) -> str:
    return "".join(c for c in text if not c.isspace())


def is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(c in it for c in small)


def sentence(rng: random.Random) -> str:
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "sleeps"]
    return " ".join(rng.choice(words) for _ in range(rng.randint(6, 16))).capitalize() + "."


# ------------------------------------------------------------------ utf16_len


def test_utf16_len_counts_code_units() -> None:
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("नमस्ते") == 6  # Devanagari is BMP: one unit per code point
    assert utf16_len("😀") == 2
    assert utf16_len(FAMILY) == 11
    assert utf16_len("🇮🇳") == 4
    assert TELEGRAM_LIMIT == 4096


# ------------------------------------------------------------------ splitting


def test_empty_and_whitespace_give_no_chunks() -> None:
    assert split_markdown("") == []
    assert split_markdown("  \n\n\t \r\n ") == []


def test_short_text_is_one_stripped_chunk() -> None:
    assert split_markdown("  Hello **there**!\n\n") == ["Hello **there**!"]


def test_limit_must_fit_an_astral_character() -> None:
    with pytest.raises(ValueError):
        split_markdown("abc", limit=1)


def test_long_reply_splits_at_paragraph_boundaries() -> None:
    rng = random.Random(7)
    paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(5, 9))) for _ in range(28)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 10_000
    chunks = split_markdown(text)
    assert len(chunks) >= 3
    assert all(utf16_len(c) <= TELEGRAM_LIMIT for c in chunks)
    assert [p for c in chunks for p in c.split("\n\n")] == paragraphs


def test_long_single_paragraph_splits_at_sentence_ends() -> None:
    rng = random.Random(3)
    text = " ".join(sentence(rng) for _ in range(100))
    assert len(text) > 5_000 and "\n" not in text
    chunks = split_markdown(text)
    assert len(chunks) == 2
    assert all(c.endswith(".") and c[0].isupper() for c in chunks)
    assert " ".join(chunks) == text


def test_line_breaks_preferred_over_sentences() -> None:
    lines = [f"Line {i}. Has two sentences. Really." for i in range(10)]
    chunks = split_markdown("\n".join(lines), limit=120)
    assert [x for c in chunks for x in c.split("\n")] == lines


def test_hindi_sentence_ends_and_no_word_cut() -> None:
    text = " ".join([HINDI] * 12)
    chunks = split_markdown(text, limit=60)
    words = set(HINDI.split())
    for chunk in chunks:
        assert utf16_len(chunk) <= 60
        assert set(chunk.split()) <= words
    assert " ".join(chunks) == text
    assert sum(c.endswith(("।", "?")) for c in chunks) >= len(chunks) - 1


def test_never_cuts_inside_a_word() -> None:
    rng = random.Random(11)
    vocab = ["antidisestablishment", "a", "word", "🙂🙂", "नमस्कार", "snake_case_name", FAMILY]
    text = " ".join(rng.choice(vocab) for _ in range(400))
    for limit in (25, 40, 97):
        chunks = split_markdown(text, limit)
        assert all(utf16_len(c) <= limit for c in chunks)
        assert [w for c in chunks for w in c.split()] == text.split()


def test_overlong_word_is_hard_cut_without_breaking_graphemes() -> None:
    combining = "e\u0301" * 30  # é as e + combining acute
    flags = "🇮🇳🇧🇷🇯🇵" * 6
    for word in (combining, FAMILY * 6, flags, "क्षत्रिय" * 8, "😀" * 40):
        chunks = split_markdown(word, limit=20)
        assert "".join(chunks) == word
        for chunk in chunks:
            assert utf16_len(chunk) <= 20
            assert unicodedata.category(chunk[0]) not in ("Mn", "Mc")
            assert chunk[0] != "\u200d" and chunk[-1] != "\u200d"
        if word is flags:
            assert all(len(c) % 2 == 0 for c in chunks)


def test_inline_spans_are_not_cut_when_avoidable() -> None:
    for span in (
        "**bold words in a row**",
        "[a link with words](https://example.com/x)",
        "`code with spaces inside`",
        "~~struck out words~~",
        "_some italic words_",
    ):
        text = f"Intro words here and some more words {span} and a tail"
        cut_at = text.index(span) + len(span) // 2  # window ends in the middle of the span
        chunks = split_markdown(text, limit=cut_at)
        assert any(span in c for c in chunks), (span, chunks)


def test_long_code_block_is_refenced_with_language() -> None:
    code = [f"    value_{i} = compute({i}, 'x' * {i})  # step {i}" for i in range(200)]
    text = "Here is the code:\n\n```python\n" + "\n".join(code) + "\n```\n\nThat's all."
    chunks = split_markdown(text, limit=1000)
    assert len(chunks) > 5
    recovered: list[str] = []
    for chunk in chunks:
        assert utf16_len(chunk) <= 1000
        _, fence, rest = chunk.partition("```python\n")
        if fence:
            body, close, tail = rest.partition("\n```")
            assert close and tail in ("", "\n\nThat's all."), chunk[-50:]
            recovered += body.split("\n")
            assert '<pre><code class="language-python">' in markdown_to_html(chunk)
    assert recovered == code


def test_code_block_that_fits_stays_whole() -> None:
    block = "```js\nconst a = 1;\n\nconst b = 2;\n```"
    text = "a " * 30 + "\n\n" + block + "\n\n" + "b " * 30
    chunks = split_markdown(text, limit=len(block) + 5)
    assert block in chunks


def test_overlong_code_line_is_cut_at_spaces_inside_fences() -> None:
    line = " ".join(f"arg{i}" for i in range(100))
    chunks = split_markdown(f"```\n{line}\n```", limit=80)
    assert all(c.startswith("```\n") and c.endswith("\n```") for c in chunks)
    assert all(utf16_len(c) <= 80 for c in chunks)
    assert "".join(c[4:-4] for c in chunks).split() == line.split()


def test_split_chunks_render_within_limit() -> None:
    rng = random.Random(5)
    parts = ["# Heading", "- **item** one", "> quoted _text_", "```sh\necho hi\n```"]
    text = "\n\n".join(rng.choice(parts) + " " + sentence(rng) for _ in range(300))
    for chunk in split_markdown(text, limit=500):
        assert utf16_len(check_html(markdown_to_html(chunk))) <= 500


# ------------------------------------------------------------------ properties


def _check_chunks(text: str, limit: int) -> list[str]:
    chunks = split_markdown(text, limit)
    for chunk in chunks:
        assert chunk and chunk == chunk.strip()
        assert utf16_len(chunk) <= limit
    joined, original = nonspace("".join(chunks)), nonspace(text)
    if "```" in text or "~~~" in text:
        assert is_subsequence(original, joined)  # re-fencing may add fence lines
    else:
        assert joined == original
    return chunks


@PROPERTY
@given(ANY_TEXT, st.integers(min_value=20, max_value=200))
def test_property_split_bounds_and_preserves(text: str, limit: int) -> None:
    _check_chunks(text, limit)


@PROPERTY
@given(MARKDOWNISH, st.integers(min_value=20, max_value=200))
def test_property_rendered_chunks_fit(text: str, limit: int) -> None:
    for chunk in _check_chunks(text, limit):
        assert utf16_len(check_html(markdown_to_html(chunk))) <= limit


@PROPERTY
@given(
    st.lists(st.text(st.characters(blacklist_characters="`~\r\n"), max_size=70), min_size=1),
    st.sampled_from(["", "python", "c++"]),
    st.integers(min_value=30, max_value=200),
)
def test_property_code_blocks_refence_exactly(lines: list[str], lang: str, limit: int) -> None:
    text = f"```{lang}\n" + "\n".join(lines) + "\n```"
    chunks = _check_chunks(text, limit)
    fences = {"```", f"```{lang}"}
    body = [x for c in chunks for x in c.split("\n") if x not in fences]
    assert nonspace("".join(body)) == nonspace("".join(lines))
    for chunk in chunks:
        assert chunk.startswith(f"```{lang}\n") or chunk == f"```{lang}"
        assert chunk.endswith("\n```")


def test_fit_utf16_never_splits_a_surrogate_pair() -> None:
    assert fit_utf16("ab😊c", 3) == "ab"
    assert fit_utf16("ab😊c", 4) == "ab😊"
    assert fit_utf16("short", 100) == "short"
