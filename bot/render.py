"""LLM Markdown -> Telegram HTML, and splitting replies into Telegram-sized messages.

Hand-written rather than built on mistune because we need guarantees a CommonMark renderer does
not give: only Telegram's tag subset; every source character shown literally unless it is markup
(so entities or HTML typed by the model appear as typed, and the visible text is never longer than
the source, which is what lets `split_markdown` bound message size by the Markdown alone); and
source offsets of inline spans, so the splitter can avoid cutting through them.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

TELEGRAM_LIMIT = 4096

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
_BLANK = re.compile(r"\n[^\S\n]*\n")
_NEWLINE = re.compile(r"\n")
_SENTENCE = re.compile(r"[.!?…।॥][)\"'”’»\]]*(?=\s)|[。！？][」』）”]*")
_SPACE = re.compile(r"[^\S\n\xa0\u2007\u202f]")  # no-break spaces ask us not to break there
_NONSPACE = re.compile(r"\S")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ZWJ = "\u200d"

Span = tuple[int, int]


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so astral characters count twice."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def fit_utf16(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` UTF-16 units (for captions), never half a pair."""
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _normalize(text: str) -> str:
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


def _open_fence(line: str) -> tuple[str, str, str] | None:
    m = _FENCE.match(line)
    if m is None or (m[2][0] == "`" and "`" in m[3]):
        return None
    return m[1], m[2], m[3].strip()


def _closes(line: str, fence: str) -> bool:
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
        fence = None if quoted else _open_fence(line)
        if not line.strip():
            flush()
            gap = True
        elif fence is not None:
            flush()
            j = i
            while j < len(lines) and not _closes(lines[j], fence[1]):
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
            while j < len(lines) and "|" in lines[j] and _open_fence(lines[j]) is None:
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
    text = _normalize(markdown)
    out = _blocks(text.split("\n"), plain, quoted=False)
    if not (out if plain else _visible(out)).strip() and text.strip():
        return text.strip() if plain else _esc(text.strip())  # never hand Telegram an empty text
    return out


def markdown_to_html(markdown: str) -> str:
    """Telegram HTML for one chunk: text escaped, only Telegram's tags, never longer when shown."""
    return _render(markdown, plain=False)


def markdown_to_plain(markdown: str) -> str:
    """Markup stripped, for the fallback when Telegram rejects HTML; links keep their URL."""
    return _render(markdown, plain=True)


def _boundary(text: str, p: int) -> bool:
    """Approximate grapheme boundary: do not separate marks, ZWJ sequences, flags, conjuncts."""
    a, b = text[p - 1], text[p]
    ob = ord(b)
    if _ZWJ in (a, b) or unicodedata.category(b) in ("Mn", "Mc", "Me"):
        return False
    if 0xFE00 <= ob <= 0xFE0F or 0x1F3FB <= ob <= 0x1F3FF or 0xE0020 <= ob <= 0xE01EF:
        return False
    if unicodedata.combining(a) == 9 and unicodedata.category(b) == "Lo":
        return False
    if 0x1F1E6 <= ob <= 0x1F1FF:
        k = p
        while k > 0 and 0x1F1E6 <= ord(text[k - 1]) <= 0x1F1FF:
            k -= 1
        return (p - k) % 2 == 0
    return True


def _hard_cut(text: str, start: int, end: int) -> int:
    for p in range(end, max(start, end - 32), -1):
        if p >= len(text) or _boundary(text, p):
            return p
    return end


def _prefix(text: str) -> list[int]:
    """UTF-16 offset of every code point, so windows are found by bisection."""
    return list(accumulate((2 if ord(c) > 0xFFFF else 1 for c in text), initial=0))


def _cut_line(line: str, cap: int) -> list[str]:
    """Cut an over-long code line, at a space if there is one."""
    out, start, pref = [], 0, _prefix(line)
    while pref[-1] - pref[start] > cap:
        end = bisect_right(pref, pref[start] + cap) - 1
        sp = line.rfind(" ", start + 1, end)
        cut = sp + 1 if sp >= 0 else _hard_cut(line, start, end)
        out.append(line[start:cut])
        start = cut
    out.append(line[start:])
    return out


def _code_pieces(
    block: list[str], fence: tuple[str, str, str], closed: bool, limit: int
) -> list[list[str]] | None:
    """Re-fence an oversized code block into pieces that each fit; None if the limit is absurd."""
    if utf16_len("\n".join(block)) <= limit:
        return [block]
    indent, marker, info = fence
    reopen, close = indent + marker + (info.split()[0] if info.split() else ""), indent + marker
    body, tail = (block[1:-1], block[-1]) if closed else (block[1:], close)
    foot = max(utf16_len(tail), utf16_len(close))
    caps = (limit - utf16_len(block[0]) - foot - 2, limit - utf16_len(reopen) - foot - 2)
    if min(caps) < 2:
        return None
    pieces: list[list[str]] = [[]]
    size = 0
    for part in (p for line in body for p in _cut_line(line, min(caps))):
        units = utf16_len(part)
        if pieces[-1] and size + 1 + units > caps[len(pieces) > 1]:
            pieces.append([])
        size = units if not pieces[-1] else size + 1 + units
        pieces[-1].append(part)
    last = len(pieces) - 1
    return [
        [block[0] if k == 0 else reopen, *p, tail if k == last else close]
        for k, p in enumerate(pieces)
    ]


def _merge(spans: list[Span]) -> tuple[list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    for s, e in sorted(spans):
        if starts and s < ends[-1]:
            ends[-1] = max(ends[-1], e)
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


def _inside(p: int, merged: tuple[list[int], list[int]]) -> bool:
    k = bisect_left(merged[0], p) - 1
    return k >= 0 and merged[1][k] > p


def _candidates(text: str, regions: list[Span]) -> list[list[int]]:
    """Cut positions by preference: paragraph, line, sentence, space; then the same inside spans."""
    level: dict[int, int] = {}
    for lvl, rx in enumerate((_BLANK, _NEWLINE, _SENTENCE, _SPACE)):
        for m in rx.finditer(text):
            p = m.end() if rx is _SENTENCE else m.start()
            if 0 < p < len(text) and lvl < level.get(p, 9):
                level[p] = lvl
    spans: list[Span] = []
    edges = [0, *(x for r in regions for x in r), len(text)]
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        cuts = [a, *(x for m in _BLANK.finditer(text, a, b) for x in m.span()), b]
        for pa, pb in zip(cuts[::2], cuts[1::2], strict=True):
            spans += [(pa + x, pa + y) for x, y in _parse_inline(text[pa:pb], True)[1]]
    code, inline = _merge(regions), _merge(spans)
    out: list[list[int]] = [[] for _ in range(8)]
    for p in sorted(level):
        if not _inside(p, code):
            out[level[p] + 4 * _inside(p, inline)].append(p)
    return out


def _choose(cands: list[list[int]], text: str, start: int, end: int) -> int:
    """Best cut in (start, end]: best level past half the window, else the best level at all."""
    half = start + (end - start) // 2
    for base in (0, 4):
        fallback = None
        for lst in cands[base : base + 4]:
            k = bisect_right(lst, end) - 1
            if k >= 0 and lst[k] > start:
                if lst[k] >= half:
                    return lst[k]
                fallback = lst[k] if fallback is None else fallback
        if fallback is not None:
            return fallback
    return _hard_cut(text, start, end)


def split_markdown(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split a Markdown reply into chunks each at most `limit` UTF-16 units long (the raw Markdown
    chunk itself, so that both the rendered HTML's visible text and a plain-text fallback fit)."""
    if limit < 2:
        raise ValueError("limit must leave room for one astral character")
    lines = _normalize(text).split("\n")
    out: list[str] = []
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        fence = _open_fence(lines[i])
        if fence is None:
            out.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not _closes(lines[j], fence[1]):
            j += 1
        block = lines[i : j + 1]
        pieces = _code_pieces(block, fence, j < len(lines), limit)
        for piece in pieces or [block]:
            if pieces is not None:
                blocks.append((len(out), len(out) + len(piece) - 1))
            out.extend(piece)
        i = j + 1
    src = "\n".join(out)
    offsets = list(accumulate((len(x) + 1 for x in out), initial=0))
    regions = [(offsets[a], offsets[b] + len(out[b])) for a, b in blocks]
    return _greedy(src, limit, regions)


def _greedy(text: str, limit: int, regions: list[Span]) -> list[str]:
    last = len(text.rstrip())
    pref = _prefix(text)
    cands = _candidates(text, regions)
    chunks: list[str] = []
    m = _NONSPACE.search(text)
    start = m.start() if m else len(text)
    while start < last:
        end = bisect_right(pref, pref[start] + limit) - 1
        if end >= last:
            chunks.append(text[start:last])
            break
        cut = _choose(cands, text, start, end)
        chunks.append(text[start:cut].rstrip())
        m = _NONSPACE.search(text, cut)
        start = m.start() if m else len(text)
    return chunks
