"""Evaluation: judging stored episodes (IPE, MPD, holistic), scoring maths, the benchmark, human alignment, reports."""

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
from humanllm.evaluation._benchmark import BenchmarkConfig, BenchMode, live_conversation, replay_turns, run_benchmark
from humanllm.evaluation._discriminate import DiscriminationReport, ItemDiscrimination, discriminate, family_of
from humanllm.evaluation._judging import JudgeOptions, JudgeRunReport, judge_character, judge_episodes
from humanllm.evaluation._pipeline import (
    data_label,
    judge_source,
    results_name,
    score_results,
    score_source,
    scores_path,
    slug,
)
from humanllm.evaluation._plot import results_png
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
    sample_info,
    sample_value,
    score_judgements,
    summarise,
)
from humanllm.evaluation._sources import EpisodeSource, find_source, read_episodes
from humanllm.evaluation._spec import JudgementSpec, PlaySpec
from humanllm.evaluation._stats import cohen_kappa, mean, pearson, ranks, sample_sd, spearman
from humanllm.evaluation._tables import Table, results_markdown, results_tables, to_html, to_markdown
from humanllm.evaluation._verify import Mismatch, VerifyReport, verify_store

__all__ = [
    "BREAKDOWNS",
    "HOLISTIC",
    "METRICS",
    "AlignmentReport",
    "AnnotationItem",
    "BenchMode",
    "BenchmarkConfig",
    "Coverage",
    "DiscriminationReport",
    "EpisodeSource",
    "EvalResults",
    "EvalSource",
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
    "PlaySpec",
    "Rating",
    "RichTracker",
    "SampleInfo",
    "ScoreReport",
    "SilentTracker",
    "Table",
    "Tracker",
    "TranscriptView",
    "VerifyReport",
    "align",
    "annotation_items",
    "cohen_kappa",
    "collect_transcripts",
    "data_label",
    "discriminate",
    "family_of",
    "find_source",
    "judge_character",
    "judge_episodes",
    "judge_ratings",
    "judge_source",
    "live_conversation",
    "load_judgements",
    "mean",
    "pearson",
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
    "summarise",
    "to_html",
    "to_markdown",
    "verify_store",
    "write_annotations",
]
