"""Studies: controlled experiments over psychological patterns in one fixed scenario, and forks of an episode.

A design file names the scenario (frozen once), the factors (a pattern given to or withheld from one
character), the design (factorial, leave-one-out, one-at-a-time) and the replicates; every cell x
replicate is an ordinary episode of the study's store, judged on the items of every pattern of the design.
The analysis is pure code over the tidy table of judgements. A fork keeps an episode's first turns,
changes one thing (a line, or a pattern given or withheld) and plays on several times, judged turn by turn.
"""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.simulation import CellSpec
    from humanllm.study._analysis import analyse
    from humanllm.study._collect import study_table
    from humanllm.study._design import (
        MAX_FACTORS,
        Cell,
        DesignKind,
        Factor,
        Placed,
        ScenarioSource,
        StudyDesign,
        StudyJudge,
        StudyModels,
        TurnBounds,
        WrittenScenario,
        read_design,
    )
    from humanllm.study._fork import ForkInputError, ForkRequest, plan_fork
    from humanllm.study._fork_job import fork_agents, forked_scenario
    from humanllm.study._fork_report import ForkRow, fork_rows, write_fork_report
    from humanllm.study._fork_run import ForkResult, check_fork_folder, find_episode, fork_episode, judged_turns
    from humanllm.study._plan import CellPlan, plan_study
    from humanllm.study._report import ReportFiles, notable_lines, read_tidy_csv, write_report
    from humanllm.study._results import MPD, CellInfo, Counts, Effect, Expression, Outcome, StudyAnalysis
    from humanllm.study._run import StudyRunReport, read_design_file, run_study
    from humanllm.study._scenario import FrozenScenario, freeze_scenario, read_frozen
    from humanllm.study._study import Study
    from humanllm.study._table import base_columns
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "MAX_FACTORS",
    "MPD",
    "Cell",
    "CellInfo",
    "CellPlan",
    "CellSpec",
    "Counts",
    "DesignKind",
    "Effect",
    "Expression",
    "Factor",
    "ForkInputError",
    "ForkRequest",
    "ForkResult",
    "ForkRow",
    "FrozenScenario",
    "Outcome",
    "Placed",
    "ReportFiles",
    "ScenarioSource",
    "Study",
    "StudyAnalysis",
    "StudyDesign",
    "StudyJudge",
    "StudyModels",
    "StudyRunReport",
    "TurnBounds",
    "WrittenScenario",
    "analyse",
    "base_columns",
    "check_fork_folder",
    "find_episode",
    "fork_agents",
    "fork_episode",
    "fork_rows",
    "forked_scenario",
    "freeze_scenario",
    "judged_turns",
    "notable_lines",
    "plan_fork",
    "plan_study",
    "read_design",
    "read_design_file",
    "read_frozen",
    "read_tidy_csv",
    "run_study",
    "study_table",
    "write_fork_report",
    "write_report",
]
