"""Run-time settings of the judge graph (serialisable), and the judge built from them."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from humanllm.agents import JUDGE_BATCH_SIZE, JUDGE_RETRIES
from humanllm.agents.holistic import HOLISTIC_DEFAULT, HolisticChoice
from humanllm.agents.judge import JUDGE_MAX_TOKENS, JUDGE_TEMPERATURE, Judge
from humanllm.graphs._build import PATTERNS_DIRS_HELP, ModelChoice, Settings, interaction_graph, role_model


@dataclass(frozen=True)
class JudgeParts:
    """What the nodes use: built from the settings, or attached with `prebuilt`."""

    judge: Judge
    """The judge role (model, library, run seed)."""


class JudgeContext(Settings[JudgeParts]):
    """One per (character, judge run); the compiled graph is shared."""

    judge: ModelChoice = Field(
        default_factory=lambda: ModelChoice(temperature=JUDGE_TEMPERATURE, max_tokens=JUDGE_MAX_TOKENS),
        description="The judge's model.",
    )
    patterns_dirs: list[str] = Field(default_factory=list, description=PATTERNS_DIRS_HELP)
    seed: int = Field(default=0, description="This judge run's sampling seed.")
    batch_size: int = Field(default=JUDGE_BATCH_SIZE, ge=1, description="Items per call; 1 = one call per item.")
    retries: int = Field(
        default=JUDGE_RETRIES, ge=0, description="Extra rounds for unscored items (the batch halves each round)."
    )
    holistic: HolisticChoice = Field(
        default=HOLISTIC_DEFAULT,
        description="Also rate anthropomorphism and fidelity (one more call): by CoSER's flaw penalty, directly, "
        'or "off".',
    )

    def built(self) -> JudgeParts:
        """The attached judge, else one these settings name."""
        return self.parts or JudgeParts(
            judge=Judge(
                model=role_model("judge", self.judge),
                library=interaction_graph(self.patterns_dirs).library,
                seed=self.seed,
            )
        )
