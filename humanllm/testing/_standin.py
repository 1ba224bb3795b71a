"""A stand-in model for cost estimates (`generate --dry-run`): replies of typical size, tokens counted.

Each schema'd call gets JSON valid for the schema with every string and list halfway between its
bounds; a plain call gets half of `max_tokens`. Tokens are counted as one per `CHARS_PER_TOKEN`
characters (the usual rule of thumb for English with GPT-style tokenizers), for the prompt it is
sent and the reply it writes. Nothing leaves the process.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata

from humanllm.llm import HumanChatModel, json_schema_of
from humanllm.testing._schema import example_for_schema

CHARS_PER_TOKEN = 4
TOKEN_UNIT = f"about {CHARS_PER_TOKEN} characters per token"


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class StandInChatModel(HumanChatModel):
    """Typical-size replies to any request, with token counts by length; see the module's docstring."""

    max_tokens: int = 512
    seed: int = 0

    @property
    def _llm_type(self) -> str:
        return "stand-in"

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> AIMessage:
        schema = json_schema_of(kwargs.get("response_format"))
        rng = random.Random(self.seed)
        if schema is None:
            words = "the conversation goes on as planned and everyone says a line " * (self.max_tokens // 6 + 1)
            reply = words[: self.max_tokens * CHARS_PER_TOKEN // 2]
        else:
            reply = json.dumps(example_for_schema(schema, rng, typical=True))
        prompt = sum(count_tokens(m.text) for m in messages)
        completion = count_tokens(reply)
        usage = UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)
        return AIMessage(content=reply, usage_metadata=usage)
