"""Episodes written in the authors' released schema: one JSON array per split, as their scripts save them.

`episode_to_released` is one record exactly as their generators write it (a one-pattern bundle as a
string, profile names as the source headed them, `conversation` as `{char, content}` turns whose
content is the trinity text, variation fields only when there is something in them).
`export_released` streams a store or a split folder into `OUT/<split>.json` files when the episodes
carry split labels, or into one array file otherwise; their readers (`json.load` of a list) take
either as written.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field, ValidationError

from humanllm.core import CharacterProfile, Episode, ScenarioChecklist, check_output_dir, check_output_file
from humanllm.errors import ConfigError, DataError
from humanllm.simulation._records import read_lines
from humanllm.simulation._splits import SPLITS
from humanllm.simulation._store import EpisodeStore

UNSPLIT = "unsplit"
"""The file stem for episodes without a split label, when others have one."""
_NO_EPISODES = "generate some with `humanllm generate --out STORE` or import them with `humanllm data import`"


def _profile(person: CharacterProfile) -> dict[str, str]:
    return {"name": person.heading or person.name, "aboutSelf": person.about_self, "aboutOthers": person.about_others}


def _profiles(protagonist: CharacterProfile | None, supporting: list[CharacterProfile]) -> dict[str, Any]:
    out: dict[str, Any] = {} if protagonist is None else {"protagonist": _profile(protagonist)}
    return {**out, "supportingCharacter": [_profile(p) for p in supporting]} if supporting or out else {}


def _by_name(checklists: list[ScenarioChecklist]) -> dict[str, list[str]]:
    return {c.character: list(c.items) for c in checklists}


def _filled(value: object) -> bool:
    return value not in ("", None, [], {})


def episode_to_released(episode: Episode) -> dict[str, Any]:
    """An episode as one released record (thoughts kept in the trinity text; no split label: the file is it)."""
    scenario = episode.scenario
    record: dict[str, Any] = {
        "pattern": scenario.patterns[0] if len(scenario.patterns) == 1 else list(scenario.patterns),
        "situation": scenario.situation,
        "analysis": scenario.analysis,
        "scenario": {
            "storyBackground": scenario.background,
            "charactersProfiles": _profiles(scenario.protagonist, scenario.supporting),
        },
        "protagonist": scenario.protagonist.name,
        "supporting_characters": [p.name for p in scenario.supporting],
        "conversation": [{"char": t.speaker, "content": t.as_trinity()} for t in episode.conversation.turns],
    }
    if scenario.char2pattern:
        record["char2pattern"] = {name: list(patterns) for name, patterns in scenario.char2pattern.items()}
    if scenario.checklists:
        record["conversation_checklist"] = _by_name(scenario.checklists)
    varied = scenario.variation
    if varied is None:
        return record
    scene: dict[str, Any] = {"storyBackground": varied.background} if varied.background else {}
    if profiles := _profiles(varied.protagonist, varied.supporting):
        scene["charactersProfiles"] = profiles
    fields = {
        "factor_analysis": varied.factor_analysis,
        "new_factor_settings": varied.new_factor_settings,
        "scenario_variation": scene,
        "analysis_variation": varied.analysis,
        "supporting_characters_variation": list(varied.supporting_names),
        "conversation_checklist_variation": _by_name(varied.checklists),
    }
    record.update({key: value for key, value in fields.items() if _filled(value)})
    return record


def _split_file(path: Path) -> Iterator[Episode]:
    for number, line in read_lines(path):
        try:
            yield Episode.model_validate_json(line)
        except ValidationError as exc:
            raise DataError(f"{path}:{number}: not an episode record ({exc.errors()[0]['msg']})") from exc


def _split_parts(source: Path) -> list[tuple[str, Path]]:
    """The splits of a split folder: `<split>.jsonl` from `data split`, or one store folder per split."""
    parts = []
    for name in SPLITS:
        folder, file = source / name, source / f"{name}.jsonl"
        if folder.is_dir() and any(folder.glob("episodes-*.jsonl")):
            parts.append((name, folder))
        elif file.is_file():
            parts.append((name, file))
    return parts


def labelled_episodes(source: Path) -> Iterator[tuple[str | None, Episode]]:
    """(split label, episode) of a store folder (labels carried by the episodes) or a split folder
    (`train.jsonl` ... from `data split`, or one store per split; the folder names the split)."""
    if any(source.glob("episodes-*.jsonl")):
        for episode in EpisodeStore.open_for_reading(source).iter_episodes():
            carried = episode.config.get("split")
            yield (carried if isinstance(carried, str) and carried else None), episode
        return
    for name, path in _split_parts(source):
        episodes = EpisodeStore.open_for_reading(path).iter_episodes() if path.is_dir() else _split_file(path)
        yield from ((name, episode) for episode in episodes)


class ExportReport(BaseModel):
    """What `export_released` wrote."""

    files: dict[str, int] = Field(default_factory=dict, description="File written -> records in it.")


def _targets(labels: Counter[str | None], source: Path, out: Path, force: bool) -> dict[str | None, Path]:
    if not labels.total():
        raise DataError(f"{source} has no episodes to export: {_NO_EPISODES}")
    if set(labels) == {None}:
        return {None: check_output_file(out, force=force)}
    named = ", ".join(sorted(label or UNSPLIT for label in labels))
    if out.suffix in (".json", ".jsonl"):
        raise ConfigError(
            f"the episodes carry split labels ({named}), written one file per split: give a folder for --out, "
            f"e.g. {out.with_suffix('')}"
        )
    check_output_dir(out)
    ordered = sorted(labels, key=lambda label: label or UNSPLIT)
    return {label: check_output_file(out / f"{label or UNSPLIT}.json", force=force) for label in ordered}


def export_released(source: Path, out: Path, *, force: bool = False) -> ExportReport:
    """Write the episodes of `source` in the released schema (see the module doc); nothing is replaced
    without `force`, and a failed export leaves every old file whole."""
    labels: Counter[str | None] = Counter(label for label, _ in labelled_episodes(source))
    if not any(source.glob("episodes-*.jsonl")):
        labels.update({name: 0 for name, _ in _split_parts(source)})  # an empty split is an empty array
    targets = _targets(labels, source, out, force)
    temporary = {label: path.with_name(f".{path.name}.export.tmp") for label, path in targets.items()}
    handles: dict[str | None, IO[str]] = {}
    counts: Counter[str | None] = Counter()
    try:
        for label, path in temporary.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handles[label] = path.open("w", encoding="utf-8")
            handles[label].write("[")
        for label, episode in labelled_episodes(source):
            if label not in handles:
                continue  # written by another command since the first pass: not part of this export
            text = json.dumps(episode_to_released(episode), ensure_ascii=False, indent=2)
            handles[label].write(("," if counts[label] else "") + "\n  " + text.replace("\n", "\n  "))
            counts[label] += 1
        for label, handle in handles.items():
            handle.write("\n]" if counts[label] else "]")
            handle.close()
        for label, path in temporary.items():
            os.replace(path, targets[label])  # each in one step: a failed export leaves the old file whole
    finally:
        for handle in handles.values():
            handle.close()
        for path in temporary.values():
            path.unlink(missing_ok=True)
    return ExportReport(files={str(targets[label]): counts[label] for label in targets})
