"""What a request is (its Type) and whether it needs the carrier or senior judgment, by the
weight of evidence rather than the first keyword.

Each Type has word families in English and Spanish. A family counts more in the subject and
in a sentence that asks ("please add...", "¿me puede...?") than in the rest of the sender's
words; not at all when it is negated ("we have not had any claims", "no additional insured")
or when it only describes what might happen ("if a tenant's heater started a fire"); and
the quoted history under a reply is not read. Words the owner writes in the Rules tab weigh
more than any of these. A coverage question, a prospect's quote and everything else is Other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sheets_ops.model import COMPLEX, TYPE, RequestType
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.text import is_ask, negated, sentences


@dataclass(frozen=True)
class Family:
    kind: str
    weight: float
    pattern: re.Pattern[str]


def _family(kind: str, weight: float, words: str) -> Family:
    return Family(kind, weight, re.compile(rf"(?i)(?<![\w-])(?:{words})(?![\w-])"))


FAMILIES: tuple[Family, ...] = (
    # Certificates
    _family(
        "COI",
        3,
        r"certificates?\s+of\s+(?:liability\s+)?insurance|cois?|certificados?|"
        r"certificate\s+holder|titular\s+del\s+certificado|acord\s*25|comprobante\s+de\s+seguro|"
        r"proof\s+of\s+(?:insurance|coverage|renters\s+insurance)|evidence\s+of\s+(?:insurance|coverage)|"
        r"(?:prueba|constancia|evidencia)\s+de\s+(?:(?:mi|su|el|la)\s+)?(?:seguro|cobertura|aseguranza)",
    ),
    _family("COI", 2, r"certificates?|certs?|interested\s+party|proof\s+of\s+insurance"),
    # Changes to a policy
    _family("Endorsement", 3, r"endorsements?|endorse|endoso"),
    _family(
        "Endorsement",
        3,
        r"(?:add|adding|added|agregar|agregue|añadir|incluir|include)\b[^.?!\n]{0,60}?"
        r"\b(?:to|on|onto|a|en)\s+(?:the|our|my|mi|nuestra?|la|el|his|her)?\s*"
        r"(?:\w+\s+){0,3}(?:policy|policies|p[óo]liza|coverage|insurance|seguro|renters|auto)",
    ),
    _family(
        "Endorsement",
        3,
        r"(?:add|adding|remove|removing|delete|drop|replace|replacing|swap|take\s+off|"
        r"agregar|quitar|eliminar|cambiar|sacar)\s+(?:a|an|the|my|our|both|his|her|un|una|el|la|mi|"
        r"this|that|another|new|nuevo|nueva|2\d{3}|\d{4})?\s*"
        r"(?:(?:\w+|\d{4})\s+){0,4}(?:vehicles?|cars?|trucks?|vans?|trailers?|drivers?|"
        r"locations?|buildings?|propert(?:y|ies)|boats?|roommates?|items?|rings?|jewelry|units?|"
        r"tech|employees?|carro|auto|coche|camioneta|veh[íi]culo|conductor|chofer|silverado|"
        r"camry|tacoma|f-?150|location)",
    ),
    _family(
        "Endorsement",
        2,
        r"(?:change|changing|update|updating|new|cambiar|cambio\s+de|nueva)\s+(?:of\s+)?"
        r"(?:the\s+|our\s+|my\s+)?(?:mailing\s+|garaging\s+)?(?:address|direcci[óo]n|domicilio)|"
        r"(?:update|change)\s+(?:all\s+)?(?:of\s+)?(?:our|the|my)?\s*polic(?:y|ies)|"
        r"(?:driver|vehicle)\s+(?:change|addition|removal|update)s?|"
        r"(?:add|remove)\s+(?-i:[A-Z][a-z]+\s+[A-Z][a-z]+)|"
        r"mortgagee|lienholder|lien\s*holder|loss\s+payee|additional\s+insured\s+endorsement|"
        r"(?:increase|raise|raising|bump|higher|lower|aumentar|subir)\b[^.?!\n]{0,40}?"
        r"\b(?:limits?|coverage|umbrella|deductible|l[íi]mite|cobertura|to\s+\$)|"
        r"schedul(?:e|ed|ing)\b|new\s+(?:class(?:es)?\s+of|class\b|operations?\b|services\b|program\b|locations?\b)|"
        r"(?:adding|add)\s+(?:a\s+)?(?:new\s+)?(?:\w+\s+){0,3}(?:program|services?|operations?)|"
        r"policy\s+change|change\s+(?:to|on)\s+(?:the|our|my)\s+policy|payroll|"
        r"(?:increase|raise|bump\s+up|bump|aumentar|aumenten|subir|suban)\s+(?:it|them|that|ours|"
        r"la|lo|los|las)\b|"
        r"\$\s?\d[\d,.]*\s?(?:m|mm|million|k)?\s+(?:umbrella|excess|limits?|per\s+occurrence)|"
        r"(?:we|i)\s+(?:just\s+)?moved|(?:we'?re|i'?m)\s+moving\s+to|me\s+mud[ée]|nos\s+mudamos",
    ),
    _family(
        "Endorsement",
        3,
        r"(?:need|needs|want|put|get|have)\s+(?:it|that|this|them|him|her|both|one)\s+"
        r"(?:on|onto|added\s+to)\s+(?:(?:the|our|my|his|her)\s+(?:\w+\s+){0,2}(?:policy|po\w*)|"
        r"[A-Z]{2,5}[- ]?\d{4,})|"
        r"(?:actualic\w+|actualiz\w+|modific\w+|cambi(?:ar|en|e))\s+(?:\w+\s+){0,3}"
        r"(?:p[óo]liza|seguro)|"
        r"(?:change|update)\s+(?:anything|something)?\s*(?:on|to|in)\s+(?:the|our|my)\s+"
        r"(?:\w+\s+){0,2}policy|adding\b[^.?!\n]{0,60}?\b(?:program|services?|service\s+menu|"
        r"operations?|classes)\b",
    ),
    # Billing
    _family(
        "Billing",
        3,
        r"invoices?|factura|bills?|billing|billed|autopay|auto-pay|payments?|"
        r"pago|pagos|cobro|cobraron|refund|reembolso|"
        r"past\s+due|overdue|installments?|payment\s+plan|charged|charge|w-?9|premium\s+audit|"
        r"credit\s+card|card\s+on\s+file|card\s+ending|tarjeta|falta\s+de\s+pago|"
        r"non-?payment|mensualidad(?:es)?|monthly|draft",
    ),
    _family(
        "Billing",
        2,
        r"pay(?:ing)?|paid|pagar|pagu[ée]|premium|prima|(?:bill|premium|price|cost)\s+(?:went|go|goes|is\s+going)\s+up|"
        r"why\s+did\s+(?:my|our|the)\s+\w+\s+go\s+up|went\s+up|audit",
    ),
    # Claims
    _family(
        "Claim",
        3,
        r"claims?|file\s+a\s+claim|open\s+a\s+claim|reclamo|reclamaci[óo]n|siniestro|"
        r"accidents?|accidente|collision|crash(?:ed)?|choque|chocaron|rear-?ended|fender\s+bender|"
        r"hit\s+(?:me|my|us|our|the)|ran\s+the\s+red|drove\s+off|hit\s+and\s+run|"
        r"broke\s+in(?:to)?|break-?in|stolen|theft|robo|robaron|vandal\w*|"
        r"water\s+(?:damage|coming|leak)|leak(?:ing|s)?|burst|froze|frozen\s+pipe|pipe\s+(?:froze|burst)|"
        r"se\s+revent[óo]|tubo|inund\w+|flood(?:ed|ing)?|fire|smoke\s+damage|hail|granizo|"
        r"injur(?:y|ed|ies)|hurt|cut\s+(?:his|her|my)\s+hand|stitches|puntos|urgent\s+care|"
        r"urgencias|lastimad[oa]|herid[oa]|se\s+cay[óo]|fell|damaged?|daños?|da[ñn]ado|"
        r"windshield|glass|adjuster|police\s+report|reporte\s+de\s+polic[íi]a|"
        r"scraped|scratched|dented|cracked|smashed|bumped|backed\s+into",
    ),
    # Renewals
    _family(
        "Renewal",
        3,
        r"shop\s+(?:it|around|the\s+renewal|my|our|this)|remarket\w*|"
        r"(?:take|taking)\s+(?:it|the\s+\w+)\s+out\s+to\s+market|other\s+options|"
        r"(?:better|other|cheaper)\s+(?:price|quote|rate)s?|renewal\s+questionnaire|"
        r"questionnaire|conditional\s+renewal|non-?renew\w*|won'?t\s+renew|"
        r"go\s+over\s+(?:everything|the\s+renewal)|renewal\s+(?:packet|review|meeting|indication|quote)|"
        r"(?:renewal|renovaci[óo]n)\s+(?:premium|price|cost|rate|cotizaci[óo]n|precio)|"
        r"(?:premium|price|cost|rate|costar|cuesta|cu[áa]nto|precio|prima)\b[^.?!\n]{0,40}?"
        r"\b(?:renew\w*|renovaci[óo]n|renovar)|up\s+for\s+renewal",
    ),
    _family(
        "Renewal", 1, r"renewal|renew|renews|renewing|renovaci[óo]n|renovar|cotizaci[óo]n|cotizar"
    ),
    # Cancellations
    _family(
        "Cancellation",
        3,
        r"cancel(?:l?ation|ling|ing|led|ed)?|cancelar|cancele|cancelaci[óo]n|"
        r"dar\s+de\s+baja\s+la\s+p[óo]liza|close\s+(?:the|my|our)\s+policy|terminate|"
        r"don'?t\s+need\s+(?:it|the\s+policy)\s+any\s*more|ya\s+no\s+(?:la\s+)?necesito",
    ),
    # Other: a question about coverage, a prospect
    _family(
        "Other",
        3,
        r"(?:is|are|would|will|does|do)\s+(?:\w+\s+){0,5}?(?:covered|cover)\b|"
        r"(?:would|will|does|do)\s+(?:our|my|the|this)\s+(?:\w+\s+)?(?:policy|insurance|coverage)"
        r"(?:\s*\([^)]*\))?\s+(?:pay|cover)|"
        r"coverage\s+question|just\s+want\s+to\s+understand|don'?t\s+need\s+anything\s+changed|"
        r"(?:do|can)\s+you\s+(?:guys\s+)?(?:sell|offer|write|carry|insure)|"
        r"(?:venden|ofrecen|manejan)\s+seguros?|looking\s+for\s+(?:a\s+)?(?:quote|insurance)|"
        r"new\s+(?:office\s+)?contact|¿?(?:el\s+seguro\s+)?cubre",
    ),
)
_HYPOTHETICAL = re.compile(r"(?i)\b(if|what\s+if|would|in\s+case|suppose|si\s+(?!se\b))\b")
_EVENT = re.compile(
    r"(?i)\b(yesterday|last\s+night|this\s+morning|tonight|today|ayer|anoche|hoy|"
    r"happened|we\s+found|got\s+hit|hit\s+(?:me|my)|broke|burst|froze|fell|se\s+cay[óo]|"
    r"se\s+revent[óo]|came\s+in|(?:a|an|one)\s+hour\s+ago)\b"
)
_NOTICE = re.compile(
    r"(?i)\b(past\s+due|non-?payment|falta\s+de\s+pago|notice\s+of\s+cancellation|"
    r"aviso\s+de\s+cancelaci[óo]n|cancel(?:ation)?\s+notice|will\s+cancel|it'?ll\s+cancel|"
    r"la\s+cancelan|pending\s+cancellation)\b"
)
_COVERAGE_Q = re.compile(
    r"(?i)\b(?:is|are|would|will|does|do)\s+(?:\w+\s+){0,6}?(?:covered|cover)\b|"
    r"\b(?:cubre|cubrir[íi]a|est[áa]\s+cubiert[oa])\b"
)
PRIORITY = ("Claim", "Cancellation", "Endorsement", "COI", "Billing", "Renewal", "Other")
SUBJECT, ASK, SAID = 3.0, 2.0, 1.0


@dataclass(frozen=True)
class Verdict:
    kind: str
    scores: dict[str, float]
    body: dict[str, float]  # the scores without the subject's words

    @property
    def margin(self) -> float:
        """How far the winner is ahead of the next type: small means unsure."""
        ranked = [*sorted(self.scores.values(), reverse=True), 0.0, 0.0]
        return ranked[0] - ranked[1]


def _owner_rules(directory: Directory, rule: str) -> list[tuple[re.Pattern[str], str]]:
    return [(p.regex, r.result.strip()) for r in directory.owner_rules(rule) for p in r.patterns]


def owner_says(rule: str, text: str, directory: Directory) -> bool:
    """Whether a Rules-tab row the owner wrote (a Type or Complex rule) speaks to the text:
    then it decides, not what intake learned from history."""
    return any(regex.search(text) for regex, _result in _owner_rules(directory, rule))


# "I texted last night about canceling": an earlier contact, told, is not this message's ask.
_TOLD = re.compile(
    r"(?i)\b(?:i|we)\s+(?:texted|called|emailed|wrote|messaged|left\s+(?:a|you\s+a)\s+"
    r"(?:voicemail|message))\b[^.?!]{0,40}?\babout\b[^.?!,]{0,40}"
)


def _evidence(family: Family, text: str, told: list[tuple[int, int]]) -> float:
    """How much one family says in one sentence: its weight, more for each further word
    of it that is there (three billing words say more than one), nothing when negated,
    little inside the telling of an earlier contact."""
    hits = set()
    faint = 0
    for m in family.pattern.finditer(text):
        if negated(text, m.start()):
            continue
        if any(a <= m.start() < b for a, b in told):
            faint += 1
            continue
        hits.add(m.group(0).lower())
    if not hits:
        return family.weight * 0.2 if faint else 0.0
    return family.weight * (1 + 0.5 * min(len(hits) - 1, 2))


def classify(subject: str, words: str, directory: Directory, reply: bool = False) -> Verdict:
    """The request's Type, and every Type's score. The subject of a reply is the thread's,
    not this message's: it weighs like any sentence."""
    scores = dict.fromkeys(PRIORITY, 0.0)
    body = dict.fromkeys(PRIORITY, 0.0)
    places = [(subject, SAID if reply else SUBJECT, True)]
    places += [(s, ASK if is_ask(s) else SAID, False) for s in sentences(words)]
    notice = bool(_NOTICE.search(f"{subject}\n{words}"))
    claim = next(f for f in FAMILIES if f.kind == "Claim")
    # "A rock hit the windshield yesterday. Is glass covered?": asking whether a loss that
    # happened is covered is how a claim starts, not a question about coverage.
    loss = any(_EVENT.search(t) and _evidence(claim, t, []) for t, _, _ in places)
    for text, place, in_subject in places:
        event = bool(_EVENT.search(text))
        # "Would a fender bender raise our rate?", "Does our GL cover damage we cause?": a
        # question about what might happen, not a loss that did.
        hypothetical = bool(_HYPOTHETICAL.search(text) or _COVERAGE_Q.search(text)) and not event
        told = [m.span() for m in _TOLD.finditer(text)]
        for family in FAMILIES:
            weight = _evidence(family, text, told) * place
            if not weight:
                continue
            kind = family.kind
            if kind == "Claim" and hypothetical:
                continue
            if kind == "Other" and loss and _COVERAGE_Q.search(text):
                continue
            if kind == "Cancellation" and notice:  # the carrier's notice is a billing matter
                kind = "Billing"
            scores[kind] += weight
            body[kind] += 0.0 if in_subject else weight
        for regex, result in _owner_rules(directory, TYPE):
            if result in scores and regex.search(text):
                scores[result] += 10 * place
                body[result] += 0.0 if in_subject else 10 * place
    best = max(scores.values())
    if best < 2.5:
        return Verdict(RequestType.OTHER.value, scores, body)
    kind = min((t for t, s in scores.items() if s == best), key=PRIORITY.index)
    return Verdict(kind, scores, body)


_COMPLEX = {
    "COI": re.compile(
        r"(?i)\b(additional\s+insureds?|asegurados?\s+adicional(?:es)?|\bai\b|waiver\s+of\s+"
        r"subrogation|waiver|primary\s*(?:and|&|/)?\s*non-?\s*contributory|cg\s*20\s*(?:10|26|37)|"
        r"per\s+project\s+aggregate|\$\s?[2-9](?:,000,000|\s?m)\b)"
    ),
    "Endorsement": re.compile(
        r"(?i)\b(add\w*\s+(?:a\s+|the\s+|an\s+)?(?:new\s+|second\s+)?(?:\w+\s+){0,4}"
        r"(?:locations?|buildings?|propert(?:y|ies)|units?\s+building|land|acres?)|"
        r"(?:bought|buying|closing\s+on|purchas\w+)\b[^.?!\n]{0,80}?(?:building|acres?|property|land)|"
        r"\bacres?\b|"
        r"new\s+(?:class(?:es)?\s+of|class\b|operations?\b|services\b|program\b|locations?\b)|"
        r"(?:adding|add|offer\w*)\s+(?:\w+\s+){0,4}(?:program|services?|operations?|extensions?)|"
        r"service\s+menu|professional\s+liability|abuse|molestation|"
        r"(?:increase|raise|raising|bump|higher|aumentar|subir)\b[^.?!\n]{0,40}?"
        r"(?:limits?|coverage|umbrella|l[íi]mite|cobertura|\$)|"
        r"(?:increase|raise|bump|aumentar|subir)\s+(?:it|them|that|ours|la|lo)\b|"
        r"\$\s?\d[\d,.]*\s?(?:m|mm|million)\s+(?:umbrella|excess)|from\s+\$\s?\d[\d,.]*\s?[km]?\s+to\s+\$|"
        r"schedul\w+|appraised|appraisal|jewelry|diamond|ring\b|"
        r"additional\s+insured(?:\s+endorsement)?|cg\s*20\s*\d\d)"
    ),
    "Claim": re.compile(
        r"(?i)\b(injur\w*|hurt|stitches|puntos|urgent\s+care|urgencias|emergency\s+room|\ber\b|"
        r"hospital|ambulance|whiplash|broken\s+(?:arm|leg|bone)|bleeding|sangre|lastimad[oa]|"
        r"herid[oa]|cut\s+(?:his|her|my)\s+hand|tendon|concussion|bodily\s+injury|"
        r"neck|back\s+pain|medical)\b"
    ),
}


def is_complex(kind: str, subject: str, words: str, directory: Directory) -> bool:
    """Needs the carrier or senior judgment: for a certificate, additional insured, waiver
    or primary wording; for a change, coverage that changes (a location, a class of
    operations, higher limits, scheduled property); for a claim, someone hurt. Never for
    Billing, Renewal, Cancellation or Other, and never where the sender says the opposite
    ("no additional insured or anything", "nobody is hurt")."""
    owner = _owner_rules(directory, COMPLEX)
    text = f"{subject}\n{words}"
    if any(regex.search(text) for regex, _result in owner):
        return True
    pattern = _COMPLEX.get(kind)
    if pattern is None:
        return False
    for sentence in sentences(text):
        for m in pattern.finditer(sentence):
            if not negated(sentence, m.start()) and not _nothing_special(sentence):
                return True
    return False


_PLAIN = re.compile(
    r"(?i)\b(nothing\s+(?:special|else)|anything\s+(?:special|else)|just\s+(?:a|the)\s+"
    r"(?:normal|standard|regular|plain)|standard\s+certificate|did\s+not\s+ask\s+for)\b"
)


def _nothing_special(sentence: str) -> bool:
    return bool(_PLAIN.search(sentence)) and not re.search(r"(?i)\bwaiver|primary\b", sentence)
