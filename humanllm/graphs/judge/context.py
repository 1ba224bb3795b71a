"""Run-time settings of the judge graph."""

from __future__ import annotations

from dataclasses import dataclass

from humanllm.agents.holistic import HolisticChoice
from humanllm.agents.judge import Judge


@dataclass
class JudgeContext:
    """One per (character, judge run); the compiled graph is shared."""

    judge: Judge
    """The judge role (model, library, run seed)."""
    batch_size: int = 8
    """Items per call; 1 = one call per item."""
    retries: int = 2
    """Extra rounds for items left unscored (each round halves the batch size)."""
    holistic: HolisticChoice = "coser"
    """Also rate anthropomorphism and fidelity (one more call): by CoSER's flaw penalty, directly, or "off"."""
