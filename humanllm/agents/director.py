"""The rule-based director: who speaks next, and when the conversation ends.

Rules (all configurable): a supporting character opens, the protagonist closes, nobody speaks
twice in a row; the planned length is drawn between the turn bounds with the episode seed; the
conversation closes early on a farewell or when it goes stale (a line repeats an earlier one).
The closing is one protagonist turn, so there is never a goodbye loop.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from humanllm.core import Turn

_FAREWELL = re.compile(r"\b(good ?bye|bye|see you|good ?night|take care|talk (?:to you )?later|farewell)\b", re.I)


class TurnRules(BaseModel):
    """Conversation rules."""

    model_config = ConfigDict(extra="forbid")

    min_turns: int = Field(default=12, ge=2)
    max_turns: int = Field(default=20, ge=2)
    supporting_opens: bool = True
    protagonist_closes: bool = True
    stale_similarity: float = Field(default=0.8, gt=0, le=1, description="Word overlap that counts as a repeat.")

    @model_validator(mode="after")
    def _bounds(self) -> TurnRules:
        if self.min_turns > self.max_turns:
            raise ValueError(f"min_turns {self.min_turns} is above max_turns {self.max_turns}")
        return self


@dataclass(frozen=True)
class Decision:
    """The director's call: the next speaker (None = end), whether it is the closing turn, and why."""

    speaker: str | None
    closing: bool
    reason: str


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def _similar(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / max(1, len(wa | wb))


class RuleDirector:
    """Decides turn order from the visible conversation; makes no model calls."""

    def __init__(self, cast: Sequence[str], protagonist: str, rules: TurnRules, rng: random.Random) -> None:
        self.cast = list(cast)
        self.protagonist = protagonist
        self.rules = rules
        self.planned = rng.randint(rules.min_turns, rules.max_turns)
        supporting = [c for c in self.cast if c != protagonist]
        self.opener = rng.choice(supporting) if rules.supporting_opens and supporting else self.cast[0]

    def decide(self, turns: Sequence[Turn], *, closed: bool = False) -> Decision:
        """The next speaker; `closed` says the closing turn has been taken already."""
        n = len(turns)
        if closed:
            return Decision(None, False, "closing turn taken")
        if n == 0:
            return Decision(self.opener, False, "opening")
        last = turns[-1]
        reason = self._why_close(turns)
        if reason:
            if not self.rules.protagonist_closes:
                return Decision(self._next_speaker(turns), True, reason)
            if last.speaker != self.protagonist:
                return Decision(self.protagonist, True, reason)
            if n >= self.rules.min_turns or n >= self.rules.max_turns - 1:
                return Decision(None, False, reason)  # the protagonist's line already closed it
            return Decision(self._next_speaker(turns), False, "one more line before the protagonist closes")
        if self.rules.protagonist_closes and n == self.planned - 2:
            # the line before the protagonist's closing line belongs to someone else
            return Decision(self._next_speaker(turns, avoid=self.protagonist), False, "line before the close")
        return Decision(self._next_speaker(turns), False, "turn-taking")

    def _why_close(self, turns: Sequence[Turn]) -> str:
        n = len(turns)
        if n >= self.planned - 1:
            return "planned length reached"
        if n + 1 >= self.rules.min_turns:
            if _FAREWELL.search(turns[-1].speech):
                return "natural close"
            earlier = [t.speech for t in turns[-5:-1]]
            if any(_similar(turns[-1].speech, e) >= self.rules.stale_similarity for e in earlier):
                return "conversation went stale"
        return ""

    def _next_speaker(self, turns: Sequence[Turn], avoid: str | None = None) -> str:
        last = turns[-1]
        options = [c for c in self.cast if c != last.speaker and c != avoid] or [
            c for c in self.cast if c != last.speaker
        ]
        addressed = [c for c in options if re.search(rf"\b{re.escape(c.split()[0])}\b", last.speech)]
        if addressed:
            return addressed[0]
        spoken_at = {t.speaker: i for i, t in enumerate(turns)}
        return min(options, key=lambda c: (spoken_at.get(c, -1), self.cast.index(c)))
