"""The distress rule tables: the phrases handlers/signals.py looks for, as plain strings.

Each `Rule` is a regular expression written in ordinary spelling, with <NAME> for a shared piece
from MACROS ("<INTH>" = going to / gonna / will / planning to ...). handlers/signals.py folds and compiles them on
first use (nothing is compiled at import) and applies the context checks: negation, third person,
history, quoted words. Read signals.py first; come here to add or change a phrase, and add the
phrase to tests/signal_phrases.py in the same change.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Category = Literal["suicide", "self_harm", "harm_to_others"]
Severity = Literal["high", "medium"]

MACROS: dict[str, str] = {
    # gaps that never cross a sentence end
    "W": r"[^ .?,]+",
    "G2": r"(?:[^ .?,]+ ){0,2}",
    "G3": r"(?:[^ .?,]+ ){0,3}",
    "G5": r"(?:[^ .?,]+ ){0,5}",
    "PILLS": (
        r"(?:pils|tablets|sleping pils|sleping tablets|paracetamol|painkilers|meds|medication|"
        r"antidepresants|xanax|alprazolam|tramadol|insulin|dolo|crocin|calpol|combiflam|goliyan|goliya)"
    ),
    "GC6": r"(?:[^ .?]+ ){0,6}",  # may cross commas
    "EOC": r"(?= (?:[.?,] |$))",
    "TO": r"(?:to|2|t)",
    "ADV": (
        r"(?:(?:just|really|actually|finally|simply|literally|honestly|seriously|probably|"
        r"definitely|totally|quietly|fucking|fuckin|go|and|so|kinda|kind of|i|maybe|also|even|"
        r"sometimes|still|very|soon|tonight|today|now|like) ){0,3}"
    ),
    "MYSELF": r"(?:my ?self|my ?slef|my ?slf|my ?sef|my ?elf|meself|maself|mi ?self)",
    # intent / plan: "going to", "I'll", "decided to"
    "INTH": (
        r"(?:going <TO>|goin <TO>|gonna|gunna|imma|finna|about <TO>|bout <TO>|will|ill|i ll|"
        r"shall|decided <TO>|made up my mind <TO>|planning <TO>|planning on|plan <TO>|ready <TO>|"
        r"am gonna|m gonna)"
    ),
    # desire / ideation: "want to", "thinking about"
    "INTM": (
        r"(?:want <TO>|wanna|wan <TO>|wnat <TO>|wamt <TO>|want2|wanted <TO>|wish (?:i could|<TO>|"
        r"i can|i would)|would like <TO>|id like <TO>|feel like|feeling like|felt like|"
        r"thinking (?:about|of|abt|bout)|think (?:about|of|abt)|thought (?:about|of)|"
        r"thoughts (?:about|of)|urge <TO>|urges <TO>|tempted <TO>|considering|consider|"
        r"fantasi[sz]e (?:about|of)|fantasi[sz]ing (?:about|of)|dream (?:about|of)|"
        r"dreaming (?:about|of)|should|might|need <TO>|deserve <TO>|have <TO>|"
        r"cant stop thinking (?:about|of)|tried <TO>|trying <TO>|try <TO>|attempted <TO>)"
    ),
    # Hinglish morphology (after squeezing: hoon->hon, maar->mar, jaana->jana, kaat->kat)
    "HU": r"(?:hu|hun|hon|hn|hoon)",
    "CHAH": r"(?:chah?a?t[aie]|chahati|chahata)",
    "LFUT": r"(?:l[uo]n?g[aie])",
    "DFUT": r"(?:d[uo]n?g[aie])",
    "JFUT": r"(?:ja[uo]n?g[aie])",
    "DALFUT": r"(?:dal[uo]n?g[aie])",
    "NAHI": r"(?:nahi|nahin|nhi|ni|nai|nhn|nahee)",
    "KHATAM": r"(?:kh?a?th?a?m)",
    "ZINDAGI": r"(?:[zj]ind(?:a|e)?g[ie])",
    "KHUD": r"(?:kh?ud ?ko|apne ?a?ap ko|apne ap ko|khud hi ko)",
    "SUI": (
        r"(?:suicide|suicid|sucide|suiside|sucid|suside|suiced|suicde|suacide|atmhatya|"
        r"atmahatya|khudkushi|khudkhushi|khud kushi)"
    ),
    "MAN": r"(?:man|mn|dil|ji)",
    "KARTA": r"(?:karta|krta|karti|krti|kar raha|kar rahi|hota|hoti)",
    # intensifiers inside a phrase: "marne ka bahut mann", "बहुत मन करता"
    # things, not people, that a Hinglish threat verb may take: "apne phone ko khatam kar dunga"
    "THING": (
        r"(?:phone|mobile|laptop|kam|project|khana|plate|batery|data|game|games|level|asignment|"
        r"homework|paper|botle|series|show|movie|kitab|bok|notes|exam|bug|code|sabzi|cake|pizza)"
    ),
    "INTENS": r"(?:(?:bahut|bohot|bahot|bht|bhut|kafi|bada|itna|sach me|sach mein|बहुत|बड़ा|काफी|इतना) )?",
}

_NEUTRAL_SUICIDE = (
    # methods that need a first-person intent or desire in front to count
    r"(?:commit|comiting|comit|do|doing) <SUI>"
    r"|<SUI>(?! (?:squad|prevention|helpline|hotline|rate|rates|awareness|bomber|bombers|"
    r"bombing|attack|mission|case|cases|data|statistics|stats|forest|song|movie|season|note)\b)"
    r"|end(?:ing)? (?:it all|everything|it(?! (?:with|between|for (?:today|now)|at|early|here|"
    r"off|on a)\b))"
    r"|of(?:ing)? <MYSELF>"
    r"|(?:overdose|overdosing|od)(?! on (?!(?:my |some |the |all |these |those )?(?:pills|tablets|"
    r"meds|medicine|medication|sleeping|paracetamol|painkillers|insulin|drugs|heroin|opioids)))"
    r"|jump(?:ing)? (?:of|from|in front of|infront of|before|under|out of) (?:a |the |my |this |"
    r"that |our )?(?:<W> )?(?:bridge|building|roof|rooftop|terrace|balcony|cliff|train|metro|bus|"
    r"truck|window|tower|flyover|ledge|floor|storey|story|skyscraper|hostel|apartment|flat|hill|dam"
    r"|railing)(?! into| with a (?:parachute|bungee|harnes))"
    r"|(?:step|stepping|walk|walking|lie|lying|throw <MYSELF>) (?:in front of|infront of|under|"
    r"onto) (?:a |the )?(?:train|bus|truck|car|metro|lorry|traffic|tracks)"
    r"|(?:not|never) wake up|(?:go to )?sleep (?:forever|and (?:never|not) wake up)"
    r"|disappear (?:forever|permanently|for good|from this world)"
    r"|stop (?:living|existing|breathing)|cease to exist|not exist(?: anymore)?"
    r"|be dead|leave this world|end (?:my|this) suffering"
    r"|(?:slit|cut|cuting|slash|slashing) my (?:wrists?|throat)"
    r"|hang(?:ing)? (?:from|by) (?:the |a |my )?(?:fan|ceiling|rope|tree|neck|celing)"
)
_SELF_SUICIDE = (
    # methods that already say "myself": count even without an intent verb (as ideation)
    r"kil(?:ing)? <MYSELF>(?! (?:laughing|laughin|with laughter|at (?:the|work|gym|this|it)|working|studying|"
    r"trying|to (?:finish|get|make|met|study|work|kep|please|impres)|over (?:this|it|that|nothing|work|exams?)|for "
    r"(?:this|that|nothing|a|an|the|you|him|her|them|work|exams?|marks))\b)|unaliv(?:e|ing) <MYSELF>|hang(?:ing)? <MYSELF>"
    r"|shoot(?:ing)? <MYSELF>(?! in the (?:foot|leg))"
    r"|drown(?:ing)? <MYSELF>(?! (?:in|with) (?!(?:the |a )?(?:river|sea|lake|ocean|well|bathtub|"
    r"tub|pool|water|canal)))"
    r"|poison(?:ing)? <MYSELF>|gas(?:ing)? <MYSELF>|electrocut(?:e|ing) <MYSELF>"
    r"|(?:set|seting) <MYSELF> (?:on fire|alight|ablaze)|starv(?:e|ing) <MYSELF> to death"
    r"|throw(?:ing)? <MYSELF> (?:of|in front|under|from|out)"
    r"|(?:slit|sliting|slash|slashing) my (?:wrists?|throat)"
    r"|(?:end|ending|take|taking) my (?:own )?life|end(?:ing)? this (?:life|existence)"
    r"|kms|blow(?:ing)? my (?:brains|head) (?:out|of)"
)
_DIE = (
    r"(?:want <TO>|wanna|wana|wan <TO>|wnat <TO>|wamt <TO>|want2|wanted <TO>|wish (?:i could|<TO>|"
    r"i would|i can)|would like <TO>|id like <TO>|ready <TO>|deserve <TO>|should|need <TO>|hope i|"
    r"let me|wish i) <ADV>(?:die|be dead)(?! (?:for|of|from|laughing|laughin|with|at|on|if|than|"
    r"happy|rich|old|young|trying|doing|eating|after|like|in (?:your|ur|his|her|peace|vain)|a hero|"
    r"a legend|together|my hair|hair|it|them|my clothes)\b)"
)
_SH_OBJ = (
    r"(?:<MYSELF>|my (?:arms?|wrists?|thighs?|legs?|skin|hands?))"
    r"(?! (?:a|an|some|of|short|slack|free|loose|out|up|over|into|in the (?:foot|leg))\b)"
)
_SH_VERB = (
    r"(?:cut(?:ing)?|burn(?:ing)?|hurt(?:ing)?|harm(?:ing)?|scratch(?:ing)?|punch(?:ing)?|"
    r"hit(?:ing)?|bruis(?:e|ing)|starv(?:e|ing)|punish(?:ing)?|carv(?:e|ing)|stab(?:ing)?|"
    r"bash(?:ing)?|slap(?:ing)?|mutilat(?:e|ing))"
)
_SH_METHOD = rf"(?:{_SH_VERB} {_SH_OBJ}|self ?harm(?:ing)?|self ?injur(?:e|y|ing)|cut(?:ing)? (?:dep|deper|again))"
_PERSON_NOUN = (
    r"(?:dad|daddy|father|papa|mom|mum|mother|mommy|mummy|wife|husband|hubby|boss|manager|"
    r"supervisor|brother|bro|sister|sis|ex|ex ?wife|ex ?husband|ex ?girlfriend|ex ?boyfriend|"
    r"girlfriend|gf|boyfriend|bf|neighbou?rs?|teacher|professor|roommate|roomie|flatmate|friend|"
    r"colleague|coworker|co worker|landlord|landlady|step ?father|step ?dad|step ?mother|step ?mom|"
    r"father in law|mother in law|in ?laws|sasur|saas|uncle|aunt|aunty|auntie|cousin|son|daughter|"
    r"baby|babies|kid|kids|child|children|partner|fiance|fiancee|classmates?|bully|bullies|"
    r"principal|senior|family|parents|guy|man|woman|girl|boy|lady|dude|bitch|bastard|idiot|"
    r"asshole|person|people|chap|fucker|cheater|rapist|abuser|students?)s?"
)
_NOT_A_VICTIM = (
    r"(?:it|this|that|these|those|the|a|an|some|time|two|of|all|everything|me|my|<MYSELF>|mine|"
    r"you|u|ya|your|yourself|ur|urself|boredom|bugs?|zombies?|monsters?|mosquito\S*|flies|ants?|"
    r"cockroach\S*|roach\S*|rats?|mice|pests?|weeds?|germs?|bacteria|enem(?:y|ies)|npcs?|bos|"
    r"bosses|level|game|vibe|mood|proces|server|engine|app|tab|task|music|lights?|switch|power|for|"
    r"at|in|on|with|to|and|or|but|if|so|because|cause|coz|cuz|tonight|today|tomorrow|now|again|lol|"
    r"haha|yar|please|pls|ok|okay|plants?|tres?|grass|snakes?|spiders?|lizards?|conversation|"
    r"convo|chat|jokes?|exams?|papers?|interviews?|presentation|tests?|hunger|pain|cravings?|diet|"
    r"battery|fish|chicken|goat|mutton|softly|him|her|them|off|one|up|yourselves|ourselves|stuf|"
    r"things?|dreams?|hope|joy|love|fun|deadline|homework|work|job|shift|speed|spirit)"
)
_PERSON = (
    rf"(?:him|her|them|em|everyone|everybody|every ?one|someone|somebody|some ?one|some people|"
    rf"people|all of them|(?:my|his|her|our|their|the|that|this|those|these|a) (?:<W> )?"
    rf"{_PERSON_NOUN})(?! (?:feelings?|ego|chances|career|reputation|pride|image|business|sales|"
    rf"case|game|vibe|mood|plans|record|at (?:chess|cards|the game))\b)"
)
_HARM_ANY = r"(?:kil(?:ing)?|murder(?:ing)?|stab(?:ing)?|strangl(?:e|ing)|chok(?:e|ing))"
_HARM_PERSON = (
    r"(?:shoot(?:ing)?|hurt(?:ing)?|harm(?:ing)?|attack(?:ing)?|poison(?:ing)?|burn(?:ing)?|"
    r"suffocat(?:e|ing)|smother(?:ing)?|drown(?:ing)?|run(?:ing)? over|throw(?:ing)? acid (?:on|at))"
)
_HARM = (
    rf"(?:{_HARM_ANY} (?:{_PERSON}|(?!{_NOT_A_VICTIM} ){MACROS['W']})|{_HARM_PERSON} {_PERSON}|"
    rf"beat(?:ing)? {_PERSON} (?:up|to death|senseless|black and blue|to a pulp)|"
    r"shoot(?:ing)? up (?:my|the|this|that|our) (?:school|colege|ofice|clas|workplace|mal|church|mosque|temple|"
    r"mandir|masjid|hostel)|(?:bomb|bombing|blow up|blowing up) (?:my|the|this|that|our) (?:school|colege|ofice|"
    r"workplace|mal|church|mosque|temple|mandir|masjid|hostel|house))"
)
# Hinglish / Devanagari person objects ("usko", "apne boss ko", "उसे")
_KO = (
    r"(?:usko|use|usey|unko|unhe|unhein|inko|isko|ise|sabko|sab ko|us ko|us <W> ko|"
    r"(?:apne|apni|mere|meri|uske|uski) (?!(?:<W> )?<THING> ko)(?:<W> ){1,2}ko|(?!<THING> |kh?ud |apne |khud |mujhe |tujhe |tumhe |tumko |"
    r"machar |macchar |cockroach |chuha |chuhe |makhi |kide |keede |bos |enemy |zombie )<W> ko)"
)
_KO_D = (
    r"(?:उसे|उसको|उन्हें|उनको|इसे|इसको|सबको|सब को|उस <W> को|(?:अपने|अपनी|मेरे|मेरी|उसके|उसकी) (?:<W> ){1,2}को|"
    r"(?!खुद |ख़ुद |अपने |मुझे |तुझे |तुम्हें |मच्छर |चूहे |कॉकरोच )<W> को)"
)


class Rule(NamedTuple):
    category: Category
    severity: Severity
    pattern: str
    context: Literal["full", "neg", "none"] = "full"  # subject+negation check, negation only, none
    veto_before: str | None = None  # pattern on the three tokens before the match


_SUI: Category = "suicide"
_SH: Category = "self_harm"
_HO: Category = "harm_to_others"

LATIN_RULES: tuple[Rule, ...] = (
    # -- suicide, intent / plan / act --------------------------------------------------------
    Rule(_SUI, "high", rf"<INTH> <ADV>(?:{_SELF_SUICIDE}|{_NEUTRAL_SUICIDE})"),
    Rule(
        _SUI,
        "high",
        rf"(?:a|my|the) plan (?:to|for|on how to|how to|of) <ADV>(?:{_SELF_SUICIDE}|{_NEUTRAL_SUICIDE})",
    ),
    Rule(_SUI, "high", r"(?:planed|planing|plan) (?:out )?(?:my|the) (?:<SUI>|death|exit)"),
    Rule(
        _SUI,
        "high",
        r"(?:pils|tablets|sleping pils|meds|rope|nose|razor|poison|blade)(?: are| is)?(?: all)? "
        r"(?:ready|set|lined up|counted|in front of me|next to me|beside me)",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:saved up|saving up|stockpil\S*|hoard\S*) <G3><PILLS>",
    ),
    Rule(
        _SUI,
        "high",
        r"enough (?:<W> )?(?:pils|tablets|paracetamol|painkilers|meds|poison) (?:to|now|saved|ready|for (?:it|this))",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:took|taken|swalowed|swalow|swalowing|ate|had|poped|downed|take|taking) (?:all|all of|"
        r"all the|all my|the whole|a whole|an entire|the entire|entire|a botle of|the botle of|"
        r"a handful of|handful of|a strip of|whole strip of|[1-9]\d+|twenty|thirty|forty|fifty|"
        r"hundred) <G3>(?:pils|tablets|paracetamol|painkilers|meds|medicines|medication|botle|strip)",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:i|ive|i have|just|i just|i ve) (?:overdosed|taken an overdose|took an overdose|od d|oded)"
        r"(?! on (?!(?:my |some |the |all )?(?:pils|tablets|meds|sleping|paracetamol|painkilers|drugs)))",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:writing|wrote|writen|write|finished|left|leaving|leave|drafted|drafting|typed|typing) "
        r"(?:my |a |the |some )?(?:<SUI>|godbye|farewel) (?:note|notes|leter|leters)",
    ),
    Rule(_SUI, "high", r"<SUI> (?:note|leter)", "full"),
    Rule(
        _SUI,
        "high",
        r"(?:this is|its) (?:my )?(?:final |last )?godbye(?! for (?:now|today|tonight))|(?:final|last) godbye"
        r"|godbye (?:forever|everyone|world|cruel world|al)"
        r"|(?:you|u) (?:wont|will not|wil never|will never) (?:hear from|se|talk to) me (?:again|ever|anymore|after)"
        r"|(?:wont|will not|not) be (?:alive|here|around) (?:tomorow|by (?:tomorow|morning|tonight)|much longer|after tonight)"
        r"|(?:my|the) last (?:day|night) (?:alive|on earth|on this earth|in this world)|last day of my life"
        r"|last time (?:youl|you wil|u wil|ul|you) (?:ever )?(?:hear from|talk to|se) me",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:standing|siting|stod|im|i am|i m) on (?:the |a |my )?(?:ledge|railing|parapet)"
        r"|(?:standing|siting|lying|im|i am|i m) (?:on|at) the edge of (?:the |a |my )?(?:rof|bridge|building|"
        r"terace|clif|balcony|platform|tracks?)|(?:standing|siting|lying|waiting) on (?:the )?(?:railway |train )?tracks",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:gun|pistol) (?:to|against|at) my head|(?:knife|blade|razor) (?:to|on|against) my "
        r"(?:wrists?|throat|neck)|(?:use|point|turn) (?:it|the gun|the knife|the blade|this|that|gun|"
        r"knife) (?:on|at|against) <MYSELF>",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:bought|got|buying|tied|tie|tying|made|making|have) (?:a |the |my |some )?(?:rope|nose)(?! (?:bridge|course|ladder|climbing))",
    ),
    # -- suicide, ideation ---------------------------------------------------------------------
    Rule(_SUI, "medium", rf"<INTM> <ADV>(?:{_SELF_SUICIDE}|{_NEUTRAL_SUICIDE})"),
    Rule(_SUI, "medium", _SELF_SUICIDE),
    Rule(_SUI, "medium", _DIE),
    Rule(_SUI, "medium", r"(?:attempted|tried) <SUI>"),
    Rule(
        _SUI,
        "medium",
        r"wish (?:that )?i (?:was|were|could be|would be|was just) dead"
        r"|wish (?:that )?i (?:wasnt|werent|was not|were not) (?:alive|born|here|around|in this world)"
        r"|wish (?:that )?i (?:had |d )?never (?:ben born|existed|woken up|woke up|wake up|was born)"
        r"|wish (?:that )?i (?:didnt|did not) (?:exist|wake up|have to wake up|have to live)"
        r"|wish i could (?:just )?(?:disappear|stop existing|not exist|sleep forever)"
        r"|wish (?:i|that i) (?:would|could) (?:just )?(?:die|not wake up|never wake up)",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:dont|do not|no longer|not|never) (?:really |even )?(?:want|wana|wish) <TO>? ?"
        r"(?:live|be alive|exist|be here|go on|continue living|kep living|kep going|stay alive)"
        r"(?! (?:in|with|at|near|there|alone|abroad|together|on|under|far|close|next|inside|outside|"
        r"separately|here with|somewhere|like (?:that|them|him|her)|a lie|my dream|the life|"
        r"without (?:ac|wifi|internet))\b)",
        "full",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:dont|do not) (?:want|wana) <TO>? ?wake up (?:tomorow|anymore|again|ever)"
        r"|hope (?:that )?i (?:dont|do not|never|wont|will not|dont ever) wake up",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:whats|what is|wats|wht is|whts|what s) the point (?:of|in) (?:living|life|being alive|"
        r"existing|my life|going on|anything|any of (?:this|it)|waking up|even living|this life)"
        r"|no point (?:in |of )?(?:me |for me |my )?(?:living|being alive|existing|going on|waking up)"
        r"|no (?:reason|point|purpose) (?:for me )?(?:to|in|of|for) (?:kep )?(?:living|live|go on|"
        r"going on|exist|be alive|wake up|stay alive)|nothing (?:left )?to live for"
        r"|(?:no|lost the|lost my) wil to live",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:not|isnt|is not|no longer|never|aint|wasnt|hardly) (?:<W> )?worth living",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:beter of|hapier|beter) (?:without me|if i (?:"
        r"died|disappeared|never existed|didnt exist|was gone|were gone|was dead|"
        r"were dead|left this world|killed <MYSELF>))|beter of dead",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:no ?one|nobody|no body|who) (?:would|will|wud|is going to|gonna|even) <G3>(?:if|when|once) "
        r"i (?:was |were |am |m |im )?(?:gone|dead|died|die|disappeared|disappear|not here|no longer "
        r"here|kil\S* <MYSELF>)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:tired|sick|exhausted|done) (?:of|with) (?:living|being alive|existing|life|this life|"
        r"my life)(?! (?:admin|insurance|in|at|coach|hacks|lesons|style|partner)\b)",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:cant|can not|cannot) (?:go on|kep going|live like this|carry on|kep living)"
        r"(?: (?:anymore|any more|any longer|like this))?<EOC>",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:im|i am|i m|fel|feling|felt|ben|geting|get|i was|becoming|so|very|realy|kinda|kind of|"
        r"bit|litle|extremely|quite|prety|super|always|often|sometimes|still|actively|pasively) suicidal",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:my|having|have|had|get|geting|got|ben|kep having|strugling with|dealing with|fighting) "
        r"(?:<W> )?suicidal (?:thoughts|feelings|ideation|urges|tendencies|thinking)",
    ),
    Rule(
        _SUI,
        "medium",
        r"burden (?:to|on|for) (?:everyone|everybody|my family|my parents|al of them|everyone around me|al)",
    ),
    Rule(
        _SUI, "medium", r"hope (?:i|a <W> hits me) (?:get |gets )?hit by a (?:bus|truck|car|train)"
    ),
    # -- self-harm -------------------------------------------------------------------------------
    Rule(_SH, "high", rf"<INTH> <ADV>{_SH_METHOD}"),
    Rule(
        _SH,
        "high",
        r"(?:i|just|i just|ive just) (?:cut|slashed|burned|burnt|carved|stabed) (?:<MYSELF>|my "
        r"(?:wrists?|arms?|thighs?|legs?|skin)) <G5>(?:wont|will not|isnt|is not|doesnt|does not|not|"
        r"cant) stop\S* (?:the )?bled\S*|cut (?:way )?to deep",
    ),
    Rule(_SH, "medium", rf"<INTM> <ADV>{_SH_METHOD}"),
    Rule(
        _SH,
        "medium",
        r"(?:cut|cuting|harm|harming|scratch|scratching|carve|carving|punish|punishing) (?:<MYSELF>|my "
        r"(?:arms?|wrists?|thighs?|legs?|skin)) (?:when|whenever|every|again|to cope|to fel|because|"
        r"cause|coz|cuz|a lot|daily|often|sometimes|at night|til|until|so that|since|most)"
        r"(?![^.?]*(?:shav|cok|chop|slic|pel|acident|by mistake|slipped|paper cut|kitchen|onion|sabzi))",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        rf"{_SH_VERB} {_SH_OBJ} (?:on purpose|deliberately|intentionally|to cope|to fel (?:something|"
        r"beter|alive|in control|real)|to punish|as (?:a )?punishment|because i deserve)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:ben|kep|kept|started|start|began|begun|back to|relapsed|relapse|relapsing|still|again) "
        r"(?:(?:cuting|self ?harming)(?: again|<EOC>)|(?:cuting|burning|hurting|harming|scratching|"
        r"hiting|punching|starving|bruising) (?:<MYSELF>|my (?:arms?|wrists?|thighs?|legs?|skin)))"
        r"(?![^.?,]*(?:footbal|cricket|gym|sport|practice|training|match|playing|runing|cycling|kitchen|"
        r"coking|shaving|acident|by mistake))",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:i|my|im|i m|ive|urge <TO>|urges <TO>|relapsed|relapse|kep|ben|started|still|do|"
        r"strugle with|strugling with|addicted to) (?:on |into |<W> )?self ?(?:harm|harming|harmed|"
        r"injury|injuring|injure|mutilation)",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:scratch\S*|pick\S*|bit\S*|hit\S*|bang\S*|punch\S*|pul\S*) <G5>(?:until|til|untill) "
        r"(?:it |they |i |my <W> )?(?:bled|bleds|start bleding|starts bleding|bruise|bruises|hurts)",
        "neg",
    ),
    Rule(
        _SH, "medium", r"(?:fresh|new|deep|more|hiden) (?:cuts|cut marks|scars|burns|wounds) on my"
    ),
    # -- harm to others ----------------------------------------------------------------------
    Rule(_HO, "high", rf"<INTH> <ADV>{_HARM}"),
    Rule(
        _HO,
        "high",
        r"(?:gun|knife|pistol|revolver|katta|machete|axe|acid|rifle|shotgun) <G5>(?:to|and) <G3>"
        rf"(?:{_HARM})",
    ),
    Rule(_HO, "medium", rf"<INTM> <ADV>{_HARM}"),
    # -- Hinglish: suicide ---------------------------------------------------------------------
    Rule(_SUI, "high", r"<SUI> (?:kar|kr|kar hi|kr hi) <LFUT>", "neg"),
    Rule(
        _SUI,
        "high",
        r"(?:<SUI>|mar) ?(?:karne|krne|ne) (?:ja|wala|wali|vala|vali) (?:raha |rahi |rha |rhi )?<HU>",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:<ZINDAGI>|<KHUD>|apni jan|apni <ZINDAGI>) (?:ko )?(?:<KHATAM> (?:kar|kr)|mar) (?:<LFUT>|<DFUT>|<DALFUT>)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:apni )?(?:nas|nase|nus|kalai|wrist) (?:kat|cut) (?:<LFUT>|<DFUT>|li|liya|lu)"
        r"|(?:phansi|fansi|phasi|fasi|fanda|phanda|fhansi) (?:laga|lga|lagake|lagakar|pe latak|par latak) "
        r"(?:<LFUT>|<DFUT>|<JFUT>)"
        r"|(?:pankhe|pankha|fan|chat|ceiling|ped|phande) (?:se|pe|par) (?:latak|lataq|lutak) <JFUT>",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:chat|terace|building|bridge|pul|balcony|rof|khidki|window|floor|manzil|tower|flyover) "
        r"(?:se|pe|par|ke upar se) (?:k[ou]d|jump|jump kar|jump kr|chalang laga|chalang) (?:<JFUT>|<LFUT>|<DFUT>)"
        r"|(?:train|metro|truck|bus|gadi|trak) (?:ke|k) (?:age|samne|niche|neche) (?:k[ou]d|a|let) <JFUT>",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:zeher|zehar|jeher|jahar|zaher|poison|rat poison) (?:kha|pi|pe) (?:<LFUT>)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:goli|goliya|goliyan|pils|tablets|tablet|dawai|dawaiyan|dawaiya) (?:jama|ikathi|ikatha|"
        r"ikathe|collect|save|stock) (?:kar|kr) (?:li|liya|le|lin|rakhi|rakhe)"
        r"|(?:sari|puri|pori|pura|pora|bahut sari|ek sath)(?![^.?]*(?:time pe|time par|samay pe|samay par|on time|doctor ne|prescribed|समय पर|टाइम पर|टाइम पे|डॉक्टर ने)) (?:<W> )?(?:goli|goliya|goliyan|pils|"
        r"tablets|strip) (?:ek sath )?(?:kha|khali|nigal) (?:li|liya|lin|le|<LFUT>)"
        r"|(?:sab|sare|al)(?![^.?]*(?:time pe|time par|samay pe|samay par|on time|doctor ne|prescribed|समय पर|टाइम पर|टाइम पे|डॉक्टर ने)) (?:<W> )?(?:goli|goliya|goliyan|pils|tablets|dawai|dawaiyan|dawaiya|strip) "
        r"(?:ek sath )?(?:kha|nigal) <LFUT>"
        r"|(?:ek sath|bahut sari|dher sari)(?![^.?]*(?:time pe|time par|samay pe|samay par|on time|doctor ne|prescribed|समय पर|टाइम पर|टाइम पे|डॉक्टर ने)) (?:<W> )?(?:dawai|dawaiyan|dawaiya|medicine|meds) "
        r"(?:ek sath )?(?:kha|khali|nigal) (?:li|liya|lin|le|<LFUT>)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:apni )?jan (?:de|le) (?:<DFUT>|<LFUT>)(?! (?:tere|tera|teri|tumhare|tumhre|tumhari|apke|aapke|uske|unke|iske|desh|watan|tujh|tum|dost|bhai|pyar|ishq|mohabat|family|ghar)\b)",
        "neg",
        r"liye|lie|liy|uski|unki|iski|\bki\b",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:alvida|godbye|bye bye) (?:sabko|sab ko|duniya|everyone)|(?:sabko|sab ko) (?:alvida|godbye)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:marna|mrna|mar jana|mar jane|mar hi jana) <CHAH>(?: <HU>|<EOC>)",
        "neg",
        r"\bko\b|usko|use|unko|inko|isko|unhe|sabko|jan se",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:mujhe|mujhko|muje|mje) (?:bas |ab |sach me |sach mein |ab bas )?(?:marna|mrna|mar jana) (?:hai|h|he|hain)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:j[ei]n[ae]?|[zj]inda (?:rehne|rahne|rhne)) (?:ka|ki|ke|me|mein|mai) (?:koi |bhi |ab |koi bhi )?(?:<MAN>|icha|ica|wajah|vajah|"
        r"waja|reason|matlab|matalab|mtlb|umed|umid|hope|fayda|faida|maqsad|maksad|point|mood) "
        r"(?:bhi |hi )?<NAHI>",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:jena|jina) <NAHI>(?: hai| h| he| <CHAH>| chahiye|<EOC>)|<NAHI> (?:jena|jina)(?: mujhe| ab| hai| h|<EOC>)",
        "full",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:aur|ab|ab aur) <NAHI> (?:je|ji) (?:sakta|sakti|skta|skti|paunga|paungi|pa raha|pa rahi)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:<ZINDAGI>|<KHUD>|apni jan|apni <ZINDAGI>) (?:ko )?<KHATAM> (?:karna|krna|karni|krni|karne|krne) "
        r"(?:<CHAH>|hai|h|he|ka (?:<MAN>|khayal|khyal|socha|soch)|ke bare|ki soch)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"<SUI> (?:karne|krne|karna|krna|ka) (?:ka |ki |ke )?(?:<MAN>|khayal|khyal|soch|socha|sochta|"
        r"sochti|irada|vichar|<CHAH>|hai|h)"
        r"|<SUI> (?:ke|ki|ka) (?:bare|bre) (?:me|mein|mai|main) (?:soch|sochta|sochti)"
        r"|<SUI> (?:kar|kr) (?:lu|lun|lon)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"kash (?:main |mai |me |mein )?(?:kabhi )?(?:mar (?:jau|jaun|jaon|jata|jati)|paida (?:hi )?(?:na|<NAHI>) "
        r"(?:hota|hoti|hua|hui)(?: hota| hoti)?)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"<MAN> <KARTA> (?:hai |h |he )?(?:ki )?(?:main |mai )?(?:mar (?:jau|jaun|jaon)|so (?:jau|jaun|jaon) "
        r"(?:aur|or|and) (?:kabhi|fir|phir|dobara) (?:na|<NAHI>) (?:uthu|uthun|uthon)|<SUI> (?:kar|kr) "
        r"(?:lu|lun)|<KHUD> <KHATAM> (?:kar|kr) (?:lu|lun|du|dun))",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"so (?:jau|jaun|jaon) (?:aur|or|and) (?:kabhi|fir|phir|dobara) (?:na|<NAHI>) (?:uthu|uthun|uthon)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:mere|mera) (?:marne|jane|na hone) (?:se|par|pe) (?:kisi ko|kisiko) (?:bhi )?(?:koi )?"
        r"(?:farak|fark|frk|farq|fraq) <NAHI>",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:sab ?pe|sab ?par|sab ke liye|sabke liye|sab ke upar|ghar walo (?:pe|par|ke liye)|family "
        r"(?:pe|par|ke liye)) (?:ek )?(?:bojh|bhoj|boj|burden)"
        r"|mere bina (?:sab|sabhi|sab log|ghar wale|gharwale|family|mumy papa|duniya) (?:<W> )?"
        r"(?:khush|khus|beter|behtar|acha) (?:rahenge|rhenge|honge|hoge|rahega|hoga|rahegi|hogi)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"marne (?:ka|ki|ke) <INTENS>(?:<MAN>|khayal|khyal|vichar|soch|icha|irada)"
        r"|(?:soch|sochta|sochti|soch raha|soch rahi) <G3>(?:marne|mar jane|<KHUD> <KHATAM>)",
        "neg",
        r"\bko\b|\bpe\b|\bpar\b|\bper\b|usko|unko|isko|sabko",  # "sar dewar pe marne ka man": hitting
    ),
    # -- Hinglish: self-harm -------------------------------------------------------------------
    Rule(
        _SH,
        "high",
        r"<KHUD> (?:hurt|cut|harm|chot|jala) (?:kar|kr)(?:unga|ungi|ugi|uga|onga|ongi|ungi)",
        "neg",
    ),
    Rule(
        _SH,
        "high",
        r"(?:blade|razor|chaku|knife|compass|kanch)(?: se)? (?:<W> )?(?:hath|kalai|wrist|arm|bazu|pair|"
        r"thigh|jangh|nas) (?:kat|cut|chala|mar) (?:liya|li|diya|di|le)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"<KHUD> (?:hurt|cut|harm|chot|nuksan|takleef|taklif|dard|saza|saja|punish|blade) <G2>"
        r"(?:karna|krna|karni|karne|krne|karta|karti|krta|krti|kar|kr|dena|dene|deta|deti|de|pahuchana|"
        r"pahunchana|pahuchane|pahunchane|"
        r"pahuchata|pahuchati|pahunchata|pahunchati|pohchana)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"<KHUD> (?:(?:blade|razor|chaku|knife|compass|kanch|cigarete|lighter) (?:se )?)?(?:marta|marti|pita|pit\S*|"
        r"noch\S*|kat\S*|jala\S*) (?:<HU>|hai|h|he|rehta|rehti|deta|deti|leta|leti)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"cuting (?:karne|krne|kar|kr) (?:lagi|laga|lag|shuru)|(?:phir se|fir se|wapas|dobara|again) "
        r"(?:cuting|cut karne|cut karna|cut kiya|cut kar)|cuting (?:phir se|fir se|wapas|dobara|again)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:blade|razor|chaku|knife|compass|kanch)(?: se)? (?:<W> )?(?:hath|kalai|wrist|arm|bazu|pair|"
        r"thigh|jangh) (?:kat|kati|kata|cut|chala|chalati|chalata|mar|marti|marta) (?:leti|leta|deti|deta|"
        r"karti|karta|<HU>|hai|h)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:cigarete|lighter|garam|iron|press|machis) (?:se|pe) (?:apna |apni |<KHUD> )?(?:hath |bazu |"
        r"skin |kalai )?(?:jala|jalati|jalata|jalaya|jalayi|jalaungi|jalaunga)",
        "neg",
    ),
    # -- Hinglish: harm to others --------------------------------------------------------------
    Rule(_HO, "high", rf"{_KO} (?:main |mai |me )?(?:jan se )?mar (?:<DFUT>|<DALFUT>)", "neg"),
    Rule(
        _HO,
        "high",
        r"mar (?:<DFUT>|<DALFUT>) (?:usko|use|unko|unhe|sabko|isko|ise|us <W> ko)",
        "neg",
    ),
    Rule(_HO, "high", r"jan se mar (?:<DFUT>|<DALFUT>)", "neg"),
    Rule(
        _HO,
        "high",
        r"(?:uska|uski|unka|iska|sabka|<W> ka|<W> ki) (?:khon|khun|katal|qatal|qatl|katl|murder|hatya) (?:kar|kr) <DFUT>",
        "neg",
    ),
    Rule(
        _HO,
        "high",
        rf"(?:{_KO} |main |mai )?(?:chaku|knife|goli|bulet|talwar|churi|chhuri) (?:mar|ghop|ghusa|chala) (?:<DFUT>|<DALFUT>)",
        "neg",
    ),
    Rule(_HO, "high", rf"{_KO} (?:zeher|zehar|jahar|poison) (?:de|dedu) ?(?:<DFUT>)", "neg"),
    Rule(
        _HO,
        "medium",
        rf"<MAN> <KARTA> (?:hai |h |he )?(?:ki )?(?:main |mai )?{_KO} (?:jan se )?(?:mar|<KHATAM> kar|<KHATAM> kr) "
        r"(?:du|dun|dalu|dalun|don)"
        rf"|{_KO} (?:jan se )?(?:marna|mar dalna|mar dena) (?:<CHAH>|hai)",
        "neg",
    ),
    # -- added after probing with unseen phrasings --------------------------------------------
    Rule(
        _SUI,
        "high",
        r"how (?:many|much) <G3>(?:pils|tablets|paracetamol|painkilers|meds|sleping pils|insulin|poison) "
        r"<G5>(?:to die|to kil|kil (?:me|a person|someone)|to overdose|is lethal|lethal|to end|to not wake up|"
        r"would kil)|(?:painles|easiest|easy|quickest|fastest|best|quick|sure|surest|simplest) (?:way|method|"
        r"ways|methods) to (?:die|kil <MYSELF>|end (?:it|my life)|commit <SUI>|<SUI>|hang <MYSELF>)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:rope|nose|belt|dupata|chuni|scarf|cord) (?:is )?(?:around|round|on) my neck",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"want (?:it all|everything|my life|al of this|it al|life|this life|the pain|it forever) (?:al )?"
        r"(?:to|2) (?:end|stop|be over)",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:nobody|no ?one|no body) (?:cares|would care|wil care|gives a <W>) (?:if|whether) i (?:live or "
        r"die|die|am dead|m dead|exist|disappear)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:beter of|hapier|beter) if i (?:just |simply )?(?:disappeared|was gone|were gone|died|was dead|"
        r"were dead|never existed)",
    ),
    Rule(_HO, "medium", rf"(?:want|wana|wish|need) (?:to se )?{_PERSON} dead"),
    Rule(
        _SUI,
        "medium",
        r"(?:mujhe|main|mai|muje) (?:toh |to |bas )?mar (?:jana|hi jana) (?:chahiye|chaiye|chahie)"
        r"|(?:zinda|jinda) <NAHI> (?:rehna|rahna|rhna)(?: <CHAH>| hai| h|<EOC>)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:zinda|jinda) <NAHI> (?:rahunga|rahungi|rhunga|rhungi|rahuga|rahugi|bachunga|bachungi)"
        r"|<ZINDAGI> (?:ka|ki) (?:akhri|akhiri|last|antim) (?:din|raat|rat)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:latakne|k[ou]dne|jump karne|marne|<SUI> karne|phansi lagane|fansi lagane|zeher khane|"
        r"nas katne) (?:ka|ki|ke) (?:plan|irada|tayari|taiyari)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:latakne|k[ou]dne|jump karne|phansi lagane|fansi lagane|zeher khane|nas katne) (?:ka|ki|ke) "
        r"(?:soch|<MAN>|khayal|khyal|vichar)",
        "neg",
    ),
    Rule(
        _HO,
        "high",
        rf"{_KO} (?:main |mai |me )?(?:jan se )?<KHATAM> (?:kar|kr) (?:<DFUT>|<DALFUT>)",
        "neg",
    ),
    Rule(_HO, "high", r"(?:uski|unki|iski|<W> ki) jan (?:le|lelu) ?<LFUT>", "neg"),
    # -- second round: structure instead of phrases -------------------------------------------
    Rule(
        _SUI,
        "medium",
        r"(?:dont|do not|cant|can not|cannot) (?:se|imagine|picture) <MYSELF> (?:being |staying |still )?"
        r"(?:alive|here|around)(?! (?:in|at|with|as|for (?:the|this|that|a))\b)|(?:dont|do not|cant|can not|"
        r"cannot) (?:se|imagine|picture) <MYSELF> living (?:past|beyond|much longer|another|through|to se)"
        r"|(?:dont|do not) think (?:il|i wil|im going to|i ll) (?:be|make it|still be) (?:alive (?:next|in|by|"
        r"much|for|after|til|until)|around much longer|here much longer|here for long)",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:easier|beter|hapier|simpler|fine|ok|okay|lighter|peaceful|god) <G3>if i (?:just |simply )?"
        r"(?:wasnt|werent|was not|were not|wasn t) (?:here|around|alive|there|in it|in their lives)"
        r"(?: anymore| any more| at al)?(?:<EOC>| in it| in their lives| for them| to (?:bother|burden))",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:im|i am|i m) <ADV>(?:ending (?:it all|everything|my life|this life|it(?! (?:with|between|for|"
        r"at|early|here|of|on)\b))|taking my (?:own )?life|overdosing|jumping (?:of|from) <G2>(?:bridge|"
        r"building|rof|terace|balcony|clif))",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:sleep|fal asleep|go to sleep|close my eyes|sleep tonight) (?:and|n) (?:never|not|dont|wont) "
        r"(?:wake up|open them again|wake)",
    ),
    Rule(
        _SH,
        "high",
        r"(?:holding|siting (?:here |there )?with|staring at|looking at) (?:a |the |my |this )?"
        r"(?:razor|blade|razor blade|blades)(?! (?:for|to (?:shave|cut (?:the|this|paper|fabric|cloth))|of)\b)",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:holding|siting (?:here |there )?with|staring at|looking at) (?:a |the |my |al the |these )?"
        r"(?:pils|sleping pils|rope|nose|gun|pistol|poison)",
    ),
    Rule(_SUI, "medium", r"(?:id|i would|i d) rather be dead(?! than)"),
    # Hinglish: verb first, "X karne wala hoon", "... ka plan/irada", euphemisms, pills + "sab"
    Rule(
        _SUI,
        "high",
        r"(?:kha|pi) <LFUT> (?:zeher|zehar|jahar|poison)|laga <LFUT> (?:phansi|fansi|fanda)|(?:kar|kr) "
        r"<LFUT> <SUI>|k[ou]d <JFUT> (?:chat|building|bridge|pul|balcony|train)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"de <DFUT> (?:apni )?jan(?! (?:tere|tera|teri|tumhare|tumhre|tumhari|apke|aapke|uske|unke|iske|desh|watan|tujh|tum|dost|bhai|pyar|ishq|mohabat|family|ghar)\b)",
        "neg",
        r"liye|lie|liy",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:nas|nase|kalai|wrist) (?:katne|cut karne) (?:wala|wali|vala|vali|ja raha|ja rahi|ja rha|ja rhi)"
        r"|(?:phansi lagane|fansi lagane|latakne|k[ou]dne|zeher khane|jump karne|marne|jan dene|<KHUD> "
        r"<KHATAM> karne) (?:wala|wali|vala|vali|ja raha|ja rahi|ja rha|ja rhi)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:<KHUD> <KHATAM> karne|<ZINDAGI> <KHATAM> karne|apni jan lene|jan dene|<SUI> karne|marne) "
        r"(?:ka|ki|ke) (?:plan|irada|faisla|decision|tayari|taiyari)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:<KHATAM>|<KHATAM> kar|<KHATAM> kr) (?:<DFUT>|<LFUT>) ?,? ?<KHUD> bhi",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:sari|ek sath|bahut sari|sari ki sari|dher sari|puri strip|pura pata)(?![^.?]*(?:time pe|time par|samay pe|samay par|on time|doctor ne|prescribed|समय पर|टाइम पर|टाइम पे|डॉक्टर ने)) <GC6>(?:pils|"
        r"tablets|goli|goliya|goliyan) <GC6>(?:kha|nigal) (?:<LFUT>|li|liya|lin)"
        r"|(?:sab|sare|al) <GC6>(?:pils|tablets|goli|goliya|goliyan|dawai|dawaiyan|medicine|meds) <GC6>"
        r"(?:kha|nigal) <LFUT>"
        r"|(?:pils|tablets|goli|goliya|goliyan|dawai|dawaiyan|medicine|meds) <GC6>(?:kha|nigal) <LFUT> <G3>"
        r"(?:sab|sari|puri|pori|ek sath|sare)"
        r"|(?:pils|tablets|goli|goliya|goliyan|dawai|dawaiyan|medicine|meds) <GC6>(?:sab|sari|puri|pori|"
        r"ek sath|sare) (?:<W> )?(?:kha|nigal) <LFUT>",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"mar (?:jana|hi jana) (?:hi )?(?:behtar|beter|acha|thik|theek|sahi) (?:hai|h|he|hoga)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:is )?duniya (?:se|ko) (?:chala jana|chali jana|chale jana|jana|chod(?:na|dena)|alvida kehna) "
        r"<CHAH>",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"duniya chod (?:<DFUT>|<JFUT>)|duniya se chal[ae] (?:<JFUT>)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:main|mai|me) <G3>(?:ek )?(?:bojh|boj|bhoj|burden) (?:<HU>|ban gaya|ban gayi|ban chuka|"
        r"ban chuki)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:hath|kalai|wrist|arm|arms|bazu|pair|thigh|jangh|skin) (?:pe|par|per) (?:blade|razor|chaku|knife) "
        r"(?:chala|chalati|chalata|mar|marti|marta|pher|pherti|pherta)|(?:blade|razor) (?:chala|chalati|"
        r"chalata) (?:<HU>|leti|leta|deti|deta)",
        "neg",
    ),
    # -- third round: held-out v1 was spent on these, see tests/signal_phrases.py ---------------
    Rule(
        _SUI,
        "high",
        r"(?:on|at|from) (?:the |a |my |our )?(?:rof|rooftop|terace|bridge|ledge|balcony|building|clif|"
        r"tower|flyover)[^.?]*(?:going <TO>|gonna|wil|il|about <TO>|ready <TO>) (?:just )?jump",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:cut|burned|burnt|burn|scratched|carved|hurt|harmed|slashed) (?:<MYSELF>|my (?:arms?|wrists?|"
        r"thighs?|legs?|skin)) <G5>again(?![^.?,]*(?:stove|coking|iron|kitchen|tawa|oven|pan|acident|"
        r"by mistake|footbal|cricket|gym|shaving))",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:imagin\S*|picturing|planing|plan|thinking about|dream\S* (?:about|of)|fantasi[sz]\S* about) "
        r"my (?:own )?(?:funeral|death|suicide)",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:pankhe|pankha|fan|chat|hook|kunde|ceiling) (?:se|pe|par|mein|me) (?:dupata|rasi|fanda|chuni|"
        r"saree|sari|rope|chadar) (?:bandh|bandha|laga|latka) (?:liya|li|diya|di|dia)"
        r"|(?:rasi|rope|fanda) (?:le ayi|le aya|kharid li|kharid liya|khareed li|khareed liya|tayar hai)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:mere|mera) (?:bina|jane ke bad|marne ke bad|na rehne se|na hone se) (?:sab|sabhi|sab log|ghar wale|"
        r"gharwale|family|mumy papa|duniya|everyone) (?:<W> )?(?:khush|khus|beter|behtar|acha|thik|theek|sahi|"
        r"aram se|sukun se) (?:rahenge|rhenge|honge|hoge|rahega|hoga|rahegi|hogi)",
        "neg",
    ),
    Rule(
        _HO,
        "high",
        rf"{_KO} (?:jan se )?mar (?:ke|kar|kr) (?:rahunga|rahungi|rhunga|rhungi|dam lunga|dam lungi|chodunga|"
        r"chodungi)",
        "neg",
    ),
    Rule(
        _HO,
        "medium",
        rf"<MAN> <KARTA> (?:hai |h |he )?(?:ki )?(?:main |mai )?(?:{_KO} |<W> )?(?:<W> )?(?:goli|chaku|"
        r"knife|bulet) (?:mar|ghop|chala) (?:du|dun|don)"
        r"|<MAN> <KARTA> (?:hai |h |he )?(?:ki )?(?:main |mai )?<G3>(?:khon|khun|katal|qatal|qatl|katl|"
        r"murder|hatya) (?:kar|kr) (?:du|dun|don|dalu|dalun)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"<MAN> <KARTA> (?:hai |h |he )?(?:ki )?(?:main |mai )?<KHUD> (?:hurt|cut|harm|chot|nuksan|takleef|"
        r"taklif|dard|saza|saja) ?(?:karu|karun|kar du|kar lu|kar dun|kar lun|pahuchau|pahunchau|pahuchaun|"
        r"pahunchaun|du|dun)",
        "neg",
    ),
    # -- fourth round: idioms of wishing for death, euphemisms, threats ----------------------
    Rule(
        _SUI,
        "medium",
        r"(?:stoped|stop|could stop|just stoped) existing|(?:beter of|hapier) (?:not existing|not alive|"
        r"not being (?:here|alive)|gone|six fet under)|(?:part|a part|something) (?:of|in) me (?:wants|"
        r"realy wants|just wants) <TO> (?:die|end it|disappear forever)|(?:cant|can not) wait <TO> die"
        r"(?! (?:laughing|of|from|with)\b)",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:how to|how do (?:i|you)|ways to|best way to) (?:tie|make) a nose|(?:botle|strip|packet|handful) "
        r"of (?:<PILLS>) (?:is |are )?(?:in my hand|in front of me|next to me|right here)|(?:<PILLS>) "
        r"(?:are |is )?(?:in my hand|in front of me)",
    ),
    Rule(
        _HO,
        "high",
        r"(?:wil|il|going <TO>|gonna) (?:break|snap) (?:his|her|their|that guys|his fucking) (?:legs|arms|"
        r"neck|bones|skul|head|face)",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:dont|do not|cant|can not|cannot) trust <MYSELF> (?:not <TO>|to not|around) (?:<ADV>)"
        r"(?:hurt|harm|cut|burn) <MYSELF>",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:dont|do not|cant|can not|cannot) trust <MYSELF> (?:not <TO>|to not|around) (?:<ADV>)"
        r"(?:kil <MYSELF>|end (?:it|my life)|jump)",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:mujhe|muje|bas) maut (?:chahiye|chaiye|de de|dede)|maut (?:a|aa) (?:jaye|jae|jati|jata)|maut (?:kyu|kyun|kiu) (?:nahi|nhi|ni) (?:ati|aati)|bhagwan mujhe "
        r"(?:utha le|utha lo|bula le|bula lo|maut de)|(?:upar wala|upar vala) mujhe (?:utha|bula) le",
        "neg",
        r"se|ke|kar",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:apne (?:sath|ap ke sath)|khud ke sath|<KHUD>) (?:<W> )?kuch (?:ulta sidha |galat )?(?:kar|kr) "
        r"(?:<LFUT>|baithunga|baithungi)|kuch (?:ulta sidha |galat )?(?:kar|kr) (?:<LFUT>|baithunga|"
        r"baithungi) (?:apne (?:sath|ap ke sath)|khud ke sath)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:zeher|zehar|jahar|poison|rat poison) (?:la|le a|lake|le ke|la ke) (?:rakha|rakhi|rakhe|aya|ayi)"
        r"|(?:zeher|zehar|jahar|poison|rat poison) (?:kharid|khareed) (?:liya|li|lia)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"<MAN> <KARTA> (?:hai |h |he )?(?:ki )?(?:main |mai )?<KHUD> (?:mar|<KHATAM> kar|<KHATAM> kr) "
        r"(?:du|dun|dalu|dalun|lu|lun)",
        "neg",
    ),
    Rule(
        _HO,
        "high",
        rf"(?:{_KO} |uske |unke |iske |<W> ke )?(?:zinda|jinda) <NAHI> (?:chodunga|chodungi|chorunga|"
        r"chorungi)|(?:uske|unke|iske|<W> ke) (?:hath pair|hath per|tang|tangen|hadiyan|hadi pasli|sar) "
        r"(?:tod|phod|fod) (?:<DFUT>|<DALFUT>)",
        "neg",
    ),
    # -- fifth round: held-out v2 was spent on these, see tests/signal_phrases.py ---------------
    # feelings and desire forms: "feel like dying", "if only I could just die"
    Rule(
        _SUI,
        "medium",
        r"(?:fel|feling|felt) like (?:im |i m |i am )?dying(?! (?:my|your|his|her|their|the|it|them|hair|"
        r"clothes|of|from|laughing|to (?:se|try|know|get|go|met|eat|hear|watch)|for|inside (?:laughing))\b)"
        r"|if only i (?:could|would|were|was) <ADV>(?:die|be dead|disappear|not wake up|never wake up|"
        r"stop existing|not exist)(?! (?:into|in|for|to|from|under|behind)\b)",
    ),
    # a method or plan in the first person: a car into a wall, every pill, notes for after
    Rule(
        _SUI,
        "high",
        r"(?:<INTH>|<INTM>) <ADV>(?:drive|driving|crash|crashing|steer|swerve|ram|raming) (?:my|the|this) "
        r"(?:car|bike|scoter|truck|motorbike|motorcycle) (?:straight )?(?:into|of|of a|of the|under) "
        r"(?:a |the |an |some )?(?:wal|tre|truck|pole|divider|river|lake|canal|clif|bridge|oncoming|traffic|"
        r"train|bus|lorry)"
        r"|(?:<INTH>|<INTM>) <ADV>(?:take|swalow|down|eat|pop|have) (?:every|each) (?:single |last )?"
        r"(?:pil|tablet|<PILLS>) (?:in|i have|i ve|ive|we have|left|at home|in the house|from)"
        r"|(?:leters?|notes?|messages?|videos?|emails?|voice notes?|a leter|a note|a video) (?:to|for) "
        r"<G3>(?:for )?(?:when|after|once) (?:i m|im|i am|i) (?:gone|dead|die|no longer (?:here|around|"
        r"alive))(?! (?:on|for|to|abroad|away|out|from)\b)",
    ),
    # self-harm: carving or cutting something into the body
    Rule(
        _SH,
        "high",
        r"<INTH> <ADV>(?:carve|cut|scratch|burn|etch|slice) <G3>(?:into|in|on|across) my (?:arms?|wrists?|"
        r"thighs?|legs?|skin|stomach|chest|hands?)",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:<INTM> <ADV>(?:carve|cut|scratch|burn|etch|slice)|(?:carved|etched|sliced|scratched)) <G3>"
        r"(?:into|in|across) my (?:arms?|wrists?|thighs?|legs?|skin|stomach|chest|hands?)",
    ),
    # harm to others: beating a partner, child or relative; "hurt him badly"
    Rule(
        _HO,
        "high",
        r"<INTH> <ADV>(?:beat|thrash|slap|punch|kick|smack|bash|hit) (?:my|his|her|that|the|our) (?:own )?"
        r"(?:wife|husband|hubby|kid|kids|son|daughter|child|children|baby|girlfriend|gf|boyfriend|bf|mom|"
        r"mum|mother|dad|father|brother|sister|ex|neighbou?r|roommate|flatmate|partner|maid|student|"
        r"students)(?! (?:at|in|to (?:it|the|a)|by|on|over|for|again at|back|with a (?:pilow|snowbal|"
        r"balon|water))\b)|<INTH> <ADV>(?:beat|thrash|hurt|harm|hit|bash) (?:him|her|them|em) (?:so )?"
        r"(?:badly|bad|til|until|so hard|bloody|within an inch)",
    ),
    Rule(
        _HO,
        "medium",
        r"<INTM> <ADV>(?:beat|thrash|slap|punch|kick|smack|bash) (?:my|his|her|that|the|our) (?:own )?"
        r"(?:wife|husband|hubby|kid|kids|son|daughter|child|children|baby|girlfriend|gf|boyfriend|bf|mom|"
        r"mum|mother|dad|father|brother|sister|ex|neighbou?r|roommate|flatmate|partner)(?! (?:at|in|to "
        r"(?:it|the|a)|by|on|over|for|again at|back|with a (?:pilow|snowbal|balon|water))\b)",
    ),
    # Hinglish: "nahi jeena chahta" (but not "aise nahi jeena chahta": a wish for change)
    Rule(
        _SUI,
        "medium",
        r"<NAHI> (?:jena|jina) <CHAH>",
        "full",
        r"aise|aisi|ese|esi|waise|tarah|bina|sath|jaisa|jaisi",
    ),
    Rule(
        _SUI,
        "medium",
        r"<INTENS><MAN> <KARTA> (?:hai |h |he )?(?:<INTENS>)(?:marne|mar jane|<SUI> karne|<KHUD> <KHATAM> "
        r"karne|jan dene) (?:ka|ki)"
        r"|chal[ae] (?:jana|jane) <CHAH> (?:<HU> )?(?:is )?duniya (?:se|ko chod)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:main|mai|me) (?:<NAHI>|na) (?:rahunga|rahungi|rhunga|rhungi|rahu|rahun|rhu) (?:to )?(?:sab|sabko|"
        r"sab ko|ghar walo ko|gharwalo ko|family ko|sabki) <G2>(?:aram|sukun|chain|khush|khushi|beter|behtar)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:hath|kalai|wrist|arm|bazu|pair|thigh|jangh|skin) (?:pe|par|per|mein|me) <G2>(?:cut|cuts|kat|"
        r"kate|nishan) (?:lagati|lagata|lagaye|lagayi|marti|marta|banati|banata|deti|deta)"
        r"|(?:sar|sir) (?:dewar|diwar|zamin|farsh|darwaze) (?:pe|par|per|se|mein) (?:patakti|patakta|"
        r"patak (?:deti|deta|leti|leta)) (?:<HU>|rehti|rehta)",
        "neg",
    ),
    Rule(
        _HO,
        "high",
        rf"{_KO} <G2>(?:chaku|knife|churi|chhuri|talwar|goli) (?:ghop|ghusa|mar|chala|bhonk|bhok) (?:<DFUT>|"
        r"<DALFUT>)",
        "neg",
    ),
)

DEVANAGARI_RULES: tuple[Rule, ...] = (
    # -- suicide, intent / plan / act --------------------------------------------------------
    Rule(_SUI, "high", r"(?:आत्महत्या|खुदकुशी|सुसाइड|suicide) कर (?:लूंगा|लूंगी|रहा हूं|रही हूं)", "neg"),
    Rule(
        _SUI, "high", r"(?:खुद|अपने आप) को (?:खत्म|मार) (?:कर )?(?:लूंगा|लूंगी|दूंगा|दूंगी|डालूंगा|डालूंगी)", "neg"
    ),
    Rule(
        _SUI,
        "high",
        r"(?:अपनी )?(?:जान|ज़िंदगी) (?:दे|ले|खत्म कर) (?:दूंगा|दूंगी|लूंगा|लूंगी)(?! (?:तेरे|तुम्हारे|आपके|उसके|देश|तुझ|तुम))",
        "neg",
        "लिए",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:फांसी|फंदा) (?:लगा|लगाकर|लगा के) (?:लूंगा|लूंगी)|(?:पंखे|छत|फंदे|पेड़) से लटक (?:जाऊंगा|जाऊंगी)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:छत|बिल्डिंग|पुल|ब्रिज|बालकनी|इमारत|खिड़की|टेरेस|मंज़िल) (?:से|पर से|के ऊपर से) (?:कूद|छलांग लगा) "
        r"(?:जाऊंगा|जाऊंगी|दूंगा|दूंगी|लूंगा|लूंगी)"
        r"|(?:ट्रेन|रेल|गाड़ी|ट्रक|बस|मेट्रो) के (?:आगे|सामने|नीचे) (?:कूद|आ|लेट) (?:जाऊंगा|जाऊंगी)",
        "neg",
    ),
    Rule(_SUI, "high", r"(?:ज़हर|विष) (?:खा|पी) (?:लूंगा|लूंगी)", "neg"),
    Rule(
        _SUI,
        "high",
        r"(?:गोलियां|गोलियों|दवाइयां|टैबलेट) (?:जमा|इकट्ठी|इकट्ठा|इकट्ठे|स्टोर) (?:कर )?(?:ली|लीं|लिया|रखी|रखीं)"
        r"|(?:सारी|पूरी|बहुत सारी|ढेर सारी|एक साथ)(?![^.?]*(?:time pe|time par|samay pe|samay par|on time|doctor ne|prescribed|समय पर|टाइम पर|टाइम पे|डॉक्टर ने)) (?:नींद की )?(?:गोलियां|टैबलेट)(?: एक साथ)? "
        r"खा (?:ली|लीं|लिया|लूंगा|लूंगी)|(?:सब|सारी)(?![^.?]*(?:time pe|time par|samay pe|samay par|on time|doctor ne|prescribed|समय पर|टाइम पर|टाइम पे|डॉक्टर ने)) (?:नींद की )?(?:गोलियां|दवाइयां|दवाई|टैबलेट)"
        r"(?: एक साथ)? खा (?:लूंगा|लूंगी)|(?:बहुत सारी|ढेर सारी|एक साथ)(?![^.?]*(?:time pe|time par|samay pe|samay par|on time|doctor ne|prescribed|समय पर|टाइम पर|टाइम पे|डॉक्टर ने)) (?:दवाइयां|दवाई)(?: एक साथ)? "
        r"खा (?:ली|लीं|लिया|लूंगा|लूंगी)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:अपनी )?(?:नस|नसें|कलाई) काट (?:लूंगा|लूंगी|दूंगा|दूंगी)|नस काट (?:ली|लिया|लीं)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:सबको|सब को) अलविदा|अलविदा (?:दुनिया|सबको)|सुसाइड नोट|मरने (?:जा रहा|जा रही) हूं",
        "neg",
    ),
    # -- suicide, ideation ---------------------------------------------------------------------
    Rule(
        _SUI,
        "medium",
        r"(?:मरना|मर जाना|जान देना|आत्महत्या करना|खुदकुशी करना|सुसाइड करना|(?:खुद|अपने आप) को खत्म करना|"
        r"(?:अपनी )?(?:ज़िंदगी|जान) खत्म करना|अपनी जान लेना) चाहत(?:ा|ी)(?: हूं|<EOC>)",
        "neg",
        "को|जान से",
    ),
    Rule(_SUI, "medium", r"मुझे (?:बस |अब )?(?:मरना|मर जाना) (?:है|हे)", "neg"),
    Rule(
        _SUI,
        "medium",
        r"जीना नहीं(?: है| चाहत(?:ा|ी)|<EOC>)|(?:और|अब) नहीं जी (?:सकता|सकती|पाऊंगा|पाऊंगी|पा रहा|पा रही)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:जीने|ज़िंदा रहने) (?:का|की|में) (?:कोई |भी |अब )?(?:मन|दिल|मतलब|वजह|इच्छा|चाह|उम्मीद|फायदा|मकसद) (?:<W> )?(?:नहीं|ना)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"काश (?:मैं )?(?:कभी )?(?:मर (?:जाऊं|जाता|जाती)|पैदा (?:ही )?(?:न|ना|नहीं) (?:होता|होती|हुआ|हुई)(?: होता| होती)?)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"मेरे (?:मरने|जाने|ना रहने|न रहने) से (?:किसी को|किसीको) (?:भी )?(?:कोई )?(?:फर्क|फरक) नहीं",
        "neg",
    ),
    Rule(_SUI, "medium", r"सो जाऊं (?:और|फिर) (?:कभी|फिर) (?:न|ना|नहीं) उठूं", "neg"),
    Rule(
        _SUI,
        "medium",
        r"(?:आत्महत्या|खुदकुशी|सुसाइड|मरने) (?:के|का) (?:ख्याल|खयाल|विचार) (?:<W> )?(?:आते|आता|आ रहे|आ रहा|सताते|सताता)"
        r"|(?:आत्महत्या|खुदकुशी|सुसाइड|मरने) के बारे में (?:सोच|सोचता|सोचती)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:सबके लिए|सब के लिए|सब पर|घरवालों पर|घरवालों के लिए|परिवार पर|परिवार के लिए) (?:एक )?(?:बोझ|बोझा)"
        r"|मेरे बिना (?:सब|सभी|सब लोग|घरवाले|मेरा परिवार) (?:<W> )?(?:खुश|बेहतर)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"(?:आत्महत्या|खुदकुशी|सुसाइड) कर (?:लूं)|(?:मन|दिल|जी) (?:करता|करती|होता) (?:है )?(?:कि )?(?:मैं )?"
        r"(?:मर जाऊं|(?:खुद|अपने आप) को (?:खत्म कर|मार) (?:लूं|दूं|डालूं))",
        "neg",
    ),
    # -- self-harm -------------------------------------------------------------------------------
    Rule(
        _SH,
        "high",
        r"(?:खुद|अपने आप) को (?:काटूंगी|काटूंगा|जलाऊंगी|जलाऊंगा|चोट पहुंचाऊंगी|चोट पहुंचाऊंगा)",
        "neg",
    ),
    Rule(
        _SH,
        "high",
        r"(?:ब्लेड|चाकू|रेज़र|कांच)(?: से)? (?:<W> )?(?:हाथ|कलाई|बांह|बाजू|नस) काट (?:ली|लिया|लीं)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:खुद|अपने आप) को (?:चोट|नुकसान|तकलीफ|दर्द|सज़ा) (?:पहुंचाना|पहुंचाने|देना|देने|पहुंचाती|पहुंचाता|देती|देता|दे)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:खुद|अपने आप) को (?:काटती|काटता|मारती|मारता|जलाती|जलाता|नोचती|नोचता) (?:हूं|हूं)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:ब्लेड|चाकू|रेज़र|कांच|कम्पास)(?: से)? (?:<W> )?(?:हाथ|कलाई|बांह|बाजू|पैर|जांघ) (?:काट|काटने|काटती|काटता)",
        "neg",
    ),
    # -- harm to others ----------------------------------------------------------------------
    Rule(_HO, "high", rf"{_KO_D} (?:मैं )?(?:जान से )?(?:मार|खत्म कर) (?:दूंगा|दूंगी|डालूंगा|डालूंगी)", "neg"),
    Rule(_HO, "high", r"जान से मार (?:दूंगा|दूंगी|डालूंगा|डालूंगी)", "neg"),
    Rule(
        _HO,
        "high",
        r"(?:उसका|उसकी|उनका|इसका|<W> का|<W> की) (?:खून|कत्ल|मर्डर|हत्या) कर (?:दूंगा|दूंगी|डालूंगा|डालूंगी)",
        "neg",
    ),
    Rule(_HO, "high", rf"{_KO_D} (?:ज़हर|चाकू|गोली) (?:दे|मार|घोंप) (?:दूंगा|दूंगी)", "neg"),
    Rule(
        _HO,
        "medium",
        rf"(?:मन|दिल|जी) (?:करता|करती|होता) (?:है )?(?:कि )?(?:मैं )?{_KO_D} (?:जान से )?मार (?:दूं|डालूं)",
        "neg",
    ),
    # -- added after probing with unseen phrasings --------------------------------------------
    Rule(
        _SUI,
        "medium",
        r"(?:मुझे|मैं) (?:तो |बस )?मर (?:जाना|ही जाना) चाहिए|(?:ज़िंदा|जिंदा) नहीं रहना (?:चाहता|चाहती|है)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:ज़िंदा|जिंदा) नहीं (?:रहूंगा|रहूंगी|बचूंगा|बचूंगी)|(?:ज़िंदगी|जिंदगी) का (?:आखिरी|अंतिम) (?:दिन|रात)",
        "neg",
    ),
    Rule(_HO, "high", r"(?:उसकी|उनकी|इसकी|<W> की) जान (?:ले) (?:लूंगा|लूंगी)", "neg"),
    # -- second round: structure instead of phrases -------------------------------------------
    Rule(
        _SUI,
        "medium",
        r"(?:आत्महत्या|खुदकुशी|सुसाइड|मरने|मर जाने|जान देने|खुद को खत्म) (?:करने )?(?:का|को) <INTENS>(?:मन|दिल|जी) "
        r"(?:करता|करती|होता|कर रहा|कर रही)|मर जाना (?:ही )?(?:बेहतर|अच्छा|ठीक|सही) (?:है|होगा)"
        r"|(?:इस )?दुनिया (?:से|को) (?:चला जाना|चली जाना|जाना|छोड़ना|छोड़ देना|अलविदा कहना) चाहत(?:ा|ी)"
        r"|(?:मैं) <G3>(?:एक )?(?:बोझ) (?:हूं|बन गया|बन गई|बन चुका|बन चुकी)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:आत्महत्या|खुदकुशी|सुसाइड) करने (?:वाला|वाली|जा रहा|जा रही)|(?:नस|कलाई) काटने (?:वाला|वाली|जा रहा|जा रही)"
        r"|(?:फांसी लगाने|लटकने|कूदने|ज़हर खाने|मरने|खुद को खत्म करने|आत्महत्या करने|जान देने) (?:का|की) "
        r"(?:प्लान|इरादा|फैसला|तैयारी)|(?:कर) (?:लूंगा|लूंगी) (?:आत्महत्या|खुदकुशी|सुसाइड)|खा (?:लूंगा|लूंगी) "
        r"(?:ज़हर|जहर)|लगा (?:लूंगा|लूंगी) (?:फांसी|फंदा)|दुनिया छोड़ (?:दूंगा|दूंगी|जाऊंगा|जाऊंगी)",
        "neg",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:गोलियां|गोलियों|गोली|दवाइयां|दवाई|टैबलेट|पिल्स) <GC6>(?:सब|सारी|पूरी|एक साथ) (?:<W> )?खा "
        r"(?:लूंगा|लूंगी)|(?:सारी|एक साथ|बहुत सारी|ढेर सारी)(?![^.?]*(?:time pe|time par|samay pe|samay par|on time|doctor ne|prescribed|समय पर|टाइम पर|टाइम पे|डॉक्टर ने)) <GC6>(?:गोलियां|गोलियों|गोली|टैबलेट) "
        r"<GC6>खा (?:लूंगा|लूंगी|ली|लीं|लिया)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:हाथ|कलाई|बांह|बाजू|पैर|जांघ) (?:पर|पे) (?:ब्लेड|चाकू|रेज़र) (?:चलाती|चलाता|चला|मारती|मारता|फेरती|फेरता)"
        r"|(?:ब्लेड|रेज़र) (?:चलाती|चलाता) (?:हूं)",
        "neg",
    ),
    # -- third round: held-out v1 was spent on these, see tests/signal_phrases.py ---------------
    Rule(
        _SUI,
        "high",
        r"(?:ज़हर|जहर|फांसी|फंदा) (?:खाने|लगाने|पीने) (?:वाला|वाली|जा रहा|जा रही)"
        r"|(?:लटकने|कूदने|मरने|जान देने|खुद को खत्म करने) (?:वाला|वाली|जा रहा|जा रही)"
        r"|(?:पंखे|छत|हुक|कुंडे) (?:से|पर|में) (?:दुपट्टा|रस्सी|फंदा|चुन्नी|साड़ी|चादर) (?:बांध|लगा|लटका) "
        r"(?:लिया|ली|दिया|दी)|(?:रस्सी|फंदा) (?:ले आया|ले आई|खरीद ली|खरीद लिया|तैयार है)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"मेरे (?:बिना|जाने के बाद|मरने के बाद|न रहने से|ना रहने से) (?:सब|सभी|सब लोग|घरवाले|मेरा परिवार) (?:<W> )?"
        r"(?:खुश|बेहतर|ठीक|आराम से|सुकून से) (?:रहेंगे|होंगे|रहेगा|होगा)",
        "neg",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:खुद|अपने आप) को <G2>(?:काटती|काटता|मारती|मारता|जलाती|जलाता|नोचती|नोचता) (?:हूं|रहती|रहता)"
        r"|(?:मन|दिल|जी) (?:करता|करती|होता) (?:है )?(?:कि )?(?:मैं )?(?:खुद|अपने आप) को (?:चोट|नुकसान|तकलीफ|"
        r"दर्द) (?:पहुंचाऊं|दूं)|(?:मन|दिल|जी) (?:करता|करती|होता) (?:है )?(?:कि )?(?:मैं )?(?:खुद|अपने आप) को "
        r"(?:काट|जला|मार) (?:लूं|दूं)",
        "neg",
    ),
    Rule(
        _HO,
        "medium",
        r"(?:मन|दिल|जी) (?:करता|करती|होता) (?:है )?(?:कि )?(?:मैं )?<G3>(?:खून|कत्ल|हत्या|मर्डर) कर (?:दूं|डालूं)"
        r"|(?:मन|दिल|जी) (?:करता|करती|होता) (?:है )?(?:कि )?(?:मैं )?<G3>(?:गोली|चाकू) (?:मार|घोंप) (?:दूं|डालूं)",
        "neg",
    ),
    # -- fourth round: idioms of wishing for death, euphemisms, threats ----------------------
    Rule(
        _SUI,
        "medium",
        r"(?:मुझे|बस) मौत (?:चाहिए|दे दे)|मौत (?:आ) (?:जाए|जाती|जाये)|मौत क्यों नहीं आती|भगवान मुझे "
        r"(?:उठा ले|उठा लो|बुला ले|बुला लो|मौत दे)|(?:आत्महत्या|खुदकुशी|सुसाइड|मरने) (?:करने )?(?:का|के बारे में) "
        r"(?:सोच|सोचती|सोचता)",
        "neg",
        "से|के|कर",
    ),
    Rule(
        _SUI,
        "high",
        r"(?:अपने साथ|खुद के साथ|अपने आप के साथ) कुछ (?:उल्टा सीधा |गलत )?कर (?:लूंगा|लूंगी|बैठूंगा|बैठूंगी)"
        r"|(?:ज़हर|जहर) (?:ला|लाकर|ले आया|ले आई|खरीद) (?:रखा|रखी|लिया|ली)",
        "neg",
    ),
    Rule(
        _HO,
        "high",
        r"(?:ज़िंदा|जिंदा) नहीं (?:छोड़ूंगा|छोड़ूंगी)|(?:उसके|उनके|इसके|<W> के) (?:हाथ पैर|टांगें|टांग|हड्डियां|सिर) "
        r"(?:तोड़|फोड़) (?:दूंगा|दूंगी|डालूंगा|डालूंगी)",
        "neg",
    ),
    # -- fifth round: held-out v2 was spent on these, see tests/signal_phrases.py ---------------
    Rule(
        _SUI,
        "medium",
        r"(?:(?:छत|बिल्डिंग|पुल|ब्रिज|बालकनी|इमारत|खिड़की|टेरेस|मंज़िल) (?:से|पर से|के ऊपर से)|(?:ट्रेन|रेल|मेट्रो|ट्रक) "
        r"के (?:आगे|सामने|नीचे)) (?:कूदने|छलांग लगाने) (?:की|का|के बारे में) (?:सोच|मन|ख्याल|खयाल|विचार)"
        r"|(?:लटकने|फांसी लगाने|फंदा लगाने|ज़हर खाने|नस काटने|जान देने|खुद को खत्म करने) (?:की|का|के बारे में) "
        r"(?:सोच|मन|ख्याल|खयाल|विचार)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"मैं (?:नहीं|ना|न) (?:रहूंगा|रहूंगी|रहूं) (?:तो )?(?:सब|सबको|सब को|घरवालों को|परिवार को|सबकी) <G2>"
        r"(?:आराम|सुकून|चैन|खुश|खुशी|बेहतर)"
        r"|चले (?:जाना|जाने) चाहत(?:ा|ी) (?:हूं )?(?:इस )?दुनिया (?:से|को छोड़)",
        "neg",
    ),
    Rule(
        _SUI,
        "medium",
        r"नहीं जीना चाहत(?:ा|ी)",
        "neg",
        "ऐसे|ऐसी|वैसे|तरह|बिना|साथ|जैसे",
    ),
    Rule(
        _SH,
        "medium",
        r"(?:हाथ|कलाई|बांह|बाजू|पैर|जांघ) (?:पर|पे|में) <G2>(?:कट|कट्स|निशान|घाव) (?:लगाती|लगाता|मारती|मारता|"
        r"बनाती|बनाता|देती|देता)"
        r"|(?:सिर|सर) (?:दीवार|ज़मीन|फर्श|दरवाज़े) (?:पर|पे|से|में) (?:पटकती|पटकता|पटक देती|पटक देता) (?:हूं|रहती|रहता)"
        r"|(?:खुद|अपने आप) को (?:ब्लेड|चाकू|रेज़र|कांच|सिगरेट) से (?:काट|काटती|काटता|जला|जलाती|जलाता) "
        r"(?:लेती|लेता|हूं|देती|देता)",
        "neg",
    ),
)
