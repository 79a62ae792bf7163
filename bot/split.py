"""Splitting a Markdown reply into Telegram-sized messages, measured in UTF-16 units like Telegram.

Separate from rendering because it is a different job with its own rules: cut at the most natural
boundary (paragraph, line, sentence, space, never inside a grapheme), keep inline spans whole when
it can, and re-fence oversized code blocks. It cuts the Markdown source, which is enough because
`bot.render` never shows more characters than the source has. Depends on `bot.render` (one way
only) for its fence and inline-span parsing, and on no Telegram library, so that every adapter
can share it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from itertools import accumulate

from bot.render import Span, closes_fence, inline_spans, normalize, open_fence

TELEGRAM_LIMIT = 4096

_BLANK = re.compile(r"\n[^\S\n]*\n")
_NEWLINE = re.compile(r"\n")
_SENTENCE = re.compile(r"[.!?…।॥][)\"'”’»\]]*(?=\s)|[。！？][」』）”]*")
_SPACE = re.compile(r"[^\S\n\xa0\u2007\u202f]")  # no-break spaces ask us not to break there
_NONSPACE = re.compile(r"\S")
_ZWJ = "\u200d"


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
            spans += [(pa + x, pa + y) for x, y in inline_spans(text[pa:pb])]
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
    lines = normalize(text).split("\n")
    out: list[str] = []
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        fence = open_fence(lines[i])
        if fence is None:
            out.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not closes_fence(lines[j], fence[1]):
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
