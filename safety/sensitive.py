"""A local screen for facts automatic memory must not keep (handlers/memory.py).

The extraction prompt already tells the model to leave these out; this is the second line, so a
model that ignores it still cannot make the companion hoard them. What the policy asks people not
to share, and what DPDP treats with special care: health, sexual orientation and sex life,
religion, caste, political views, government ID numbers, financial account or card numbers,
passwords. A keyword and number-shape screen on purpose: it errs towards leaving a fact out (a
missed memory costs little; a kept secret costs trust), and it is a table a reviewer can read.
A person can still keep such a fact on purpose with /memory add, which does not use this screen.
Compiled on first use, never at import.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# kind -> words and phrases, matched whole and case-insensitively (apostrophes dropped); a
# trailing * matches any ending ("depress*": depressed, depression). Facts are the model's short
# sentences about the person, so an ambiguous word costs one missed memory at most.
KEYWORDS: dict[str, str] = {  # comma-separated entries
    "health": (
        "health problem*, health issue*, health condition*, medical condition*, medical history, "
        "medicine*, medication*, meds, pill, pills, prescri*, diagnos*, hospitali*, surgery, "
        "surgeries, therap*, psychiatr*, psycholog*, counsell*, counsel?ing, mental*, depress*, "
        "anxiety, anxious, panic attack*, bipolar, schizo*, ptsd, ocd, adhd, autis*, anorexi*, "
        "bulimi*, eating disorder*, disorder*, illness*, disease*, symptom*, cancer*, tumou?r*, "
        "chemo*, diabet*, insulin, asthma*, epilep*, seizure*, hiv, aids, std, stds, sti, stis, "
        "hepatitis, tuberculosis, thyroid*, blood pressure, hypertension, heart attack*, stroke, "
        "migraine*, pregnan*, miscarri*, abortion*, fertility, infertil*, ivf, menstrua*, pcos, "
        "pcod, disab*, injur*, allerg*, addict*, rehab*, alcoholi*, overdos*, antidepress*, "
        "suicid*, self-harm*, self harm*, selfharm*"
    ),
    "sexual": (
        "gay, lesbian*, bisexual*, bi, queer, homosexual*, heterosexual*, asexual*, pansexual*, "
        "lgbt*, transgender*, trans, nonbinary, non-binary, sex, sexual*, sexy, sex life, "
        "orientation, porn*, hookup*, hook up*, kink*, fetish*, virgin*, condom*, contracepti*, "
        "nude*, onlyfans"
    ),
    "religion": (
        "religio*, hindu*, muslim*, islam*, christian*, catholic*, protestant*, sikh*, jain, "
        "jains, jainism, buddhis*, jew, jews, jewish, judaism, parsi*, zoroastr*, atheis*, "
        "agnostic*, church*, mosque*, masjid, temple*, gurdwara*, synagogue*, pray*, namaz, "
        "ramadan, roza, bible, quran, koran, gita, god, gods, goddess, allah, bhagwan, spiritual*"
    ),
    "caste": (
        "caste*, jati, dalit*, brahmin*, kshatriya*, vaishya*, shudra*, obc, scheduled caste*, "
        "scheduled tribe*, sc/st, adivasi*, bahujan*"
    ),
    "political": (
        "politic*, vote*, voting, election*, bjp, congress, aam aadmi, tmc, cpi, cpim, communis*, "
        "socialis*, leftist*, right-wing*, right wing*, left-wing*, left wing*, liberal*, "
        "conservative*, democrat*, republican*, tory, tories, modi, rahul gandhi, trump, biden, "
        "activis*, protest*"
    ),
    "government_id": (
        "aadhaar*, aadhar*, pan card*, pan number*, passport*, ssn, social security, voter id*, "
        "epic number*, driving licen*, drivers licen*, driver licen*, national id*, id "
        "number*, ration card*"
    ),
    "financial": (
        "account number*, acct, a/c, bank account*, ifsc, iban, swift code*, routing number*, "
        "card number*, credit card*, debit card*, cvv, cvc, upi, upi id*, net banking, netbanking"
    ),
    "password": (
        "password*, passcode*, passphrase*, pin, pins, pin code*, otp, otps, credentials, secret "
        "code*, security question*"
    ),
}

# kind -> number shapes, matched case-insensitively on the text as written
SHAPES: dict[str, tuple[str, ...]] = {
    "government_id": (
        r"\b\d{4}[ -]?\d{4}[ -]?\d{4}\b",  # Aadhaar (12 digits)
        r"\b[a-z]{5}\d{4}[a-z]\b",  # PAN
        r"\b\d{3}-\d{2}-\d{4}\b",  # SSN
        r"\b[a-z]\d{7}\b",  # Indian passport
    ),
    "financial": (
        r"\b(?:\d[ -]?){13,19}\b",  # a card number
        r"\b\d{9,18}\b",  # a bank account number (a phone number too: also left out)
        r"\b[a-z]{4}0[a-z0-9]{6}\b",  # IFSC
        r"\b[\w.-]{2,}@(?:ok\w+|ybl|paytm|upi|ibl|axl)\b",  # a UPI id
    ),
}


def _word(entry: str) -> str:
    """One KEYWORDS entry as a regex: `?` makes the letter before it optional, `*` any ending."""
    body = re.escape(entry.rstrip("*")).replace(r"\?", "?")
    return body + (r"[\w-]*" if entry.endswith("*") else "")


@functools.cache
def _compiled() -> tuple[tuple[str, re.Pattern[str], bool], ...]:
    """(kind, pattern, on the folded text) for every kind; built on first use."""
    words = tuple(
        (
            kind,
            re.compile(r"(?<![\w])(?:" + "|".join(map(_word, entries.split(", "))) + r")(?![\w])"),
            True,
        )
        for kind, entries in KEYWORDS.items()
    )
    shapes = tuple(
        (kind, re.compile("|".join(patterns), re.IGNORECASE), False)
        for kind, patterns in SHAPES.items()
    )
    return words + shapes


def _fold(text: str) -> str:
    """Compatibility forms folded, lower case, apostrophes dropped, whitespace made single."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", re.sub(r"['’‘`]", "", folded))


def sensitive_kind(text: str) -> str | None:
    """The first kind of sensitive information `text` seems to hold, or None."""
    folded = _fold(text)
    for kind, pattern, on_folded in _compiled():
        if pattern.search(folded if on_folded else text):
            return kind
    return None


def is_sensitive(text: str) -> bool:
    return sensitive_kind(text) is not None
