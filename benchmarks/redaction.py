"""What finding hidden schools' names in typed text costs at partnership and national scale, beside the old way.

``python benchmarks/redaction.py [N ...]`` (default 2000 22000) generates N realistic school names ("<Place> CE
Primary School", "St <Saint>'s Catholic Primary School", "<Place> Infant School", ...; places mostly distinct,
10% of schools hidden) and 1,000 notes of about 200 characters that mention a few of them as people type them
("Langham C of E Primary", "St. Marys", "langham-ce (VA) primary"). For each N it prints:

- **build**: :func:`analytics.privacy.redaction.build_redactor` (short forms of every name, then a word trie);
- **baseline build**: the same, plus one regular expression of every form made from the same forms and
  compiled, which is what the redactor did before (``baseline_pattern`` below; the time of the trie, a few
  milliseconds, is counted in both);
- **redact**: the 1,000 notes through each, and how many notes the two redact differently (should be 0).

``--presenter`` hides every school but one, as presenter mode does; ``--no-baseline`` skips the old way, which
at 22,000 schools takes minutes. Times are wall-clock and, in brackets, CPU seconds of this process.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.privacy.name_matching import SEPARATORS, SPELLINGS, TAIL_WORDS, build_trie
from analytics.privacy.redaction import Redactor, build_redactor

T = TypeVar("T")


def _words(text: str) -> list[str]:
    return text.split()


_FIRST = _words("""Ash Brad Chel Dun Elm Fal Gar Hal Ing Kel Lang Mal Nor Ol Pen Ring Sal Thorn Ux Wal Wes Yar Ab Bil
    Cal Dor Ed Fen Gil Hor Kin Lid Mar Ned Ock Pad Rad Sed Tad Up Wil Hen Bur Cas Dal Ev Fir Gos Hux Lox""")
_MIDDLE = ["", "ing", "er", "en", "le", "ley", "s", "on", "ham", "ton", "bor", "wor", "ches", "ket", "ber", "lin"]
_LAST = _words("""ford ham ton bury ley field worth wick by thorpe stead well wood den don combe cote minster port mouth
    borough burn dale gate hurst ing low mere sett stow""")
_SAINTS = _words("""Mary Joseph John Peter Paul Michael Andrew George Anne Margaret Thomas Luke Mark Matthew James
    Patrick Bede Chad Aidan Edmund Helen Hilda Teresa Bernadette Francis Gregory Augustine Alban Oswald Wilfrid Cuthbert
    Nicholas Stephen Lawrence Catherine Bartholomew Leonard Giles Martin Barnabas Dunstan Anselm Clement""")
_TEMPLATES = (
    "{place} CE Primary School",
    "{place} Church of England Primary School",
    "{place} Primary School",
    "{place} Community Primary School",
    "{place} Infant School",
    "{place} Junior School",
    "{place} Academy",
    "{place} High School",
    "{place} Nursery School",
    "St {saint}'s Catholic Primary School",
    "St {saint}'s CE Primary School, {place}",
    "St {saint}'s RC Primary School {place}",
    "{place} St {saint}'s C of E (VA) Junior School",
    "The {place} School",
    "{place} and {other} Federation",
    "{place} Methodist Primary School",
)
_FILLER = _words("""met the head to review the action plan. Attendance is improving but reading remains a concern.
    Agreed to share the phonics audit with the governors. Follow-up visit booked for next half term. The
    maths lead will observe lessons and report back. Support from the trust was discussed at length.""")


def places(rng: random.Random) -> list[str]:
    """Place words, shuffled: three syllables, so most are distinct even for every school in England."""
    found = [f"{a}{m}{z}" for a in _FIRST for m in _MIDDLE for z in _LAST]
    rng.shuffle(found)
    return found


def school_names(count: int, seed: int = 1) -> dict[int, str]:
    """``count`` school names by URN, from the templates with mostly distinct places."""
    rng = random.Random(seed)
    pool = places(rng)
    names: dict[int, str] = {}
    for index in range(count):
        # One school in twenty shares its place with another (the Westbury Infant and Westbury Junior pattern).
        place = pool[index % len(pool)] if rng.random() > 0.05 else pool[rng.randrange(max(index, 1))]
        template = rng.choice(_TEMPLATES)
        names[100000 + index] = template.format(
            place=place, saint=rng.choice(_SAINTS), other=pool[-1 - index % len(pool)]
        )
    return names


def _typed(name: str, rng: random.Random) -> str:
    """A name as someone might type it: other spellings, words left out, another case, odd separators."""
    swaps = [
        (" CE ", rng.choice([" CE ", " C of E ", " C.E. ", " Church of England ", " CofE ", "-CE "])),
        ("St ", rng.choice(["St ", "Saint ", "St. ", "ST "])),
        ("'s", rng.choice(["'s", "s", "’s"])),
        (" School", rng.choice([" School", "", " school", " Schools"])),
        (" Primary", rng.choice([" Primary", "", " (VA) Primary", " primary"])),
        (" and ", rng.choice([" and ", " & "])),
    ]
    for old, new in swaps:
        name = name.replace(old, new)
    if rng.random() < 0.1:
        name = name.upper() if rng.random() < 0.5 else name.lower()
    if rng.random() < 0.1 and " " in name:
        name = name.replace(" ", rng.choice(["\n", " - ", ", ", "\u00a0"]), 1)
    return name + rng.choice(["", "", "'s", " Road", "."])


def notes(names: Mapping[int, str], count: int = 1000, seed: int = 2) -> list[str]:
    """``count`` notes of about 200 characters, each mentioning two to four schools."""
    rng = random.Random(seed)
    urns = list(names)
    written = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(2, 4)):
            parts.append(_typed(names[rng.choice(urns)], rng))
            start = rng.randrange(len(_FILLER) - 8)
            parts.append(" ".join(_FILLER[start : start + rng.randint(3, 8)]))
        written.append(" ".join(parts))
    return written


def _word_pattern(word: str) -> str:
    if word in SPELLINGS:
        return SPELLINGS[word]
    if len(word) < 3:
        return re.escape(word)
    apostrophe = "['’‘`]?"
    return f"{re.escape(word[0])}{apostrophe}{re.escape(word[1:-1])}{apostrophe}{re.escape(word[-1])}{apostrophe}"


def _trie_pattern(node: dict[str, dict], separator: str) -> str:
    branches = []
    for word in sorted(w for w in node if w):
        child = node[word]
        if not any(child):
            branches.append(_word_pattern(word))
            continue
        optional = "?" if "" in child else ""
        branches.append(f"{_word_pattern(word)}(?:{separator}{_trie_pattern(child, separator)}){optional}")
    return "(?:" + "|".join(branches) + ")"


def baseline_pattern(forms: Mapping[tuple[str, ...], object]) -> re.Pattern[str]:
    """The old way: one alternation of every form, longest continuation first, compiled."""
    separator = "[" + re.escape("".join(sorted(SEPARATORS))) + "]+"
    tail_word = "(?:" + "|".join(SPELLINGS.get(w, w) for w in TAIL_WORDS) + ")"
    tail = rf"(?:[ \t\u00a0\-–—,/]+(?:\({tail_word}\)|{tail_word}))*"
    trie = _trie_pattern(build_trie(forms), separator)
    return re.compile(rf"(?<!\w)(?P<form>{trie}){tail}(?!\w)", flags=re.IGNORECASE)


class BaselineNames:
    """The compiled pattern behind the redactor's ``names.sub(replace, text)``."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def sub(self, replace: Callable[[str], str | None], text: str) -> str:
        def one(match: re.Match[str]) -> str:
            replacement = replace(match.group("form"))
            return match.group(0) if replacement is None else replacement

        return self.pattern.sub(one, text)


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """What ``work`` returns, with its wall-clock and CPU seconds (the machine may be shared)."""
    wall, cpu = time.perf_counter(), time.process_time()
    done = work()
    return done, time.perf_counter() - wall, time.process_time() - cpu


def measure(count: int, presenter: bool, with_baseline: bool) -> None:
    names = school_names(count)
    rng = random.Random(3)
    hidden = frozenset(list(names)[1:]) if presenter else frozenset(rng.sample(sorted(names), count // 10))
    shown = {u: f"School {u}" if u in hidden else n for u, n in names.items()}
    written = notes(names)

    redactor, build, build_cpu = timed(lambda: build_redactor(names, shown, hidden))
    new, redact, redact_cpu = timed(lambda: [redactor(text) for text in written])
    changed = sum(text != after for text, after in zip(written, new, strict=True))
    print(
        f"N={count:,} hidden={len(hidden):,} forms={len(redactor.replacements):,}; notes changed {changed}\n"
        f"  new       build {build:7.3f} s (cpu {build_cpu:.3f})   "
        f"redact 1,000 notes {redact:7.3f} s (cpu {redact_cpu:.3f})",
        flush=True,
    )
    if not with_baseline:
        return
    pattern, compile_time, compile_cpu = timed(lambda: baseline_pattern(redactor.replacements))
    baseline: Redactor = replace(redactor, names=BaselineNames(pattern))  # type: ignore[arg-type]  # same sub()
    old, redact_old, redact_old_cpu = timed(lambda: [baseline(text) for text in written])
    differ = sum(a != b for a, b in zip(new, old, strict=True))
    print(
        f"  baseline  build {build + compile_time:7.3f} s (cpu {build_cpu + compile_cpu:.3f})   redact 1,000 notes "
        f"{redact_old:7.3f} s (cpu {redact_old_cpu:.3f})\n"
        f"  baseline pattern {len(pattern.pattern):,} characters; notes redacted differently from the new: {differ}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 22000])
    parser.add_argument("--presenter", action="store_true", help="hide every school but one")
    parser.add_argument("--no-baseline", action="store_true", help="time the new redactor only")
    args = parser.parse_args()
    for count in args.sizes:
        measure(count, args.presenter, not args.no_baseline)


if __name__ == "__main__":
    main()
