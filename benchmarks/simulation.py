"""Simulation costs: tokens per turn (agents vs author), prefix reuse, framework overhead.

Run:  python benchmarks/simulation.py [--episodes 5] [--turns 16]

Uses instant scripted fakes for the models, so what is measured is the shape of the prompts and
our own overhead; tokens are counted with the bundled SmolLM2 tokenizer on the exact prompts sent.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from collections import defaultdict

from langchain_core.messages import BaseMessage

from humanllm.agents.director import TurnRules
from humanllm.llm import RoleModel, local_gguf_path, parse_spec, shared_engine
from humanllm.patterns import load_graph, load_library
from humanllm.simulation import RoleModels, SimulationConfig, run_episode
from humanllm.testing import ScriptedChatModel, fake_character, fake_writer


def _tokens(text: str) -> list[int]:
    return shared_engine(str(local_gguf_path()), 2, 4096).llama.tokenize(text.encode(), add_bos=False)


def _prompt_text(messages: list[BaseMessage]) -> str:
    return "\n".join(f"<{m.type}>\n{m.text}" for m in messages)


def _role(role: str, chat: ScriptedChatModel) -> RoleModel:
    return RoleModel(role=role, spec=parse_spec("fake"), chat=chat, max_retries=0)


def _author_reply(turns: list[str]):  # type: ignore[no-untyped-def]
    def reply(_messages: list[BaseMessage], _kwargs: dict) -> str:
        return "\n".join(turns)

    return reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--turns", type=int, default=16)
    args = parser.parse_args()
    graph = load_graph(load_library())
    rules = TurnRules(min_turns=args.turns, max_turns=args.turns)
    agent_prompt, agent_completion, author_prompt, author_completion, reuse, overhead = [], [], [], [], [], []
    for seed in range(args.episodes):
        config = SimulationConfig(characters=3, seed=seed, rules=rules)
        character = fake_character()
        models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", character))
        start = time.perf_counter()
        episode = asyncio.run(run_episode(config, graph, models))
        overhead.append((time.perf_counter() - start) / len(episode.conversation.turns))
        by_speaker: dict[str, list[list[int]]] = defaultdict(list)
        for messages in character.calls:
            tokens = _tokens(_prompt_text(messages))
            agent_prompt.append(len(tokens))
            speaker = messages[-1].text.rsplit("your turn, ", 1)[-1].rstrip(".")
            by_speaker[speaker].append(tokens)
        agent_completion += [len(_tokens(t.model_dump_json())) for t in episode.conversation.turns]
        for calls in by_speaker.values():
            for before, after in itertools.pairwise(calls):
                same = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), len(before))
                reuse.append(same / len(after))
        # author mode: the same turns written by one call
        lines = [f"{t.speaker}: {t.as_trinity()}" for t in episode.conversation.turns]
        author = ScriptedChatModel(function=_author_reply(lines))
        models = RoleModels(writer=_role("writer", fake_writer()), character=_role("character", author))
        asyncio.run(run_episode(config.model_copy(update={"mode": "author"}), graph, models))
        author_prompt.append(len(_tokens(_prompt_text(author.calls[0]))) / len(lines))
        author_completion.append(len(_tokens("\n".join(lines))) / len(lines))
    print(f"episodes: {args.episodes} x {args.turns} turns, 3 characters (SmolLM2 tokenizer)")
    print(f"agents  prompt tokens per turn:      {statistics.mean(agent_prompt):8.0f}")
    print(f"agents  completion tokens per turn:  {statistics.mean(agent_completion):8.0f}")
    print(f"author  prompt tokens per turn:      {statistics.mean(author_prompt):8.0f}")
    print(f"author  completion tokens per turn:  {statistics.mean(author_completion):8.0f}")
    print(
        f"prefix reuse between a character's consecutive calls: mean {statistics.mean(reuse):.1%}, min {min(reuse):.1%}"
    )
    print(f"framework overhead per turn (instant fake model): {statistics.mean(overhead) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
