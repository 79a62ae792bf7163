"""Every word the bot says to a user, in one catalogue, so it can be reviewed and translated.

Use `t("key", name=...)`. A test checks that every key used in the code exists here and that every
placeholder is filled. Texts are plain (no markup): Telegram links e-mail addresses by itself.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # -- onboarding ----------------------------------------------------------------------------
    "age.ask": (
        "Hi! I'm Amigo, an AI companion for adults.\n\nBefore anything else: are you 18 or older?"
    ),
    "age.yes": "I'm 18 or older",
    "age.no": "I'm under 18",
    "age.answered_yes": "✓ 18 or older",
    "age.minor": (
        "Thanks for being honest. Amigo is only for adults (18+), so we can't chat. "
        "Nothing you wrote has been kept. Take care!"
    ),
    "age.blocked": (
        "This Telegram account can't use Amigo without a review by our team. "
        "If you think this is a mistake, write to {contact}."
    ),
    "terms.ask": (
        "Here is the short version of our privacy policy:\n\n{summary}\n\n"
        "Questions or requests: {contact}\n"
        "Full policy: {policy}\n\n"
        "To chat, please accept the Terms and Privacy Policy."
    ),
    "terms.accept": "I accept",
    "terms.decline": "I don't accept",
    "terms.accepted": "✓ Terms and Privacy Policy accepted",
    "terms.declined": (
        "No problem. Without accepting I can't chat with you, and nothing of yours has been kept. "
        "Send /start whenever you change your mind."
    ),
    "terms.expired": "That button has expired. Let's start again.",
    "policy.full_link_fallback": "send /privacy and tap “Full policy”",
    "consent.training.ask": (
        "Two optional choices; saying no changes nothing about how I work for you.\n\n"
        "1/2 May we use de-identified excerpts of your chats (names and contacts removed) "
        "to improve the AI? You can change this any time."
    ),
    "consent.marketing.ask": "2/2 May we send you occasional news about Amigo? (marketing)",
    "consent.yes": "Yes",
    "consent.no": "No",
    "consent.training.answered": "Improve the AI with de-identified chats: {answer}",
    "consent.marketing.answered": "Marketing messages: {answer}",
    "answer.yes": "yes",
    "answer.no": "no",
    "companion.name.ask": (
        "Now, who am I to you? Type a name for your companion, or tap the button to keep “{name}”."
    ),
    "companion.name.keep": "Keep “{name}”",
    "companion.name.invalid": (
        "Please pick a name of 1 to {max} letters, on one line (no links or commands)."
    ),
    "companion.name.set": "✓ Name: {name}",
    "companion.gender.ask": "How should {name} present?",
    "companion.gender.female": "Female",
    "companion.gender.male": "Male",
    "companion.gender.nonbinary": "Non-binary",
    "companion.gender.set": "✓ Gender: {value}",
    "companion.tone.ask": "And what tone do you like?",
    "companion.tone.warm": "Warm",
    "companion.tone.playful": "Playful",
    "companion.tone.calm": "Calm",
    "companion.tone.witty": "Witty",
    "companion.tone.set": "✓ Tone: {value}",
    "onboarding.done": (
        "All set! I'm {name}. I'm an AI, not a human, and I'm not a substitute for medical or "
        "professional care. What's on your mind?\n\n"
        "/help lists what I can do; /new starts a fresh conversation."
    ),
    "onboarding.finish_first": "Let's finish setting up first:",
    "onboarding.stale_button": "That button is from an earlier step.",
    # -- chat ----------------------------------------------------------------------------------
    "chat.llm_failed": (
        "Sorry, I couldn't think of a reply just now. Your message is saved; "
        "please try again in a moment."
    ),
    "chat.new": "Fresh start! Our earlier conversations are kept; this one begins now.",
    "chat.welcome_back": "Welcome back! Just write to me whenever you like. /help lists commands.",
    "media.unsupported": (
        "I can only read text for now, so I haven't kept that. Could you tell me in words?"
    ),
    "group.private_only": (
        "Hi! I only talk in private chats. Open a private chat with me to begin."
    ),
    "error.generic": "Sorry, something went wrong on my side. Nothing you sent was lost.",
    # -- info ----------------------------------------------------------------------------------
    "help": (
        "Here's what you can do:\n{commands}\n\n"
        "Anything else you write, I'll answer as your companion.\n"
        "Privacy questions: {contact}"
    ),
    "help.unknown": "I don't know that command.",
    "privacy": (
        "Your privacy, in short:\n\n{summary}\n\n"
        "Your messages are sent to our AI model provider ({provider}) to generate replies.\n"
        "Privacy contact: {contact}\n"
        "Full policy: {policy} (version {version})"
    ),
    "privacy.full_policy": "Full policy",
    "privacy.policy_file_caption": "The full privacy policy, version {version}.",
    # -- commands (shown in /help and the Telegram command menu) -------------------------------
    "cmd.start": "Begin, or pick up where you left off",
    "cmd.help": "What I can do",
    "cmd.privacy": "How your data is handled, and who to contact",
    "cmd.new": "Start a fresh conversation",
}

# Section 2 of the privacy policy, as shown to users (kept in the project, not fetched).
POLICY_SUMMARY = """\
• We collect information you give us (account info, messages to the AI, payment details) \
and information we collect automatically (device, usage, diagnostics).
• Your chats with the AI are stored so the AI can remember context across conversations.
• We use your data to run the Service, keep it safe, and — with safeguards — improve it.
• We do not sell your personal data.
• We do not read your private chats for fun. Human access is limited and only happens for \
specific reasons like abuse investigations, safety, or legal requirements.
• You can delete your data. You can export it. You can ask us questions.
• We aim to collect the minimum we need."""


def t(key: str, /, **values: object) -> str:
    """The catalogue text for `key`, with placeholders filled."""
    return EN[key].format(**values) if values else EN[key]
