"""Evaluation: judging stored episodes (IPE, MPD, holistic), scoring maths, the benchmark, human alignment, reports."""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.evaluation._agreement import AggregatedScores, AgreementReport, AgreementTally, ItemDisagreement
    from humanllm.evaluation._agreement_tables import agreement_tables
    from humanllm.evaluation._alignment import (
        AlignmentReport,
        AnnotationItem,
        MetricAlignment,
        Rating,
        align,
        annotation_items,
        judge_ratings,
        read_ratings,
        write_annotations,
    )
    from humanllm.evaluation._benchmark import (
        BenchFormat,
        BenchmarkConfig,
        BenchMode,
        live_conversation,
        replay_turns,
        run_benchmark,
    )
    from humanllm.evaluation._bootstrap import ConfidenceInterval, bootstrap_ci, quantile, stratified_bootstrap_ci
    from humanllm.evaluation._desirability import (
        DesirabilityGroup,
        DesirabilityProbe,
        SampleScores,
        desirability_groups,
        desirability_of,
        desirability_probe,
    )
    from humanllm.evaluation._discriminate import DiscriminationReport, ItemDiscrimination, discriminate, family_of
    from humanllm.evaluation._judge_options import JudgeOptions
    from humanllm.evaluation._judging import JudgeRunReport, judge_character, judge_episodes
    from humanllm.evaluation._paper import (
        PaperAverage,
        PaperRow,
        PaperTable,
        average_over_splits,
        paper_markdown,
        paper_table,
        paper_tables,
        split_episodes,
        write_paper,
    )
    from humanllm.evaluation._pipeline import (
        agreement_source,
        data_label,
        judge_source,
        results_name,
        score_results,
        score_source,
        scores_path,
        slug,
    )
    from humanllm.evaluation._plot import paper_png, results_png
    from humanllm.evaluation._progress import RichTracker, SilentTracker, Tracker
    from humanllm.evaluation._records import Judgement, JudgementKey, JudgementStore
    from humanllm.evaluation._report import TranscriptView, collect_transcripts, render_report
    from humanllm.evaluation._results import EvalResults, EvalSource, load_judgements
    from humanllm.evaluation._scoring import (
        BREAKDOWNS,
        HOLISTIC,
        METRICS,
        Coverage,
        MetricSummary,
        SampleInfo,
        ScoreReport,
        SplitAverage,
        average_splits,
        sample_info,
        sample_value,
        score_judgements,
        summarise,
    )
    from humanllm.evaluation._sources import EpisodeSource, find_source, read_episodes
    from humanllm.evaluation._spec import JudgementSpec, PlaySpec
    from humanllm.evaluation._stats import (
        Alpha,
        cohen_kappa,
        krippendorff_alpha,
        mean,
        pearson,
        ranks,
        sample_sd,
        spearman,
    )
    from humanllm.evaluation._tables import (
        Table,
        averaged_splits,
        results_markdown,
        results_tables,
        split_warnings,
        to_html,
        to_markdown,
    )
    from humanllm.evaluation._verify import Mismatch, VerifyReport, verify_store
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "BREAKDOWNS",
    "HOLISTIC",
    "METRICS",
    "AggregatedScores",
    "AgreementReport",
    "AgreementTally",
    "AlignmentReport",
    "Alpha",
    "AnnotationItem",
    "BenchFormat",
    "BenchMode",
    "BenchmarkConfig",
    "ConfidenceInterval",
    "Coverage",
    "DesirabilityGroup",
    "DesirabilityProbe",
    "DiscriminationReport",
    "EpisodeSource",
    "EvalResults",
    "EvalSource",
    "ItemDisagreement",
    "ItemDiscrimination",
    "JudgeOptions",
    "JudgeRunReport",
    "Judgement",
    "JudgementKey",
    "JudgementSpec",
    "JudgementStore",
    "MetricAlignment",
    "MetricSummary",
    "Mismatch",
    "PaperAverage",
    "PaperRow",
    "PaperTable",
    "PlaySpec",
    "Rating",
    "RichTracker",
    "SampleInfo",
    "SampleScores",
    "ScoreReport",
    "SilentTracker",
    "SplitAverage",
    "Table",
    "Tracker",
    "TranscriptView",
    "VerifyReport",
    "agreement_source",
    "agreement_tables",
    "align",
    "annotation_items",
    "average_over_splits",
    "average_splits",
    "averaged_splits",
    "bootstrap_ci",
    "cohen_kappa",
    "collect_transcripts",
    "data_label",
    "desirability_groups",
    "desirability_of",
    "desirability_probe",
    "discriminate",
    "family_of",
    "find_source",
    "judge_character",
    "judge_episodes",
    "judge_ratings",
    "judge_source",
    "krippendorff_alpha",
    "live_conversation",
    "load_judgements",
    "mean",
    "paper_markdown",
    "paper_png",
    "paper_table",
    "paper_tables",
    "pearson",
    "quantile",
    "ranks",
    "read_episodes",
    "read_ratings",
    "render_report",
    "replay_turns",
    "results_markdown",
    "results_name",
    "results_png",
    "results_tables",
    "run_benchmark",
    "sample_info",
    "sample_sd",
    "sample_value",
    "score_judgements",
    "score_results",
    "score_source",
    "scores_path",
    "slug",
    "spearman",
    "split_episodes",
    "split_warnings",
    "stratified_bootstrap_ci",
    "summarise",
    "to_html",
    "to_markdown",
    "verify_store",
    "write_annotations",
    "write_paper",
]
