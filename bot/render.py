"""LLM Markdown -> Telegram HTML, and the plain-text fallback when Telegram rejects the HTML.

Hand-written rather than built on mistune because we need guarantees a CommonMark renderer does
not give: only Telegram's tag subset; every source character shown literally unless it is markup
(so entities or HTML typed by the model appear as typed, and the visible text is never longer than
the source, which is what lets `bot.split` bound message size by the Markdown alone); and
source offsets of inline spans, so the splitter can avoid cutting through them. Free of any
Telegram library so that every adapter can share it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field

_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
_HR = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_HEADING = re.compile(r"^[ \t]*#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_BULLET = re.compile(r"^([ \t]*)[-*+](?:[ \t]+(.*))?$")
_ORDERED = re.compile(r"^([ \t]*)(\d{1,9}[.)])(?:[ \t]+(.*))?$")
_TASK = re.compile(r"^\[([ xX])\][ \t]+")
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?")
_TABLE_DELIM = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_LANG = re.compile(r"[\w+#.-]{1,32}", re.ASCII)
_SAFE_URL = re.compile(r"(?:https?://[^\s/?#]|tg://\w|mailto:\S)", re.IGNORECASE)
_LINK_TAIL = re.compile(  # (url "title"); one level of parentheses in the url, like CommonMark
    r"\([ \t\n]*(?:<([^<>\n]*)>|((?:[^\s()\\\x00-\x1f]|\\.|\((?:[^\s()\\\x00-\x1f]|\\.)*\))*))"
    r"(?:[ \t\n]+(?:\"[^\"]{0,300}\"|'[^']{0,300}'|\([^()]{0,300}\)))?[ \t\n]*\)"
)
_BRACKET_TOKEN = re.compile(r"\\.|`+|[\[\]]", re.DOTALL)
_AUTOLINK = re.compile(r"<((?:https?|tg|mailto):[^\s<>]*)>", re.IGNORECASE)
_TEXT_RUN = re.compile(r"[^\\`\[!<*_~]+")
_BACKTICKS = re.compile(r"`+")
_TAG = re.compile(r"<[^>]*>")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

Span = tuple[int, int]


def normalize(text: str) -> str:
    """One newline convention, so line-based parsing (here and in bot.split) sees the same lines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _esc(text).replace('"', "&quot;")


def _visible(html: str) -> str:
    return _TAG.sub("", html)


@dataclass(slots=True)
class _Node:
    raw: str
    html: str | None = None  # pre-rendered atomic content (code span, link)
    opens: list[str] = field(default_factory=list)
    closes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Delim:
    node: _Node
    char: str
    count: int
    orig: int
    pos: int
    can_open: bool
    can_close: bool


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _delim(s: str, i: int, j: int, node: _Node) -> _Delim | None:
    """CommonMark flanking rules: keep snake_case and `2 * 3` literal."""
    c, run = s[i], j - i
    before = s[i - 1] if i > 0 else "\n"
    after = s[j] if j < len(s) else "\n"
    if (c == "~" and run != 2) or (c == "*" and before.isdigit() and after.isdigit()):
        return None
    bws, aws, bp, ap = before.isspace(), after.isspace(), _is_punct(before), _is_punct(after)
    left = not aws and (not ap or bws or bp)
    right = not bws and (not bp or aws or ap)
    if c == "_":
        can_open, can_close = left and (not right or bp), right and (not left or ap)
    else:
        can_open, can_close = left, right
    if not (can_open or can_close):
        return None
    return _Delim(node, c, run, run, i, can_open, can_close)


def _emphasis(delims: list[_Delim], plain: bool, spans: list[Span]) -> None:
    """CommonMark's delimiter-stack algorithm, so pairing matches what Markdown readers expect."""
    n = len(delims)
    prev, nxt = list(range(-1, n - 1)), list(range(1, n + 1))
    bottom: dict[tuple[str, bool, int], int] = {}

    def unlink(k: int) -> None:
        if prev[k] >= 0:
            nxt[prev[k]] = nxt[k]
        if nxt[k] < n:
            prev[nxt[k]] = prev[k]

    i = 0
    while i < n:
        closer = delims[i]
        if not closer.can_close:
            i = nxt[i]
            continue
        key = (closer.char, closer.can_open, closer.orig % 3)
        floor, j = bottom.get(key, -1), prev[i]
        while j > floor:
            op = delims[j]
            # CommonMark "rule of 3", e.g. so that *a**b* stays one italic span
            both = op.can_close or closer.can_open
            sum3 = (op.orig + closer.orig) % 3 == 0 and (op.orig % 3 or closer.orig % 3)
            if op.char == closer.char and op.can_open and not (both and sum3):
                break
            j = prev[j]
        if j <= floor:
            bottom[key] = prev[i]
            k, i = i, nxt[i]
            if not closer.can_open:
                unlink(k)
            continue
        op = delims[j]
        use = 2 if op.count >= 2 and closer.count >= 2 else 1
        tag = "s" if op.char == "~" else ("b" if use == 2 else "i")
        op.count -= use
        closer.count -= use
        if not plain:
            op.node.opens.insert(0, f"<{tag}>")
            closer.node.closes.append(f"</{tag}>")
        spans.append((op.pos + op.count, closer.pos + closer.orig - closer.count))
        nxt[j], prev[i] = i, j
        if op.count == 0:
            unlink(j)
        if closer.count == 0:
            k, i = i, nxt[i]
            unlink(k)
    for d in delims:
        d.node.raw = d.char * d.count


def _link_html(inner: str, url: str, plain: bool) -> str:
    if plain:
        return f"{inner} ({url})" if inner and url and url != inner else inner or url
    if _SAFE_URL.match(url) is None:
        return inner
    label = inner if _visible(inner).strip() else _esc(url)
    return f'<a href="{_attr(url)}">{label}</a>'


def _brackets(s: str, runs: dict[int, list[int]]) -> dict[int, int]:
    """Pair every [ with its ], once per paragraph, so bracket-heavy text stays linear."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    pos = 0
    while (m := _BRACKET_TOKEN.search(s, pos)) is not None:
        pos, tok = m.end(), m[0]
        if tok[0] == "`":  # brackets inside code spans do not count
            starts = runs.get(len(tok), [])
            k = bisect_left(starts, pos)
            pos = starts[k] + len(tok) if k < len(starts) else pos
        elif tok == "[":
            stack.append(m.start())
        elif tok == "]" and stack:
            pairs[stack.pop()] = m.start()
    return pairs


def _parse_inline(s: str, plain: bool, links: bool = True) -> tuple[str, list[Span]]:
    """Render one paragraph's inline Markdown; also return the source spans of formatting."""
    nodes: list[_Node] = []
    delims: list[_Delim] = []
    spans: list[Span] = []
    runs: dict[int, list[int]] = {}
    for bt in _BACKTICKS.finditer(s):
        runs.setdefault(len(bt[0]), []).append(bt.start())
    pairs = _brackets(s, runs) if links else {}
    i, n = 0, len(s)
    while i < n:
        c, j, html = s[i], i + 1, None
        if c == "\\" and i + 1 < n and (s[i + 1] in _ASCII_PUNCT or s[i + 1] == "\n"):
            c, j = s[i + 1], i + 2
        elif c in "`*_~":
            while j < n and s[j] == c:
                j += 1
            starts = runs.get(j - i, []) if c == "`" else []
            k = bisect_left(starts, j)
            if k < len(starts):  # a code span: verbatim, no formatting inside
                end, body = starts[k] + j - i, s[j : starts[k]]
                if len(body) >= 2 and body[0] == body[-1] == " " and body.strip(" "):
                    body = body[1:-1]
                if body.strip():
                    html = body if plain else f"<code>{_esc(body)}</code>"
                    spans.append((i, end))
                j, c = end, s[i:end]
            else:
                c = s[i:j]
        elif links and (c == "[" or (c == "!" and s.startswith("[", i + 1))):
            o = i + (c == "!")
            close = pairs.get(o)
            m = _LINK_TAIL.match(s, close + 1) if close is not None else None
            if close is not None and m is not None:
                inner = _parse_inline(s[o + 1 : close], plain, links=False)[0]
                url = m[1] if m[1] is not None else m[2]
                html, j = _link_html(inner, url, plain), m.end()
                spans.append((i, j))
        elif links and c == "<" and (m := _AUTOLINK.match(s, i)) is not None:
            html, j = _link_html("", m[1], plain), m.end()
            spans.append((i, j))
        elif (m := _TEXT_RUN.match(s, i)) is not None:
            c, j = m[0], m.end()
        nodes.append(_Node(c, html))
        if c[0] in "*_~" and html is None and s[i] == c[0]:
            d = _delim(s, i, j, nodes[-1])
            if d is not None:
                delims.append(d)
        i = j
    _emphasis(delims, plain, spans)
    esc = _esc if not plain else str
    out = "".join(
        "".join(x.closes) + (x.html if x.html is not None else esc(x.raw)) + "".join(x.opens)
        for x in nodes
    )
    return out, spans


def open_fence(line: str) -> tuple[str, str, str] | None:
    """(indent, marker, info) if `line` opens a code fence; shared so split and render agree."""
    m = _FENCE.match(line)
    if m is None or (m[2][0] == "`" and "`" in m[3]):
        return None
    return m[1], m[2], m[3].strip()


def closes_fence(line: str, fence: str) -> bool:
    """Whether `line` closes a block opened by `fence` (same char, at least as long)."""
    s = line.strip()
    return len(s) >= len(fence) and s == fence[0] * len(s)


def _code_block(lines: list[str], indent: int, info: str, plain: bool) -> str:
    body = "\n".join(x[min(indent, len(x) - len(x.lstrip(" \t"))) :] for x in lines).strip("\n")
    if plain or not body.strip():
        return body if body.strip() else ""
    lang = info.split()[0] if info.split() else ""
    if _LANG.fullmatch(lang):
        return f'<pre><code class="language-{lang}">{_esc(body)}</code></pre>'
    return f"<pre>{_esc(body)}</pre>"


def _blocks(lines: list[str], plain: bool, quoted: bool) -> str:
    """Line-oriented block pass; Telegram has no block tags but pre and blockquote."""
    parts: list[str] = []
    para: list[str] = []
    gap = False

    def emit(html: str) -> None:
        nonlocal gap
        if html:
            if parts:
                parts.append("\n\n" if gap else "\n")
            parts.append(html)
            gap = False

    def flush() -> None:
        if para:
            emit(_parse_inline("\n".join(para), plain)[0])
            para.clear()

    i = 0
    while i < len(lines):
        line, i = lines[i], i + 1
        fence = None if quoted else open_fence(line)
        if not line.strip():
            flush()
            gap = True
        elif fence is not None:
            flush()
            j = i
            while j < len(lines) and not closes_fence(lines[j], fence[1]):
                j += 1
            emit(_code_block(lines[i:j], len(fence[0]), fence[2], plain))
            i = j + 1
        elif not quoted and _QUOTE.match(line):
            flush()
            inner: list[str] = []
            i -= 1
            while i < len(lines) and _QUOTE.match(lines[i]):
                s = lines[i]
                while (m := _QUOTE.match(s)) is not None:
                    s = s[m.end() :]
                inner.append(s)
                i += 1
            body = _blocks(inner, plain, quoted=True)
            emit(body if plain or not body else f"<blockquote>{body}</blockquote>")
        elif not quoted and "|" in line and _TABLE_DELIM.match("".join(lines[i : i + 1]) or "-"):
            flush()
            j = i + 1
            while j < len(lines) and "|" in lines[j] and open_fence(lines[j]) is None:
                j += 1
            rows = "\n".join(_parse_inline(r.strip(), True)[0] for r in lines[i - 1 : j])
            emit(rows if plain else f"<pre>{_esc(rows)}</pre>")
            i = j
        elif _HR.match(line):
            flush()
            emit("———")
        elif (m := _HEADING.match(line)) is not None:
            flush()
            title = _parse_inline(m[1] or "", plain)[0]
            emit(title if plain or not _visible(title).strip() else f"<b>{title}</b>")
        elif (m := _BULLET.match(line)) is not None:
            flush()
            body, mark = m[2] or "", "•"
            if (t := _TASK.match(body)) is not None:
                body, mark = body[t.end() :], "☐" if t[1] == " " else "☑"
            emit(f"{m[1]}{mark} {_parse_inline(body, plain)[0]}".rstrip())
        elif (m := _ORDERED.match(line)) is not None:
            flush()
            emit(f"{m[1]}{m[2]} {_parse_inline(m[3] or '', plain)[0]}".rstrip())
        else:
            para.append(line.strip())
    flush()
    return "".join(parts)


def _render(markdown: str, plain: bool) -> str:
    text = normalize(markdown)
    out = _blocks(text.split("\n"), plain, quoted=False)
    if not (out if plain else _visible(out)).strip() and text.strip():
        return text.strip() if plain else _esc(text.strip())  # never hand Telegram an empty text
    return out


def inline_spans(paragraph: str) -> list[Span]:
    """Source spans of one paragraph's formatting, so the splitter can avoid cutting inside them."""
    return _parse_inline(paragraph, True)[1]


def markdown_to_html(markdown: str) -> str:
    """Telegram HTML for one chunk: text escaped, only Telegram's tags, never longer when shown."""
    return _render(markdown, plain=False)


def markdown_to_plain(markdown: str) -> str:
    """Markup stripped, for the fallback when Telegram rejects HTML; links keep their URL."""
    return _render(markdown, plain=True)
