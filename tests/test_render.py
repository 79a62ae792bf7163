"""Markdown -> Telegram HTML and plain-text rendering (bot/render.py)."""

from __future__ import annotations

import pytest
from hypothesis import given

from bot.render import markdown_to_html, markdown_to_plain
from bot.split import utf16_len
from tests.render_helpers import ANY_TEXT, FAMILY, HINDI, PROPERTY, check_html

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


@PROPERTY
@given(ANY_TEXT)
def test_property_html_is_valid_and_never_longer(text: str) -> None:
    visible = check_html(markdown_to_html(text))
    assert utf16_len(visible) <= utf16_len(text)
    assert utf16_len(markdown_to_plain(text)) <= utf16_len(text)
