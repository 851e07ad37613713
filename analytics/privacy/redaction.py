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

Matches are whole words and ignore case, and a new line ends a name. They are found by walking a trie of
every form (:mod:`analytics.privacy.name_matching`), which costs little to prepare even for all of England.
URNs are six digits (optionally "URN 990081", "URN: 990081"); a LAESTAB is seven digits, written "850/2001"
or "8502001". The store keeps no establishment numbers, so any LAESTAB whose LA part is the LA code of a
hidden school is hidden (``[LAESTAB hidden]``), unless the exact LAESTAB of each school is given.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from analytics.privacy.name_matching import NameMatcher

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
_STRONG_DESIGNATIONS = DESIGNATIONS - WEAK_DESIGNATIONS

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
)
# Something one of the rewrites may change; most names have none, so a national store's 22,000 are read quickly.
_MAY_REWRITE = re.compile(r"england|of|c\.|roman|r\.|voluntary|saint|\bst\b|&|['’‘`]")
_WORDS = re.compile(r"\w+")
_PLURALS = {"infants": "infant", "juniors": "junior"}
# Any number that may be a URN, looked up, rather than an alternation of every hidden URN (22,000 of them in
# presenter mode over England). No leading zero, so the digits typed are the URN's own.
_URN = re.compile(r"(?<!\d)(?:\bURN\s*(?:no\.?|number)?\s*[:#]?\s*)?(?P<urn>[1-9][0-9]{0,17})(?!\d)", re.IGNORECASE)
# A name with more kind-words than this drops only its last ones: 2**8 forms is plenty.
_MAX_DROPPABLE = 8

Form = tuple[str, ...]


def canonical_words(text: str) -> Form:
    """A name (or matched text) as words in one spelling: ``"St. Mary's C of E"`` -> ``("st", "marys", "ce")``."""
    lowered = f" {text.lower()} "
    if _MAY_REWRITE.search(lowered):
        for pattern, replacement in _REWRITES:
            lowered = pattern.sub(replacement, lowered)
    return tuple(_PLURALS.get(word, word) for word in _WORDS.findall(lowered))


def school_forms(words: Form, core_alone: bool) -> set[Form]:
    """Every way of writing a school's name: its words with any of its kind-words left out (rule 2 and 3)."""
    droppable = tuple([i for i, w in enumerate(words) if w in DESIGNATIONS][-_MAX_DROPPABLE:])
    if len(droppable) == len(words):
        return {words}
    forms = {tuple(itertools.compress(words, kept)) for kept in _kept_words(len(words), droppable)}
    if core_alone:
        return forms
    return {form for form in forms if form == words or not _STRONG_DESIGNATIONS.isdisjoint(form)}


@functools.lru_cache(maxsize=1024)
def _kept_words(length: int, droppable: tuple[int, ...]) -> list[tuple[bool, ...]]:
    # Which words each form keeps; names share few shapes, and a national store has 22,000 names.
    return list(itertools.product(*[(True, False) if i in droppable else (True,) for i in range(length)]))


def _core(words: Form) -> Form:
    return tuple(w for w in words if w not in DESIGNATIONS)


def _distinctive(core: Form) -> bool:
    """Whether a core may stand for a school on its own: several words, or one uncommon word (rule 3)."""
    if len(core) != 1:
        return bool(core)
    word = core[0]
    return len(word) >= 4 and word not in COMMON_WORDS and not word.isdigit()


@dataclass(frozen=True)
class Redactor:
    """Replaces hidden schools' names, short forms, URNs and LAESTABs in text (see the module's rule)."""

    names: NameMatcher | None
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
            text = self.urns.sub(self._urn, text)
        if self.laestabs is not None:
            text = self.laestabs.sub(self._laestab, text)
        return text

    def _name(self, typed: str) -> str | None:
        # A match is always one of the forms; an unknown one would be a bug, and hiding is the safe side.
        return self.replacements.get(canonical_words(typed), SCHOOL_PLACEHOLDER)

    def _urn(self, match: re.Match[str]) -> str:
        return self.urn_replacements.get(int(match.group("urn")), match.group(0))

    def _laestab(self, match: re.Match[str]) -> str:
        number = match.group("la") + match.group("estab")
        if number in self.laestab_replacements:
            return self.laestab_replacements[number]
        return LAESTAB_PLACEHOLDER if match.group("la") in self.hidden_areas else match.group(0)


@dataclass(frozen=True)
class FormIndex:
    """Every form of every school's name, who gives each, and the trie that finds them in text.

    All of it depends on the names alone, not on which schools are hidden, so one index serves every mode,
    presenter session and open profile: only the replacements (:func:`_form_replacements`) differ between them.
    """

    words: dict[int, Form]
    # The first school found giving each form; a form several schools give is in ``shared`` too.
    owner: dict[Form, int]
    shared: dict[Form, frozenset[int]]
    matcher: NameMatcher


def form_index(real_names: Mapping[int, str]) -> FormIndex:
    """The :class:`FormIndex` of ``real_names`` (URN -> name as stored); the same names, in any order, give the
    index already built (it takes about a second over every school in England)."""
    return _indexed(tuple(sorted((urn, name) for urn, name in real_names.items() if name)))


@functools.lru_cache(maxsize=2)
def _indexed(names: tuple[tuple[int, str], ...]) -> FormIndex:
    spelt = {urn: canonical_words(name) for urn, name in names}
    words = {urn: form for urn, form in spelt.items() if form}
    core_of = {urn: _core(form) for urn, form in words.items()}
    cores: dict[Form, set[int]] = {}
    for urn, core in core_of.items():
        cores.setdefault(core, set()).add(urn)
    # Who owns each form: nearly every form has one school, so the others are kept apart.
    owner: dict[Form, int] = {}
    shared: dict[Form, set[int]] = {}
    for urn, form in words.items():
        core = core_of[urn]
        for variant in school_forms(form, _distinctive(core) and len(cores[core]) == 1):
            first = owner.setdefault(variant, urn)
            if first != urn:
                shared.setdefault(variant, {first}).add(urn)
    # A distinctive core two schools share ("Westbury" for Westbury Infant and Westbury Junior) belongs to
    # both: hidden if both are, left as typed if either may be named (rule 4).
    for core, sharers in cores.items():
        if len(sharers) > 1 and _distinctive(core):
            shared.setdefault(core, {owner.setdefault(core, min(sharers))}).update(sharers)
    # Every form takes part, the named schools' too, so that the longest form found wins (rule 5).
    matcher = NameMatcher.of(owner)
    return FormIndex(words, owner, {form: frozenset(who) for form, who in shared.items()}, matcher)


def _form_replacements(index: FormIndex, shown: Mapping[int, str], hidden: frozenset[int]) -> dict[Form, str | None]:
    replacements = {form: shown[urn] if urn in hidden else None for form, urn in index.owner.items()}
    for form, who in index.shared.items():
        replacements[form] = _shared_replacement(form, who, index.words, shown, hidden)
    return replacements


def _shared_replacement(
    form: Form, who: AbstractSet[int], words: Mapping[int, Form], shown: Mapping[int, str], hidden: frozenset[int]
) -> str | None:
    """What replaces a form several schools' names give (rule 4)."""
    # A school's own full name is that school's, whatever else shares the words (rule 4's exception).
    full = {u for u in who if words[u] == form}
    who = full or who
    secret = who & hidden
    if len(who) == 1:
        (urn,) = who
        return shown[urn] if urn in hidden else None
    if secret and (who <= hidden or any(words[u] == form for u in secret)):
        return SCHOOL_PLACEHOLDER
    return None


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
    index = form_index(real_names)
    replacements = _form_replacements(index, shown, hidden)
    names = index.matcher if any(r is not None for r in replacements.values()) else None
    urn_replacements = {int(u): shown[u] for u in hidden}
    urns = _URN if urn_replacements else None
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
