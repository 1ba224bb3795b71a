"""Reading pattern card files, reporting every problem with its file and field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from humanllm.core import Pattern, read_text_file
from humanllm.errors import DataError

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class CardProblem:
    """One thing wrong in a card file."""

    file: Path
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


def read_card_file(path: Path) -> tuple[list[Pattern], list[CardProblem]]:
    """Parse one YAML file holding a list of cards (or one card)."""
    try:
        raw = yaml.load(read_text_file(path, what="card file"), Loader=_Loader)
    except DataError as exc:
        return [], [CardProblem(path, "file", str(exc))]
    except yaml.YAMLError as exc:
        return [], [CardProblem(path, "file", f"cannot read YAML: {exc}")]
    entries = raw if isinstance(raw, list) else [raw]
    cards: list[Pattern] = []
    problems: list[CardProblem] = []
    for index, entry in enumerate(entries):
        label = entry.get("name", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            cards.append(Pattern.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "card"
                problems.append(CardProblem(path, f"card {label!r} field {field}", err["msg"]))
    return cards, problems


def card_files(directory: Path) -> list[Path]:
    """All card files under a directory, in a stable order; a `relations/` folder holds no cards."""
    return sorted(
        p
        for ext in ("*.yaml", "*.yml")
        for p in directory.rglob(ext)
        if "relations" not in p.relative_to(directory).parts[:-1]
    )
