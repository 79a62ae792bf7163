"""The training export (privacy policy section 6, P6.5): a de-identified dataset of the conversations
of users who currently consent to model improvement, for `python -m bot training-export`.

Who is in it: active accounts whose newest model_improvement and Terms ledger rows are granted. The
ledger is asked again just before each conversation is written, so a withdrawal made during a long run
still counts. Closed, banned and onboarding accounts are never in it.

What is left out (policy 4.4, P4.5): any conversation in which the built-in distress detector or the
under-18 signal fires on a user message, and any conversation holding a message the live safety checks
flagged (which also covers the moderation model's verdicts). Such conversations are dropped whole,
before a single line of them is written.

What a line holds: a random id made for this file (not the database id, and different in every
export), and the messages in order, each a role and de-identified text. No dates or times, no user,
Telegram or database ids. Conversations are written in a random order, so neighbouring lines do not
reveal that they came from the same person.

Memory stays bounded by one message: the file is written message by message from `iter_messages`,
and what is held for the whole run is one pair of integers per conversation (to shuffle them).

De-identification (`deidentify`) replaces, in this order: e-mail addresses [EMAIL]; other
something@word ids such as UPI ids [ID]; t.me / telegram.me links [HANDLE]; URLs and bare domains
[URL]; @handles [HANDLE]; PAN-shaped and other upper-case letter+digit ids [ID]; numeric dates [DATE];
phone numbers (Indian and international, with spaces, dashes, dots or brackets) [PHONE];
Aadhaar-like 12-digit and card-like 13-19 digit numbers [ID]; any other run of six or more digits
[NUMBER]; and the user's known names (profile display name, nominee name and contact) [NAME]. The
companion's name is replaced too, by [COMPANION]: users choose it freely, sometimes after a real
person, and a rare one would link a user's conversations together; the distinct placeholder keeps the
shape of the dialogue (the user addressing their companion). It is pattern matching: see
`deidentify` for what it misses.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import secrets
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO

from safety import detect_distress, detect_minor_signal
from storage.base import Repository

log = logging.getLogger("amigo.training_export")

# Every kind of redaction, in the order the report lists them.
KINDS = ("email", "phone", "handle", "url", "number", "id", "date", "name", "companion")
# Why a conversation was left out.
DROPS = ("distress", "minor_signal", "flagged", "consent_withdrawn")

_PLACEHOLDER_WORDS = frozenset(k.upper() for k in KINDS)

# -- patterns ------------------------------------------------------------------------------------
# Each starts only where a token starts (a look-behind), which keeps them linear on long inputs.

_LOCAL = r"[\w.+%-]"
_EMAIL = re.compile(rf"(?<!{_LOCAL}){_LOCAL}+@[\w-]+(?:\.[\w-]+)+")
# Left after e-mails: name@okaxis, 98765@ybl, or an address without its domain's dot.
_AT_ID = re.compile(rf"(?<!{_LOCAL}){_LOCAL}+@\w+")
_TG_LINK = re.compile(
    r"(?<![\w.])(?:(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/|tg://)\S*", re.IGNORECASE
)
_URL = re.compile(
    r"(?<![\w.])(?:(?:https?|ftp)://|www\.)\S*[^\s.,;:!?)\]}'\"]"
    r"|(?<![\w.@-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|net|org|in|io|co|me|app|dev|ai|info|biz|xyz|online|site|ly|gg|tv|us|uk|edu|gov)"
    r"\b(?:/[^\s]*[^\s.,;:!?)\]}'\"])?",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@.])@\w(?:[\w.]*\w)?")
_PAN = re.compile(r"\b[A-Za-z]{5}\d{4}[A-Za-z]\b")
_CAPS_TOKEN = re.compile(r"\b[A-Z0-9]{6,20}\b")  # vehicle, IFSC, passport, voter ids
_DATE = re.compile(
    r"(?<![\d.-])(?:(?P<a>\d{1,2})(?P<s>[-./])(?P<b>\d{1,2})(?P=s)(?:\d{4}|\d{2})"
    r"|\d{4}(?P<t>[-./])(?P<m>\d{1,2})(?P=t)(?P<d>\d{1,2}))(?![-./]?\d)"
)
# A number as people type it: an optional +, digit groups joined by a space, dash, dot or brackets.
_RUN = re.compile(r"\+?\(?\d+(?:(?:[ \u00a0]?[-.()][ \u00a0]?|[ \u00a0])\(?\d+)*")
_AADHAAR_GROUPS = re.compile(r"\d{4}[ \u00a0-]\d{4}[ \u00a0-]\d{4}")
_YEAR_RANGE = re.compile(r"(?:19|20)\d\d ?- ?(?:19|20)\d\d")
_LONG_DIGITS = re.compile(r"\d{6,}")  # the last net: nothing of six digits or more survives

# Words too common to redact everywhere, even when they are (part of) someone's chosen name.
# fmt: off
_NAME_STOPWORDS = frozenset({
    "the", "and", "for", "you", "your", "are", "not", "but", "was", "with", "from", "this", "that",
    "what", "who", "mr", "mrs", "ms", "miss", "dr", "sir", "madam", "mom", "dad", "mum", "bhai",
    "didi", "ji", "sahab", "baby", "love", "dear", "sweet", "cute", "king", "queen",
})
# fmt: on
_NAME_SPLIT = re.compile(r"[\s,;:/()\"'.!?&+|]+")


def deidentify(
    text: str, names: Iterable[str] = (), *, companion: str | None = None
) -> tuple[str, Counter[str]]:
    """Replace identifiers in `text` with placeholders; return the text and a count per kind.

    Catches: e-mail addresses; UPI-style ids (name@okaxis); t.me links; URLs with a scheme or www.
    and bare domains with a common ending; @handles; PAN (either case) and upper-case letter+digit
    ids of 6-20 characters with at least two letters and four digits (vehicle numbers, IFSC, voter
    ids); numeric dates with a year; phone numbers as people type them (+country code, 10-digit
    Indian mobiles with or without 0/91, grouped landlines); 12-digit Aadhaar-like and 13-19 digit
    card-like numbers; any other six or more digits, in any script (so a passport's K1234567 keeps
    only its K); and the given names: each whole name, and each word of it of three letters or
    more that is not a common word, case-insensitively and as whole words only.

    Misses (pattern matching cannot know): names other than the ones given (friends, family,
    colleagues, the user's own name if it is not in their profile), addresses, places, schools and
    employers, dates written in words ("12 May 1990"), numbers split by commas ("98765,43210") or
    written in words, lower-case or hyphenated ids ("mh12ab1234", "DL-04"), handles written without
    an @, domains with rarer endings, and anything identifying by its content (a rare illness, a
    unique story). It also over-redacts: amounts of six digits or more become [NUMBER], decimals
    with many digits can become [PHONE], and a name that is also a word ("Sunny") is replaced
    everywhere.
    """
    counts: Counter[str] = Counter()
    text = unicodedata.normalize("NFC", text)

    def sub(pattern: re.Pattern[str], kind: str | Callable[[re.Match[str]], str | None]) -> int:
        nonlocal text

        def replace(match: re.Match[str]) -> str:
            found = kind(match) if callable(kind) else kind
            if found is None:
                return match.group(0)
            counts[found] += 1
            return f"[{found.upper()}]"

        text, replaced = pattern.subn(replace, text)
        return replaced

    # Until none is left: an address right after another one ("a@b.cc.+x@y.zz") only becomes a
    # token of its own once the first is replaced.
    while sub(_EMAIL, "email"):
        pass
    sub(_AT_ID, "id")
    sub(_TG_LINK, "handle")
    sub(_URL, "url")
    sub(_HANDLE, "handle")
    sub(_PAN, "id")
    sub(_CAPS_TOKEN, _caps_id)
    sub(_DATE, _date_kind)
    sub(_RUN, _number_kind)
    sub(_LONG_DIGITS, "number")
    # Names last: by now an e-mail or phone contact is already a placeholder with its own kind.
    if (pattern := _names_pattern(tuple(names))) is not None:
        sub(pattern, _whole_name("name"))
    if companion and (pattern := _names_pattern((companion,))) is not None:
        sub(pattern, _whole_name("companion"))
    return text, counts


def _date_kind(match: re.Match[str]) -> str | None:
    """A numeric date with a year (a birthday is a strong identifier); not 98-76-54 of a phone."""
    if match.group("s"):
        first, second = int(match.group("a")), int(match.group("b"))
        plausible = (1 <= first <= 31 and 1 <= second <= 12) or (
            1 <= first <= 12 and 1 <= second <= 31
        )
    else:
        plausible = 1 <= int(match.group("m")) <= 12 and 1 <= int(match.group("d")) <= 31
    return "date" if plausible else None


def _caps_id(match: re.Match[str]) -> str | None:
    token = match.group(0)
    letters = sum(c.isalpha() for c in token)
    digits = sum(c.isdigit() for c in token)
    return "id" if letters >= 2 and digits >= 4 else None


def _number_kind(match: re.Match[str]) -> str | None:
    """What a run of digits most likely is; None keeps it (under six digits, or a range of years)."""
    run = match.group(0)
    digits = "".join(str(unicodedata.decimal(c)) for c in run if c.isdecimal())
    n = len(digits)
    if n < 6 or _YEAR_RANGE.fullmatch(run):
        return None
    grouped = any(not c.isdecimal() for c in run.lstrip("+"))
    if run.startswith("+") and 7 <= n <= 15:
        return "phone"
    if n == 10 and digits[0] in "6789":  # an Indian mobile
        return "phone"
    if n == 11 and digits[0] == "0" and digits[1] in "6789":
        return "phone"
    if (
        n == 12
        and digits.startswith("91")
        and digits[2] in "6789"
        and not _AADHAAR_GROUPS.fullmatch(run)
    ):
        return "phone"
    if n == 12:
        return "id"  # Aadhaar-like
    if 13 <= n <= 19:
        return "id"  # card-like
    if grouped and 8 <= n <= 15:
        return "phone"  # landlines and foreign numbers typed in groups
    return "number"


def _whole_name(kind: str) -> Callable[[re.Match[str]], str | None]:
    def check(match: re.Match[str]) -> str | None:
        text, start, end = match.string, match.start(), match.end()
        # Not the word inside one of our own placeholders ("[NAME]" when someone is called Name) ...
        if match.group(0).upper() in _PLACEHOLDER_WORDS and text[start - 1 : start] == "[":
            return None
        # ... nor the start of a longer word that continues with a combining mark (Indic scripts).
        if end < len(text) and unicodedata.category(text[end]).startswith("M"):
            return None
        return kind

    return check


@lru_cache(maxsize=1024)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One case-insensitive whole-word pattern for the names and their words, longest first."""
    variants: set[str] = set()
    for raw in names:
        name = unicodedata.normalize("NFC", " ".join(raw.split()))
        words = _NAME_SPLIT.split(name)
        if "@" in name:  # an e-mail contact: its local part may be typed alone as an id
            words.append(name.split("@", 1)[0])
        candidates = [name] if len(name) >= 2 else []
        candidates += [w for w in words if len(w) >= 3]
        variants.update(
            c
            for c in candidates
            if c.casefold() not in _NAME_STOPWORDS and any(ch.isalnum() for ch in c)
        )
    if not variants:
        return None
    alternatives = "|".join(
        r"\s+".join(re.escape(word) for word in v.split())
        for v in sorted(variants, key=len, reverse=True)
    )
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


# -- the export ----------------------------------------------------------------------------------


@dataclass
class TrainingExportReport:
    """Counts only: how much went into the file, what was left out and why, what was redacted."""

    path: Path
    consenting_users: int = 0
    users: int = 0
    conversations: int = 0
    messages: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    redactions: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """What `python -m bot training-export` prints: never a word of the conversations."""
        lines = [
            f"training export written: {self.path}",
            f"  users included    {self.users} (of {self.consenting_users} consenting)",
            f"  conversations     {self.conversations}",
            f"  messages          {self.messages}",
            "  conversations left out:",
            *(f"    {reason:<18}{self.dropped.get(reason, 0)}" for reason in DROPS),
            "  redactions:",
            *(f"    {kind:<18}{self.redactions.get(kind, 0)}" for kind in KINDS),
        ]
        return "\n".join(lines)


async def write_training_export(
    repo: Repository, path: Path, now: datetime
) -> TrainingExportReport:
    """Write the export to `path` (owner-only), replacing it whole only once it is complete.

    `now` is the snapshot's edge: messages written after it are not exported.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.fchmod(fd, 0o600)
    report = TrainingExportReport(path=path.resolve())
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            await _write(out, repo, now, report)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)  # noqa: ASYNC240 - a local temporary file
        raise
    log.info(
        "training_export.written",
        extra={
            "users": report.users,
            "conversations": report.conversations,
            "messages": report.messages,
            **{f"dropped_{k}": v for k, v in report.dropped.items()},
        },
    )
    return report


async def _write(
    out: IO[str], repo: Repository, now: datetime, report: TrainingExportReport
) -> None:
    users = await repo.consenting_users()
    report.consenting_users = len(users)
    pairs: list[tuple[int, int]] = []
    for user_id in users:
        pairs.extend((user_id, c.id) for c in await repo.conversations(user_id) if c.messages)
    random.SystemRandom().shuffle(pairs)
    included: set[int] = set()
    for user_id, conversation_id in pairs:
        if not await repo.consents_to_training(user_id):
            report.dropped["consent_withdrawn"] += 1
            continue
        if conversation_id in await repo.flagged_conversations(user_id):
            report.dropped["flagged"] += 1
            continue
        if await _write_conversation(out, repo, user_id, conversation_id, now, report):
            included.add(user_id)
    report.users = len(included)


async def _write_conversation(
    out: IO[str],
    repo: Repository,
    user_id: int,
    conversation_id: int,
    now: datetime,
    report: TrainingExportReport,
) -> bool:
    """Screen the whole conversation first, then write it: a conversation that turns out sensitive
    never has a byte in the file. Messages beyond the screened ones (arriving meanwhile) are left out.
    """
    last_screened: int | None = None
    async for message in repo.iter_messages(user_id, conversation_id):
        if message.created_at > now:
            break
        if message.role == "user":
            if detect_distress(message.text) is not None:
                report.dropped["distress"] += 1
                return False
            if detect_minor_signal(message.text):
                report.dropped["minor_signal"] += 1
                return False
        last_screened = message.id
    if last_screened is None:
        return False

    names, companion = await _known_names(repo, user_id)
    written = 0
    async for message in repo.iter_messages(user_id, conversation_id):
        if message.id > last_screened:
            break
        text, found = deidentify(message.text, names, companion=companion)
        if written == 0:
            out.write(f'{{"conversation": "{secrets.token_hex(16)}", "messages": [')
        else:
            out.write(", ")
        out.write(json.dumps({"role": message.role, "text": text}, ensure_ascii=False))
        report.redactions.update(found)
        written += 1
    if written == 0:
        return False  # deleted between the two passes
    out.write("]}\n")
    report.conversations += 1
    report.messages += written
    return True


async def _known_names(repo: Repository, user_id: int) -> tuple[tuple[str, ...], str | None]:
    """The names this account has told us: its display name, its nominee's name and contact."""
    profile = await repo.profile(user_id)
    nominee = await repo.nominee(user_id)
    companion = await repo.companion(user_id)
    known = [profile.display_name]
    if nominee is not None:
        known += [nominee.name, nominee.contact]
    return tuple(n for n in known if n), companion.name if companion else None
