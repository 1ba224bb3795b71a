"""Human alignment: export items for raters, read their scores back, compare with the judge.

Per metric: Pearson and Spearman r between the human and the judge score of each item (several
raters or runs are averaged), the same at sample level (each character's mean), and Cohen's kappa
on the ternary checklist items (each side's majority score).
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from humanllm.agents.judge import checklist_items, judged_characters, measured_patterns
from humanllm.core import Episode, read_text_file, render_turns
from humanllm.errors import ConfigError, DataError
from humanllm.evaluation._records import Judgement
from humanllm.evaluation._scoring import HOLISTIC, METRICS
from humanllm.evaluation._stats import cohen_kappa, mean, pearson, spearman
from humanllm.patterns import PatternLibrary

HOLISTIC_QUESTIONS = {
    "anthropomorphism": "How much does the character come across as a real person rather than an AI or a stock "
    "character (0 = robotic or generic, 100 = like a real person)?",
    "fidelity": "How faithfully does the character keep to the profile in thought, action and speech "
    "(0 = ignores it, 100 = fully consistent)?",
}


NOT_RATED = ("n/a", "na")
"""What a rater writes for an item the transcript gave no opportunity to show (`humanllm view`'s annotation mode
writes "n/a"): read as no score, as the judge's n/a is."""


class AnnotationItem(BaseModel):
    """One row for a human rater: the item, the scale and everything needed to judge it."""

    model_config = ConfigDict(extra="forbid")

    episode_id: str
    character: str
    split: str
    metric: str = Field(description="ipe, mpd, anthropomorphism or fidelity.")
    item_id: str
    pattern: str = Field(default="", description="IPE: the pattern the item belongs to.")
    question: str
    scale: str = Field(description="'-1/0/+1' for checklist items, '0-100' for holistic ones.")
    background: str
    profile: str
    transcript: str = Field(description="Numbered turns; the character's thoughts shown, the others' hidden.")
    human_score: str = Field(default="", description="For the rater to fill in: -1, 0, +1 or n/a (0-100 for holistic).")
    rater: str = Field(default="", description="For the rater to fill in.")


def annotation_items(
    episodes: Iterable[tuple[Episode, str]], library: PatternLibrary, *, samples: int | None = None, seed: int = 0
) -> list[AnnotationItem]:
    """Rows for every judged character (or a seeded sample of `samples` characters)."""
    chosen = [(e, split, c) for e, split in episodes for c in judged_characters(e)]
    if samples is not None and samples < len(chosen):
        picked = set(random.Random(seed).sample(range(len(chosen)), samples))
        chosen = [job for index, job in enumerate(chosen) if index in picked]
    rows: list[AnnotationItem] = []
    for episode, split, character in chosen:
        common = {
            "episode_id": episode.id,
            "character": character,
            "split": split,
            "background": episode.scenario.background,
            "profile": episode.scenario.profile(character).about_self,
            "transcript": render_turns(episode.conversation.turns, character, numbered=True),
        }
        for item in checklist_items(episode.scenario, character, library, measured_patterns(episode, character)):
            rows.append(
                AnnotationItem(
                    **common,
                    metric=item.metric.value,
                    item_id=item.id,
                    pattern=item.pattern or "",
                    question=item.question,
                    scale="-1/0/+1",
                )
            )
        for metric in HOLISTIC:
            rows.append(
                AnnotationItem(
                    **common,
                    metric=metric,
                    item_id=f"holistic.{metric}",
                    question=HOLISTIC_QUESTIONS[metric],
                    scale="0-100",
                )
            )
    return rows


def write_annotations(rows: Sequence[AnnotationItem], path: Path) -> None:
    """CSV (one row per item, transcripts quoted) or JSONL, by the file's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(row.model_dump_json() + "\n")
        return
    if path.suffix != ".csv":
        raise ConfigError(f"--out must end in .csv or .jsonl, not {path.name!r}")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(AnnotationItem.model_fields))
        writer.writeheader()
        for row in rows:
            writer.writerow(row.model_dump())


class Rating(BaseModel):
    """One score of one item by one rater (a person, or a judge run)."""

    model_config = ConfigDict(extra="forbid")

    episode_id: str
    character: str
    item_id: str
    metric: str
    score: float
    rater: str = ""


def _metric_of(item_id: str, given: str) -> str:
    if given in METRICS:
        return given
    head = item_id.split(".", 1)
    if head[0] in ("ipe", "mpd"):
        return head[0]
    if head[0] == "holistic" and len(head) == 2 and head[1] in HOLISTIC:
        return head[1]
    raise ValueError(f"cannot tell the metric of item {item_id!r}; fill the 'metric' column")


def _rating(raw: dict[str, object], where: str) -> Rating | None:
    value = raw.get("human_score", raw.get("score", ""))
    if value is None or str(value).strip() == "":
        return None  # not rated (yet)
    if str(value).strip().lower() in NOT_RATED:
        return None  # the rater saw no opportunity to show it: like the judge's n/a, it enters no metric
    try:
        item_id = str(raw["item_id"])
        metric = _metric_of(item_id, str(raw.get("metric") or ""))
        score = float(str(value).strip().lstrip("+"))
        rating = Rating(
            episode_id=str(raw["episode_id"]),
            character=str(raw["character"]),
            item_id=item_id,
            metric=metric,
            score=score,
            rater=str(raw.get("rater") or ""),
        )
    except (KeyError, ValueError, ValidationError) as exc:
        raise DataError(f"{where}: not a rating ({exc}); keep the columns written by `eval annotate-export`") from exc
    if metric in HOLISTIC and not 0 <= score <= 100:
        raise DataError(f"{where}: {metric} takes 0-100, not {value!r}")
    if metric not in HOLISTIC and score not in (-1, 0, 1):
        raise DataError(f"{where}: checklist items take -1, 0 or +1, not {value!r}")
    return rating


def read_ratings(path: Path) -> list[Rating]:
    """Human ratings from the CSV or JSONL written by `eval annotate-export` and filled in."""
    if not path.exists():
        raise DataError(f"{path} does not exist: write it with `humanllm eval annotate-export` and fill it in")
    out: list[Rating] = []
    with io.StringIO(read_text_file(path, what="ratings file"), newline="") as handle:
        if path.suffix == ".jsonl":
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        raw = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{path}:{number}: not JSON ({exc.msg})") from exc
                    rating = _rating(raw, f"{path}:{number}")
                    if rating is not None:
                        out.append(rating)
        else:
            for number, row in enumerate(csv.DictReader(handle), 2):
                rating = _rating(dict(row), f"{path}:{number}")
                if rating is not None:
                    out.append(rating)
    return out


def judge_ratings(judgements: Iterable[Judgement]) -> list[Rating]:
    """Every scored verdict and holistic score of the judge, one rating per run."""
    out: list[Rating] = []
    for j in judgements:
        metric_of = {item.id: item.metric.value for item in j.items}
        for verdict in j.verdicts:
            if verdict.score is not None and verdict.item_id in metric_of:
                out.append(
                    Rating(
                        episode_id=j.episode_id,
                        character=j.character,
                        item_id=verdict.item_id,
                        metric=metric_of[verdict.item_id],
                        score=float(verdict.score),
                        rater=f"run {j.run}",
                    )
                )
        for metric in HOLISTIC:
            value = getattr(j.holistic, metric) if j.holistic is not None else None
            if value is not None:
                out.append(
                    Rating(
                        episode_id=j.episode_id,
                        character=j.character,
                        item_id=f"holistic.{metric}",
                        metric=metric,
                        score=float(value),
                        rater=f"run {j.run}",
                    )
                )
    return out


class MetricAlignment(BaseModel):
    """Agreement between people and the judge on one metric."""

    items: int = Field(description="Items rated by both.")
    pearson: float | None = Field(description="Item level.")
    spearman: float | None = Field(description="Item level.")
    kappa: float | None = Field(description="Cohen's kappa on the majority ternary score (checklist metrics only).")
    samples: int = Field(description="Characters rated by both.")
    sample_pearson: float | None = Field(description="Sample level: each character's mean score.")
    sample_spearman: float | None
    human: float | None = Field(description="The metric by people (IPE/MPD x100, as reported).")
    judge: float | None = Field(description="The metric by the judge on the same items.")


class AlignmentReport(BaseModel):
    metrics: dict[str, MetricAlignment]
    human_ratings: int
    judge_ratings: int
    unmatched: int = Field(description="Human-rated items the judge has no score for.")


def _majority(values: Sequence[float]) -> int:
    """The most common score; a tie goes to the rounded mean (half toward zero)."""
    counts = Counter(round(v) for v in values).most_common()
    if len(counts) == 1 or counts[0][1] > counts[1][1]:
        return counts[0][0]
    centre = sum(values) / len(values)
    return int(centre) if abs(centre - int(centre)) <= 0.5 else round(centre)


def align(human: Sequence[Rating], judge: Sequence[Rating]) -> AlignmentReport:
    """Per metric: item- and sample-level correlation, and kappa on ternary items."""
    Key = tuple[str, str, str]
    people: dict[Key, list[float]] = defaultdict(list)
    model: dict[Key, list[float]] = defaultdict(list)
    metric_of: dict[Key, str] = {}
    for rating in human:
        key = (rating.episode_id, rating.character, rating.item_id)
        people[key].append(rating.score)
        metric_of[key] = rating.metric
    for rating in judge:
        model[(rating.episode_id, rating.character, rating.item_id)].append(rating.score)
    both = [key for key in people if key in model]
    metrics: dict[str, MetricAlignment] = {}
    for metric in METRICS:
        keys = [k for k in both if metric_of[k] == metric]
        if not keys:
            continue
        h = [mean(people[k]) or 0.0 for k in keys]
        m = [mean(model[k]) or 0.0 for k in keys]
        per_sample_h: dict[tuple[str, str], list[float]] = defaultdict(list)
        per_sample_m: dict[tuple[str, str], list[float]] = defaultdict(list)
        for key, hv, mv in zip(keys, h, m, strict=True):
            per_sample_h[key[:2]].append(hv)
            per_sample_m[key[:2]].append(mv)
        samples = sorted(per_sample_h)
        sh = [mean(per_sample_h[s]) or 0.0 for s in samples]
        sm = [mean(per_sample_m[s]) or 0.0 for s in samples]
        scale = 1.0 if metric in HOLISTIC else 100.0
        human_metric, judge_metric = mean(sh), mean(sm)
        metrics[metric] = MetricAlignment(
            items=len(keys),
            pearson=pearson(h, m),
            spearman=spearman(h, m),
            kappa=None
            if metric in HOLISTIC
            else cohen_kappa([_majority(people[k]) for k in keys], [_majority(model[k]) for k in keys]),
            samples=len(samples),
            sample_pearson=pearson(sh, sm),
            sample_spearman=spearman(sh, sm),
            human=None if human_metric is None else scale * human_metric,
            judge=None if judge_metric is None else scale * judge_metric,
        )
    return AlignmentReport(
        metrics=metrics,
        human_ratings=len(human),
        judge_ratings=len(judge),
        unmatched=sum(1 for key in people if key not in model),
    )
