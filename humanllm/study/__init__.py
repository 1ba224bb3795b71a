"""Studies: controlled experiments over psychological patterns in one fixed scenario.

A design file names the scenario (frozen once), the factors (a pattern given to or withheld from one
character), the design (factorial, leave-one-out, one-at-a-time) and the replicates; every cell x
replicate is an ordinary episode of the study's store, judged on the items of every pattern of the design.
The analysis is pure code over the tidy table of judgements.
"""

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
from humanllm.study._plan import CellPlan, plan_study
from humanllm.study._report import ReportFiles, notable_lines, read_tidy_csv, write_report
from humanllm.study._results import MPD, CellInfo, Counts, Effect, Expression, Outcome, StudyAnalysis
from humanllm.study._run import StudyRunReport, read_design_file, run_study
from humanllm.study._scenario import FrozenScenario, freeze_scenario, read_frozen
from humanllm.study._study import Study
from humanllm.study._table import base_columns

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
    "freeze_scenario",
    "notable_lines",
    "plan_study",
    "read_design",
    "read_design_file",
    "read_frozen",
    "read_tidy_csv",
    "run_study",
    "study_table",
    "write_report",
]
