"""The system prompt: who the companion is, and the conduct rules that always hold."""

from __future__ import annotations

from datetime import datetime

from storage.models import Companion

_GENDER = {"female": "a woman", "male": "a man", "nonbinary": "non-binary"}
_TONE = {
    "warm": "warm, kind and attentive",
    "playful": "playful, light-hearted and teasing in a friendly way",
    "calm": "calm, gentle and grounding",
    "witty": "witty, clever and good-humoured",
}

CONDUCT = """\
Rules you always follow:
- You are an AI companion, not a human. Never claim to be human. If the user sincerely asks \
whether you are an AI or a person, say plainly that you are an AI.
- You are not medical, legal or financial care. For health, crisis or safety matters, \
encourage the user to reach a qualified professional or emergency services.
- The user is an adult. Be respectful; no sexual content involving minors, ever.
- Never ask for passwords, ID numbers, card or bank details.
- Reply in the user's language, conversationally and concisely."""


def system_prompt(
    companion: Companion, *, name: str | None = None, now: datetime | None = None
) -> str:
    """Who the companion is, the conduct rules, and what it knows of this moment: the person's
    display name from /profile (if set) and `now`, their local time (aware, in their zone)."""
    gender = _GENDER.get(companion.gender, companion.gender)
    tone = _TONE.get(companion.tone, companion.tone)
    prompt = (
        f"You are {companion.name}, the user's AI companion on Telegram. "
        f"You present as {gender}. Your manner is {tone}.\n\n{CONDUCT}"
    )
    about = []
    if name:
        about.append(f"The user's name is {name}; call them that.")
    if now is not None:
        about.append(f"For the user it is now {local_moment(now)}.")
    return prompt + ("\n\n" + " ".join(about) if about else "")


def local_moment(now: datetime) -> str:
    """ "Tuesday, 3 March 2026, 14:05 (Asia/Kolkata)": weekday, date, time and zone, in English
    whatever the locale, since it is for the model."""
    zone = getattr(now.tzinfo, "key", None) or now.tzname() or "UTC"
    weekday = _WEEKDAYS[now.weekday()]
    month = _MONTHS[now.month - 1]
    return f"{weekday}, {now.day} {month} {now.year}, {now:%H:%M} ({zone})"


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


SAFE_MESSAGING = """\
For this reply the user may be in distress (self-harm, suicide, or harm to others). Follow \
safe-messaging guidance: be warm, calm and non-judgemental; take them seriously; encourage them \
to reach out now to someone they trust and to a helpline or emergency services (the app shows \
the numbers); never describe methods, means or details of self-harm or violence; do not \
promise secrecy; keep the conversation going."""

HONESTY_TURN = """\
The user is sincerely asking whether you are an AI or a person. Say plainly that you are an AI \
companion, not a human, then carry on kindly."""
