"""Text signals checked on every user message BEFORE the model is called.

Three pure, transport-neutral detectors: `detect_distress` (suicide, self-harm, harm to others),
`detect_minor_signal` (the user may be under 18) and `asks_if_ai` (a sincere "are you a bot?").
They run in-process: no network, nothing downloaded, a fraction of a millisecond per message. They
never log or keep the text.

How it works. A message is first normalised (NFKC, zero-width and bidi controls removed, casefold,
apostrophes dropped, emoji and punctuation turned into spaces with sentence ends kept as "." / "?"
tokens, repeated letters squeezed so "dieeee" == "die" and "maar" == "mar", Devanagari nukta,
nasalisation and long/short vowel marks folded). Rule patterns (handlers/distress_rules.py) are
written in ordinary spelling and pass through the same folding when compiled, so they match the
normalised text. A rule is a phrase anchored on first-person intent or desire ("going to" / "want
to" + a method, "marna chahta hoon", "आत्महत्या कर लूंगा"); idioms rarely have that shape, and the few that do ("tere liye jaan de
dunga", "kill them all" about mosquitoes) are vetoed explicitly. A match is dropped when negated
just before it ("I'm not going to..."), when its clause has a third-person subject ("people who
want to die"), or when the words around it say it is not the writer's present risk: history that is
over, someone else's quoted words, a friend's habit (`_not_now`).

Behind the rules sits a small trained classifier (handlers/distress_model.py, weights shipped in the
package): when no rule fires, and no rule matched only to be vetoed by its context (the model cannot
read "I'm not going to..."), the classifier's verdict is used. Rules give precision and readable
decisions; the classifier gives reach over phrasing nobody wrote a rule for.

What it is worth, measured in tests/test_signals.py on tests/signal_phrases.py (never trained on):
on held-out v5, written by someone who saw neither rules nor training data and measured once, the
rules alone catch 23/90 and rules + classifier 86/90 (English 29/30, Hindi 28/30, Hinglish 29/30),
with no false alarm in its 60 tricky negatives. Over all 493 labelled positives, 476 (0.966); 13
false alarms in 389 tricky negatives (0.033) and one in 150 everyday messages. A good first line,
not a clinician: chat also asks the moderation port when one is configured. Where a choice had to
be made, the detector leans towards firing, since a false alarm costs a gentle check-in and a miss
can cost more.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, NamedTuple

from handlers.distress_model import shipped_model
from handlers.distress_rules import DEVANAGARI_RULES, LATIN_RULES, MACROS, Rule
from handlers.distress_rules import Category as Category  # re-exported: part of this API
from handlers.distress_rules import Severity as Severity


@dataclass(frozen=True, slots=True)
class Distress:
    """What a message signals: the kind of risk and whether it reads as intent/plan or ideation."""

    category: Category
    severity: Severity


# --- normalisation -------------------------------------------------------------------------------

# Invisible characters people (and some keyboards) put inside words; removed before anything else.
_INVISIBLE = dict.fromkeys(
    [
        0x00AD,
        0x034F,
        0x061C,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        0x180E,
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),
        *range(0xFE00, 0xFE10),
        0xFEFF,
    ]
)
# Spelling folds applied to text AND patterns: apostrophes go ("I'm" -> "im"); Devanagari nukta,
# chandrabindu and anusvara go (ज़िंदगी/जिन्दगी/जिंदगी agree); long i/u fold to short (हूँ/हु).
_FOLD = {
    **dict.fromkeys(map(ord, "'’‘`´ʼʹ′"), None),
    0x093C: None,  # nukta
    0x0901: None,  # chandrabindu
    0x0902: None,  # anusvara
    0x0940: 0x093F,  # ी -> ि
    0x0942: 0x0941,  # ू -> ु
    0x0908: 0x0907,  # ई -> इ
    0x090A: 0x0909,  # ऊ -> उ
}
_NASAL_CLUSTER = re.compile("[ङञणनम]्(?=[क-ह])")  # half nasal before a consonant == anusvara
_SQUEEZE = re.compile(r"([^\W\d_])\1+")
_ELLIPSIS = re.compile(r"\.{2,}")
_SENTENCE_END = re.compile(r"[.!;\n\r।॥]+")
_QUESTION = re.compile(r"\?+")
_COMMA = re.compile(r"[,،、，]+")
_NON_WORD = re.compile(r"[^\w\u0900-\u097f.?,]|_")
_LEET_TOKEN = re.compile(r"\b[a-z]+\d[a-z\d]*\b")
_LEET = str.maketrans("013457", "oieast")
_DEVANAGARI = re.compile("[\u0900-\u097f]")


def _fold(text: str) -> str:
    return _NASAL_CLUSTER.sub("", text.translate(_FOLD))


def _normalise(text: str, *, distress: bool = False) -> str:
    """One canonical spelling of a message: ' tok tok . tok ? ' (padded, single spaces)."""
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).casefold()
    text = _fold(text)
    text = _ELLIPSIS.sub(" ", text)  # "i just... want to die" is one thought
    text = _QUESTION.sub(" ? ", _SENTENCE_END.sub(" . ", text))
    text = _COMMA.sub(" , ", text)  # a clause end for the negation check, not for patterns
    text = _NON_WORD.sub(" ", text)
    if (
        distress
    ):  # "k1ll mys3lf": only in tokens that start with a letter, so "9th" and "15yo" survive
        text = _LEET_TOKEN.sub(lambda m: m.group().translate(_LEET), text)
    text = _SQUEEZE.sub(r"\1", text)
    words = text.split()
    if distress:  # emphatic particles carry no meaning here: "marna hi chahta", "मरना ही चाहता"
        words = [w for w in words if w not in _FILLERS]
    return " " + " ".join(words) + " "


def normalise_for_distress(text: str) -> str:
    """The text as both the distress rules and the classifier see it (also used in training)."""
    return _normalise(text, distress=True)


def _prepare(pattern: str) -> str:
    """Fold a hand-written pattern like the text: squeeze doubled literal letters, fold Devanagari."""
    pattern = _fold(unicodedata.normalize("NFKC", pattern))
    out: list[str] = []
    escaped = False
    previous = ""
    for char in pattern:
        if escaped:
            out.append(char)
            escaped, previous = False, ""
        elif char == "\\":
            out.append(char)
            escaped, previous = True, ""
        elif char.isalpha() and char == previous:
            continue
        else:
            out.append(char)
            previous = char if char.isalpha() else ""
    return "".join(out)


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(6):  # macros may use macros
        for name, body in macros.items():
            pattern = pattern.replace(f"<{name}>", body)
    if "<" in pattern.replace("(?<", ""):
        raise ValueError(f"unexpanded macro in {pattern!r}")
    return pattern


def _compile(pattern: str, macros: dict[str, str]) -> re.Pattern[str]:
    """A whole-token pattern over normalised text (tokens are single-space separated and padded)."""
    return re.compile("(?<= )(?:" + _prepare(_expand(pattern, macros)) + ")(?= )")


def _tokens(words: str) -> frozenset[str]:
    """Whitespace-separated words, folded like the text."""
    return frozenset(
        _SQUEEZE.sub(r"\1", _fold(unicodedata.normalize("NFKC", w))) for w in words.split()
    )


# emphatic particles, dropped before matching: "marna hi chahta", "मरना ही चाहता"
_FILLERS = _tokens("hi bas toh bilkul yar ही तो बस बिल्कुल बिलकुल यार")


_TONIGHT = re.compile(_prepare(r"(?<= )(?:tonight|aaj raat|aj rat|आज रात)(?= )"))
_NON_HUMAN = (
    r"mosquito\S*|cockroach\S*|roach\S*|rats?|mice|ants|bugs?|flies|zombies?|monsters?|pests?|"
    r"termites?|spiders?|snakes?|lizards?|npc\S*|elden|pubg|bgmi|free fire|valorant|fortnite|minecraft|"
    r"gta|call of duty|game|gaming|level|raid|machar|machhar|macchar|makhi|makkhi|chuha|chuhe|keede|"
    r"kide|keeda|kida|chipkali|मच्छर|कॉकरोच|चूहा|चूहे|मक्खी|कीड़े|कीड़ा|छिपकली|गेम|लेवल"
)
_NEGATORS = _tokens(
    "not never dont didnt doesnt wont wouldnt shouldnt isnt aint nahi nahin nhi mat नहीं मत "
    "accidentally"
)
_NEGATOR_PAIRS = frozenset({"no longer", "by accident", "by mistake"})
_PAST = _tokens("used use")  # "I used to want to die" is history, not the present
# Words that sit between a negation and the method: "not [going to] kill", "don't [really want to]".
_AUXILIARIES = _tokens(
    "going goin to 2 gonna want wanna will ill really just ever even try trying tried "
    "planning plan about feel like thinking think of be would should could might actually do "
    "did able wish need have am"
)
_FIRST = _tokens(
    "i im me my ive id ill mine myself main mai mujhe mujhko mera meri mere maine मैं मुझे "
    "मेरा मेरी मेरे मैंने"
)
_OTHER = _tokens(
    "he she they you u ya hes shes theyre youre ur people someone somebody anyone everyone "
    "who babies baby kids children patients animals character hero heroine protagonist villain friend friends dog cat him her them his "
    "their wo woh vo voh usne unhone usko use unko log वह वो उसने वे लोग लोगों उन्होंने"
)


class _Compiled(NamedTuple):
    category: Category
    severity: Severity
    regex: re.Pattern[str]
    context: Literal["full", "neg", "none"]
    veto_before: re.Pattern[str] | None


@functools.cache
def _distress_rules() -> tuple[tuple[_Compiled, ...], tuple[_Compiled, ...], re.Pattern[str]]:
    """Compiled on first use, not at import: startup stays cheap for processes that never chat."""

    def build(rules: tuple[Rule, ...]) -> tuple[_Compiled, ...]:
        return tuple(
            _Compiled(
                r.category,
                r.severity,
                _compile(r.pattern, MACROS),
                r.context,
                re.compile(_prepare(_expand(r.veto_before, MACROS))) if r.veto_before else None,
            )
            for r in rules
        )

    non_human = re.compile(_prepare(f"(?<= )(?:{_NON_HUMAN})(?= )"))
    return build(LATIN_RULES), build(DEVANAGARI_RULES), non_human


def _clause_before(text: str, start: int) -> list[str]:
    head = text[:start]
    cut = max(head.rfind(" . "), head.rfind(" ? "), head.rfind(" , "))
    return head[cut + 3 :].split() if cut >= 0 else head.split()


def _negated(before: list[str]) -> bool:
    """ "not", "never", "no longer", "used to" right before the verb group ("I'm not going to")."""
    rest = list(before)
    while rest and rest[-1] in _AUXILIARIES:
        rest.pop()
    last = rest[-2:]
    return (
        any(tok in _NEGATORS for tok in last)
        or " ".join(last) in _NEGATOR_PAIRS
        or (bool(rest) and rest[-1] in _PAST)
    )


def _context_allows(rule: _Compiled, text: str, match: re.Match[str]) -> bool:
    """Drop a match that is negated just before it, or whose clause is about someone else."""
    before = _clause_before(text, match.start())
    if rule.veto_before is not None and rule.veto_before.search(" ".join(before[-3:])):
        return False
    if rule.context == "none":
        return True
    if _negated(before):
        return False
    if rule.context == "neg" or any(tok in _FIRST for tok in match.group().split()):
        return True
    for tok in reversed(before[-4:]):
        if tok in _FIRST:
            return True
        if tok in _OTHER:
            return False
    return True


_THIRD_NOUNS = _OTHER | _tokens(
    "dost dosto friend sister brother behen bhai didi cousin roommate beti beta bhabhi saheli "
    "colleague classmate दोस्त सहेली बहन भाई दीदी बेटी बेटा"
)


@functools.cache
def _not_now_patterns() -> tuple[
    re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]
]:
    """Compiled on first use: history, quoted speech and a friend's habit (see _not_now)."""
    past = r"^ (?:[^ .?,]+ ){0,2}(?:tha|thi|the|थे|था|थी)(?= )"
    recovered = (
        r"(?<= )(?:ab|अब|now) (?:[^ .?]+ ){0,4}(?:better|beter|theek|thik|fine|ok|okay|khush|"
        r"ठीक|बेहतर|खुश|बीत|beet|nikal)(?= )|(?<= )(?:therapy|थेरेपी) (?:se|से)(?= )"
    )
    quoted = r"(?<= )(?:ne|ने) (?:bola|boli|kaha|kha|bol diya|keh diya|कहा|बोला|बोली)(?= )"
    habit = r"^ (?:hai|h|he|hain|है|हैं)(?= )"
    return (
        re.compile(_prepare(past)),
        re.compile(_prepare(recovered)),
        re.compile(_prepare(quoted)),
        re.compile(_prepare(habit)),
    )


def _not_now(text: str, match: re.Match[str]) -> bool:
    """A match that is not the writer's present risk, read from the words around it.

    - history the writer says is over: "pehle marne ke khayal aate the, par ab therapy se better hu"
    - someone else's words: "mummy ne bola ... jaan se maar dungi" (not "mai ne bola", that is me)
    - a friend's habit: "meri dost khud ko cut karti hai" ("karti hu" would be the writer)
    """
    past, recovered, quoted, habit = _not_now_patterns()
    after = text[match.end() :]
    if past.search(after) and recovered.search(after):
        return True
    sentence_start = max(text.rfind(" . ", 0, match.start()), text.rfind(" ? ", 0, match.start()))
    before = text[sentence_start + 1 : match.start() + 1]
    for said in quoted.finditer(before):
        speaker = before[: said.start()].split()[-1:]
        if not speaker or speaker[0] not in _FIRST:
            return True
    return (
        bool(habit.search(after))
        and match.group().rstrip()[-2:] in {"ti", "ta", "te", "ती", "ता", "ते"}
        and any(tok in _THIRD_NOUNS for tok in _clause_before(text, match.start()))
    )


def _sentence_of(text: str, start: int, end: int) -> str:
    left = max(text.rfind(" . ", 0, start), text.rfind(" ? ", 0, start))
    rights = [i for i in (text.find(" . ", end), text.find(" ? ", end)) if i >= 0]
    return text[left + 1 : min(rights) + 1 if rights else len(text)]


_SEVERITY_RANK: dict[Severity, int] = {"high": 0, "medium": 1}
_CATEGORY_RANK: dict[Category, int] = {"suicide": 0, "self_harm": 1, "harm_to_others": 2}


_MODEL_MIN_WORDS = 3
_MODEL_MIN_LETTERS = 12
_PUNCTUATION = frozenset({".", "?", ","})
_MODEL_CATEGORY: dict[str, Category] = {
    "suicide": "suicide",
    "self_harm": "self_harm",
    "harm_to_others": "harm_to_others",
}


def _model_signal(norm: str) -> Distress | None:
    """The trained classifier's verdict, for phrasing the rules do not know.

    Only on messages of three words and a dozen letters or more: on less, a single feature decides,
    and "thanks", "sorry", "न" or "h:i㈀" are no signal (the rules still see every short message).
    """
    words = [tok for tok in norm.split() if tok not in _PUNCTUATION]
    if len(words) < _MODEL_MIN_WORDS or sum(map(len, words)) < _MODEL_MIN_LETTERS:
        return None
    model = shipped_model()
    verdict = model.predict(norm)
    if not model.flags(verdict):
        return None
    return Distress(_MODEL_CATEGORY[verdict.category], "high" if verdict.high else "medium")


def detect_distress(text: str) -> Distress | None:
    """The strongest distress signal in one message, or None. Call before the model sees it.

    Severity "high" means stated intent, a plan, means at hand or an act under way; "medium" means
    ideation. With several signals the higher severity wins, then suicide > self-harm > others.
    """
    latin, devanagari, non_human = _distress_rules()
    norm = _normalise(text, distress=True)
    rules = latin + devanagari if _DEVANAGARI.search(norm) else latin
    best: Distress | None = None
    vetoed = False  # a rule matched, but its context says "not me, not now, not a person"
    for rule in rules:
        for match in rule.regex.finditer(norm):
            if not _context_allows(rule, norm, match) or (
                rule.context != "none" and _not_now(norm, match)
            ):
                vetoed = True
                continue
            if rule.category == "harm_to_others" and non_human.search(
                _sentence_of(norm, match.start(), match.end())
            ):
                vetoed = True
                continue
            found = Distress(rule.category, rule.severity)
            if best is None or (_SEVERITY_RANK[found.severity], _CATEGORY_RANK[found.category]) < (
                _SEVERITY_RANK[best.severity],
                _CATEGORY_RANK[best.category],
            ):
                best = found
            break
    if best is None and not vetoed:  # the model cannot read negation; the rules just did
        best = _model_signal(norm)
    if (
        best is not None
        and best.severity == "medium"
        and best.category != "harm_to_others"
        and _TONIGHT.search(norm)  # a time frame turns a wish into a plan
    ):
        best = Distress(best.category, "high")
    return best


# --- minor signal --------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "barah": 12,
    "terah": 13,
    "chaudah": 14,
    "chaudha": 14,
    "pandrah": 15,
    "pandra": 15,
    "solah": 16,
    "sola": 16,
    "satrah": 17,
    "satra": 17,
    "बारह": 12,
    "तेरह": 13,
    "चौदह": 14,
    "पंद्रह": 15,
    "सोलह": 16,
    "सत्रह": 17,
}
_MINOR_M: dict[str, str] = {
    **MACROS,
    "NUM": r"(\d{1,2}|[^ .?\d]+)",
    "UNIT_OK": (
        r"(?! (?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|km|kms|kg|kgs|lbs|pounds|fet|fot|ft|"
        r"inches|inch|cm|percent|am|pm|oclock|o clock|rupees|rs|k|lakh|crore|dolars|times|th|st|nd|rd|"
        r"people|of|out|seconds?|secs?|steps|miles?|flors?|points|marks|ghante|minute|din|mahine|hafte|"
        r"saal ka nahi|years? (?:of|into|in|experience|maried|together|since|ago|back)|year (?:of|into))\b)"
    ),
    "YEARS": r"(?:years?|yrs?|yr|yo|y o|sal|varsh|वर्ष|साल)",
    "CLS": r"(\d{1,2})",
    "ORD": r"(?:st|nd|rd|th|वीं|वी)?",
}
_MINOR_AGE_RULES = (
    r"(?:im|i am|i m|iam|i turned|just turned|i just turned|im turning|turning) "
    r"(?:only |just |literally |barely |still |almost |nearly )?<NUM>(?:yo|y|f|m)?(?: <YEARS>(?: old)?)?<UNIT_OK>",
    r"(?:my age is|my age|meri age|meri umar|meri umr|meri umra|mera age|age) (?:is |hai |h |sirf |abhi |bas )?<NUM>(?: <YEARS>)?<UNIT_OK>",
    r"(?:main|mai|me|mein|mn) (?:abhi |sirf |bas |only )?<NUM> (?:<YEARS> )?(?:ka|ki|ke|old) ?(?:<HU>|hai|h)?",
    r"(?:मेरी|मेरा) (?:उम्र|उमर|आयु|एज|age) (?:अभी |सिर्फ |है )?<NUM>",
    r"मैं (?:अभी |सिर्फ )?<NUM> (?:साल|वर्ष) (?:का|की)",
    # a self-introduction at the start of a clause: "16 yo here", "15 years old and tired"
    r"(?<![^.?,] )<NUM> (?:yo|y o|years? old|yrs? old|yr old|sal ka|sal ki)(?: here|<EOC>| and| f| m)",
    r"(?:as a|im a|i am a|being a) <NUM> (?:year|yr|y) old",
)
_MINOR_CLASS_RULES = (
    r"(?:im|i am|i m|iam|i study|im studying|i am studying|studying|currently|i go to|i read) "
    r"(?:in |in the )?(?:class|std|standard|grade) <CLS>(?!\S)",
    r"(?:im|i am|i m|iam|i study|im studying|i am studying|studying|currently|i go to|i read) "
    r"(?:in |in the )?<CLS><ORD>(?: (?:class|std|standard|grade|sem))?<EOC>",
    r"(?:im|i am|i m|iam|i study|im studying|i am studying|studying|currently|i go to|i read) "
    r"(?:in |in the )?<CLS><ORD> (?:class|std|standard|grade)",
    r"(?:im|i am|i m) (?:a |an )?<CLS><ORD> grader",
    r"my (?:class |std |grade |standard )?<CLS><ORD> (?:class |std |standard |grade )?(?:board )?(?:exams?|"
    r"boards|results?|pre ?boards|finals|syllabus|class teacher|prelims|practicals)",
    r"(?:main |mai |me |mein )?<CLS><ORD> (?:class |std |standard |kaksha )?(?:me|mein|mai|mei|main) "
    r"(?:<HU>|padhta|padhti|padh|pdhta|pdhti|hai)",
    r"(?:मैं )?<CLS><ORD> (?:कक्षा|क्लास|class) में (?:पढ़ता|पढ़ती|हूं)",
    r"(?:main |mai |me )?<CLS><ORD> (?:class |std )?(?:ka|ki) (?:student|studnt|bacha|bachi)",
)
_MINOR_FLAT_RULES = (
    r"(?:im|i am|i m) (?:a |still a |only a |just a )minor|(?:im|i am|i m) (?:underage|under age|under 18|"
    r"not 18 yet|not even 18|below 18)|not (?:even )?18 yet",
    r"(?:im|i am|i m) (?:a |an |still |still in |in )?(?:high ?school|middle school|secondary school|"
    r"junior high|school student|schoolgirl|schoolboy|school kid|high schooler|middle schooler)"
    r"(?! (?:teacher|principal|counsel\S*|coach|staff|admin\S*|librarian|nurse|bus driver))",
    r"(?:im|i am|i m) still in school",
    r"(?:ill be|i will be|i l be|i turn|im turning|when i turn|until i turn|til i turn|till i turn) "
    r"(?:18|eighteen)",
    r"(?:main|mai|me) (?:abhi )?school (?:me|mein|mai) (?:<HU>|padhta|padhti)",
)
_BOARD = r"board (?:exams?|pariksha|ke exams?|ke papers?)|boards (?:are|start|next|in|coming|ke)|बोर्ड (?:परीक्षा|एग्जाम|exams?)"
_THIRD_PARTY = (
    r"son|daughter|kid|kids|child|children|students?|brother|sister|cousin|nephew|niece|beta|beti|"
    r"bhai|behen|bache|bete|teach|teacher|tutor|teaching|tutoring|batch|pupils?|his|her|their|"
    r"ago|back then|when i was|years back|used to|बेटा|बेटी|बच्चे|भाई|बहन|छात्र"
)
_WEAK_FAMILIES = (
    # school life
    r"my school|school principal|class teacher|school bus|school uniform|recess|report card|ptm|"
    r"parent teacher meting|school trip|my clasmates|my class",
    # parents in control
    r"(?:mom|mum|mother|dad|father|parents|mumy|papa|mama) (?:wont|dont|doesnt|will not|do not|never) "
    r"(?:let|alow)|(?:took|take|taken|confiscated|snatched) (?:away )?my phone|grounded|curfew|"
    r"pocket money|called my parents|cal my parents",
    # school work and truancy
    r"bunk(?:ed)? (?:school|clas)|homework|tuition|coaching clas|skiped school|skip school",
)


@functools.cache
def _minor_rules() -> tuple[
    tuple[re.Pattern[str], ...],
    tuple[re.Pattern[str], ...],
    re.Pattern[str],
    re.Pattern[str],
    re.Pattern[str],
    tuple[re.Pattern[str], ...],
]:
    age = tuple(_compile(p, _MINOR_M) for p in _MINOR_AGE_RULES)
    school = tuple(_compile(p, _MINOR_M) for p in _MINOR_CLASS_RULES)
    flat = _compile("|".join(f"(?:{p})" for p in _MINOR_FLAT_RULES), _MINOR_M)
    board = _compile(_BOARD, _MINOR_M)
    third = re.compile(_prepare(f"(?<= )(?:{_THIRD_PARTY})(?= )"))
    weak = tuple(_compile(p, _MINOR_M) for p in _WEAK_FAMILIES)
    return age, school, flat, board, third, weak


def _number(token: str) -> int | None:
    if token.isdecimal():
        return int(token)  # also Devanagari digits
    return _NUMBER_WORDS_FOLDED.get(token)


_NUMBER_WORDS_FOLDED = {
    _SQUEEZE.sub(r"\1", _fold(unicodedata.normalize("NFKC", k))): v
    for k, v in _NUMBER_WORDS.items()
}


def detect_minor_signal(text: str) -> bool:
    """True when the user says something that suggests they are under 18: review, not a verdict.

    Counts only first-person statements ("I'm 15", "main 11th mein padhti hu", "my class 10
    exams"); board exams count unless the message is about someone else; weak hints (my school,
    homework, parents took my phone) count only when two different kinds appear together.
    """
    age, school, flat, board, third, weak = _minor_rules()
    norm = _normalise(text)
    for regex in age:
        for match in regex.finditer(norm):
            value = _number(match.group(1))
            if value is not None and 8 <= value <= 17:
                return True
    for regex in school:
        for match in regex.finditer(norm):
            if 1 <= int(match.group(1)) <= 12:
                return True
    if flat.search(norm):
        return True
    if board.search(norm) and not third.search(norm):
        return True
    return sum(1 for regex in weak if regex.search(norm)) >= 2


# --- "are you an AI?" ----------------------------------------------------------------------------

_AI_M: dict[str, str] = {
    **MACROS,
    "YOU": r"(?:you|u|ya|yu|you really|u really|you actually|u actually|you even|u even)",
    "YOURE": r"(?:youre|your|ur|u r|you r|you are|u are|ure|yr)",
    "WHAT": (
        r"(?:(?:a |an |just |really |actually |even |an actual |a real |real |a living |actual |"
        r"honestly |some |kind of |sort of |like )*(?:ai|a i|bot|chatbot|chat bot|robot|machine|program|"
        r"computer|computer program|software|llm|language model|gpt|chatgpt|chat gpt|artificial|"
        r"artificial intelligence|automated|automated system|virtual assistant|ai assistant|ai model|"
        r"algorithm|human|humans|human being|person|real person|real|real human|actual person|"
        r"actual human|living person|living being|real girl|real boy|real woman|real man|real guy|"
        r"real lady|fake|fake profile|someone real|somebody real|a real one|ai bot|ai chatbot))"
    ),
    "AFTER": (
        r"(?= (?:[.?,]|$)| (?:or|ya|right|arent|are not|honestly|be honest|for real|fr|tell|pls|please|yes|no|"
        r"lol|haha|just|to|though|then|now|because|cause|coz|cuz|na|kya|bro|bhai|yar|seriously|"
        r"answer|like|who|pretending|behind|on the other|typing|reading|replying|answering|writing|"
        r"here|there|talking|chatting|texting|i am|im|i mean|ok|okay|hmm|ha|or not|isnt it|innit|huh)\b)"
    ),
    "SUBJ_H": r"(?:tum|tu|aap|ap|tm|tusi)",
    "COP_H": r"(?:ho|hai|hain|h|he|hn|hoon)",
    "WHAT_H": (
        r"(?:(?:sach me |sach mein |sachme |sach mai |sachi |really |actually |ek |koi |asli |real )*"
        r"(?:insaan|insan|insaan ho|human|bot|ai|robot|machine|real|asli|real person|real insaan|"
        r"asli insaan|computer|program|chatbot|chatgpt|gpt|aadmi|admi|manushya|zinda|jinda)"
        r"|(?:sach me |sach mein |sachme |sach mai |sachi |asli |real )(?:ladki|ladka|bandi|banda|aurat))"
    ),
    "SUBJ_D": r"(?:तुम|तू|आप)",
    "COP_D": r"(?:हो|है|हैं)",
    "WHAT_D": (
        r"(?:(?:सच में |सचमुच |एक |कोई |असली )*(?:इंसान|इन्सान|मनुष्य|मानव|बॉट|बोट|रोबोट|एआई|ai|मशीन|"
        r"असली|कंप्यूटर|प्रोग्राम|चैटबॉट|जिंदा))"
    ),
}
_AI_RULES = (
    r"(?:are|r|ar|arent|are not|aren t|were) <YOU> <WHAT><AFTER>",
    r"(?:am i|are we|m i|r we|am i really|am i even|is this|was i|have i been|i am|im|i m) "
    r"(?:realy )?(?:talking|chatting|speaking|texting|messaging|talkin|chatin) (?:to|with) <WHAT>"
    r"(?:<EOC>| or| right| here| now)",
    r"(?:is|was) (?:this|it|that|this chat|this account|this profile|this app|the other side|this thing|"
    r"this conversation) (?:a |an |realy |actually |just |even |some |an actual |a real )*"
    r"(?:ai|a i|bot|chatbot|chat bot|robot|machine|program|computer|automated|real person|a person|"
    r"human|a real human|an ai|artificial intelligence|gpt|chatgpt|llm|real human|fake)<AFTER>",
    r"is (?:there )?(?:a|any|an actual|a real|some|someone|somebody|anyone|anybody) (?:real |actual |"
    r"live |living )?(?:human|person|people|guy|girl|man|woman)? ?(?:behind|on the other (?:side|end)|"
    r"typing|reading|replying|answering|writing|responding)",
    r"(?:tell me|be honest|honestly|seriously|just tell me|answer me|i need to know|i want to know|"
    r"can you tell me|let me know)(?: <W>){0,2} (?:if|whether) <YOURE> <WHAT>",
    r"<YOURE> <WHAT> (?:, )?(?:right |arent you |no |na |nah |innit |huh |yes |isnt it |or what |or not )?\?",
    r"<YOURE> <WHAT> (?:, )?(?:right|arent you|aren t you|isnt it)<EOC>",
    r"(?:what|wat) are (?:you|u) (?:exactly |actually |realy )?\? (?:a |an )?(?:ai|bot|human|robot|person)",
    # Hinglish
    r"kya <SUBJ_H> <WHAT_H>(?: <COP_H>)?",
    r"<SUBJ_H> (?:ek )?<WHAT_H> (?:<COP_H> )?(?:ya|or|ki) (?:fir |phir )?<WHAT_H>",
    r"<SUBJ_H> <WHAT_H> <COP_H> (?:kya|na|kya sach me|kya sach mein|\?)",
    r"(?:kya )?(?:main|mai|me|hum) (?:kisi |ek )?<WHAT_H> (?:se|ke sath|ke saath) (?:baat|chat|baatein|"
    r"bat) (?:kar|kr) (?:raha|rahi|rha|rhi|rahe) (?:<HU>|hai|hain|h)? ?(?:kya|\?)",
    r"kya (?:main|mai|me|hum) (?:kisi |ek )?<WHAT_H> (?:se|ke sath|ke saath) (?:baat|chat|bat)",
    r"kya (?:ye|yeh|ye sab|yah|ye chat|yeh chat) (?:ek |koi )?(?:bot|ai|robot|machine|automated|insaan|insan)",
    r"koi (?:insaan|insan|banda|real person|asli insaan|human) (?:hai|h|he) (?:wahan|waha|udhar|idhar|yahan|"
    r"vaha|vahan|dusri taraf|us taraf)",
    r"(?<![^.?,] )(?:you|u) <WHAT> \?",
    # Devanagari
    r"क्या <SUBJ_D> <WHAT_D>(?: <COP_D>)?",
    r"<SUBJ_D> (?:एक )?<WHAT_D> (?:<COP_D> )?(?:या|कि) (?:फिर )?<WHAT_D>",
    r"<SUBJ_D> <WHAT_D> <COP_D> (?:क्या|\?)",
    r"(?:क्या )?(?:मैं|हम) (?:किसी |एक )?<WHAT_D> से बात कर (?:रहा|रही|रहे) (?:हूं|हैं)? ?(?:क्या|\?)",
    r"क्या (?:मैं|हम) (?:किसी |एक )?<WHAT_D> से बात कर",
)


@functools.cache
def _ai_rule() -> re.Pattern[str]:
    return _compile("|".join(f"(?:{p})" for p in _AI_RULES), _AI_M)


def asks_if_ai(text: str) -> bool:
    """True for a sincere question whether the companion is an AI, a bot or a real person.

    The conduct rules require a plain answer to that question, so the router can make sure the
    reply says so even if the model drifts. Statements about AI in general do not count.
    """
    return _ai_rule().search(_normalise(text)) is not None


__all__ = [
    "Category",
    "Distress",
    "Severity",
    "asks_if_ai",
    "detect_distress",
    "detect_minor_signal",
]
