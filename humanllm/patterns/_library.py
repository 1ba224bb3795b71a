"""The pattern library: built-in cards plus the user's own, with lookup by name, id or alias."""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from humanllm.core import CHECKLIST_MAX, CHECKLIST_MIN, CardOrigin, Family, Pattern, PatternKind
from humanllm.errors import PatternDataError, UnknownPatternError
from humanllm.patterns._files import CardProblem, card_files, read_card_file

BUILTIN_CARDS = Path(__file__).parent / "cards"
PATTERNS_DIR_ENV = "HUMANLLM_PATTERNS_DIR"

logger = logging.getLogger(__name__)


class PatternLibrary:
    """An immutable set of pattern cards, indexed for case-insensitive lookup."""

    def __init__(self, cards: Iterable[Pattern], sources: dict[str, Path] | None = None) -> None:
        self._cards: dict[str, Pattern] = {}
        for card in cards:
            self._cards[card.id] = card
        self.sources: dict[str, Path] = dict(sources or {})
        self._index: dict[str, str] = {}
        for card in self._cards.values():
            for key in card.names():
                self._index.setdefault(key.lower(), card.id)

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self) -> Iterator[Pattern]:
        return iter(self._cards.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._index

    def get(self, name: str) -> Pattern:
        """The card for a name, id or alias (any case); unknown names fail with suggestions."""
        key = name.strip().lower()
        if key in self._index:
            return self._cards[self._index[key]]
        close = difflib.get_close_matches(key, list(self._index), n=3, cutoff=0.6)
        names = list(dict.fromkeys(self._cards[self._index[c]].name for c in close))
        hint = (
            f"; did you mean {' or '.join(repr(n) for n in names)}?"
            if names
            else ("; run 'humanllm patterns list' to see the names")
        )
        raise UnknownPatternError(f"unknown pattern {name!r}{hint}")

    def resolve(self, names: str | Sequence[str]) -> list[Pattern]:
        """Cards for a comma-separated string or a list of names, in order, without repeats."""
        items = [n for n in names.split(",")] if isinstance(names, str) else list(names)
        cards = [self.get(n) for n in items if n.strip()]
        return list({c.id: c for c in cards}.values())

    def select(
        self,
        *,
        kind: PatternKind | None = None,
        family: Family | None = None,
        search: str | None = None,
    ) -> list[Pattern]:
        """Cards matching every given filter; `search` looks in names, aliases and definitions."""
        needle = search.lower() if search else None
        out = []
        for card in self._cards.values():
            if kind is not None and card.kind is not kind:
                continue
            if family is not None and card.family is not family:
                continue
            if needle and needle not in " ".join([*card.names(), card.definition]).lower():
                continue
            out.append(card)
        return out


def user_pattern_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """`--patterns-dir` folders, then those in $HUMANLLM_PATTERNS_DIR (os.pathsep-separated)."""
    env = [Path(p) for p in os.environ.get(PATTERNS_DIR_ENV, "").split(os.pathsep) if p]
    return [*extra, *env]


def _repeated_items(cards: Sequence[tuple[Pattern, Path]]) -> Iterator[tuple[CardProblem, bool]]:
    """Checklist items that repeat another card's, and whether an imported card is involved."""
    first: dict[str, Pattern] = {}
    for card, path in cards:
        for question in card.checklist:
            other = first.setdefault(question.lower(), card)
            if other.id != card.id:
                problem = CardProblem(
                    path, f"card {card.name!r} field checklist", f"item repeats one of {other.id!r}: {question}"
                )
                yield problem, CardOrigin.IMPORTED in (card.origin, other.origin)


def check_cards(cards: Sequence[tuple[Pattern, Path]]) -> list[CardProblem]:
    """Problems across cards: duplicate ids, names claimed twice, repeated checklist items.

    A checklist item an imported card shares with another card is a warning (see `card_warnings`):
    the release's own checklists may share items, and the import keeps them as given."""
    problems: list[CardProblem] = []
    seen_ids: dict[str, Path] = {}
    owner: dict[str, str] = {}
    for card, path in cards:
        if card.id in seen_ids:
            problems.append(CardProblem(path, f"card {card.name!r} field id", f"id also used in {seen_ids[card.id]}"))
        seen_ids[card.id] = path
        for key in card.names():
            other = owner.setdefault(key.lower(), card.id)
            if other != card.id:
                problems.append(
                    CardProblem(path, f"card {card.name!r} field aliases", f"{key!r} already names {other!r}")
                )
    problems.extend(problem for problem, imported in _repeated_items(cards) if not imported)
    return problems


def unknown_siblings(cards: Sequence[tuple[Pattern, Path]], known: Iterable[Pattern] = ()) -> list[CardProblem]:
    """`contrast_with` names that neither another of `cards` nor one of `known` answers to."""
    owner = {key.lower(): card.id for card in [*known, *(c for c, _ in cards)] for key in card.names()}
    return [
        CardProblem(path, f"card {card.name!r} field contrast_with", f"{sibling!r} is not another card's name")
        for card, path in cards
        for sibling in card.contrast_with
        if owner.get(sibling.lower()) in (None, card.id)
    ]


def incomplete_message(card: Pattern) -> str | None:
    """One line saying what an incomplete card lacks and what that means; None when complete."""
    missing = card.missing()
    if not missing:
        return None
    effects = ["it loads and can be judged on its checklist"]
    if any(m.startswith("markers.") for m in missing):
        effects.append("the simulator gives its character no private guidance for it until markers are written")
    if any(m.startswith("triggers.") for m in missing):
        effects.append("situation-led sampling never prefers it")
    return f"INCOMPLETE: missing {', '.join(missing)}; " + "; ".join(effects)


def card_warnings(cards: Sequence[tuple[Pattern, Path]]) -> list[CardProblem]:
    """What imported cards do differently from authored ones; never fatal.

    Incomplete cards (see `Pattern.missing`), checklists outside 12-15 items, and checklist items an
    imported card shares with another card."""
    warnings: list[CardProblem] = []
    for card, path in cards:
        if message := incomplete_message(card):
            warnings.append(CardProblem(path, f"card {card.name!r}", message))
        if not CHECKLIST_MIN <= len(card.checklist) <= CHECKLIST_MAX:
            warnings.append(
                CardProblem(
                    path,
                    f"card {card.name!r} field checklist",
                    f"{len(card.checklist)} items, outside the {CHECKLIST_MIN}-{CHECKLIST_MAX} of authored cards "
                    "(kept as imported)",
                )
            )
    warnings.extend(problem for problem, imported in _repeated_items(cards) if imported)
    return warnings


def read_cards(directory: Path) -> tuple[list[tuple[Pattern, Path]], list[CardProblem]]:
    """Every card under a directory, with the file it came from, and every problem."""
    if not directory.is_dir():
        return [], [CardProblem(directory, "directory", "no such directory")]
    found: list[tuple[Pattern, Path]] = []
    problems: list[CardProblem] = []
    for path in card_files(directory):
        cards, issues = read_card_file(path)
        found.extend((card, path) for card in cards)
        problems.extend(issues)
    return found, problems


@dataclass(frozen=True)
class DirectoryCheck:
    """What `patterns validate` reports for a folder."""

    problems: list[CardProblem]
    """Errors: the library will not load with these."""
    warnings: list[CardProblem]
    """Loadable but worth knowing: incomplete imported cards and the like (see `card_warnings`)."""
    cards: int
    """How many cards were read."""


def check_directory(directory: Path) -> DirectoryCheck:
    """Every problem and warning in a directory of cards (each file, then across files)."""
    found, problems = read_cards(directory)
    builtin = [card for card, _ in read_cards(BUILTIN_CARDS)[0]] if directory != BUILTIN_CARDS else []
    problems += check_cards(found) + unknown_siblings(found, builtin)
    return DirectoryCheck(problems, card_warnings(found), len(found))


def validate_directory(directory: Path) -> list[CardProblem]:
    """Every problem in a directory of cards (each file, then across files); warnings left out."""
    return check_directory(directory).problems


def load_library(patterns_dirs: Sequence[Path] = (), *, builtin: bool = True) -> PatternLibrary:
    """Built-in cards, overridden or extended (by id) by user directories, in order."""
    found: dict[str, tuple[Pattern, Path]] = {}
    problems: list[CardProblem] = []
    directories = ([BUILTIN_CARDS] if builtin else []) + user_pattern_dirs(patterns_dirs)
    for directory in directories:
        cards, issues = read_cards(directory)
        problems.extend(issues)
        for card, path in cards:
            found[card.id] = (card, path)
    problems.extend(p for p in check_cards(list(found.values())) if "checklist" not in p.where)
    problems.extend(unknown_siblings(list(found.values())))
    if incomplete := [c.name for c, _ in found.values() if not c.complete]:
        logger.info("%d incomplete imported card(s) loaded: %s", len(incomplete), ", ".join(incomplete[:10]))
    if problems:
        listing = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise PatternDataError(
            f"pattern cards have {len(problems)} problem(s); fix them or run 'humanllm patterns validate DIR':"
            f"\n  {listing}{more}"
        )
    return PatternLibrary((c for c, _ in found.values()), {c.id: p for c, p in found.values()})
