"""The dataset card (`README.md`) of a store, split folder or Parquet export, so `datasets` and the Hub read it.

The card's YAML front matter names `configs:` with `data_files` per split (see `_card_data`), so
`datasets.load_dataset(FOLDER)` returns the right splits instead of guessing from file names (which
merges id/ood/mixed into one `test` split, and reads `manifest.json` as data). The body, rendered
from `templates/dataset_card.jinja`, says what the data is, its rows per split, the models used and
the licence. The first line after the front matter is a marker: a README without it was written by
someone else and is never overwritten (unless forced). Rewriting keeps the licence the card has.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from humanllm.core import PromptFolder, read_text_file, write_text_atomic
from humanllm.errors import ConfigError, DataError
from humanllm.simulation._card_data import CardData, card_data

logger = logging.getLogger(__name__)

CARD_FILE = "README.md"
MARKER = "<!-- humanllm dataset card: rewritten by `humanllm data card`; edit the licence with --license -->"
DEFAULT_LICENSE = "other"
_TEMPLATES = PromptFolder(Path(__file__).parent / "templates")
_TITLES = {"store": "humanllm episode store", "split": "humanllm dataset splits", "export": "humanllm episodes"}


def read_front_matter(path: Path) -> tuple[dict[str, Any], bool] | None:
    """(front matter, written by humanllm) of a README; None when there is none."""
    if not path.is_file():
        return None
    text = read_text_file(path, what="dataset card")
    ours = MARKER in text
    if not text.startswith("---"):
        return {}, ours
    head = text.split("\n---", 1)[0].removeprefix("---")
    try:
        data = yaml.safe_load(head)
    except yaml.YAMLError:
        return {}, ours
    return (data if isinstance(data, dict) else {}), ours


def _front_matter(data: CardData, license: str, title: str) -> str:
    configs = [
        {"config_name": c.name, "data_files": [{"split": s.name, "path": s.path} for s in c.splits]}
        for c in data.configs
    ]
    matter: dict[str, Any] = {
        "license": license,
        "pretty_name": title,
        "tags": ["humanllm", "synthetic", "role-play", "social-simulation"],
        "task_categories": ["text-generation"],
        "language": ["en"],
    }
    if configs:
        matter["configs"] = configs
    return yaml.safe_dump(matter, sort_keys=False, allow_unicode=True).strip()


def render_card(data: CardData, *, folder: Path, license: str = DEFAULT_LICENSE) -> str:
    """The card's text: YAML front matter, the marker and the body."""
    title = f"{_TITLES[data.kind]}: {folder.resolve().name}"
    return (
        _TEMPLATES.render(
            "dataset_card",
            front_matter=_front_matter(data, license, title),
            marker=MARKER,
            title=title,
            kind=data.kind,
            configs=data.configs,
            extra_configs=[c.name for c in data.configs if c.name != "default"],
            empty_splits=data.empty_splits,
            duplicates=data.duplicates,
            ood_patterns=data.ood_patterns,
            patterns=data.patterns,
            situations=data.situations,
            models=data.models,
            license=license,
            folder_hint=folder.as_posix(),
        )
        + "\n"
    )


def write_card(folder: Path, *, license: str | None = None, force: bool = False) -> Path:
    """Write `folder/README.md` atomically from the folder's files; returns its path.

    `license` None keeps the licence of the card there (or `other`). A README that humanllm did not
    write is a `ConfigError` unless `force`.
    """
    path = folder / CARD_FILE
    existing = read_front_matter(path)
    if existing is not None and not existing[1] and not force:
        raise ConfigError(
            f"{path} was not written by humanllm: pass --force to replace it with a dataset card, or move it aside"
        )
    kept = existing[0].get("license") if existing is not None and existing[1] else None
    chosen = license or (str(kept) if kept else DEFAULT_LICENSE)
    write_text_atomic(path, render_card(card_data(folder), folder=folder, license=chosen))
    return path


def refresh_card(folder: Path) -> Path | None:
    """`write_card` after a folder was written: never fails the write, logs why a card was not written."""
    try:
        return write_card(folder)
    except (ConfigError, DataError, OSError) as exc:
        logger.warning("no dataset card written in %s: %s", folder, exc)
        return None
