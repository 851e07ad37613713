"""People's names in short typed text: role columns, group labels, item wording, file and sheet names.

A questionnaire's Role column may say "Head of maths - Ahmed Khan", and a file may be called "Survey
results - Sarah Jones.xlsx". Stored as typed, a copied store names the people who answered. This module
finds likely names so that the upload can say where they are and replace them with ``[name]`` before
anything is stored. It works offline, with no language model: a list of given names common in English
schools (``forenames.txt``, a few thousand, from many communities), a list of distinctive family names
(``surnames.txt``) and a few patterns.

What counts as a name:

- **A title and a surname** ("Mrs Khan", "Mr. O'Neill", "Dr Smith", "Miss J Patel", "mrs khan", "MR JONES").
  The titles are Mr, Mrs, Ms, Miss, Mx, Dr, Prof, Professor, Rev, Revd, Reverend. "Sir", "Lady", "Lord" and
  "Dame" are left out: in schools they are far more often part of a school's name ("Sir John Cass's") or
  how pupils address a teacher ("Sir") than part of a person's name.
- **A given name and a capitalised word** ("Ahmed Khan", "Siobhan O'Connor", "AHMED KHAN"), or written the
  other way round ("Khan, Ahmed"), or in lower case when both words are on the lists ("ahmed khan").
- **A given name on its own**, capitalised ("TA (Sarah)"), unless it is also an everyday word.
- **An initial and a family name** ("J. Smith", "J Smith", "Smith, J."): the family name must be on the
  list, because "A Level" and "Section B. Confidence" look the same.
- **An email address** (except shared mailboxes: office@, admin@, enquiries@, ...).

What is *not* taken for a name, on purpose:

- **Given names that are also everyday words** (:data:`AMBIGUOUS_FORENAMES`: Will, May, Mark, Grace, Hope,
  Faith, Joy, Amber, Summer, Autumn, Holly, Rose, Victoria, Jordan, Frank, Grant, Dean, Miles, Max, ...) count
  only beside a listed family name ("Will Smith", "Mark Taylor"), so "Will you recommend it?", "Mark scheme",
  "May half term", "Amber rating" and "Dean of sixth form" are left alone. The price: "Grace Hopper" (family
  name not on the list) is missed.
- **School vocabulary**: a given name followed by school words ("Head", "Lead", "Year", "Reading", "Maths",
  "Teaching Assistant", "Key Stage", month and day names, ...) is not a first and last name.
- **Saints, monarchs and schools named after people**: a given name after St, Saint, King, Queen, Prince,
  Princess, Sir, Dame, Lady, Lord, Bishop, Archbishop, Cardinal, Pope, Blessed or Mount ("St Mary's CE
  Primary", "King Edward VI", "Cardinal Newman"), or followed by a school or place word ("John Ruskin
  College", "Elizabeth Garrett Anderson School", "Oliver class", "Victoria Park"), is a school, class or
  place, not a person.
- **A family name on its own** ("Khan", "Patel"): too many are also places, subjects or houses.

Fictional and historical people ("Harry Potter", "Mary Seacole") are names and are found; the warning lets
the user keep them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

PLACEHOLDER = "[name]"
_HERE = Path(__file__).resolve().parent


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TITLES = _words("Mr MR mr Mrs MRS mrs Ms ms Miss MISS Mx MX mx Dr DR Prof PROF Professor Rev Revd Reverend")
# Words before a given name that make it a saint, a monarch, a school's namesake or a place.
_NOT_PERSON_BEFORE = _words(
    "st st. saint ste san santa king queen prince princess sir dame lady lord bishop archbishop cardinal pope "
    "blessed mount our"
)
# Words after a name that make the whole a school, a class, a house or a place ("John Ruskin College").
_INSTITUTION_AFTER = _words(
    "school schools academy primary secondary infant infants junior juniors nursery college trust federation "
    "foundation church chapel cathedral abbey priory centre center campus house class group team set road street "
    "avenue drive close way gardens park building wing block library room suite unit hospital memorial "
    "ce cofe rc c"
)
AMBIGUOUS_FORENAMES = _words(
    "will may mark grace hope faith joy amber summer autumn april june august jan dawn holly ivy daisy lily poppy "
    "rose violet iris hazel heather olive willow rowan robin wren jay ash sky skye eden jordan georgia florence "
    "victoria chelsea devon stanley norman chester preston lincoln clifton everton harley paisley frank guy miles "
    "max dean grant hunter mason marshall carol jean eve sunny harsh danish isa nike tate teddy rob pat ray "
    "mercy verity honor primrose nada non haf ming qing fang nat val tel di em sal"
)
_STOP_WORDS = _words(
    "a an the and or but nor of to in on at for with by from into onto over under about after before during "
    "between through up down out off than then as so if is are was were be been being am it its this that these "
    "those there here we us our you your he him his she her they them their i me my not no yes do does did done "
    "have has had can could would should will shall may might must all any some most more less very also just "
    "only even how what when where why who which each every both other such same own new old good best better "
    "well much many few lots please thank thanks ok okay etc per via vs"
)
_SCHOOL_WORDS = _words(
    "sixth form special grammar high middle upper lower first catholic methodist baptist anglican jewish "
    "christian community free department dept faculty phase hub year years yr key stage ks eyfs reception head "
    "deputy assistant acting executive interim lead leader leaders leadership teacher teachers teaching ta hlta "
    "senco sendco send sen eal pp fsm governor governors chair trustee trustees member members staff support "
    "cover supply mentor coach coaching tutor tutors pastoral safeguarding dsl manager business office admin "
    "bursar caretaker site midday lunchtime supervisor nurse librarian technician apprentice trainee ect nqt "
    "student students pupil pupils parent parents carer carers child children family families learner learners "
    "boy boys girl girls survey questionnaire results result response responses answer answers question "
    "questions item items score scores scale total average mean term terms half week weeks day days morning "
    "afternoon session sessions lesson lessons scheme schemes plan plans policy report reports review reviews "
    "training course courses programme program project projects meeting meetings workshop conference network "
    "club clubs award awards book books reading writing maths mathematics math english science sciences history "
    "geography french spanish german latin music art drama dance computing ict pe re rs pshe rse citizenship "
    "design technology dt food economics psychology sociology law media phonics literacy numeracy spelling "
    "grammar punctuation handwriting oracy vocabulary curriculum assessment assessments test tests exam exams "
    "mock mocks paper papers level levels grade grades target targets progress attainment attendance behaviour "
    "behavior wellbeing health mental safety online premium disadvantaged intervention interventions tutoring "
    "homework marking feedback planning data evidence impact outcome outcomes pre post mid baseline start end "
    "final spring winter christmas easter none overall unknown male female mixed national local authority la "
    "mat ofsted dfe england wales scotland ireland british london confidence confident teams zoom"
)
_MONTHS_AND_DAYS = _words(
    "january february march april may june july august september october november december jan feb mar apr jun "
    "jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu "
    "thur thurs fri sat sun"
)
_NOT_A_SURNAME = _STOP_WORDS | _SCHOOL_WORDS | _MONTHS_AND_DAYS | _INSTITUTION_AFTER | {t.casefold() for t in TITLES}
_PARTICLES = _words("de da di du van von der den le la al el bin ibn binti ul ud ap")
_SHARED_MAILBOXES = _words(
    "office admin enquiries enquiry info head headteacher senco finance reception school bursar hr contact hello "
    "mail admissions accounts governors clerk support help it noreply no-reply postmaster webmaster"
)

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_SPACE = re.compile(r"[ \t]+")
_SPACE_OR_DOT = re.compile(r"\.?[ \t]*")


@dataclass(frozen=True)
class NameFound:
    """One likely name in a text: ``text[start:end]`` is ``found``; ``kind`` says which pattern matched."""

    start: int
    end: int
    found: str
    kind: str


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    key: str
    gap: str  # the characters between the previous word and this one
    possessive: bool = False  # written "Khan's": then "Khan's class" is a person's class, not a class's name


def name_key(word: str) -> str:
    """How words are compared with the lists: accents and case do not matter ("Siobhán" = "siobhan")."""
    plain = word.replace("ł", "l").replace("Ł", "L").replace("’", "'")
    plain = "".join(c for c in unicodedata.normalize("NFKD", plain) if not unicodedata.combining(c))
    return plain.casefold()


def _read_list(file_name: str) -> frozenset[str]:
    lines = (_HERE / file_name).read_text(encoding="utf-8").splitlines()
    return frozenset(name_key(line.strip()) for line in lines if line.strip() and not line.startswith("#"))


@cache
def forenames() -> frozenset[str]:
    """The given names recognised (compared with :func:`name_key`), from ``forenames.txt``."""
    return _read_list("forenames.txt")


@cache
def surnames() -> frozenset[str]:
    """The distinctive family names recognised, from ``surnames.txt``."""
    return _read_list("surnames.txt")


def _tokens(text: str, skip: list[tuple[int, int]]) -> list[_Token]:
    """The words of ``text`` outside the ``skip`` spans, each with the gap before it; "Khan's" is "Khan"."""
    found: list[_Token] = []
    previous_end = 0
    for match in _WORD.finditer(text):
        start, end, word = match.start(), match.end(), match.group()
        if any(a <= start < b for a, b in skip):
            previous_end = end
            continue
        possessive = len(word) > 3 and word[-2:] in ("'s", "’s", "'S")
        if possessive:
            word, end = word[:-2], end - 2
        found.append(_Token(start, end, word, name_key(word), text[previous_end:start], possessive))
        previous_end = match.end()
    return found


def _joined(token: _Token, allow_dot: bool = False) -> bool:
    """Whether ``token`` follows the previous word in the same phrase (a space, or after an initial a full stop)."""
    pattern = _SPACE_OR_DOT if allow_dot else _SPACE
    return bool(token.gap) and bool(pattern.fullmatch(token.gap))


def _is_initial(token: _Token) -> bool:
    return len(token.text) == 1 and token.text.isupper()


def _name_shaped(token: _Token, *, capitals: bool) -> bool:
    """A capitalised word that could be a family name ("Khan", "O'Brien", "McDonald"; "KHAN" among capitals)."""
    text = token.text
    if len(text) < 2 or not text[0].isupper() or token.key in _NOT_A_SURNAME:
        return False
    return capitals or not text.isupper()


def _particle_name(token: _Token) -> bool:
    """ "al-Hassan", "el-Amin": a family name after a lower-case particle joined by a hyphen."""
    head, _, rest = token.text.partition("-")
    return head.casefold() in _PARTICLES and rest[:1].isupper()


def _strong_surname(token: _Token) -> bool:
    """A family name that is surely one: on the list, or shaped like one (Mc-, Mac-, O'-)."""
    return token.key in surnames() or bool(re.match(r"^(Mc|Mac|O'|O’)[A-Z]", token.text))


def _run_of_names(tokens: list[_Token], start: int, *, capitals: bool, lower: bool = False) -> int:
    """Index just past the family-name words that follow ``tokens[start - 1]`` (at most three)."""
    j = start
    while j < len(tokens) and j - start < 3 and _joined(tokens[j]):
        token = tokens[j]
        if lower:
            ok = token.text.islower() and token.key in surnames()
        else:
            ok = _name_shaped(token, capitals=capitals) or _particle_name(token)
            ok = ok or (token.key in _PARTICLES and j + 1 < len(tokens) and tokens[j + 1].text[:1].isupper())
        if not ok:
            break
        j += 1
    return j


def _institution_follows(tokens: list[_Token], j: int) -> bool:
    """ "John Ruskin College", "Oliver class" (but "Mrs Khan's class" is a person's)."""
    if j >= len(tokens) or tokens[j - 1].possessive:
        return False
    return _joined(tokens[j]) and tokens[j].key in _INSTITUTION_AFTER


def _title_name(tokens: list[_Token], i: int) -> int | None:
    """Index past "Mrs O'Brien", "Miss J Patel", "Mr. de Souza", "mrs khan" starting at ``tokens[i]``, else ``None``."""
    title = tokens[i].text
    j = i + 1
    while j < len(tokens) and _is_initial(tokens[j]) and _joined(tokens[j], allow_dot=True):
        j += 1
    initials = j - i - 1
    if j < len(tokens) and _joined(tokens[j], allow_dot=True):
        token = tokens[j]
        lower_ok = token.text.islower() and token.key not in _NOT_A_SURNAME and len(token.text) > 1
        lower_ok = lower_ok and (title.islower() or token.key in surnames())
        if _name_shaped(token, capitals=title.isupper()) or _particle_name(token) or lower_ok:
            return _run_of_names(tokens, j + 1, capitals=title.isupper()) if not lower_ok else j + 1
        if token.key in _PARTICLES:
            end = _run_of_names(tokens, j + 1, capitals=title.isupper())
            return end if end > j + 1 else None
    return i + 1 + initials if initials else None


def _initial_name(tokens: list[_Token], i: int) -> int | None:
    """Index past "J. Smith", "J R Smith", "J.Smith" when the family name is surely one, else ``None``."""
    j = i + 1
    while j < len(tokens) and _is_initial(tokens[j]) and _joined(tokens[j], allow_dot=True):
        j += 1
    if j >= len(tokens) or not _joined(tokens[j], allow_dot=True):
        return None
    surname = tokens[j]
    if not _name_shaped(surname, capitals=False) or not _strong_surname(surname):
        return None
    dotted = any("." in tokens[k].gap for k in range(i + 1, j + 1))
    if not dotted and tokens[i].text in ("A", "I"):
        return None
    return j + 1


def _surname_before(tokens: list[_Token], i: int) -> int:
    """ "Khan, Ahmed" and "KHAN, Ahmed": the index where the name starts when a family name and comma come first."""
    if i == 0 or not re.fullmatch(r",[ \t]*", tokens[i].gap):
        return i
    before = tokens[i - 1]
    if _name_shaped(before, capitals=True) and (before.key in surnames() or before.text.isupper()):
        return i - 1
    return i


def _is_forename(key: str) -> bool:
    """On the list, or made of listed names joined by hyphens ("Mary-Jane", "Jean-Paul")."""
    return key in forenames() or ("-" in key and all(part in forenames() for part in key.split("-")))


def _forename_name(tokens: list[_Token], i: int) -> tuple[int, int] | None:
    """(first, past) token indices of a name led by the given name ``tokens[i]``; ``None`` when it is not one."""
    token = tokens[i]
    if not _is_forename(token.key) or len(token.text) < 2 or _is_initial(token):
        return None
    if i > 0 and _joined(token, allow_dot=True) and tokens[i - 1].key in _NOT_PERSON_BEFORE:
        return None
    ambiguous = token.key in AMBIGUOUS_FORENAMES
    if token.text.islower():
        end = _run_of_names(tokens, i + 1, capitals=False, lower=True)
        return (i, end) if end > i + 1 and not ambiguous else None
    capitals = token.text.isupper()
    end = _run_of_names(tokens, i + 1, capitals=capitals)
    if _institution_follows(tokens, end):
        return None
    if end > i + 1:
        if ambiguous and not _strong_surname(tokens[i + 1]):
            return None
        return (_surname_before(tokens, i), end)
    if ambiguous or capitals or len(token.text) < 3:
        return None
    return (_surname_before(tokens, i), i + 1)


def _surname_initial(tokens: list[_Token], i: int) -> int | None:
    """Index past "Smith, J." when the family name is on the list, else ``None``."""
    token = tokens[i]
    if i + 1 >= len(tokens) or not _name_shaped(token, capitals=True) or token.key not in surnames():
        return None
    after = tokens[i + 1]
    if not _is_initial(after) or not re.fullmatch(r",[ \t]*", after.gap):
        return None
    following = tokens[i + 2] if i + 2 < len(tokens) else None
    if following is not None and following.start == after.end + 1 and following.gap == " ":
        return None
    return i + 2


def _match_at(tokens: list[_Token], i: int) -> tuple[int, int, str] | None:
    """The name starting at (or, for "Khan, Ahmed", just before) ``tokens[i]``: (first, past, kind)."""
    token = tokens[i]
    if token.text in TITLES:
        end = _title_name(tokens, i)
        return (i, end, "title and surname") if end else None
    if _is_initial(token):
        end = _initial_name(tokens, i)
        return (i, end, "initial and surname") if end else None
    found = _forename_name(tokens, i)
    if found is not None:
        first, end = found
        return (first, end, "given name" if end - first == 1 else "given name and surname")
    end = _surname_initial(tokens, i)
    return (i, end, "surname and initial") if end else None


def _emails(text: str) -> list[NameFound]:
    found = []
    for match in _EMAIL.finditer(text):
        local = match.group().split("@", 1)[0].casefold()
        if local not in _SHARED_MAILBOXES:
            found.append(NameFound(match.start(), match.end(), match.group(), "email address"))
    return found


@lru_cache(maxsize=8192)
def find_person_names(text: str) -> tuple[NameFound, ...]:
    """Every likely person's name in ``text``, in order: where it is (``start``, ``end``), what and why.

    >>> [f.found for f in find_person_names("Head of maths - Ahmed Khan")]
    ['Ahmed Khan']
    >>> find_person_names("Head of Maths, Key Stage 2 lead")
    ()
    """
    if not isinstance(text, str) or not text.strip():
        return ()
    found = _emails(text)
    tokens = _tokens(text, [(f.start, f.end) for f in found])
    i = 0
    while i < len(tokens):
        match = _match_at(tokens, i)
        if match is None:
            i += 1
            continue
        first, past, kind = match
        start, end = tokens[first].start, tokens[past - 1].end
        found.append(NameFound(start, end, text[start:end], kind))
        i = past
    return tuple(sorted(found, key=lambda f: f.start))


def has_person_name(text: object) -> bool:
    return isinstance(text, str) and bool(find_person_names(text))


def redact_person_names(text: str, placeholder: str = PLACEHOLDER) -> str:
    """``text`` with every likely name replaced by ``[name]``: "Head of maths - [name]"."""
    if not isinstance(text, str):
        return text
    for found in reversed(find_person_names(text)):
        text = text[: found.start] + placeholder + text[found.end :]
    return text


def mask_name(name: str) -> str:
    """A name shown without giving it away: the first letter of each word, then stars ("A**** K***").
    Titles stay ("Mrs O'B****"), and so do an email's punctuation."""

    def masked(match: re.Match[str]) -> str:
        word = match.group()
        return word if word in TITLES else word[0] + "*" * (len(word) - 1)

    return re.sub(r"[^\W\d_]+", masked, name)


def mask_person_names(text: str) -> str:
    """``text`` with every likely name masked (:func:`mask_name`): "Head of maths - A**** K***"."""
    if not isinstance(text, str):
        return text
    for found in reversed(find_person_names(text)):
        text = text[: found.start] + mask_name(found.found) + text[found.end :]
    return text
