"""inspect_ai integration: a task and scorer that run our checklist judge, and an export of our results to inspect logs.

Importing this package imports `inspect_ai` (the `inspect` extra: `pip install "humanllm[inspect]"`);
nothing else in humanllm imports it, so the rest works without it. Also the `inspect_ai` entry
point of the package: after installing, `inspect eval humanllm/roleplay -T data=STORE` finds the task.
"""

from humanllm.evaluation.inspect._export import export_inspect, inspect_logs
from humanllm.evaluation.inspect._scores import (
    SCORER,
    bootstrap_interval,
    judgement_score,
    transcript_messages,
    verdict_rows,
)
from humanllm.evaluation.inspect._task import checklist_judge, roleplay, roleplay_samples, stored_turns

__all__ = [
    "SCORER",
    "bootstrap_interval",
    "checklist_judge",
    "export_inspect",
    "inspect_logs",
    "judgement_score",
    "roleplay",
    "roleplay_samples",
    "stored_turns",
    "transcript_messages",
    "verdict_rows",
]
