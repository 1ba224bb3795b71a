"""The HTML report: one self-contained page (inline CSS, PNG plots as base64), every transcript escaped."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from humanllm.agents.holistic import HolisticScores
from humanllm.agents.judge import judged_characters
from humanllm.core import Episode, bracketed, seen_by, spec_id
from humanllm.evaluation._agreement_tables import agreement_tables
from humanllm.evaluation._plot import results_png
from humanllm.evaluation._records import Judgement, JudgementKey, JudgementStore, legacy_key
from humanllm.evaluation._results import EvalResults
from humanllm.evaluation._scoring import METRICS, sample_value
from humanllm.evaluation._sources import find_source
from humanllm.evaluation._spec import JudgementSpec
from humanllm.evaluation._tables import METRIC_NAMES, results_tables, split_warnings, to_html

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f1ff}.note{color:#666;font-size:.9em;margin-top:-1em}img{max-width:100%}
details{margin:.4em 0;border:1px solid #ddd;padding:.4em .8em;border-radius:4px}summary{cursor:pointer}
.turn{margin:.2em 0}.speaker{font-weight:bold}.thought{color:#8a2be2}.action{color:#a0522d}
.judged{background:#f8f8ff}.s1{color:#0a7d28}.s0{color:#666}.s-1{color:#b00020}.unscored{color:#b36b00}.na{color:#4a6fa5;font-style:italic}
"""


@dataclass
class TranscriptView:
    """One judged sample as the report shows it."""

    label: str
    episode: Episode
    character: str
    split: str
    judgement: Judgement
    scores: dict[str, float | None] = field(default_factory=dict)


def collect_transcripts(results: EvalResults, *, per_label: int = 5) -> list[TranscriptView]:
    """Up to `per_label` judged samples per label (run 0), read from the stores the results name.

    Streams: the first judged samples in episode order are picked by key, then their judgements
    are read; neither the episodes nor the judgements of a whole store are held.
    """
    views: list[TranscriptView] = []
    if per_label <= 0:
        return views
    for label, where in results.sources.items():
        data = Path(where.data)
        if not data.exists():
            continue
        store = JudgementStore.open_for_reading(Path(where.judgements))
        picked: dict[tuple[str, str], tuple[Episode, str]] = {}
        for episode, split in find_source(data).episodes():
            for character in judged_characters(episode):
                if len(picked) < per_label and _run0((episode.id, character), results) in store:
                    picked[(episode.id, character)] = (episode, split)
            if len(picked) >= per_label:
                break
        found: dict[tuple[str, str], Judgement] = {}
        for judgement in store:
            sample = (judgement.episode_id, judgement.character)
            if sample in picked and judgement.key == _run0(sample, results):
                found[sample] = judgement
                if len(found) == len(picked):
                    break
        for sample, (episode, split) in picked.items():
            if sample in found:
                scores = {m: sample_value(found[sample], m) for m in METRICS}
                views.append(TranscriptView(label, episode, sample[1], split, found[sample], scores))
    return views


def _run0(sample: tuple[str, str], results: EvalResults) -> JudgementKey:
    """The key of run 0 of the results' judge setting for one (episode, character)."""
    if results.generation is None:  # results written before judge settings were kept: legacy judgements
        return legacy_key(*sample, results.judge, 0, results.prompt_version, results.options.batch_size)
    spec = JudgementSpec(
        episode_id=sample[0],
        character=sample[1],
        judge=results.judge,
        generation=results.generation,
        prompt_version=results.prompt_version,
        batch_size=results.options.batch_size,
        run=0,
        seed=results.options.seed,
        holistic=results.options.holistic,
    )
    return spec_id(spec)


def _turns_html(view: TranscriptView) -> str:
    rows = []
    for number, turn in enumerate(view.episode.conversation.turns, 1):
        mine = turn.speaker == view.character
        parts = [f'<span class="speaker">{number}. {html.escape(turn.speaker)}:</span>']
        for channel, text in seen_by(turn, view.character).parts():
            shown = html.escape(bracketed(channel, text))
            parts.append(shown if channel == "speech" else f'<span class="{channel}">{shown}</span>')
        rows.append(f'<div class="turn{" judged" if mine else ""}">{" ".join(parts)}</div>')
    return "".join(rows)


def _verdicts_html(judgement: Judgement) -> str:
    by_id = {v.item_id: v for v in judgement.verdicts}
    rows = []
    for item in judgement.items:
        verdict = by_id.get(item.id)
        if verdict is not None and verdict.not_applicable:
            score = '<span class="na">n/a</span>'
        elif verdict is None or verdict.score is None:
            score = '<span class="unscored">unscored</span>'
        else:
            score = f'<span class="s{int(verdict.score)}">{int(verdict.score):+d}</span>'
        rows.append(
            "<tr>"
            f"<td>{html.escape(item.metric.value.upper())}</td><td>{html.escape(item.pattern or '')}</td>"
            f"<td>{html.escape(item.question)}</td><td>{score}</td>"
            f"<td>{html.escape(verdict.evidence if verdict else '')}</td>"
            f"<td>{html.escape(verdict.reason if verdict else '')}</td></tr>"
        )
    head = "<tr><th>metric</th><th>pattern</th><th>item</th><th>score</th><th>evidence</th><th>reason</th></tr>"
    holistic = _holistic_html(judgement.holistic) if judgement.holistic is not None else ""
    return f"{holistic}<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _holistic_html(h: HolisticScores) -> str:
    def shown(value: float | None) -> str:
        return "unscored" if value is None else f"{value:g}"

    text = (
        f"<p>Holistic ({html.escape(h.method)}): anthropomorphism {shown(h.anthropomorphism)}, "
        f"fidelity {shown(h.fidelity)}: {html.escape(h.reason)}</p>"
    )
    flaws = [(metric, flaw) for metric, found in h.flaws.items() for flaw in found]
    if flaws:
        rows = "".join(
            f"<tr><td>{html.escape(metric)}</td><td>{html.escape(f.type)}</td><td>{f.severity}</td>"
            f"<td>{html.escape(f.instance)}</td></tr>"
            for metric, f in flaws
        )
        head = "<tr><th>dimension</th><th>flaw type</th><th>severity</th><th>instance</th></tr>"
        text += f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"
    return text


def _view_html(view: TranscriptView) -> str:
    def shown(metric: str) -> str:
        value = view.scores.get(metric)
        if value is None:
            return "–"
        return f"{value:.0f}" if metric in ("anthropomorphism", "fidelity") else f"{100 * value:.0f}"

    scores = ", ".join(f"{METRIC_NAMES[m]} {shown(m)}" for m in METRICS)
    summary = (
        f"{html.escape(view.label)}: {html.escape(view.character)} in episode {html.escape(view.episode.id)} "
        f"({html.escape(view.split)}; {html.escape(scores)})"
    )
    patterns = ", ".join(view.episode.scenario.char2pattern.get(view.character, []))
    return (
        f"<details><summary>{summary}</summary>"
        f"<p><b>Patterns:</b> {html.escape(patterns)}</p>"
        f"<p><b>Scene:</b> {html.escape(view.episode.scenario.background)}</p>"
        f"{_turns_html(view)}<h4>Verdicts (run 0)</h4>{_verdicts_html(view.judgement)}</details>"
    )


def render_report(results: EvalResults, transcripts: list[TranscriptView]) -> str:
    """The whole page as one string."""
    title = "humanllm benchmark" if results.kind == "benchmark" else "humanllm scores"
    png = base64.b64encode(results_png(results)).decode("ascii")
    settings = ", ".join(f"{k}: {v}" for k, v in results.config.items() if v not in (None, "", []))
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Judge {html.escape(results.judge)} (prompt {html.escape(results.prompt_version)}), "
        f"{results.options.runs} run(s), batch size {results.options.batch_size}. {html.escape(settings)}</p>",
        *(f'<p class="unscored">warning: {html.escape(w)}</p>' for w in split_warnings(results)),
        f'<img alt="results plot" src="data:image/png;base64,{png}">',
        *(to_html(table) for table in results_tables(results)),
    ]
    if results.agreement is not None:
        own = next(iter(results.reports.values()), None)  # `eval score` results hold one data set
        tables = agreement_tables(results.agreement, {results.judge: own} if own is not None else {})
        parts += ["<h2>Agreement of the judges</h2>", *(to_html(table) for table in tables)]
    if results.notes:
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in results.notes) + "</ul>")
    if transcripts:
        parts.append("<h2>Transcripts</h2>")
        parts += [_view_html(view) for view in transcripts]
    parts.append("</body></html>")
    return "\n".join(parts)
