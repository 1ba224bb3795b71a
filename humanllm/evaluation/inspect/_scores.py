"""One judgement as an inspect `Score`, and an episode as inspect chat messages: shared by the task and the export.

The score's value holds every metric on the scale our tables use (IPE / MPD -100..100, holistic
0..100). A metric the judge gave no usable verdict for, or whose items were all n/a (unless n/a
counts as 0), is NaN: inspect's sentinel for *unscored*, which its metrics and epoch reducers leave
out, so it is never averaged in as 0. The metadata keeps every verdict as it was: +1 / 0 / -1,
"n/a" or "unscored", with its reason.
"""

from __future__ import annotations

import math
import random
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageUser
from inspect_ai.scorer import Metric, SampleScore, Score, metric

from humanllm.core import Episode, bracketed, seen_by
from humanllm.core import Metric as ChecklistMetric
from humanllm.evaluation._bootstrap import RESAMPLES, bootstrap_ci
from humanllm.evaluation._records import Judgement
from humanllm.evaluation._scoring import HOLISTIC, METRICS, sample_value

SCORER = "checklist_judge"
"""The scorer's name in every log: the task's and the export's."""


def verdict_rows(judgement: Judgement) -> list[dict[str, Any]]:
    """Every item with its verdict: score +1 / 0 / -1, "n/a" or "unscored", and the judge's reason."""
    by_id = {v.item_id: v for v in judgement.verdicts}
    rows = []
    for item in judgement.items:
        verdict = by_id.get(item.id)
        if verdict is not None and verdict.not_applicable:
            score: int | str = "n/a"
        elif verdict is None or verdict.score is None:
            score = "unscored"
        else:
            score = int(verdict.score)
        rows.append(
            {
                "item": item.id,
                "metric": item.metric.value,
                "pattern": item.pattern or "",
                "question": item.question,
                "score": score,
                "reason": verdict.reason if verdict is not None else "the judge was never asked",
            }
        )
    return rows


def _counts(rows: list[dict[str, Any]], metric: str) -> dict[str, int]:
    mine = [row["score"] for row in rows if row["metric"] == metric]
    return {
        "items": len(mine),
        "scored": sum(isinstance(s, int) for s in mine),
        "not_applicable": mine.count("n/a"),
        "unscored": mine.count("unscored"),
    }


def judgement_score(judgement: Judgement, *, na_as_zero: bool = False) -> Score:
    """The judgement as one inspect score: a value per metric (NaN = unscored), the verdicts in the metadata."""
    value: dict[str, float] = {}
    for name in METRICS:
        sample = sample_value(judgement, name, na_as_zero=na_as_zero)
        value[name] = math.nan if sample is None else (sample if name in HOLISTIC else 100.0 * sample)
    rows = verdict_rows(judgement)
    coverage = {m.value: _counts(rows, m.value) for m in (ChecklistMetric.IPE, ChecklistMetric.MPD)}
    shown = []
    for name in ("ipe", "mpd"):
        c = coverage[name]
        number = "unscored" if math.isnan(value[name]) else f"{value[name]:.0f}"
        shown.append(
            f"{name.upper()} {number} ({c['scored']} scored, {c['not_applicable']} n/a, {c['unscored']} unscored)"
        )
    holistic = judgement.holistic
    if holistic is not None:
        shown.append(f"holistic ({holistic.method}): {holistic.reason}".strip())
    scored_any = any(not math.isnan(v) for v in value.values())
    all_na = all(c["items"] and c["items"] == c["not_applicable"] for c in coverage.values())
    return Score(
        value=dict(value),
        explanation="; ".join(shown),
        reason=None if scored_any else ("not_applicable" if all_na else "grader_failed"),
        metadata={
            "episode_id": judgement.episode_id,
            "character": judgement.character,
            "judge": judgement.judge,
            "run": judgement.run,
            "prompt_version": judgement.prompt_version,
            "na_as_zero": na_as_zero,
            "coverage": coverage,
            "verdicts": rows,
            "holistic": holistic.model_dump(mode="json") if holistic is not None else None,
        },
    )


def transcript_messages(episode: Episode, character: str) -> list[ChatMessage]:
    """The episode as `character` lived it: the scene as the system message, their own turns (thoughts
    included) as the assistant's, everyone else's (without thoughts) as the user's, each named."""
    scene = episode.scenario.background
    patterns = ", ".join(episode.scenario.char2pattern.get(character, []))
    messages: list[ChatMessage] = [
        ChatMessageSystem(content=f"You are {character} ({patterns}).\n\nScene: {scene}", source="input")
    ]
    for turn in episode.conversation.turns:
        text = " ".join(bracketed(channel, part) for channel, part in seen_by(turn, character).parts())
        if turn.speaker == character:
            messages.append(ChatMessageAssistant(content=text or "…", source="generate"))
        else:
            messages.append(ChatMessageUser(content=f"{turn.speaker}: {text}", source="input"))
    return messages


@metric(name="bootstrap_ci")
def bootstrap_interval(resamples: int = RESAMPLES, seed: int = 0) -> Metric:
    """The 95% percentile-bootstrap interval of the mean over samples (`low`, `high`), as in our own tables.

    inspect hands the metric scored samples only (unscored, NaN, are left out before) and, with
    several epochs (judge runs), one value per sample already reduced over its runs.
    """

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        ordered = sorted(scores, key=lambda s: str(s.sample_id))  # the arrival order must not matter
        values = [s.score.as_float() for s in ordered]
        ci = bootstrap_ci(values, rng=random.Random(seed), resamples=resamples)
        return {"low": ci.low, "high": ci.high} if ci is not None else {"low": math.nan, "high": math.nan}

    return compute
