"""The test kit: offline fakes to test a humanllm pipeline (yours or ours) without a real model.

In the spirit of pydantic-ai's `TestModel` and Concordia's testing package:

- `ScriptedChatModel` replies from a list or a function and records what it was sent;
  `SchemaChatModel` (the `fake:schema` spec) answers any requested schema with valid JSON;
  `fake_instance(Model, seed=...)` is a valid instance of any pydantic model, the same per seed.
- `role_reply` answers every humanllm role (writer, character, judge, pattern builder) by the
  requested schema's title; `role_router()` gives a copy to extend; `fake_writer()`,
  `fake_character()`, `fake_judge()` and `builder_model()` are scripted models per role.
- `ToolCallingChatModel`, `JsonModeChatModel` and `PlainChatModel` stand in for other providers'
  chat models (LangChain's surface, structured output by tools only, JSON mode only, or not at all).
- `MockOpenAIServer` is a loopback OpenAI-compatible server with latency, injected faults, the
  structured-output quirks of real servers (`structured=`) and fixed error statuses (`status=`);
  `python -m humanllm.testing.mock_server` runs it from a shell.
- `StandInChatModel` writes replies of typical size and counts tokens by length: `generate --dry-run`.

Layering: this package sits above the model layer and beside the agents: it imports only
`humanllm.llm` (and langchain / pydantic), and knows the roles' schemas by title only. The model
layer never imports it; `fake` specs build through a slot in `humanllm.llm`
(`register_fake_backend`) that `register_fakes()` fills. Nothing registers at import: the CLI fills
it as it assembles its app (with `fake_builder()`, imported when the first fake is built), the test
suite calls `register_fakes()` in its conftest, and a script that wants `build_chat_model("fake")`
calls it once first. Production packages (agents, simulation,
evaluation, ...) do not import this package; only the CLI, tests and benchmarks do.
"""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.testing._builder import QUESTIONS, builder_model, builder_reply
    from humanllm.testing._models import Reply, SchemaChatModel, Script, ScriptedChatModel
    from humanllm.testing._providers import JsonModeChatModel, PlainChatModel, ToolCallingChatModel
    from humanllm.testing._register import fake_builder, register_fakes
    from humanllm.testing._roles import (
        ReplyRouter,
        TextReply,
        character_reply,
        fake_character,
        fake_holistic_flaws,
        fake_judge,
        fake_judge_score,
        fake_writer,
        judge_reply,
        role_reply,
        role_router,
        writer_reply,
    )
    from humanllm.testing._schema import example_for_schema, fake_instance
    from humanllm.testing._server import FAULTS, Fault, MockOpenAIServer, SeenRequest, Structured
    from humanllm.testing._standin import TOKEN_UNIT, StandInChatModel, count_tokens
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "FAULTS",
    "QUESTIONS",
    "TOKEN_UNIT",
    "Fault",
    "JsonModeChatModel",
    "MockOpenAIServer",
    "PlainChatModel",
    "Reply",
    "ReplyRouter",
    "SchemaChatModel",
    "Script",
    "ScriptedChatModel",
    "SeenRequest",
    "StandInChatModel",
    "Structured",
    "TextReply",
    "ToolCallingChatModel",
    "builder_model",
    "builder_reply",
    "character_reply",
    "count_tokens",
    "example_for_schema",
    "fake_builder",
    "fake_character",
    "fake_holistic_flaws",
    "fake_instance",
    "fake_judge",
    "fake_judge_score",
    "fake_writer",
    "judge_reply",
    "register_fakes",
    "role_reply",
    "role_router",
    "writer_reply",
]
