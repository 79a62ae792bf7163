"""Markdown -> Telegram HTML rendering and message splitting (bot/render.py)."""

from __future__ import annotations

import random
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import (
    TELEGRAM_LIMIT,
    markdown_to_html,
    markdown_to_plain,
    split_markdown,
    utf16_len,
)

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # ZWJ sequence: 4 astral chars + 3 ZWJ = 11 UTF-16 units
HINDI = "नमस्ते दुनिया। क्या हाल है? मैं ठीक हूँ।"
ALLOWED_TAGS = {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"}
BAD_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)")
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _TelegramHTMLChecker(HTMLParser):
    """Strict subset of what Telegram's HTML parse mode accepts; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.visible: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self.stack[-1] if self.stack else None
        names = [k for k, _ in attrs]
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag {tag}")
        elif parent == "code" or (parent == "pre" and tag != "code"):
            self.errors.append(f"{tag} inside {parent}")
        elif tag in ("a", "blockquote") and tag in self.stack:
            self.errors.append(f"nested {tag}")
        elif tag == "a" and (names != ["href"] or not attrs[0][1]):
            self.errors.append(f"a attrs {attrs}")
        elif tag == "code" and attrs:
            value = attrs[0][1] or ""
            if parent != "pre" or names != ["class"] or not value.startswith("language-"):
                self.errors.append(f"code attrs {attrs}")
        elif tag not in ("a", "code") and attrs:
            self.errors.append(f"{tag} attrs {attrs}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing {tag}")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> in {self.stack}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if any(c in data for c in "<>&"):
            self.errors.append(f"raw markup char in {data!r}")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("amp", "lt", "gt", "quot"):
            self.errors.append(f"entity {name}")
        self.visible.append(unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.visible.append(unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.errors.append("unknown declaration")


def check_html(html: str) -> str:
    """Assert `html` is valid Telegram HTML; return its visible text."""
    checker = _TelegramHTMLChecker()
    checker.feed(html)
    checker.close()
    assert not checker.errors, (checker.errors, html)
    assert not checker.stack, ("unclosed", checker.stack, html)
    assert not BAD_AMP.search(html), html
    return "".join(checker.visible)


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


# ------------------------------------------------------------------ rendering


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("**bold** and __bold__", "<b>bold</b> and <b>bold</b>"),
        ("*it* and _it_", "<i>it</i> and <i>it</i>"),
        ("***both***", "<i><b>both</b></i>"),
        ("**a *b* c**", "<b>a <i>b</i> c</b>"),
        ("call snake_case_names_here", "call snake_case_names_here"),
        ("2 * 3 * 4 = 24", "2 * 3 * 4 = 24"),
        ("2*3*4", "2*3*4"),
        ("~~gone~~ but ~5 km", "<s>gone</s> but ~5 km"),
        ("use `a<b && c>d` now", "use <code>a&lt;b &amp;&amp; c&gt;d</code> now"),
        ("`` a `tick` ``", "<code>a `tick`</code>"),
        ("`**not bold**`", "<code>**not bold**</code>"),
        ("a ** lone", "a ** lone"),
        ("a lone ` tick", "a lone ` tick"),
        ("**unclosed bold", "**unclosed bold"),
        ("\\*escaped\\*", "*escaped*"),
        ("# Title", "<b>Title</b>"),
        ("### Deep *title* ###", "<b>Deep <i>title</i></b>"),
        ("#hashtag", "#hashtag"),
        ("- one\n* two\n+ three", "• one\n• two\n• three"),
        ("- outer\n  - inner", "• outer\n  • inner"),
        ("1. one\n2. two\n10) ten", "1. one\n2. two\n10) ten"),
        ("- [ ] todo\n- [x] done", "☐ todo\n☑ done"),
        ("> quoted **text**\n> more", "<blockquote>quoted <b>text</b>\nmore</blockquote>"),
        ("> > nested\n> flat", "<blockquote>nested\nflat</blockquote>"),
        ("above\n\n---\n\nbelow", "above\n\n———\n\nbelow"),
        ("* * *", "———"),
        ("para one\nsame para\n\n\n\npara two", "para one\nsame para\n\npara two"),
    ],
)
def test_renders_common_llm_markdown(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown) == html
    check_html(html)


def test_fenced_code_is_verbatim_and_escaped() -> None:
    md = "Run:\n```python\nif a < b and c > d & e:\n    print(**kw)  # _x_\n```\nDone."
    assert markdown_to_html(md) == (
        'Run:\n<pre><code class="language-python">if a &lt; b and c &gt; d &amp; e:\n'
        "    print(**kw)  # _x_</code></pre>\nDone."
    )
    assert markdown_to_html("~~~\nplain <x>\n~~~") == "<pre>plain &lt;x&gt;</pre>"
    assert markdown_to_html('```a"b\nx\n```') == "<pre>x</pre>"  # unsafe language tag dropped


def test_unclosed_fence_runs_to_end() -> None:
    assert markdown_to_html("```go\nfunc main() {") == (
        '<pre><code class="language-go">func main() {</code></pre>'
    )


def test_links_only_for_safe_schemes() -> None:
    assert markdown_to_html("[site](https://example.com/a?b=1&c=2)") == (
        '<a href="https://example.com/a?b=1&amp;c=2">site</a>'
    )
    assert markdown_to_html('[q](https://x.io/"><script>)') == (
        '<a href="https://x.io/&quot;&gt;&lt;script&gt;">q</a>'
    )
    assert markdown_to_html("[chat](tg://resolve?domain=x)").startswith('<a href="tg://')
    assert markdown_to_html("[mail](mailto:a@b.c)") == '<a href="mailto:a@b.c">mail</a>'
    assert markdown_to_html("[x](javascript:alert(1))") == "x"
    assert markdown_to_html("[x](file:///etc/passwd)") == "x"
    assert markdown_to_html("[**bold** link](https://a.b)") == (
        '<a href="https://a.b"><b>bold</b> link</a>'
    )
    assert markdown_to_html("[outer [inner](https://i)](https://o)").count("<a ") == 1
    assert markdown_to_html("<https://a.b/c>") == '<a href="https://a.b/c">https://a.b/c</a>'
    assert markdown_to_html("[not a link] (https://a.b)") == "[not a link] (https://a.b)"


def test_html_typed_by_the_llm_is_shown_literally() -> None:
    assert markdown_to_html("<script>alert('x')</script>") == (
        "&lt;script&gt;alert('x')&lt;/script&gt;"
    )
    assert markdown_to_html("Tom &amp; Jerry & co") == "Tom &amp;amp; Jerry &amp; co"
    assert markdown_to_html("<b>not bold</b>") == "&lt;b&gt;not bold&lt;/b&gt;"
    assert markdown_to_html("&lt;") == "&amp;lt;"


def test_table_kept_as_preformatted_text() -> None:
    md = "| Name | **Age** |\n|------|-----:|\n| Ann | 3 |\n\nAfter"
    assert markdown_to_html(md) == (
        "<pre>| Name | Age |\n|------|-----:|\n| Ann | 3 |</pre>\n\nAfter"
    )


def test_unicode_passes_through() -> None:
    md = f"**{HINDI}** {FAMILY} 🇮🇳"
    assert markdown_to_html(md) == f"<b>{HINDI}</b> {FAMILY} 🇮🇳"


def test_no_paragraph_or_br_tags_and_no_empty_output() -> None:
    html = markdown_to_html("a\nb\n\nc")
    assert html == "a\nb\n\nc"
    assert markdown_to_html("```\n```") == "```\n```"  # would otherwise be an empty message
    assert markdown_to_html("") == ""


def test_plain_fallback_strips_markup_and_keeps_urls() -> None:
    md = "# Hi\n**bold** [site](https://e.com) `code` <b>\n```py\nx = 1\n```"
    assert markdown_to_plain(md) == "Hi\nbold site (https://e.com) code <b>\nx = 1"


# ------------------------------------------------------------------ properties

MD_TOKENS = st.sampled_from(
    [
        "**",
        "*",
        "_",
        "__",
        "~~",
        "~",
        "`",
        "```",
        "```py\n",
        "\n```\n",
        "~~~\n",
        "[",
        "]",
        "(",
        ")",
        "](https://x.y/",
        "](javascript:",
        "<",
        ">",
        "&",
        "&amp;",
        "<b>",
        "\\",
        "#",
        "# ",
        "- ",
        "* ",
        "1. ",
        "> ",
        ">",
        "|",
        "|---|",
        "---",
        "\n",
        "\n\n",
        " ",
        "  ",
        "word",
        "snake_case",
        "2 * 3",
        ". ",
        "! ",
        "। ",
        FAMILY,
        "😀",
        "🇮🇳",
        "\u0301",
        "\u200d",
        "नमस्ते",
        "\r\n",
        "\t",
        "\x00",
        "\u2028",
        "\xa0",
        "<https://a.b>",
    ]
)
MARKDOWNISH = st.lists(st.one_of(MD_TOKENS, st.text(max_size=8)), max_size=60).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=400), MARKDOWNISH)


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
@given(ANY_TEXT)
def test_property_html_is_valid_and_never_longer(text: str) -> None:
    visible = check_html(markdown_to_html(text))
    assert utf16_len(visible) <= utf16_len(text)
    assert utf16_len(markdown_to_plain(text)) <= utf16_len(text)


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
    from bot.render import fit_utf16

    assert fit_utf16("ab😊c", 3) == "ab"
    assert fit_utf16("ab😊c", 4) == "ab😊"
    assert fit_utf16("short", 100) == "short"
