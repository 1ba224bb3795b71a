"""Every data-returning role on a chat model that is not ours: structured output through its own
`with_structured_output(..., include_raw=True)`, our parse and repair around it, the step-down.

The writer (scenario and checklist), the characters (each turn), the judge (item verdicts and the
holistic flaws) and the pattern builder (every step) run on provider-like fakes that do structured
output one way only (tools; JSON mode; not at all) or that garble their first replies.
The director is rule-based: it asks no model.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from humanllm.agents.director import TurnRules
from humanllm.agents.pattern_builder import BuildConfig, build_pattern
from humanllm.errors import StructuredOutputError
from humanllm.evaluation import JudgeOptions, judge_character
from humanllm.llm import RoleModel, StructuredEndpoint, parse_spec
from humanllm.llm._asking import ask_for, with_call_options
from humanllm.llm._schemas import response_format_for
from humanllm.patterns import InteractionGraph, load_graph, load_library, validate_directory
from humanllm.simulation import RoleModels, SimulationConfig, plan_episode, run_episode
from humanllm.testing import JsonModeChatModel, PlainChatModel, ToolCallingChatModel
from humanllm.testing._providers import _ProviderLike

FAKES: dict[str, tuple[type[_ProviderLike], str]] = {
    "tools only": (ToolCallingChatModel, "function_calling"),
    "JSON mode only": (JsonModeChatModel, "json_object"),
    "no structured output": (PlainChatModel, "prompt"),
}


class Mood(BaseModel):
    mood: str = Field(max_length=20)
    intensity: int = Field(ge=1, le=5)


@pytest.fixture(scope="module")
def graph() -> InteractionGraph:
    return load_graph(load_library())


def _role(name: str, chat: BaseChatModel) -> RoleModel:
    # a fresh endpoint per role: what one fake teaches must not leak into another test
    return RoleModel(role=name, spec=parse_spec("fake"), chat=chat, max_retries=0, endpoint=StructuredEndpoint(name))


def _every_role(chat: _ProviderLike, graph: InteractionGraph, tmp_path: Path) -> tuple[list[RoleModel], int]:
    """Run each data-returning role once on `chat`; returns the role models used and the episode's calls."""
    config = SimulationConfig(
        patterns=["confirmation bias", "kind"], situation="duty", seed=4, rules=TurnRules(min_turns=4, max_turns=4)
    )
    models = RoleModels(writer=_role("writer", chat), character=_role("character", chat))
    episode = asyncio.run(run_episode(config, graph, models))
    assert episode.id == plan_episode(config, graph).id  # ids do not depend on how the model was asked
    assert len(episode.conversation.turns) == 4 and episode.scenario.checklists
    judge = _role("judge", chat)
    character = next(iter(episode.scenario.char2pattern))
    judgement = asyncio.run(
        judge_character(episode, character, model=judge, library=load_library(), options=JudgeOptions())
    )
    assert judgement.verdicts and all(v.answered for v in judgement.verdicts), judgement.verdicts
    assert judgement.holistic is not None and judgement.holistic.fidelity is not None, judgement.holistic
    builder = _role("builder", chat)
    out = tmp_path / "card"
    build_pattern(BuildConfig(name="escalation of commitment", from_knowledge=True, out=out), graph, model=builder)
    assert validate_directory(out) == []
    episode_calls = episode.usage["writer"].calls + episode.usage["character"].calls
    return [models.writer, models.character, judge, builder], episode_calls


@pytest.mark.parametrize("fake", list(FAKES))
def test_every_role_works_on_a_model_with_one_way_of_structured_output(
    fake: str, graph: InteractionGraph, tmp_path: Path
) -> None:
    cls, method = FAKES[fake]
    chat = cls()
    roles, episode_calls = _every_role(chat, graph, tmp_path)
    assert {role.structured_method for role in roles} == {method}
    asked_with_tools = [r for r in chat.requests if r.get("tools")]
    asked_json_mode = [r for r in chat.requests if r.get("response_format") == {"type": "json_object"}]
    assert bool(asked_with_tools) == (method == "function_calling")
    assert bool(asked_json_mode) == (method == "json_object")
    seeds = {r.get("seed") for r in chat.requests[:episode_calls]}  # the episode's seed reaches its every call
    assert len(seeds) == 1 and None not in seeds


@pytest.mark.parametrize("fake", list(FAKES))
def test_malformed_structured_output_is_repaired(fake: str) -> None:
    cls, method = FAKES[fake]
    chat = cls(garble=1)
    role = _role("character", chat)
    assert role.structured([HumanMessage(content="How do you feel?")], Mood).intensity in range(1, 6)
    assert role.structured_method == method and role.usage.usage.calls == 2  # one bad reply, one repair
    assert role.repairs == 2


def test_a_model_that_never_gets_it_right_fails_clearly_after_the_usual_tries() -> None:
    chat = ToolCallingChatModel(garble=99)
    role = _role("character", chat)
    with pytest.raises(StructuredOutputError, match="after 3 tries"):
        role.structured([HumanMessage(content="?")], Mood)
    assert len(chat.requests) == 3


def test_with_structured_output_raising_falls_back_to_the_schema_in_the_prompt() -> None:
    chat = PlainChatModel()
    with pytest.raises(NotImplementedError):
        chat.with_structured_output(Mood)
    role = _role("judge", chat)
    assert role.structured_method == "json_schema"
    reply = role.structured([HumanMessage(content="How do you feel?")], Mood)
    assert isinstance(reply, Mood) and role.structured_method == "prompt"
    assert len(chat.requests) == 1  # the step-down costs no request: each refusal was before any call
    assert "valid against this JSON schema" in chat.prompts[0]


def test_call_options_reach_the_model_inside_the_structured_runnable() -> None:
    chat = ToolCallingChatModel()
    ask = ask_for(chat, "function_calling", [HumanMessage(content="?")], response_format_for(Mood), {"seed": 5})
    ask.runnable.invoke(ask.messages)
    assert chat.requests[-1]["seed"] == 5 and chat.requests[-1]["tools"]
    plain = chat.with_structured_output(Mood.model_json_schema(), include_raw=True)
    assert with_call_options(plain, chat, {}) is plain
