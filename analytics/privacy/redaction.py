"""Finding the schools that must not be named in text people typed: names, short forms, URNs, LAESTABs.

People do not type a school's name as GIAS spells it. "Langham CE Primary School" turns up in minutes as
"Langham C of E Primary", "Langham Primary" or just "Langham", and a note may give its URN ("URN 990081")
or its LAESTAB ("850/2001"). Every one of those identifies the school, so every one is replaced.

How a name's short forms are made (the rule, also in ``docs/privacy.md``):

1. A name is read as words, spelt one way: "C of E", "C.E.", "CofE" and "Church of England" are one word
   ``ce``, "Saint" and "St." are ``st``, "&" is ``and``, apostrophes are dropped ("St Mary's" = "St Marys").
2. Words that say what kind of school it is (:data:`DESIGNATIONS`: Primary, School, Academy, CE, RC,
   Catholic, Church, Infant, Junior, Nursery, Community, Federation, VA, VC, High, The, ...) may be left
   out, in any combination; the other words, the school's *core* ("Langham"), are always kept, in order.
3. The core on its own ("Langham") is a short form only when it is distinctive: no other school in the
   store has the same core, and a one-word core is not a common English word (:data:`COMMON_WORDS`,
   "Hope", "Oak", "Park", ...) nor shorter than four letters. Otherwise a short form keeps at least one
   of the school's kind-words ("Hope Primary", never "hope").
4. A form that two schools share is never used for either: "St Mary's Primary", when the store holds a
   St Mary's CE Primary and a St Mary's Catholic Primary, is left as typed if either school may be named,
   and becomes "[school hidden]" if neither may. A hidden school's full name is always replaced.
5. Every form of every school, including the schools that may be named, takes part, and the longest
   form found wins: "Langham Oaks Academy" (named) stays whole rather than becoming "School K42 Oaks
   Academy" because of a hidden "Langham CE Primary". A core word used as a place ("Langham Road") is
   replaced too: a place name gives the school away as surely as its name.

Matches are whole words and ignore case. URNs are six digits (optionally "URN 990081", "URN: 990081");
a LAESTAB is seven digits, written "850/2001" or "8502001". The store keeps no establishment numbers,
so any LAESTAB whose LA part is the LA code of a hidden school is hidden (``[LAESTAB hidden]``), unless
the exact LAESTAB of each school is given.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SCHOOL_PLACEHOLDER = "[school hidden]"
LAESTAB_PLACEHOLDER = "[LAESTAB hidden]"

# Words that say what kind of school it is rather than which school it is.
_DESIGNATION_WORDS = """primary school academy ce rc catholic church infant junior nursery community federation va vc
    the and high secondary college methodist foundation free endowed aided controlled first middle
    upper all through village county voluntary trust jmi mixed special sixth form centre studio
    grammar technology learning"""
DESIGNATIONS = frozenset(_DESIGNATION_WORDS.split())
# Kind-words too weak to make a short form distinctive on their own ("The Hope" is still just "hope").
WEAK_DESIGNATIONS = frozenset({"the", "and", "all", "through", "mixed"})

# One-word cores that are everyday English (or parts of countless school names) and so never stand alone.
_COMMON_WORDS = """hope oak oaks park hill hills green wood woods field fields bridge castle grange meadow meadows
    valley abbey manor forest orchard heath brook river lake rise spring springs view vale dale cross
    gate gates lane road street way town city new old north south east west central upper lower great
    little kings queens king queen holy trinity christ saints sacred heart good shepherd star united
    victoria albert prince princess royal st saint our lady all church chapel haven harbour bay beach
    cliff hall house court farm mill mills well wells ash elm elms beech birch cedar cedars pine pines
    willow willows rose roses ivy holly laurel maple poplar rowan hawthorn thorn moor moors marsh fen
    common commons heights grove groves gardens garden place square beacon horizon pathway pathways
    compass discovery pioneer phoenix endeavour harmony unity venture oasis ark inspire aspire bright
    future futures"""
COMMON_WORDS = frozenset(_COMMON_WORDS.split())

_APOSTROPHE = "['’‘`]?"
# Between the words of a name: spaces, hyphens, brackets ("(VA)"), commas and slashes, never a new line.
_SEPARATOR = r"[ \t\u00a0\-–—(),/]+"

# Names are rewritten to one spelling before they are split into words (applied to lower-case text).
_REWRITES = (
    (re.compile(r"church\s+of\s+england"), " ce "),
    (re.compile(r"\bc\.?\s*of\s*e\b\.?"), " ce "),
    (re.compile(r"\bc\.\s*e\b\.?"), " ce "),
    (re.compile(r"\broman\s+catholic\b"), " rc "),
    (re.compile(r"\br\.\s*c\b\.?"), " rc "),
    (re.compile(r"\bvoluntary\s+aided\b"), " va "),
    (re.compile(r"\bvoluntary\s+controlled\b"), " vc "),
    (re.compile(r"\bsaint\b|\bst\b\.?"), " st "),
    (re.compile(r"&"), " and "),
    (re.compile(r"['’‘`]"), ""),
    (re.compile(r"[^\w]+"), " "),
)
_PLURALS = {"infants": "infant", "juniors": "junior"}
# How each one-spelling word may be typed.
_WORD_PATTERNS = {
    "ce": r"(?:church\s+of\s+england|c\.?\s*of\s*e\.?|c\.\s*e\.?|ce)",
    "rc": r"(?:roman\s+catholic|r\.\s*c\.?|rc)",
    "va": r"(?:voluntary\s+aided|va)",
    "vc": r"(?:voluntary\s+controlled|vc)",
    "st": r"(?:saint|st\.?)",
    "and": r"(?:and|&)",
    "infant": r"infants?",
    "junior": r"juniors?",
}
# Kind-words typed after a name but not part of it ("Langham CE (VA) Primary School" for a school stored
# as "Langham CE Primary") are taken in with it; only words that cannot be part of the sentence instead.
_TAIL_WORDS = ("primary", "school", "academy", "ce", "rc", "catholic", "church", "infant", "junior", "nursery",
               "community", "federation", "va", "vc", "high", "secondary", "college", "methodist", "foundation",
               "endowed", "aided", "controlled", "jmi", "grammar")  # fmt: skip
_TAIL_WORD = "(?:" + "|".join(_WORD_PATTERNS.get(w, w) for w in _TAIL_WORDS) + ")"
_TAIL = rf"(?:[ \t\u00a0\-–—,/]+(?:\({_TAIL_WORD}\)|{_TAIL_WORD}))*"
# A name with more kind-words than this drops only its last ones: 2**8 forms is plenty.
_MAX_DROPPABLE = 8

Form = tuple[str, ...]


def canonical_words(text: str) -> Form:
    """A name (or matched text) as words in one spelling: ``"St. Mary's C of E"`` -> ``("st", "marys", "ce")``."""
    lowered = f" {text.lower()} "
    for pattern, replacement in _REWRITES:
        lowered = pattern.sub(replacement, lowered)
    return tuple(_PLURALS.get(word, word) for word in lowered.split())


def _word_pattern(word: str) -> str:
    if word in _WORD_PATTERNS:
        return _WORD_PATTERNS[word]
    if len(word) < 3:
        return re.escape(word)
    # The apostrophe was dropped: "marys" must still find "Mary's", "O'Neill" and "Kings'".
    return f"{re.escape(word[0])}{_APOSTROPHE}{re.escape(word[1:-1])}{_APOSTROPHE}{re.escape(word[-1])}{_APOSTROPHE}"


def school_forms(words: Form, core_alone: bool) -> set[Form]:
    """Every way of writing a school's name: its words with any of its kind-words left out (rule 2 and 3)."""
    droppable = [i for i, w in enumerate(words) if w in DESIGNATIONS][-_MAX_DROPPABLE:]
    if len(droppable) == len(words):
        return {words}
    forms = {words}
    for dropped in itertools.product((False, True), repeat=len(droppable)):
        gone = {i for i, drop in zip(droppable, dropped, strict=True) if drop}
        form = tuple(w for i, w in enumerate(words) if i not in gone)
        strong = any(w in DESIGNATIONS and w not in WEAK_DESIGNATIONS for w in form)
        if core_alone or strong:
            forms.add(form)
    return forms


def _core(words: Form) -> Form:
    return tuple(w for w in words if w not in DESIGNATIONS)


def _distinctive(core: Form) -> bool:
    """Whether a core may stand for a school on its own: several words, or one uncommon word (rule 3)."""
    if len(core) != 1:
        return bool(core)
    word = core[0]
    return len(word) >= 4 and word not in COMMON_WORDS and not word.isdigit()


def _build_trie(forms: Iterable[Form]) -> dict[str, dict]:
    trie: dict[str, dict] = {}
    for form in forms:
        node = trie
        for word in form:
            node = node.setdefault(word, {})
        node[""] = {}  # marks the end of a form
    return trie


def _trie_pattern(node: dict[str, dict]) -> str:
    """A regular expression for every form below ``node``, trying the longest continuation first."""
    branches = []
    for word in sorted(w for w in node if w):
        child = node[word]
        rest = {w: c for w, c in child.items() if w}
        if not rest:
            branches.append(_word_pattern(word))
            continue
        optional = "?" if "" in child else ""
        branches.append(f"{_word_pattern(word)}(?:{_SEPARATOR}{_trie_pattern(child)}){optional}")
    return "(?:" + "|".join(branches) + ")"


@dataclass(frozen=True)
class Redactor:
    """Replaces hidden schools' names, short forms, URNs and LAESTABs in text (see the module's rule)."""

    names: re.Pattern[str] | None
    # One-spelling form -> what replaces it; ``None`` leaves it as typed (a school that may be named).
    replacements: dict[Form, str | None]
    urns: re.Pattern[str] | None
    urn_replacements: dict[int, str]
    laestabs: re.Pattern[str] | None
    laestab_replacements: dict[str, str] = field(default_factory=dict)
    # LA codes in which any LAESTAB is hidden (hidden schools whose own LAESTAB is not known).
    hidden_areas: frozenset[str] = frozenset()

    def __call__(self, text: str) -> str:
        if self.names is not None:
            text = self.names.sub(self._name, text)
        if self.urns is not None:
            text = self.urns.sub(lambda m: self.urn_replacements[int(m.group("urn"))], text)
        if self.laestabs is not None:
            text = self.laestabs.sub(self._laestab, text)
        return text

    def _name(self, match: re.Match[str]) -> str:
        # A match is always one of the forms; an unknown one would be a bug, and hiding is the safe side.
        replacement = self.replacements.get(canonical_words(match.group("form")), SCHOOL_PLACEHOLDER)
        return match.group(0) if replacement is None else replacement

    def _laestab(self, match: re.Match[str]) -> str:
        number = match.group("la") + match.group("estab")
        if number in self.laestab_replacements:
            return self.laestab_replacements[number]
        return LAESTAB_PLACEHOLDER if match.group("la") in self.hidden_areas else match.group(0)


def _form_replacements(
    real_names: Mapping[int, str], shown: Mapping[int, str], hidden: frozenset[int]
) -> dict[Form, str | None]:
    words = {urn: canonical_words(name) for urn, name in real_names.items() if name and canonical_words(name)}
    cores: dict[Form, set[int]] = {}
    for urn, form in words.items():
        cores.setdefault(_core(form), set()).add(urn)
    owners: dict[Form, set[int]] = {}
    for urn, form in words.items():
        core = _core(form)
        for variant in school_forms(form, _distinctive(core) and len(cores[core]) == 1):
            owners.setdefault(variant, set()).add(urn)
    # A distinctive core two schools share ("Westbury" for Westbury Infant and Westbury Junior) belongs to
    # both: hidden if both are, left as typed if either may be named (rule 4).
    for core, sharers in cores.items():
        if len(sharers) > 1 and _distinctive(core):
            owners.setdefault(core, set()).update(sharers)
    replacements: dict[Form, str | None] = {}
    for form, who in owners.items():
        # A school's own full name is that school's, whatever else shares the words (rule 4's exception).
        full = {u for u in who if words[u] == form}
        who = full or who
        secret = who & hidden
        if len(who) == 1:
            (urn,) = who
            replacements[form] = shown[urn] if urn in hidden else None
        elif secret and (who <= hidden or any(words[u] == form for u in secret)):
            replacements[form] = SCHOOL_PLACEHOLDER
        else:
            replacements[form] = None
    return replacements


def build_redactor(
    real_names: Mapping[int, str],
    shown: Mapping[int, str],
    hidden: frozenset[int],
    *,
    la_codes: Mapping[int, int] | None = None,
    laestabs: Mapping[int, str] | None = None,
) -> Redactor:
    """A :class:`Redactor` for the schools ``real_names`` (URN -> name as stored) of which ``hidden`` may
    not be named; ``shown`` gives each school's displayed name (its pseudonym when hidden).

    ``la_codes`` (URN -> LA code) hides any LAESTAB in a hidden school's LA; ``laestabs`` (URN -> 7 digits)
    replaces a hidden school's own LAESTAB by its pseudonym and leaves other schools' alone.
    """
    replacements = _form_replacements(real_names, shown, hidden)
    names = None
    if any(r is not None for r in replacements.values()):
        trie = _trie_pattern(_build_trie(replacements))
        names = re.compile(rf"(?<!\w)(?P<form>{trie}){_TAIL}(?!\w)", flags=re.IGNORECASE)
    urn_replacements = {int(u): shown[u] for u in hidden}
    urns = None
    if urn_replacements:
        alternatives = "|".join(str(u) for u in sorted(urn_replacements))
        urns = re.compile(rf"(?<!\d)(?:\bURN\s*(?:no\.?|number)?\s*[:#]?\s*)?(?P<urn>{alternatives})(?!\d)", re.I)
    exact = {re.sub(r"\D", "", str(v)): shown[u] for u, v in (laestabs or {}).items() if u in hidden and v}
    known = {u for u, v in (laestabs or {}).items() if v}
    areas = {f"{int(c):03d}" for u, c in (la_codes or {}).items() if u in hidden and u not in known and c is not None}
    laestab = None
    if areas or exact:
        alternatives = "|".join(sorted(areas | {digits[:3] for digits in exact if len(digits) == 7}))
        laestab = re.compile(
            rf"(?<![\d/])(?:\b(?:LAESTAB|DfE\s*(?:no\.?|number))\s*[:#]?\s*)?(?P<la>{alternatives})/?(?P<estab>\d{{4}})(?![\d/])",
            flags=re.IGNORECASE,
        )
    return Redactor(names, replacements, urns, urn_replacements, laestab, exact, frozenset(areas))
