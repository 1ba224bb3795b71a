"""A person at the keyboard playing one character, for interactive simulations.

The graph does not wait on the keyboard: at the person's turn it pauses with LangGraph's
`interrupt()`, handing out a `HumanRequest`; whoever drives the run (the CLI, LangGraph Studio)
shows the prompt and resumes with `Command(resume="[thought] (action) speech")`. The run needs a
checkpointer to pause and resume.
"""

from __future__ import annotations

from collections.abc import Callable

from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field

from humanllm.agents.trinity import parse_trinity
from humanllm.core import Turn

Reader = Callable[[str], str]
"""Shows a prompt and returns what the person typed (the CLI's prompt; called outside the graph)."""


class HumanRequest(BaseModel):
    """The payload of the pause at a person's turn: who speaks and what to show them."""

    model_config = ConfigDict(extra="forbid")

    speaker: str = Field(description="The character the person plays.")
    closing: bool = Field(default=False, description="This is the closing turn: the person should end the talk.")
    prompt: str = Field(description="The line to show the person.")

    @classmethod
    def for_turn(cls, speaker: str, *, closing: bool) -> HumanRequest:
        hint = " (last turn: close the conversation)" if closing else ""
        return cls(speaker=speaker, closing=closing, prompt=f"{speaker}{hint} › [thought] (action) speech")


def human_line(speaker: str, *, closing: bool = False) -> Turn | None:
    """Pause for the person's line and parse it; None when it has neither speech nor action (ask again)."""
    answer = interrupt(HumanRequest.for_turn(speaker, closing=closing).model_dump())
    turn = parse_trinity(str(answer or ""), speaker)
    return turn if turn.speech or turn.action else None
