"""Every word the bot says to a user, in one catalogue, so it can be reviewed and translated.

Use `t("key", name=...)`. A test checks that every key used in the code exists here and that every
placeholder is filled. Texts are plain (no markup): Telegram links e-mail addresses by itself.

Over 400 lines on purpose: it is data, and one file is what a reviewer or translator reads whole.
"""

from __future__ import annotations

# The route to complain, after our own grievance route (DPDP Act 2023, s. 13(3)); every screen that
# summarises the notice ends with it.
COMPLAIN = (
    "Complaints: raise a grievance with us first (/grievance, or write to the privacy contact); "
    "if we don't resolve it, you can complain to the Data Protection Board of India."
)

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
        "Full policy: {policy}\n"
        + COMPLAIN
        + "\n\nTo chat, please accept the Terms and Privacy Policy."
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
    "chat.new": (
        "Fresh start! Our earlier conversations are kept; this one begins now. "
        "(As always: I'm an AI, not a human.)"
    ),
    "recovery.away": "Sorry, I was away for a while. Here is my answer to what you wrote:",
    "recovery.too_old": (
        "I was away for a while and only now saw that you wrote to me. Your message arrived, "
        "but it has been too long for me to answer it well. Could you write to me again?"
    ),
    "chat.welcome_back": "Welcome back! Just write to me whenever you like. /help lists commands.",
    "media.unsupported": (
        "I can only read text for now, so I haven't kept that. Could you tell me in words?"
    ),
    "group.private_only": (
        "Hi! I only talk in private chats. Open a private chat with me to begin."
    ),
    "error.generic": "Sorry, something went wrong on my side. Please try again in a moment.",
    # -- info ----------------------------------------------------------------------------------
    "help": (
        "Here's what you can do:\n{commands}\n\n"
        "Anything else you write, I'll answer as your companion.\n"
        "Privacy questions: {contact}"
    ),
    "help.unknown": "I don't know that command.",
    "privacy": (
        "Your privacy, in short:\n\n{summary}\n\n"
        "Who receives your data:\n{recipients}\n\n"
        "Privacy contact: {contact}\n"
        "Full policy: {policy} (version {version})\n\n" + COMPLAIN
    ),
    "recipient.model": "• Our AI model provider ({name}): your recent messages, to generate replies",
    "recipient.telegram": "• Telegram: it carries every message between you and Amigo",
    "recipient.moderation": (
        "• The moderation endpoint of {name}: each message you send, to check it for signs "
        "of distress"
    ),
    "recipient.model.purpose": "generating replies",
    "recipient.telegram.name": "Telegram",
    "recipient.telegram.purpose": "carrying every message between you and Amigo",
    "recipient.moderation.name": "{name} (moderation endpoint)",
    "recipient.moderation.purpose": "checking each message you send for signs of distress",
    "privacy.full_policy": "Full policy",
    "privacy.policy_file_caption": "The full privacy policy, version {version}.",
    # -- privacy rights ------------------------------------------------------------------------
    "privacy.purposes": (
        "What we use your data for, and why we may (policy section 5), with the basis under "
        "India's DPDP Act 2023 (s. 6: your consent; s. 7: a legitimate use):\n{purposes}"
    ),
    "privacy.actions": "Your rights, one tap away:",
    "btn.mydata": "What you hold (/mydata)",
    "btn.export": "Export (/export)",
    "btn.delete": "Delete (/delete)",
    "btn.consent": "Consents (/consent)",
    "btn.profile": "Profile (/profile)",
    "btn.companion": "Companion (/companion)",
    "btn.nominate": "Nominee (/nominate)",
    "btn.grievance": "Grievance (/grievance)",
    "btn.autodelete": "Auto-delete (/autodelete)",
    "btn.cancel": "Cancel",
    "rights.need_account": "That works once you've set up Amigo. Send /start to begin.",
    "mydata": (
        "What we hold about you, right now:\n\n{categories}\n\n"
        "Your consents:\n{consents}\n\n"
        "Who receives your data:\n{recipients}\nWe don't sell or share your data otherwise.\n\n"
        "Staff access to your data:\n{accesses}\n\n"
        "Delete anything with /delete, take a copy with /export.\n" + COMPLAIN
    ),
    "mydata.profile": (
        "• Profile: {n} of 4 optional fields set (display name, gender, country, time zone). "
        "Used to address you and to know your local time. Kept while your account is open."
    ),
    "mydata.memory": (
        "• Memories: {memories}, and {summaries} summaries of earlier conversations (memory is "
        "{state}). Used so your companion remembers you across conversations; see, correct or "
        "forget them with /memory. Each goes with the conversation it came from; all go with "
        "/delete all history."
    ),
    "mydata.memory.on": "on",
    "mydata.memory.off": "off (nothing new is remembered)",
    "mydata.companion": (
        "• Companion settings: {state}. Used in the AI's instructions. Kept while your account is open."
    ),
    "mydata.conversations": (
        "• Conversations: {conversations}, with {messages} messages. Used so your companion "
        "remembers context. {retention}"
    ),
    "mydata.retention.open": "Kept while your account is open.",
    "mydata.retention.auto": "Each message is deleted {days} days after it was sent (/autodelete).",
    "mydata.consents": (
        "• Consent records: {n}. Proof of the choices you made. Deleted with your account."
    ),
    "mydata.grievances": "• Grievances: {n}. Used to answer your concerns. Deleted with your account.",
    "mydata.nominee": "• Nominee: {state}. Used only on your death or incapacity. Deleted with your account.",
    "mydata.safety": (
        "• Safety records: {n} (a category and a time, never your words). Used to keep the service "
        "safe. Deleted after {days} days."
    ),
    "mydata.payments": (
        "• Payment records: {n} (a payment token and amount, never card or UPI details). Kept "
        "{years} years as tax law requires; detached from you if you delete your account."
    ),
    "mydata.after_deletion": (
        "If you delete your account, everything above goes at once except safety and payment "
        "records, which stay detached from you for the periods above; what is left of the "
        "account is purged within {days} days."
    ),
    "mydata.consent_proof": (
        "After your account is erased we keep proof of your consents for {days} days, as the law "
        "requires: a keyed code of your Telegram id (not the id itself), which consents you gave "
        "or withdrew, the policy versions and the times. No messages, no names."
    ),
    "mydata.set": "set",
    "mydata.not_set": "none",
    "mydata.consent_line": "• {purpose}: {state} (since {since}, policy {version})",
    "mydata.no_access": "• None. Any future access will be listed here: when, which role, and why.",
    "mydata.access_line": "• {at}: {role}, for {reason}",
    "purpose.age_18_plus": "Confirmed 18 or older",
    "purpose.terms_and_privacy": "Terms and Privacy Policy (required)",
    "purpose.model_improvement": "Improve the AI with de-identified chats",
    "purpose.marketing": "Marketing messages",
    "state.on": "yes",
    "state.off": "no",
    "export.caption": (
        "Everything we hold about you, as JSON (format version {version}). "
        "It includes your messages: keep it somewhere safe."
    ),
    "export.too_soon": "You can export once every {hours} hours. Your next export is possible after {when}.",
    "export.preparing": "Preparing your export…",
    "export.failed": (
        "I couldn't send your export file, so nothing was counted: "
        "you can try /export again right away."
    ),
    # -- consent -------------------------------------------------------------------------------
    "consent.show": (
        "Your consents (each changes in one tap, and is recorded):\n{lines}\n\n"
        "The Terms and Privacy Policy are required to chat. Withdrawing them stops the chat at "
        "once, and your account is erased {days} days later, as if you had deleted it, unless "
        "you accept them again before then."
    ),
    "consent.toggle_on": "Turn on: {purpose}",
    "consent.toggle_off": "Turn off: {purpose}",
    "consent.withdraw_terms": "Withdraw consent to the Terms",
    "consent.changed": "Done: {purpose} is now {state}. Nothing else changes for you.",
    "consent.terms_withdrawn": (
        "You've withdrawn your consent to the Terms and Privacy Policy, so I've stopped: your "
        "messages to me are no longer stored or sent to the AI model.\n\n"
        "On {date} your account will be erased, as if you had deleted it: your messages, profile, "
        "companion, nominee and grievances go, and your encryption key is destroyed. /mydata "
        "says what the law makes us keep after that, and for how long.\n\n"
        "To come back, tap “Accept the Terms again” before {date}: that cancels the erasure. "
        "Or delete your account now."
    ),
    "consent.accept_again": "Accept the Terms again",
    "consent.delete_account": "Delete my account",
    "consent.chat_blocked": (
        "I can't chat while your consent to the Terms is withdrawn: your messages to me are not "
        "stored or sent to the AI model. Your account will be erased on {date}. Accept the "
        "Terms again before then to carry on (that cancels the erasure), or delete your "
        "account now."
    ),
    # -- policy versions -----------------------------------------------------------------------
    "policy.changed_minor": (
        "Our privacy policy was updated (version {version}, {date}). {summary}\n"
        "Read it with /privacy. Nothing you need to do.\n" + COMPLAIN
    ),
    "policy.changed_material": (
        "Our privacy policy changed in ways that matter (version {version}, {date}). {summary}\n"
        "Please read it (/privacy) and accept it to keep chatting.\n" + COMPLAIN
    ),
    "policy.accept": "I accept the new policy",
    "policy.accepted": "✓ Thank you. Let's carry on.",
    "policy.accepted_erasure_cancelled": (
        "✓ Thank you. The Terms are accepted again, so your account will not be erased. "
        "Let's carry on."
    ),
    # -- autodelete ----------------------------------------------------------------------------
    "autodelete.show": (
        "Disappearing chats: messages can delete themselves after a while.\nNow: {state}."
    ),
    "autodelete.off": "off",
    "autodelete.days": "after {days} days",
    "autodelete.button_off": "Off",
    "autodelete.button_days": "{days} days",
    "autodelete.set": "Done: disappearing chats {state}.",
    # -- profile, companion, nominee, grievance ------------------------------------------------
    "profile.show": (
        "Your profile (all optional):\n• Display name: {display_name}\n• Gender: {gender}\n"
        "• Country: {country}\n• Time zone: {time_zone}"
    ),
    "profile.empty": "not set",
    "profile.set_name": "Set display name",
    "profile.set_gender": "Set gender",
    "profile.set_country": "Set country",
    "profile.set_time_zone": "Set time zone",
    "profile.time_zone.auto": "not set (I use {zone})",
    "profile.time_zone.saved": "Saved: {zone}. It's {time} there now.",
    "profile.time_zone.unknown": (
        "I don't know that time zone. Try a name like Asia/Kolkata or Europe/London, a city "
        "like Mumbai or New York, or an offset like +5:30 (or /cancel)."
    ),
    "profile.clear_all": "Clear all",
    "profile.ask.display_name": "What should I call you? Type it (or /cancel).",
    "profile.ask.country": "Which country are you in? Type it (or /cancel).",
    "profile.ask.time_zone": (
        "Which time zone are you in? Type a name like Asia/Kolkata, a city, or an offset "
        "like +5:30 (or /cancel)."
    ),
    "profile.ask.gender": "Your gender (optional):",
    "profile.gender.woman": "Woman",
    "profile.gender.man": "Man",
    "profile.gender.nonbinary": "Non-binary",
    "profile.gender.clear": "Prefer not to say",
    "profile.saved": "Saved.",
    "profile.cleared": "Cleared. Nothing of your profile is kept now.",
    "profile.invalid": "Please send 1 to {max} characters on one line (or /cancel).",
    "profile.usage": (
        "Use /profile, or /profile name|country|timezone <value>, or /profile clear."
    ),
    "companion.show": "Your companion:\n• Name: {name}\n• Gender: {gender}\n• Tone: {tone}",
    "companion.rename": "Rename",
    "companion.ask.name": "Type a new name for your companion (or /cancel).",
    "companion.saved": "Saved. {name} will remember.",
    "nominee.show": (
        "A nominee may exercise your rights if you die or can no longer act (policy section 9).\n"
        "Now: {state}"
    ),
    "nominee.none": "none",
    "nominee.current": "{name} ({contact})",
    "nominee.set": "Set or change",
    "nominee.remove": "Remove",
    "nominee.ask": (
        "Send the nominee's name and a contact (phone or e-mail), separated by a comma, "
        "for example: Asha Rao, asha@example.com (or /cancel)."
    ),
    "nominee.invalid": "Please send a name, a comma, then a phone number or e-mail (or /cancel).",
    "nominee.saved": "Saved: {name} is your nominee.",
    "nominee.removed": "Removed: you have no nominee now.",
    "grievance.ask": (
        "Tell me what's wrong, in one message (or /cancel). A person will handle it: we "
        "acknowledge a grievance within {ack} hours and resolve it within {days} days."
    ),
    "grievance.opened": (
        "Your grievance is ticket {ticket}. We will acknowledge it by {ack} and resolve it by "
        "{resolve} (within {days} days). You can also write to {contact}."
    ),
    "grievance.too_long": "Please keep it under {max} characters, or write to {contact}.",
    "cancel.done": "Cancelled.",
    "cancel.nothing": "Nothing to cancel.",
    # -- deletion ------------------------------------------------------------------------------
    "delete.choose": "What would you like to delete?",
    "delete.current": "This conversation",
    "delete.earlier": "An earlier conversation",
    "delete.history": "All chat history",
    "delete.account": "My whole account",
    "delete.pick": "Which conversation? (newest first)",
    "delete.conv_label": "{date} · {n} messages",
    "delete.no_earlier": "You have no earlier conversations.",
    "delete.nothing": "There's nothing to delete there.",
    "delete.confirm.conversation": (
        "This deletes the conversation started on {date}: {n} messages, yours and mine. "
        "It can't be undone. Delete it?"
    ),
    "delete.confirm.history": (
        "This deletes all chat history: {conversations} conversations, {n} messages. Your account "
        "and settings stay. It can't be undone. Delete it?"
    ),
    "delete.confirm.account": (
        "This deletes your whole account: {n} messages, your profile, companion, consents, "
        "nominee and grievances, and destroys your encryption key. It can't be undone.\n\n"
        "{kept}\n\nDelete everything?"
    ),
    "delete.yes": "Yes, delete",
    "delete.cancelled": "Nothing was deleted.",
    "delete.kept_newer": (
        "Messages written after you were asked are kept; /delete again to remove them too."
    ),
    "delete.done": "Deleted: {conversations} conversation(s), {n} message(s).",
    "delete.done_account": (
        "Your account is deleted: {conversations} conversation(s), {n} message(s), your profile, "
        "companion and settings are gone, and your encryption key is destroyed."
    ),
    "delete.kept.will_stay": "What stays after that, no longer linked to you:",
    "delete.kept.stays": "What stays, no longer linked to you:",
    "delete.kept.payments": (
        "• {payments} payment record(s): a payment token and the amount, never card or UPI "
        "details. Kept {years} years from each payment, because tax law requires it."
    ),
    "delete.kept.safety": (
        "• {safety} safety record(s): a category and a time, never your words. Kept {days} days "
        "from when each was made, to keep the service safe."
    ),
    "delete.kept.consent_proof": (
        "• Proof of your consents: a keyed code of your Telegram id (not the id itself), which "
        "consents you gave or withdrew, the policy versions and the times; no messages, no "
        "names. Kept {days} days, because the law requires us to be able to prove consent."
    ),
    "delete.kept.tombstone": (
        "• An empty record that an account existed (no Telegram id, no key, nothing you wrote), "
        "removed within {days} days."
    ),
    "delete.kept.log": (
        "• One line in our processing log saying an account was deleted: its internal number "
        "and counts, nothing you wrote. Kept {days} days for security, as the law requires."
    ),
    "delete.telegram_note": (
        "The copy of this chat in your Telegram app is yours: clear it with Telegram's "
        "“Delete chat”."
    ),
    "delete.goodbye": "Take care. If you come back, /start begins afresh.",
    # -- safety and limits ----------------------------------------------------------------------
    "safety.resources": (
        "You matter, and you don't have to face this alone. Please reach out to someone now:\n"
        "{lines}\n\n"
        "I'm an AI, not medical care. If you are in danger or crisis, call your local emergency "
        "number ({emergency}) or a crisis helpline right away."
    ),
    "safety.line": "• {name}: {number}{hours}{verified}",
    "safety.hours": " ({hours})",
    "safety.verified": " [checked {date}]",
    "disclosure.reminder": "_(A reminder: I'm an AI, not a human.)_",
    "disclosure.answer": "_I'm an AI, not a human._",
    "limits.slow_down": "You're sending messages faster than I can read them. Try again in {seconds} s.",
    "limits.daily": (
        "You've reached today's limit of {limit} messages. It resets at midnight UTC; "
        "talk to you then!"
    ),
    "limits.too_long": (
        "That message is too long for me ({length} characters; the most is {limit}). "
        "Could you split it?"
    ),
    "limits.repeat": "You've sent that same message a few times; I've answered it already.",
    "banned": (
        "This account can't chat with Amigo any more. You can still use /privacy, /mydata, "
        "/export and /delete. Questions: {contact}"
    ),
    # -- operator (staff only) ------------------------------------------------------------------
    "admin.menu": "Your role: {role}. Commands you may use:\n{commands}",
    "admin.role_refused": "Your role ({role}) can't use /{command}. Nothing was changed.",
    "admin.usage": "Usage: {usage}",
    "admin.bad_ref": "“{value}” is not a valid reference: use {kind} followed by a number, e.g. {kind}12.",
    "admin.bad_args": "Those arguments don't fit this command.",
    "admin.no_such": "No such record: {what}.",
    "admin.need_reason": "Please give a reason.",
    "admin.review_reason": "A review needs a reason category ({reasons}) and a reason.",
    "admin.review_first": "u{user} has not been reviewed recently: /review them first.",
    "admin.review_header": (
        "Review of u{user}, reason: {category}. {n} message(s), the minimum around the flag. "
        "This access is logged and shown to the user."
    ),
    "admin.nothing_shown": "(no messages)",
    "admin.stats": (
        "Users: {users}\nActive today: {today}, this week: {week}\nMessages per day: {per_day}\n"
        "Consent (active users): model improvement {training}, marketing {marketing}\n"
        "Open flags: {flags}. Open grievances: {grievances}.\nRetention last ran: {retention}"
    ),
    "admin.flag_line": "f{id} u{user} {category} ({severity}), {age} old",
    "admin.no_flags": "No open flags.",
    "admin.no_holds": "No legal holds.",
    "admin.never": "Nothing yet.",
    "admin.done": "Done: {what}.",
    "admin.no_scheduler": "Retention can't run from here in this mode.",
    "admin.retention_ran": "Retention ran: {removed}.",
    "admin.audit_ok": "Audit log intact: {n} entries checked, every link holds.",
    "admin.audit_broken": "Audit log BROKEN at entry #{id} (after {n} good entries).",
    "admin.banned_notice": (
        "After a review by our team, this account can no longer chat with Amigo. You can still "
        "use /mydata, /export and /delete. To contest this decision, write to {contact}."
    ),
    "admin.unbanned_notice": "Your account can chat with Amigo again. Welcome back.",
    "admin.minor_notice": (
        "Amigo is only for adults. We have learned this account may belong to someone under 18, "
        "so we have deleted its data and closed it."
    ),
    "admin.no_transport": "Messages to users can't be sent from here in this mode.",
    "admin.need_text": "Please add the text to send.",
    "admin.bad_ticket": "“{value}” is not a ticket: use G- followed by a number, e.g. G-000012.",
    "admin.no_grievances": "No open grievances.",
    "admin.grievances_header": (
        "{n} open grievance(s), soonest due first; {overdue} overdue. Shown for support: each "
        "user sees this access in /mydata."
    ),
    "admin.grievance_line": (
        "{ticket} u{user} {status}{late}\n  ack by {ack} · resolve by {resolve}\n  “{text}”"
    ),
    "admin.grievance_overdue": " ⚠ OVERDUE",
    "admin.grievance_ack_overdue": " ⚠ ack overdue",
    "admin.grievance_already": "{ticket} is already {status}. Nothing was changed.",
    "admin.grievance_ack_notice": (
        "Our team has received your grievance {ticket} and is working on it. We will resolve it "
        "by {resolve}."
    ),
    "admin.grievance_reply_notice": "Our team's reply about your grievance {ticket}:\n\n{text}",
    "admin.grievance_resolved_notice": (
        "Your grievance {ticket} is now marked resolved. If it isn't, write to {contact} or "
        "raise it again with /grievance."
    ),
    "admin.broadcast_kind": (
        "Say which kind: service (every active user) or marketing (only those who opted in)."
    ),
    "admin.broadcast_started": (
        "Broadcast b{id} ({kind}) started: {n} user(s), about {seconds} s. Progress follows here."
    ),
    "admin.broadcast_resumed": (
        "Broadcast b{id} ({kind}) was interrupted by a restart and resumes now: {n} user(s) to go."
    ),
    "admin.broadcast_progress": "Broadcast b{id} ({kind}): {sent} sent so far.",
    "admin.broadcast_done": (
        "Broadcast b{id} ({kind}) finished: {total} user(s) in all. This run sent {sent}; "
        "{failed} could not be reached."
    ),
    "admin.broadcast_stopped": (
        "Broadcast b{id} ({kind}) stopped on an error ({error}); it resumes at the next start."
    ),
    "admin.broadcast.service": "📢 A message from the Amigo team:\n\n{text}",
    "admin.broadcast.marketing": (
        "{text}\n\n(You get news like this because you opted in. Turn it off any time with "
        "/consent.)"
    ),
    "admin.policy_args": (
        "Give a version (letters, digits, dot, dash), material or minor, and a summary of what "
        "changed."
    ),
    "admin.policy_exists": "Version {version} is already published or in force. Nothing changed.",
    "admin.policy_published": (
        "Published policy {version} ({kind}, {date}). Users are told on their next message{how}."
    ),
    "admin.policy_must_accept": " and must accept it before chatting on",
    # -- requests on someone's behalf (staff only; handlers/admin_requests.py) ----------------
    "requests.bad_tg_id": "“{value}” is not a Telegram user id: give the number, e.g. 123456789.",
    "requests.found": "Telegram id → u{user}, status {status}.",
    "requests.not_found": "No account for that Telegram id.",
    "requests.not_found_minor": (
        "No account for that Telegram id; it is blocked by an under-18 marker (/unminor after a "
        "review)."
    ),
    "requests.closed": "u{user} is already erased. Nothing was done.",
    "requests.export_to": (
        "Say where the file goes: chat (the account's own chat) or email (to you, the owner, "
        "when the request came by verified e-mail), then the reason."
    ),
    "requests.owner_only_email": (
        "Only the owner may receive an export for an e-mail request. Nothing was done."
    ),
    "requests.unreachable": "u{user} can't be reached in their chat. Nothing was done.",
    "requests.exported": "Export of u{user} sent to {where}.",
    "requests.export_failed": "The export of u{user} did not arrive. Nothing is recorded as sent.",
    "requests.export_here": (
        "Export of u{user}, for the request {basis}. Pass it on only to the verified requester, "
        "then delete it from this chat."
    ),
    "requests.erased": (
        "u{user} erased: {conversations} conversation(s), {n} message(s); {payments} payment "
        "record(s) kept, detached."
    ),
    "requests.nominee_args": (
        "Say show <reason>, or export or erase, then death or incapacity, then the reason."
    ),
    "requests.no_nominee": "u{user} has no registered nominee. Nothing was done.",
    "requests.nominee_shown": (
        "Registered nominee of u{user}: {name}, {contact} (since {since}). Act only for a "
        "requester who is this person. This access is logged and shown to the user."
    ),
    "requests.no_marker": "No under-18 marker for that Telegram id. Nothing changed.",
    "requests.unminored": "Under-18 marker lifted: that Telegram account may pass the age gate.",
    "requests.find_notice": (
        "Our team looked up your account to act on a request made about it outside this chat. "
        "Reason: {reason}\nIf you didn't expect this, write to {contact}."
    ),
    "requests.export_caption": (
        "Your data export (format version {version}), sent at a request made on your behalf "
        "outside this chat. Reason: {reason}\nIf you didn't ask for it, write to {contact}."
    ),
    "requests.export_email_notice": (
        "At a request received by verified e-mail, our team exported all your data to send it to "
        "that e-mail address. Reason: {reason}\nIf you didn't ask for it, write to {contact} at "
        "once."
    ),
    "requests.erase_notice": (
        "At a request made on your behalf outside this chat, your account and everything held "
        "about it is being erased now. Reason: {reason}\nIf you didn't ask for it, write to "
        "{contact}."
    ),
    "requests.nominee_notice": (
        "Our team received a request from someone acting as your registered nominee{grounds}, "
        "and will {action}. Reason: {reason}\nIf this is a mistake, write to {contact} at once."
    ),
    "requests.nominee_grounds": " on grounds of {basis}",
    "requests.nominee_action.show": "first check that they are that person",
    "requests.nominee_action.export": "give them a copy of your data",
    "requests.nominee_action.erase": "erase your account and everything held about it now",
    "requests.unminor_notice": (
        "After a review by our team, this Telegram account may use Amigo again. Send /start to "
        "begin."
    ),
    # -- breach (DPDP Rules 2025, rule 7; handlers/breach.py) ----------------------------------
    "breach.help": (
        "Breach handling, each step recorded:\n"
        "/breach new: the notice form (send it back filled in, one field a line)\n"
        "/breach edit: change fields of the notice, same form\n"
        "/breach preview: the notice exactly as people will get it\n"
        "/breach send all | u3,u7: send it to every account whose data is held, or those named\n"
        "/breach intimated: the initial intimation to the Board was made (now)\n"
        "/breach report: the detailed report (form, or what is recorded)\n"
        "/breach filed: the detailed report was made to the Board (now)\n"
        "/breach status: what is due when, and what is done\n"
        "Add b2 after the step to act on an older breach (default: the newest)."
    ),
    "breach.bad_step": "Unknown step. /breach alone lists them.",
    "breach.notice_form": (
        "Copy this, replace each hint and send it as one message. Every field is required; a "
        "field may run on over several lines. Optional: discovered: 2026-05-03 09:30 (UTC, when "
        "the breach became known; default now). The detailed report is due 72 hours after it.\n\n"
        "/breach new\n{fields}"
    ),
    "breach.report_form": (
        "Copy this, replace each hint and send it as one message. Every field is required. The "
        "notices sent to people are added from the broadcast records.\n\n/breach report\n{fields}"
    ),
    "breach.field.nature": "what happened (the kind of breach)",
    "breach.field.extent": "which data, and how many people",
    "breach.field.timing": "when it happened, and how long it lasted",
    "breach.field.location": "where: which system, service or place",
    "breach.field.consequences": "what it may mean for the person",
    "breach.field.mitigation": "what we have done and are doing to limit the harm",
    "breach.field.advice": "what the person can do to protect themselves",
    "breach.field.contact": "who answers their questions: name or role, and how to reach them",
    "breach.field.facts": "the facts of the breach",
    "breach.field.circumstances": "the circumstances in which it happened",
    "breach.field.reasons": "the reasons it happened",
    "breach.field.measures": "what was done to mitigate the risk",
    "breach.field.responsible": "the findings about the person who caused it (a role, no name)",
    "breach.field.remediation": "what is done so it does not happen again",
    "breach.missing": "Missing: {fields}. Each is required, on its own line as `name: text`.",
    "breach.unlabelled": "Start each field on its own line as `name: text` ({fields}).",
    "breach.twice": "{field} is given twice.",
    "breach.nothing": "No field to change was given ({fields}).",
    "breach.bad_time": "discovered: give the UTC time as 2026-05-03 09:30, not in the future.",
    "breach.bad_ref": "No breach {ref}. /breach status shows the newest.",
    "breach.none": "No breach is recorded. /breach new starts one.",
    "breach.created": (
        "Breach B{id} recorded, became known {discovered}.\n"
        "• Tell the Data Protection Board without delay, then /breach intimated.\n"
        "• The detailed report is due by {due}: /breach report.\n"
        "• Check the notice with /breach preview, then /breach send all (or u3,u7)."
    ),
    "breach.edited": "B{id}: changed {fields}. /breach preview shows the notice.",
    "breach.preview": (
        "B{id}: the notice exactly as people will get it.\n\n{notice}\n\n"
        "Send it with /breach send all, or /breach send u3,u7 to the affected accounts only."
    ),
    "breach.send_whom": (
        "Say who gets it: all (every account whose data is held) or the affected accounts, "
        "as u3,u7."
    ),
    "breach.incomplete": "B{id}'s notice lacks {fields}: /breach edit adds them.",
    "breach.intimated": "B{id}: initial intimation to the Board recorded, {at}.",
    "breach.already": "B{id}: that was already recorded, {at}. Nothing changed.",
    "breach.report_recorded": (
        "B{id}: detailed report recorded. /breach report shows it for the Board; /breach filed "
        "once it is made (due by {due})."
    ),
    "breach.report_first": "Record B{id}'s detailed report first: /breach report.",
    "breach.filed": "B{id}: detailed report made to the Board, {at}{late}. No more reminders.",
    "breach.filed_late": " (after the 72 hours: due {due})",
    "breach.notice": (
        "⚠️ Notice of a personal data breach\n\n"
        "What happened: {nature}\n\n"
        "What data, and how many people: {extent}\n\n"
        "When: {timing}\n\n"
        "Where: {location}\n\n"
        "What it may mean for you: {consequences}\n\n"
        "What we are doing: {mitigation}\n\n"
        "What you can do: {advice}\n\n"
        "Questions: {contact}"
    ),
    "breach.broadcast": "{text}",
    "breach.report": (
        "Detailed report to the Data Protection Board: personal data breach B{id}\n"
        "Became known: {discovered}\n"
        "Initial intimation: {intimation}\n\n"
        "Facts: {facts}\n\n"
        "Circumstances: {circumstances}\n\n"
        "Reasons: {reasons}\n\n"
        "Measures to mitigate the risk: {measures}\n\n"
        "Findings about the person who caused it: {responsible}\n\n"
        "Remediation to prevent a recurrence: {remediation}\n\n"
        "Notices to the people affected: {notices}"
    ),
    "breach.notice_line": "b{broadcast} sent {at} to {whom}: {delivered} notified{sending}",
    "breach.notice_all": "every account whose data is held",
    "breach.notice_named": "{n} named account(s)",
    "breach.notice_sending": " (still sending)",
    "breach.notices_none": "none sent yet",
    "breach.notices_total": "{notified} notification(s) in {n} sending(s):\n{lines}",
    "breach.status": (
        "Breach B{id}, became known {discovered} (times in UTC)\n"
        "• Initial intimation to the Board: {intimation}\n"
        "• Detailed report: {report}\n"
        "• Notices to people: {notices}"
    ),
    "breach.intimation_done": "made {at}",
    "breach.intimation_due": "⚠ due now, without delay (/breach intimated once made)",
    "breach.report_filed": "made {at}",
    "breach.report_due": "due by {due} ({left} left); {recorded}",
    "breach.report_overdue": "⚠ OVERDUE since {due}; {recorded}",
    "breach.report_is_recorded": "recorded {at}, not yet marked made (/breach filed)",
    "breach.report_not_recorded": "not recorded yet (/breach report)",
    "breach.others": "\nOther breaches whose report is not made: {refs}",
    "breach.reminder": (
        "⏰ Breach B{id}: the detailed report to the Data Protection Board is due by {due} "
        "({left}).{intimation}\n/breach status shows what is done; /breach report, then "
        "/breach filed."
    ),
    "breach.reminder_left": "{hours} h left",
    "breach.reminder_overdue": "now overdue",
    "breach.reminder_intimation": " The initial intimation is not recorded either (/breach intimated).",
    # -- memory (/memory, handlers/memory_command.py) -----------------------------------------
    "memory.title": "What I remember about you ({state}; {count} of at most {limit}):",
    "memory.state_on": "memory is on",
    "memory.state_off": "memory is off",
    "memory.state_off_service": "memory is switched off on this service",
    "memory.item": "{n}. {text}\n    {date}, {source}",
    "memory.source_conversation": "from our conversation of {date}",
    "memory.source_manual": "added by you",
    "memory.empty": (
        "I don't remember anything about you yet ({state}). As we talk, I remember what you "
        "tell me about yourself and your life: your name, people who matter to you, plans and "
        "dates, likes and dislikes. Never health, religion, caste, politics, sex life, ID or "
        "account numbers or passwords, unless you add them yourself."
    ),
    "memory.off_note": (
        "Memory is off: nothing new is remembered, and nothing remembered is sent to the AI."
    ),
    "memory.full": (
        "The list is full ({limit}): to make room for new memories, the ones used least and "
        "longest ago are forgotten first."
    ),
    "memory.help": (
        "/memory forget 3 · /memory fix 3 new text · /memory add I'm vegetarian · "
        "/memory forget all · /memory {toggle}"
    ),
    "memory.usage": (
        "Try: /memory (the list), /memory forget 3, /memory forget all, "
        "/memory add I'm vegetarian, /memory fix 3 new text, /memory off, /memory on."
    ),
    "memory.no_such": "There is no memory number {n}. /memory shows the list.",
    "memory.too_long": "That is too long to remember: at most {limit} characters, please.",
    "memory.forgotten": "Forgotten: {text}",
    "memory.forget_button": "Forget {n}",
    "memory.forget_all_button": "Forget everything",
    "memory.forget_all_ask": "Forget everything I remember about you ({count}), and the "
    "summaries of our earlier conversations? This cannot be undone.",
    "memory.forget_all_yes": "Yes, forget everything",
    "memory.keep": "No, keep it",
    "memory.kept": "Kept as it is.",
    "memory.forgot_all": "Done: I forgot everything ({count}) and the summaries of our "
    "conversations.",
    "memory.added": "I'll remember: {text}",
    "memory.added_full": "I'll remember: {text}\nThe list was full, so I forgot {dropped} used "
    "least and longest ago.",
    "memory.fixed": "Corrected: {text}",
    "memory.off_button": "Switch memory off",
    "memory.on_button": "Switch memory on",
    "memory.off_ask": (
        "Switch memory off? Nothing new will be remembered, and nothing remembered is sent to "
        "the AI. Should I also delete what I remember now ({count})?"
    ),
    "memory.off_delete": "Off, and delete it",
    "memory.off_keep": "Off, keep it",
    "memory.off_done": "Memory is off. I kept what I remembered; /memory on brings it back.",
    "memory.off_deleted": "Memory is off, and I forgot everything ({count}).",
    "memory.on_done": "Memory is on: I'll remember what you tell me from now on.",
    "memory.already_on": "Memory is already on.",
    "memory.service_off": "Memory is switched off on this service, so nothing new is remembered.",
    # -- commands (shown in /help and the Telegram command menu) -------------------------------
    "cmd.start": "Begin, or pick up where you left off",
    "cmd.help": "What I can do",
    "cmd.privacy": "How your data is handled, and who to contact",
    "cmd.new": "Start a fresh conversation",
    "cmd.mydata": "What we hold about you, and who saw it",
    "cmd.export": "Download all your data (JSON)",
    "cmd.delete": "Delete a conversation, all history, or your account",
    "cmd.consent": "See and change your consents",
    "cmd.profile": "See or change your profile",
    "cmd.companion": "Change your companion's name, gender or tone",
    "cmd.nominate": "Name someone to act for you on death or incapacity",
    "cmd.grievance": "Raise a concern with our team",
    "cmd.autodelete": "Make your messages delete themselves after a while",
    "cmd.cancel": "Stop what I'm waiting for you to type",
    "cmd.memory": "See, correct or switch off what I remember about you",
}

# Section 5 of the privacy policy: purposes and their lawful bases, as shown by /privacy, each
# followed by its basis under the DPDP Act 2023 (s. 6 consent, or a legitimate use of s. 7).
PURPOSES = """• Providing the Service (AI replies, conversation history, your companion settings): performance of contract / your consent. DPDP: your consent (s. 6), given when you accept the Terms
• Account management (security, recovery): performance of contract. DPDP: your consent (s. 6), given with the Terms
• Payments (subscriptions, receipts, refunds): performance of contract / legal obligation. DPDP: what you give us to pay, used for that (s. 7(a)); records tax law makes us keep (s. 7(d))
• Safety and abuse prevention: legitimate interests / legal obligation. DPDP: your consent (s. 6), given with the Terms; a threat to someone's life or health (s. 7(f)); duties under law (s. 7(d), 7(e))
• Service improvement (debugging, performance): legitimate interests. DPDP: your consent (s. 6), given with the Terms
• Model improvement, with safeguards: your consent where required. DPDP: your consent (s. 6), only if you opt in; withdraw it any time with /consent
• Communications (support replies, announcements): performance of contract / legitimate interests. DPDP: your consent (s. 6), given with the Terms; answering what you asked us (s. 7(a))
• Marketing, only if you opt in: your consent. DPDP: your consent (s. 6); withdraw it any time with /consent
• Legal compliance: legal obligation. DPDP: a duty under law to disclose information to the State (s. 7(d)), or a court's judgment, decree or order (s. 7(e))"""

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
