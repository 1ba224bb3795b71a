"""The LLM roles: scenario writer, characters, director, judge, author, human player, pattern builder.

Each role lives in its own public module (`humanllm.agents.judge`, ...); the package exports the
prompt-template helpers and the name drawing other subpackages share, and the judge's defaults.
"""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.agents._budget import JUDGE_BATCH_SIZE, JUDGE_MAX_TOKENS, JUDGE_RETRIES, JUDGE_TEMPERATURE
    from humanllm.agents._names import draw_names
    from humanllm.agents._templates import render, template_version
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "JUDGE_BATCH_SIZE",
    "JUDGE_MAX_TOKENS",
    "JUDGE_RETRIES",
    "JUDGE_TEMPERATURE",
    "draw_names",
    "render",
    "template_version",
]
