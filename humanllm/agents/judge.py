"""The judge: scores one character's turns against checklist items (IPE, MPD) and holistically.

IPE items are the pattern-level checklists of the character's patterns; MPD items are the
scenario checklist written for that character. Each call's schema is built for its batch: the
batch's item ids are its only (and required) keys, the score is one of -1/0/+1 and the free text is
bounded, so even the small local model stops and cannot invent or skip an item. Replies are parsed item by item: a reply
that is garbage, cut off or names an unknown item leaves the affected items *unscored, with a
reason*; they are retried by the judge graph and never counted as 0. The holistic baseline (CoSER's
flaw penalty by default, or a direct rating) is one more call; its schema and scoring are in
`humanllm.agents.holistic`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, create_model

from humanllm.agents._budget import (
    JUDGE_MAX_TOKENS,
    BudgetTooSmallError,
    fit_keyed,
    max_tokens_of,
    scaled,
)
from humanllm.agents._budget import (
    JUDGE_TEMPERATURE as JUDGE_TEMPERATURE,  # re-exported: `humanllm.agents.judge.JUDGE_TEMPERATURE`
)
from humanllm.agents._templates import render, template_version
from humanllm.agents.holistic import (
    HolisticMethod,
    HolisticReply,
    HolisticScores,
    direct_scores,
    flaws_limit,
    flaws_schema,
    parse_flaws,
    scored_count,
)
from humanllm.core import ChecklistItem, Episode, Metric, Scenario, Score, Verdict, render_turns
from humanllm.errors import DataError
from humanllm.llm import (
    NAME,
    KeyedReply,
    RoleModel,
    extract_json,
    model_template_versions,
    parse_reply,
    response_format_for,
    shape_key,
)
from humanllm.patterns import PatternLibrary

logger = logging.getLogger(__name__)

JUDGE_TEMPLATES = ("judge_system", "judge_items", "judge_holistic", "judge_holistic_coser")
QUOTE_MAX = 120
"""Characters of the quoted evidence (bounded so small models stop)."""
REASON_MAX = 160
"""Characters of the one-sentence reason."""
QUOTE_MIN, REASON_MIN = 30, 40
"""The lowest bounds on quote and reason when a large batch must fit the judge's token budget."""
EVIDENCE_TURNS_MAX = 4
"""Turn numbers cited per verdict."""
VERDICTS_TITLE = "JudgeVerdicts"
"""Title of every per-call verdict schema (fakes and the mock server route on it)."""


@functools.cache
def prompt_version() -> str:
    """A short hash of the judge's templates: part of every judgement's key (read once per process)."""
    versions = [template_version(name) for name in JUDGE_TEMPLATES] + list(model_template_versions().values())
    joined = ",".join(versions)
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


# --- items ------------------------------------------------------------------------------------
MEASURE_KEY = "measure"
"""An episode spec's field naming, per character, the patterns it is judged on when they are not (only) the
ones it carries: a study judges every cell on the items of every pattern of its design."""


def measured_patterns(episode: Episode, character: str) -> list[str]:
    """The patterns whose IPE items `character` is judged on: the spec's `measure` entry when the episode has
    one (a study cell, a fork), else the patterns the character carries."""
    measure = (episode.spec or {}).get(MEASURE_KEY)
    if isinstance(measure, dict) and character in measure:
        return list(measure[character])
    return list(episode.scenario.char2pattern.get(character, []))


def checklist_items(
    scenario: Scenario, character: str, library: PatternLibrary, patterns: Sequence[str] | None = None
) -> list[ChecklistItem]:
    """IPE items (pattern checklists of the character's patterns, or of `patterns` when given), then MPD
    items (its scenario checklist)."""
    items: list[ChecklistItem] = []
    for name in scenario.char2pattern.get(character, []) if patterns is None else patterns:
        try:
            card = library.get(name)
        except KeyError as exc:
            raise DataError(
                f"{character!r} carries {name!r}, which the pattern library does not know: pass the folder "
                "of its card with --patterns-dir"
            ) from exc
        items += [
            ChecklistItem(id=f"ipe.{card.id}.{n}", metric=Metric.IPE, question=question, pattern=card.name)
            for n, question in enumerate(card.checklist, 1)
        ]
    for checklist in scenario.checklists:
        if checklist.character == character:
            items += [
                ChecklistItem(id=f"mpd.{n}", metric=Metric.MPD, question=behaviour)
                for n, behaviour in enumerate(checklist.items, 1)
            ]
    return items


def judged_characters(episode: Episode) -> list[str]:
    """Who is judged: a benchmark episode's target, else every character with patterns to be judged on (those
    it carries, or its spec's `measure` entry)."""
    target = episode.config.get("target")
    if isinstance(target, str) and target:
        return [target]
    return [p.name for p in episode.scenario.characters if measured_patterns(episode, p.name)]


@dataclass(frozen=True)
class ItemGroup:
    """Items shown under one heading in the judge prompt."""

    title: str
    items: list[ChecklistItem]


def item_groups(items: Sequence[ChecklistItem], library: PatternLibrary, character: str) -> list[ItemGroup]:
    """IPE items grouped by pattern (with its definition), MPD items under one heading."""
    groups: list[ItemGroup] = []
    for item in items:
        if item.metric is Metric.IPE and item.pattern:
            card = library.get(item.pattern)
            title = f"Pattern: {card.name}. {card.definition}"
        else:
            title = f"Behaviours expected of {character} in this scene (does {character} show each one?)"
        if groups and groups[-1].title == title:
            groups[-1].items.append(item)
        else:
            groups.append(ItemGroup(title=title, items=[item]))
    return groups


# --- prompts ----------------------------------------------------------------------------------
def system_message(episode: Episode, character: str) -> SystemMessage:
    """The judge's fixed prefix for one character: scene, profile, transcript (shared by every call)."""
    try:
        profile = episode.scenario.profile(character)
    except KeyError as exc:
        raise DataError(f"episode {episode.id} has no character {character!r}") from exc
    text = render(
        "judge_system",
        background=episode.scenario.background,
        name=character,
        about_self=profile.about_self,
        about_others=profile.about_others,
        transcript=render_turns(episode.conversation.turns, character, numbered=True),
    )
    return SystemMessage(content=text)


# --- schemas ----------------------------------------------------------------------------------
def _turn_number(n_turns: int | None) -> Any:
    """A turn number: with `n_turns`, one of 1..n_turns as an enum (so a grammar writes only those)."""
    if not n_turns:
        return Annotated[int, Field(ge=1)]
    return Annotated[int, Field(ge=1, le=n_turns, json_schema_extra={"enum": list(range(1, n_turns + 1))})]


_SCORE_CHOICES: Any = Literal[-1, 0, 1, "n/a"]
"""What the judge may write as a score: the ternary values, or n/a (no opportunity)."""


@functools.lru_cache(maxsize=256)
def _verdict_reply(quote: int, reason: int, n_turns: int | None) -> type[BaseModel]:
    """The judge's verdict on one item, as it writes it (free text bounded to fit the budget)."""
    turns: Any = list[_turn_number(n_turns)]  # type: ignore[misc]
    return create_model(
        "VerdictReply",
        __config__=ConfigDict(extra="forbid"),
        turns=(
            turns,
            Field(max_length=EVIDENCE_TURNS_MAX, description="Numbers of the turns that are the evidence."),
        ),
        quote=(str, Field(max_length=quote, description="A short exact quote from the character's turns.")),
        reason=(str, Field(max_length=reason, description="One sentence: why this score.")),
        score=(
            _SCORE_CHOICES,
            Field(description='+1 shown, 0 not shown, -1 the opposite shown, "n/a" no opportunity to show it.'),
        ),
    )


VerdictReply = _verdict_reply(QUOTE_MAX, REASON_MAX, None)
"""The verdict on one item at its largest (the per-call schemas may bound the text tighter)."""


def verdict_schema(
    item_ids: Sequence[str], *, n_turns: int | None = None, max_tokens: int = JUDGE_MAX_TOKENS
) -> KeyedReply[BaseModel]:
    """The per-call output schema: one required key per item id of the batch, and no other key.

    The batch's ids are the only keys allowed (a closed set, like an enum) and each is required,
    so grammar-constrained decoding writes every item exactly once, in order. (An array of
    `{item: <enum>, ...}` entries would let a small model repeat one id, and backends that drop
    length bounds on arrays of objects from their grammar let it answer with an empty list.)
    Turn numbers are an enum of the transcript's turns, and the quote and reason are bounded so
    that a reply that fills every bound still fits `max_tokens` (larger batches: shorter text).
    """
    return _verdict_schema(tuple(item_ids), n_turns, max_tokens)


def _verdicts_at(count: int, scale: float, n_turns: int | None) -> type[BaseModel]:
    """The shape of a batch's reply: `count` verdicts, keyed by the batch's item ids (`KeyedReply`)."""
    entry = _verdict_reply(scaled(QUOTE_MAX, scale, QUOTE_MIN), scaled(REASON_MAX, scale, REASON_MIN), n_turns)
    fields: dict[str, Any] = {
        shape_key(n): (entry, Field(description=f"The verdict on item {NAME}.")) for n in range(count)
    }
    return create_model(VERDICTS_TITLE, __config__=ConfigDict(extra="forbid"), **fields)


@functools.lru_cache(maxsize=64)
def _verdict_schema(item_ids: tuple[str, ...], n_turns: int | None, max_tokens: int) -> KeyedReply[BaseModel]:
    what = f"judge reply for a batch of {len(item_ids)} items (or use a smaller --batch-size)"
    return fit_keyed(_verdicts_at, item_ids, max_tokens, what=what, params=(n_turns,))


# --- parsing ----------------------------------------------------------------------------------
_ENTRY_START = re.compile(r'\{\s*"item"\s*:')
_SCORES = {"+1": 1, "1": 1, "0": 0, "-1": -1, "+0": 0, "-0": 0}
_NOT_APPLICABLE = {"n/a", "na", "n.a.", "not applicable", "no opportunity"}


def _is_not_applicable(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().rstrip(".") in {v.rstrip(".") for v in _NOT_APPLICABLE}


def _coerce_score(value: object) -> Score | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value in (-1, 0, 1):
        return Score(int(value))
    if isinstance(value, str) and value.strip() in _SCORES:
        return Score(_SCORES[value.strip()])
    return None


def _pairs(data: object) -> list[tuple[object, object]]:
    """(item id, verdict) pairs from `{id: verdict}` (the schema), or `[{item: id, ...}]` (a list form)."""
    if isinstance(data, dict) and isinstance(data.get("verdicts"), dict | list):
        data = data["verdicts"]
    if isinstance(data, dict):
        return list(data.items())
    if isinstance(data, list):
        return [(entry.get("item"), entry) for entry in data if isinstance(entry, dict)]
    return []


def _salvage(text: str, item_ids: Sequence[str]) -> list[tuple[object, object]]:
    """The complete verdicts in a reply that was cut off (or is otherwise not whole JSON)."""
    decoder = json.JSONDecoder(strict=False)
    found: list[tuple[object, object]] = []
    for item_id in item_ids:
        match = re.search(rf'"{re.escape(item_id)}"\s*:\s*\{{', text)
        if match:
            with contextlib.suppress(json.JSONDecodeError):
                found.append((item_id, decoder.raw_decode(text, match.end() - 1)[0]))
    for match in _ENTRY_START.finditer(text):
        try:
            entry, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        found.append((entry.get("item"), entry))
    return found


def _entries(text: str, item_ids: Sequence[str]) -> tuple[list[tuple[object, object]], str]:
    """The (item id, verdict) pairs in a reply, and a problem note when the reply was not whole JSON."""
    try:
        data = json.loads(extract_json(text), strict=False)
    except json.JSONDecodeError as exc:
        problem = f"the judge's reply is not valid JSON ({exc.msg}) and has no verdict for this item"
        return _salvage(text, item_ids), problem
    pairs = _pairs(data)
    return pairs, "" if pairs else "the judge's reply has no verdicts"


def _evidence(turns: list[int], quote: str) -> str:
    cited = f"turns {', '.join(str(t) for t in turns)}" if turns else ""
    quoted = f'"{quote}"' if quote else ""
    return ": ".join(part for part in (cited, quoted) if part)


def parse_verdicts(text: str, item_ids: Sequence[str], n_turns: int) -> dict[str, Verdict]:
    """A verdict for every asked item; items without a usable verdict are unscored, with the reason.

    Takes the schema's `{item id: verdict}` and also a `[{"item": id, ...}]` list (what a model that
    ignores the schema tends to write), and salvages the complete verdicts of a reply cut off
    mid-way. Lenient where it costs nothing (scores as strings, "n/a" in its common spellings,
    over-long text cut, out-of-range turn numbers dropped), strict where it matters: a score outside
    -1/0/+1/n/a or an unknown item id never counts.
    """
    wanted = set(item_ids)
    pairs, problem = _entries(text, item_ids)
    got: dict[str, Verdict] = {}
    unknown: list[str] = []
    for item, entry in pairs:
        if not isinstance(item, str) or item not in wanted or not isinstance(entry, dict):
            unknown.append(repr(item))
            continue
        if item in got and got[item].answered:
            continue  # a duplicate: the first usable verdict stands
        score = _coerce_score(entry.get("score"))
        if score is None and _is_not_applicable(entry.get("score")):
            got[item] = Verdict(
                item_id=item,
                score=None,
                not_applicable=True,
                reason=str(entry.get("reason") or "")[:REASON_MAX] or "no opportunity in this transcript",
            )
            continue
        if score is None:
            got[item] = Verdict(
                item_id=item, score=None, reason=f"the judge's score {entry.get('score')!r} is not -1, 0 or +1"
            )
            continue
        raw_turns = entry.get("turns")
        cited = raw_turns if isinstance(raw_turns, list) else []
        turns = [t for t in cited if isinstance(t, int) and not isinstance(t, bool) and 1 <= t <= n_turns]
        quote = str(entry.get("quote") or "")[:QUOTE_MAX]
        got[item] = Verdict(
            item_id=item,
            score=score,
            evidence=_evidence(turns[:EVIDENCE_TURNS_MAX], quote),
            reason=str(entry.get("reason") or "")[:REASON_MAX],
        )
    if not problem:
        problem = "the judge gave no verdict for this item"
        if unknown:
            problem += f" (it named unknown items: {', '.join(unknown[:5])})"
    return {i: got.get(i) or Verdict(item_id=i, score=None, reason=problem) for i in item_ids}


# --- the role ---------------------------------------------------------------------------------
@dataclass
class Judge:
    """Asks the judge model about one character; every call shares the character's system prefix."""

    model: RoleModel
    library: PatternLibrary
    seed: int | None = None
    """Sampling seed of this judge run (sent with each call where the backend takes one)."""
    holistic_tries: int = 3

    def _kwargs(self, attempt: int) -> dict[str, Any]:
        return {} if self.seed is None else {"seed": self.seed * 1000 + attempt}

    def items_messages(
        self, system: SystemMessage, character: str, items: Sequence[ChecklistItem]
    ) -> list[BaseMessage]:
        prompt = render("judge_items", name=character, groups=item_groups(items, self.library, character))
        return [system, HumanMessage(content=prompt)]

    async def score_items(
        self,
        system: SystemMessage,
        character: str,
        items: Sequence[ChecklistItem],
        n_turns: int,
        *,
        attempt: int = 0,
    ) -> dict[str, Verdict]:
        """One call for a batch of items; every item comes back, scored or unscored with a reason.

        A batch whose longest reply would not fit the judge's token budget is split in halves
        (one call each) rather than cut off mid-reply.
        """
        ids = [item.id for item in items]
        try:
            schema = verdict_schema(ids, n_turns=n_turns, max_tokens=max_tokens_of(self.model, JUDGE_MAX_TOKENS))
        except BudgetTooSmallError:
            if len(items) == 1:
                raise
            half = (len(items) + 1) // 2
            logger.info("judge: %d items do not fit one reply's token budget; asking in two calls", len(items))
            first = await self.score_items(system, character, items[:half], n_turns, attempt=attempt)
            return first | await self.score_items(system, character, items[half:], n_turns, attempt=attempt)
        text = await self.model.atext(
            self.items_messages(system, character, items),
            response_format=response_format_for(schema),
            **self._kwargs(attempt),
        )
        verdicts = parse_verdicts(text, ids, n_turns)
        missing = sum(not v.answered for v in verdicts.values())
        if missing:
            logger.info("judge: %d of %d items unscored for %s (attempt %d)", missing, len(ids), character, attempt)
        return verdicts

    async def score_holistic(
        self, system: SystemMessage, character: str, *, method: HolisticMethod = "coser", actor_turns: int = 0
    ) -> HolisticScores:
        """Anthropomorphism and fidelity, 0-100, by CoSER's flaw penalty (`actor_turns`: the character's
        turns) or a direct rating; what no try gives a valid reply for is unscored with a reason."""
        if method == "direct":
            return await self._direct(system, character)
        try:
            schema = flaws_schema(max_tokens_of(self.model, JUDGE_MAX_TOKENS))
        except BudgetTooSmallError as exc:  # the checklist items still count; the baseline says why it is missing
            logger.warning("judge: no holistic score for %s: %s", character, exc)
            return HolisticScores(method="coser", actor_turns=actor_turns, reason=str(exc))
        prompt = render("judge_holistic_coser", name=character, max_flaws=flaws_limit(schema))
        messages = [system, HumanMessage(content=prompt)]
        best: HolisticScores | None = None
        for attempt in range(self.holistic_tries):
            text = await self.model.atext(
                messages, response_format=response_format_for(schema), **self._kwargs(attempt)
            )
            scores = parse_flaws(text, actor_turns)
            if best is None or scored_count(scores) > scored_count(best):
                best = scores
            if scored_count(best) == 2:
                return best
            logger.info(
                "judge: holistic flaws of %s unscored in part (attempt %d): %s", character, attempt, scores.reason
            )
        if best is None:
            return HolisticScores(method="coser", actor_turns=actor_turns, reason="the judge was never asked (0 tries)")
        return best.model_copy(update={"reason": f"after {self.holistic_tries} tries: {best.reason}"})

    async def _direct(self, system: SystemMessage, character: str) -> HolisticScores:
        messages = [system, HumanMessage(content=render("judge_holistic", name=character))]
        problem = ""
        for attempt in range(self.holistic_tries):
            text = await self.model.atext(
                messages, response_format=response_format_for(HolisticReply), **self._kwargs(attempt)
            )
            try:
                reply = parse_reply(text, HolisticReply)
            except ValueError as exc:
                problem = str(exc)
                continue
            return direct_scores(reply)
        return HolisticScores(
            method="direct", reason=f"no valid holistic rating after {self.holistic_tries} tries ({problem})"
        )
