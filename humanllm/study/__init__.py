"""Studies: patterns given to or withheld from characters of one frozen scenario, and forks of an episode.

FORK branch (i17-fork): only the fork's exports; the lead's `__init__` adds the design, the runner and the
analysis next to these.
"""

from humanllm.study._fork import (
    ForkInputError,
    ForkRequest,
    character_named,
    continued_length,
    describe_spec,
    edited_turn,
    fork_group,
    fork_measure,
    plan_fork,
)
from humanllm.study._fork_job import ForkJob, fork_agents, forked_scenario, kept_turns
from humanllm.study._fork_report import DIVERGENCE, ForkRow, fork_csv, fork_markdown, fork_rows, write_fork_report
from humanllm.study._fork_run import (
    ForkResult,
    check_fork_folder,
    find_episode,
    fork_episode,
    judged_turns,
    original_id,
    truncated,
)

__all__ = [
    "DIVERGENCE",
    "ForkInputError",
    "ForkJob",
    "ForkRequest",
    "ForkResult",
    "ForkRow",
    "character_named",
    "check_fork_folder",
    "continued_length",
    "describe_spec",
    "edited_turn",
    "find_episode",
    "fork_agents",
    "fork_csv",
    "fork_episode",
    "fork_group",
    "fork_markdown",
    "fork_measure",
    "fork_rows",
    "forked_scenario",
    "judged_turns",
    "kept_turns",
    "original_id",
    "plan_fork",
    "truncated",
    "write_fork_report",
]
