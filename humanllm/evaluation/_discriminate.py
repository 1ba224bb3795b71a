"""Do a family's checklists tell its members apart? Play each member, score every play on every checklist.

For a family of near-synonym patterns (quiet, shy, reserved, ...), each member is played in short
episodes where one character carries it alone; every play is then judged on the checklists of *all*
members. The confusion matrix (played pattern x checklist, mean item score x 100) should peak on its
diagonal, and an item discriminates when its own pattern's plays score it higher than every sibling's.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from statistics import fmean

from pydantic import BaseModel, Field

from humanllm.agents.director import TurnRules
from humanllm.core import ChecklistItem, Episode, Metric, Pattern, run_bounded
from humanllm.errors import ConfigError, DataError
from humanllm.evaluation._judging import JudgeOptions, judge_character
from humanllm.llm import RoleModel
from humanllm.patterns import InteractionGraph, PatternLibrary
from humanllm.simulation import RoleModels, RoleSpecs, SimulationConfig, run_episode

logger = logging.getLogger(__name__)


def family_of(library: PatternLibrary, names: Sequence[str]) -> list[Pattern]:
    """The members: several names as given, or one name and the siblings its card contrasts with."""
    cards = library.resolve(list(names))
    if len(cards) == 1:
        cards += library.resolve(cards[0].contrast_with) if cards[0].contrast_with else []
    unique = list({card.name: card for card in cards}.values())
    if len(unique) < 2:
        raise ConfigError(
            f"{unique[0].name!r} names no siblings (contrast_with is empty): give two or more patterns, "
            "e.g. 'quiet,shy,reserved'"
        )
    return unique


def family_items(members: Sequence[Pattern]) -> list[ChecklistItem]:
    """Every member's checklist, as IPE items with ids unique across the family."""
    return [
        ChecklistItem(id=f"ipe.{card.id}.{n}", metric=Metric.IPE, question=question, pattern=card.name)
        for card in members
        for n, question in enumerate(card.checklist, 1)
    ]


class ItemDiscrimination(BaseModel):
    """How one item scored on its own pattern's plays and on each sibling's."""

    pattern: str
    question: str
    own: float | None = Field(description="Mean score (-1..1) on plays of its own pattern; None: never scored.")
    siblings: dict[str, float | None] = Field(description="Mean score on plays of each sibling.")
    contrast_with: str | None = Field(default=None, description="The sibling a contrast item should contradict.")

    @property
    def shared_with(self) -> list[str]:
        """Siblings whose plays score the item at least as well as its own pattern's (it fails to tell them apart)."""
        if self.own is None:
            return []
        return [name for name, score in self.siblings.items() if score is not None and score >= self.own]

    @property
    def discriminates(self) -> bool | None:
        if self.own is None or all(score is None for score in self.siblings.values()):
            return None
        return not self.shared_with


class DiscriminationReport(BaseModel):
    """The confusion matrix of a family and its items' discrimination."""

    members: list[str]
    replicates: int
    matrix: dict[str, dict[str, float | None]] = Field(
        description="played pattern -> checklist pattern -> mean item score x 100 (None: nothing scored)."
    )
    items: list[ItemDiscrimination]
    episodes: list[str] = Field(description="Ids of the played episodes.")
    unscored: int = Field(default=0, description="Verdicts the judge left unscored (left out of the means).")

    @property
    def diagonal_wins(self) -> int:
        """Members whose own checklist scores their plays highest of all the family's checklists."""
        wins = 0
        for played, row in self.matrix.items():
            own = row.get(played)
            if own is not None and all(v is None or v < own for name, v in row.items() if name != played):
                wins += 1
        return wins

    def failing_items(self) -> list[ItemDiscrimination]:
        return [item for item in self.items if item.discriminates is False]


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 4) if values else None


def summarise(
    members: Sequence[Pattern], plays: dict[str, list[Episode]], verdicts: dict[tuple[str, str], list[float]]
) -> tuple[dict[str, dict[str, float | None]], list[ItemDiscrimination]]:
    """Matrix and per-item table from the scores: `verdicts[(played, item id)]` = the item's scores on those plays."""
    items = family_items(members)
    by_pattern: dict[str, list[ChecklistItem]] = defaultdict(list)
    for item in items:
        by_pattern[item.pattern or ""].append(item)
    matrix: dict[str, dict[str, float | None]] = {}
    for played in plays:
        row: dict[str, float | None] = {}
        for card in members:
            scores = [s for item in by_pattern[card.name] for s in verdicts.get((played, item.id), [])]
            mean = _mean(scores)
            row[card.name] = None if mean is None else round(100 * mean, 1)
        matrix[played] = row
    cards = {card.name: card for card in members}
    table = [
        ItemDiscrimination(
            pattern=item.pattern or "",
            question=item.question,
            own=_mean(verdicts.get((item.pattern or "", item.id), [])),
            siblings={name: _mean(verdicts.get((name, item.id), [])) for name in plays if name != item.pattern},
            contrast_with=cards[item.pattern or ""].contrast_items.get(item.question),
        )
        for item in items
    ]
    return matrix, table


async def discriminate(
    members: Sequence[Pattern],
    graph: InteractionGraph,
    *,
    players: RoleModels,
    player_specs: RoleSpecs,
    judge: RoleModel,
    replicates: int = 3,
    rules: TurnRules | None = None,
    seed: int = 0,
    concurrency: int = 4,
    guidance: bool = True,
    on_episode: Callable[[Episode], None] | None = None,
    on_judged: Callable[[], None] | None = None,
) -> DiscriminationReport:
    """Play each member `replicates` times (2 characters, the member given to one), judge every play on
    every member's checklist, and tabulate. `player_specs` names the writer and character specs
    (they enter each episode's spec)."""
    jobs = [(card, seed + r) for card in members for r in range(replicates)]
    plays: dict[str, list[Episode]] = defaultdict(list)

    async def play(job: tuple[Pattern, int]) -> None:
        card, job_seed = job
        config = SimulationConfig(
            patterns=[card.name],
            characters=2,
            rules=rules or TurnRules(min_turns=6, max_turns=8),
            seed=job_seed,
            guidance=guidance,
            models=player_specs,
        )
        episode = await run_episode(config, graph, players)
        plays[card.name].append(episode)
        if on_episode is not None:
            on_episode(episode)

    await run_bounded(jobs, play, limit=concurrency)
    items = family_items(members)
    options = JudgeOptions(runs=1, holistic="off", concurrency=concurrency, seed=seed)
    verdicts: dict[tuple[str, str], list[float]] = defaultdict(list)
    unscored = 0
    judged = [(name, episode) for name, episodes in plays.items() for episode in episodes]

    async def score(job: tuple[str, Episode]) -> None:
        nonlocal unscored
        played, episode = job
        carrier = next((name for name, held in episode.scenario.char2pattern.items() if played in held), None)
        if carrier is None:
            raise DataError(
                f"episode {episode.id}: no character carries {played!r} (the scenario's char2pattern lost it); "
                "run again with another --seed or a stronger --model"
            )
        judgement = await judge_character(
            episode, carrier, model=judge, library=graph.library, options=options, items=items
        )
        for verdict in judgement.verdicts:
            if verdict.score is None:
                unscored += 1
            else:
                verdicts[(played, verdict.item_id)].append(float(verdict.score))
        if on_judged is not None:
            on_judged()

    await run_bounded(judged, score, limit=concurrency)
    matrix, table = summarise(members, plays, verdicts)
    return DiscriminationReport(
        members=[card.name for card in members],
        replicates=replicates,
        matrix=matrix,
        items=table,
        episodes=sorted(episode.id for _, episode in judged),
        unscored=unscored,
    )
