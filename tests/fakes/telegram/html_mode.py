"""Telegram's HTML parse mode, ported from tdlib's parse_html, to check the HTML the bot sends.

It refuses what the real server would refuse and counts in UTF-16 units as Telegram does, so a
bot that forgets to escape, or miscounts a limit, fails in the tests rather than in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_WHITESPACE = " \t\r\n\v\f\x00"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit Telegram uses for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class HtmlParseError(ValueError):
    """Raised for HTML Telegram would refuse; the message mirrors Telegram's wording."""


_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]{1,8}));")


@dataclass
class _OpenTag:
    name: str
    argument: str
    start: int  # UTF-16 offset in the visible text
    expandable: bool = False


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity at ``pos``; return (character, consumed length) or None."""
    match = _ENTITY_RE.match(text, pos)
    if match is None:
        return None
    dec, hexa, name = match.groups()
    if name is not None:
        char = _NAMED_ENTITIES.get(name)
        return None if char is None else (char, match.end() - pos)
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end() - pos


def parse_telegram_html(
    text: str, *, strict_entities: bool = True
) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (visible text, entities), or raise HtmlParseError.

    The visible text is trimmed of surrounding whitespace as Telegram does; entity offsets and
    lengths are in UTF-16 code units.
    """
    out: list[str] = []
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0

    def at(pos: int) -> str:
        return f"at byte offset {len(text[:pos].encode('utf-8'))}"

    def is_space(pos: int) -> bool:
        return pos < n and text[pos] in _WHITESPACE

    def read_entity_or_amp(pos: int) -> tuple[str, int]:
        decoded = _decode_entity(text, pos)
        if decoded is not None:
            return decoded
        if strict_entities:
            raise HtmlParseError(
                f'Unescaped "&" or unsupported HTML entity {at(pos)}; escape "&" as "&amp;"'
            )
        return "&", 1

    while i < n:
        char = text[i]
        if char == "&":
            decoded, consumed = read_entity_or_amp(i)
            out.append(decoded)
            utf16 += utf16_len(decoded)
            i += consumed
            continue
        if char != "<":
            out.append(char)
            utf16 += utf16_len(char)
            i += 1
            continue

        begin = i
        i += 1
        if i < n and text[i] == "/":
            # An end tag.
            if not stack:
                raise HtmlParseError(f"Unexpected end tag {at(begin)}")
            i += 1
            name_start = i
            while i < n and not is_space(i) and text[i] != ">":
                i += 1
            end_name = text[name_start:i].lower()
            while is_space(i):
                i += 1
            if i >= n or text[i] != ">":
                raise HtmlParseError(f"Unclosed end tag {at(begin)}")
            i += 1
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise HtmlParseError(
                    f'Unmatched end tag {at(begin)}, expected "</{tag.name}>", '
                    f'found "</{end_name}>"'
                )
            _close_tag(tag, utf16, stack, entities)
            continue

        # A start tag.
        name_start = i
        while i < n and not is_space(i) and text[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag {at(begin)}")
        name = text[name_start:i].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" {at(begin)}')
        argument = ""
        expandable = False
        while True:
            while is_space(i):
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag {at(begin)}")
            if text[i] == ">":
                i += 1
                break
            attr_start = i
            while i < n and not is_space(i) and text[i] not in "=>":
                i += 1
            attr = text[attr_start:i].lower()
            if not attr:
                raise HtmlParseError(f'Empty attribute name in the tag "{name}" {at(begin)}')
            while is_space(i):
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag {at(begin)}")
            if text[i] != "=":
                if name == "blockquote" and attr == "expandable":
                    expandable = True
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"{at(begin)}"
                )
            i += 1
            while is_space(i):
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag {at(begin)}")
            value_chars: list[str] = []
            if text[i] in "'\"":
                quote = text[i]
                i += 1
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        decoded, consumed = read_entity_or_amp(i)
                        value_chars.append(decoded)
                        i += consumed
                    else:
                        value_chars.append(text[i])
                        i += 1
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag {at(begin)}")
                i += 1
            else:
                token_start = i
                while i < n and (text[i].isalnum() or text[i] in ".-"):
                    i += 1
                if i < n and not is_space(i) and text[i] != ">":
                    raise HtmlParseError(f"Unexpected end of name token {at(token_start)}")
                value_chars.append(text[token_start:i].lower())
            value = "".join(value_chars)
            if name == "a" and attr == "href":
                argument = value
            elif name == "code" and attr == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif name == "span" and attr == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif name == "tg-emoji" and attr == "emoji-id":
                argument = value
            elif name == "blockquote" and attr == "expandable":
                expandable = True
        if name == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" {at(begin)}')
        if name == "tg-emoji" and not argument.isdigit():
            raise HtmlParseError("Invalid custom emoji identifier specified")
        stack.append(_OpenTag(name, argument, utf16, expandable))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return _trim("".join(out), entities)


def _close_tag(
    tag: _OpenTag, utf16_end: int, stack: list[_OpenTag], entities: list[dict[str, Any]]
) -> None:
    """Turn a closed tag into a MessageEntity dict, as Telegram reports them back."""
    length = utf16_end - tag.start
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> becomes one pre entity with a language.
        if tag.argument:
            stack[-1].argument = tag.argument
        return
    if length <= 0:
        return
    entity: dict[str, Any] = {"type": _ENTITY_TYPES[tag.name], "offset": tag.start}
    entity["length"] = length
    if tag.name == "a":
        if not tag.argument:
            return
        entity["url"] = tag.argument
    elif tag.name == "pre" and tag.argument:
        entity["language"] = tag.argument
    elif tag.name == "blockquote" and tag.expandable:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.argument
    entities.append(entity)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace like Telegram, shifting and clipping entities to match."""
    stripped = text.strip(_WHITESPACE)
    if not stripped:
        return "", []
    shift = utf16_len(text[: len(text) - len(text.lstrip(_WHITESPACE))])
    total = utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
