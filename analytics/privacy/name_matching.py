"""Finding a store's school names in typed text by walking a trie of their words, not by one giant pattern.

A regular expression of every short form of every school in England is hundreds of thousands of characters and
takes many seconds to compile, on every page start-up in presenter mode. Here the forms are kept as a trie of
words in one spelling (as :func:`analytics.privacy.redaction.canonical_words` writes them), which costs time in
proportion to the forms to build, and text is read word by word from each place a name may start:

- the words there are read in each way they may be typed (:data:`SPELLINGS`: "Church of England", "C of E",
  "C.E." and "CE" are ``ce``; "Saint" and "St." are ``st``; "&" is ``and``; "Infants" is ``infant``; "Mary's",
  "Marys" and "Marys'" are ``marys``, with an apostrophe only after the first letter or around the last);
- the trie is followed while the text's words, joined by :data:`SEPARATORS` (never a new line), continue a form;
- kind-words typed after a form and not part of it are taken in (:data:`TAIL_WORDS`: "Langham CE (VA) Primary
  School" for a school stored as "Langham CE Primary"), and the whole must end at the end of a word.

Which form wins where several could is exactly what one regular expression of all forms found before: the
words at a trie node are tried in alphabetical order, each continued as far as the text goes before it is
taken on its own, and the first reading that ends on a whole word is the match; matching ignores case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Form = tuple[str, ...]
Trie = dict[str, dict]

# How each one-spelling word may be typed, where that is more than the word itself.
SPELLINGS = {
    "ce": r"(?:church\s+of\s+england|c\.?\s*of\s*e\.?|c\.\s*e\.?|ce)",
    "rc": r"(?:roman\s+catholic|r\.\s*c\.?|rc)",
    "va": r"(?:voluntary\s+aided|va)",
    "vc": r"(?:voluntary\s+controlled|vc)",
    "st": r"(?:saint|st\.?)",
    "and": r"(?:and|&)",
    "infant": r"infants?",
    "junior": r"juniors?",
}
# Between the words of a name: spaces, hyphens, brackets ("(VA)"), commas and slashes, never a new line.
SEPARATORS = frozenset(" \t\u00a0-–—(),/")
# Before a kind-word typed after a name; a bracket there belongs to the kind-word ("(VA)").
TAIL_SEPARATORS = SEPARATORS - {"(", ")"}
# Kind-words typed after a name but not part of it are taken in with it; only words that cannot be part of the
# sentence instead.
TAIL_WORDS = ("primary", "school", "academy", "ce", "rc", "catholic", "church", "infant", "junior", "nursery",
              "community", "federation", "va", "vc", "high", "secondary", "college", "methodist", "foundation",
              "endowed", "aided", "controlled", "jmi", "grammar")  # fmt: skip
APOSTROPHES = frozenset("'’‘`")
# Letters a case-insensitive regular expression also takes as "s" and "i" ("ſ", "ı", "İ"), which str.lower keeps.
_FOLD = str.maketrans({"ſ": "s", "ı": "i", "İ": "i"})
_END: Trie = {}

_SPELLING = {word: re.compile(pattern, re.IGNORECASE) for word, pattern in SPELLINGS.items()}
_TAIL_SPELLING = tuple((word, _SPELLING.get(word)) for word in TAIL_WORDS)
_WORD = re.compile(r"\w+")
# Where a name may start: a word, or "&" (``and``) after something that is not a word.
_START = re.compile(r"\w+|&")
# One word with the apostrophes a typed name may carry ("O'Neill", "Mary's", "Kings'") is at most four runs.
_MAX_RUNS = 4


def build_trie(forms: Iterable[Form]) -> Trie:
    """The forms as nested dictionaries, one level per word; ``""`` marks the end of a form."""
    trie: Trie = {}
    for form in forms:
        node = trie
        for word in form:
            word = word if word.isascii() else word.translate(_FOLD)
            child = node.get(word)
            if child is None:
                child = node[word] = {}
            node = child
        node[""] = _END
    return trie


def _is_word_char(char: str) -> bool:
    # What ``\w`` means in a regular expression over text.
    return char.isalnum() or char == "_"


def _ends_word(text: str, position: int) -> bool:
    return position == len(text) or not _is_word_char(text[position])


def _skip(text: str, position: int, chars: frozenset[str]) -> int:
    while position < len(text) and text[position] in chars:
        position += 1
    return position


def _spelling_ends(pattern: re.Pattern[str], text: str, start: int) -> list[int]:
    """Where one of :data:`SPELLINGS` typed at ``start`` may end, longest first ("C of E." or "C of E")."""
    found = pattern.match(text, start)
    if found is None:
        return []
    end = found.end()
    # Each spelling ends in at most one optional character ("." or "s"), so there are at most two ends.
    if end - 1 > start and pattern.fullmatch(text, start, end - 1):
        return [end, end - 1]
    return [end]


def _plain_readings(text: str, start: int) -> list[tuple[str, int, tuple[int, ...]]]:
    """The ways the word at ``start`` reads with apostrophes dropped: (word, where it ends, apostrophe offsets)."""
    readings: list[tuple[str, int, tuple[int, ...]]] = []
    pieces: list[str] = []
    offsets: list[int] = []
    position = start
    for _ in range(_MAX_RUNS):
        run = _WORD.match(text, position)
        if run is None:
            break
        pieces.append(run.group().translate(_FOLD).lower())
        position = run.end()
        word = "".join(pieces)
        readings.append((word, position, tuple(offsets)))
        if position == len(text) or text[position] not in APOSTROPHES:
            break
        if not _ends_word(text, position + 1):
            offsets.append(len(word))
            position += 1
            continue
        readings.append((word, position + 1, (*offsets, len(word))))
        break
    return readings


def _apostrophes_fit(word: str, offsets: tuple[int, ...]) -> bool:
    # A dropped apostrophe is found again only after the first letter or around the last ("O'Neill", "Kings'").
    if not offsets:
        return True
    return len(word) >= 3 and all(offset in (1, len(word) - 1, len(word)) for offset in offsets)


def _readings(text: str, start: int, node: Trie) -> list[tuple[str, int]]:
    """The words of ``node`` the text at ``start`` may be read as, with where each ends, in the order tried."""
    found = [
        (word, end)
        for word, end, offsets in _plain_readings(text, start)
        if word in node and word not in _SPELLING and _apostrophes_fit(word, offsets)
    ]
    for word, pattern in _SPELLING.items():
        if word in node:
            found += [(word, end) for end in _spelling_ends(pattern, text, start)]
    if len(found) > 1:
        found.sort(key=lambda reading: (reading[0], -reading[1]))
    return found


def _tail_word_ends(text: str, position: int) -> list[int]:
    """Where a kind-word after ``position`` (past its separators) may end, in the order tried."""
    start = _skip(text, position, TAIL_SEPARATORS)
    if start == position or start == len(text):
        return []
    bracketed = text[start] == "("
    if bracketed:
        start += 1
    run = _WORD.match(text, start)
    typed = run.group().translate(_FOLD).lower() if run else ""
    ends: list[int] = []
    for word, pattern in _TAIL_SPELLING:
        if pattern is not None:
            ends += _spelling_ends(pattern, text, start)
        elif run is not None and typed == word:
            ends.append(run.end())
    if bracketed:
        return [end + 1 for end in ends if text.startswith(")", end)]
    return ends


def _tail_end(text: str, end: int) -> int | None:
    """Where a form ending at ``end`` ends once kind-words after it are taken in, or None if it ends mid-word.

    The most kind-words that still end on a whole word are taken, as a greedy pattern would; worked without
    recursion, since a text may repeat a kind-word any number of times.
    """
    following: dict[int, list[int]] = {}
    pending = [end]
    while pending:
        position = pending.pop()
        if position not in following:
            following[position] = _tail_word_ends(text, position)
            pending += following[position]
    result: dict[int, int | None] = {}
    for position in sorted(following, reverse=True):
        taken = next((result[n] for n in following[position] if result[n] is not None), None)
        result[position] = taken if taken is not None else position if _ends_word(text, position) else None
    return result[end]


def _walk(text: str, start: int, node: Trie) -> tuple[int, int] | None:
    """(end of the form, end with its kind-words) of the first form below ``node`` found at ``start``."""
    for word, end in _readings(text, start, node):
        child = node[word]
        if len(child) > ("" in child):
            after = _skip(text, end, SEPARATORS)
            found = _walk(text, after, child) if after > end else None
            if found is not None:
                return found
        if "" in child:
            tail = _tail_end(text, end)
            if tail is not None:
                return end, tail
    return None


@dataclass(frozen=True)
class NameMatcher:
    """Every form of a set of school names, found in text as whole words ignoring case (see the module)."""

    trie: Trie

    @classmethod
    def of(cls, forms: Iterable[Form]) -> NameMatcher:
        return cls(build_trie(forms))

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end of the form, end with trailing kind-words) of each form found, left to right."""
        found: list[tuple[int, int, int]] = []
        done = 0
        for candidate in _START.finditer(text):
            start = candidate.start()
            if start < done or (start and _is_word_char(text[start - 1])):
                continue
            match = _walk(text, start, self.trie)
            if match is not None:
                found.append((start, *match))
                done = match[1]
        return found

    def sub(self, replace: Callable[[str], str | None], text: str) -> str:
        """``text`` with each form found (with its kind-words) replaced by ``replace(form as typed)``;
        ``None`` leaves it as typed."""
        pieces: list[str] = []
        done = 0
        for start, form_end, end in self.spans(text):
            replacement = replace(text[start:form_end])
            pieces += [text[done:start], text[start:end] if replacement is None else replacement]
            done = end
        pieces.append(text[done:])
        return "".join(pieces)
