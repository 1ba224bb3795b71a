"""`Study`: the Python face of a study, the same steps as `humanllm study run` and `study report`.

study = Study.from_yaml("examples/anxiety_sunk_cost.yaml", out="runs/study/anxiety")
study.run()                 # freeze the scenario, play every cell x replicate, judge (resumes)
table = study.results()     # the tidy pandas DataFrame, one row per episode x character x run x item
analysis = study.analyse()  # expression per cell, main effects, interactions, with CIs and p-values
study.report()              # CSV, Parquet, plots, HTML and Markdown under OUT/report
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from humanllm.core import run_sync
from humanllm.llm import ModelSettings
from humanllm.patterns import InteractionGraph, load_graph, load_library
from humanllm.simulation import OnEvent, RunOptions
from humanllm.study._collect import study_table
from humanllm.study._design import StudyDesign, read_design
from humanllm.study._run import StudyRunReport, read_design_file, run_study

if TYPE_CHECKING:
    import pandas as pd

    from humanllm.evaluation import Tracker
    from humanllm.study._analysis import StudyAnalysis
    from humanllm.study._report import ReportFiles

REPORT_FOLDER = "report"


def default_folder(design: StudyDesign) -> Path:
    return Path("runs") / "study" / design.name


class Study:
    """A design and the folder that holds its episodes, judgements and report."""

    def __init__(
        self,
        design: StudyDesign,
        folder: Path | str | None = None,
        *,
        graph: InteractionGraph | None = None,
        settings: ModelSettings | None = None,
        judge_settings: ModelSettings | None = None,
    ) -> None:
        self.design = design
        self.folder = Path(folder) if folder is not None else default_folder(design)
        self._graph = graph
        self.settings = settings
        self.judge_settings = judge_settings

    @classmethod
    def from_yaml(
        cls,
        path: Path | str,
        out: Path | str | None = None,
        *,
        graph: InteractionGraph | None = None,
        settings: ModelSettings | None = None,
    ) -> Study:
        """The study of a design file (paths in it are relative to the file)."""
        return cls(read_design(Path(path)), out, graph=graph, settings=settings)

    @classmethod
    def open(
        cls, folder: Path | str, *, graph: InteractionGraph | None = None, settings: ModelSettings | None = None
    ) -> Study:
        """The study a folder holds (the design saved there by its first run)."""
        return cls(read_design_file(Path(folder)), folder, graph=graph, settings=settings)

    @property
    def graph(self) -> InteractionGraph:
        if self._graph is None:
            self._graph = load_graph(load_library())
        return self._graph

    async def arun(
        self, *, options: RunOptions | None = None, on_event: OnEvent | None = None, tracker: Tracker | None = None
    ) -> StudyRunReport:
        """Freeze the scenario, play what is missing, judge what is not judged."""
        return await run_study(
            self.design,
            self.folder,
            self.graph,
            settings=self.settings,
            judge_settings=self.judge_settings,
            options=options,
            on_event=on_event,
            tracker=tracker,
        )

    def run(self, *, options: RunOptions | None = None) -> StudyRunReport:
        """`arun` from synchronous code (a notebook too: it runs on its own loop there)."""
        return run_sync(self.arun(options=options))

    def results(self) -> pd.DataFrame:
        """The tidy table of what the folder holds for this design."""
        return study_table(self.folder, self.design)

    def analyse(self, *, seed: int | None = None, n_boot: int = 2000, n_perm: int = 2000) -> StudyAnalysis:
        from humanllm.study._analysis import analyse

        return analyse(
            self.results(),
            self.design.factor_names,
            self.design.design,
            seed=self.design.seed if seed is None else seed,
            n_boot=n_boot,
            n_perm=n_perm,
        )

    def report(
        self,
        out: Path | str | None = None,
        *,
        n_boot: int = 2000,
        n_perm: int = 2000,
        analysis: StudyAnalysis | None = None,
    ) -> ReportFiles:
        """Write the tables, plots, HTML and Markdown report of `analysis` (default: `analyse()`) under `out`
        (default: FOLDER/report)."""
        from humanllm.study._report import write_report

        analysis = analysis or self.analyse(n_boot=n_boot, n_perm=n_perm)
        return write_report(
            analysis,
            self.results(),
            Path(out) if out is not None else self.folder / REPORT_FOLDER,
            title=self.design.name,
            question=self.design.question,
        )
