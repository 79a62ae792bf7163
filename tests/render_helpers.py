"""Shared by tests/test_render.py and tests/test_split.py: a strict Telegram-HTML checker and
Markdown-ish inputs for property tests, kept in one place so neither test file copies the other."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

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
